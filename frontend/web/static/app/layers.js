// What each live layer looks like and means on the map: colours by domain
// state (docs/MODULES.md), the properties the map needs from the server,
// the values charted in the drill-down, what counts as a problem, and what
// is worth a line in the ticker.

import { tv } from "./i18n.js";

export const STALE = "#5d6473"; // stale sensors are greyed whatever their state
const GREEN = "#3ddc84", YELLOW = "#ffd93f", ORANGE = "#ff8c3f", RED = "#ff3b3b", PURPLE = "#b04ce0", MAROON = "#9b1c3c";

// Incident statuses that are over (by a person, or by their rule).
export const CLOSED = new Set(["resolved", "closed"]);

// Cluster colour by worstLevel (0 best .. 4 worst), shared by every layer.
export const SEVERITY = [GREEN, YELLOW, ORANGE, RED, MAROON];

const match = (prop, pairs, fallback) => ["match", ["to-string", ["get", prop]], ...pairs.flat(), fallback];

const congestion = [["0", GREEN], ["1", "#b6e03f"], ["2", YELLOW], ["3", ORANGE], ["4", RED]];

export const LAYERS = [
  {
    name: "traffic.segments", kind: "line",
    color: match("congestionLevel", congestion, "#4f6a8f"),
    legend: [["free", GREEN], ["light", "#b6e03f"], ["moderate", YELLOW], ["heavy", ORANGE], ["jammed", RED]],
    props: ["congestionLevel", "congestion", "averageVehicleSpeed", "name"], main: ["averageVehicleSpeed", "congestionLevel", "occupancy"],
    problem: (p) => p.congestionLevel >= 3, state: (p) => p.congestion,
  },
  {
    name: "traffic.signals", kind: "circle", radius: 4,
    color: match("status", [["normal", GREEN], ["flashing", YELLOW], ["fault", RED], ["offline", PURPLE]], STALE),
    legend: [["normal", GREEN], ["flashing", YELLOW], ["fault", RED], ["offline", PURPLE]],
    props: ["status", "name"], main: [],
    problem: (p) => p.status === "fault" || p.status === "offline", state: (p) => p.status,
    tick: (p, o) => o && o.status !== p.status && (p.status === "fault" || p.status === "offline") ? p.status : null,
  },
  {
    name: "traffic.cameras", kind: "circle", radius: 3, off: true,
    color: match("congestionLevel", congestion, "#4f6a8f"),
    legend: [["free", GREEN], ["moderate", YELLOW], ["jammed", RED]],
    props: ["congestionLevel", "congestion"], main: ["intensity", "averageVehicleSpeed"], state: (p) => p.congestion,
  },
  {
    name: "traffic.parking", kind: "circle", radius: 4, off: true,
    color: ["case", ["==", ["get", "full"], true], RED, GREEN],
    legend: [["available", GREEN], ["full", RED]],
    props: ["full", "occupancy", "name"], main: ["occupancy", "availableSpotNumber"], state: (p) => (p.full ? "full" : "available"),
  },
  {
    name: "traffic.violations", kind: "circle", radius: 3, off: true,
    color: "#ff5cc8", legend: [], props: ["violationType", "expires"], main: [], state: (p) => p.violationType,
  },
  {
    name: "environment.air", kind: "circle", radius: 9, label: (p) => (p.aqi ?? "") + "",
    color: ["coalesce", ["get", "aqiColorHex"], STALE],
    legend: [["good", "#00e400"], ["moderate", "#ffff00"], ["poor", "#ff7e00"], ["bad", "#ff0000"], ["very_bad", "#8f3f97"], ["hazardous", "#7e0023"]],
    props: ["aqi", "aqiBand", "aqiColorHex", "name"], main: ["aqi", "pm25", "pm10"],
    problem: (p) => p.aqi > 100, state: (p) => p.aqiBand,
    tick: (p, o) => o && o.aqiBand !== p.aqiBand && p.aqi > 100 ? p.aqiBand : null,
  },
  {
    name: "environment.water", kind: "circle", radius: 6,
    color: ["case", ["==", ["get", "exceeded"], true], ORANGE, "#3fa9ff"],
    legend: [["ok", "#3fa9ff"], ["exceeded", ORANGE]],
    props: ["exceeded", "kind", "name"], main: ["pH", "O2", "NH4"], problem: (p) => p.exceeded === true,
    state: (p) => (p.exceeded ? "exceeded" : "ok"),
  },
  {
    // Lit lamps are small and warm; dark ones are larger and red so that a
    // dark route stands out as a red line of dots.
    name: "lighting.lamps", kind: "circle",
    radius: ["match", ["get", "state"], ["fault", "no_power"], 3.5, "off", 2.2, 1.8],
    color: match("state", [["on", "#ffe9a8"], ["dimmed", "#b39a55"], ["off", "#7a2e2e"], ["fault", RED], ["no_power", "#ff2bd6"]], STALE),
    legend: [["on", "#ffe9a8"], ["dimmed", "#b39a55"], ["off", "#7a2e2e"], ["fault", RED], ["no_power", "#ff2bd6"]],
    props: ["state", "dark"], main: ["level"], problem: (p) => p.state === "fault" || p.state === "no_power", state: (p) => p.state,
  },
  {
    name: "lighting.cabinets", kind: "circle", radius: 6,
    color: match("state", [["on", "#ffe9a8"], ["dimmed", "#b39a55"], ["off", "#8a97b5"], ["fault", RED], ["no_power", "#ff2bd6"]], STALE),
    legend: [["on", "#ffe9a8"], ["off", "#8a97b5"], ["fault", RED], ["no_power", "#ff2bd6"]],
    props: ["state", "dark", "lampCount"], main: ["totalActivePower"], problem: (p) => p.state === "fault" || p.state === "no_power",
    state: (p) => p.state, tick: (p, o) => o && o.state !== p.state && p.state === "no_power" ? p.state : null,
  },
  {
    name: "flooding.rain", kind: "circle", radius: 7,
    color: ["step", ["coalesce", ["get", "intensity"], 0], "#44506b", 0.1, "#7fc8ff", 2.5, "#3f8cff", 10, "#2b4bff", 50, PURPLE],
    legend: [["none", "#44506b"], ["light", "#7fc8ff"], ["moderate", "#3f8cff"], ["heavy", "#2b4bff"], ["violent", PURPLE]],
    props: ["intensity", "rain1h", "heavy", "name"], main: ["intensity", "rain1h", "rain24h"], problem: (p) => p.heavy === true,
    state: (p) => (p.intensity >= 50 ? "violent" : p.intensity >= 10 ? "heavy" : p.intensity >= 2.5 ? "moderate" : p.intensity > 0 ? "light" : "none"),
  },
  {
    name: "flooding.rivers", kind: "circle", radius: 9,
    color: match("levelBand", [["below_bd1", GREEN], ["bd1", YELLOW], ["bd2", ORANGE], ["bd3", RED]], STALE),
    legend: [["below_bd1", GREEN], ["bd1", YELLOW], ["bd2", ORANGE], ["bd3", RED]],
    props: ["levelBand", "warningLevel", "currentLevel", "trend", "name"], main: ["currentLevel", "levelRate"],
    problem: (p) => p.warningLevel >= 1, state: (p) => p.levelBand, critical: (p, o) => p.levelBand === "bd3" && (!o || o.levelBand !== "bd3"),
    tick: (p, o) => o && o.levelBand !== p.levelBand && p.warningLevel >= 1 ? p.levelBand : null,
  },
  {
    name: "flooding.streets", kind: "circle", radius: ["match", ["get", "depthClass"], "very_deep", 9, "deep", 8, "moderate", 6, 4],
    color: match("depthClass", [["dry", "#44506b"], ["shallow", "#7fd3ff"], ["moderate", "#3f8cff"], ["deep", "#2b2bff"], ["very_deep", RED]], STALE),
    legend: [["dry", "#44506b"], ["shallow", "#7fd3ff"], ["moderate", "#3f8cff"], ["deep", "#2b2bff"], ["very_deep", RED]],
    props: ["depth", "depthClass", "flooded", "name"], main: ["depth"], problem: (p) => p.flooded === true, state: (p) => p.depthClass,
    critical: (p, o) => p.depthClass === "very_deep" && (!o || o.depthClass !== "very_deep"),
    tick: (p, o) => o && o.depthClass !== p.depthClass && (p.depthClass === "deep" || p.depthClass === "very_deep") ? p.depthClass : null,
  },
  {
    name: "feedback.reports", kind: "circle", radius: 6,
    color: ["case", ["==", ["get", "open"], false], "#5d6473", match("priority", [["critical", RED], ["high", ORANGE]], "#3fe0d0")],
    legend: [["critical", RED], ["high", ORANGE], ["normal", "#3fe0d0"], ["resolved", "#5d6473"]],
    props: ["category", "status", "priority", "open"], main: [], problem: (p) => p.open === true,
    state: (p) => p.status, critical: (p, o) => !o && p.priority === "critical" && p.open !== false,
    tick: (p, o) => (!o ? p.category : o.status !== p.status ? p.status : null),
  },
  {
    // Incidents: critical ones big with a white ring, resolved and closed
    // ones small and faded.
    name: "ioc.incidents", kind: "circle",
    radius: ["case", ["in", ["get", "status"], ["literal", ["resolved", "closed"]]], 5,
      ["match", ["get", "severity"], "critical", 12, "major", 10, "minor", 8, 7]],
    color: match("severity", [["critical", RED], ["major", ORANGE], ["minor", YELLOW], ["info", "#3fa9ff"]], "#3fa9ff"),
    opacity: ["case", ["in", ["get", "status"], ["literal", ["resolved", "closed"]]], 0.35, 1],
    strokeColor: ["case", ["==", ["get", "severity"], "critical"], "#ffffff", "#070c18"],
    strokeWidth: ["case", ["==", ["get", "severity"], "critical"], 2.5, 1.5],
    legend: [["critical", RED], ["major", ORANGE], ["minor", YELLOW], ["info", "#3fa9ff"], ["resolved", "#8a8f99"]],
    props: ["category", "severity", "status", "title", "place", "updated", "tasks"], main: [],
    problem: (p) => !CLOSED.has(p.status), state: (p) => p.status,
    critical: (p, o) => p.severity === "critical" && !CLOSED.has(p.status) && (!o || o.severity !== "critical"),
    tick: (p, o) => (!o ? p.title || p.category : o.status !== p.status ? p.status : o.severity !== p.severity ? p.severity : null),
  },
  {
    // Teams are diamonds (drawn as images), unlike the round sensors.
    name: "response.teams", kind: "icon", shape: "diamond",
    icons: [["available", GREEN], ["busy", ORANGE], ["offline", "#8a97b5"]],
    color: match("status", [["available", GREEN], ["busy", ORANGE], ["offline", "#8a97b5"]], "#8a97b5"),
    legend: [["available", GREEN], ["busy", ORANGE], ["offline", "#8a97b5"]],
    props: ["name", "kind", "status"], main: [], state: (p) => p.status,
  },
  {
    name: "ioc.zone_events", kind: "circle", radius: 4,
    color: match("event", [["enter", "#3fe0d0"], ["leave", "#8a97b5"]], "#8a97b5"),
    legend: [["enter", "#3fe0d0"], ["leave", "#8a97b5"]],
    props: ["zone", "zoneName", "event", "name", "entity", "layer"], main: [], state: (p) => p.event,
    tick: (p, o) => (!o ? `${tv(p.event, "ioc.zone_events")} ${p.zoneName || p.zone || ""}` : null),
  },
];

// Polygon layers, drawn under every point and line layer: translucent
// fills with an outline (dashed for CAP alert areas).
const AREAS = [
  {
    name: "ioc.zones", kind: "fill", filter: ["!=", ["get", "status"], "closed"],
    color: match("severity", [["critical", RED], ["major", ORANGE], ["minor", YELLOW], ["info", "#3fa9ff"]], ORANGE),
    fillOpacity: 0.14,
    legend: [["critical", RED], ["major", ORANGE], ["minor", YELLOW], ["info", "#3fa9ff"]],
    props: ["name", "kind", "severity", "status"], main: [], state: (p) => p.severity,
  },
  {
    name: "alerts.cap", kind: "fill", dashed: true,
    color: match("severity", [["Extreme", MAROON], ["Severe", RED], ["Moderate", ORANGE], ["Minor", YELLOW]], "#8a97b5"),
    fillOpacity: 0.08,
    legend: [["Extreme", MAROON], ["Severe", RED], ["Moderate", ORANGE], ["Minor", YELLOW], ["Unknown", "#8a97b5"]],
    props: ["event", "headline", "severity", "urgency", "status", "expires", "areaDesc"], main: [], state: (p) => p.severity,
  },
];
LAYERS.unshift(...AREAS);

export const BY_NAME = new Map(LAYERS.map((d) => [d.name, d]));

// subscribedProperties is the per-layer property list sent with subscribe,
// so the server sends only what the map draws; the drill-down fetches all.
export function subscribedProperties() {
  const out = {};
  for (const d of LAYERS) out[d.name] = [...new Set([...d.props, "district", "ward"])];
  return out;
}

export function featureTitle(f) {
  const p = f.properties || {};
  return p.name || p.title || p.headline || p.event || p.category || f.id;
}
