// The public API on the real models and photos: accuracy against an independent TFLite
// runtime, every input kind Node can build, labels, embed/scores, info and options.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  argmax, BIRD_MODEL, IMAGENET_LABELS, IMAGENET_MODELS, INAT_BIRD_LABELS, PHOTOS, REFERENCE_RAW, REFERENCE_TOP5,
  image, imageBytes, load, loadImagenet, maxAbsDiff, rawRgb, sharedModel, threadsStarted, toRgba,
} from './helpers.js';

for (const { file, weightType, scoreTolerance } of IMAGENET_MODELS) {
  describe(`${file} (${weightType})`, () => {
    let model;
    before(async () => {
      model = await loadImagenet(file);
      await threadsStarted(model, Math.min(4, availableParallelism()));
    });
    after(() => model.dispose());

    test('info describes the file and the SIMD build', () => {
      const { multiplyAdds, parameters, limits, ...rest } = model.info;  // limits: robustness.test.js
      assert.deepEqual(rest, {
        // threads: by default the cores, at most 4 (threads.test.js tests the option).
        simd: true, target: 'WASM', relaxedDot: 'none', threads: Math.min(4, availableParallelism()), family: 'mobilenet_v2',
        inputSize: { width: 224, height: 224 }, numClasses: 1001, featureSize: 1280, alpha: 1, quantized: true, weightType,
        precision: 'int8', labels: true, task: 'classification',
      });
      // About 300 million multiply-adds and 3.5 million parameters for MobileNetV2 1.0/224 (the paper's 3.4 M
      // counts no biases).
      assert.ok(multiplyAdds > 250e6 && multiplyAdds < 350e6, `${multiplyAdds}`);
      assert.ok(parameters > 3.4e6 && parameters < 3.6e6, `${parameters}`);
      assert.ok(Object.isFrozen(model.info));
    });

    for (const photo of PHOTOS) {
      test(`${photo}: top-1 as the reference runtime`, async () => {
        const [refIndex, refLabel, refScore] = REFERENCE_TOP5[file][photo][0];
        const [top] = await model.classify(imageBytes(photo));
        assert.equal(top.index, refIndex, `${photo}: got ${top.label}, reference ${refLabel}`);
        assert.equal(top.label, refLabel);
        assert.ok(Math.abs(top.score - refScore) <= scoreTolerance, `${photo}: score ${top.score}, reference ${refScore}`);
      });
    }

    test('top-k on every photo: no background, ties ranked by the logits rather than by index', async () => {
      const tails = new Set();
      for (const photo of PHOTOS) {
        const top = await model.classify(imageBytes(photo), { topk: 10 });
        const scores = await model.scores(imageBytes(photo));
        assert.equal(top.length, 10);
        assert.ok(top.every((p) => p.index !== 0 && p.label !== 'background'), `${photo}: ${JSON.stringify(top)}`);
        for (let i = 1; i < top.length; i++) assert.ok(top[i - 1].score >= top[i].score, `${photo}: not sorted`);
        // The classes of zero probability are the model's own next guesses, not the classes of
        // zero probability with the lowest indices (what ranking ties by index would list).
        const zeros = top.filter((p) => p.score === 0).map((p) => p.index);
        const byIndex = [...scores.keys()].filter((i) => i > 0 && scores[i] === 0).slice(0, zeros.length);
        if (zeros.length >= 2) assert.notDeepEqual(zeros, byIndex, `${photo}: the tail is in index order`);
        assert.equal(top[0].score, Math.max(...scores.slice(1)));
        tails.add(top.slice(1).map((p) => p.index).join());
      }
      assert.equal(tails.size, PHOTOS.length, 'every photo has a tail of its own');
    });

    for (const raw of ['bird.rgb', 'sunflower.rgb']) {
      test(`${raw} as raw pixels: every score near the reference runtime's output`, async () => {
        const reference = REFERENCE_RAW[file][raw];
        const scale = REFERENCE_RAW[file].output.scale;
        const zero = REFERENCE_RAW[file].output.zero_point;
        const scores = await model.scores(rawRgb(raw));
        assert.equal(argmax(scores), argmax(reference));
        // The reference is quantized to steps of 1/256; measured differences are below 0.008.
        assert.ok(maxAbsDiff(scores, reference.map((q) => scale * (q - zero))) < 0.02);
      });
    }
  });
}

describe('the default model (bundled with the package)', () => {
  let model;
  before(async () => {
    model = await load();
  });
  after(() => model.dispose());

  test('uses the bundled model and its labels', async () => {
    assert.equal(model.info.labels, true);
    assert.equal(model.info.weightType, 'uint8');
    assert.equal(model.info.numClasses, 1001);
    const [top] = await model.classify(imageBytes('cat.bmp'));
    assert.deepEqual([top.index, top.label], [286, 'Egyptian cat']);
  });

  test('simd: auto picks the SIMD build on Node 20', () => {
    assert.equal(model.info.simd, true);
    assert.equal(model.info.target, 'WASM');
  });

  describe('every input kind Node can build gives the same result', () => {
    const bytes = imageBytes('cat.bmp');
    // A copy of `bytes` at an odd offset inside a larger buffer, for the views below.
    const padded = new Uint8Array(bytes.length + 16);
    padded.set(bytes, 7);
    const kinds = {
      'Uint8Array': () => bytes,
      'Buffer': () => Buffer.from(bytes),
      'ArrayBuffer': () => bytes.slice().buffer,
      'DataView at an offset': () => new DataView(padded.buffer, 7, bytes.length),
      'Int8Array at an offset': () => new Int8Array(padded.buffer, 7, bytes.length),
      'Uint8Array subarray': () => padded.subarray(7, 7 + bytes.length),
      'Blob': () => new Blob([bytes]),
      'file path': () => image('cat.bmp'),
      'file: URL': () => pathToFileURL(image('cat.bmp')),
      'file: URL string': () => pathToFileURL(image('cat.bmp')).href,
    };
    let expected;
    before(async () => {
      expected = await model.scores(bytes);
      assert.equal(argmax(expected), 286);
    });
    for (const [kind, make] of Object.entries(kinds)) {
      test(kind, async () => {
        assert.deepEqual(await model.scores(make()), expected);
        const [top] = await model.classify(make());
        assert.deepEqual([top.index, top.label, top.score], [286, 'Egyptian cat', expected[286]]);
      });
    }
  });

  describe('raw pixels', () => {
    const rgb = rawRgb('bird.rgb');
    let expected;
    before(async () => {
      expected = await model.scores(rgb);
    });

    test('RGB: a chickadee', async () => {
      const [top] = await model.classify(rgb);
      assert.deepEqual([top.index, top.label], [20, 'chickadee']);
      assert.equal(top.score, expected[20]);
    });

    test('RGBA of the same pixels: identical scores (alpha ignored)', async () => {
      assert.deepEqual(await model.scores(toRgba(rgb)), expected);
    });

    test('Uint8ClampedArray data, RGB and RGBA: identical scores', async () => {
      const clamped = (p) => ({ ...p, data: new Uint8ClampedArray(p.data) });
      assert.deepEqual(await model.scores(clamped(rgb)), expected);
      assert.deepEqual(await model.scores(clamped(toRgba(rgb))), expected);
    });

    test('a 2240x1680 RGBA upscale (the module grows its memory) is still a chickadee', async () => {
      const width = 2240;
      const height = 1680;
      const data = new Uint8Array(width * height * 4);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const s = (Math.floor((y * 224) / height) * 224 + Math.floor(x / 10)) * 3;
          data.set([rgb.data[s], rgb.data[s + 1], rgb.data[s + 2], 255], (y * width + x) * 4);
        }
      }
      const [top] = await model.classify({ data, width, height }, { topk: 1 });
      assert.equal(top.index, 20);
      // and the next, small call reads and writes the grown memory correctly
      assert.deepEqual(await model.scores(rgb), expected);
    });
  });

  describe('embed', () => {
    test('is a Float32Array of featureSize, deterministic, and depends on the image', async () => {
      const a = await model.embed(imageBytes('cat.bmp'));
      assert.ok(a instanceof Float32Array);
      assert.equal(a.length, model.info.featureSize);
      assert.equal(a.length, 1280);
      assert.ok(a.every(Number.isFinite));
      // Pooled ReLU6 activations: in [0, 6], and not all zero.
      assert.ok(a.every((v) => v >= 0 && v <= 6));
      assert.ok(a.some((v) => v > 0.1));
      const b = await model.embed(imageBytes('bird.bmp'));
      assert.deepEqual(await model.embed(imageBytes('cat.bmp')), a);
      assert.ok(maxAbsDiff(a, b) > 0.5);
    });

    test('is a copy: later calls do not change an earlier result', async () => {
      const a = await model.embed(imageBytes('cat.bmp'));
      const copy = a.slice();
      await model.embed(imageBytes('parrot.jpg'));
      assert.deepEqual(a, copy);
    });
  });

  describe('scores', () => {
    test('a Float32Array of numClasses probabilities summing to 1, consistent with classify', async () => {
      const scores = await model.scores(imageBytes('grace_hopper.bmp'));
      assert.ok(scores instanceof Float32Array);
      assert.equal(scores.length, 1001);
      assert.ok(scores.every((s) => s >= 0 && s <= 1));
      const sum = scores.reduce((a, b) => a + b, 0);
      // int8 (the default for these models): 8-bit probabilities, each rounded to 1/256.
      assert.ok(Math.abs(sum - 1) < (model.info.precision === 'int8' ? 0.05 : 1e-3), `sum ${sum}`);
      const top = await model.classify(imageBytes('grace_hopper.bmp'), { topk: 5 });
      // The five best scores, in order (which of several equal scores classify lists is the
      // logits' call: the top-k test on every photo below).
      const best = [...scores.slice(1)].sort((a, b) => b - a).slice(0, 5);
      assert.deepEqual(top.map((p) => p.score), best);
      assert.ok(top.every((p) => scores[p.index] === p.score));
    });
  });

  describe('options', () => {
    test('topk: how many classes, best first', async () => {
      const photo = imageBytes('hot_dog.jpg');
      assert.equal((await model.classify(photo)).length, 5);
      const one = await model.classify(photo, { topk: 1 });
      assert.equal(one.length, 1);
      const twenty = await model.classify(photo, { topk: 20 });
      assert.equal(twenty.length, 20);
      assert.deepEqual(twenty[0], one[0]);
      for (let i = 1; i < twenty.length; i++) assert.ok(twenty[i - 1].score >= twenty[i].score);
      assert.equal(new Set(twenty.map((p) => p.index)).size, 20);
      // Every class but the background (class 0 of the 1001).
      assert.equal((await model.classify(photo, { topk: 5000 })).length, 1000);
    });

    test('crop: a valid result, different from resizing the whole image', async () => {
      const photo = imageBytes('cat_720p.jpg');
      const cropped = await model.classify(photo, { crop: true });
      assert.equal(cropped.length, 5);
      assert.equal(cropped[0].label, 'Egyptian cat');
      for (const p of cropped) assert.ok(p.score >= 0 && p.score <= 1 && typeof p.label === 'string');
      const whole = await model.scores(photo);
      const croppedScores = await model.scores(photo, { crop: true });
      assert.ok(maxAbsDiff(whole, croppedScores) > 1e-3, 'crop changed nothing on a 16:9 photo');
      // A square input has nothing to crop.
      assert.deepEqual(await model.scores(rawRgb('bird.rgb'), { crop: true }), await model.scores(rawRgb('bird.rgb')));
    });
  });
});

describe('labels', () => {
  const lines = readFileSync(IMAGENET_LABELS, 'utf8').split('\n').filter(Boolean);
  const forms = {
    'a path': IMAGENET_LABELS,
    'a file: URL': pathToFileURL(IMAGENET_LABELS),
    'string[]': lines,
    'the text': readFileSync(IMAGENET_LABELS, 'utf8'),
    'the text with CRLF line ends': lines.join('\r\n'),
    'string[] one short (no background line)': lines.slice(1),
  };
  for (const [form, labels] of Object.entries(forms)) {
    test(`given as ${form}`, async () => {
      const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file), labels });
      try {
        const [top] = await model.classify(imageBytes('cat.bmp'));
        assert.deepEqual([top.index, top.label], [286, 'Egyptian cat']);
      } finally {
        model.dispose();
      }
    });
  }

  test('none with a model given: label is null', async () => {
    const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file) });
    try {
      assert.equal(model.info.labels, false);
      const [top] = await model.classify(imageBytes('cat.bmp'));
      assert.deepEqual([top.index, top.label], [286, null]);
    } finally {
      model.dispose();
    }
  });
});

test('the iNaturalist bird model with its labels: bird.bmp is a Poecile (chickadee) species', async () => {
  const model = await load({ model: BIRD_MODEL, labels: INAT_BIRD_LABELS });
  try {
    assert.equal(model.info.numClasses, 965);
    assert.equal(model.info.featureSize, 1280);
    assert.equal(model.info.weightType, 'uint8');
    const [top] = await model.classify(imageBytes('bird.bmp'));
    assert.match(top.label, /^Poecile /);
    assert.equal(top.label, readFileSync(INAT_BIRD_LABELS, 'utf8').split('\n')[top.index]);
  } finally {
    model.dispose();
  }
});
