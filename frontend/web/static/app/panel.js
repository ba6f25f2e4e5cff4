// The drill-down: everything about one feature (all its properties, its
// area, its status history, 24 hours of its main values) or one cluster.

import { BY_NAME, CLOSED, featureTitle } from "./layers.js";
import { t, tv, formatTime } from "./i18n.js";

const HIDDEN = new Set(["statusHistory", "aqiSubIndex", "exceedances", "description", "mediaURL"]);
// Layers with their own section above the property table, and what that
// section already shows.
const SPECIAL = new Set(["ioc.incidents", "ioc.zones", "response.teams", "alerts.cap"]);
const SHOWN = new Set(["evidence", "trail", "tasks", "summary", "title", "severity", "status", "place", "opened", "updated",
  "instruction", "headline", "evidenceCount", "trailCount"]);
const SEVERITIES = ["info", "minor", "major", "critical"];
const REFRESH_MIN_MS = 500; // pushed updates of the open feature refetch it at most this often
const API = "/api/v1";

export class Panel {
  constructor(el, body, live, map) {
    this.el = el;
    this.body = body;
    this.live = live;
    this.map = map;
    this.charts = [];
    this.current = null;
    this.refreshTimer = null;
    this.refreshAt = 0;
    el.querySelector("#panel-close").addEventListener("click", () => this.close());
  }

  close() {
    this.el.hidden = true;
    this.disposeCharts();
    this.body.replaceChildren();
    this.current = null;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  // changed is told of every pushed change: the open incident, zone or
  // team is fetched again (at most every REFRESH_MIN_MS), so the panel
  // follows what operators elsewhere do.
  changed(layer, id) {
    if (this.live.replayReq || this.current !== layer + "/" + id || this.refreshTimer) return;
    if (!SPECIAL.has(layer)) return;
    const wait = Math.max(0, this.refreshAt + REFRESH_MIN_MS - performance.now());
    this.refreshTimer = setTimeout(() => { this.refreshTimer = null; this.refresh(layer, id); }, wait);
  }

  async refresh(layer, id) {
    const token = layer + "/" + id;
    if (this.current !== token) return;
    this.refreshAt = performance.now();
    const f = await fetchFeature(layer, id);
    if (!f || this.current !== token) return;
    const box = this.body.querySelector("#panel-special");
    if (box) await this.special(box, layer, id, f, token);
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
    if (!past) f = (await fetchFeature(layer, id)) || unflatten(held);
    else f = unflatten(held);
    if (token !== this.current) return;
    this.render(layer, id, f, past);
    const box = this.body.querySelector("#panel-special");
    await Promise.all([this.history(layer, id, past, token), this.chartsFor(layer, id, past, token),
      box ? this.special(box, layer, id, f, token, past) : null]);
  }

  // special renders what matters most about an incident (with its
  // actions), a zone (its summary) or a team (its incidents).
  async special(box, layer, id, f, token, past) {
    const p = f?.properties || {};
    if (layer === "ioc.incidents") this.incident(box, id, p, past);
    else if (layer === "ioc.zones") box.innerHTML = zoneSummary(p);
    else if (layer === "alerts.cap") box.innerHTML = capInfo(p);
    else if (layer === "response.teams") {
      box.innerHTML = `<div>${t("status")}: <b>${esc(tv(p.status, layer))}</b>${p.kind ? ` · ${esc(tv(p.kind))}` : ""}</div>`;
      if (past) return;
      const fc = await getJSON(`${API}/incidents?status=open,acknowledged,assigned&limit=1000`);
      if (this.current !== token) return;
      const mine = (fc?.features || []).filter((x) => (x.properties?.tasks || []).some((k) => k.team === id));
      box.insertAdjacentHTML("beforeend", `<h4>${t("teamIncidents")}</h4>` + (mine.length ? `<ul class="inc-list">${mine.map((x) => {
        const task = x.properties.tasks.find((k) => k.team === id);
        return `<li data-id="${esc(x.id)}"><b>${esc(x.properties.title || x.id)}</b> · ${esc(tv(x.properties.severity))} · ${esc(tv(task.status))}</li>`;
      }).join("")}</ul>` : `<div>${t("none")}</div>`));
      for (const li of box.querySelectorAll("li[data-id]")) {
        const x = mine.find((m) => m.id === li.dataset.id);
        li.addEventListener("click", () => { this.flyTo(x.geometry); this.open("ioc.incidents", x.id, null); });
      }
    }
  }

  // incident draws the incident: its state, evidence (each flies to its
  // entity), tasks, trail (newest first), and the actions allowed now. The
  // action form is rebuilt only when the status changes, so a comment
  // being typed survives pushed updates.
  incident(box, id, p, past) {
    const h = [];
    h.push(`<div class="inc-state"><span class="sev sev-${esc(p.severity)}">${esc(tv(p.severity))}</span> · ${t("status")}: <b id="inc-status" data-status="${esc(p.status)}">${esc(tv(p.status))}</b></div>`);
    if (p.place) h.push(`<div>${t("place")}: ${esc(p.place)}</div>`);
    h.push(`<div>${t("opened")}: ${esc(formatTime(p.opened))}${p.updated ? ` · ${t("updated")}: ${esc(formatTime(p.updated))}` : ""}</div>`);
    const ev = Array.isArray(p.evidence) ? p.evidence.slice().reverse() : [];
    h.push(`<h4>${t("evidence")} (${esc(p.evidenceCount ?? ev.length)})</h4><ul class="inc-evidence">${ev.map((e, i) =>
      `<li data-i="${i}" class="link">${esc(formatTime(e.time))} · ${esc(t(e.layer))} <code>${esc(e.id)}</code><br>${esc(e.summary)}</li>`).join("") || `<li>${t("none")}</li>`}</ul>`);
    const tasks = Array.isArray(p.tasks) ? p.tasks : [];
    h.push(`<h4>${t("tasks")}</h4><ul>${tasks.map((k) => `<li>${esc(k.team)} · <b>${esc(tv(k.status))}</b> · ${esc(formatTime(k.since))}</li>`).join("") || `<li>${t("none")}</li>`}</ul>`);
    const trail = Array.isArray(p.trail) ? p.trail.slice().sort((a, b) => String(b.at).localeCompare(String(a.at))) : [];
    h.push(`<h4>${t("trail")} (${esc(p.trailCount ?? trail.length)})</h4><ol class="inc-trail">${trail.map((e) =>
      `<li>${esc(formatTime(e.at))} · ${esc(tv(e.by))} · <b>${esc(tv(e.action))}</b>${e.detail ? " · " + esc(e.detail) : ""}</li>`).join("") || `<li>${t("none")}</li>`}</ol>`);
    let info = box.querySelector("#inc-info");
    if (!info) { box.innerHTML = `<div id="inc-info"></div><div id="inc-actions"></div>`; info = box.querySelector("#inc-info"); }
    info.innerHTML = h.join("");
    info.querySelectorAll(".inc-evidence li[data-i]").forEach((li) => li.addEventListener("click", () => {
      const e = ev[Number(li.dataset.i)];
      if (Number.isFinite(e?.lon) && Number.isFinite(e?.lat)) this.flyTo({ type: "Point", coordinates: [e.lon, e.lat] });
    }));
    const actions = box.querySelector("#inc-actions");
    if (past) { actions.replaceChildren(); return; }
    const key = `${p.status}/${p.severity}`;
    if (actions.dataset.key !== key) { actions.dataset.key = key; this.actionForm(actions, id, p); }
  }

  actionForm(box, id, p) {
    const over = CLOSED.has(p.status);
    const h = [`<h4>${t("actions")}</h4><div class="inc-buttons">`];
    if (p.status === "open") h.push(`<button type="button" data-action="acknowledge">${t("acknowledge")}</button>`);
    if (!over) h.push(`<button type="button" data-action="resolve">${t("resolve")}</button>`);
    else h.push(`<button type="button" data-action="reopen">${t("reopen")}</button>`);
    h.push(`</div>`);
    if (!over) {
      h.push(`<div class="inc-row"><select id="inc-team"><option value="">${t("loading")}</option></select><button type="button" data-action="assign">${t("assign")}</button></div>`);
      h.push(`<div class="inc-row"><select id="inc-severity">${SEVERITIES.map((v) => `<option value="${v}"${v === p.severity ? " selected" : ""}>${esc(tv(v))}</option>`).join("")}</select><button type="button" data-action="severity">${t("setSeverity")}</button></div>`);
    }
    h.push(`<div class="inc-row"><input id="inc-comment" maxlength="4000" placeholder="${esc(t("commentPlaceholder"))}"><button type="button" data-action="comment">${t("comment")}</button></div>`);
    h.push(`<div id="inc-error" class="err" role="alert"></div>`);
    box.innerHTML = h.join("");
    for (const b of box.querySelectorAll("button[data-action]")) b.addEventListener("click", () => this.act(box, id, b));
    if (!over) this.teams(box, id);
  }

  // teams fills the assign list with the nearest available teams.
  async teams(box, id) {
    const data = await getJSON(`${API}/incidents/${encodeURIComponent(id)}/teams?k=5`);
    const sel = box.querySelector("#inc-team");
    if (!sel || this.current !== "ioc.incidents/" + id) return;
    const list = data?.teams || [];
    sel.innerHTML = list.length ? list.map((x) => `<option value="${esc(x.id)}">${esc(x.feature?.properties?.name || x.id)} · ${esc(distance(x.distance))}</option>`).join("")
      : `<option value="">${t("noTeams")}</option>`;
  }

  async act(box, id, button) {
    const action = button.dataset.action;
    const body = { action };
    if (action === "assign") body.team = box.querySelector("#inc-team")?.value || "";
    if (action === "severity") body.severity = box.querySelector("#inc-severity")?.value;
    if (action === "comment") body.text = box.querySelector("#inc-comment")?.value || "";
    const err = box.querySelector("#inc-error");
    err.textContent = "";
    button.disabled = true;
    let r = null;
    try {
      r = await fetch(`${API}/incidents/${encodeURIComponent(id)}/actions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } catch { /* network: reported below */ }
    button.disabled = false;
    const data = r ? await r.json().catch(() => null) : null;
    if (!r || !r.ok) {
      err.textContent = `${t("actionFailed")}: ${data?.error?.message || (r ? r.status + " " + r.statusText : "network")}`;
      return;
    }
    if (action === "comment") { const c = box.querySelector("#inc-comment"); if (c) c.value = ""; }
    const special = this.body.querySelector("#panel-special");
    if (data && special && this.current === "ioc.incidents/" + id) this.incident(special, id, data.properties || {}, null);
  }

  flyTo(geometry) {
    if (this.map && geometry?.type === "Point") this.map.flyTo({ center: geometry.coordinates, zoom: Math.max(this.map.getZoom(), 16) });
  }

  render(layer, id, f, past) {
    const p = f?.properties || {};
    const h = [];
    h.push(`<h3>${esc(featureTitle({ id, properties: p }))}</h3>`);
    h.push(`<div>${esc(t(layer))} · <code>${esc(id)}</code>${f?.stale ? ` · <b class="past">${t("stale")}</b>` : ""}</div>`);
    if (past) h.push(`<div class="past">${t("pastState")}: ${esc(formatTime(past))}</div>`);
    if (f?.time) h.push(`<div>${esc(formatTime(f.time))}</div>`);
    if (SPECIAL.has(layer)) h.push(`<div id="panel-special"></div>`);
    if (p.district || p.ward) h.push(`<h4>${t("area")}</h4><div>${esc([p.ward, p.district].filter(Boolean).join(", "))}</div>`);
    if (p.description) h.push(`<h4>${t("description")}</h4><div>${esc(p.description)}</div>`);
    if (p.mediaURL && /^https?:\/\//.test(p.mediaURL)) h.push(`<div><a href="${esc(p.mediaURL)}" target="_blank" rel="noopener noreferrer">${t("photo")}</a></div>`);
    if (Array.isArray(p.statusHistory)) {
      h.push(`<h4>${t("workflow")}</h4><ol>${p.statusHistory.map((s) => `<li>${esc(tv(s.status))} · ${esc(formatTime(s.time))}</li>`).join("")}</ol>`);
    }
    h.push(`<h4>${t("charts")}</h4><div id="panel-charts"><i>${t("loading")}</i></div>`);
    h.push(`<h4>${t("properties")}</h4><table>`);
    for (const [k, v] of Object.entries(p)) {
      if (HIDDEN.has(k) || k.startsWith("_") || (SPECIAL.has(layer) && SHOWN.has(k))) continue;
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
      const s = tv(rec.op === "delete" ? "deleted" : def?.state ? def.state(p) ?? "" : "", layer) + (rec.stale ? " (" + t("stale") + ")" : "");
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
        // The city's clock, as every other time on the page, not the browser's.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Asia/Ho_Chi_Minh"),
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

async function getJSON(url) {
  const r = await fetch(url).catch(() => null);
  return r && r.ok ? r.json().catch(() => null) : null;
}

// fetchFeature: an incident from the incidents API (evidence, tasks and
// trail), a zone with its summary computed now, anything else as stored.
function fetchFeature(layer, id) {
  const e = encodeURIComponent(id);
  if (layer === "ioc.incidents") return getJSON(`${API}/incidents/${e}`);
  if (layer === "ioc.zones") return getJSON(`${API}/zones/${e}`);
  return getJSON(`${API}/layers/${encodeURIComponent(layer)}/features/${e}`);
}

function distance(m) { return !Number.isFinite(m) ? "" : m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(1) + " km"; }

function zoneSummary(p) {
  const s = p.summary || {};
  const h = [`<div>${esc(tv(p.kind))} · ${t("severity")}: <b>${esc(tv(p.severity))}</b> · ${esc(tv(p.status))}</div>`];
  if (p.description) h.push(`<div>${esc(p.description)}</div>`);
  h.push(`<h4>${t("summary")}${s.updated ? " · " + esc(formatTime(s.updated)) : ""}</h4><table>`);
  const row = (k, v) => h.push(`<tr><td>${esc(k)}</td><td>${esc(v ?? 0)}</td></tr>`);
  row(t("entities"), s.entities);
  row(t("ioc.incidents"), s.incidents);
  row(t("response.teams"), s.teams);
  row(t("reportsOpen"), s.reportsOpen);
  row(t("lampsOut"), s.lampsOut);
  row(t("roadsBlocked"), s.roadsBlocked);
  for (const [layer, l] of Object.entries(s.layers || {})) row(t(layer), `${l.count ?? 0}${l.worst ? " · " + t("worst") + ": " + tv(l.worst, layer) : ""}${l.stale ? " · " + t("stale") + ": " + l.stale : ""}`);
  h.push(`</table>`);
  if (Array.isArray(s.incidentList) && s.incidentList.length) {
    h.push(`<h4>${t("ioc.incidents")}</h4><ul>${s.incidentList.map((i) => `<li>${esc(i.name || i.id)} · ${esc(tv(i.severity))} · ${esc(tv(i.status))}</li>`).join("")}</ul>`);
  }
  if (Array.isArray(s.teamList) && s.teamList.length) {
    h.push(`<h4>${t("response.teams")}</h4><ul>${s.teamList.map((x) => `<li>${esc(x.name || x.id)} · ${esc(tv(x.kind))} · ${esc(tv(x.status, "response.teams"))}</li>`).join("")}</ul>`);
  }
  return h.join("");
}

function capInfo(p) {
  const h = [`<div>${esc(p.event || "")} · ${t("severity")}: <b>${esc(tv(p.severity))}</b>${p.urgency ? " · " + esc(p.urgency) : ""}</div>`];
  if (p.headline) h.push(`<div><b>${esc(p.headline)}</b></div>`);
  if (p.areaDesc) h.push(`<div>${esc(p.areaDesc)}</div>`);
  if (p.expires) h.push(`<div>${t("expires")}: ${esc(formatTime(p.expires))}</div>`);
  if (p.instruction) h.push(`<h4>${t("instruction")}</h4><div>${esc(p.instruction)}</div>`);
  return h.join("");
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
