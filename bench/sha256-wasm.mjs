// SHA-256 throughput in WebAssembly under Node: the full and core modules' `sha2` (plain and
// with Wasm SIMD) and the progress module's `hmac-sha256` (`opt_size`), from bench/sha256-wasm
// (built by scripts/bench-quote.sh into target/sha256-wasm/{plain,simd}). For a message of the
// size of the ten_lines_5_rules quote response it prints MB/s and the µs one digest of that
// response costs: the floor the digest sets for a quote in each module.
//
//   node bench/sha256-wasm.mjs [response bytes]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const responseBytes = Number(process.argv[2] ?? 2048);
const load = async (variant) => {
  const file = path.join(root, 'target', 'sha256-wasm', variant, 'wasm32-unknown-unknown', 'release', 'sha256_wasm_bench.wasm');
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  return instance.exports;
};

// Bytes as the digest sees them: a JSON response (ASCII); the content does not change the cost.
const time = (x, fn, len) => {
  const ptr = x.alloc(len);
  new Uint8Array(x.memory.buffer, ptr, len).set(Buffer.from('{"policy_digest":"sha256:0123456789abcdef"}'.repeat(Math.ceil(len / 43)).slice(0, len)));
  fn(ptr, len, 2000); // warm up
  let rounds = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - t0 < 1_000_000_000n) {
    fn(ptr, len, 500);
    rounds += 500;
  }
  const cpu = process.cpuUsage(cpu0);
  const secs = (cpu.user + cpu.system) / 1e6;
  return { us_per_hash: (secs * 1e6) / rounds, mb_per_s: (rounds * len) / secs / 1e6 };
};

const out = [];
for (const [variant, impl, module] of [
  ['plain', 'hash_sha2', 'full and core modules (sha2)'],
  ['simd', 'hash_sha2', 'sha2 with Wasm SIMD (simd128)'],
  ['plain', 'hash_small', 'progress module (hmac-sha256, opt_size)'],
]) {
  const x = await load(variant);
  const big = time(x, x[impl], 1 << 16);
  const response = time(x, x[impl], responseBytes);
  out.push({ target: 'node-wasm-sha256', impl: module, mb_per_s: +big.mb_per_s.toFixed(1), response_bytes: responseBytes, us_per_response_digest: +response.us_per_hash.toFixed(2) });
}
for (const o of out) console.log(JSON.stringify(o));
