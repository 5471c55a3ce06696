// The simulator's Web Worker: replays member histories under the draft (and baseline) policy with
// the package's `ParallelSimulation` (chunks replayed on one nested Web Worker per core, merged
// into exactly `simulate`'s report), posting progress after each chunk. The page cancels a run
// by terminating this worker (which ends its nested workers too). A file is read as a stream, line by line, so its size
// is not limited by memory (progress is then in bytes).
//
// in:  { type: 'run', request: { policy, baseline, as_of, expected_redemption },
//        source: { kind: 'generate', options } | { kind: 'file', file } | { kind: 'ndjson', text }, chunk }
// out: { type: 'start', total, unit } · { type: 'progress', done, total, members, unit } ·
//      { type: 'done', result, total, ms } · { type: 'error', error: { code, message, path } }
import init, { LoyaltyError, ParallelSimulation, generate } from '../pkg/web.js';

const ready = init();

/** NDJSON lines of a File, read as a stream (a large file is never held whole). */
async function* fileLines(file, onBytes) {
  const reader = file.stream().pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += new TextEncoder().encode(value).length;
    onBytes(bytes);
    const parts = (rest + value).split('\n');
    rest = parts.pop();
    yield* parts;
  }
  if (rest) yield rest;
}

self.onmessage = async (event) => {
  const { type, request, source, chunk = 100 } = event.data;
  if (type !== 'run') return;
  try {
    await ready;
    const t0 = performance.now();
    const sim = new ParallelSimulation(request);
    const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
    let total;
    if (source.kind === 'file') {
      // Progress in bytes of the file; members counted as they come.
      const size = source.file.size;
      let bytes = 0;
      self.postMessage({ type: 'start', total: size, unit: 'bytes' });
      let batch = [];
      const flush = async () => {
        await sim.add(batch.join('\n'));
        batch = [];
        self.postMessage({ type: 'progress', done: bytes, total: size, members: sim.progress, unit: 'bytes' });
        await tick();
      };
      for await (const line of fileLines(source.file, (b) => (bytes = b))) {
        if (line.trim() === '') continue;
        batch.push(line);
        if (batch.length >= chunk) await flush();
      }
      if (batch.length) await flush();
      total = null;
    } else {
      const text = source.kind === 'generate' ? generate(source.options) : source.text;
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      total = lines.length;
      self.postMessage({ type: 'start', total, unit: 'members' });
      for (let i = 0; i < lines.length; i += chunk) {
        await sim.add(lines.slice(i, i + chunk).join('\n'));
        self.postMessage({ type: 'progress', done: sim.progress, total, members: sim.progress, unit: 'members' });
        // Let the page's messages (and a terminate) in between chunks.
        await tick();
      }
    }
    const result = await sim.finish();
    total ??= sim.progress;
    self.postMessage({ type: 'done', result, total, ms: performance.now() - t0 });
  } catch (e) {
    const error = e instanceof LoyaltyError ? e.toJSON().error : { code: 'error', message: String(e?.message ?? e), path: '' };
    self.postMessage({ type: 'error', error });
  }
};
