// The POS page's sample policy is SPEC §1's example policy, verbatim.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { CART, MEMBERS, POLICY } from '../../www/pos/sample-data.js';
import { SPEC } from '../support/paths.js';

test('www/pos/sample-data.js POLICY is SPEC §1 example policy', (t) => {
  if (!SPEC) {
    t.skip('SPEC.md not found beside the repository (../shared/SPEC.md)');
    return;
  }
  const spec = fs.readFileSync(SPEC, 'utf8');
  const section = spec.slice(spec.indexOf('## 1. The policy document'));
  const block = /```json\n([\s\S]*?)```/.exec(section)[1];
  assert.deepEqual(POLICY, JSON.parse(block));
});

test('the sample cart and member are SPEC §2 examples', (t) => {
  if (!SPEC) {
    t.skip('SPEC.md not found');
    return;
  }
  const section = fs.readFileSync(SPEC, 'utf8').split('## 2. Quote')[1];
  const [member, cart] = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
  assert.deepEqual(MEMBERS[0], member);
  assert.deepEqual(CART, cart);
});
