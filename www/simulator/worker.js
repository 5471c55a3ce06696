// The simulator's Web Worker: replays member histories under the draft (and baseline) policy with
// the package's streaming `Simulation`, in chunks, posting progress after each chunk. The page
// cancels a run by terminating this worker.
//
// in:  { type: 'run', request: { policy, baseline, as_of, expected_redemption },
//        source: { kind: 'generate', options } | { kind: 'ndjson', text }, chunk }
// out: { type: 'start', total } · { type: 'progress', done, total } ·
//      { type: 'done', result, total, ms } · { type: 'error', error: { code, message, path } }
import init, { LoyaltyError, Simulation, generate } from '../pkg/web.js';

const ready = init();

self.onmessage = async (event) => {
  const { type, request, source, chunk = 100 } = event.data;
  if (type !== 'run') return;
  try {
    await ready;
    const t0 = performance.now();
    const text = source.kind === 'generate' ? generate(source.options) : source.text;
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    self.postMessage({ type: 'start', total: lines.length });
    const sim = new Simulation(request);
    for (let i = 0; i < lines.length; i += chunk) {
      sim.add(lines.slice(i, i + chunk).join('\n'));
      self.postMessage({ type: 'progress', done: sim.progress, total: lines.length });
      // Let the page's messages (and a terminate) in between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const result = sim.finish();
    self.postMessage({ type: 'done', result, total: lines.length, ms: performance.now() - t0 });
  } catch (e) {
    const error = e instanceof LoyaltyError ? e.toJSON().error : { code: 'error', message: String(e?.message ?? e), path: '' };
    self.postMessage({ type: 'error', error });
  }
};
