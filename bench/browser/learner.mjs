// The learner benchmark's page (bench/learner.mjs --browser drives it in headless Chromium; it also
// runs by hand: node scripts/serve.js, then open /bench/browser/learner.html?runs=40&epochs=50).
// The options are bench/learner.mjs's, camelCase (trainRuns, storeExamples, ...). The photos come
// from the server's /samples/ (../shared/images), the 224x224 pixels and the TF.js model's weights
// from bench/out/ (bench/prepare.sh). Sets window.learnerResult.
import { PHOTOS, learnerOptions, runLearnerBench } from '../lib/learner.mjs';

const params = new URLSearchParams(location.search);
const out = document.getElementById('log');
const log = (s) => {
  out.textContent += `\n${s}`;
  console.log(`bench: ${s}`);
};

const TFJS_CORE = '/node_modules/@tensorflow/tfjs-core/dist/tf-core.es2017.min.js';
const TFJS_WASM_DIST = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
const TFJS_CONVERTER = '/node_modules/@tensorflow/tfjs-converter/dist/tf-converter.es2017.min.js';
const MOBILENET = '/node_modules/@tensorflow-models/mobilenet/dist/mobilenet.min.js';
const KNN = '/node_modules/@tensorflow-models/knn-classifier/dist/knn-classifier.min.js';

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

// TF.js from its browser (UMD) builds, the wasm backend single-threaded (as in bench/browser/page.mjs),
// then the two models' UMD builds on the global tf.
async function importTfjs() {
  await script(TFJS_CORE);
  await script(`${TFJS_WASM_DIST}tf-backend-wasm.es2017.min.js`);
  await script(TFJS_CONVERTER);
  const { tf } = globalThis;
  tf.wasm.setWasmPaths(TFJS_WASM_DIST);
  tf.wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not initialize');
  await script(MOBILENET);
  await script(KNN);
  return { tf, mobilenet: globalThis.mobilenet, knnClassifier: globalThis.knnClassifier };
}

async function run() {
  const options = learnerOptions((k) => params.get(k));
  log(`crossOriginIsolated: ${globalThis.crossOriginIsolated}, ${navigator.hardwareConcurrency} cores`);
  const [manifest, rgb, bin, ...photoBytes] = await Promise.all([
    fetch('/bench/out/weights.json').then((r) => r.json()),
    bytes('/bench/out/input.rgb'),
    bytes('/bench/out/weights.bin').then((b) => b.buffer),
    ...PHOTOS.map((name) => bytes(`/samples/${name}`)),
  ]);
  const { load } = await import('/web/browser.js');
  const { tf, mobilenet, knnClassifier } = await importTfjs();
  const result = await runLearnerBench({
    load, tf, mobilenet, knnClassifier,
    photos: PHOTOS.map((name, i) => ({ name, bytes: photoBytes[i] })),
    pixels: { data: rgb, width: 224, height: 224 },
    manifest, bin, options, log,
  });
  return { ...result, crossOriginIsolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency, userAgent: navigator.userAgent };
}

run().then(
  (result) => {
    window.learnerResult = result;
    log('done');
  },
  (error) => {
    window.benchError = String(error?.stack ?? error);
    log(`error: ${window.benchError}`);
  },
);
