// Every conformance vector (tests/vectors/) through the full module in Chromium, every validate
// and quote vector through the core module and every validate and progress vector through the
// progress module (what the storefront widget loads): the same line as the CLI and Node, byte for
// byte (SPEC §6; SPEC §3.1's policy versions and booked sales included).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT } from '../support/paths.js';
import { findJson, loadVector } from '../support/vectors.js';
import { launch, openPage, serve } from './browser.js';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launch(), serve()]);
});
after(async () => {
  await browser?.close();
  server?.server.close();
});

const vectors = findJson(path.join(ROOT, 'tests', 'vectors'))
  .filter((f) => !f.includes(`${path.sep}tools${path.sep}`))
  .map((f) => ({ name: path.relative(ROOT, f), ...loadVector(f) }));

test(`all ${vectors.length} vectors in Chromium: the full module answers the expected line`, async () => {
  assert.ok(vectors.length >= 200, `only ${vectors.length} vectors`);
  const { page, problems } = await openPage(browser, `${server.url}__tests__/browser/pages/vectors.html`);
  await page.waitForSelector('body[data-done="1"]', { timeout: 30_000 });
  const lines = vectors.map((v) => JSON.stringify(v.request));
  const got = await page.evaluate((ls) => window.__evalAll(ls, 'full'), lines);
  vectors.forEach((v, i) => assert.equal(got[i], JSON.stringify(v.expected), `${v.name}: ${v.description}`));
  assert.ok(vectors.some((v) => v.request.policies), 'the policy-version vectors (SPEC §3.1) are among them');
  assert.deepEqual(problems, []);
});

test('validate and quote vectors in Chromium: the core module answers the same lines', async () => {
  const some = vectors.filter((v) => ['validate', 'quote'].includes(v.request.op));
  assert.ok(some.length >= 50, `only ${some.length}`);
  const { page, problems } = await openPage(browser, `${server.url}__tests__/browser/pages/vectors.html`);
  await page.waitForSelector('body[data-done="1"]', { timeout: 30_000 });
  const got = await page.evaluate((ls) => window.__evalAll(ls, 'core'), some.map((v) => JSON.stringify(v.request)));
  some.forEach((v, i) => assert.equal(got[i], JSON.stringify(v.expected), `${v.name}: ${v.description}`));
  assert.deepEqual(problems, []);
});

test('validate and progress vectors in Chromium: the progress module answers the same lines, by evalLine and by Engine.progress', async () => {
  const some = vectors.filter((v) => ['validate', 'progress'].includes(v.request.op));
  const progress = some.filter((v) => v.request.op === 'progress');
  assert.ok(progress.length >= 16, `only ${progress.length} progress vectors`);
  const { page, problems } = await openPage(browser, `${server.url}__tests__/browser/pages/vectors.html`);
  await page.waitForSelector('body[data-done="1"]', { timeout: 30_000 });
  const got = await page.evaluate((ls) => window.__evalAll(ls, 'progress'), some.map((v) => JSON.stringify(v.request)));
  some.forEach((v, i) => assert.equal(got[i], JSON.stringify(v.expected), `${v.name}: ${v.description}`));
  // The widget's call: new Engine(policy).progress(request), for every vector with one policy.
  const single = progress.filter((v) => v.request.policy !== null && typeof v.request.policy === 'object');
  assert.ok(single.length >= 15, `only ${single.length}`);
  const objects = await page.evaluate((rs) => window.__objectAll(rs, 'progress'), single.map((v) => v.request));
  single.forEach((v, i) => assert.equal(objects[i], JSON.stringify(v.expected), `${v.name}: ${v.description}`));
  assert.deepEqual(problems, []);
});
