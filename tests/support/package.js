// The package as an application gets it: installed from the packed tarball into tests/consumer
// and resolved through its `exports` map (Node conditions).
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONSUMER, requireBuiltPackage } from './paths.js';

requireBuiltPackage();

/** `import … from 'loyalty-engine'` (node + import conditions → node.mjs). */
export const esm = await import(pathToFileURL(path.join(CONSUMER, 'esm.mjs')).href);
/** `require('loyalty-engine')` (node + require conditions → node.cjs). */
export const cjs = createRequire(path.join(CONSUMER, 'package.json'))('./cjs.cjs');
/** Where `require.resolve('loyalty-engine')` points from the consumer. */
export const resolvedRequire = createRequire(path.join(CONSUMER, 'package.json')).resolve('loyalty-engine');

/** `import … from 'loyalty-engine/core'` (the core module: node + import conditions → core/node.mjs). */
export const coreEsm = await import(pathToFileURL(path.join(CONSUMER, 'core.mjs')).href);
/** `require('loyalty-engine/core')` (node + require conditions → core/node.cjs). */
export const coreCjs = createRequire(path.join(CONSUMER, 'package.json'))('./core.cjs');
/** Where `require.resolve('loyalty-engine/core')` points from the consumer. */
export const resolvedRequireCore = createRequire(path.join(CONSUMER, 'package.json')).resolve('loyalty-engine/core');

/** `import … from 'loyalty-engine/progress'` (the progress module: node + import conditions → progress/node.mjs). */
export const progressEsm = await import(pathToFileURL(path.join(CONSUMER, 'progress.mjs')).href);
/** `require('loyalty-engine/progress')` (node + require conditions → progress/node.cjs). */
export const progressCjs = createRequire(path.join(CONSUMER, 'package.json'))('./progress.cjs');
/** Where `require.resolve('loyalty-engine/progress')` points from the consumer. */
export const resolvedRequireProgress = createRequire(path.join(CONSUMER, 'package.json')).resolve('loyalty-engine/progress');
