// The segmentation benchmark's page (bench/segment.mjs --browser drives it in headless Chromium; it
// also runs by hand: serve the repository with scripts/serve.js, which maps /samples/ and
// /sample-models/ to ../shared, then open /bench/browser/segment.html?warmup=10&runs=30&models=1.0,0.5).
// The DeepLab files come from /sample-models/, the photo from /samples/. Ours on 1 and 2 threads,
// tfjs-tflite on 1 and 2 (its threaded SIMD build: the page is cross-origin isolated). Sets
// window.segmentResult (ours' one-thread mask per model as base64, for the reference comparison in Node).
import { MODELS, PHOTO, decodeBmp, runSegmentBench, segmentOptions } from '../lib/segment.mjs';

const params = new URLSearchParams(location.search);
const out = document.getElementById('log');
const log = (s) => {
  out.textContent += `\n${s}`;
  console.log(`bench: ${s}`);
};

const TFJS_CORE = '/node_modules/@tensorflow/tfjs-core/dist/tf-core.es2017.min.js';
const TFLITE = '/node_modules/@tensorflow/tfjs-tflite/';

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function script(src) {
  return new Promise((resolve, reject) => {
    const s = Object.assign(document.createElement('script'), { src, crossOrigin: 'anonymous' });
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

// tfjs-tflite from its UMD build on tfjs-core's, as bench/browser/page.mjs loads it (one module for
// every thread count; loading the script also tries its glue in dist/: one harmless 404).
async function importTflite() {
  await script(TFJS_CORE);
  await script(`${TFLITE}dist/tf-tflite.min.js`);
  const { tflite } = globalThis;
  tflite.setWasmPath(`${TFLITE}wasm/`);
  const { version } = await fetch(`${TFLITE}package.json`).then((r) => r.json());
  // The build it loaded: the .wasm it fetched.
  const build = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)
    .filter((p) => p.startsWith(`${TFLITE}wasm/`) && p.endsWith('.wasm')).map((p) => p.split('/').pop().replace(/\.wasm$/, '')).at(-1) ?? null;
  return { tflite, version, build };
}

function base64(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

async function run() {
  const options = segmentOptions((k) => params.get(k));
  log(`crossOriginIsolated: ${globalThis.crossOriginIsolated}, ${navigator.hardwareConcurrency} cores`);
  const files = MODELS.filter((m) => options.models.includes(m.file));
  const [photoBytes, ...modelBytes] = await Promise.all([
    bytes(`/samples/${PHOTO}`),
    ...files.map((m) => bytes(`/sample-models/${m.file}`)),
  ]);
  const photo = decodeBmp(photoBytes);
  const { load } = await import('/web/browser.js');
  const { tflite, version, build } = await importTflite();
  const loadTflite = async (b, threads) => {
    const buffer = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    const model = await tflite.loadTFLiteModel(buffer, { numThreads: threads });
    return { model, version, build: build() };
  };
  const result = await runSegmentBench({
    load, loadTflite,
    models: files.map((m, i) => ({ ...m, bytes: modelBytes[i] })),
    pixels: { data: photo.data, width: photo.width, height: photo.height },
    oursThreads: [1, 2], tfliteThreads: [1, 2], options, log,
  });
  for (const m of result.models) m.mask = base64(m.mask);
  return { ...result, crossOriginIsolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency, userAgent: navigator.userAgent };
}

run().then(
  (result) => {
    window.segmentResult = result;
    log('done');
  },
  (error) => {
    window.benchError = String(error?.stack ?? error);
    log(`error: ${window.benchError}`);
  },
);
