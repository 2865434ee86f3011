// The relaxed SIMD build (mnv2-relaxed, src/kernels/relaxed.h), which load() picks where the engine
// validates WebAssembly's relaxed SIMD: Node 20 does only with --experimental-wasm-relaxed-simd,
// so this process (without it) gets the SIMD build, and a child process with the flag compares
// the two builds. Whatever form the engine's relaxed dot product has, the int8 scores are those
// of the SIMD build, byte for byte. (Node 20's form is neither exact one: its int8 kernels are the
// SIMD build's; Chromium's, where the relaxed kernels run, is tested in tests/browser.) The float32
// GEMM runs on f32x4.relaxed_madd, which V8 fuses: scores within 1e-5 of the SIMD build's, top-1
// the same, and the same on 1 and 2 threads.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { relaxedSimdSupported } from '../../web/node.js';
import { IMAGENET_MODELS, PHOTOS, REPO, assertMnv2Error, load, run } from './helpers.js';

test('without relaxed SIMD: simd: \'relaxed\' is refused in words, \'auto\' loads the SIMD build', async (t) => {
  if (relaxedSimdSupported()) return t.skip('this Node runs relaxed SIMD without a flag');
  await assertMnv2Error(load({ simd: 'relaxed' }), 'E_UNSUPPORTED');
  await assert.rejects(load({ simd: 'relaxed' }), /does not support WebAssembly's relaxed SIMD; use simd: 'auto' or true/);
  const model = await load({ threads: 1 });
  assert.deepEqual([model.info.simd, model.info.target, model.info.relaxedDot], [true, 'WASM', 'none']);
  model.dispose();
  await assertMnv2Error(load({ simd: 'fast' }), 'E_INPUT_TYPE');
});

test('with relaxed SIMD (node --experimental-wasm-relaxed-simd): the relaxed build, the same scores; TF.js models on the SIMD build', async (t) => {
  const { code, stdout, stderr } = await run(process.execPath,
    ['--experimental-wasm-relaxed-simd', join(REPO, 'tests', 'js', 'relaxed-compare.mjs')], { timeout: 600_000 });
  assert.equal(code, 0, stderr);
  const { supported, runs, tfjs } = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(supported, true);
  assert.equal(runs.length, IMAGENET_MODELS.length * 4);
  for (const r of runs) {
    const what = `${r.file} ${r.precision} ${r.threads} thread(s)`;
    assert.deepEqual([r.relaxed.target, r.simd.target], ['WASM_RELAXED', 'WASM'], what);
    assert.deepEqual([r.relaxed.precision, r.relaxed.threads], [r.precision, r.threads], what);
    assert.ok(['unsigned', 'signed', 'none'].includes(r.relaxed.relaxedDot), r.relaxed.relaxedDot);
    assert.deepEqual(Object.keys(r.photos), PHOTOS);
    for (const [name, p] of Object.entries(r.photos)) {
      if (r.precision === 'int8') assert.equal(p.equal, true, `${what} ${name}: int8 scores differ (by ${p.maxDiff})`);
      // float32: the relaxed multiply-add may be fused (the last bits differ from the SIMD build's),
      // but the same on any number of threads.
      assert.ok(p.maxDiff <= 1e-5, `${what} ${name}: scores differ by ${p.maxDiff}`);
      if (r.threads > 1) {
        assert.equal(p.sameAsOneThread, true, `${what} ${name}: the relaxed build's scores differ from 1 thread's`);
      }
      assert.equal(p.top1[0], p.top1[1], `${what} ${name}: top-1`);
    }
  }
  t.diagnostic(`Node ${process.versions.node}: the relaxed dot product's form: ${runs[0].relaxed.relaxedDot}`);
  // TF.js models load the SIMD build (the relaxed one reads .tflite files only), named as such or not.
  if (!tfjs) return t.skip('nsfwjs is not installed (npm ci): no TF.js model to load');
  assert.deepEqual([tfjs.named.target, tfjs.named.threads], ['WASM', 1]);
  assert.deepEqual([tfjs.unnamed.target, tfjs.unnamed.threads], ['WASM', 2]);
  assert.equal(tfjs.equal, true, 'the same scores, one thread or two');
  assert.deepEqual(tfjs.refused, ['E_UNSUPPORTED_MODEL', 'E_UNSUPPORTED_MODEL', 'E_UNSUPPORTED_MODEL']);
});
