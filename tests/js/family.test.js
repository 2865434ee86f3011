// The MobileNet family through the API: MobileNetV1 at three of the paper's (alpha, resolution)
// points, in int8 and float32, against the independent runtime's references, and the same bytes
// from the SIMD and the scalar builds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  argmax, IMAGENET_LABELS, imageBytes, load, PHOTOS, REFERENCE_RAW_V1, REFERENCE_TOP5_V1, sharedModel, V1_MODELS,
} from './helpers.js';

// [multiply-adds, weights and biases] of MobileNetV1 (Howard et al. 2017, Table 1) at `alpha` and
// `size`, with a 1001-class 1x1 classifier: a 3x3 stride-2 stem, then 13 blocks of a 3x3 depthwise
// and a 1x1 pointwise convolution.
function v1Cost(alpha, size) {
  const blocks = [[1, 64], [2, 128], [1, 128], [2, 256], [1, 256], [2, 512], [1, 512], [1, 512], [1, 512], [1, 512],
    [1, 512], [2, 1024], [1, 1024]];
  let side = size / 2;
  let c = 32 * alpha;
  let macs = side * side * c * 27;
  let params = 27 * c + c;
  for (const [stride, width] of blocks) {
    const out = width * alpha;
    side = Math.ceil(side / stride);
    macs += side * side * (9 * c + c * out);
    params += 10 * c + (c + 1) * out;
    c = out;
  }
  return [macs + c * 1001, params + (c + 1) * 1001];
}

for (const { file, alpha, size, multiplyAdds, parameters } of V1_MODELS) {
  describe(`${file}`, () => {
    let int8;
    let fp32;
    let scalar;
    before(async () => {
      [int8, fp32, scalar] = await Promise.all([
        load({ model: sharedModel(file), labels: IMAGENET_LABELS, threads: 1 }),
        load({ model: sharedModel(file), labels: IMAGENET_LABELS, precision: 'fp32', threads: 1 }),
        load({ model: sharedModel(file), labels: IMAGENET_LABELS, simd: false }),
      ]);
    });
    after(() => {
      for (const m of [int8, fp32, scalar]) m?.dispose();
    });

    test('info: the family, alpha, input size, cost', () => {
      const { info } = int8;
      assert.equal(info.family, 'mobilenet_v1');
      assert.equal(info.alpha, alpha);
      assert.deepEqual(info.inputSize, { width: size, height: size });
      assert.equal(info.numClasses, 1001);
      assert.equal(info.featureSize, 1024 * alpha);
      assert.equal(info.precision, 'int8');
      assert.equal(fp32.info.precision, 'fp32');
      // Counted from the paper's Table 1, and near TF-slim's published (rounded) figures.
      assert.deepEqual([info.multiplyAdds, info.parameters], v1Cost(alpha, size));
      assert.ok(Math.abs(info.multiplyAdds / multiplyAdds - 1) < 0.05, `${info.multiplyAdds} multiply-adds`);
      assert.ok(Math.abs(info.parameters / parameters - 1) < 0.02, `${info.parameters} parameters`);
    });

    test('top-1 as the reference runtime on every photo where its best two differ by more than 2/256', async () => {
      let clear = 0;
      for (const photo of PHOTOS) {
        const ref = REFERENCE_TOP5_V1[file][photo];
        if (ref[0][2] - ref[1][2] <= 2 / 256 + 1e-6) continue;
        clear++;
        for (const model of [int8, fp32]) {
          const [top] = await model.classify(imageBytes(photo));
          assert.equal(top.index, ref[0][0], `${photo} (${model.info.precision}): ${top.label}, reference ${ref[0][1]}`);
        }
      }
      assert.ok(clear >= 8, `${clear} photos`);
    });

    for (const photo of ['bird', 'sunflower']) {
      const raw = `${photo}_${size}.rgb`;
      test(`${raw}: the raw outputs near the reference's, and the scalar build's bytes the same`, async () => {
        const input = { data: imageBytes(raw), width: size, height: size };
        const [a, b] = await Promise.all([int8.scores(input), scalar.scores(input)]);
        assert.deepEqual(a, b, 'SIMD and scalar builds give the same int8 outputs');
        const ref = REFERENCE_RAW_V1[file][raw];
        const ours = Array.from(a, (s) => Math.round(s * 256));
        const within = ours.filter((q, i) => Math.abs(q - ref[i]) <= 1).length;
        assert.ok(within >= 0.99 * ref.length, `${within} of ${ref.length} within 1`);
        assert.equal(argmax(ours), argmax(ref));
      });
    }
  });
}

test('MobileNetV2 says so too', async () => {
  const model = await load({ model: sharedModel('mobilenet_v2_1.0_224_quant.tflite'), threads: 1 });
  try {
    assert.equal(model.info.family, 'mobilenet_v2');
  } finally {
    model.dispose();
  }
});
