#!/usr/bin/env node
// Writes www/pos/generated-sample.json: the POS page's generated sample members, computed with
// the full module (`generate` → histories → `Engine.replay` → each member's snapshot), because
// the POS itself loads only the core module (`loyalty-engine/core`: validate and quote), as a
// real till would get its members' snapshots from the server. Run by scripts/build.sh after pkg/
// is assembled; the file is build output (git-ignored).
//
//   node scripts/pos-sample.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { SAMPLE_AS_OF, SAMPLE_OPTIONS, replaySample, sampleHistories } from '../www/shared/sample.js';
import { POLICY } from '../www/pos/sample-data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'www', 'pos', 'generated-sample.json');
const { Engine, LoyaltyError, generate } = await import(pathToFileURL(path.join(root, 'pkg', 'node.mjs')).href);

const engine = new Engine(POLICY);
const policyDigest = engine.policyDigest;
let sample;
try {
  sample = replaySample(engine, sampleHistories(generate), SAMPLE_AS_OF, LoyaltyError);
} finally {
  engine.free();
}
const data = {
  options: SAMPLE_OPTIONS,
  as_of: SAMPLE_AS_OF,
  policy_digest: policyDigest,
  // What the page shows of each replay: the SPEC §2 member snapshot, and a line of detail.
  members: sample.replayed.map(({ history, replay }) => ({
    id: history.member.id,
    events: history.events.length,
    snapshot: replay.snapshot,
    pending: replay.points.pending,
    lots: replay.points.lots.length,
  })),
  rejected: sample.rejected.map(({ id, error }) => ({ id, error })),
};
fs.writeFileSync(out, `${JSON.stringify(data)}\n`);
console.log(
  `${path.relative(root, out)}: ${data.members.length} generated members (${data.rejected.length} rejected by replay)`,
);
