// model.createClassifier(): the user's own classes, on the real photos of
// ../shared/images/imprinting, through every method, JSON and .tflite round trips (our engine
// and TFLite's own runtime), the CLIs, and every error the issue lists.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withTflite } from '../../bench/lib/node-io.mjs';
import { assertMnv2Error, image, load, REPO, run, sharedModel } from './helpers.js';

const TRAIN = { cat: ['cat_train_0.bmp'], dog: ['dog_train_0.bmp'], hotdog: ['hotdog_train_0.bmp', 'hotdog_train_1.bmp'] };
const TEST = { cat: 'cat_test_0.bmp', dog: 'dog_test_0.bmp', hotdog: 'hotdog_test_0.bmp' };
const photo = (name) => new Uint8Array(readFileSync(image(`imprinting/${name}`)));
const MODELS = ['mobilenet_v2_1.0_224_quant.tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite', 'mobilenet_v1_0.5_160_quant.tflite'];

async function teach(model) {
  const c = model.createClassifier();
  for (const [label, files] of Object.entries(TRAIN)) {
    for (const [i, file] of files.entries()) assert.equal(await c.addExample(photo(file), label), i + 1);
  }
  return c;
}

// A photo as the model's input pixels: the BMP (24-bit, bottom-up) decoded and resized
// bilinearly here, so that our engine and tfjs-tflite see the very same bytes.
function bmpPixels(bytes, size) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const height = view.getInt32(22, true);
  assert.equal(view.getUint16(28, true), 24, 'a 24-bit BMP');
  const stride = Math.ceil((width * 3) / 4) * 4;
  const at = (x, y, c) => bytes[offset + (height - 1 - y) * stride + x * 3 + (2 - c)];
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(height - 1, Math.max(0, ((y + 0.5) * height) / size - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    for (let x = 0; x < size; x++) {
      const sx = Math.min(width - 1, Math.max(0, ((x + 0.5) * width) / size - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      for (let c = 0; c < 3; c++) {
        const top = at(x0, y0, c) + (at(x1, y0, c) - at(x0, y0, c)) * (sx - x0);
        const bottom = at(x0, y1, c) + (at(x1, y1, c) - at(x0, y1, c)) * (sx - x0);
        out[(y * size + x) * 3 + c] = Math.round(top + (bottom - top) * (sy - y0));
      }
    }
  }
  return { data: out, width: size, height: size };
}

for (const file of MODELS) {
  describe(`createClassifier on ${file}`, () => {
    let model;
    let classifier;
    before(async () => {
      model = await load({ model: sharedModel(file), threads: 1 });
      classifier = await teach(model);
    });
    after(() => model?.dispose());

    test('every method classifies every test photo correctly, before and after training', async () => {
      assert.deepEqual(classifier.labels, ['cat', 'dog', 'hotdog']);
      assert.deepEqual(classifier.counts, { cat: 1, dog: 1, hotdog: 2 });
      assert.equal(classifier.numExamples, 4);
      for (const [label, file] of Object.entries(TEST)) {
        for (const method of ['knn', 'imprint']) {
          const top = await classifier.classify(photo(file), { method });
          assert.equal(top[0].label, label, `${file} ${method}: ${JSON.stringify(top)}`);
          assert.equal(top.length, 3);
        }
      }
      await assertMnv2Error(classifier.classify(photo(TEST.cat), { method: 'softmax' }), 'E_INVALID_ARGUMENT');
      const progress = [];
      const result = await classifier.train({ onProgress: (p) => progress.push(p) });
      assert.equal(result.epochs, 50);
      assert.deepEqual(progress.map((p) => p.epoch), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.ok(progress.at(-1).loss < progress[0].loss, 'the loss falls');
      assert.ok(classifier.trained);
      for (const [label, file] of Object.entries(TEST)) {
        const top = await classifier.classify(photo(file));
        assert.equal(top[0].label, label, `${file} softmax: ${JSON.stringify(top)}`);
        assert.ok(Math.abs(top.reduce((s, p) => s + p.score, 0) - 1) < 1e-5, 'probabilities');
      }
    });

    test('toJSON / fromJSON and exportTflite / load: the same scores within 1e-5', async () => {
      const other = model.createClassifier();
      await other.fromJSON(JSON.stringify(classifier.toJSON()));
      assert.deepEqual(other.counts, classifier.counts);
      assert.equal(other.trained, classifier.trained);
      const headOnly = model.createClassifier();
      await headOnly.fromJSON(classifier.toJSON({ examples: false }));
      assert.equal(headOnly.numExamples, 0);
      const bytes = await classifier.exportTflite();
      const exported = await load({ model: bytes, threads: 1 });
      try {
        assert.equal(exported.info.numClasses, 3);
        assert.equal(exported.info.precision, model.info.precision);
        for (const file of Object.values(TEST)) {
          for (const method of ['knn', 'imprint', 'softmax']) {
            const [a, b] = await Promise.all([classifier.classify(photo(file), { method }), other.classify(photo(file), { method })]);
            assert.deepEqual(b.map((p) => p.label), a.map((p) => p.label));
            for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i].score - b[i].score) <= 1e-5, `${file} ${method}`);
          }
          const want = await classifier.classify(photo(file));
          const fromHead = await headOnly.classify(photo(file));
          const fromFile = await exported.classify(photo(file));
          assert.deepEqual(fromFile.map((p) => p.label), want.map((p) => p.label), 'labels from the file');
          for (let i = 0; i < want.length; i++) {
            assert.ok(Math.abs(fromFile[i].score - want[i].score) <= 1e-5, `${file}: ${fromFile[i].score} vs ${want[i].score}`);
            assert.ok(Math.abs(fromHead[i].score - want[i].score) <= 1e-5);
          }
          // The embedding is the backbone's, unchanged.
          assert.deepEqual(await exported.embed(photo(file)), await model.embed(photo(file)));
        }
      } finally {
        exported.dispose();
      }
    });

    test('TFLite\'s own runtime (tfjs-tflite) runs the exported file with the same top-1', async () => {
      const bytes = await classifier.exportTflite();
      const { width } = model.info.inputSize;
      await withTflite(async ({ tflite }) => {
        const runner = (await tflite.loadTFLiteModel(bytes.slice().buffer, { numThreads: 1 })).modelRunner;
        try {
          const [input] = runner.getInputs();
          const [output] = runner.getOutputs();
          assert.equal(output.dataType, 'float32');
          for (const [label, file] of Object.entries(TEST)) {
            const pixels = bmpPixels(photo(file), width);
            input.data().set(pixels.data);
            assert.ok(runner.infer());
            const theirs = Array.from(output.data());
            const ours = await classifier.classify(pixels, { topk: 3 });
            assert.equal(classifier.labels[theirs.indexOf(Math.max(...theirs))], label, `${file}: ${theirs}`);
            assert.equal(ours[0].label, label);
          }
        } finally {
          runner.cleanUp?.();
        }
      });
    });
  });
}

describe('classifier errors', () => {
  let model;
  before(async () => {
    model = await load({ model: sharedModel(MODELS[0]), threads: 1 });
  });
  after(() => model?.dispose());

  test('labels, examples, hyperparameters, JSON: coded errors, and both stay usable', async () => {
    const c = model.createClassifier();
    for (const label of ['', 3, null, 'two\nlines']) {
      await assertMnv2Error(c.addExample(photo(TRAIN.cat[0]), label), 'E_INVALID_ARGUMENT');
    }
    await assertMnv2Error(c.classify(photo(TEST.cat)), 'E_INVALID_ARGUMENT');  // no examples
    await assertMnv2Error(c.train(), 'E_INVALID_ARGUMENT');
    await c.addExample(photo(TRAIN.cat[0]), 'cat');
    await assertMnv2Error(c.classify(photo(TEST.cat)), 'E_INVALID_ARGUMENT');  // a single class
    await assertMnv2Error(c.train(), 'E_INVALID_ARGUMENT');
    await assertMnv2Error(c.addExample(new Uint8Array([1, 2, 3]), 'dog'), 'E_IMAGE_DECODE');
    await assertMnv2Error(c.addEmbedding(new Float32Array(7), 'dog'), 'E_INVALID_ARGUMENT');
    await assertMnv2Error(c.addEmbedding(new Float32Array(1280).fill(NaN), 'dog'), 'E_INVALID_ARGUMENT');
    await c.addExample(photo(TRAIN.dog[0]), 'dog');
    for (const bad of [{ epochs: 0 }, { epochs: 1.5 }, { learningRate: NaN }, { learningRate: -1 }, { l2: -1 },
      { l2: Infinity }, { batchSize: 0 }, { seed: -1 }, { onProgress: 3 }]) {
      await assertMnv2Error(c.train(bad), 'E_INVALID_ARGUMENT');
    }
    for (const bad of [{ method: 'svm' }, { topk: 0 }, { k: 0 }]) {
      await assertMnv2Error(c.classify(photo(TEST.cat), bad), 'E_INVALID_ARGUMENT');
    }
    const json = c.toJSON();
    for (const [garbage, code] of [
      ['not json', 'E_MODEL_FORMAT'], [{}, 'E_MODEL_FORMAT'], [{ ...json, version: 2 }, 'E_MODEL_FORMAT'],
      [{ ...json, featureSize: 1024 }, 'E_INVALID_ARGUMENT'],
      [{ ...json, examples: [{ label: 'cat', embedding: 'AAAA' }] }, 'E_MODEL_FORMAT'],
      [{ ...json, examples: [{ label: 'cow', embedding: json.examples[0].embedding }] }, 'E_MODEL_FORMAT'],
      [{ ...json, labels: ['cat', 'cat'] }, 'E_MODEL_FORMAT'],
      [{ ...json, head: { weights: 'AAAA', bias: 'AAAA' } }, 'E_MODEL_FORMAT'],
    ]) {
      await assertMnv2Error(c.fromJSON(garbage), code);
    }
    // Still usable: the failed calls changed nothing.
    assert.deepEqual(c.counts, { cat: 1, dog: 1 });
    assert.equal((await c.classify(photo(TEST.cat)))[0].label, 'cat');
    assert.ok((await model.classify(photo(TEST.cat)))[0].score > 0);
    // A model of another feature size refuses these embeddings.
    const v1 = await load({ model: sharedModel(MODELS[2]), threads: 1 });
    try {
      await assertMnv2Error(v1.createClassifier().fromJSON(json), 'E_INVALID_ARGUMENT');
    } finally {
      v1.dispose();
    }
  });

  test('removeLabel, clear, and a trained head dropped by new examples', async () => {
    const c = await teach(model);
    await c.train({ epochs: 5 });
    assert.ok(c.trained);
    assert.equal(c.removeLabel('dog'), true);
    assert.equal(c.removeLabel('dog'), false);
    assert.ok(!c.trained);
    assert.deepEqual(c.counts, { cat: 1, hotdog: 2 });
    assert.equal((await c.classify(photo(TEST.hotdog)))[0].label, 'hotdog');
    c.clear();
    assert.equal(c.numExamples, 0);
    assert.deepEqual(c.labels, []);
  });

  test('training interleaves with other calls, and disposing the model disposes its classifiers', async () => {
    const c = await teach(model);
    let epochs = 0;
    const training = c.train({ epochs: 20, onProgress: ({ epoch }) => { epochs = epoch; } });
    // The model's own call is answered between two epochs, not after the training.
    await model.classify(photo(TEST.dog));
    assert.ok(epochs < 20, `classify waited for ${epochs} epochs`);
    // While it trains, the classifier has no trained head.
    assert.ok(!c.trained);
    await training;
    assert.ok(c.trained);
    const m2 = await load({ model: sharedModel(MODELS[0]), threads: 1 });
    const c2 = await teach(m2);
    m2.dispose();
    assert.ok(c2.disposed);
    await assertMnv2Error(c2.classify(photo(TEST.cat)), 'E_DISPOSED');
    assert.throws(() => m2.createClassifier(), { code: 'E_DISPOSED' });
  });
});

describe('mobilenetv2-wasm train and mnv2 train', () => {
  const dir = join(REPO, 'build-tests', 'train');
  before(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const [label, files] of Object.entries(TRAIN)) {
      mkdirSync(join(dir, label), { recursive: true });
      for (const file of files) symlinkSync(image(`imprinting/${file}`), join(dir, label, file));
    }
  });

  for (const [name, command] of [
    ['mobilenetv2-wasm', [process.execPath, join(REPO, 'bin', 'cli.js')]],
    ['mnv2', [join(REPO, 'build', 'mnv2')]],
  ]) {
    test(`${name} train writes a .tflite that classify reads with its labels`, async () => {
      const out = join(dir, `${name}.tflite`);
      const args = ['train', '--model', sharedModel(MODELS[0]), '--out', out, '--out-json', join(dir, `${name}.json`),
        '--epochs', '30', ...Object.keys(TRAIN).map((l) => `${l}=${join(dir, l)}`)];
      const trained = await run(command[0], [...command.slice(1), ...args]);
      assert.equal(trained.code, 0, trained.stderr);
      assert.match(trained.stdout, /^cat +1 examples/m);
      assert.match(trained.stdout, /^hotdog +2 examples/m);
      assert.match(trained.stdout, /^trained 30 epochs in \d+ ms, loss \d\.\d{4}$/m);
      const classified = await run(command[0], [...command.slice(1), 'classify', '--model', out, '--top', '1',
        ...Object.values(TEST).map((f) => image(`imprinting/${f}`))]);
      assert.equal(classified.code, 0, classified.stderr);
      const labels = [...classified.stdout.matchAll(/^ +\d\.\d{4} +\d+ +(\w+)$/gm)].map((m) => m[1]);
      assert.deepEqual(labels, Object.keys(TEST));
      // The JSON reads back into a classifier.
      const model = await load({ model: sharedModel(MODELS[0]), threads: 1 });
      try {
        const c = model.createClassifier();
        await c.fromJSON(readFileSync(join(dir, `${name}.json`), 'utf8'));
        assert.deepEqual(c.counts, { cat: 1, dog: 1, hotdog: 2 });
        assert.ok(c.trained);
      } finally {
        model.dispose();
      }
      // Usage errors.
      const bad = await run(command[0], [...command.slice(1), 'train', '--model', sharedModel(MODELS[0]), '--out', out, `cat=${join(dir, 'cat')}`]);
      assert.equal(bad.code === 0, false);
    });
  }
});
