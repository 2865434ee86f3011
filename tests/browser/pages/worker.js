// A module worker that uses the package as an application's worker would (pages/kinds.js: the
// public browser entry point, no DOM). Message { kind, ...args } (kinds.js answer)
// -> { ok: true, inWorker, ...answer } or { ok: false, code, message }.
import { answer } from './kinds.js';

self.onmessage = async ({ data }) => {
  try {
    const result = await answer(data);
    postMessage({
      ok: true,
      inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope && typeof document === 'undefined',
      ...result,
    });
  } catch (e) {
    postMessage({ ok: false, code: e.code ?? e.name, message: e.message, stack: e.stack });
  }
};
