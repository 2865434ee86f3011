// A module worker that uses the package as an application's worker would (pages/kinds.js: the
// public browser entry point, no DOM). Message { kind: 'run' | 'degraded' | 'features', ...args }
// -> { ok: true, inWorker, ...answer } or { ok: false, code, message }.
import { degraded, features, run, teach } from './kinds.js';

self.onmessage = async ({ data }) => {
  try {
    const answer = data.kind === 'degraded' ? await degraded(data) : data.kind === 'teach' ? await teach(data) : data.kind === 'features' ? { features: features() } : await run(data);
    postMessage({
      ok: true,
      inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope && typeof document === 'undefined',
      ...answer,
    });
  } catch (e) {
    postMessage({ ok: false, code: e.code ?? e.name, message: e.message, stack: e.stack });
  }
};
