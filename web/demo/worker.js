// The demo's Web Worker: the package runs here so that the page stays responsive.
// Messages in:  { id, type: 'load', simd, model, labels } -> { id, ok, info }
//                 model: a URL, a .tflite's bytes (ArrayBuffer) or undefined (the bundled model);
//                 labels: a URL or undefined. The model before stays until the new one has loaded.
//               { id, type: 'classify', image, topk } -> { id, ok, top, ms }
//               { id, type: 'segment', image } -> { id, ok, result, ms }: model.segment()'s result
//                 (a segmentation model), its mask transferred, not copied.
//   image: encoded bytes (ArrayBuffer / Uint8Array), a Blob, an ImageBitmap, ImageData or OffscreenCanvas.
// Progress while the model downloads: { type: 'progress', loaded, total }.
// Failures: { id, ok: false, error: { code, message } }.
import { load } from '../browser.js';

let model = null;

async function handle(data) {
  if (data.type === 'load') {
    const next = await load({
      simd: data.simd ?? 'auto',
      model: data.model,
      labels: data.labels,
      onProgress: ({ loaded, total }) => postMessage({ type: 'progress', loaded, total }),
    });
    model?.dispose();
    model = next;
    return { info: model.info };
  }
  if (data.type === 'classify' || data.type === 'segment') {
    if (!model) throw Object.assign(new Error('the model is not loaded'), { code: 'E_NOT_LOADED' });
    try {
      const t0 = performance.now();
      if (data.type === 'segment') {
        const result = await model.segment(data.image);
        return { result, ms: performance.now() - t0 };
      }
      const top = await model.classify(data.image, { topk: data.topk ?? 5 });
      return { top, ms: performance.now() - t0 };
    } finally {
      data.image?.close?.(); // ImageBitmaps are transferred here: free them
    }
  }
  throw new Error(`unknown message type ${data.type}`);
}

self.onmessage = async ({ data }) => {
  try {
    const reply = await handle(data);
    const mask = reply.result?.mask;
    postMessage({ id: data.id, ok: true, ...reply }, mask ? [mask.buffer] : []);
  } catch (e) {
    postMessage({ id: data.id, ok: false, error: { code: typeof e?.code === 'string' ? e.code : e?.name ?? 'Error', message: e.message ?? String(e) } });
  }
};
