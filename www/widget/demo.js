// The widget demo page: the as-of field drives every widget's `as-of` attribute, and the third
// widget gets its policy and history as properties, from the generated sample.
import init, { Engine, LoyaltyError, generate } from '../pkg/web.js';
import { POLICY } from '../pos/sample-data.js';
import { replaySample, sampleHistories } from '../shared/sample.js';

const $ = (id) => document.getElementById(id);

$('as-of').addEventListener('change', (e) => {
  for (const w of document.querySelectorAll('loyalty-progress')) w.setAttribute('as-of', e.target.value.trim());
});

await init();
// Only the members whose history replays under the policy (see www/shared/sample.js).
const engine = new Engine(POLICY);
const histories = replaySample(engine, sampleHistories(generate), undefined, LoyaltyError).replayed.map((r) => r.history);
engine.free();
const select = $('member');
select.replaceChildren(...histories.map((h, i) => new Option(`${h.member.id} (${h.events.length} events)`, String(i))));
const widget = $('w-props');
widget.policy = POLICY;
const show = () => (widget.history = histories[Number(select.value)]);
select.addEventListener('change', show);
// Start with a member who has a few purchases.
select.value = String(Math.max(0, histories.findIndex((h) => h.events.length >= 8)));
show();
await Promise.all([...document.querySelectorAll('loyalty-progress')].map((w) => w.updateComplete));
document.body.dataset.ready = '1';
