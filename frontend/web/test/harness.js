// Shared by the browser tests and the performance script: build and run a
// real iocd, and drive Debian's chromium headless with software WebGL.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const CHROMIUM = process.env.IOC_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
  "--disable-background-networking"];

// missing says why the browser tests cannot run here, or "" when they can.
export function missing() {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(join(REPO, "frontend/web/node_modules/playwright-core"))) return "no frontend/web/node_modules (npm ci in frontend/web)";
  return "";
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// buildIocd builds iocd from this checkout (IOC_IOCD_BIN names a prebuilt
// binary instead, for quick runs while editing the app with --web-dir).
export function buildIocd() {
  const dir = mkdtempSync(join(tmpdir(), "ioc-web-"));
  if (process.env.IOC_IOCD_BIN) return { dir, bin: process.env.IOC_IOCD_BIN, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  const bin = join(dir, "iocd");
  execFileSync("go", ["build", "-o", bin, "./cmd/iocd"], { cwd: REPO, stdio: "inherit" });
  return { dir, bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// Iocd is one iocd process on a fixed port and data directory, so that a
// test can stop it and start it again where it was.
export class Iocd {
  constructor(bin, port, dataDir, extraArgs = []) {
    Object.assign(this, { bin, port, dataDir, extraArgs, proc: null, log: [] });
    this.url = `http://127.0.0.1:${port}`;
  }

  async start() {
    // --demo: the open mode without login (the tests post events and read
    // the API without credentials); the map's login flow is not tested here.
    const args = ["--addr", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, "--log-level", "error", "--demo", ...this.extraArgs];
    this.proc = spawn(this.bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d) => { this.log.push(String(d)); if (this.log.length > 200) this.log.shift(); };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    const exited = new Promise((resolve) => this.proc.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const code = await Promise.race([exited, sleep(100).then(() => undefined)]);
      if (code !== undefined) throw new Error(`iocd exited with ${code} before it was ready:\n${this.log.join("")}`);
      const ok = await fetch(this.url + "/readyz").then((r) => r.ok).catch(() => false);
      if (ok) return;
    }
    throw new Error(`iocd not ready on ${this.url} after 60s:\n${this.log.join("")}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const p = this.proc;
    const gone = new Promise((resolve) => p.once("exit", resolve));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 20000);
    await gone;
    clearTimeout(t);
  }

  async post(events) {
    const r = await fetch(this.url + "/api/v1/events", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(events) });
    const body = await r.json();
    if (r.status !== 202) throw new Error(`ingest answered ${r.status}: ${JSON.stringify(body)}`);
    return body;
  }
}

export async function launch() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// waitFor polls fn(arg) in the page until it is truthy. Unlike Playwright's
// waitForFunction it needs no eval in the page, so the page's strict CSP
// (script-src 'self') stays in force during the tests.
export async function waitFor(page, fn, arg, { timeout = 30000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`waitFor: timeout ${timeout} ms exceeded: ${fn.toString().slice(0, 160)}`);
    await sleep(interval);
  }
}
