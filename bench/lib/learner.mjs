// The learner benchmark (bench/learner.mjs), the same in Node and in the page
// (bench/browser/learner.mjs): model.createClassifier() of this package against
// @tensorflow-models/knn-classifier on @tensorflow-models/mobilenet (TF.js, wasm backend), one
// thread each. The platform entry points import the modules and read the files; this only uses
// what they hand over. See bench/README.md ("The learner").
import { measure, median } from './harness.mjs';
import { mobilenetV2Handler } from './tfjs-mobilenet.mjs';

/**
 * The ten classes: photos of ../shared/images, one class each, named after the file. cat_720p.jpg
 * is left out: it is the cat of cat.bmp (their embeddings' cosine is 0.99).
 */
export const PHOTOS = [
  'bird.bmp', 'bird_segmentation.bmp', 'cat.bmp', 'dragonfly.bmp', 'grace_hopper.bmp', 'hot_dog.jpg',
  'missvickie_potato_chips.bmp', 'owl.jpg', 'parrot.jpg', 'sunflower.bmp',
];
/** The photo classified: its 224x224 pixels are bench/out/input.rgb (bench/prepare.sh). */
export const QUERY = 'cat.bmp';
export const labelOf = (photo) => photo.replace(/\.\w+$/, '');

export const LEARNER_DEFAULTS = {
  warmup: 20, runs: 40, trainRuns: 7, trainExamples: 500, storeExamples: 1000, epochs: 50, k: 3, noise: 1, seed: 1,
};
// The issue's goals: train <= 200 ms; classify with the stored examples <= 1.1 x a plain classify.
export const GOALS = { trainMs: 200, knnOverBase: 1.1 };

/** The options from `get(name)` (a query parameter or a parsed argument; undefined: the default). */
export function learnerOptions(get) {
  const o = { ...LEARNER_DEFAULTS };
  for (const key of Object.keys(LEARNER_DEFAULTS)) {
    const v = get(key);
    if (v !== undefined && v !== null) o[key] = Number(v);
  }
  for (const key of ['warmup', 'runs', 'trainRuns', 'trainExamples', 'storeExamples', 'epochs', 'k', 'seed']) {
    if (!Number.isInteger(o[key]) || o[key] < (key === 'warmup' ? 0 : 1)) throw new Error(`bad ${key}: ${o[key]}`);
  }
  if (!(o.noise >= 0)) throw new Error(`bad noise: ${o.noise}`);
  const precision = get('precision');
  if (precision !== undefined && precision !== null && !['int8', 'fp32'].includes(precision)) throw new Error(`bad precision ${precision}`);
  o.precision = precision ?? undefined;
  return o;
}

// mulberry32: a small seeded generator, the same numbers in every engine.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` examples, class after class (count / classes of each, as a user adds them): each the
 * photo's real embedding plus Gaussian noise of `noise` times that embedding's RMS per feature,
 * clamped at 0 (the features are ReLU6 outputs). Returns [{ label, embedding: Float32Array }].
 */
export function makeExamples(bases, count, noise, seed) {
  const rand = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const perClass = Math.ceil(count / bases.length);
  const out = [];
  for (const { label, embedding } of bases) {
    const rms = Math.sqrt(embedding.reduce((s, v) => s + v * v, 0) / embedding.length);
    for (let i = 0; i < perClass && out.length < count; i++) {
      const e = new Float32Array(embedding.length);
      for (let j = 0; j < e.length; j++) e[j] = Math.max(0, embedding[j] + noise * rms * gauss());
      out.push({ label, embedding: e });
    }
  }
  return out;
}

function cosine(a, b) {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function summary(times) {
  return {
    medianMs: median(times),
    minMs: Math.min(...times),
    timesMs: times.map((t) => Math.round(t * 1000) / 1000),
  };
}

const now = () => performance.now();

/**
 * Runs the benchmark and returns its result (everything but the platform's env).
 *   load               this package's load()
 *   tf                 @tensorflow/tfjs-core with the wasm backend selected, one thread
 *   mobilenet          @tensorflow-models/mobilenet; knnClassifier: @tensorflow-models/knn-classifier
 *   photos             [{ name, bytes: Uint8Array }] of PHOTOS (the encoded files)
 *   pixels             { data, width: 224, height: 224 }: QUERY resized (bench/out/input.rgb)
 *   manifest, bin      bench/out/weights.json and weights.bin (ArrayBuffer): the TF.js model's weights
 *   cpuNow             optional (Node): the process's CPU time so far in ms, to time train() also in CPU
 *                      time, which other load on the machine inflates less than the wall clock
 */
export async function runLearnerBench({ load, tf, mobilenet, knnClassifier, photos, pixels, manifest, bin, options: o, log, cpuNow }) {
  const result = { config: { ...o, photos: photos.map((p) => p.name), query: QUERY, threads: 1 } };

  // ---- ours ----
  const model = await load({ threads: 1, ...(o.precision ? { precision: o.precision } : {}) });
  if (model.info.threads !== 1) throw new Error(`ours runs ${model.info.threads} threads, not 1`);
  result.ours = {
    target: model.info.target, precision: model.info.precision, threads: model.info.threads, featureSize: model.info.featureSize,
    label: `mobilenetv2-wasm (${model.info.target}${model.info.simd ? ' SIMD' : ''}, ${model.info.precision}) 1 thread`,
  };
  log(`ours: ${result.ours.label}; embedding the ${photos.length} photos`);
  const bases = [];
  for (const p of photos) bases.push({ label: labelOf(p.name), embedding: await model.embed(p.bytes) });
  const trainSet = makeExamples(bases, o.trainExamples, o.noise, o.seed);
  const storeSet = makeExamples(bases, o.storeExamples, o.noise, o.seed + 1);
  result.data = {
    how: `real embeddings (ours, model.embed of each photo's file) + Gaussian noise of ${o.noise} x the embedding's RMS, clamped at 0, seeded (mulberry32, seed ${o.seed} for training, ${o.seed + 1} for the store); the same vectors go to both learners`,
    classes: bases.length,
    featureSize: bases[0].embedding.length,
    trainExamples: trainSet.length,
    storeExamples: storeSet.length,
  };
  const query = photos.find((p) => p.name === QUERY);

  // ---- TF.js ----
  tf.enableProdMode();
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`TF.js backend is ${tf.getBackend()}, not wasm`);
  const tfThreads = (() => {
    try {
      return tf.backend()?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
    } catch {
      return 1;
    }
  })();
  log('TF.js: @tensorflow-models/mobilenet from bench/out/weights.json (a graph model built in memory)');
  let t0 = now();
  // inputRange [-1, 127/128]: pixel * (2 - 1/128) / 255 - 1 = (pixel - 128) / 128, the .tflite's own input scaling.
  const net = await mobilenet.load({ version: 2, alpha: 1.0, modelUrl: mobilenetV2Handler(manifest, bin), inputRange: [-1, 127 / 128] });
  const tfLoadMs = now() - t0;
  result.tfjs = {
    core: tf.version_core, mobilenet: mobilenet.version, knnClassifier: knnClassifier.version, backend: tf.getBackend(), threads: tfThreads, loadMs: tfLoadMs,
    label: `TF.js ${tf.version_core} wasm (float32) ${tfThreads} thread${tfThreads > 1 ? 's' : ''}`,
  };
  const x = tf.tensor3d(pixels.data, [pixels.height, pixels.width, 3], 'int32'); // made once, untimed (ours gets the pixels)

  // ---- agreement: the TF.js graph is the same network ----
  {
    const tfEmbedding = tf.tidy(() => net.infer(x, true).dataSync());
    const ours = await model.embed(pixels);
    const fp32 = o.precision === 'fp32' ? model : await load({ threads: 1, precision: 'fp32' });
    const oursFp32 = await fp32.embed(pixels);
    if (fp32 !== model) fp32.dispose();
    const tfTop = await net.classify(x, 1);
    const oursTop = await model.classify(pixels, { topk: 1 });
    result.agreement = {
      embeddingMaxAbsDiffFp32: maxAbsDiff(oursFp32, tfEmbedding),
      embeddingCosine: cosine(ours, tfEmbedding),
      embeddingMaxAbsDiff: maxAbsDiff(ours, tfEmbedding),
      top1: { ours: oursTop[0].label, tfjs: tfTop[0].className },
    };
  }

  // ---- ours' first classifier call: the learner's code (a module of its own in some builds) comes then ----
  {
    const c = model.createClassifier();
    const s = now();
    await c.addEmbedding(trainSet[0].embedding, trainSet[0].label);
    result.ours.firstClassifierCallMs = now() - s;
    c.dispose();
  }

  // ---- training: ours addEmbedding x N + train; knn-classifier addExample x N (all it does) ----
  log(`training: ${trainSet.length} examples, ${o.epochs} epochs; 1 untimed round, then ${o.trainRuns}, alternating`);
  const trainTensors = trainSet.map((e) => tf.tensor2d(e.embedding, [1, e.embedding.length]));
  const queryEmbedding = net.infer(x, true);
  const t = { oursAdd: [], oursTrain: [], oursTrainApi: [], oursTrainCpu: [], knnAdd: [], knnFirstPredict: [] };
  let loss;
  let firstTrainMs;
  let trainedTop;
  const oursRound = async (timed) => {
    const c = model.createClassifier();
    let s = now();
    for (const e of trainSet) await c.addEmbedding(e.embedding, e.label);
    const add = now() - s;
    const cpu = cpuNow?.();
    s = now();
    const r = await c.train({ epochs: o.epochs });
    const train = now() - s;
    const trainCpu = cpuNow ? cpuNow() - cpu : undefined;
    if (firstTrainMs === undefined) firstTrainMs = train;
    if (timed) {
      t.oursAdd.push(add);
      t.oursTrain.push(train);
      t.oursTrainApi.push(r.ms);
      if (cpuNow) t.oursTrainCpu.push(trainCpu);
      loss = r.loss;
      trainedTop = (await c.classify(pixels, { method: 'softmax', topk: 1 }))[0];
    }
    c.dispose();
  };
  const knnRound = async (timed) => {
    const knn = knnClassifier.create();
    let s = now();
    for (let i = 0; i < trainSet.length; i++) knn.addExample(trainTensors[i], trainSet[i].label);
    const add = now() - s;
    s = now();
    await knn.predictClass(queryEmbedding, o.k);
    const first = now() - s;
    if (timed) {
      t.knnAdd.push(add);
      t.knnFirstPredict.push(first);
    }
    knn.dispose();
  };
  for (let r = 0; r <= o.trainRuns; r++) {
    const order = r % 2 ? [knnRound, oursRound] : [oursRound, knnRound];
    for (const f of order) await f(r > 0);
  }
  trainTensors.forEach((q) => q.dispose());
  result.training = {
    ours: {
      addEmbeddings: summary(t.oursAdd), train: summary(t.oursTrain), trainApiMs: summary(t.oursTrainApi), firstTrainMs,
      ...(cpuNow ? { trainCpu: summary(t.oursTrainCpu) } : {}),
      loss, top1AfterTraining: trainedTop,
    },
    knn: { addExamples: summary(t.knnAdd), firstPredict: summary(t.knnFirstPredict) },
  };

  // ---- the stores of storeExamples: ours a classifier, TF.js a KNNClassifier ----
  log(`stores of ${storeSet.length} examples`);
  const classifier = model.createClassifier();
  t0 = now();
  for (const e of storeSet) await classifier.addEmbedding(e.embedding, e.label);
  const oursStoreMs = now() - t0;
  const storeTensors = storeSet.map((e) => tf.tensor2d(e.embedding, [1, e.embedding.length]));
  const knn = knnClassifier.create();
  t0 = now();
  for (let i = 0; i < storeSet.length; i++) knn.addExample(storeTensors[i], storeSet[i].label);
  const knnStoreMs = now() - t0;
  storeTensors.forEach((q) => q.dispose());
  queryEmbedding.dispose();
  result.store = { examples: storeSet.length, oursAddEmbeddingsMs: oursStoreMs, knnAddExamplesMs: knnStoreMs };

  // ---- classify one photo: plain classify against the learner's knn with the store ----
  const engines = [
    { name: 'base', label: 'ours  model.classify(pixels)', run: () => model.classify(pixels) },
    { name: 'knn', label: `ours  classifier.classify(pixels, knn)`, run: () => classifier.classify(pixels, { method: 'knn', k: o.k }) },
    { name: 'baseFile', label: `ours  model.classify(${QUERY} bytes)`, run: () => model.classify(query.bytes) },
    { name: 'knnFile', label: `ours  classifier.classify(${QUERY} bytes, knn)`, run: () => classifier.classify(query.bytes, { method: 'knn', k: o.k }) },
    { name: 'tfjsBase', label: 'TF.js mobilenet.classify(x)', run: () => net.classify(x, 5) },
    {
      name: 'tfjsKnn',
      label: 'TF.js infer(x, true) + knn.predictClass',
      run: async () => {
        const embedding = net.infer(x, true);
        const r = await knn.predictClass(embedding, o.k);
        embedding.dispose();
        return r;
      },
    },
  ];
  const answers = {};
  for (const e of engines) answers[e.name] = await e.run();
  result.predictions = {
    knn: answers.knn[0], knnFile: answers.knnFile[0], tfjsKnn: { label: answers.tfjsKnn.label, score: answers.tfjsKnn.confidences[answers.tfjsKnn.label] },
    base: answers.base[0], tfjsBase: answers.tfjsBase[0],
  };
  log(`classify: warm-up ${o.warmup} runs per engine, then ${o.runs} timed rounds, alternating`);
  const classify = await measure(engines, { warmup: o.warmup, runs: o.runs, onRound: (r) => r % 10 === 0 && log(`classify ${r}/${o.runs}`) });
  const by = Object.fromEntries(classify.map((r) => [r.name, r]));
  const ratio = (a, b) => ({ median: by[a].medianMs / by[b].medianMs, min: by[a].minMs / by[b].minMs });
  result.classify = classify.map(({ details, ...r }) => r);
  result.ratios = {
    knnOverBase: ratio('knn', 'base'),
    knnFileOverBaseFile: ratio('knnFile', 'baseFile'),
    tfjsKnnOverTfjsBase: ratio('tfjsKnn', 'tfjsBase'),
    oursKnnOverTfjsKnn: ratio('knn', 'tfjsKnn'),
    oursBaseOverTfjsBase: ratio('base', 'tfjsBase'),
  };
  classifier.dispose();
  knn.dispose();

  // ---- add one example from a photo: embed + store ----
  const addClassifier = model.createClassifier();
  const addKnn = knnClassifier.create();
  const adders = [
    { name: 'oursAdd', label: 'ours  classifier.addExample(pixels)', run: () => addClassifier.addExample(pixels, labelOf(QUERY)) },
    {
      name: 'tfjsAdd',
      label: 'TF.js infer(x, true) + knn.addExample',
      run: async () => {
        const embedding = net.infer(x, true);
        addKnn.addExample(embedding, labelOf(QUERY));
        embedding.dispose();
      },
    },
  ];
  const addRuns = Math.max(5, Math.round(o.runs / 2));
  const addWarmup = Math.round(o.warmup / 2);
  log(`add from a photo: warm-up ${addWarmup}, then ${addRuns} rounds`);
  result.addFromPhoto = {
    runs: addRuns, warmup: addWarmup,
    engines: (await measure(adders, { warmup: addWarmup, runs: addRuns })).map(({ details, ...r }) => r),
  };
  addClassifier.dispose();
  addKnn.dispose();
  x.dispose();
  model.dispose();

  result.goals = {
    trainMs: { goal: GOALS.trainMs, median: result.training.ours.train.medianMs, met: result.training.ours.train.medianMs <= GOALS.trainMs },
    knnOverBase: { goal: GOALS.knnOverBase, median: result.ratios.knnOverBase.median, met: result.ratios.knnOverBase.median <= GOALS.knnOverBase },
  };
  return result;
}

// ---- report ----
const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

/** The human-readable report (lines) of a result with its env ({ runtime, cpu, cores, loadavgAtStart, loadavgAtEnd }). */
export function learnerReport(r) {
  const lines = [];
  const L = (s = '') => lines.push(s);
  const c = r.config;
  const load = (l) => (l ? l.map((v) => v.toFixed(2)).join(' ') : '?');
  L(`Learner: ${r.data.classes} classes (photos of ../shared/images), embeddings of ${r.data.featureSize} floats; ` +
    `${r.data.trainExamples} examples to train on, ${r.data.storeExamples} stored for classify`);
  L(`examples: ${r.data.how}`);
  L(`${r.env.runtime}; ${r.env.cpu}; ${r.env.cores} cores; load average ${load(r.env.loadavgAtStart)} at start, ${load(r.env.loadavgAtEnd)} at end`);
  if (r.env.loadavgAtStart?.[0] > 0.75 * r.env.cores) {
    L(`warning: the machine was busy when the benchmark started (1-minute load average ${r.env.loadavgAtStart[0].toFixed(2)}): the figures are unreliable`);
  }
  L(`ours: ${r.ours.label}; TF.js: @tensorflow-models/mobilenet ${r.tfjs.mobilenet} + @tensorflow-models/knn-classifier ` +
    `${r.tfjs.knnClassifier} on ${r.tfjs.label} (model load ${f(r.tfjs.loadMs, 0)} ms)`);
  const lw = r.learnerWasm;
  L(`ours' first classifier call in the process (createClassifier + one addEmbedding, loads the learner's code): ` +
    `${f(r.ours.firstClassifierCallMs)} ms${lw ? `; ${lw.file} ${(lw.raw / 1024).toFixed(1)} KiB, gzip -9 ${(lw.gzip / 1024).toFixed(1)} KiB` : ''}`);
  L();
  const w = 62;
  const head = (title) => L(`${pad(title, w)}${lpad('median ms', 10)}${lpad('min ms', 9)}`);
  const row = (label, s, note = '') => L(`${pad(`  ${label}`, w)}${lpad(f(s.medianMs), 10)}${lpad(f(s.minMs), 9)}${note ? `   ${note}` : ''}`);
  const tr = r.training;
  const g = r.goals;
  head(`training, ${r.data.trainExamples} examples x ${r.data.classes} classes (${c.trainRuns} runs)`);
  row(`ours  addEmbedding x ${r.data.trainExamples}`, tr.ours.addEmbeddings);
  row(`ours  train({ epochs: ${c.epochs} })`, tr.ours.train,
    `goal <= ${g.trainMs.goal} ms: ${g.trainMs.met ? 'met' : 'NOT met'}; first in the process ${f(tr.ours.firstTrainMs)} ms; loss ${f(tr.ours.loss, 4)}`);
  if (tr.ours.trainCpu) row('ours  train, CPU time of the process', tr.ours.trainCpu, 'less inflated by other load than the wall clock');
  row(`knn-classifier addExample x ${r.data.trainExamples}`, tr.knn.addExamples, 'no training: adding examples is all it does');
  row('knn-classifier first predictClass after adding', tr.knn.firstPredict, 'concatenates the examples into one matrix');
  L();
  L(`stores of ${r.store.examples} examples: ours addEmbedding x ${r.store.examples} ${f(r.store.oursAddEmbeddingsMs)} ms, ` +
    `knn-classifier addExample x ${r.store.examples} ${f(r.store.knnAddExamplesMs)} ms`);
  L();
  const byName = Object.fromEntries(r.classify.map((e) => [e.name, e]));
  const q = r.ratios;
  L(`${pad(`classify ${c.query}, ${r.store.examples} examples stored, k = ${c.k} (${c.runs} runs)`, w)}` +
    `${lpad('median ms', 10)}${lpad('min ms', 9)}   ratio median, min`);
  L('  (pixels: its 224x224 RGB, made once; bytes: the file, decoded and resized in each call; x: a tf.Tensor of the pixels, made once)');
  const crow = (name, ratioOf, what) => row(byName[name].label, byName[name], ratioOf ? `${f(ratioOf.median, 3)}  ${f(ratioOf.min, 3)}  ${what}` : '');
  crow('base');
  crow('knn', q.knnOverBase, `/ plain classify (goal <= ${g.knnOverBase.goal}: ${g.knnOverBase.met ? 'met' : 'NOT met'})`);
  crow('baseFile');
  crow('knnFile', q.knnFileOverBaseFile, '/ plain classify');
  crow('tfjsBase', q.oursBaseOverTfjsBase, 'ours plain / this');
  crow('tfjsKnn', q.oursKnnOverTfjsKnn, `ours knn / this; this / TF.js plain ${f(q.tfjsKnnOverTfjsBase.median, 3)}`);
  L();
  head(`add one example from the photo (embed + store; ${r.addFromPhoto.runs} runs)`);
  for (const e of r.addFromPhoto.engines) row(e.label, e);
  L();
  const a = r.agreement;
  const p = r.predictions;
  L(`agreement: TF.js graph embedding vs ours float32 max |difference| ${a.embeddingMaxAbsDiffFp32.toExponential(2)}; ` +
    `vs ours ${r.ours.precision} cosine ${f(a.embeddingCosine, 5)} (max |difference| ${f(a.embeddingMaxAbsDiff, 3)}); ` +
    `top-1 ImageNet: ours ${a.top1.ours}, TF.js ${a.top1.tfjs}`);
  L(`predictions for ${c.query}: ours knn ${p.knn.label} (${f(p.knn.score, 3)}), TF.js knn ${p.tfjsKnn.label} (${f(p.tfjsKnn.score, 3)}), ` +
    `ours softmax after training ${tr.ours.top1AfterTraining?.label} (${f(tr.ours.top1AfterTraining?.score, 3)})`);
  return lines;
}
