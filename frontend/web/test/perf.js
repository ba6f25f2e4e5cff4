// Browser performance of the map, for docs/PERFORMANCE.md (not run in CI).
//   node test/perf.js render            time from page load to first full city render (3 loads)
//   node test/perf.js frames [N] [R]    frame times with N live lamps on screen, R of them changing per second
//   node test/perf.js soak [minutes]    JS heap of wall mode during the simulator's storm
// Renderer: Debian chromium headless with SwiftShader (software WebGL), as CI has.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missing, freePort, buildIocd, Iocd, launch, sleep, waitFor } from "./harness.js";

const [what = "render", a1, a2] = process.argv.slice(2);
if (missing()) { console.error(missing()); process.exit(1); }

async function withServer(args, fn) {
  const build = buildIocd();
  const dir = mkdtempSync(join(tmpdir(), "ioc-perf-"));
  const iocd = new Iocd(build.bin, await freePort(), dir, args);
  await iocd.start();
  const browser = await launch();
  try { return await fn(iocd, browser); } finally {
    await browser.close(); await iocd.stop(); build.cleanup(); rmSync(dir, { recursive: true, force: true });
  }
}

async function render() {
  await withServer([], async (iocd, browser) => {
    await sleep(5000); // let the simulator fill every layer
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
      await page.goto(`${iocd.url}/?mode=wall`);
      await waitFor(page, () => window.iocStatus.firstRender > 0, null, { timeout: 120000 });
      const s = await page.evaluate(() => window.iocStatus);
      const n = Object.values(s.counts).reduce((x, y) => x + y, 0);
      console.log(`load ${i + 1}: first full city render ${s.firstRender} ms after navigation, ${n} features held`);
      await page.close();
    }
  });
}

// lamps places n lamps on a grid filling the view around Hải Châu.
function lamp(i, n, state) {
  const side = Math.ceil(Math.sqrt(n));
  const lon = 108.12 + (0.2 * (i % side)) / side, lat = 15.98 + (0.14 * Math.floor(i / side)) / side;
  return { layer: "lighting.lamps", id: "perf-" + i, geometry: { type: "Point", coordinates: [+lon.toFixed(6), +lat.toFixed(6)] }, properties: { state } };
}

async function frames(n = 100000, rate = 5000) {
  await withServer(["--sim=false", "--cluster-zoom", "lighting.lamps=0", "--max-batch", "200000"], async (iocd, browser) => {
    for (let i = 0; i < n; i += 10000) {
      await iocd.post(Array.from({ length: Math.min(10000, n - i) }, (_, k) => lamp(i + k, n, "on")));
    }
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${iocd.url}/?mode=wall&c=108.22,16.05&z=11.2`);
    await waitFor(page, (n) => (window.iocStatus.counts["lighting.lamps"] || 0) >= n, n, { timeout: 300000 });
    await sleep(3000);
    const measure = (s) => page.evaluate((s) => new Promise((resolve) => {
      const d = []; let last = performance.now(); const end = last + s * 1000;
      const tick = (now) => { d.push(now - last); last = now; if (now < end) requestAnimationFrame(tick); else resolve(d); };
      requestAnimationFrame(tick);
    }), s);
    const report = (label, ft, seconds) => {
      ft.sort((x, y) => x - y);
      const q = (p) => ft[Math.min(ft.length - 1, Math.floor(p * ft.length))].toFixed(1);
      console.log(`${label}: ${ft.length} frames in ${seconds} s (${(ft.length / seconds).toFixed(1)} fps), frame time p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${ft[ft.length - 1].toFixed(0)} ms`);
    };
    report(`${n} lamps on screen, no changes`, await measure(10), 10);
    let stop = false, sent = 0, k = 0;
    const changer = (async () => { // rate changes per second, in 10 batches a second
      while (!stop) {
        const t0 = Date.now(), batch = [];
        for (let j = 0; j < rate / 10; j++, k++) batch.push(lamp((k * 7919) % n, n, k % 3 === 0 ? "fault" : k % 3 === 1 ? "off" : "on"));
        await iocd.post(batch); sent += batch.length;
        await sleep(Math.max(0, 100 - (Date.now() - t0)));
      }
    })();
    const seconds = 20;
    const t0 = Date.now();
    const ft = await page.evaluate((s) => new Promise((resolve) => {
      const d = []; let last = performance.now(); const end = last + s * 1000;
      const tick = (now) => { d.push(now - last); last = now; if (now < end) requestAnimationFrame(tick); else resolve(d); };
      requestAnimationFrame(tick);
    }), seconds);
    stop = true; await changer;
    await sleep(1000);
    // The changes must be drawn, not only received: lamps set to fault in
    // the map's source (querySourceFeatures counts a feature once per tile).
    const faults = await page.evaluate(() => window.iocMap.querySourceFeatures("lighting.lamps", { filter: ["==", ["get", "state"], "fault"] }).length);
    console.log(`lamps drawn as fault after the changes: ${faults} (0 before)`);
    const secs = (Date.now() - t0) / 1000;
    ft.sort((x, y) => x - y);
    const q = (p) => ft[Math.min(ft.length - 1, Math.floor(p * ft.length))].toFixed(1);
    const held = await page.evaluate(() => window.iocStatus.counts["lighting.lamps"]);
    console.log(`${held} lamps on screen, ${Math.round(sent / secs)} changes/s posted over ${secs.toFixed(0)} s: ` +
      `${ft.length} frames (${(ft.length / seconds).toFixed(1)} fps), frame time p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${ft[ft.length - 1].toFixed(0)} ms`);
  });
}

async function soak(minutes = 10) {
  await withServer(["--storm", `${minutes}m`], async (iocd, browser) => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${iocd.url}/?mode=wall`);
    await waitFor(page, () => window.iocStatus.firstRender > 0, null, { timeout: 120000 });
    const cdp = await page.context().newCDPSession(page);
    const start = Date.now();
    while (Date.now() - start < minutes * 60000) {
      await cdp.send("HeapProfiler.collectGarbage");
      const { usedSize } = await cdp.send("Runtime.getHeapUsage");
      const s = await page.evaluate(() => ({ seq: window.iocStatus.seq, n: Object.values(window.iocStatus.counts).reduce((a, b) => a + b, 0),
        dom: document.getElementsByTagName("*").length }));
      console.log(`t=${((Date.now() - start) / 60000).toFixed(1)} min heap ${(usedSize / 1048576).toFixed(1)} MiB seq ${s.seq} features ${s.n} dom nodes ${s.dom}`);
      await sleep(30000);
    }
  });
}

const runs = { render, frames: () => frames(Number(a1) || undefined, Number(a2) || undefined), soak: () => soak(Number(a1) || undefined) };
if (!runs[what]) { console.error(`unknown run ${what}: render, frames or soak`); process.exit(2); }
await runs[what]();
