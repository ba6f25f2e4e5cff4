// The drill-down: everything about one feature (all its properties, its
// area, its status history, 24 hours of its main values) or one cluster.

import { BY_NAME, featureTitle } from "./layers.js";
import { t, tv, formatTime } from "./i18n.js";

const HIDDEN = new Set(["statusHistory", "aqiSubIndex", "exceedances", "description", "mediaURL"]);

export class Panel {
  constructor(el, body, live) {
    this.el = el;
    this.body = body;
    this.live = live;
    this.charts = [];
    this.current = null;
    el.querySelector("#panel-close").addEventListener("click", () => this.close());
  }

  close() {
    this.el.hidden = true;
    this.disposeCharts();
    this.body.replaceChildren();
    this.current = null;
  }

  disposeCharts() { for (const c of this.charts) c.destroy(); this.charts = []; }

  // open shows a feature. Live: the full feature from the API (the push
  // carries only the properties the map draws). In a replay: the feature
  // as held at the replay time, and history up to that time.
  async open(layer, id, held) {
    this.current = layer + "/" + id;
    const token = this.current;
    this.disposeCharts();
    this.el.hidden = false;
    const past = this.live.replayReq ? new Date(this.live.replayTime) : null;
    let f = held;
    if (!past) {
      const r = await fetch(`/api/v1/layers/${encodeURIComponent(layer)}/features/${encodeURIComponent(id)}`);
      if (r.ok) f = await r.json();
    } else f = unflatten(held);
    if (token !== this.current) return;
    this.render(layer, id, f, past);
    await Promise.all([this.history(layer, id, past, token), this.chartsFor(layer, id, past, token)]);
  }

  render(layer, id, f, past) {
    const p = f?.properties || {};
    const h = [];
    h.push(`<h3>${esc(featureTitle({ id, properties: p }))}</h3>`);
    h.push(`<div>${esc(t(layer))} · <code>${esc(id)}</code>${f?.stale ? ` · <b class="past">${t("stale")}</b>` : ""}</div>`);
    if (past) h.push(`<div class="past">${t("pastState")}: ${esc(formatTime(past))}</div>`);
    if (f?.time) h.push(`<div>${esc(formatTime(f.time))}</div>`);
    if (p.district || p.ward) h.push(`<h4>${t("area")}</h4><div>${esc([p.ward, p.district].filter(Boolean).join(", "))}</div>`);
    if (p.description) h.push(`<h4>${t("description")}</h4><div>${esc(p.description)}</div>`);
    if (p.mediaURL && /^https?:\/\//.test(p.mediaURL)) h.push(`<div><a href="${esc(p.mediaURL)}" target="_blank" rel="noopener noreferrer">${t("photo")}</a></div>`);
    if (Array.isArray(p.statusHistory)) {
      h.push(`<h4>${t("workflow")}</h4><ol>${p.statusHistory.map((s) => `<li>${esc(tv(s.status))} · ${esc(formatTime(s.time))}</li>`).join("")}</ol>`);
    }
    h.push(`<h4>${t("charts")}</h4><div id="panel-charts"><i>${t("loading")}</i></div>`);
    h.push(`<h4>${t("properties")}</h4><table>`);
    for (const [k, v] of Object.entries(p)) {
      if (HIDDEN.has(k) || k.startsWith("_")) continue;
      h.push(`<tr><td>${esc(k)}</td><td>${esc(typeof v === "object" ? JSON.stringify(v) : tv(v))}</td></tr>`);
    }
    h.push(`</table><h4>${t("history")}</h4><ol id="panel-history"><li>${t("loading")}</li></ol>`);
    this.body.innerHTML = h.join("");
  }

  async history(layer, id, past, token) {
    const q = new URLSearchParams({ limit: "1000", from: new Date((past || new Date()) - 86400000).toISOString() });
    if (past) q.set("to", past.toISOString());
    const r = await fetch(`/api/v1/history/${encodeURIComponent(layer)}/${encodeURIComponent(id)}?${q}`).catch(() => null);
    const list = this.body.querySelector("#panel-history");
    if (token !== this.current || !list) return;
    const data = r && r.ok ? await r.json() : null;
    const records = Array.isArray(data) ? data.slice(-500) : [];
    const def = BY_NAME.get(layer);
    const items = [];
    let last;
    for (const rec of records) {
      const p = rec.properties || {};
      const s = tv(rec.op === "delete" ? "deleted" : def?.state ? def.state(p) ?? "" : "") + (rec.stale ? " (" + t("stale") + ")" : "");
      if (s === last) continue;
      last = s;
      items.push(`<li>${esc(formatTime(rec.time))} · ${esc(s)}</li>`);
    }
    list.innerHTML = items.length ? items.reverse().slice(0, 30).join("") : `<li>${t("noData")}</li>`;
  }

  async chartsFor(layer, id, past, token) {
    const def = BY_NAME.get(layer);
    const box = this.body.querySelector("#panel-charts");
    const props = def?.main || [];
    if (!props.length) { if (box) box.textContent = t("none"); return; }
    const to = past || new Date();
    const q = (prop) => new URLSearchParams({ property: prop, from: new Date(to - 86400000).toISOString(), to: to.toISOString(), step: "15m" });
    const results = await Promise.all(props.map((prop) =>
      fetch(`/api/v1/history/${encodeURIComponent(layer)}/${encodeURIComponent(id)}/series?${q(prop)}`)
        .then((r) => (r.ok ? r.json() : null)).catch(() => null)));
    if (token !== this.current || !box) return;
    box.replaceChildren();
    props.forEach((prop, i) => {
      const buckets = bucketsOf(results[i]);
      const pts = buckets.filter((b) => b.count > 0);
      if (!pts.length) return;
      const div = document.createElement("div");
      div.className = "chart";
      box.appendChild(div);
      const xs = pts.map((b) => Date.parse(b.start) / 1000), ys = pts.map((b) => b.avg);
      this.charts.push(new uPlot({ width: Math.min(370, box.clientWidth || 370), height: 120, title: prop,
        // A fixed 24-hour x range: with one or two points uPlot would
        // otherwise pad the axis out to years.
        scales: { x: { time: true, range: [(to - 86400000) / 1000, to / 1000] } }, legend: { show: false },
        axes: [{ stroke: "#8a97b5", grid: { stroke: "#26324f" } }, { stroke: "#8a97b5", grid: { stroke: "#26324f" } }],
        series: [{}, { label: prop, stroke: "#3fb6ff", width: 2, points: { show: pts.length < 3 } }] }, [xs, ys], div));
    });
    if (!this.charts.length) box.textContent = t("noData");
  }

  // cluster shows what a server cluster holds: the count per state.
  cluster(layer, p) {
    this.disposeCharts();
    this.current = null;
    this.el.hidden = false;
    const levels = typeof p.levels === "string" ? JSON.parse(p.levels) : p.levels || {};
    this.body.innerHTML = `<h3>${esc(t(layer))}</h3><div>${t("cluster")}: ${esc(p.count)} ${t("items")}, ${t("worst")}: <b>${esc(tv(p.worst))}</b></div>
      <table>${Object.entries(levels).map(([k, v]) => `<tr><td>${esc(tv(k))}</td><td>${esc(v)}</td></tr>`).join("")}</table>
      <p>${t("zoomIn")}</p>`;
  }
}

function bucketsOf(r) {
  if (!r) return [];
  if (Array.isArray(r)) return r;
  return r.buckets || r.series || [];
}

// unflatten turns a held display feature back into the API's shape.
function unflatten(d) {
  if (!d) return null;
  const props = {};
  for (const [k, v] of Object.entries(d.properties)) if (!k.startsWith("_")) props[k] = v;
  return { id: d.properties._id, stale: d.properties._stale, time: d.properties._time, properties: props };
}

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
