// The map's login (main.js ensureLogin) against a secured iocd (no --demo):
// the page shows the login form on 401, refuses a wrong password, and after
// a good login the map connects; no demo banner. Run with the other
// browser tests (deploy/test.sh).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missing, freePort, buildIocd, launch, sleep, waitFor } from "./harness.js";

const why = missing();
if (why && process.env.IOC_REQUIRE_INTEGRATION === "1") throw new Error(`browser tests required but cannot run: ${why}`);
const skip = why ? `browser tests skipped: ${why}` : false;
const PASSWORD = "correct horse battery staple";

let build, proc, browser, dataDir, url;
const log = [];

before(async () => {
  if (skip) return;
  build = buildIocd();
  dataDir = mkdtempSync(join(tmpdir(), "ioc-login-"));
  execFileSync(build.bin, ["users", "add", "--name", "op", "--role", "operator", "--data-dir", dataDir], { input: PASSWORD + "\n" });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  proc = spawn(build.bin, ["--addr", `127.0.0.1:${port}`, "--data-dir", dataDir, "--log-level", "error"], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stderr.on("data", (d) => log.push(String(d)));
  const deadline = Date.now() + 60000;
  while (!(await fetch(url + "/readyz").then((r) => r.ok).catch(() => false))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`secured iocd not ready:\n${log.join("")}`);
    await sleep(100);
  }
  browser = await launch();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  if (proc && proc.exitCode === null) {
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await gone;
  }
  rmSync(dataDir, { recursive: true, force: true });
  build?.cleanup();
});

test("a secured server: login form, wrong password refused, then the live map", { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  assert.equal((await fetch(url + "/api/v1/layers")).status, 401, "the API needs credentials");
  await page.goto(url + "/");
  await page.waitForSelector("#login", { timeout: 15000 });
  await page.fill("#login input[name=user]", "op");
  await page.fill("#login input[name=password]", "wrong password!!");
  await page.click("#login button[type=submit]");
  await waitFor(page, () => document.querySelector("#login .err")?.textContent.length > 0);
  assert.ok(await page.$("#login"), "the form stays after a wrong password");
  await page.fill("#login input[name=password]", PASSWORD);
  await page.click("#login button[type=submit]");
  await waitFor(page, () => window.iocStatus && window.iocStatus.connected, undefined, { timeout: 30000 });
  assert.equal(await page.$("#login"), null, "the form is gone after login");
  assert.equal(await page.$("#demo-banner"), null, "no demo banner on a secured server");
  assert.deepEqual(errors, []);
  await page.close();
});
