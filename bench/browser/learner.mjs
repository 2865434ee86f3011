// The learner benchmark's page (bench/learner.mjs --browser drives it in headless Chromium; it also
// runs by hand: node scripts/serve.js, then open /bench/browser/learner.html?runs=40&epochs=50).
// The options are bench/learner.mjs's, camelCase (trainRuns, storeExamples, ...). The photos come
// from the server's /samples/ (../shared/images), the 224x224 pixels and the TF.js model's weights
// from bench/out/ (bench/prepare.sh). Sets window.learnerResult.
import { PHOTOS, learnerOptions, runLearnerBench } from '../lib/learner.mjs';
import { bytes, importTfjs, log, pageEnv, publish, script } from './common.mjs';

const params = new URLSearchParams(location.search);

const TFJS_CONVERTER = '/node_modules/@tensorflow/tfjs-converter/dist/tf-converter.es2017.min.js';
const MOBILENET = '/node_modules/@tensorflow-models/mobilenet/dist/mobilenet.min.js';
const KNN = '/node_modules/@tensorflow-models/knn-classifier/dist/knn-classifier.min.js';

// TF.js with its wasm backend single-threaded (common.mjs), then the converter and the two models'
// UMD builds on the global tf.
async function importModels() {
  const tf = await importTfjs();
  await script(TFJS_CONVERTER);
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
  const { tf, mobilenet, knnClassifier } = await importModels();
  const result = await runLearnerBench({
    load, tf, mobilenet, knnClassifier,
    photos: PHOTOS.map((name, i) => ({ name, bytes: photoBytes[i] })),
    pixels: { data: rgb, width: 224, height: 224 },
    manifest, bin, options, log,
  });
  return { ...result, ...pageEnv() };
}

publish(run(), 'learnerResult');
