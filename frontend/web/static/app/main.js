// The IOC map application: wiring of the map, the live connection, the
// panels and the modes (default, ?mode=wall or /wall, ?mode=field or /field).

import { LAYERS, BY_NAME, subscribedProperties } from "./layers.js";
import { Live } from "./live.js";
import { createMap, Renderer, setVisible, liveLayerIds, colourClusters, CITY_VIEW } from "./map.js";
import { Labels } from "./labels.js";
import { Panel, esc } from "./panel.js";
import { computeKPIs, renderKPIs, Ticker, Focus } from "./wall.js";
import { Timeline } from "./timeline.js";
import { Field } from "./field.js";
import { t, tv, applyStatic, language, setLanguage } from "./i18n.js";
import { showDemoBanner } from "./auth.js";

const params = new URLSearchParams(location.search);
const mode = params.get("mode") || (location.pathname === "/wall" ? "wall" : location.pathname === "/field" ? "field" : "map");
const $ = (id) => document.getElementById(id);

// The read-only status the browser tests read.
const status = { connected: false, epoch: "", seq: 0, counts: {}, subscriptions: 0, snapshots: 0, replay: null, mode, firstRender: null };
window.iocStatus = status;

async function main() {
  document.body.classList.add(mode);
  setLanguage(language());
  applyStatic();
  await ensureLogin();
  await showDemoBanner(); // the --demo warning (auth.js)
  const live = new Live(status);
  const view = initialView();
  const map = await createMap($("map"), { ...view, preserveDrawingBuffer: params.has("test") });
  window.iocMap = map;
  const renderer = new Renderer(map, live.store);
  const labels = new Labels(map);
  labels.districts().catch(() => { /* base labels are optional */ });
  colourClusters(map);
  const panel = new Panel($("panel"), $("panel-body"), live, map);
  const ticker = new Ticker($("ticker-list"));
  const focus = mode === "wall" ? new Focus(map) : null;
  const visible = new Set(LAYERS.filter((d) => !d.off).map((d) => d.name));
  const timeline = new Timeline(live, { bar: $("timeline"), time: $("tl-time"), range: $("tl-range"), speed: $("tl-speed"),
    play: $("tl-play"), pause: $("tl-pause"), liveBtn: $("tl-live"), banner: $("replay-banner") });

  let kpiDue = false, kpiAt = 0;
  renderer.onFlush = () => {
    labels.update(live.store, (l) => visible.has(l));
    // KPIs walk every held feature: at most once a second.
    if (kpiDue && performance.now() - kpiAt > 1000) { kpiDue = false; kpiAt = performance.now(); renderKPIs($("kpis"), computeKPIs(live.store)); }
  };
  live.on("reset", () => { kpiDue = true; renderer.markAll(); });
  live.on("reset", function first() {
    live.listeners.reset = live.listeners.reset.filter((f) => f !== first);
    renderer.whenRendered(() => { status.firstRender = Math.round(performance.now()); });
  });
  live.on("frame", (msg) => {
    kpiDue = true;
    updateCounts(visible);
    timeline.update();
  });
  live.on("remove", (layer, id) => renderer.remove(layer, id));
  live.on("change", (f, old) => {
    renderer.upsert(f.properties._layer, f.properties._id, f);
    panel.changed(f.properties._layer, f.properties._id);
    if (live.replayReq && !old) return; // a replay's first sight of an entity is not news
    const critical = ticker.consider(f, old);
    if (critical && focus && !live.replayReq) focus.show(f);
  });
  live.on("status", () => {
    $("conn").className = "conn " + (live.replayReq ? "replay" : status.connected ? "on" : "off");
    timeline.update();
  });

  buildLayerList(map, visible);
  const subscribe = () => live.subscribe(subscription(map, visible));
  let debounce = null;
  map.on("moveend", () => { clearTimeout(debounce); debounce = setTimeout(subscribe, 250); });
  subscribe();
  live.connect();

  map.on("click", (e) => {
    const ids = liveLayerIds().filter((id) => map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none");
    const hits = map.queryRenderedFeatures([[e.point.x - 6, e.point.y - 6], [e.point.x + 6, e.point.y + 6]], { layers: ids });
    if (!hits.length) return;
    const p = hits[0].properties;
    if (p._cluster === true || p._cluster === "true") {
      const ext = typeof p.extent === "string" ? JSON.parse(p.extent) : p.extent;
      if (Array.isArray(ext) && ext.length === 4) map.fitBounds([[ext[0], ext[1]], [ext[2], ext[3]]], { padding: 60, maxZoom: 18 });
      panel.cluster(p._layer, p);
      return;
    }
    panel.open(p._layer, p._id, live.store.get(p._layer)?.get(p._id));
  });

  $("btn-time").addEventListener("click", () => timeline.toggle());
  $("btn-lang").addEventListener("click", () => {
    setLanguage(language() === "vi" ? "en" : "vi");
    applyStatic();
    buildLayerList(map, visible);
    renderKPIs($("kpis"), computeKPIs(live.store));
    $("btn-lang").textContent = language() === "vi" ? "EN" : "VI";
    timeline.update();
  });
  $("btn-lang").textContent = language() === "vi" ? "EN" : "VI";
  renderKPIs($("kpis"), computeKPIs(live.store));

  if (mode === "field") {
    $("field").hidden = false;
    new Field(map, { list: $("field-list"), tasks: $("field-tasks") }, params, (f) => {
      if (f.geometry?.type === "Point") map.flyTo({ center: f.geometry.coordinates, zoom: 17 });
      panel.open(f.layer, f.id, null);
    });
  }
  window.ioc = { // test and console helpers, read-only views of the state
    has: (layer, id) => live.store.get(layer)?.has(id) === true,
    props: (layer, id) => { const f = live.store.get(layer)?.get(id); return f ? JSON.parse(JSON.stringify(f.properties)) : null; },
    drawn: (layer, id) => map.querySourceFeatures(layer, { filter: ["==", ["get", "_id"], id] }).length > 0,
    // when resolves with the wall-clock time (ms) the entity first arrives.
    when: (layer, id) => new Promise((resolve) => {
      const seen = (f) => { if (f.properties._layer === layer && f.properties._id === id) { off(); resolve(Date.now()); } };
      const off = () => { live.listeners.change = live.listeners.change.filter((fn) => fn !== seen); };
      live.on("change", seen);
    }),
    replayAt: (iso, speed = 1) => { $("tl-speed").value = String(speed); timeline.startAt(new Date(iso)); },
    backToLive: () => timeline.backToLive(),
    openPanel: (layer, id) => panel.open(layer, id, live.store.get(layer)?.get(id)),
  };
}

// ensureLogin asks for a user and password when iocd requires a login
// (the default; --demo needs none) and returns once a session is open.
async function ensureLogin() {
  const me = await fetch("/api/v1/auth/me").catch(() => null);
  if (!me || me.status !== 401) return;
  const form = document.createElement("form");
  form.id = "login";
  form.innerHTML = `<h2>IOC Đà Nẵng</h2><input name="user" autocomplete="username" required placeholder="${esc(t("user"))}">
    <input name="password" type="password" autocomplete="current-password" required placeholder="${esc(t("password"))}">
    <button type="submit">${esc(t("login"))}</button><p class="err"></p>`;
  document.body.appendChild(form);
  await new Promise((resolve) => form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = JSON.stringify({ user: form.user.value, password: form.password.value });
    const r = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body }).catch(() => null);
    if (r && r.ok) { form.remove(); resolve(); return; }
    const msg = r ? (await r.json().catch(() => ({}))).error?.message : null;
    form.querySelector(".err").textContent = msg || t("loginFailed");
  }));
}

function initialView() {
  const c = (params.get("c") || "").split(",").map(Number);
  const z = Number(params.get("z"));
  return { center: c.length === 2 && c.every(Number.isFinite) ? c : CITY_VIEW.center, zoom: Number.isFinite(z) && params.has("z") ? z : CITY_VIEW.zoom };
}

// subscription asks for what is on screen (with a margin so small pans
// need no new snapshot), at the map's zoom, with only the drawn properties.
function subscription(map, visible) {
  const b = map.getBounds();
  const padX = (b.getEast() - b.getWest()) * 0.15, padY = (b.getNorth() - b.getSouth()) * 0.15;
  const r = (v) => Math.round(v * 1e4) / 1e4;
  const layers = LAYERS.map((d) => d.name).filter((n) => visible.has(n));
  return {
    layers: layers.length ? layers : ["ioc.none"],
    bbox: [r(b.getWest() - padX), r(b.getSouth() - padY), r(b.getEast() + padX), r(b.getNorth() + padY)],
    zoom: Math.round(map.getZoom() * 10) / 10,
    properties: subscribedProperties(),
  };
}

function buildLayerList(map, visible) {
  const box = $("layer-list");
  box.replaceChildren();
  for (const d of LAYERS) {
    const row = document.createElement("div");
    row.className = "layer-row";
    row.innerHTML = `<label><input type="checkbox" ${visible.has(d.name) ? "checked" : ""}> ${esc(t(d.name))} <span class="count" data-layer="${d.name}"></span></label>
      <div class="legend">${[...d.legend, ...(d.kind === "fill" ? [] : [["stale", "#5d6473"]])].map(([v, c]) => `<span><i data-colour="${esc(c)}"></i>${esc(tv(v, d.name))}</span>`).join("")}</div>`;
    // Colours are set through the DOM: the page's CSP allows no inline style attributes.
    for (const i of row.querySelectorAll("i[data-colour]")) i.style.background = i.dataset.colour;
    row.querySelector("input").addEventListener("change", (e) => {
      if (e.target.checked) visible.add(d.name); else visible.delete(d.name);
      setVisible(map, d.name, e.target.checked);
      map.fire("moveend"); // re-subscribe to the layers shown
    });
    box.appendChild(row);
  }
  updateCounts(visible);
}

function updateCounts() {
  for (const el of document.querySelectorAll(".count[data-layer]")) {
    const n = status.counts[el.dataset.layer];
    el.textContent = n ? String(n) : "";
  }
}

main().catch((err) => { console.error("the map failed to start:", err); });
