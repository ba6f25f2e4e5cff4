// The field view for emergency teams: the map around their position, the
// nearest problems, the incidents with a task for their team (?team=, the
// id of their response.teams entity) and the zones they are in.

import { BY_NAME, featureTitle } from "./layers.js";
import { t, tv } from "./i18n.js";
import { esc } from "./panel.js";

const REFRESH_MS = 20000;
const MAX_ITEMS = 30; // each list is bounded

export class Field {
  constructor(map, els, params, onPick) {
    this.map = map;
    this.els = els; // {list, tasks, zones}
    this.team = params.get("team") || "";
    this.onPick = onPick;
    this.me = null;
    this.pos = null;
    if (!els.zones) { // the zones list is added under the tasks
      const h = document.createElement("h2");
      h.dataset.i18n = "myZones";
      h.textContent = t("myZones");
      els.zones = document.createElement("ol");
      els.zones.id = "field-zones";
      els.tasks.after(h, els.zones);
    }
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
    if (!this.pos || this.busy) return;
    this.busy = true;
    try { await this.load(); } finally { this.busy = false; }
  }

  async load() {
    const [lon, lat] = this.pos;
    const layers = [...BY_NAME.values()].filter((d) => d.problem).map((d) => d.name).join(",");
    const get = (url) => fetch(url).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    const [near, open, zones] = await Promise.all([
      get(`/api/v1/nearest?lon=${lon}&lat=${lat}&k=400&max_distance=5000&layers=${layers}`),
      this.team ? get("/api/v1/incidents?status=open,acknowledged,assigned&limit=1000") : null,
      get("/api/v1/zones?status=active"),
    ]);
    const problems = [];
    for (const f of near?.features || []) {
      if (problems.length >= 15) break;
      if (BY_NAME.get(f.layer)?.problem?.(f.properties || {})) problems.push(f);
    }
    // My tasks: incidents with a task of this team that is not done,
    // wherever they are (the incidents API, not the nearest search).
    const tasks = [];
    for (const f of open?.features || []) {
      const task = (f.properties?.tasks || []).find((k) => k.team === this.team && k.status !== "done");
      if (!task) continue;
      f.layer = f.layer || "ioc.incidents";
      f.task = task;
      f.distance = metres(this.pos, f.geometry?.coordinates);
      tasks.push(f);
    }
    tasks.sort((a, b) => a.distance - b.distance);
    tasks.length = Math.min(tasks.length, MAX_ITEMS);
    const inside = (zones?.features || []).filter((z) => contains(z.geometry, this.pos)).slice(0, MAX_ITEMS);
    this.els.list.innerHTML = problems.map((f, i) => this.item(f, i)).join("") || `<li>${t("none")}</li>`;
    this.els.tasks.innerHTML = tasks.map((f, i) => this.item(f, i)).join("") || `<li>${t("noTasks")}</li>`;
    this.els.zones.innerHTML = inside.map((z, i) => `<li data-i="${i}"><b>${esc(z.properties?.name || z.id)}</b> · ${esc(tv(z.properties?.severity))}</li>`).join("")
      || `<li>${t("none")}</li>`;
    const zonePicks = inside.map((z) => ({ layer: "ioc.zones", id: z.id, geometry: null, properties: z.properties }));
    for (const [el, list] of [[this.els.list, problems], [this.els.tasks, tasks], [this.els.zones, zonePicks]]) {
      el.querySelectorAll("li[data-i]").forEach((li) => li.addEventListener("click", () => this.onPick(list[Number(li.dataset.i)])));
    }
  }

  item(f, i) {
    const def = BY_NAME.get(f.layer);
    const d = !Number.isFinite(f.distance) ? "" : ` · ${t("distance")} ` + (f.distance < 1000 ? Math.round(f.distance) + " m" : (f.distance / 1000).toFixed(1) + " km");
    const state = f.task ? `${tv(f.properties?.severity)} · ${t("tasks")}: ${tv(f.task.status)}` : tv(def?.state?.(f.properties || {}), f.layer);
    return `<li data-i="${i}"><b>${esc(featureTitle(f))}</b> · ${esc(t(f.layer))} · ${esc(state)}${d}</li>`;
  }
}

// metres between two [lon, lat] points (equirectangular: fine within a city).
function metres(a, b) {
  if (!Array.isArray(b)) return Infinity;
  const k = Math.PI / 180, x = (b[0] - a[0]) * Math.cos(((a[1] + b[1]) / 2) * k), y = b[1] - a[1];
  return Math.sqrt(x * x + y * y) * k * 6371000;
}

// contains says whether a Polygon or MultiPolygon holds the point
// (even-odd rule over every ring, so holes are excluded).
export function contains(g, pt) {
  if (!g || !pt) return false;
  const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
  return polys.some((rings) => {
    let inside = false;
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i], [xj, yj] = ring[j];
        if ((yi > pt[1]) !== (yj > pt[1]) && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  });
}
