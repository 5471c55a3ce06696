#!/usr/bin/env node
// Startup benchmark of the POS page (not a test): time from navigation to the first quote on
// screen, in Chromium (Debian's, headless), served from localhost by scripts/serve.mjs.
//
//   node tests/browser/bench-startup.mjs [runs]      (default 9 runs per case)
//
// Cases:
//   cold     a fresh browser context each run: no HTTP cache, no service worker
//   reload   the same context reloaded: the service worker is active (network first, so files
//            still come from the server; the compiled Wasm may come from V8's code cache)
//   offline  the same context, network off and server down: everything from the service worker
//   bare     the core entry alone on an empty page (no POS): the glue's import, init(), and
//            compile + instantiate from bytes in memory — the Wasm share without the page's work
// For each run the page's own marks (performance.now() since navigation start): `engine-ready`
// (the .wasm fetched and instantiated, `await init()` done) and `first-quote` (the first quote
// rendered). Medians (and min–max) are printed, plus a JSON line for docs/pages.md.
// The Wasm breakdown (issue 17): `engine-init` → `engine-ready` is the package's `init()` (the
// .wasm fetched, compiled while it streams in, instantiated); `.wasm fetch` is its resource
// timing; `compile` is `WebAssembly.compile` of the same bytes timed in the page afterwards (what
// the streaming compile does, without the network); `first quote` is `engine-ready` →
// `first-quote` (the policy validated, the quote computed and rendered).
import os from 'node:os';

import { launch, serve } from './browser.js';

const RUNS = Number(process.argv[2] ?? 9);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function marks(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  return page.evaluate(() => {
    const t = (name) => performance.getEntriesByName(name)[0]?.startTime;
    const nav = performance.getEntriesByType('navigation')[0];
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
    return {
      engineReady: t('engine-ready'),
      firstQuote: t('first-quote'),
      init: t('engine-ready') - t('engine-init'),
      domContentLoaded: nav?.domContentLoadedEventEnd,
      wasmFetch: wasm ? wasm.responseEnd - wasm.startTime : null,
      wasmUrl: wasm?.name ?? null,
    };
  }).then(async (m) => {
    // Compile alone: the same bytes, compiled once more in the page.
    m.compile = m.wasmUrl
      ? await page.evaluate(async (url) => {
          const bytes = await (await fetch(url)).arrayBuffer();
          const t0 = performance.now();
          await WebAssembly.compile(bytes);
          return performance.now() - t0;
        }, m.wasmUrl)
      : null;
    return m;
  });
}

const browser = await launch();
let server = await serve();
const results = { cold: [], reload: [], offline: [], bare: [] };
try {
  // A warm-up run (first launch of the page: disk caches, lazy compilation of the server).
  {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${server.url}pos/`);
    await marks(p);
    await ctx.close();
  }
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${server.url}pos/`);
    results.cold.push(await marks(page));
    await page.waitForSelector('body[data-offline-ready="1"]', { timeout: 30_000 });
    await page.reload();
    results.reload.push(await marks(page));
    await ctx.close();
  }
  // Offline: one context with the service worker installed, then the server goes away.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${server.url}pos/`);
  await page.waitForSelector('body[data-offline-ready="1"]', { timeout: 30_000 });
  await ctx.setOffline(true);
  await new Promise((resolve) => {
    server.server.close(resolve);
    server.server.closeAllConnections();
  });
  server = null;
  for (let i = 0; i < RUNS; i++) {
    await page.reload();
    results.offline.push(await marks(page));
  }
  await ctx.close();
  // Bare (issue 17's "Wasm share"): the core entry alone on a page that does nothing else —
  // the glue's import, `init()` (fetch + streaming compile + instantiate), and a second
  // instance of the glue given the bytes already in memory (compile + instantiate, no network).
  // The first run has a cold HTTP cache, the others a warm one (one context).
  server = await serve();
  const bare = await browser.newContext();
  for (let i = 0; i <= RUNS; i++) {
    const page = await bare.newPage();
    await page.goto(`${server.url}pkg/package.json`);
    results.bare.push(
      await page.evaluate(async (n) => {
        const t0 = performance.now();
        const entry = await import('/pkg/core/web.js');
        const t1 = performance.now();
        await entry.default();
        const t2 = performance.now();
        const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
        const bytes = await (await fetch('/pkg/wasm/loyalty_engine_core_bg.wasm')).arrayBuffer();
        const glue = await import(`/pkg/wasm/loyalty_engine_core.js?instance=${n}`);
        const t3 = performance.now();
        await glue.default({ module_or_path: bytes });
        const t4 = performance.now();
        return { importJs: t1 - t0, init: t2 - t1, wasmFetch: wasm ? wasm.responseEnd - wasm.startTime : null, fromBytes: t4 - t3 };
      }, i),
    );
    await page.close();
  }
  await bare.close();
} finally {
  await browser.close();
  server?.server.close();
}
const bareRuns = results.bare;
delete results.bare;

const summary = {};
console.log(`POS startup, ${RUNS} runs per case (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${process.platform}):`);
console.log('case      first quote ms (median, min–max)   engine ready ms   .wasm fetch ms   init() ms   compile ms   first quote after ready ms');
for (const [name, runs] of Object.entries(results)) {
  const fq = runs.map((r) => r.firstQuote);
  const er = runs.map((r) => r.engineReady);
  const wf = runs.map((r) => r.wasmFetch).filter((x) => x !== null);
  summary[name] = {
    first_quote_ms: Math.round(median(fq)),
    min: Math.round(Math.min(...fq)),
    max: Math.round(Math.max(...fq)),
    engine_ready_ms: Math.round(median(er)),
    wasm_fetch_ms: wf.length ? Math.round(median(wf)) : null,
    init_ms: +median(runs.map((r) => r.init)).toFixed(1),
    compile_ms: runs.some((r) => r.compile !== null) ? +median(runs.map((r) => r.compile ?? 0)).toFixed(1) : null,
    quote_after_ready_ms: +median(runs.map((r) => r.firstQuote - r.engineReady)).toFixed(1),
  };
  const s = summary[name];
  console.log(
    `${name.padEnd(9)} ${String(s.first_quote_ms).padStart(6)} (${s.min}–${s.max})`.padEnd(44) +
      `${String(s.engine_ready_ms).padStart(6)}            ${String(s.wasm_fetch_ms ?? '—').padStart(4)}` +
      `${String(s.init_ms).padStart(15)}${String(s.compile_ms ?? '—').padStart(13)}${String(s.quote_after_ready_ms).padStart(16)}`,
  );
}
const warm = bareRuns.slice(1);
const med1 = (f) => +median(warm.map(f)).toFixed(1);
summary.bare = {
  cold: Object.fromEntries(Object.entries(bareRuns[0]).map(([k, v]) => [k, v === null ? null : +v.toFixed(1)])),
  warm: { importJs: med1((r) => r.importJs), init: med1((r) => r.init), wasmFetch: med1((r) => r.wasmFetch ?? 0), fromBytes: med1((r) => r.fromBytes) },
};
console.log(
  `bare core entry (ms; cold cache / warm-cache median of ${warm.length}): glue import ${summary.bare.cold.importJs} / ${summary.bare.warm.importJs}, ` +
    `init() ${summary.bare.cold.init} / ${summary.bare.warm.init} (of which .wasm fetch ${summary.bare.cold.wasmFetch} / ${summary.bare.warm.wasmFetch}), ` +
    `compile + instantiate from bytes in memory ${summary.bare.cold.fromBytes} / ${summary.bare.warm.fromBytes}`,
);
console.log(JSON.stringify({ runs: RUNS, ...summary }));
