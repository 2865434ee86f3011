// Bad inputs and models reject with an Mnv2Error (stable code, readable message) and leave
// the model usable; dispose() and calls made without awaiting behave.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  assertMnv2Error, BIRD_MODEL, IMAGENET_LABELS, IMAGENET_MODELS, image, imageBytes, INAT_BIRD_LABELS, load, rawRgb, sharedModel,
} from './helpers.js';

const cat = imageBytes('cat.bmp');
const jpeg = imageBytes('owl.jpg');

// A BMP whose header claims 100000 x 100000 pixels (the rest of the file is missing).
function hugeBmpHeader() {
  const header = Buffer.from(cat.subarray(0, 54));
  header.writeInt32LE(100000, 18);
  header.writeInt32LE(100000, 22);
  return new Uint8Array(header);
}

// Bytes from a fixed-seed generator (xorshift32), starting with no image signature.
function noiseBytes(length) {
  const out = new Uint8Array(length);
  let x = 2463534242;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  out[0] = 0x17;
  return out;
}

describe('bad images', () => {
  let model;
  let expected;
  before(async () => {
    model = await load();
    expected = await model.classify(cat);
  });
  after(() => model.dispose());

  const cases = [
    ['a number', () => 42, 'E_INPUT_TYPE'],
    ['{}', () => ({}), 'E_INPUT_TYPE'],
    ['null', () => null, 'E_INPUT_TYPE'],
    ['undefined', () => undefined, 'E_INPUT_TYPE'],
    ['a boolean', () => true, 'E_INPUT_TYPE'],
    ['an object without data', () => ({ width: 224, height: 224 }), 'E_INPUT_TYPE'],
    ['pixels as a plain array', () => ({ data: [...rawRgb('bird.rgb').data], width: 224, height: 224 }), 'E_INPUT_TYPE'],
    ['Float32Array pixels', () => ({ data: new Float32Array(224 * 224 * 3), width: 224, height: 224 }), 'E_INPUT_TYPE'],
    ['an empty Uint8Array', () => new Uint8Array(0), 'E_IMAGE_DECODE'],
    ['an empty Blob', () => new Blob([]), 'E_IMAGE_DECODE'],
    ['random bytes', () => noiseBytes(4096), 'E_IMAGE_DECODE'],
    ['a JPEG cut after 2000 bytes', () => jpeg.subarray(0, 2000), 'E_IMAGE_DECODE'],
    ['a JPEG cut in half', () => jpeg.subarray(0, jpeg.length >> 1), 'E_IMAGE_DECODE'],
    ['a BMP cut in half', () => cat.subarray(0, cat.length >> 1), 'E_IMAGE_DECODE'],
    ['text bytes', () => new TextEncoder().encode('this is a text file, not an image\n'), 'E_IMAGE_DECODE'],
    ['a text file path', () => image('COPYRIGHT'), 'E_IMAGE_DECODE'],
    ['a path that does not exist', () => image('no-such-photo.jpg'), 'E_IO'],
    ['raw pixels 0x0', () => ({ data: new Uint8Array(0), width: 0, height: 0 }), 'E_INPUT_TYPE'],
    ['raw pixels -224x-224', () => ({ data: rawRgb('bird.rgb').data, width: -224, height: -224 }), 'E_INPUT_TYPE'],
    ['raw pixels 224.5x224', () => ({ data: new Uint8Array(224 * 224 * 3), width: 224.5, height: 224 }), 'E_INPUT_TYPE'],
    ['raw pixels NaN x 224', () => ({ data: new Uint8Array(3), width: NaN, height: 224 }), 'E_INPUT_TYPE'],
    ['raw pixels with a string width', () => ({ data: new Uint8Array(12), width: '2', height: 2 }), 'E_INPUT_TYPE'],
    ['raw pixels of the wrong length', () => ({ data: rawRgb('bird.rgb').data.subarray(1), width: 224, height: 224 }), 'E_INPUT_TYPE'],
    ['raw pixels of 2 channels', () => ({ data: new Uint8Array(224 * 224 * 2), width: 224, height: 224 }), 'E_INPUT_TYPE'],
    ['raw pixels 20000x1', () => ({ data: new Uint8Array(20000 * 3), width: 20000, height: 1 }), 'E_IMAGE_TOO_LARGE'],
    ['a BMP header claiming 100000x100000', hugeBmpHeader, 'E_IMAGE_TOO_LARGE'],
  ];
  for (const [what, make, code] of cases) {
    test(`${what}: ${code}, then the model still works`, async () => {
      await assertMnv2Error(model.classify(make()), code);
      assert.deepEqual(await model.classify(cat), expected);
    });
  }

  test('embed and scores reject the same way', async () => {
    await assertMnv2Error(model.embed(noiseBytes(100)), 'E_IMAGE_DECODE');
    await assertMnv2Error(model.scores({}), 'E_INPUT_TYPE');
    assert.deepEqual(await model.classify(cat), expected);
  });

  for (const topk of [0, -1, 2.5, '5', NaN]) {
    test(`topk ${JSON.stringify(topk)}: E_INPUT_TYPE`, async () => {
      await assertMnv2Error(model.classify(cat, { topk }), 'E_INPUT_TYPE');
      assert.deepEqual(await model.classify(cat), expected);
    });
  }

  test('a failed call does not leave its results behind: scores are from the last good call', async () => {
    const good = await model.scores(rawRgb('bird.rgb'));
    await assertMnv2Error(model.scores(jpeg.subarray(0, jpeg.length >> 1)), 'E_IMAGE_DECODE');
    assert.deepEqual(await model.scores(rawRgb('bird.rgb')), good);
  });
});

describe('bad models and options', () => {
  const tflite = new Uint8Array(readFileSync(sharedModel(IMAGENET_MODELS[0].file)));
  const cases = [
    ['the bytes of a JPEG', () => ({ model: jpeg }), 'E_MODEL_FORMAT'],
    ['empty bytes', () => ({ model: new Uint8Array(0) }), 'E_MODEL_FORMAT'],
    ['a .tflite cut in half', () => ({ model: tflite.subarray(0, tflite.length >> 1) }), 'E_MODEL_FORMAT'],
    ['the first 100 bytes of a .tflite', () => ({ model: tflite.subarray(0, 100) }), 'E_MODEL_FORMAT'],
    ['a path that does not exist', () => ({ model: sharedModel('no_such_model.tflite') }), 'E_IO'],
    ['a file: URL that does not exist', () => ({ model: new URL('file:///no/such/model.tflite') }), 'E_IO'],
    ['a number as the model', () => ({ model: 7 }), 'E_INPUT_TYPE'],
    ['965 labels for 1001 classes', () => ({ model: tflite, labels: INAT_BIRD_LABELS }), 'E_INVALID_ARGUMENT'],
    ['2 labels as string[]', () => ({ model: tflite, labels: ['cat', 'dog'] }), 'E_INVALID_ARGUMENT'],
    ['1001 labels for the 965-class bird model', () => ({ model: BIRD_MODEL, labels: IMAGENET_LABELS }), 'E_INVALID_ARGUMENT'],
    ['a label file that does not exist', () => ({ model: tflite, labels: sharedModel('no_such_labels.txt') }), 'E_IO'],
    ['labels as a number', () => ({ model: tflite, labels: 3 }), 'E_INPUT_TYPE'],
    ["simd: 'maybe'", () => ({ simd: 'maybe' }), 'E_INPUT_TYPE'],
    ['simd: 1', () => ({ simd: 1 }), 'E_INPUT_TYPE'],
  ];
  for (const [what, options, code] of cases) {
    test(`load with ${what}: ${code}`, async () => {
      await assertMnv2Error(load(options()), code);
    });
  }

  test('a good load after all of these still works', async () => {
    const model = await load({ model: tflite, labels: IMAGENET_LABELS });
    assert.equal((await model.classify(cat))[0].label, 'Egyptian cat');
    model.dispose();
  });
});

describe('dispose', () => {
  test('later classify, embed and scores reject with E_DISPOSED; disposing twice is fine', async () => {
    const model = await load();
    assert.equal(model.disposed, false);
    model.dispose();
    assert.equal(model.disposed, true);
    model.dispose();
    await assertMnv2Error(model.classify(cat), 'E_DISPOSED');
    await assertMnv2Error(model.embed(cat), 'E_DISPOSED');
    await assertMnv2Error(model.scores(rawRgb('bird.rgb')), 'E_DISPOSED');
    // The input is not looked at once the model is gone.
    await assertMnv2Error(model.classify(null), 'E_DISPOSED');
  });

  // dispose() lands at every point of a pending call: while queued, while a Blob or file is
  // read, between running the model and reading its results. The call either finishes with
  // the right answer or rejects with E_DISPOSED, never anything else.
  const pending = {
    bytes: { make: () => cat, ticks: 6 },
    Blob: { make: () => new Blob([cat]), ticks: 8 },
    'file path': { make: () => image('cat.bmp'), ticks: 2 },
  };
  for (const [kind, { make, ticks }] of Object.entries(pending)) {
    test(`during a pending call on ${kind}`, async () => {
      const outcomes = new Set();
      for (let n = 0; n < ticks; n++) {
        for (const method of ['classify', 'embed']) {
          const model = await load();
          const call = model[method](make());
          let dispose = Promise.resolve();
          for (let i = 0; i < n; i++) dispose = dispose.then();
          dispose = dispose.then(() => model.dispose());
          try {
            const result = await call;
            if (method === 'classify') assert.equal(result[0].label, 'Egyptian cat');
            else assert.equal(result.length, 1280);
            outcomes.add('finished');
          } catch (e) {
            assert.equal(e.code, 'E_DISPOSED', `${method} with dispose after ${n} ticks: ${e.stack}`);
            outcomes.add('E_DISPOSED');
          }
          await dispose;
          await assertMnv2Error(model.classify(cat), 'E_DISPOSED');
        }
      }
      assert.ok(outcomes.has('E_DISPOSED'));
    });
  }

  test('calls queued behind a pending one reject with E_DISPOSED', async () => {
    const model = await load();
    const first = model.classify(image('cat.bmp'));
    const second = model.classify(cat);
    model.dispose();
    await assertMnv2Error(first, 'E_DISPOSED');
    await assertMnv2Error(second, 'E_DISPOSED');
  });
});

describe('several models and calls at once', () => {
  test('three models live together; disposing one leaves the others working', async () => {
    const [uint8, int8, birds] = await Promise.all([
      load(),
      load({ model: sharedModel(IMAGENET_MODELS[1].file), labels: IMAGENET_LABELS }),
      load({ model: BIRD_MODEL, labels: INAT_BIRD_LABELS }),
    ]);
    const photo = imageBytes('bird.bmp');
    const [a, b, c] = await Promise.all([uint8.classify(photo), int8.classify(photo), birds.classify(photo)]);
    assert.equal(a[0].label, 'chickadee');
    assert.equal(b[0].label, 'chickadee');
    assert.match(c[0].label, /^Poecile /);
    int8.dispose();
    assert.deepEqual(await uint8.classify(photo), a);
    assert.deepEqual(await birds.classify(photo), c);
    await assertMnv2Error(int8.classify(photo), 'E_DISPOSED');
    uint8.dispose();
    birds.dispose();
  });

  test('10 calls issued without awaiting, mixed photos and input kinds, resolve in order with the right results', async () => {
    const model = await load();
    try {
      const photos = ['cat.bmp', 'bird.bmp', 'hot_dog.jpg', 'parrot.jpg', 'sunflower.bmp'];
      const expected = [];
      for (const photo of photos) expected.push(await model.classify(imageBytes(photo)));
      const order = [];
      const calls = [];
      for (let i = 0; i < 10; i++) {
        const photo = photos[(i * 3) % photos.length];
        const input = i % 3 === 0 ? image(photo) : i % 3 === 1 ? new Blob([imageBytes(photo)]) : imageBytes(photo);
        calls.push(model.classify(input).then((result) => {
          order.push(i);
          return [photo, result];
        }));
      }
      const results = await Promise.all(calls);
      assert.deepEqual(order, [...Array(10).keys()]);
      for (const [photo, result] of results) assert.deepEqual(result, expected[photos.indexOf(photo)], photo);
    } finally {
      model.dispose();
    }
  });

  test('a failing call in the middle of a burst does not disturb the others', async () => {
    const model = await load();
    try {
      const calls = [model.classify(cat), model.classify(new Uint8Array(3)), model.embed(cat), model.classify(rawRgb('bird.rgb'))];
      const [first, second, third, fourth] = await Promise.allSettled(calls);
      assert.equal(first.value[0].label, 'Egyptian cat');
      assert.equal(second.reason.code, 'E_IMAGE_DECODE');
      assert.equal(third.value.length, 1280);
      assert.equal(fourth.value[0].label, 'chickadee');
    } finally {
      model.dispose();
    }
  });
});
