// The index page (www/index.html) links the five pages, and each opens from it (the admin page
// shows its login form on a static server).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { closeAll, launch, openPage, serve } from './browser.js';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launch(), serve()]);
});
after(() => closeAll(browser, server));

test('the index links POS, simulator, widget, member lookup and admin; each page loads from it', async () => {
  const { page, problems } = await openPage(browser, server.url);
  const links = await page.locator('ul.pages a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(links, ['./pos/', './simulator/', './widget/', './member/', './admin/']);
  for (const id of ['pos', 'simulator', 'widget', 'member', 'admin']) {
    await page.click(`#link-${id}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
    assert.equal(new URL(page.url()).pathname, `/${id}/`);
    await page.click('a[href="../"]');
    await page.waitForSelector('ul.pages');
  }
  assert.deepEqual(problems, []);
});
