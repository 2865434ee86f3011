// The package in every engine (eachEngine: Chromium, Firefox, WebKit), on the page and in a module
// Web Worker, SIMD and non-SIMD: every input kind the context can make (encoded bytes, ArrayBuffer,
// Blob, ImageBitmap, OffscreenCanvas, ImageData, raw pixels, VideoFrame, and on the page <img> and
// <canvas>) against the reference top-1 of the photos; the engine's features as expected
// (engines.js FEATURES); the fallbacks when SIMD, OffscreenCanvas or compileStreaming are taken
// away; and the median latency of one classification, printed and written to
// artifacts/browser-compat.json. The browser side is tests/browser/pages/kinds.js.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { FEATURES } from './engines.js';
import { artifactPath, checkPrerequisites, defaultThreads, eachEngine, references, start, withPage } from './helpers.js';

const photos = references();
const FEW = ['cat.bmp', 'hot_dog.jpg', 'sunflower.bmp']; // the non-SIMD runs: slower, same code paths
const LATENCY_PHOTO = 'cat.bmp';
let server;
const compat = {}; // engine -> { version, features, latency: { 'page simd': { bytes, bitmap }, ... } }

before(async () => {
  checkPrerequisites();
  server = await start({ port: 0 });
});

after(async () => {
  await server?.close();
  if (Object.keys(compat).length) {
    writeFileSync(artifactPath('browser-compat.json'), `${JSON.stringify(compat, null, 2)}\n`);
  }
});

async function openTestPage(page) {
  await page.goto(`${server.url}/tests/browser/pages/inputs.html`);
  await page.waitFor(() => document.documentElement.dataset.ready === 'true' && !!window.mnv2test, null, { what: 'pages/inputs.js' });
}

/** Runs pages/kinds.js on the page ('page') or in a module worker ('worker'); returns its answer. */
async function inContext(page, where, message) {
  const answer = await page.evaluate(({ where, message }) => window.mnv2test[where](message), { where, message });
  assert.equal(answer.ok, true, `${where}: ${answer.code}: ${answer.message}\n${answer.stack ?? ''}`);
  assert.equal(answer.inWorker, where === 'worker');
  return answer;
}

eachEngine('every input kind, on the page and in a module worker', (ctx) => {
  const expected = FEATURES[ctx.engine];
  let page;
  const entry = () => {
    compat[ctx.engine] ??= { version: ctx.browser.version, features: {}, latency: {} };
    return compat[ctx.engine];
  };

  before(async () => {
    page = await ctx.browser.newPage();
    await openTestPage(page);
  });
  after(() => page?.close());

  test('the engine offers the features the package uses, as expected of this engine', async () => {
    for (const where of ['page', 'worker']) {
      const { features } = await inContext(page, where, { kind: 'features' });
      entry().features[where] = features;
      assert.deepEqual(features, expected, `${where}: the features of ${ctx.browser.version}`);
    }
  });

  for (const where of ['page', 'worker']) {
    for (const simd of ['auto', false]) {
      const variant = simd === 'auto' ? 'SIMD' : 'no SIMD';
      test(`${where === 'page' ? 'on the page' : 'in a module worker'}, ${simd === 'auto' ? "simd: 'auto'" : 'simd: false'}: every input kind's top-1 equals the reference`, async (t) => {
        const names = simd === 'auto' ? photos.map((p) => p.name) : FEW;
        // The latency: the median of 15 calls, 5 without SIMD (about 155 ms a call there, docs/performance.md).
        const answer = await inContext(page, where, {
          names, simd, latencyOf: LATENCY_PHOTO, runs: simd === 'auto' ? 15 : 5, bitmapOf: where === 'worker' ? 'parrot.jpg' : undefined,
        });
        // 'auto' loads a SIMD build wherever the engine validates WebAssembly SIMD (all three do): the
        // relaxed one where it validates relaxed SIMD (Chromium, Firefox), else the SIMD one (WebKit).
        assert.equal(answer.info.simd, simd === 'auto' && expected.wasmSimd);
        assert.equal(answer.info.target, !answer.info.simd ? 'EMU128' : expected.relaxedSimd ? 'WASM_RELAXED' : 'WASM');
        // Threads with SIMD where SharedArrayBuffer is (the page is cross-origin isolated); else one.
        assert.equal(answer.info.threads, answer.info.simd ? await defaultThreads(page, expected, where) : 1);

        const kinds = ['bytes', 'arrayBuffer', 'blob', 'bitmap', 'offscreenCanvas', 'imageData', 'rawPixels',
          ...(expected.videoFrame ? ['videoFrame'] : []), ...(where === 'page' ? ['img', 'canvas'] : [])].sort();
        const got = {};
        const want = {};
        let maxDiff = 0;
        for (const name of names) {
          const r = answer.results[name];
          assert.deepEqual(Object.keys(r).sort(), kinds, `${name}: the input kinds classified`);
          const ref = photos.find((p) => p.name === name);
          for (const kind of kinds) {
            got[`${name} ${kind}`] = `${r[kind].index} ${r[kind].label}`;
            want[`${name} ${kind}`] = `${ref.index} ${ref.label}`;
          }
          // The same encoded file gives the same scores, whatever wraps it.
          assert.equal(r.blob.score, r.bytes.score, name);
          assert.equal(r.arrayBuffer.score, r.bytes.score, name);
          // The same browser-decoded pixels give the same scores, whatever holds them.
          for (const kind of ['offscreenCanvas', 'imageData', 'rawPixels']) assert.equal(r[kind].score, r.bitmap.score, `${name} ${kind}`);
          // The browser's decoder and the engine's agree closely (same resize; JPEG decoders differ slightly),
          // and so do the browser's other ways to the pixels (an <img>, a VideoFrame).
          for (const kind of ['bitmap', 'videoFrame', 'img', 'canvas'].filter((k) => kinds.includes(k))) {
            const diff = Math.abs(r[kind].score - r.bytes.score);
            maxDiff = Math.max(maxDiff, diff);
            assert.ok(diff < 0.05, `${name} ${kind}: score ${r[kind].score} vs ${r.bytes.score} from the bytes`);
          }
        }
        assert.deepEqual(got, want);
        // The browser's own decoder, retried when two decodes of a photo disagreed (pages/kinds.js stableDecode).
        for (const [name, glitches] of Object.entries(answer.decodeGlitches)) {
          t.diagnostic(`${ctx.browser.version}, ${where}: createImageBitmap(${name}) gave different pixels from one decode to the next ` +
            `(${glitches.map((g) => `${g.bytesDiffering} bytes differing`).join(', ')}); the test used two decodes that agreed`);
        }
        if (where === 'worker') assert.equal(answer.transferred.label, 'macaw', 'an ImageBitmap transferred from the page');
        assert.equal(answer.badInput.code, 'E_IMAGE_DECODE');
        assert.equal(answer.badInput.isMnv2Error, true);

        const { bytes, bitmap } = answer.latency;
        entry().latency[`${where} ${variant}`] = { bytes: Math.round(bytes * 10) / 10, bitmap: Math.round(bitmap * 10) / 10 };
        t.diagnostic(`${ctx.browser.version}, ${where}, ${variant} (${answer.info.target}): median latency of one classify() of ` +
          `${LATENCY_PHOTO}: ${bytes.toFixed(1)} ms from its bytes, ${bitmap.toFixed(1)} ms from an ImageBitmap; ` +
          `largest top-1 score difference, browser-decoded vs engine-decoded: ${maxDiff.toFixed(4)}`);
      });
    }
  }

  // The relaxed SIMD build (src/kernels/relaxed.h) where the engine has relaxed SIMD: the int8 kernels
  // on the relaxed dot product where its form is exact, the SIMD build's otherwise; either way the
  // same int8 bytes as the SIMD build. Where it has none, simd: 'relaxed' is refused in words.
  test('the relaxed SIMD build: the same int8 scores as the SIMD build on every photo, float32 within 1e-5', async (t) => {
    const r = await inContext(page, 'page', { kind: 'compareBuilds', names: photos.map((p) => p.name) });
    if (!expected.relaxedSimd) {
      assert.deepEqual(r.refused, {
        code: 'E_UNSUPPORTED', isMnv2Error: true,
        message: "this JavaScript engine does not support WebAssembly's relaxed SIMD; use simd: 'auto' or true",
      });
      return;
    }
    for (const precision of ['int8', 'fp32']) {
      const { relaxed, simd } = r.info[precision];
      assert.deepEqual([relaxed.target, simd.target, relaxed.precision], ['WASM_RELAXED', 'WASM', precision]);
      assert.equal(simd.relaxedDot, 'none');
      assert.ok(['unsigned', 'signed', 'none'].includes(relaxed.relaxedDot), relaxed.relaxedDot);
    }
    t.diagnostic(`${ctx.browser.version}: the relaxed dot product's form: ${r.info.int8.relaxed.relaxedDot}`);
    for (const [name, p] of Object.entries(r.photos)) {
      assert.equal(p.int8Equal, true, `${name}: int8 scores differ`);
      assert.ok(p.fp32MaxDiff <= 1e-5, `${name}: float32 scores differ by ${p.fp32MaxDiff}`);
      assert.equal(p.top1[0], p.top1[1], `${name}: top-1`);
    }
  });

  // The issue's check of the learner in every engine: the training photos alone suffice for every
  // method; a classifier read back from JSON and the exported .tflite give the same scores.
  for (const where of ['page', 'worker']) {
    test(`${where === 'page' ? 'on the page' : 'in a module worker'}: your own classes, by every method, and their JSON and .tflite`, async () => {
      const r = await inContext(page, where, { kind: 'teach' });
      const right = { cat: 'cat', dog: 'dog', hotdog: 'hotdog' };
      assert.deepEqual(r.top, { knn: right, imprint: right, softmax: right });
      assert.equal(r.epochs, 50);
      assert.ok(r.maxDiff <= 1e-5, `largest score difference after JSON / .tflite: ${r.maxDiff}`);
    });
  }

  test('without WebAssembly SIMD, OffscreenCanvas and compileStreaming, the package falls back or says why', async () => {
    const without = ['simd', 'OffscreenCanvas', 'compileStreaming'];
    // A fresh page: the features are taken away for good.
    await withPage(ctx.browser, {}, async (fresh) => {
      await openTestPage(fresh);
      for (const where of ['worker', 'page']) {
        const r = await inContext(fresh, where, { kind: 'degraded', without, name: 'parrot.jpg' });
        assert.deepEqual(r.features, { ...expected, wasmSimd: false, relaxedSimd: false, offscreenCanvas2d: false, compileStreaming: false }, where);
        // simd: true is refused in words; 'auto' loads the build without SIMD, compiled without streaming.
        assert.deepEqual(r.forcedSimd, {
          code: 'E_UNSUPPORTED', isMnv2Error: true,
          message: 'this JavaScript engine does not support WebAssembly SIMD; use simd: false',
        }, where);
        assert.equal(r.info.simd, false, where);
        assert.equal(r.info.target, 'EMU128', where);
        assert.equal(r.bytes.label, 'macaw', `${where}: encoded bytes need no canvas`);
        if (where === 'page') {
          // A page has a document: DOM images are drawn into an HTMLCanvasElement instead.
          assert.equal(r.bitmap.label, 'macaw', 'page: ImageBitmap');
          assert.equal(r.img.label, 'macaw', 'page: <img>');
        } else {
          // A worker without OffscreenCanvas cannot turn an ImageBitmap into pixels: a clear error with a code.
          assert.equal(r.bitmap.code, 'E_UNSUPPORTED', JSON.stringify(r.bitmap));
          assert.equal(r.bitmap.isMnv2Error, true);
          assert.match(r.bitmap.message, /neither OffscreenCanvas nor a document.*pass image bytes or \{ data, width, height \}/);
        }
      }
      assert.deepEqual(await fresh.errors(), []);
    });
  });
});
