// The policy simulator (www/simulator/) in Chromium, driven like a person: the form and the JSON
// editor stay in step, the engine's validation errors appear at their paths, a run in the Web
// Worker shows exactly what the package's `simulate` answers in Node for the same request, a
// run can be cancelled, an NDJSON file can be loaded, and the CSV export holds the same figures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { parseNdjson } from '../../www/shared/sample.js';
import { PRESETS } from '../../www/simulator/presets.js';
import { esm } from '../support/package.js';
import { ROOT } from '../support/paths.js';
import { closeAll, completionsOnNewLine, openReadyPage } from './browser.js';

let browser;
let server;
let page;
let problems;

before(async () => {
  ({ browser, server, page, problems } = await openReadyPage('simulator/'));
});
after(async () => {
  await closeAll(browser, server);
});

const preset = PRESETS['vn-fashion'];
let draft = structuredClone(preset.draft);

/** The package's answer in Node for the request the page ran. */
function simulateInNode(policy, ndjson, { baseline = preset.baseline, asOf = preset.as_of, expected = '0.7' } = {}) {
  return esm.simulate({ policy, baseline, members: parseNdjson(ndjson), as_of: asOf, expected_redemption: expected });
}

/** Replaces a JSON editor's text (CodeMirror, www/simulator/editor.js) as typing would. */
async function fillEditor(textarea, text) {
  await page.locator(`${textarea}-editor .cm-content`).fill(text);
}

/** The summary table as shown: key → { draft, baseline, change } (each cell's data-value). */
async function table() {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('#summary tbody tr')].map((tr) => [
        tr.dataset.key,
        Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => [td.dataset.col, td.dataset.value])),
      ]),
    ),
  );
}

/** The page shows `r` (Node's answer): the table's figures, the charts' data, the report itself. */
async function assertShows(r) {
  assert.deepEqual(await page.evaluate(() => window.__sim.result), r, 'the worker got the same report as Node');
  const t = await table();
  const b = r.diff.baseline;
  const s = (v) => (v === null ? '' : String(v));
  assert.deepEqual(t.members, { draft: s(r.members), baseline: s(b.members), change: s(r.members - b.members) });
  for (const f of ['issued', 'redeemed', 'expired', 'outstanding']) {
    assert.deepEqual(t[`points.${f}`], { draft: s(r.points[f]), baseline: s(b.points[f]), change: s(r.points[f] - b.points[f]) }, f);
  }
  assert.equal(t.liability.draft, s(r.liability));
  assert.equal(t.liability.baseline, s(b.liability));
  assert.equal(t.tier_discounts.draft, r.tier_discounts);
  for (const { tier, members } of r.tiers) assert.equal(t[`tiers.${tier}`].draft, s(members), tier);
  for (const { tier, members } of b.tiers) assert.equal(t[`tiers.${tier}`].baseline, s(members), tier);
  assert.equal(t['members_moved.up'].draft, s(r.diff.members_moved.up));
  assert.equal(t['members_moved.down'].draft, s(r.diff.members_moved.down));
  assert.equal(t.rejected.draft, s(r.rejected.length));
  // The charts plot the same figures.
  const charts = await page.evaluate(() => {
    const c = window.__sim.charts;
    const ds = (chart) => Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data]));
    return { tierLabels: c.tiers.data.labels, tiers: ds(c.tiers), months: c.monthly.data.labels, monthly: ds(c.monthly) };
  });
  assert.deepEqual(charts.tierLabels, r.tiers.map((x) => x.tier));
  assert.deepEqual(charts.tiers, { Baseline: b.tiers.map((x) => x.members), Draft: r.tiers.map((x) => x.members) });
  assert.deepEqual(charts.months, r.by_month.map((m) => m.month));
  for (const f of ['issued', 'redeemed', 'expired']) {
    assert.deepEqual(charts.monthly[`Draft ${f}`], r.by_month.map((m) => m[f]), `chart: draft ${f}`);
  }
}

async function runAndWait() {
  const runs = Number((await page.getAttribute('body', 'data-runs')) ?? 0);
  await page.click('#run');
  await page.waitForSelector(`body[data-runs="${runs + 1}"][data-state="done"]`, { timeout: 60_000 });
}

test('the presets are docs/examples/*.json', () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    for (const which of ['baseline', 'draft']) {
      const file = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'examples', `${name}-${which}.json`), 'utf8'));
      assert.deepEqual(p[which], file, `${name}-${which}`);
    }
  }
});

test('generate 300 members, run in the worker: the figures are the package\'s', async () => {
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), draft);
  assert.equal(await page.getAttribute('#draft-digest', 'data-value'), esm.validate(draft).policy_digest);
  await page.fill('#gen-members', '300');
  await page.fill('#gen-seed', '11');
  await runAndWait();
  const ndjson = esm.generate({ members: 300, seed: 11, months: 18, profile: 'vn-fashion', as_of: preset.as_of });
  await assertShows(simulateInNode(draft, ndjson));
  assert.match(await page.textContent('#run-status'), /Done: 300 members/);
  assert.equal(await page.getAttribute('#progress', 'value'), '300');
  // Tier rows read by the levels' names, the liability axis names the currency (issue 14).
  for (const level of draft.tiers.levels) {
    assert.equal(await page.textContent(`#summary tr[data-key="tiers.${level.id}"] td`), `Members in ${level.name}`);
  }
  assert.equal(await page.evaluate(() => window.__sim.charts.liability.options.scales.money.title.text), `liability (${draft.currency})`);
});

/** What the charts say about the last month: axis label, tooltip, marks, subtitle, the note. */
async function partialMarks() {
  return page.evaluate(() => {
    const out = {};
    for (const name of ['monthly', 'liability']) {
      const c = window.__sim.charts[name];
      const last = c.data.labels.length - 1;
      const x = c.scales.x;
      // The axis writes the partial month on two lines.
      const labelOf = (i) => [c.options.scales.x.ticks.callback.call(x, i, i, [])].flat().join(' ');
      c.tooltip.setActiveElements([{ datasetIndex: 0, index: last }], { x: 0, y: 0 });
      c.update();
      const line = c.data.datasets[0];
      out[name] = {
        month: c.canvas.dataset.partialMonth,
        labels: c.data.labels.map((m, i) => labelOf(i)),
        tooltip: c.tooltip.title,
        subtitle: c.options.plugins.subtitle.display ? c.options.plugins.subtitle.text : null,
        lastStyle: line.pointStyle[last],
        otherStyle: line.pointStyle[0],
        lastDash: line.segment.borderDash({ p0DataIndex: last - 1, p1DataIndex: last }),
        otherDash: line.segment.borderDash({ p0DataIndex: 0, p1DataIndex: 1 }) ?? null,
        lastValues: Object.fromEntries(c.data.datasets.map((d) => [d.label, d.data[last]])),
      };
      c.tooltip.setActiveElements([], { x: 0, y: 0 });
      c.update();
    }
    const note = document.querySelector('#partial-note');
    out.note = { hidden: note.hidden, month: note.dataset.month, text: note.textContent };
    return out;
  });
}

test('the last, partial month: labelled and drawn as partial, its figures the engine\'s', async () => {
  // As of 1 October 00:00 (Ho Chi Minh City): by_month ends with October, which holds only that instant.
  const r = await page.evaluate(() => window.__sim.result);
  const last = r.by_month.at(-1);
  assert.equal(last.month, '2026-10');
  assert.equal(r.by_month.at(-2).month, '2026-09');
  const m = await partialMarks();
  for (const name of ['monthly', 'liability']) {
    assert.equal(m[name].month, '2026-10', name);
    assert.equal(m[name].labels.at(-1), '10/2026 (01/10 00:00 only)', name);
    assert.equal(m[name].labels.at(-2), '09/2026', name);
    assert.equal(m[name].labels.filter((l) => / \(/.test(l)).length, 1, `${name}: one partial month`);
    assert.deepEqual(m[name].tooltip, ['10/2026 (01/10 00:00 only)', 'Partial month: only the as-of instant, 01/10/2026 00:00 (Asia/Ho_Chi_Minh)'], name);
    assert.equal(m[name].subtitle, 'Last month is partial: up to 01/10/2026 00:00', name);
    assert.equal(m[name].lastStyle, 'rectRot', `${name}: the last point drawn open`);
    assert.equal(m[name].otherStyle, 'circle');
    assert.deepEqual(m[name].lastDash, [2, 3], `${name}: dashed segment to the last month`);
    assert.equal(m[name].otherDash, null);
  }
  // The partial month's values are the engine's, not dropped or changed.
  assert.deepEqual(
    [m.monthly.lastValues['Draft issued'], m.monthly.lastValues['Draft redeemed'], m.monthly.lastValues['Draft expired']],
    [last.issued, last.redeemed, last.expired],
  );
  const b = r.diff.baseline.by_month.at(-1);
  assert.deepEqual(
    [m.monthly.lastValues['Baseline issued'], m.monthly.lastValues['Baseline redeemed'], m.monthly.lastValues['Baseline expired']],
    [b.issued, b.redeemed, b.expired],
  );
  assert.equal(m.note.hidden, false);
  assert.equal(m.note.month, '2026-10');
  assert.match(m.note.text, /^The last month, 10\/2026 \(01\/10 00:00 only\), is partial: it holds only the as-of instant, 01\/10\/2026 00:00 \(Asia\/Ho_Chi_Minh\)/);

  // As of 8 March 2026 00:00: March is covered 1–7; the figures again the engine's.
  const asOf = '2026-03-08T00:00:00+07:00';
  await page.fill('#as-of', asOf);
  await page.fill('#gen-members', '120');
  await runAndWait();
  const ndjson = esm.generate({ members: 120, seed: 11, months: 18, profile: 'vn-fashion', as_of: asOf });
  const r2 = simulateInNode(draft, ndjson, { asOf });
  await assertShows(r2);
  assert.equal(r2.by_month.at(-1).month, '2026-03');
  const m2 = await partialMarks();
  assert.equal(m2.monthly.labels.at(-1), '03/2026 (1–7)');
  assert.deepEqual(m2.monthly.tooltip, ['03/2026 (1–7)', 'Partial month: 01/03/2026 00:00 to 08/03/2026 00:00 (Asia/Ho_Chi_Minh)']);
  assert.deepEqual(m2.liability.lastValues['Draft: net points issued, cumulative'] !== undefined, true);
  assert.equal(m2.monthly.lastValues['Draft issued'], r2.by_month.at(-1).issued);
  assert.ok(r2.by_month.at(-1).issued > 0, 'a week of March issues points');
  assert.equal(m2.note.text, "The last month, 03/2026 (1–7), is partial: it covers 01/03/2026 00:00 to the as-of, 08/03/2026 00:00 (Asia/Ho_Chi_Minh). Its figures are the engine's for part of a month, not a drop.");
  // In Vietnamese: "đến 7/3".
  await page.selectOption('#lang', 'vi');
  const vi = await partialMarks();
  assert.equal(vi.monthly.labels.at(-1), '03/2026 (đến 7/3)');
  assert.equal(vi.monthly.subtitle, 'Tháng cuối chưa trọn: đến 08/03/2026 00:00');
  assert.match(vi.note.text, /^Tháng cuối, 03\/2026 \(đến 7\/3\), chưa trọn/);
  await page.selectOption('#lang', 'en');
  await page.fill('#as-of', preset.as_of);
  await page.fill('#gen-members', '300');
});

test('the form rewrites the JSON; a bad threshold is shown next to its field and in the editor', async () => {
  // Typing a new gold threshold.
  const gold = 'input[data-path="policy.tiers.levels[2].threshold"]';
  await page.fill(gold, '');
  await page.locator(gold).pressSequentially('900', { delay: 15 });
  draft.tiers.levels[2].threshold = '900';
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), draft);
  assert.equal(await page.getAttribute('#draft-digest', 'data-value'), esm.validate(draft).policy_digest);
  // Silver above gold: the engine's error, at its path, next to the field and in the JSON editor.
  const silver = 'input[data-path="policy.tiers.levels[1].threshold"]';
  await page.fill(silver, '1000');
  const bad = structuredClone(draft);
  bad.tiers.levels[1].threshold = '1000';
  let err;
  try {
    esm.validate(bad);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof esm.LoyaltyError, 'the package rejects it too');
  const field = page.locator(`#draft-form input[data-path="${err.path}"]`);
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  const inline = page.locator(`#draft-form .field-error[data-path="${err.path}"]`);
  assert.equal(await inline.count(), 1, 'one error next to the field');
  assert.equal(await inline.getAttribute('data-code'), err.code);
  assert.ok((await inline.textContent()).includes(err.message));
  // In the row right under the field's row.
  assert.ok(await field.evaluate((el, p) => el.closest('tr').nextElementSibling.contains(document.querySelector(`#draft-form .field-error[data-path="${p}"]`)), err.path));
  const inEditor = page.locator(`#draft-errors .field-error[data-path="${err.path}"]`);
  assert.ok((await inEditor.textContent()).includes(err.message));
  const text = await page.inputValue('#draft');
  const level = Number(/^policy\.tiers\.levels\[(\d+)\]\.threshold$/.exec(err.path)?.[1]);
  assert.ok(level >= 1, `the error is at a level's threshold: ${err.path}`);
  const line = text.slice(0, text.indexOf(`"threshold": "${bad.tiers.levels[level].threshold}"`)).split('\n').length;
  assert.equal(await inEditor.getAttribute('data-line'), String(line), 'the editor error names the line');
  assert.equal(await page.getAttribute('#draft', 'aria-invalid'), 'true');
  assert.equal(await page.isDisabled('#run'), true, 'no run with an invalid draft');
  await page.fill(silver, '400');
  assert.equal(await page.locator('.field-error').count(), 0, 'fixed: no error left');
  assert.equal(await page.isDisabled('#run'), false);
  // Expiry kind: the form writes only that kind's fields.
  await page.selectOption('select[data-path="policy.expiry.kind"]', 'end_of_period');
  draft.expiry = { kind: 'end_of_period', period: 'year', after: 1 };
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), draft);
  await page.fill('input[data-path="policy.redemption.max_share"]', '0.4');
  draft.redemption.max_share = '0.4';
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), draft);
  await runAndWait();
  const ndjson = esm.generate({ members: 300, seed: 11, months: 18, profile: 'vn-fashion', as_of: preset.as_of });
  await assertShows(simulateInNode(draft, ndjson));
});

test('the JSON editor: an unknown field is the engine\'s error at its path; the form follows valid JSON', async () => {
  const typo = { ...draft, expiry_days: 30 };
  await fillEditor('#draft', JSON.stringify(typo, null, 2));
  let err;
  try {
    esm.validate(typo);
  } catch (e) {
    err = e;
  }
  const inEditor = page.locator(`#draft-errors .field-error[data-path="${err.path}"]`);
  assert.equal(await inEditor.count(), 1);
  assert.equal(await inEditor.getAttribute('data-code'), err.code);
  assert.ok((await inEditor.textContent()).includes(err.message));
  // Fixed in the editor, with a changed earn rate: the form shows it.
  draft.earning.spend = '50000';
  await fillEditor('#draft', JSON.stringify(draft, null, 2));
  assert.equal(await page.locator('.field-error').count(), 0);
  assert.equal(await page.inputValue('input[data-path="policy.earning.spend"]'), '50000');
});

test('the JSON editor knows the policy\'s JSON Schema: completion, hover docs, inline errors with their line', async (t) => {
  // Whatever happens, the next tests start from the valid draft.
  t.after(() => fillEditor('#draft', JSON.stringify(draft, null, 2)));
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'policy.json'), 'utf8'));
  assert.equal(await page.getAttribute('#draft', 'data-editor'), 'codemirror');
  assert.equal(await page.getAttribute('#draft-editor .cm-content', 'aria-label'), 'Draft policy JSON');
  // Completion: a new key typed after the opening brace offers the schema's property.
  const content = page.locator('#draft-editor .cm-content');
  const offered = await completionsOnNewLine(page, content, '"expiry_n');
  assert.equal(offered.length, 1, offered.join());
  assert.ok(offered[0].startsWith('expiry_notice_days'), offered[0]);
  assert.ok(Object.keys(schema.properties).includes('expiry_notice_days'));
  // Picked with the pointer (Enter races the list's refresh as typing settles).
  await page.locator('.cm-tooltip-autocomplete li').first().click();
  await page.waitForFunction(() => document.querySelector('#draft').value.split('\n')[1].includes('"expiry_notice_days"'));

  // Hover docs: the schema's description of the field under the pointer.
  await fillEditor('#draft', JSON.stringify(draft, null, 2));
  const line = page.locator('#draft-editor .cm-line', { hasText: '"currency"' }).first();
  await line.scrollIntoViewIfNeeded();
  const box = await line.boundingBox();
  await page.mouse.move(box.x + 30, box.y + box.height / 2);
  const hover = page.locator('.cm-tooltip-hover');
  await hover.first().waitFor();
  // (rendered as markdown: the description's `code` loses its backticks)
  assert.ok((await hover.first().textContent()).includes(schema.properties.currency.description.replaceAll('`', '')));
  await page.mouse.move(0, 0);

  // A value outside the schema's enum: marked in the text, and the engine's error in the list.
  await fillEditor('#draft', JSON.stringify({ ...draft, money_rounding: 'sideways' }, null, 2));
  await page.locator('#draft-editor .cm-lintRange-error').first().waitFor();
  assert.equal(await page.locator('#draft-errors .field-error[data-path="policy.money_rounding"]').count(), 1);

  // A JSON syntax error (a comma missing after "currency"): the gutter marks the next line, where
  // the parser stops.
  const text = JSON.stringify(draft, null, 2).replace('"currency": "VND",', '"currency": "VND"');
  await fillEditor('#draft', text);
  const marker = page.locator('#draft-editor .cm-lint-marker-error').first();
  await marker.waitFor();
  await marker.scrollIntoViewIfNeeded();
  const markerTop = (await marker.boundingBox()).y;
  const lineOf = await page
    .locator('#draft-editor .cm-lineNumbers .cm-gutterElement')
    .evaluateAll((els, top) => els.find((e) => e.textContent && Math.abs(e.getBoundingClientRect().top - top) < 6)?.textContent, markerTop);
  assert.equal(Number(lineOf), text.split('\n').findIndex((l) => l.includes('"currency"')) + 2);
  assert.equal(await page.getAttribute('#draft-editor .cm-content', 'aria-invalid'), 'true');

  await fillEditor('#draft', JSON.stringify(draft, null, 2));
  assert.equal(await page.locator('.field-error').count(), 0);
  assert.equal(await page.getAttribute('#draft-editor .cm-content', 'aria-invalid'), null);
});

test('cancel stops a long run; the progress bar moves first', async () => {
  const before = await page.evaluate(() => JSON.stringify(window.__sim.result));
  // Large enough that the run cannot finish between the progress check and the click, however
  // fast the engine and however idle the machine.
  await page.fill('#gen-members', '20000');
  await page.click('#run');
  await page.waitForFunction(() => {
    const p = document.getElementById('progress');
    return p.max === 20000 && Number(p.dataset.done ?? 0) >= 300;
  }, null, { timeout: 30_000 });
  assert.equal(await page.isEnabled('#cancel'), true);
  await page.click('#cancel');
  assert.equal(await page.getAttribute('body', 'data-state'), 'cancelled');
  assert.match(await page.textContent('#run-status'), /Cancelled after [\d,]+ of 20,000 members/);
  assert.equal(await page.evaluate(() => document.getElementById('progress').value), 0);
  assert.equal(await page.isEnabled('#run'), true);
  assert.equal(await page.isDisabled('#cancel'), true);
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => JSON.stringify(window.__sim.result)), before, 'the previous results stay');
});

test('load an NDJSON file of histories and export the CSV', async () => {
  const ndjson = esm.generate({ members: 150, seed: 99, months: 12, profile: 'vn-fashion', as_of: preset.as_of });
  await page.setInputFiles('#file', { name: 'members.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(ndjson) });
  await page.waitForSelector('body[data-file="members.ndjson"]');
  assert.equal(await page.isChecked('input[name="source"][value="file"]'), true);
  await runAndWait();
  const r = simulateInNode(draft, ndjson);
  await assertShows(r);
  assert.match(await page.textContent('#run-status'), /Done: 150 members/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  const b = r.diff.baseline;
  const rows = Object.fromEntries(csv.trim().split('\n').slice(1).map((l) => {
    const [key, ...cells] = l.split(',');
    return [key, cells];
  }));
  assert.equal(csv.split('\n')[0], 'figure,draft,baseline,change,partial');
  // The partial last month is marked; the other months not; the totals have no month.
  const lastMonth = r.by_month.at(-1).month;
  for (const m of r.by_month) {
    for (const f of ['issued', 'redeemed', 'expired', 'tier_discounts']) {
      assert.equal(rows[`by_month.${m.month}.${f}`][3], String(m.month === lastMonth), `${m.month} ${f}`);
    }
  }
  assert.deepEqual(rows[`by_month.${lastMonth}.expired`], [String(r.by_month.at(-1).expired), String(b.by_month.at(-1).expired), String(r.by_month.at(-1).expired - b.by_month.at(-1).expired), 'true']);
  assert.equal(rows['points.issued'][3], '');
  assert.deepEqual(rows['points.issued'].slice(0, 3), [String(r.points.issued), String(b.points.issued), String(r.points.issued - b.points.issued)]);
  assert.deepEqual(rows.liability.slice(0, 2), [r.liability, b.liability]);
  assert.deepEqual(rows.tier_discounts.slice(0, 2), [r.tier_discounts, b.tier_discounts]);
  for (const m of r.by_month) {
    assert.deepEqual(rows[`by_month.${m.month}.redeemed`][0], String(m.redeemed), m.month);
    assert.deepEqual(rows[`by_month.${m.month}.tier_discounts`][0], m.tier_discounts, m.month);
  }
});

test('a request error from the worker (expected redemption out of range) is shown next to its field', async () => {
  await page.fill('#expected-redemption', '1.5');
  const runs = await page.getAttribute('body', 'data-runs');
  await page.click('#run');
  await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('body', 'data-runs'), runs, 'no new results');
  let err;
  try {
    esm.simulate({ policy: draft, baseline: preset.baseline, members: [], as_of: preset.as_of, expected_redemption: '1.5' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof esm.LoyaltyError);
  const b = page.locator(`#data-section .field-error[data-path="${err.path}"]`);
  assert.equal(await b.count(), 1);
  assert.equal(await b.getAttribute('data-code'), err.code);
  assert.ok((await b.textContent()).includes(err.message));
  assert.equal(await page.getAttribute('#expected-redemption', 'aria-invalid'), 'true');
  await page.fill('#expected-redemption', '0.7');
});

test('in Vietnamese: labels, statuses, the summary and the charts translated; money, numbers and dates as vi-VN writes them', async () => {
  await page.selectOption('#lang', 'vi');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.equal(await page.textContent('h1'), 'Mô phỏng chính sách');
  assert.equal(await page.textContent('#run'), 'Chạy mô phỏng');
  assert.equal(await page.textContent('#preset-load'), 'Nạp mẫu');
  assert.equal(await page.textContent('#draft-form legend'), 'Tích điểm');
  assert.equal(await page.textContent('label[for="file"]'), 'Chọn tệp…');
  assert.equal(await page.textContent('#file-name'), 'members.ndjson');
  assert.equal(await page.getAttribute('#progress', 'aria-label'), 'Tiến độ mô phỏng');
  assert.equal(await page.getAttribute('#draft-editor .cm-content', 'aria-label'), 'JSON chính sách nháp');
  assert.equal(await page.getAttribute('#levels tbody tr:first-child input', 'aria-label'), 'Hạng 1: mã');
  // The last run failed (the previous test): its status, translated when the language changed.
  assert.equal(await page.textContent('#run-status'), 'Mô phỏng thất bại.');
  // as_of 2026-10-01T00:00:00+07:00 as the page writes dates: day first.
  assert.equal(await page.textContent('#as-of-shown'), '01/10/2026 00:00');

  await runAndWait();
  const r = await page.evaluate(() => window.__sim.result);
  assert.match(await page.textContent('#run-status'), /^Xong: 150 thành viên trong \d+,\d giây\.$/);
  const cell = (key, col = 'draft') => page.textContent(`#summary tr[data-key="${key}"] td[data-col="${col}"]`);
  const vnd = (v) => new Intl.NumberFormat('vi-VN', { style: 'currency', currency: 'VND', maximumFractionDigits: 0 }).format(Number(v));
  // Money in VND without decimals, `.` grouping and the ₫ after it: e.g. `1.450.000 ₫`.
  const liability = await cell('liability');
  assert.equal(liability, vnd(r.liability));
  assert.match(liability, /^\d{1,3}(\.\d{3})+\s₫$/);
  assert.equal(await cell('liability', 'baseline'), vnd(r.diff.baseline.liability));
  // Points with `.` grouping.
  assert.equal(await cell('points.issued'), new Intl.NumberFormat('vi-VN').format(r.points.issued));
  assert.ok(r.points.issued >= 1000 && (await cell('points.issued')).includes('.'), `${r.points.issued} points are grouped`);
  assert.equal(await page.textContent('#summary tr[data-key="points.issued"] td'), 'Điểm đã tích');
  assert.equal(await page.textContent(`#summary tr[data-key="tiers.${draft.tiers.levels[1].id}"] td`), `Thành viên hạng ${draft.tiers.levels[1].name}`);
  const charts = await page.evaluate(() => {
    const c = window.__sim.charts;
    return {
      tiers: c.tiers.data.datasets.map((d) => d.label),
      monthly: c.monthly.data.datasets[0].label,
      money: c.liability.options.scales.money.title.text,
      title: c.monthly.options.plugins.title.text,
      month: c.monthly.scales.x.ticks[0].label,
    };
  });
  assert.deepEqual(charts.tiers, ['Đối chiếu', 'Bản nháp']);
  assert.equal(charts.monthly, 'Bản nháp: đã tích');
  assert.equal(charts.money, `nghĩa vụ điểm (${draft.currency})`);
  assert.equal(charts.title, 'Điểm đã tích, đã đổi và hết hạn theo tháng');
  const first = r.by_month[0].month;
  assert.equal(charts.month, `${first.slice(5)}/${first.slice(0, 4)}`);

  // And back: English again, the same figures.
  await page.selectOption('#lang', 'en');
  assert.equal(await page.textContent('h1'), 'Policy simulator');
  assert.equal(await cell('points.issued'), r.points.issued.toLocaleString('en-GB'));
  assert.match(await page.textContent('#run-status'), /^Done: 150 members in \d+\.\d s\.$/);
});

test('the draft and the inputs are kept in this browser: a reload restores them, reset brings the sample back', async () => {
  await page.selectOption('#lang', 'en');
  // Edits: a threshold in the form, the baseline off, other members settings.
  const gold = 'input[data-path="policy.tiers.levels[2].threshold"]';
  await page.fill(gold, '1300');
  const edited = JSON.parse(await page.inputValue('#draft'));
  assert.equal(edited.tiers.levels[2].threshold, '1300');
  await page.evaluate(() => { document.querySelector('#baseline-section').open = true; });
  await page.uncheck('#baseline-on');
  await page.fill('#gen-members', '250');
  await page.fill('#expected-redemption', '0.6');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), edited, 'the draft survives a reload');
  assert.equal(await page.inputValue(gold), '1300', 'the form follows the restored draft');
  assert.equal(await page.isChecked('#baseline-on'), false);
  assert.equal(await page.inputValue('#gen-members'), '250');
  assert.equal(await page.inputValue('#expected-redemption'), '0.6');
  assert.deepEqual(JSON.parse(await page.inputValue('#baseline')), preset.baseline);
  assert.equal(await page.getAttribute('#draft-digest', 'data-value'), esm.validate(edited).policy_digest);
  assert.equal(await page.textContent('#saved-status'), 'Restored from this browser (kept automatically).');
  // Text that is not JSON (yet) is kept as typed.
  await fillEditor('#draft', '{ "schema": 1, ');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.equal((await page.inputValue('#draft')).trimEnd(), '{ "schema": 1,', 'kept as typed');
  assert.equal(await page.isDisabled('#download-draft'), true, 'no file from text that is not JSON');
  await fillEditor('#draft', JSON.stringify(edited, null, 2));
  // Reset to the sample: the preset draft and baseline, the page's defaults, nothing kept.
  await page.click('#reset-sample');
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), preset.draft);
  assert.deepEqual(JSON.parse(await page.inputValue('#baseline')), preset.baseline);
  assert.equal(await page.isChecked('#baseline-on'), true);
  assert.equal(await page.inputValue('#gen-members'), '1000');
  assert.equal(await page.inputValue('#expected-redemption'), '0.7');
  assert.equal(await page.inputValue('#as-of'), preset.as_of);
  assert.equal(await page.evaluate(() => localStorage.getItem('loyalty.simulator.saved')), null);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), preset.draft, 'after a reset, a reload shows the sample');
});

test('download the draft: pretty JSON named after the policy id, equal to the draft', async () => {
  const gold = 'input[data-path="policy.tiers.levels[2].threshold"]';
  await page.fill(gold, '1250');
  const shown = JSON.parse(await page.inputValue('#draft'));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-draft')]);
  assert.equal(download.suggestedFilename(), `${shown.id}.json`);
  const text = fs.readFileSync(await download.path(), 'utf8');
  assert.equal(text, `${JSON.stringify(shown, null, 2)}\n`);
  assert.equal(JSON.parse(text).tiers.levels[2].threshold, '1250');
  assert.equal(esm.validate(JSON.parse(text)).policy_digest, await page.getAttribute('#draft-digest', 'data-value'));
  // On a static host (no `loyalty serve`), there is no admin to publish in: the action is hidden.
  assert.equal(await page.getAttribute('body', 'data-server'), '0');
  assert.equal(await page.isHidden('#open-admin'), true);
  await page.click('#reset-sample');
});

test('a 390 px phone: no sideways scrolling, before and after a run, in both languages (issue 14)', async () => {
  const sideways = () => page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
  await page.setViewportSize({ width: 390, height: 844 });
  assert.equal(await sideways(), 0, 'before a run');
  await page.fill('#gen-members', '200');
  await runAndWait();
  for (const lang of ['en', 'vi']) {
    await page.selectOption('#lang', lang);
    assert.equal(await sideways(), 0, `after a run (${lang}): the levels and summary tables scroll in their own box`);
  }
  await page.selectOption('#lang', 'en');
  await page.setViewportSize({ width: 1280, height: 720 });
});

test('no console errors, failed requests or uncaught exceptions', () => {
  assert.deepEqual(problems, []);
});
