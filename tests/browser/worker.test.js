// The package inside a module Web Worker: encoded bytes, a Blob, an ImageBitmap, an
// OffscreenCanvas and an ImageBitmap transferred from the page (tests/browser/pages/worker.js).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkPrerequisites, launch, newPage, references, start } from './helpers.js';

const photos = references();
let server;
let browser;

before(async () => {
  checkPrerequisites();
  server = await start({ port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs pages/worker.js in a module worker of pages/worker.html and returns its answer. */
async function inWorker(page, message) {
  await page.goto(`${server.url}/tests/browser/pages/worker.html`);
  return page.evaluate(async ({ names, simd, bitmapOf }) => {
    const worker = new Worker('worker.js', { type: 'module' });
    const answer = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = (e) => reject(new Error(`worker failed: ${e.message}`));
    });
    const transfer = [];
    let bitmap;
    if (bitmapOf) {
      const img = new Image();
      img.src = `/samples/${bitmapOf}`;
      await img.decode();
      bitmap = await createImageBitmap(img);
      transfer.push(bitmap);
    }
    worker.postMessage({ names, simd, bitmap }, transfer);
    try {
      return await answer;
    } finally {
      worker.terminate();
    }
  }, message);
}

for (const simd of ['auto', false]) {
  test(`a module worker classifies bytes, Blobs, ImageBitmaps and OffscreenCanvases (simd: ${simd})`, async (t) => {
    const { page, errors } = await newPage(browser);
    try {
      const names = simd === 'auto' ? photos.map((p) => p.name) : ['cat.bmp', 'hot_dog.jpg', 'sunflower.bmp'];
      const answer = await inWorker(page, { names, simd, bitmapOf: 'parrot.jpg' });
      assert.equal(answer.ok, true, `${answer.code}: ${answer.message}`);
      assert.equal(answer.inWorker, true);
      assert.equal(answer.info.simd, simd === 'auto');
      assert.equal(answer.info.target, simd === 'auto' ? 'WASM' : 'EMU128');
      const got = {};
      const want = {};
      let maxDiff = 0;
      for (const name of names) {
        maxDiff = Math.max(maxDiff, Math.abs(answer.results[name].bitmap.score - answer.results[name].bytes.score));
        const ref = photos.find((p) => p.name === name);
        for (const kind of ['bytes', 'blob', 'bitmap', 'canvas']) {
          const top = answer.results[name][kind];
          got[`${name} ${kind}`] = `${top.index} ${top.label}`;
          want[`${name} ${kind}`] = `${ref.index} ${ref.label}`;
        }
        // The same encoded file gives the same scores, whatever wraps it.
        assert.equal(answer.results[name].blob.score, answer.results[name].bytes.score);
        // The browser's decoder and the engine's agree closely (same resize; JPEG decoders may differ slightly).
        assert.ok(Math.abs(answer.results[name].bitmap.score - answer.results[name].bytes.score) < 0.05, name);
        assert.equal(answer.results[name].canvas.score, answer.results[name].bitmap.score, name);
      }
      assert.deepEqual(got, want);
      t.diagnostic(`largest top-1 score difference, browser-decoded vs engine-decoded: ${maxDiff.toFixed(4)}`);
      assert.equal(answer.results.transferred.label, 'macaw');
      assert.equal(answer.badInput.code, 'E_IMAGE_DECODE');
      assert.equal(answer.badInput.isMnv2Error, true);
      assert.deepEqual(errors, []);
    } finally {
      await page.context().close();
    }
  });
}
