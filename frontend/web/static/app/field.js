// The field view for emergency teams: the map around their position, the
// nearest problems, and the incidents assigned to their team.

import { BY_NAME, featureTitle } from "./layers.js";
import { t, tv } from "./i18n.js";
import { esc } from "./panel.js";

const REFRESH_MS = 20000;

export class Field {
  constructor(map, els, params, onPick) {
    this.map = map;
    this.els = els; // {list, tasks}
    this.team = params.get("team") || "";
    this.onPick = onPick;
    this.me = null;
    this.pos = null;
    const lat = Number(params.get("lat")), lon = Number(params.get("lon"));
    if (params.has("lat") && params.has("lon") && Number.isFinite(lat) && Number.isFinite(lon)) this.moveTo(lon, lat, true);
    else if (navigator.geolocation) {
      navigator.geolocation.watchPosition((p) => this.moveTo(p.coords.longitude, p.coords.latitude, !this.pos),
        () => this.moveTo(map.getCenter().lng, map.getCenter().lat, false), { enableHighAccuracy: true, maximumAge: 10000 });
    }
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  moveTo(lon, lat, recenter) {
    this.pos = [lon, lat];
    if (!this.me) {
      const el = document.createElement("div");
      el.className = "me";
      this.me = new maplibregl.Marker({ element: el }).setLngLat(this.pos).addTo(this.map);
    } else this.me.setLngLat(this.pos);
    if (recenter) this.map.jumpTo({ center: this.pos, zoom: 15 });
    this.refresh();
  }

  async refresh() {
    if (!this.pos) return;
    const [lon, lat] = this.pos;
    const layers = [...BY_NAME.values()].filter((d) => d.problem).map((d) => d.name).join(",");
    const r = await fetch(`/api/v1/nearest?lon=${lon}&lat=${lat}&k=400&max_distance=5000&layers=${layers}`).catch(() => null);
    const fc = r && r.ok ? await r.json() : { features: [] };
    const problems = [], tasks = [];
    for (const f of fc.features || []) {
      const def = BY_NAME.get(f.layer);
      const p = f.properties || {};
      if (f.layer === "ioc.incidents" && this.team && (p.assignee === this.team || p.team === this.team) && p.status !== "resolved") tasks.push(f);
      if (def?.problem?.(p) && problems.length < 15) problems.push(f);
    }
    this.els.list.innerHTML = problems.map((f, i) => this.item(f, i)).join("") || `<li>${t("none")}</li>`;
    this.els.tasks.innerHTML = tasks.map((f, i) => this.item(f, i)).join("") || `<li>${t("noTasks")}</li>`;
    for (const [el, list] of [[this.els.list, problems], [this.els.tasks, tasks]]) {
      el.querySelectorAll("li[data-i]").forEach((li) => li.addEventListener("click", () => this.onPick(list[Number(li.dataset.i)])));
    }
  }

  item(f, i) {
    const def = BY_NAME.get(f.layer);
    const d = f.distance < 1000 ? Math.round(f.distance) + " m" : (f.distance / 1000).toFixed(1) + " km";
    return `<li data-i="${i}"><b>${esc(featureTitle(f))}</b> · ${esc(t(f.layer))} · ${esc(tv(def?.state?.(f.properties || {})))} · ${t("distance")} ${d}</li>`;
  }
}
