// Time travel: pick a moment of the last 24 hours and play forward at a
// chosen speed over the replay protocol; one click returns to live.

import { t, formatTime } from "./i18n.js";

const DAY = 86400000;

export class Timeline {
  constructor(live, els) {
    this.live = live;
    this.els = els; // {bar, time, range, speed, play, pause, liveBtn, banner}
    els.range.addEventListener("change", () => this.startAt(this.rangeTime()));
    els.time.addEventListener("change", () => { const d = new Date(els.time.value); if (!Number.isNaN(+d)) this.startAt(d); });
    els.speed.addEventListener("change", () => this.live.control("speed", { speed: Number(els.speed.value) }));
    els.play.addEventListener("click", () => (this.live.replayReq ? this.live.control("play") : this.startAt(this.rangeTime())));
    els.pause.addEventListener("click", () => this.live.control("pause"));
    els.liveBtn.addEventListener("click", () => this.backToLive());
  }

  toggle() {
    this.els.bar.hidden = !this.els.bar.hidden;
    if (this.els.bar.hidden && this.live.replayReq) this.backToLive();
  }

  rangeTime() { return new Date(Date.now() - DAY + Number(this.els.range.value) * 60000); }

  // startAt replays from `at` to now at the chosen speed.
  startAt(at) {
    this.els.bar.hidden = false;
    this.live.replay(at, new Date(), Number(this.els.speed.value));
    this.update();
  }

  backToLive() {
    this.live.backToLive();
    this.update();
  }

  // update keeps the banner and the controls in step with the replay.
  update() {
    const r = this.live.status.replay;
    const { banner } = this.els;
    document.body.classList.toggle("replaying", !!this.live.replayReq);
    if (!this.live.replayReq) { banner.hidden = true; return; }
    banner.hidden = false;
    const at = r?.time || this.live.replayTime;
    banner.textContent = `${t("notLive")} ${formatTime(at)}${r?.ended ? " · " + t("ended") : ""}`;
    const d = new Date(at);
    if (!Number.isNaN(+d) && document.activeElement !== this.els.range) {
      this.els.range.value = String(Math.max(0, Math.min(1440, Math.round((d - (Date.now() - DAY)) / 60000))));
    }
  }
}
