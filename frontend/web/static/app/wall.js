// City KPIs, the ticker of newest events, and the wall's automatic fly-to
// on a critical event. All computed from the features held, so in a replay
// they show the past as the map does.

import { BY_NAME, CLOSED, featureTitle } from "./layers.js";
import { t, tv, formatTime } from "./i18n.js";
import { esc } from "./panel.js";
import { CITY_VIEW } from "./map.js";

const TICKER_MAX = 12;    // the ticker is bounded: a wall runs for days
const FLY_BACK_MS = 60000; // how long a critical event stays in focus

export function computeKPIs(store) {
  const k = { aqiSum: 0, aqiN: 0, worst: null, segN: 0, segBad: 0, rivers: 0, dark: 0, reports: 0, incidents: 0, hasIncidents: false };
  const each = (layer, fn) => { const m = store.get(layer); if (m) for (const f of m.values()) fn(f.properties); };
  each("environment.air", (p) => {
    if (p._cluster || typeof p.aqi !== "number" || p._stale) return;
    k.aqiSum += p.aqi; k.aqiN++;
    if (!k.worst || p.aqi > k.worst.aqi) k.worst = p;
  });
  each("traffic.segments", (p) => { if (p._cluster) { k.segN += p.count || 0; k.segBad += levelSum(p, ["heavy", "jammed", "3", "4"]); return; } k.segN++; if (p.congestionLevel >= 3) k.segBad++; });
  each("flooding.rivers", (p) => { if (p._cluster) k.rivers += levelSum(p, ["bd1", "bd2", "bd3"]); else if (p.warningLevel >= 1) k.rivers++; });
  // A lamp switched off by day is not a problem; off while most lamps are
  // lit (night) is. Faults and lost power always count.
  const lamps = { lit: 0, off: 0, broken: 0 };
  each("lighting.lamps", (p) => {
    if (p._cluster) { lamps.lit += levelSum(p, ["on", "dimmed"]); lamps.off += levelSum(p, ["off"]); lamps.broken += levelSum(p, ["dark", "fault", "no_power"]); return; }
    if (p.state === "on" || p.state === "dimmed") lamps.lit++; else if (p.state === "off") lamps.off++; else if (p.dark === true) lamps.broken++;
  });
  k.dark = lamps.broken + (lamps.lit > lamps.off ? lamps.off : 0);
  each("feedback.reports", (p) => { if (p._cluster) k.reports += (p.count || 0) - levelSum(p, ["closed", "resolved", "rejected"]); else if (p.open !== false) k.reports++; });
  // Active incidents: neither resolved (by a person) nor closed (by their rule).
  each("ioc.incidents", (p) => { k.hasIncidents = true; if (p._cluster) k.incidents += (p.count || 0) - levelSum(p, ["resolved", "closed"]); else if (!CLOSED.has(p.status)) k.incidents++; });
  return k;
}

function levelSum(p, keys) {
  const l = typeof p.levels === "string" ? JSON.parse(p.levels) : p.levels || {};
  return keys.reduce((s, key) => s + (l[key] || 0), 0);
}

export function renderKPIs(el, k) {
  const avg = k.aqiN ? Math.round(k.aqiSum / k.aqiN) : null;
  const congestion = k.segN ? Math.round((100 * k.segBad) / k.segN) : null;
  const cell = (cls, v, label) => `<div class="kpi ${cls}"><span class="v">${esc(v ?? "–")}</span><span class="l">${esc(label)}</span></div>`;
  const parts = [
    cell(avg > 100 ? "bad" : avg > 50 ? "warn" : "ok", avg, t("kpiAqi") + (k.worst ? ` · ${t("kpiWorst")}: ${k.worst.name || ""} ${k.worst.aqi}` : "")),
    cell(congestion > 20 ? "bad" : congestion > 10 ? "warn" : "ok", congestion === null ? null : congestion + "%", t("kpiCongestion")),
    cell(k.rivers ? "bad" : "ok", k.rivers, t("kpiRivers")),
    cell(k.dark ? "warn" : "ok", k.dark, t("kpiDark")),
    cell(k.reports ? "warn" : "ok", k.reports, t("kpiReports")),
  ];
  if (k.hasIncidents) parts.push(cell(k.incidents ? "bad" : "ok", k.incidents, t("kpiIncidents")));
  el.innerHTML = parts.join("");
}

export class Ticker {
  constructor(list) { this.list = list; }

  // consider adds a line when a change is worth one (the layer decides).
  consider(f, old) {
    const p = f.properties;
    if (p._cluster) return false;
    const def = BY_NAME.get(p._layer);
    const what = def?.tick?.(p, old?.properties);
    if (!what) return false;
    const critical = def.critical?.(p, old?.properties) === true;
    const li = document.createElement("li");
    if (critical) li.className = "critical";
    const title = featureTitle({ id: p._id, properties: p });
    const place = p.ward || p.district ? ` (${p.ward || p.district})` : "";
    const change = tv(what) === tv(title) ? "" : ` — ${tv(what)}`;
    li.textContent = `${formatTime(p._time || new Date()).slice(-8)} ${t(p._layer)}: ${tv(title)}${place}${change}`;
    this.list.prepend(li);
    while (this.list.children.length > TICKER_MAX) this.list.lastElementChild.remove();
    return critical;
  }

  clear() { this.list.replaceChildren(); }
}

// Focus flies the wall to a critical event, rings it, and returns to the
// city view after a while. One focus at a time; a newer one replaces it.
export class Focus {
  constructor(map) { this.map = map; this.marker = null; this.timer = null; }

  show(f) {
    if (f.geometry?.type !== "Point") return;
    const c = f.geometry.coordinates;
    this.clear();
    const el = document.createElement("div");
    el.className = "highlight";
    this.marker = new maplibregl.Marker({ element: el }).setLngLat(c).addTo(this.map);
    this.map.flyTo({ center: c, zoom: 15, duration: 2500 });
    this.timer = setTimeout(() => { this.clear(); this.map.flyTo({ ...CITY_VIEW, duration: 3000 }); }, FLY_BACK_MS);
  }

  clear() {
    if (this.marker) this.marker.remove();
    if (this.timer) clearTimeout(this.timer);
    this.marker = null;
    this.timer = null;
  }
}
