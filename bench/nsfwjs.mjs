// The TF.js-models benchmark (npm run bench:nsfwjs; npm run bench runs it after the main one):
// nsfwjs's two MobileNetV2 models (a Keras layers model, α = 1.0, and a TF Hub graph model, α = 1.4;
// the exact-pinned devDependency) run from the very same model.json and shards by this package and
// by TensorFlow.js on its WASM backend (tfjs-layers / tfjs-converter, the way nsfwjs itself loads
// them), alternating, on the same 224x224 photo scaled to [0, 1] as nsfwjs does.
//   node bench/nsfwjs.mjs [--warmup N] [--runs N] [--models mobilenet_v2,mobilenet_v2_mid]
// Prints the report, then one line of JSON with every figure.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { NSFWJS_CLASSES, NSFWJS_MODELS, nsfwjsInstalled, nsfwjsModel } from '../tests/js/nsfwjs.js';
import { eachArg } from './lib/args.mjs';
import { plural } from './lib/engines.mjs';
import { checkAgreement, measure, ratios } from './lib/harness.mjs';
import { REPO, files, importOurs, importTfjs } from './lib/node-io.mjs';

const require = createRequire(path.join(REPO, 'package.json'));

function parseArgs(argv) {
  const a = { warmup: 20, runs: 40, models: Object.keys(NSFWJS_MODELS) };
  eachArg(argv, (arg, value) => {
    if (arg === '--warmup') a.warmup = Number(value());
    else if (arg === '--runs') a.runs = Number(value());
    else if (arg === '--models') a.models = value().split(',');
    else return false;
    return true;
  });
  for (const m of a.models) if (!NSFWJS_MODELS[m]) throw new Error(`unknown model ${m} (${Object.keys(NSFWJS_MODELS).join(', ')})`);
  if (!Number.isInteger(a.warmup) || a.warmup < 0 || !Number.isInteger(a.runs) || a.runs < 1) throw new Error('bad --warmup / --runs');
  return a;
}

/**
 * This package on the model.json (path), pixels scaled to [0, 1] by the engine itself; one
 * thread, like TF.js (the package's default in Node is the cores, at most 4).
 */
async function createOurs(load, files, pixels) {
  const model = await load({
    model: path.join(files.dir, 'model.json'), labels: NSFWJS_CLASSES, inputRange: [0, 1], simd: true, threads: 1,
  });
  return {
    name: 'ours',
    label: `mobilenetv2-wasm (${model.info.target}) ${plural(model.info.threads)}`,
    details: { target: model.info.target, threads: model.info.threads, multiplyAdds: model.info.multiplyAdds, alpha: model.info.alpha },
    multiplyAdds: model.info.multiplyAdds,
    alpha: model.info.alpha,
    run: () => model.scores(pixels),
    dispose: () => model.dispose(),
  };
}

/** TensorFlow.js (wasm backend) on the same files, as nsfwjs runs them: pixels / 255 in, predict, probabilities out. */
async function createTfjs(tf, format, files, pixels) {
  const shards = await Promise.all(files.paths.map((p) => readFile(path.join(files.dir, p))));
  const weights = Buffer.concat(shards);
  const handler = {
    load: async () => ({
      modelTopology: files.json.modelTopology,
      format: files.json.format,
      weightSpecs: files.json.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  };
  const model = format === 'layers'
    ? await require('@tensorflow/tfjs-layers').loadLayersModel(handler)
    : await require('@tensorflow/tfjs-converter').loadGraphModel(handler);
  // The input tensor is made once, untimed (ours gets the pixels and normalizes them in each run).
  const x = tf.tidy(() => tf.div(tf.cast(tf.tensor(pixels.data, [1, pixels.height, pixels.width, 3], 'int32'), 'float32'), 255));
  return {
    name: 'tfjs',
    label: `tfjs-backend-wasm ${tf.version_core} (${format === 'layers' ? 'tfjs-layers' : 'tfjs-converter'})`,
    details: { version: tf.version_core, backend: tf.getBackend(), loader: format },
    run: async () => {
      const y = model.predict(x);
      const data = y.dataSync();
      y.dispose();
      return data;
    },
    dispose: () => {
      x.dispose();
      model.dispose();
    },
  };
}

const args = parseArgs(process.argv.slice(2));
if (!(await nsfwjsInstalled())) throw new Error('nsfwjs is not installed: run npm install');
const log = (s) => process.stderr.write(`${s}\n`);
const loadavgAtStart = os.loadavg();
// The main benchmark's photo (bench/prepare.sh: ../shared/images/cat.bmp resized to 224x224).
const pixels = { data: new Uint8Array(await readFile(files.input)), width: 224, height: 224 };
if (pixels.data.length !== 224 * 224 * 3) throw new Error(`${files.input} is not 224x224 RGB: run bench/prepare.sh`);
const { load } = await importOurs();
const tf = await importTfjs();
tf.enableProdMode();

const results = [];
for (const name of args.models) {
  const files = await nsfwjsModel(name);
  const format = NSFWJS_MODELS[name].format;
  log(`bench: nsfwjs ${name} (${format}): creating the engines`);
  const engines = [await createOurs(load, files, pixels), await createTfjs(tf, format, files, pixels)];
  const agreement = await checkAgreement(engines);
  log(`bench: warm-up ${args.warmup} runs per engine, then ${args.runs} timed rounds`);
  const timed = await measure(engines, { warmup: args.warmup, runs: args.runs });
  for (const e of engines) await e.dispose();
  results.push({ model: name, format, alpha: engines[0].alpha, multiplyAdds: engines[0].multiplyAdds, engines: timed, ratios: ratios(timed), agreement });
}

const lines = [];
const nsfwjsVersion = JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'nsfwjs', 'package.json'), 'utf8')).version;
lines.push(`nsfwjs ${nsfwjsVersion} MobileNetV2 models, the same model.json and shards in both engines, ` +
  `batch 1, 224x224 ${path.basename(JSON.parse(await readFile(files.config, 'utf8')).image)} scaled to [0, 1]`);
lines.push(`node ${process.version}; ${os.cpus()[0]?.model ?? '?'}; ${os.cpus().length} cores; load average ` +
  `${loadavgAtStart.map((x) => x.toFixed(2)).join(' ')} at start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at end`);
lines.push(`warm-up ${args.warmup} runs per engine, then ${args.runs} timed runs each, engines alternating run by run`);
for (const r of results) {
  lines.push('');
  lines.push(`${r.model} (${r.format} model, α = ${r.alpha}, ${(r.multiplyAdds / 1e6).toFixed(0)} M multiply-adds)`);
  const w = Math.max(...r.engines.map((e) => e.label.length)) + 2;
  lines.push(`  ${'engine'.padEnd(w)}${'median ms'.padStart(10)}${'min ms'.padStart(9)}   ours/anchor median, min`);
  for (const e of r.engines) {
    const ratio = r.ratios.find((x) => x.anchor === e.name);
    lines.push(`  ${e.label.padEnd(w)}${e.medianMs.toFixed(2).padStart(10)}${e.minMs.toFixed(2).padStart(9)}   ` +
      `${ratio ? `${ratio.median.toFixed(3)}  ${ratio.min.toFixed(3)}` : '(ours)'}`);
  }
  const top = r.agreement.top1;
  lines.push(`  agreement: max |difference| of the ${r.agreement.classes} probabilities ${r.agreement.maxAbsDiff.tfjs.toExponential(2)}; ` +
    `top-1 ${top.ours === top.tfjs ? `${NSFWJS_CLASSES[top.ours]} for both` : `ours ${NSFWJS_CLASSES[top.ours]}, TF.js ${NSFWJS_CLASSES[top.tfjs]}`}`);
}
for (const line of lines) console.log(line);
console.log(JSON.stringify({
  bench: 'mobilenetv2-wasm issue 9: nsfwjs models',
  env: { runtime: `node ${process.version}`, cpu: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, loadavgAtStart, loadavgAtEnd: os.loadavg() },
  config: { warmup: args.warmup, runs: args.runs, batch: 1 },
  results,
}));
process.exit(0);
