#!/usr/bin/env node
// A small static file server for local use: www/ at /, the built package pkg/ at /pkg/,
// node_modules/chart.js/dist at /vendor/chart.js/.
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1]     (PORT / HOST also work)
//
// Also imported by the browser tests, which add mounts of their own (see startServer).
// Files are sent with their MIME type (application/wasm for .wasm, so that
// WebAssembly.instantiateStreaming works) and `Cache-Control: no-store`, so a rebuilt pkg/ is
// picked up on reload.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The default mounts: URL prefix → directory. Longest prefix wins. */
export function defaultMounts() {
  return {
    '/pkg/': path.join(root, 'pkg'),
    // The simulator's charting library, from the npm devDependency (no CDN).
    '/vendor/chart.js/': path.join(root, 'node_modules', 'chart.js', 'dist'),
    // The simulator's JSON editor, bundled by scripts/build-editor.mjs.
    '/vendor/codemirror/': path.join(root, 'target', 'vendor', 'codemirror'),
    '/': path.join(root, 'www'),
  };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function handler(mounts, redirects) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad request\n');
    }
    if (redirects[pathname]) return send(res, 302, '', { Location: redirects[pathname] });
    // Not `loyalty serve`: pages that look for the server (the simulator's "Open in admin") read
    // this as "static", without a 404 in the console.
    if (pathname === '/healthz') return send(res, 200, '{"status":"static"}\n', { 'Content-Type': 'application/json' });
    const prefix = prefixes.find((p) => pathname.startsWith(p) || `${pathname}/` === p);
    if (!prefix) return send(res, 404, 'not found\n');
    if (`${pathname}/` === prefix) return send(res, 301, '', { Location: prefix });
    const base = mounts[prefix];
    let file = path.resolve(base, `.${pathname.slice(prefix.length - 1)}`);
    if (file !== base && !file.startsWith(base + path.sep)) return send(res, 403, 'forbidden\n');
    let stat;
    try {
      stat = fs.statSync(file);
      if (stat.isDirectory()) {
        if (!pathname.endsWith('/')) return send(res, 301, '', { Location: `${pathname}/` });
        file = path.join(file, 'index.html');
        stat = fs.statSync(file);
      }
    } catch {
      return send(res, 404, `not found: ${pathname}\n`);
    }
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': stat.size,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  };
}

/**
 * Starts the server; resolves to { server, url } once it listens. `port: 0` picks a free port.
 * @param {{port?: number, host?: string, mounts?: Record<string,string>, redirects?: Record<string,string>}} options
 */
export function startServer({ port = 8080, host = '127.0.0.1', mounts = defaultMounts(), redirects = {} } = {}) {
  const server = http.createServer(handler(mounts, redirects));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const { port: actual } = server.address();
      const shown = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
      resolve({ server, url: `http://${shown}:${actual}/` });
    });
  });
}

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const host = argValue('--host') ?? process.env.HOST ?? '127.0.0.1';
  const wanted = Number(argValue('--port') ?? process.env.PORT ?? 8080);
  if (!fs.existsSync(path.join(root, 'pkg', 'web.js'))) {
    console.warn('warning: pkg/ is not built yet (run ./scripts/build.sh); /pkg/ URLs will be 404');
  }
  // If the port is taken, try the next few.
  let started;
  for (let port = wanted; !started && port < wanted + 20; port++) {
    try {
      started = await startServer({ port, host });
    } catch (e) {
      if (e.code !== 'EADDRINUSE') throw e;
      console.warn(`port ${port} is in use, trying ${port + 1}`);
    }
  }
  if (!started) {
    console.error(`no free port in ${wanted}..${wanted + 19}`);
    process.exit(1);
  }
  console.log(`Serving www/ and pkg/ at ${started.url}`);
  console.log(`  Pages (POS, simulator, widget, member lookup): ${started.url}`);
  console.log('Press Ctrl+C to stop.');
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => started.server.close(() => process.exit(0)));
}
