// Node: where the benchmark's files are and how the engines' modules are imported
// (shared by bench/node.mjs and its cold-start children, bench/cold.mjs).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { register, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
  peak: path.join(OUT, 'peak.wasm'),
  ourModel: path.join(REPO, 'models', 'mobilenet_v2_1.0_224_quant.tflite'),
  labels: path.join(REPO, 'models', 'imagenet_labels.txt'),
};

export function checkPrepared() {
  const missing = Object.entries(files).filter(([, f]) => !existsSync(f)).map(([, f]) => path.relative(REPO, f));
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run bench/prepare.sh (npm run bench does)`);
  }
}

const asArrayBuffer = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);

/** Reads what the engines need (everything is in memory before any timing starts). */
export async function readInputs(which = ['ours', 'ort', 'tfjs']) {
  const config = JSON.parse(await readFile(files.config, 'utf8'));
  const manifest = JSON.parse(await readFile(files.manifest, 'utf8'));
  const rgb = new Uint8Array(await readFile(files.input));
  const needs = (x) => which.some((w) => w.startsWith(x));
  return {
    config,
    manifest,
    rgb,
    modelBytes: needs('ours') ? new Uint8Array(await readFile(files.ourModel)) : null,
    onnxBytes: needs('ort') ? new Uint8Array(await readFile(files.onnx)) : null,
    bin: needs('tfjs') ? asArrayBuffer(await readFile(files.weights)) : null,
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

export function ortWasmFile() {
  return path.join(path.dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm');
}

export function tfjsWasmFiles() {
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  return ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'].map((f) => path.join(dir, f));
}

/** Raw and gzip -9 sizes of the WebAssembly binaries the engines run. */
export async function wasmSizes(names) {
  const entries = [['mobilenetv2-wasm', path.join(REPO, 'dist', 'mnv2-simd.wasm')]];
  if (names.includes('ours2')) entries.push(['mobilenetv2-wasm (threads)', path.join(REPO, 'dist', 'mnv2-simd-mt.wasm')]);
  if (names.some((n) => n.startsWith('ort'))) entries.push(['onnxruntime-web (wasm EP)', ortWasmFile()]);
  if (names.includes('tfjs')) for (const f of tfjsWasmFiles()) entries.push(['tfjs-backend-wasm', f]);
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
