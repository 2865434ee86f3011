// The page of tests/browser/inputs.test.js: window.mnv2test runs pages/kinds.js on this page
// (with the DOM input kinds: <img>, <canvas>) or in a module worker (pages/worker.js).
import { answer as answerOf } from './kinds.js';

async function page(message) {
  try {
    const answer = await answerOf(message);
    return { ok: true, inWorker: false, ...answer };
  } catch (e) {
    return { ok: false, code: e.code ?? e.name, message: e.message, stack: e.stack };
  }
}

/** Starts pages/worker.js as a module worker, sends it `message` (and an ImageBitmap of `bitmapOf`). */
async function worker({ bitmapOf, ...message }) {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const answer = new Promise((resolve) => {
    w.onmessage = ({ data }) => resolve(data);
    w.onerror = (e) => resolve({ ok: false, code: 'E_WORKER', message: `the worker failed: ${e.message}` });
  });
  const transfer = [];
  if (bitmapOf) {
    const img = new Image();
    img.src = `/samples/${bitmapOf}`;
    await img.decode();
    message.bitmap = await createImageBitmap(img);
    transfer.push(message.bitmap);
  }
  w.postMessage(message, transfer);
  try {
    return await answer;
  } finally {
    w.terminate();
  }
}

window.mnv2test = { page, worker };
document.documentElement.dataset.ready = 'true';
