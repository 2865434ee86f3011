// Run by relaxed.test.js in a Node started with --experimental-wasm-relaxed-simd (not a test file
// itself): the relaxed SIMD build against the SIMD build, on every ImageNet model, int8 and float32,
// one and two threads. Prints one line of JSON:
//   { supported, runs: [{ file, precision, threads, relaxed: info, simd: info, photos: { name: { equal, maxDiff, top1 } } }] }
import { IMAGENET_MODELS, PHOTOS, argmax, imageBytes, loadImagenet, maxAbsDiff, threadsStarted } from './helpers.js';
import { relaxedSimdSupported } from '../../web/node.js';

const out = { supported: relaxedSimdSupported(), runs: [] };
for (const { file } of IMAGENET_MODELS) {
  for (const precision of ['int8', 'fp32']) {
    for (const threads of [1, 2]) {
      const [relaxed, simd] = await Promise.all([
        loadImagenet(file, { precision, threads }), loadImagenet(file, { precision, threads, simd: true }),
      ]);
      await threadsStarted(relaxed, threads);
      const run = { file, precision, threads, relaxed: relaxed.info, simd: simd.info, photos: {} };
      for (const name of PHOTOS) {
        const [a, b] = [await relaxed.scores(imageBytes(name)), await simd.scores(imageBytes(name))];
        run.photos[name] = { equal: a.every((v, i) => v === b[i]), maxDiff: maxAbsDiff(a, b), top1: [argmax(a), argmax(b)] };
      }
      relaxed.dispose();
      simd.dispose();
      out.runs.push(run);
    }
  }
}
console.log(JSON.stringify(out));
