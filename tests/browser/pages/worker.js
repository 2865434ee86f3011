// A module worker that uses the package as an application's worker would: the public browser
// entry point, no DOM. Message { names, simd } -> { ok, info, results: { name: { bytes, blob,
// bitmap, canvas, transferred } } }, each the top-1 ({ index, label, score }) of that input kind.
import { load, Mnv2Error } from '../../../web/browser.js';

const models = new Map();

async function model(simd) {
  if (!models.has(simd)) models.set(simd, await load({ simd }));
  return models.get(simd);
}

const top1 = async (m, input) => (await m.classify(input, { topk: 1 }))[0];

self.onmessage = async ({ data }) => {
  try {
    const m = await model(data.simd ?? 'auto');
    const results = {};
    for (const name of data.names ?? []) {
      const blob = await (await fetch(`/samples/${name}`)).blob();
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      results[name] = {
        bytes: await top1(m, bytes), // encoded bytes: decoded by the engine
        blob: await top1(m, blob),
        bitmap: await top1(m, bitmap), // pixels decoded by the browser
        canvas: await top1(m, canvas),
      };
      bitmap.close();
    }
    if (data.bitmap) results.transferred = await top1(m, data.bitmap); // an ImageBitmap made by the page
    let badInput = null;
    try {
      await m.classify(new Uint8Array([1, 2, 3, 4]));
    } catch (e) {
      badInput = { code: e.code, message: e.message, isMnv2Error: e instanceof Mnv2Error };
    }
    postMessage({
      ok: true,
      info: m.info,
      results,
      badInput,
      inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope && typeof document === 'undefined',
    });
  } catch (e) {
    postMessage({ ok: false, code: e.code, message: e.message });
  }
};
