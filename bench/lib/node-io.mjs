// Node: where the benchmark's files are and how the engines' modules are imported
// (shared by bench/node.mjs and its cold-start children, bench/cold.mjs, and by bench/browser.mjs
// for the files and sizes).
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { register, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createOrt, createOurs, createTfjs, createTflite, inputsNeeded, parseEngine,
} from './engines.mjs';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(BENCH, '..');
export const OUT = path.join(BENCH, 'out');
const require = createRequire(path.join(REPO, 'package.json'));

export const files = {
  config: path.join(OUT, 'bench.json'),
  manifest: path.join(OUT, 'weights.json'),
  weights: path.join(OUT, 'weights.bin'),
  input: path.join(OUT, 'input.rgb'),
  onnx: path.join(OUT, 'mobilenet_v2.onnx'),
  onnxInt8: path.join(OUT, 'mobilenet_v2_int8.onnx'),
  peak: path.join(OUT, 'peak.wasm'),
  relaxedPeak: path.join(OUT, 'relaxed-peak.wasm'),
  ourModel: path.join(OUT, 'model.tflite'),  // the benchmarked .tflite, copied by prepare.sh
  labels: path.join(REPO, 'models', 'imagenet_labels.txt'),
};

/** Throws unless bench/prepare.sh made what `names` (the engines) need. */
export function checkPrepared(names = []) {
  const { onnxInt8 } = inputsNeeded(names);
  const missing = Object.entries(files)
    .filter(([k, f]) => (k !== 'onnxInt8' || onnxInt8) && !existsSync(f))
    .map(([, f]) => path.relative(REPO, f));
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run bench/prepare.sh (npm run bench does)`);
  }
}

const asArrayBuffer = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);

/**
 * Reads what the engines need (everything is in memory before any timing starts). The .tflite
 * bytes serve ours and tfjs-tflite alike: the very same file.
 */
export async function readInputs(which = ['ours', 'ort1', 'tfjs']) {
  const config = JSON.parse(await readFile(files.config, 'utf8'));
  const manifest = JSON.parse(await readFile(files.manifest, 'utf8'));
  const rgb = new Uint8Array(await readFile(files.input));
  const needs = inputsNeeded(which);
  return {
    config,
    manifest,
    rgb,
    modelBytes: needs.model ? new Uint8Array(await readFile(files.ourModel)) : null,
    onnxBytes: needs.onnx ? new Uint8Array(await readFile(files.onnx)) : null,
    onnxInt8Bytes: needs.onnxInt8 ? new Uint8Array(await readFile(files.onnxInt8)) : null,
    bin: needs.tfjsWeights ? asArrayBuffer(await readFile(files.weights)) : null,
  };
}

/** The package itself, through its own name (package.json "exports"). */
export async function importOurs() {
  return import('mobilenetv2-wasm');
}

let hooked = false;
/** A separate onnxruntime-web instance per `instance` (see ort-instance-hooks.mjs). */
export async function importOrt(instance) {
  if (!hooked) {
    register('./ort-instance-hooks.mjs', import.meta.url);
    hooked = true;
  }
  const url = pathToFileURL(require.resolve('onnxruntime-web')).href; // dist/ort.node.min.js -> use the .mjs
  return import(`${url.replace(/\.js$/, '.mjs')}?ort-instance=${instance}`);
}

/** @tensorflow/tfjs-core with the wasm backend selected. */
export async function importTfjs() {
  const m = await import('@tensorflow/tfjs-core');
  const tf = typeof m.setBackend === 'function' ? m : m.default;
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not initialize');
  return tf;
}

/**
 * @tensorflow/tfjs-tflite in Node, which it does not support: it runs in a browser page or a Web
 * Worker. fn({ tflite, version, build }) runs while this process poses as a Web Worker, the
 * minimal scope its loader and its Emscripten glue (built for the web only) use:
 *   - `self` (the global object) and `location`: the URL of the package's wasm/ folder, from which
 *     the loader resolves its glue script (as a worker script's location would);
 *   - `importScripts(url)`: reads the glue (a file: URL) and evaluates it as a classic script,
 *     its factory landing on `self` as a script's global would; the glue gets a `fetch` that also
 *     serves file: URLs (Node's has none), with which it streams its .wasm;
 *   - no SharedArrayBuffer while the package is required: the loader picks its build then, and
 *     the threaded one starts 8 nested Web Workers, which Node does not have; so TFLite takes its
 *     single-thread SIMD build (tflite_web_api_cc_simd), as in a worker of a page that is not
 *     cross-origin isolated. Hence one thread only in Node.
 * The globals go again when fn is done (the model is loaded by then: inference needs none of
 * them), so that no other engine in this process takes Node for a Web Worker.
 */
export async function withTflite(fn) {
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const location = new URL(`${pathToFileURL(path.join(dir, 'wasm')).href}/`);
  let build = null;
  const fileFetch = async (url, init) => {
    const u = new URL(String(url), location);
    if (u.protocol !== 'file:') return fetch(url, init);
    const type = u.pathname.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    return new Response(readFileSync(fileURLToPath(u)), { headers: { 'content-type': type } });
  };
  const scope = {
    self: globalThis,
    location,
    importScripts(...urls) {
      for (const url of urls) {
        const file = fileURLToPath(new URL(url, location));
        const name = /^(\w+?)_cc/.exec(path.basename(file))?.[1];
        if (!name) throw new Error(`importScripts: unexpected script ${file}`);
        const factory = `${name}_ModuleFactory`;
        // eslint-disable-next-line no-new-func
        globalThis[factory] = new Function('fetch', `${readFileSync(file, 'utf8')}\nreturn ${factory};`)(fileFetch);
        build = path.basename(file, '.js');
      }
    },
  };
  const had = Object.fromEntries(Object.keys(scope).map((k) => [k, Object.getOwnPropertyDescriptor(globalThis, k)]));
  for (const [k, v] of Object.entries(scope)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  try {
    const sab = Object.getOwnPropertyDescriptor(globalThis, 'SharedArrayBuffer');
    delete globalThis.SharedArrayBuffer;
    let tflite;
    try {
      tflite = require('@tensorflow/tfjs-tflite'); // dist/tf-tflite.node.js; starts loading its glue
    } finally {
      Object.defineProperty(globalThis, 'SharedArrayBuffer', sab);
    }
    return await fn({ tflite, version, build: () => build });
  } finally {
    for (const [k, d] of Object.entries(had)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
    for (const k of Object.keys(globalThis).filter((n) => n.endsWith('_ModuleFactory'))) delete globalThis[k];
  }
}

export function tfliteWasmFile({ threaded = false } = {}) {
  const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
  return path.join(dir, threaded ? 'tflite_web_api_cc_simd_threaded.wasm' : 'tflite_web_api_cc_simd.wasm');
}

export function ortWasmFile() {
  return path.join(path.dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm');
}

export function tfjsWasmFiles() {
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  return ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'].map((f) => path.join(dir, f));
}

/**
 * Raw and gzip -9 sizes of the WebAssembly binaries the engines run. `browser`: in the page
 * (cross-origin isolated) tfjs-tflite runs its threaded SIMD build, in Node its SIMD one.
 */
export async function wasmSizes(names, { browser = false } = {}) {
  const kinds = names.map(parseEngine);
  const entries = [['mobilenetv2-wasm', path.join(REPO, 'dist', 'mnv2-simd.wasm')]];
  if (kinds.some((k) => k.kind === 'ours' && k.threads > 1)) {
    entries.push(['mobilenetv2-wasm (threads)', path.join(REPO, 'dist', 'mnv2-simd-mt.wasm')]);
  }
  if (kinds.some((k) => k.kind === 'ours' && k.relaxed)) {
    entries.push(['mobilenetv2-wasm (relaxed SIMD)', path.join(REPO, 'dist', 'mnv2-relaxed.wasm')]);
  }
  if (names.some((n) => n.startsWith('ort'))) entries.push(['onnxruntime-web (wasm EP)', ortWasmFile()]);
  if (names.includes('tfjs')) for (const f of tfjsWasmFiles()) entries.push(['tfjs-backend-wasm', f]);
  if (names.some((n) => n.startsWith('tflite'))) entries.push(['tfjs-tflite', tfliteWasmFile({ threaded: browser })]);
  const out = [];
  for (const [engine, file] of entries) {
    const bytes = await readFile(file);
    out.push({
      engine,
      file: path.basename(file),
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      sha256: createHash('sha256').update(bytes).digest('hex').slice(0, 16),
    });
  }
  return out;
}

/**
 * Creates engine `name` (bench/lib/engines.mjs names), importing its module first. `cold`: for a
 * cold start, one engine in a fresh process: ours answers without waiting for every thread's
 * worker, and onnxruntime-web is the package as users import it (no instance hooks, whose loader
 * thread would add to its time).
 */
export async function createEngine(name, data, input, { cold = false } = {}) {
  const { kind, precision, threads, relaxed } = parseEngine(name);
  if (kind === 'ours') {
    const { load } = await importOurs();
    return createOurs({ load, modelBytes: data.modelBytes, input, precision, threads, relaxed, awaitAllThreads: !cold });
  }
  if (kind === 'ort') {
    const ort = cold ? await import('onnxruntime-web') : await importOrt(threads);
    const onnxBytes = precision === 'int8' ? data.onnxInt8Bytes : data.onnxBytes;
    return createOrt({ ort, threads, precision, onnxBytes, input });
  }
  if (kind === 'tflite') {
    return withTflite(({ tflite, version, build }) =>
      createTflite({ tflite, version, build, threads, modelBytes: data.modelBytes, manifest: data.manifest, input }));
  }
  return createTfjs({ tf: await importTfjs(), manifest: data.manifest, bin: data.bin, input });
}
