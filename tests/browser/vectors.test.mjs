// Every conformance vector (tests/vectors/) through the full module in Chromium, and every
// validate and quote vector through the core module: the same line as the CLI and Node, byte for
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
