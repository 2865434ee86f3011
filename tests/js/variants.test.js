// The SIMD (HWY_WASM) and scalar (HWY_EMU128) builds of the module compute the same network.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { argmax, IMAGENET_MODELS, imageBytes, loadImagenet, maxAbsDiff, PHOTOS, rawRgb, simdSupported } from './helpers.js';

test('Node 20 runs WebAssembly SIMD', () => {
  assert.equal(simdSupported(), true);
});

for (const { file } of IMAGENET_MODELS) {
  describe(`${file}: simd: true vs simd: false`, () => {
    let simd;
    let scalar;
    before(async () => {
      [simd, scalar] = await Promise.all([loadImagenet(file, { simd: true }), loadImagenet(file, { simd: false })]);
    });
    after(() => {
      simd.dispose();
      scalar.dispose();
    });

    test('info names the variant and its Highway target; the rest is the same', () => {
      assert.deepEqual([simd.info.simd, simd.info.target], [true, 'WASM']);
      assert.deepEqual([scalar.info.simd, scalar.info.target], [false, 'EMU128']);
      // Threads come with the SIMD build only (threads.test.js).
      assert.equal(scalar.info.threads, 1);
      const { simd: _a, target: _b, threads: _e, ...rest } = simd.info;
      const { simd: _c, target: _d, threads: _f, ...scalarRest } = scalar.info;
      assert.deepEqual(rest, scalarRest);
    });

    for (const photo of [...PHOTOS, 'bird.rgb']) {
      test(`${photo}: every score within 1e-4, same top-1`, async (t) => {
        const input = photo.endsWith('.rgb') ? rawRgb(photo) : imageBytes(photo);
        const [a, b] = await Promise.all([simd.scores(input), scalar.scores(input)]);
        const diff = maxAbsDiff(a, b);
        t.diagnostic(`max score difference ${diff.toExponential(2)}`);
        assert.ok(diff <= 1e-4, `max difference ${diff}`);
        assert.equal(argmax(a), argmax(b));
      });
    }

    test('classify: the same top-5 classes', async () => {
      const input = imageBytes('cat.bmp');
      const [a, b] = await Promise.all([simd.classify(input), scalar.classify(input)]);
      assert.deepEqual(a.map((p) => [p.index, p.label]), b.map((p) => [p.index, p.label]));
      assert.equal(a[0].label, 'Egyptian cat');
    });

    test('embeddings agree too (relative to their scale)', async () => {
      const input = imageBytes('owl.jpg');
      const [a, b] = await Promise.all([simd.embed(input), scalar.embed(input)]);
      const scale = Math.max(...a.map(Math.abs));
      assert.ok(maxAbsDiff(a, b) <= 1e-4 * Math.max(1, scale), `max difference ${maxAbsDiff(a, b)}`);
    });
  });
}
