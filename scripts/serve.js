#!/usr/bin/env node
// A small static server for the demo and the browser tests (no dependencies).
//   node scripts/serve.js [--port N] [--host H] [--root DIR] [--no-build]
//   node scripts/serve.js --build-only      (build what is missing, then exit)
// Environment: PORT (default 8080), MNV2_HOST (default 127.0.0.1), MNV2_SHARED_DIR, MNV2_SERVE_QUIET=1.
// Serves the repository (or --root DIR) on localhost with the headers WebAssembly pages want:
// COOP/COEP (cross-origin isolation), application/wasm, text/javascript for .js/.mjs.
// /samples/ serves the sample photos of ../shared/images (MNV2_SHARED_DIR overrides ../shared),
// /sample-classes/ those of its imprinting/ folder (photos for learning new classes), /sample-models/
// the models and label files of ../shared/models; index.json in each lists them ({ images } and
// { models, labels }). Only files under the root or those folders are served:
// no '..', no dot-files (.git), no symbolic links leading outside.
// Run from the repository without --root, it first builds dist/ and models/ if they are missing.
import { spawnSync } from 'node:child_process';
import { existsSync, createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEMO_PATH = '/web/demo/';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.tflite': 'application/octet-stream',
  '.bmp': 'image/bmp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

// What the sample gallery offers: the encoded photos (not the raw .rgb files, nor the reference
// segmentation masks); and the demo's model picker: the .tflite files and their label files.
const SAMPLE = /^(?!.*_mask\.)[A-Za-z0-9][A-Za-z0-9_.-]*\.(bmp|jpe?g|png|gif)$/i;
const SAMPLE_MODEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.(tflite|txt)$/i;

export function sharedDir() {
  return path.resolve(process.env.MNV2_SHARED_DIR || path.join(REPO, '..', 'shared'));
}

function isInside(dir, file) {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Creates (does not start) the server.
 * @param {{ root?: string, samplesDir?: string|null, modelsDir?: string|null, index?: string|null, log?: (line: string) => void }} options
 *   root: the folder served at / (default: the repository); samplesDir: the folder served at /samples/
 *   (default: $MNV2_SHARED_DIR/images; null: no /samples/ route); modelsDir: at /sample-models/
 *   (default: $MNV2_SHARED_DIR/models when samplesDir is not given; null: none); index: where / redirects to
 *   (default: the demo when serving the repository, else root's index.html).
 */
export function createServer(options = {}) {
  const root = path.resolve(options.root ?? REPO);
  const samplesDir = options.samplesDir === undefined ? path.join(sharedDir(), 'images') : options.samplesDir;
  const modelsDir = options.modelsDir !== undefined ? options.modelsDir
    : options.samplesDir === undefined ? path.join(sharedDir(), 'models') : null;
  // The folders of ../shared served beside the root: name -> what is listed and served.
  const folders = {
    samples: samplesDir && { dir: samplesDir, pattern: SAMPLE, index: (names) => ({ images: names }) },
    // The photos for learning new classes (LABEL_train_N, LABEL_test_N).
    'sample-classes': samplesDir && { dir: path.join(samplesDir, 'imprinting'), pattern: SAMPLE, index: (names) => ({ images: names }) },
    'sample-models': modelsDir && {
      dir: modelsDir,
      pattern: SAMPLE_MODEL,
      index: (names) => ({ models: names.filter((n) => n.endsWith('.tflite')), labels: names.filter((n) => n.endsWith('.txt')) }),
    },
  };
  const index = options.index !== undefined ? options.index : root === REPO ? DEMO_PATH : null;
  const log = options.log ?? (() => {});
  let realRoot;

  function send(res, status, body, type = 'text/plain; charset=utf-8', extra = {}) {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  async function sendFile(res, file, size) {
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': size });
    if (res.req.method === 'HEAD') return res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  async function list({ dir, pattern, index }) {
    let names = [];
    try {
      names = (await readdir(dir, { withFileTypes: true }))
        .filter((d) => d.isFile() && pattern.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch {
      // No such folder: an empty list.
    }
    return JSON.stringify(index(names));
  }

  async function handle(req, res) {
    // Every response: cross-origin isolation (SharedArrayBuffer, precise timers), no sniffing, no caching.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad request\n');
    }
    if (pathname.includes('\0') || pathname.includes('\\')) return send(res, 400, 'bad request\n');
    const segments = pathname.split('/').filter(Boolean);
    // No parent folders, no dot-files or dot-folders (.git, .env, ...).
    if (segments.some((s) => s.startsWith('.'))) return send(res, 404, 'not found\n');

    if (pathname === '/' && index) return send(res, 302, `see ${index}\n`, undefined, { Location: index });

    const folder = Object.hasOwn(folders, segments[0] ?? '') ? folders[segments[0]] : null;
    if (folder) {
      if (segments.length === 1 || (segments.length === 2 && segments[1] === 'index.json')) {
        return send(res, 200, await list(folder), TYPES['.json']);
      }
      if (segments.length !== 2 || !folder.pattern.test(segments[1])) return send(res, 404, 'not found\n');
      const file = path.join(folder.dir, segments[1]);
      try {
        const s = await stat(file);
        if (!s.isFile()) return send(res, 404, 'not found\n');
        return sendFile(res, file, s.size);
      } catch {
        return send(res, 404, 'not found\n');
      }
    }

    let file = path.resolve(root, ...segments);
    if (!isInside(root, file)) return send(res, 404, 'not found\n');
    try {
      realRoot ??= await realpath(root);
      let s = await stat(file);
      if (s.isDirectory()) {
        if (!pathname.endsWith('/')) {
          return send(res, 301, 'moved\n', undefined, { Location: `${encodeURI(pathname)}/` });
        }
        file = path.join(file, 'index.html');
        s = await stat(file);
      }
      // Symbolic links must not lead outside the root.
      if (!s.isFile() || !isInside(realRoot, await realpath(file))) return send(res, 404, 'not found\n');
      return sendFile(res, file, s.size);
    } catch {
      return send(res, 404, 'not found\n');
    }
  }

  return http.createServer((req, res) => {
    res.on('finish', () => log(`${res.statusCode} ${req.method} ${req.url}`));
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
      log(`500 ${req.url}: ${e.message}`);
    });
  });
}

/** Starts a server; resolves to { server, port, url, close() }. Port 0 picks a free port. */
export async function start(options = {}) {
  const server = createServer(options);
  const host = options.host ?? '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address();
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

/** Builds dist/ and models/ with `npm run build` if any file the demo needs is missing. */
export function ensureBuilt() {
  const needed = ['dist/mnv2-simd.mjs', 'dist/mnv2-simd.wasm', 'dist/mnv2-nosimd.mjs', 'dist/mnv2-nosimd.wasm',
    'models/mobilenet_v2_1.0_224_quant.tflite', 'models/imagenet_labels.txt'];
  const missing = needed.filter((f) => !existsSync(path.join(REPO, f)));
  if (missing.length === 0) return;
  console.log(`serve: ${missing.join(', ')} missing; running npm run build`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('serve: npm run build failed (scripts/setup.sh installs Emscripten)');
    process.exit(1);
  }
}

function parseArgs(argv) {
  const a = { port: Number(process.env.PORT || 8080), host: process.env.MNV2_HOST || '127.0.0.1', build: true, serve: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--port' || arg === '-p') a.port = Number(value());
    else if (arg === '--host') a.host = value();
    else if (arg === '--root') a.root = value();
    else if (arg === '--no-build') a.build = false;
    else if (arg === '--build-only') a.serve = false;
    else if (/^\d+$/.test(arg)) a.port = Number(arg);
    else throw new Error(`unknown argument '${arg}'`);
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error(`bad port ${a.port}`);
  return a;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve: ${e.message}\nusage: node scripts/serve.js [--port N] [--host H] [--root DIR] [--no-build] [--build-only]`);
    process.exit(2);
  }
  if (args.build && !args.root) ensureBuilt();
  if (!args.serve) process.exit(0);
  const quiet = process.env.MNV2_SERVE_QUIET === '1';
  const s = await start({ port: args.port, host: args.host, root: args.root, log: quiet ? undefined : (l) => console.log(l) });
  const page = args.root ? '/' : DEMO_PATH;
  console.log(`serving ${args.root ? path.resolve(args.root) : REPO} (samples: ${path.join(sharedDir(), 'images')})`);
  console.log(`open ${s.url.replace('127.0.0.1', 'localhost')}${page}`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => s.close().then(() => process.exit(0)));
}
