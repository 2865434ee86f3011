// Run by relaxed.test.js in a Node started with --experimental-wasm-relaxed-simd (not a test file
// itself): the relaxed SIMD build against the SIMD build, on every ImageNet model, int8 and float32,
// one and two threads; and which build a TF.js model gets (the relaxed build reads .tflite files
// only). Prints one line of JSON:
//   { supported, runs: [{ file, precision, threads, relaxed: info, simd: info,
//                         photos: { name: { equal, maxDiff, top1, sameAsOneThread (2 threads) } } }],
//     tfjs: { named: info, unnamed: info, equal, refused: [code, ...] } }  (tfjs: null without nsfwjs)
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGENET_MODELS, PHOTOS, argmax, imageBytes, load, loadImagenet, maxAbsDiff, threadsStarted } from './helpers.js';
import { NSFWJS_CLASSES, nsfwjsInstalled, nsfwjsModel } from './nsfwjs.js';
import { relaxedSimdSupported } from '../../web/node.js';

const out = { supported: relaxedSimdSupported(), runs: [], tfjs: null };
for (const { file } of IMAGENET_MODELS) {
  for (const precision of ['int8', 'fp32']) {
    const oneThread = {};  // the relaxed build's scores on 1 thread, by photo
    for (const threads of [1, 2]) {
      const [relaxed, simd] = await Promise.all([
        loadImagenet(file, { precision, threads }), loadImagenet(file, { precision, threads, simd: true }),
      ]);
      await threadsStarted(relaxed, threads);
      const run = { file, precision, threads, relaxed: relaxed.info, simd: simd.info, photos: {} };
      for (const name of PHOTOS) {
        const [a, b] = [await relaxed.scores(imageBytes(name)), await simd.scores(imageBytes(name))];
        run.photos[name] = { equal: a.every((v, i) => v === b[i]), maxDiff: maxAbsDiff(a, b), top1: [argmax(a), argmax(b)] };
        if (threads === 1) oneThread[name] = a;
        else run.photos[name].sameAsOneThread = a.every((v, i) => v === oneThread[name][i]);
      }
      relaxed.dispose();
      simd.dispose();
      out.runs.push(run);
    }
  }
}

// A TF.js model named as one (model.json) loads the SIMD build from the start; one whose path does
// not say so (the same files, model.json renamed `model`) is read first, then loads it instead.
// simd: 'relaxed' refuses both, and a model given in memory.
if (await nsfwjsInstalled()) {
  const { dir, paths } = await nsfwjsModel('mobilenet_v2');
  const copy = mkdtempSync(join(tmpdir(), 'mnv2-tfjs-'));
  try {
    copyFileSync(join(dir, 'model.json'), join(copy, 'model'));
    for (const p of paths) copyFileSync(join(dir, p), join(copy, p));
    const options = { labels: NSFWJS_CLASSES, inputRange: [0, 1] };
    const named = await load({ model: join(dir, 'model.json'), threads: 1, ...options });
    const unnamed = await load({ model: join(copy, 'model'), threads: 2, ...options });
    await threadsStarted(unnamed, 2);
    const [a, b] = [await named.scores(imageBytes('cat.bmp')), await unnamed.scores(imageBytes('cat.bmp'))];
    out.tfjs = { named: named.info, unnamed: unnamed.info, equal: a.every((v, i) => v === b[i]), refused: [] };
    named.dispose();
    unnamed.dispose();
    const memory = { modelJson: readFileSync(join(dir, 'model.json')), weights: paths.map((p) => readFileSync(join(dir, p))) };
    for (const model of [join(dir, 'model.json'), join(copy, 'model'), memory]) {
      out.tfjs.refused.push(await load({ model, simd: 'relaxed', ...options }).then((m) => m.dispose(), (e) => e.code));
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(out));
