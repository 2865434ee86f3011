// The demo's Web Worker: the package runs here so that the page stays responsive.
// Messages in:  { id, type: 'load', simd, model, labels } -> { id, ok, info }
//                 model: a URL, a .tflite's bytes (ArrayBuffer) or undefined (the bundled model);
//                 labels: a URL or undefined. The model before stays until the new one has loaded.
//               { id, type: 'classify', image, topk } -> { id, ok, top, ms }
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
  if (data.type === 'classify') {
    if (!model) throw Object.assign(new Error('the model is not loaded'), { code: 'E_NOT_LOADED' });
    try {
      const t0 = performance.now();
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
    postMessage({ id: data.id, ok: true, ...(await handle(data)) });
  } catch (e) {
    postMessage({ id: data.id, ok: false, error: { code: typeof e?.code === 'string' ? e.code : e?.name ?? 'Error', message: e.message ?? String(e) } });
  }
};
