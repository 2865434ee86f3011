// Integer inference through the JS API: the precision option, what info reports, accuracy on
// the real quantized models, and the SIMD and non-SIMD builds agreeing byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import {
  argmax, assertMnv2Error, image, IMAGENET_LABELS, IMAGENET_MODELS, imageBytes, load, loadImagenet, PHOTOS, rawRgb,
  REFERENCE_RAW, REFERENCE_TOP5, REPO, run, sharedModel,
} from './helpers.js';

test('precision: int8 by default for quantized models, fp32 on request, anything else rejected', async () => {
  const { file } = IMAGENET_MODELS[0];
  const [auto, int8, fp32] = await Promise.all([
    loadImagenet(file), loadImagenet(file, { precision: 'int8' }), loadImagenet(file, { precision: 'fp32' }),
  ]);
  try {
    assert.equal(auto.info.precision, 'int8');
    assert.equal(int8.info.precision, 'int8');
    assert.equal(fp32.info.precision, 'fp32');
    for (const m of [auto, int8, fp32]) assert.equal(m.info.quantized, true);
    const [a, b, c] = await Promise.all([auto.classify(imageBytes('cat.bmp')), int8.classify(imageBytes('cat.bmp')),
      fp32.classify(imageBytes('cat.bmp'))]);
    assert.deepEqual(a, b);
    assert.equal(a[0].label, 'Egyptian cat');
    assert.equal(c[0].label, 'Egyptian cat');
    // 8-bit probabilities: multiples of 1/256.
    for (const { score } of a) assert.equal(score * 256, Math.round(score * 256));
  } finally {
    auto.dispose();
    int8.dispose();
    fp32.dispose();
  }
  await assertMnv2Error(loadImagenet(file, { precision: 'int16' }), 'E_INPUT_TYPE');
  await assertMnv2Error(loadImagenet(file, { precision: 8 }), 'E_INPUT_TYPE');
});

test('the bundled default model runs in int8', async () => {
  const model = await load();
  try {
    assert.equal(model.info.precision, 'int8');
    assert.equal((await model.classify(imageBytes('cat.bmp'), { topk: 1 }))[0].index, 286);
  } finally {
    model.dispose();
  }
});

for (const { file } of IMAGENET_MODELS) {
  describe(`${file} in int8`, () => {
    let simd;
    let scalar;
    before(async () => {
      [simd, scalar] = await Promise.all([
        loadImagenet(file, { simd: true, precision: 'int8' }), loadImagenet(file, { simd: false, precision: 'int8' }),
      ]);
    });
    after(() => {
      simd.dispose();
      scalar.dispose();
    });

    test('both builds run the integer path', () => {
      assert.deepEqual([simd.info.precision, simd.info.target], ['int8', 'WASM']);
      assert.deepEqual([scalar.info.precision, scalar.info.target], ['int8', 'EMU128']);
    });

    for (const raw of ['bird.rgb', 'sunflower.rgb']) {
      test(`${raw}: the independent runtime's raw outputs, within 1 for 99%, never more than 8`, async (t) => {
        const scores = await simd.scores(rawRgb(raw));
        const ref = REFERENCE_RAW[file][raw];
        const histogram = new Map();
        let within = 0;
        let worst = 0;
        for (let i = 0; i < ref.length; i++) {
          const diff = Math.round(scores[i] * 256) - ref[i];
          histogram.set(diff, (histogram.get(diff) ?? 0) + 1);
          within += Math.abs(diff) <= 1;
          worst = Math.max(worst, Math.abs(diff));
        }
        t.diagnostic(`ours - reference: ${[...histogram].sort((a, b) => a[0] - b[0]).map(([d, n]) => `${d > 0 ? '+' : ''}${d}: ${n}`).join(', ')}`);
        assert.equal(argmax(scores), argmax(ref));
        assert.ok(within >= Math.ceil(0.99 * ref.length), `${within} of ${ref.length} within 1`);
        assert.ok(worst <= 8, `off by ${worst}`);
      });
    }

    for (const photo of [...PHOTOS, 'bird.rgb']) {
      test(`${photo}: SIMD and non-SIMD give the same bytes${photo.endsWith('.rgb') ? '' : ', and the reference top-1'}`, async () => {
        const input = photo.endsWith('.rgb') ? rawRgb(photo) : imageBytes(photo);
        const [a, b] = await Promise.all([simd.scores(input), scalar.scores(input)]);
        assert.deepEqual(a, b);
        const [fa, fb] = await Promise.all([simd.embed(input), scalar.embed(input)]);
        assert.deepEqual(fa, fb);
        if (!photo.endsWith('.rgb')) {
          const [index, , probability] = REFERENCE_TOP5[file][photo][0];
          assert.equal(argmax(a), index);
          // See tests/cpp/engine_quantized_test.cc: our decoder and resizer differ from the reference's.
          assert.ok(Math.abs(a[index] - probability) <= 0.06, `p=${a[index]}, reference ${probability}`);
        }
      });
    }
  });
}

describe('CLI --precision', () => {
  const cli = join(REPO, 'bin', 'cli.js');
  const model = sharedModel(IMAGENET_MODELS[1].file);
  const classify = (...args) => run(process.execPath, [cli, 'classify', '--model', model, '--labels', IMAGENET_LABELS,
    '--json', '--top', '1', ...args, image('cat.bmp')]);

  test('int8 and fp32 both name the cat; int8 scores are 8-bit steps', async () => {
    const [int8, fp32] = await Promise.all([classify('--precision', 'int8'), classify('--precision', 'fp32')]);
    assert.equal(int8.code, 0, int8.stderr);
    assert.equal(fp32.code, 0, fp32.stderr);
    const a = JSON.parse(int8.stdout).top[0];
    const b = JSON.parse(fp32.stdout).top[0];
    assert.equal(a.index, 286);
    assert.equal(b.index, 286);
    assert.ok(Math.abs(a.score * 256 - Math.round(a.score * 256)) < 0.02, `${a.score}`);
  });

  test('an unknown precision is a usage error', async () => {
    const r = await classify('--precision', 'int4');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--precision needs int8 or fp32/);
  });
});
