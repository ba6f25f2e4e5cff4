// The map: an offline dark base map drawn from the product's own data
// (districts, city outline, OSM road and water sample), or a deployment's
// style URL, and one GeoJSON source per live layer updated at most once
// per animation frame (and less often when updates are costly).

import { LAYERS, STALE, SEVERITY } from "./layers.js";

export const CITY_VIEW = { center: [108.2, 16.04], zoom: 10.6 };

const ATTR_OSM = "© OpenStreetMap contributors (ODbL)";
const ATTR_AREAS = "Districts: gis.chinhphu.vn via dvhcvn (GPL-3.0) · Wards 2025: open-admin-data (CC BY 4.0)";

function baseStyle() {
  return {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#070c18" } }],
  };
}

// addBase draws the city from the product's data, under the live layers.
function addBase(map) {
  const src = (id, url, attribution) => {
    map.addSource(id, { type: "geojson", data: { type: "FeatureCollection", features: [] }, attribution });
    loadData(url).then((data) => map.getSource(id).setData(data));
  };
  src("boundary", "/api/v1/areas/boundary", ATTR_AREAS);
  src("districts", "/api/v1/areas/districts", ATTR_AREAS);
  src("water", "data/water_osm_haichau_sample.geojson", ATTR_OSM);
  src("roads", "data/roads_osm_haichau_sample.geojson", ATTR_OSM);
  map.addLayer({ id: "land", type: "fill", source: "boundary", paint: { "fill-color": "#111a2c" } });
  map.addLayer({ id: "district-fill", type: "fill", source: "districts", paint: { "fill-color": "#131e33" } });
  map.addLayer({ id: "coast", type: "line", source: "boundary", paint: { "line-color": "#2c4a75", "line-width": 1.4 } });
  map.addLayer({ id: "district-line", type: "line", source: "districts",
    paint: { "line-color": "#2a3a5c", "line-width": 1, "line-dasharray": [3, 2] } });
  map.addLayer({ id: "water-fill", type: "fill", source: "water", paint: { "fill-color": "#0d2545" } });
  map.addLayer({ id: "roads", type: "line", source: "roads", minzoom: 12,
    paint: { "line-color": "#243250",
      "line-width": ["match", ["get", "highway"], ["primary", "trunk", "secondary"], 2.2, ["tertiary"], 1.5, 0.8] } });
}

// loadData fetches a base-map file, retrying with backoff: a wall display
// started while the server restarts still gets its base map.
export async function loadData(url) {
  for (let wait = 500; ; wait = Math.min(wait * 2, 15000)) {
    try {
      const r = await fetch(url);
      if (r.ok) return await r.json();
    } catch { /* server unreachable: retry */ }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

// addLive adds, per live layer, its source and its style layers: the raw
// features, and the server's clusters (circles sized by count, coloured by
// the worst state inside them).
function addLive(map) {
  for (const d of LAYERS) {
    // promoteId lets diffs update single features (updateData) instead of
    // re-sending the whole layer to the worker.
    map.addSource(d.name, { type: "geojson", data: { type: "FeatureCollection", features: [] }, promoteId: "_id" });
    const raw = ["!=", ["get", "_cluster"], true];
    const color = ["case", ["==", ["get", "_stale"], true], STALE, d.color];
    if (d.kind === "line") {
      map.addLayer({ id: d.name, type: "line", source: d.name, filter: raw,
        paint: { "line-color": color, "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1.5, 16, 5] } });
    } else if (d.kind === "fill") {
      const filter = d.filter ? ["all", raw, d.filter] : raw;
      map.addLayer({ id: d.name, type: "fill", source: d.name, filter, paint: { "fill-color": color, "fill-opacity": d.fillOpacity ?? 0.15 } });
      map.addLayer({ id: d.name + "/outline", type: "line", source: d.name, filter,
        paint: { "line-color": color, "line-width": 2, "line-opacity": 0.9, ...(d.dashed ? { "line-dasharray": [3, 2] } : {}) } });
    } else if (d.kind === "icon") {
      for (const [v, c] of [...d.icons, ["stale", STALE]]) map.addImage(`${d.name}/${v}`, markerImage(d.shape, c), { pixelRatio: 2 });
      const image = ["case", ["==", ["get", "_stale"], true], `${d.name}/stale`,
        ["match", ["to-string", ["get", "status"]], ...d.icons.flatMap(([v]) => [v, `${d.name}/${v}`]), `${d.name}/stale`]];
      map.addLayer({ id: d.name, type: "symbol", source: d.name, filter: raw,
        layout: { "icon-image": image, "icon-allow-overlap": true, "icon-ignore-placement": true } });
    } else {
      map.addLayer({ id: d.name, type: "circle", source: d.name, filter: raw,
        paint: { "circle-color": color, "circle-radius": d.radius ?? 5, "circle-stroke-color": d.strokeColor ?? "#070c18",
          "circle-stroke-width": d.strokeWidth ?? (d.radius && typeof d.radius === "number" && d.radius >= 6 ? 1.5 : 0.5),
          "circle-opacity": ["case", ["==", ["get", "_stale"], true], 0.6, d.opacity ?? 1],
          "circle-stroke-opacity": ["case", ["==", ["get", "_stale"], true], 0.6, d.opacity ?? 1] } });
    }
    map.addLayer({ id: d.name + "/clusters", type: "circle", source: d.name, filter: ["==", ["get", "_cluster"], true],
      paint: {
        "circle-color": ["match", ["coalesce", ["get", "worstLevel"], 0], 0, SEVERITY[0], 1, SEVERITY[1], 2, SEVERITY[2], 3, SEVERITY[3], SEVERITY[4]],
        "circle-opacity": 0.75, "circle-stroke-color": "#dfe6f5", "circle-stroke-width": 1,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", ["coalesce", ["get", "count"], 1]], 1, 7, 10, 14, 100, 30],
      } });
    if (d.off) setVisible(map, d.name, false);
  }
}

// colourClusters colours each layer's clusters by how bad their worst
// level is among the layer's own levels (GET /api/v1/layers: severity), so
// that the worst level of any layer is red whatever its number of levels.
export async function colourClusters(map) {
  const info = await fetch("/api/v1/layers").then((r) => (r.ok ? r.json() : { layers: [] })).catch(() => ({ layers: [] }));
  for (const l of info.layers || []) {
    const n = l.severity?.levels?.length;
    if (!n || n < 2 || !map.getLayer(l.name + "/clusters")) continue;
    const stops = [];
    for (let i = 0; i < n; i++) stops.push(i, SEVERITY[Math.round((i * (SEVERITY.length - 2)) / (n - 1))]);
    map.setPaintProperty(l.name + "/clusters", "circle-color", ["match", ["coalesce", ["get", "worstLevel"], 0], ...stops, STALE]);
  }
}

// styleIds are the MapLibre layers drawing one live layer.
function styleIds(d) { return d.kind === "fill" ? [d.name, d.name + "/outline", d.name + "/clusters"] : [d.name, d.name + "/clusters"]; }

export function setVisible(map, name, on) {
  const d = LAYERS.find((l) => l.name === name);
  for (const id of d ? styleIds(d) : []) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
}

export function liveLayerIds() { return LAYERS.flatMap(styleIds); }

// markerImage draws a point marker other than a circle (a team's diamond),
// at twice its size for sharp edges; a light border keeps it apart from
// the sensors' circles.
function markerImage(shape, colour) {
  const n = 30, c = document.createElement("canvas");
  c.width = c.height = n;
  const g = c.getContext("2d");
  g.beginPath();
  if (shape === "diamond") { g.moveTo(n / 2, 2); g.lineTo(n - 2, n / 2); g.lineTo(n / 2, n - 2); g.lineTo(2, n / 2); } else g.rect(4, 4, n - 8, n - 8);
  g.closePath();
  g.fillStyle = colour;
  g.fill();
  g.lineWidth = 3;
  g.strokeStyle = "#f4f7ff";
  g.stroke();
  return g.getImageData(0, 0, n, n);
}

export async function createMap(container, opts) {
  const cfg = await fetch("/app-config.json").then((r) => r.json()).catch(() => ({}));
  const map = new maplibregl.Map({
    container, style: cfg.mapStyle || baseStyle(), center: opts.center || CITY_VIEW.center, zoom: opts.zoom ?? CITY_VIEW.zoom,
    attributionControl: { compact: false, customAttribution: cfg.mapStyle ? ATTR_AREAS : undefined },
    maxPitch: 0, dragRotate: false, fadeDuration: 0, canvasContextAttributes: { preserveDrawingBuffer: opts.preserveDrawingBuffer === true },
  });
  // Map errors (a tile or source that failed) are reported once as a
  // warning; MapLibre would print every one as a console error.
  map.on("error", (e) => console.warn("map:", e.error?.message || e.error || e));
  await new Promise((resolve) => map.once("load", resolve));
  addBase(map);
  addLive(map);
  return map;
}

// Renderer keeps the sources in step with the held features: after a
// snapshot the whole layer (setData), after diffs only what changed
// (updateData), at most once per animation frame per layer, and for big
// layers no more than every 250 ms, so 5,000 changes a second cannot starve
// rendering. Pending changes are bounded by the entities held.
export class Renderer {
  constructor(map, store) {
    this.map = map;
    this.store = store;
    this.full = new Set();      // layers to send whole
    this.pending = new Map();   // layer -> Map(id -> feature, or null for a delete)
    this.nextAt = new Map();
    this.scheduled = false;
    this.onFlush = null;
    this.flushes = 0;
    // One update in flight per layer: the next waits until MapLibre's
    // worker has taken the previous one in, and at least as long again, so
    // the worker is never more than half busy with one layer.
    this.sentAt = new Map();
    map.on("data", (e) => {
      if (e.dataType !== "source" || e.sourceDataType !== "content" || !this.sentAt.has(e.sourceId)) return;
      const took = performance.now() - this.sentAt.get(e.sourceId);
      this.sentAt.delete(e.sourceId);
      const floor = (this.store.get(e.sourceId)?.size ?? 0) > 1000 ? 250 : 50;
      this.nextAt.set(e.sourceId, performance.now() + Math.min(5000, Math.max(floor, took)));
      this.schedule();
    });
  }

  markAll() { for (const d of LAYERS) { this.full.add(d.name); this.pending.delete(d.name); } this.schedule(); }

  upsert(layer, id, f) { if (!this.full.has(layer)) this.layerPending(layer).set(id, f); this.schedule(); }

  remove(layer, id) { if (!this.full.has(layer)) this.layerPending(layer).set(id, null); this.schedule(); }

  layerPending(layer) {
    let m = this.pending.get(layer);
    if (!m) { m = new Map(); this.pending.set(layer, m); }
    return m;
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.scheduled = false;
    const now = performance.now();
    let waiting = false;
    for (const layer of new Set([...this.full, ...this.pending.keys()])) {
      if ((this.nextAt.get(layer) ?? 0) > now) { waiting = true; continue; }
      if (this.sentAt.has(layer) && now - this.sentAt.get(layer) < 10000) continue; // the data event reschedules
      const src = this.map.getSource(layer);
      const held = this.store.get(layer);
      // Small layers are simply sent whole; big ones by difference.
      if (this.full.delete(layer) || !held || held.size <= 2000) {
        if (src) src.setData({ type: "FeatureCollection", features: held ? Array.from(held.values()) : [] });
      } else {
        const changes = this.pending.get(layer);
        const add = [], remove = [];
        for (const [id, f] of changes) if (f) add.push(f); else remove.push(id);
        if (src) src.updateData({ add, remove });
      }
      this.pending.delete(layer);
      this.sentAt.set(layer, now);
      this.nextAt.set(layer, now + (held && held.size > 1000 ? 250 : 50));
    }
    if (this.onFlush) this.onFlush();
    this.flushes++;
    if (waiting) setTimeout(() => this.schedule(), 50);
  }

  // whenRendered calls fn once the map has drawn every live source with
  // the data pushed so far: the first full render of the city.
  whenRendered(fn) {
    const check = () => {
      if (this.flushes === 0) return;
      for (const d of LAYERS) if (this.map.getSource(d.name) && !this.map.isSourceLoaded(d.name)) return;
      this.map.off("render", check);
      fn();
    };
    this.map.on("render", check);
  }
}
