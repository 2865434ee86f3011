// The learner benchmark (npm run bench:learner): model.createClassifier() of this package against
// @tensorflow-models/knn-classifier on @tensorflow-models/mobilenet (TF.js 4.22, wasm backend),
// one thread each, in Node or (--browser) in headless Chromium; see bench/README.md ("The learner").
//   node bench/learner.mjs [--browser] [--warmup N] [--runs N] [--train-runs N] [--epochs N]
//                          [--train-examples N] [--store-examples N] [--k N] [--noise X] [--seed N]
//                          [--precision int8|fp32]
// Training: 500 examples x 10 classes, classifier.train({ epochs: 50 }) against knn-classifier's
// addExample (it has no training). Classify: a photo with 1,000 stored examples (knn) against a
// plain model.classify, and TF.js's infer(img, true) + knn.predictClass against mobilenet.classify.
// Prints the report, then one line of JSON with every figure.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { eachArg } from './lib/args.mjs';
import { PHOTOS, QUERY, learnerOptions, learnerReport, runLearnerBench } from './lib/learner.mjs';
import { REPO, files, importOurs, importTfjs } from './lib/node-io.mjs';

const SHARED = process.env.MNV2_SHARED_DIR ?? path.join(REPO, '..', 'shared');
const require = createRequire(path.join(REPO, 'package.json'));
const log = (s) => process.stderr.write(`bench: ${s}\n`);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
const requireInstalled = (name) => {
  try {
    return require(name);
  } catch (e) {
    if (e.code === 'MODULE_NOT_FOUND') throw new Error(`${name} is not installed: run npm install (it is a devDependency)`);
    throw e;
  }
};

const argv = {};
let browser = false;
eachArg(process.argv.slice(2), (arg, value) => {
  if (arg === '--browser') browser = true;
  else if (/^--[a-z][a-z0-9-]*$/.test(arg)) argv[arg.slice(2).replace(/-(\w)/g, (_, ch) => ch.toUpperCase())] = value();
  else return false;
  return true;
});
const known = ['warmup', 'runs', 'trainRuns', 'trainExamples', 'storeExamples', 'epochs', 'k', 'noise', 'seed', 'precision'];
for (const k of Object.keys(argv)) if (!known.includes(k)) throw new Error(`unknown argument --${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`);
const options = learnerOptions((k) => argv[k]);

// What both platforms need from bench/prepare.sh: the photo's 224x224 pixels, and the export the
// TF.js model is built from.
const config = JSON.parse(await readFile(files.config, 'utf8').catch(() => {
  throw new Error(`missing ${path.relative(REPO, files.config)}: run bench/prepare.sh (npm run bench:learner does)`);
}));
if (path.basename(config.image) !== QUERY) throw new Error(`bench/out/input.rgb is ${config.image}, not ${QUERY}: run bench/prepare.sh without MNV2_BENCH_IMAGE`);
const loadavgAtStart = os.loadavg();

let result;
let runtime;
let cores = os.cpus().length;
if (!browser) {
  const manifest = JSON.parse(await readFile(files.manifest, 'utf8'));
  const weights = await readFile(files.weights);
  const bin = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const pixels = { data: new Uint8Array(await readFile(files.input)), width: 224, height: 224 };
  const photos = [];
  for (const name of PHOTOS) photos.push({ name, bytes: new Uint8Array(await readFile(path.join(SHARED, 'images', name))) });
  const { load } = await importOurs();
  const tf = await importTfjs();
  result = await runLearnerBench({
    load, tf, mobilenet: requireInstalled('@tensorflow-models/mobilenet'), knnClassifier: requireInstalled('@tensorflow-models/knn-classifier'),
    photos, pixels, manifest, bin, options, log,
    cpuNow: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
  });
  runtime = `node ${process.version}`;
} else {
  const { runPage } = await import('./lib/chromium.mjs');
  ({ result, runtime, cores } = await runPage({
    server: { samplesDir: path.join(SHARED, 'images') },
    page: `/bench/browser/learner.html?${new URLSearchParams(Object.entries(argv))}`, key: 'learnerResult',
  }));
}

// The learner's own WebAssembly module, where the build has one (loaded by the first classifier call).
let learnerWasm;
const learnerFile = path.join(REPO, 'dist', 'mnv2-learner-simd.wasm');
if (existsSync(learnerFile)) {
  const bytes = readFileSync(learnerFile);
  learnerWasm = { file: path.basename(learnerFile), raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, sha256: sha256(bytes) };
}
// Which build was measured (as bench/node.mjs records it).
const modelWasm = { file: 'mnv2-simd.wasm', sha256: sha256(readFileSync(path.join(REPO, 'dist', 'mnv2-simd.wasm'))) };

const full = {
  bench: 'mobilenetv2-wasm learner: createClassifier against @tensorflow-models/knn-classifier + mobilenet',
  env: { runtime, cpu: os.cpus()[0]?.model ?? '?', cores, platform: `${os.platform()} ${os.arch()}`, loadavgAtStart, loadavgAtEnd: os.loadavg() },
  ...result,
  learnerWasm,
  modelWasm,
};
for (const line of learnerReport(full)) console.log(line);
console.log(JSON.stringify(full));
process.exit(0);
