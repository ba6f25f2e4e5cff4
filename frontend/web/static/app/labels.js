// Labels drawn as HTML over the map, so no glyph files are needed and
// Vietnamese diacritics render with the system's fonts. Only a bounded
// number of labels exist at any time: district names, AQI values of air
// stations, and counts of server clusters on screen.

import { BY_NAME } from "./layers.js";
import { loadData } from "./map.js";

const MAX_LABELS = 250;

export class Labels {
  constructor(map) {
    this.map = map;
    this.dynamic = new Map(); // key -> marker, reused between updates
  }

  async districts() {
    const fc = await loadData("/api/v1/areas/districts");
    for (const f of fc.features) {
      if (f.properties.mainland === false) continue;
      const b = f.properties.source_bbox;
      if (!b) continue;
      this.marker("lbl district", f.properties.name_short || f.properties.name, [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]);
    }
  }

  marker(cls, text, lngLat) {
    const el = document.createElement("div");
    el.className = "lbl " + cls;
    el.textContent = text;
    return new maplibregl.Marker({ element: el }).setLngLat(lngLat).addTo(this.map);
  }

  // update re-labels the visible air stations and clusters from the held
  // features; called after each render flush.
  update(store, visible) {
    const seen = new Set();
    const bounds = this.map.getBounds();
    for (const [layer, m] of store) {
      if (!visible(layer)) continue;
      const def = BY_NAME.get(layer);
      // A layer holds either raw features or clusters: skip big raw layers
      // without labels rather than walking 100,000 lamps every frame.
      if (!def?.label && m.values().next().value?.properties._cluster !== true) continue;
      for (const [id, f] of m) {
        if (seen.size >= MAX_LABELS) break;
        const p = f.properties;
        let text = null, cls = "cluster";
        if (p._cluster) text = String(p.count ?? "");
        else if (def?.label) { text = def.label(p); cls = "aqi"; }
        if (!text || f.geometry?.type !== "Point") continue;
        const c = f.geometry.coordinates;
        if (!bounds.contains(c)) continue;
        const key = layer + "/" + id;
        seen.add(key);
        let mk = this.dynamic.get(key);
        if (!mk) { mk = this.marker("lbl " + cls, text, c); this.dynamic.set(key, mk); }
        else { mk.setLngLat(c); if (mk.getElement().textContent !== text) mk.getElement().textContent = text; }
      }
    }
    for (const [key, mk] of this.dynamic) if (!seen.has(key)) { mk.remove(); this.dynamic.delete(key); }
  }
}
