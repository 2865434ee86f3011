// TensorFlow.js models: the nsfwjs MobileNetV2s (a Keras layers model and a TF Hub graph model)
// loaded by path, file: URL, http URL and from memory, and their probabilities compared with
// TensorFlow.js itself (tfjs-layers / tfjs-converter on its wasm backend, XNNPACK) on the same pixels.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { argmax, assertMnv2Error, image, imageBytes, load, maxAbsDiff, rawRgb, sharedModel } from './helpers.js';
import { NSFWJS_CLASSES, nsfwjsInstalled, nsfwjsModel } from './nsfwjs.js';

const skip = !(await nsfwjsInstalled()) && 'nsfwjs is not installed (npm ci)';
const layers = skip ? null : await nsfwjsModel('mobilenet_v2');
const graph = skip ? null : await nsfwjsModel('mobilenet_v2_mid');
const MODELS = skip ? [] : [['layers', layers], ['graph', graph]];

const BMP_PHOTOS = ['bird.bmp', 'cat.bmp', 'dragonfly.bmp', 'grace_hopper.bmp', 'missvickie_potato_chips.bmp', 'sunflower.bmp'];
const JPEG_PHOTOS = ['cat_720p.jpg', 'hot_dog.jpg', 'owl.jpg', 'parrot.jpg'];
// What the models see in the photos (none of which is explicit): the layers model calls every
// one Neutral; the graph model calls some Drawing, and gives the hot dog 0.10 Hentai.
const EXPECTED = {
  layers: { labels: ['Neutral'], maxUnsafe: 0.05 },
  graph: { labels: ['Drawing', 'Neutral'], maxUnsafe: 0.2 },
};

const modelFile = (m) => join(m.dir, 'model.json');
const shardBytes = (m) => m.paths.map((p) => new Uint8Array(readFileSync(join(m.dir, p))));
const loadNsfwjs = (model, options = {}) => load({ model, labels: NSFWJS_CLASSES, inputRange: [0, 1], ...options });

// A 24-bit uncompressed BMP as RGB pixels.
function decodeBmp(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getUint32(10, true), width = view.getInt32(18, true), rawHeight = view.getInt32(22, true);
  assert.equal(view.getUint16(28, true), 24);
  const height = Math.abs(rawHeight), stride = Math.ceil((width * 3) / 4) * 4;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      data[(y * width + x) * 3] = bytes[row + x * 3 + 2];
      data[(y * width + x) * 3 + 1] = bytes[row + x * 3 + 1];
      data[(y * width + x) * 3 + 2] = bytes[row + x * 3];
    }
  }
  return { data, width, height };
}

// Area-average resize to 224x224: any resize will do, both engines get the result.
function resize224({ data, width, height }) {
  const out = new Uint8Array(224 * 224 * 3);
  for (let oy = 0; oy < 224; oy++) {
    const y0 = Math.floor((oy * height) / 224), y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * height) / 224));
    for (let ox = 0; ox < 224; ox++) {
      const x0 = Math.floor((ox * width) / 224), x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * width) / 224));
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += data[(y * width + x) * 3 + c];
        out[(oy * 224 + ox) * 3 + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { data: out, width: 224, height: 224 };
}

/** 224x224 RGB inputs: the raw photos as they are, the BMP photos resized. */
const INPUTS = [
  ['bird.rgb', rawRgb('bird.rgb')],
  ['sunflower.rgb', rawRgb('sunflower.rgb')],
  ...BMP_PHOTOS.map((f) => [f, resize224(decodeBmp(imageBytes(f)))]),
];

// TensorFlow.js running the same model files, as nsfwjs does: pixels / 255; its wasm backend, 3x
// quicker here than its CPU backend (12 s against 36 for the whole file); both agree with ours within 1e-4.
async function tfjsScores() {
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-wasm');
  const tfl = require('@tensorflow/tfjs-layers');
  const tfc = require('@tensorflow/tfjs-converter');
  tf.enableProdMode();  // also silences the advice to install tfjs-node
  assert.ok(await tf.setBackend('wasm'), 'TF.js: the wasm backend did not initialize');
  const handler = (m) => ({
    async load() {
      const weights = Buffer.concat(shardBytes(m));
      return {
        modelTopology: m.json.modelTopology,
        format: m.json.format,
        weightSpecs: m.json.weightsManifest.flatMap((g) => g.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      };
    },
  });
  const models = { layers: await tfl.loadLayersModel(handler(layers)), graph: await tfc.loadGraphModel(handler(graph)) };
  const scores = {};
  for (const [kind, model] of Object.entries(models)) {
    scores[kind] = {};
    for (const [name, px] of INPUTS) {
      const x = tf.tidy(() => tf.div(tf.cast(tf.tensor(px.data, [1, 224, 224, 3], 'int32'), 'float32'), 255));
      const y = model.predict(x);
      scores[kind][name] = await y.data();
      tf.dispose([x, y]);
    }
  }
  return scores;
}

describe('TF.js models (nsfwjs)', { skip }, () => {
  let reference;
  before(async () => {
    reference = await tfjsScores();
  });

  for (const [kind, files] of MODELS) {
    test(`${kind} model: probabilities match TensorFlow.js within 1e-4, with the same top class`, async () => {
      const model = await loadNsfwjs(modelFile(files));
      try {
        assert.equal(model.info.numClasses, 5);
        assert.equal(model.info.weightType, 'uint8');
        assert.equal(model.info.alpha, kind === 'graph' ? 1.4 : 1.0);
        for (const [name, px] of INPUTS) {
          const ours = await model.scores(px);
          const theirs = reference[kind][name];
          assert.ok(maxAbsDiff(ours, theirs) < 1e-4, `${name}: ours ${Array.from(ours)} vs TF.js ${Array.from(theirs)}`);
          assert.equal(argmax(ours), argmax(theirs), name);
        }
      } finally {
        model.dispose();
      }
    });

    const { labels, maxUnsafe } = EXPECTED[kind];
    test(`${kind} model: every photo is ${labels.join(' or ')}, Hentai + Porn + Sexy < ${maxUnsafe}`, async () => {
      const model = await loadNsfwjs(modelFile(files));
      try {
        for (const photo of [...BMP_PHOTOS, ...JPEG_PHOTOS]) {
          const scores = await model.scores(image(photo));
          const [top] = await model.classify(image(photo), { topk: 1 });
          assert.ok(labels.includes(top.label), `${photo}: ${top.label} ${top.score}`);
          const unsafe = scores[1] + scores[3] + scores[4];
          assert.ok(unsafe < maxUnsafe, `${photo}: Hentai + Porn + Sexy = ${unsafe}`);
        }
      } finally {
        model.dispose();
      }
    });
  }

  test('a file path, a file: URL and { modelJson, weights } in memory give the same scores', async () => {
    for (const files of [layers, graph]) {
      const shards = shardBytes(files);
      const sources = [
        modelFile(files),
        pathToFileURL(modelFile(files)),
        pathToFileURL(modelFile(files)).href,
        { modelJson: files.json, weights: shards },
        { modelJson: JSON.stringify(files.json), weights: shards.map((s) => s.slice().buffer) },
        { modelJson: files.json, weights: Buffer.concat(shards) },
      ];
      let first;
      for (const source of sources) {
        const model = await loadNsfwjs(source);
        const scores = await model.scores(rawRgb('bird.rgb'));
        model.dispose();
        if (first) assert.deepEqual(scores, first, String(source.modelJson ? 'in memory' : source));
        first ??= scores;
      }
    }
  });

  describe('over http', () => {
    let server;
    let base;
    const requests = [];
    before(async () => {
      server = createServer((req, res) => {
        requests.push(req.url);
        const [, kind, file] = req.url.split('/');
        const files = { layers, graph }[kind];
        try {
          const body = readFileSync(join(files.dir, file));
          res.writeHead(200, { 'content-length': body.length });
          res.end(body);
        } catch {
          res.writeHead(404);
          res.end();
        }
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${server.address().port}`;
    });
    after(() => server?.close());

    test('shards are fetched relative to model.json, with progress over all of them', async () => {
      for (const [kind, files] of MODELS) {
        const progress = [];
        requests.length = 0;
        const model = await loadNsfwjs(`${base}/${kind}/model.json`, { onProgress: (p) => progress.push(p) });
        const expected = await (await loadNsfwjs(modelFile(files))).scores(rawRgb('sunflower.rgb'));
        assert.deepEqual(await model.scores(rawRgb('sunflower.rgb')), expected);
        model.dispose();
        assert.deepEqual(requests.sort(), [`/${kind}/model.json`, ...files.paths.map((p) => `/${kind}/${p}`)].sort());
        const total = readFileSync(modelFile(files)).length + shardBytes(files).reduce((n, s) => n + s.length, 0);
        assert.deepEqual(progress.at(-1), { loaded: total, total });
        for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loaded >= progress[i - 1].loaded);
      }
    });

    test('a missing shard is E_FETCH; a shard path leaving the model folder is E_MODEL_FORMAT', async () => {
      const withPaths = (paths) => JSON.stringify({ ...layers.json, weightsManifest: [{ ...layers.json.weightsManifest[0], paths }] });
      const bodies = { '/missing/model.json': withPaths(['missing-shard']), '/escape/model.json': withPaths(['../layers/group1-shard1of1']) };
      const other = createServer((req, res) => (bodies[req.url] ? res.end(bodies[req.url]) : res.writeHead(404).end()));
      await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${other.address().port}`;
      try {
        await assertMnv2Error(loadNsfwjs(`${url}/missing/model.json`), 'E_FETCH');
        await assertMnv2Error(loadNsfwjs(`${url}/escape/model.json`), 'E_MODEL_FORMAT');
      } finally {
        other.close();
      }
    });
  });

  test('inputRange: nsfwjs models need [0, 1]; graph models with Mul/Sub nodes default to it', async () => {
    const bird = rawRgb('bird.rgb');
    const withRange = await loadNsfwjs(modelFile(layers));
    const keras = await load({ model: modelFile(layers) });  // Keras' default, [-1, 1]
    assert.ok(maxAbsDiff(await withRange.scores(bird), await keras.scores(bird)) > 0.01);
    withRange.dispose();
    keras.dispose();
    const graphRange = await loadNsfwjs(modelFile(graph));
    const graphDefault = await load({ model: modelFile(graph) });
    assert.deepEqual(await graphDefault.scores(bird), await graphRange.scores(bird));
    graphRange.dispose();
    graphDefault.dispose();
  });

  test('broken models and options are rejected with clear errors', async () => {
    const shards = shardBytes(layers);
    const weights = Buffer.concat(shards);
    await assertMnv2Error(loadNsfwjs({ modelJson: layers.json, weights: weights.subarray(1) }), 'E_MODEL_FORMAT');
    await assertMnv2Error(loadNsfwjs({ modelJson: layers.json, weights: shards.slice(1) }), 'E_MODEL_FORMAT');
    await assertMnv2Error(loadNsfwjs({ modelJson: '{"modelTopology": ', weights }), 'E_MODEL_FORMAT');
    await assertMnv2Error(loadNsfwjs({ modelJson: 42, weights }), 'E_INPUT_TYPE');
    await assertMnv2Error(loadNsfwjs({ modelJson: layers.json, weights: 'nope' }), 'E_INPUT_TYPE');
    const renamed = JSON.parse(JSON.stringify(layers.json).replace('"class_name":"DepthwiseConv2D"', '"class_name":"SeparableConv2D"'));
    await assertMnv2Error(loadNsfwjs({ modelJson: renamed, weights }), 'E_UNSUPPORTED_OP');
    await assertMnv2Error(loadNsfwjs(new Uint8Array(readFileSync(modelFile(layers)))), 'E_INPUT_TYPE');
    await assertMnv2Error(loadNsfwjs(join(layers.dir, 'no-such', 'model.json')), 'E_IO');
    for (const inputRange of [[1, 0], [0], 'x', [0, Infinity]]) {
      await assertMnv2Error(load({ model: modelFile(layers), inputRange }), 'E_INPUT_TYPE');
    }
    await assertMnv2Error(load({ model: sharedModel('mobilenet_v2_1.0_224_quant.tflite'), inputRange: [0, 1] }), 'E_INPUT_TYPE');
  });
  // Issue 20 on a TF.js model: the learner's .tflite export of a float network read from model.json
  // (with its [0, 1] input mapping) loads back with the same scores.
  for (const [kind, m] of MODELS) {
    test(`${kind} model: a classifier's exported .tflite gives the classifier's scores`, async () => {
      const model = await loadNsfwjs(modelFile(m), { threads: 1 });
      try {
        const learner = model.createClassifier();
        const photos = { bird: ['bird.bmp', 'owl.jpg'], flower: ['sunflower.bmp', 'dragonfly.bmp'] };
        for (const [label, names] of Object.entries(photos)) for (const n of names) await learner.addExample(imageBytes(n), label);
        await learner.train({ epochs: 10 });
        const exported = await load({ model: await learner.exportTflite(), threads: 1 });
        try {
          assert.deepEqual([exported.info.numClasses, exported.info.precision], [2, 'fp32']);
          for (const name of ['cat.bmp', 'parrot.jpg', 'sunflower.bmp']) {
            const want = await learner.classify(imageBytes(name));
            const got = await exported.classify(imageBytes(name));
            assert.deepEqual(got.map((p) => p.label), want.map((p) => p.label), name);
            for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i].score - want[i].score) <= 1e-5, `${name}: ${got[i].score} vs ${want[i].score}`);
          }
        } finally {
          exported.dispose();
        }
      } finally {
        model.dispose();
      }
    });
  }
});
