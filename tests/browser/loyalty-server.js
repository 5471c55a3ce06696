// The real server for the browser tests: `target/release/loyalty serve --demo` on a free port,
// with a fresh SQLite database in a temporary --data-dir and a fixed clock (the demo's history
// ends there), serving www/ and pkg/. Its demo credentials are read from what it prints.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CLI, ROOT } from '../support/paths.js';

export const CLOCK = '2026-03-07T10:00:00+07:00';

/** Starts the server; resolves to { url, creds, dataDir, stop() }. */
export async function startLoyaltyServer({ members = 40 } = {}) {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} not found: run cargo build --release -p loyalty-cli`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-pages-'));
  const child = spawn(
    CLI,
    ['serve', '--demo', '--demo-members', String(members), '--data-dir', dataDir, '--listen', '127.0.0.1:0',
      '--www', path.join(ROOT, 'www'), '--pkg', path.join(ROOT, 'pkg'), '--clock', CLOCK, '--clock-steerable'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loyalty serve did not start:\n${out}\n${err}`)), 120_000);
    child.stderr.on('data', (d) => {
      err += d;
      // The whole line: stderr arrives in chunks, and a chunk may end inside the port number
      // (a URL cut to "…:4" once sent the tests' requests to port 4).
      const m = /listening on (http:\/\/[\d.:]+)\r?\n/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]}/`);
      }
    });
    child.on('exit', (code) => reject(new Error(`loyalty serve exited (${code}):\n${out}\n${err}`)));
  });
  // The credentials are printed on stdout before the server listens, but the two pipes are read
  // independently: wait for them.
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loyalty serve printed no credentials:\n${out}`)), 30_000);
    const check = () => {
      // Whole lines: a chunk may end inside a credential.
      if (/^admin password: .*\n/m.test(out) && /^till key: .*\n/m.test(out)) {
        clearTimeout(timer);
        resolve();
      } else {
        setTimeout(check, 20);
      }
    };
    check();
  });
  const creds = {};
  for (const line of out.split('\n')) {
    const m = /^([a-z ]+): (.*)$/.exec(line.trim());
    if (m) creds[m[1]] = m[2];
  }
  return {
    url,
    creds,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The API from Node: a till (bearer key) or an admin (cookie + CSRF), JSON answers. */
export class Client {
  constructor(base) {
    this.base = base.replace(/\/$/, '');
    this.cookie = null;
    this.csrf = null;
    this.key = null;
  }

  static async admin(base, user, password) {
    const c = new Client(base);
    const r = await fetch(`${c.base}/v1/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    if (!r.ok) throw new Error(`admin login: ${r.status} ${await r.text()}`);
    c.cookie = r.headers.get('set-cookie').split(';')[0];
    c.csrf = (await r.json()).csrf_token;
    return c;
  }

  static till(base, key) {
    const c = new Client(base);
    c.key = key;
    return c;
  }

  async req(method, p, body, headers = {}) {
    const h = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    if (this.key) h.authorization = `Bearer ${this.key}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(`${this.base}${p}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: r.status, body: json, text };
  }

  get(p) {
    return this.req('GET', p);
  }

  post(p, body, headers) {
    return this.req('POST', p, body, headers);
  }
}
