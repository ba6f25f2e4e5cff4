// The live connection: one WebSocket to /api/v1/ws carrying the live push
// and, on demand, a replay. It holds the features of the subscription
// (bounded by what the server sends for the screen), reconnects by itself
// with exponential backoff and resumes from its last sequence number.

const PING_EVERY = 15000;  // browsers cannot see protocol pings: ask for a pong
const SILENCE_LIMIT = 45000; // no frame for this long: the connection is dead
const BACKOFF_MIN = 500, BACKOFF_MAX = 10000;

export class Live {
  constructor(status) {
    this.status = status;           // window.iocStatus, kept current
    this.store = new Map();         // layer -> Map(id -> display feature)
    this.sub = null;                // the live subscription (sent on every (re)connect)
    this.replayReq = null;          // the replay in progress, if any
    this.replayTime = null;
    this.listeners = { reset: [], change: [], remove: [], frame: [], status: [] };
    this.backoff = BACKOFF_MIN;
    this.reqCounter = 0;
    this.lastFrameAt = 0;
    this.ws = null;
    this.timer = setInterval(() => this.heartbeat(), PING_EVERY);
  }

  on(event, fn) { this.listeners[event].push(fn); }
  emit(event, ...args) { for (const fn of this.listeners[event]) fn(...args); }

  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      if (this.replayReq) this.sendReplay(this.replayTime || this.replayReq.from);
      else if (this.sub) this.sendSubscribe(true);
    };
    ws.onmessage = (m) => {
      this.lastFrameAt = Date.now();
      this.backoff = BACKOFF_MIN;
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      this.handle(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setConnected(false);
      const wait = this.backoff * (0.75 + Math.random() * 0.5);
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX);
      setTimeout(() => this.connect(), wait);
    };
    ws.onerror = () => { /* onclose follows and schedules the reconnect */ };
  }

  heartbeat() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastFrameAt > SILENCE_LIMIT) { ws.close(); return; }
    this.send({ type: "ping", id: "hb" });
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  // subscribe replaces the live subscription; an identical one is not
  // resent. A new subscription starts from a fresh snapshot.
  subscribe(sub) {
    const key = JSON.stringify(sub);
    if (this.sub && this.subKey === key) return false;
    this.sub = sub;
    this.subKey = key;
    if (!this.replayReq) this.sendSubscribe(false);
    return true;
  }

  sendSubscribe(resume) {
    const msg = { type: "subscribe", ...this.sub, id: "s" + ++this.reqCounter };
    if (resume && this.status.epoch && this.resumeKey === this.subKey) {
      msg.since = this.status.seq;
      msg.epoch = this.status.epoch;
    }
    this.status.subscriptions++;
    this.send(msg);
  }

  // replay leaves the live push for a replay of [from, to] at speed.
  replay(from, to, speed) {
    this.replayReq = { from, to, speed };
    this.replayTime = from;
    this.sendReplay(from);
  }

  sendReplay(from) {
    const r = this.replayReq;
    const msg = { type: "replay", from: new Date(from).toISOString(), to: new Date(r.to).toISOString(), speed: r.speed,
      layers: this.sub?.layers, id: "r" + ++this.reqCounter };
    if (this.sub?.bbox) msg.bbox = this.sub.bbox;
    this.send(msg);
  }

  control(action, extra = {}) { if (this.replayReq) this.send({ type: "replay_control", action, ...extra }); }

  backToLive() {
    this.replayReq = null;
    this.replayTime = null;
    this.status.replay = null;
    this.resumeKey = null; // the replay replaced what was held: take a fresh snapshot
    if (this.sub) this.sendSubscribe(false);
    this.emit("status");
  }

  handle(msg) {
    switch (msg.type) {
      case "snapshot": this.applySnapshot(msg); break;
      case "diff": this.applyDiff(msg); break;
      case "replay_end": this.status.replay = { time: msg.time, ended: true }; this.emit("status"); break;
      case "error": console.warn("server refused a request:", msg.code, msg.message); break;
      default: break; // pong and future frame types
    }
  }

  isStale(msg) { return !!msg.replay !== !!this.replayReq; } // a frame of the mode just left

  applySnapshot(msg) {
    if (this.isStale(msg)) return;
    for (const m of this.store.values()) m.clear();
    for (const f of msg.features || []) this.put(f);
    this.status.snapshots++;
    this.afterFrame(msg);
    this.emit("reset");
  }

  applyDiff(msg) {
    if (this.isStale(msg)) return;
    for (const f of msg.upserts || []) {
      const old = this.layerMap(f.layer).get(f.id);
      const cur = this.put(f);
      this.emit("change", cur, old);
    }
    for (const d of msg.deletes || []) {
      if (this.store.get(d.layer)?.delete(d.id)) this.emit("remove", d.layer, d.id);
    }
    this.afterFrame(msg);
  }

  afterFrame(msg) {
    if (msg.replay) {
      this.replayTime = msg.time;
      this.status.replay = { time: msg.time, ended: false };
    } else {
      this.status.epoch = msg.epoch;
      this.status.seq = msg.seq;
      this.resumeKey = this.subKey;
    }
    this.setConnected(true);
    for (const [layer, m] of this.store) this.status.counts[layer] = m.size;
    this.emit("frame", msg);
  }

  setConnected(on) {
    if (this.status.connected === on) return;
    this.status.connected = on;
    this.emit("status");
  }

  layerMap(layer) {
    let m = this.store.get(layer);
    if (!m) { m = new Map(); this.store.set(layer, m); }
    return m;
  }

  // put keeps the feature in the shape MapLibre draws: flat properties plus
  // the feature members the styles need (id, layer, staleness, cluster).
  put(f) {
    const p = f.properties || {};
    const props = Object.assign({}, p, { _id: f.id, _layer: f.layer, _stale: f.stale === true, _cluster: p.cluster === true });
    if (f.time) props._time = f.time;
    const d = { type: "Feature", geometry: f.geometry, properties: props };
    this.layerMap(f.layer).set(f.id, d);
    return d;
  }
}
