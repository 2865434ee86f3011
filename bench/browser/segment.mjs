// The segmentation benchmark's page (bench/segment.mjs --browser drives it in headless Chromium; it
// also runs by hand: serve the repository with scripts/serve.js, which maps /samples/ and
// /sample-models/ to ../shared, then open /bench/browser/segment.html?warmup=10&runs=30&models=1.0,0.5).
// The DeepLab files come from /sample-models/, the photo from /samples/. Ours on 1 and 2 threads,
// tfjs-tflite on 1 and 2 (its threaded SIMD build: the page is cross-origin isolated). Sets
// window.segmentResult (ours' one-thread mask per model as base64, for the reference comparison in Node).
import { MODELS, PHOTO, decodeBmp, runSegmentBench, segmentOptions } from '../lib/segment.mjs';
import { bytes, importTflite, log, pageEnv, publish } from './common.mjs';

const params = new URLSearchParams(location.search);

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
  return { ...result, ...pageEnv() };
}

publish(run(), 'segmentResult');
