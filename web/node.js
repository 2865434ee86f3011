// Node.js: files by path (or file: URL), http(s) by fetch, wasm compiled from the file.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadWith, Mnv2Error, readResponse, relaxedSimdSupported, simdSupported } from './core.js';

export { Mnv2Error, relaxedSimdSupported, simdSupported };
export { maskToImageData } from './segmentation.js';

const isRemote = (s) => /^(https?|data|blob):/i.test(s);

async function readBytes(src, onProgress) {
  const href = src instanceof URL ? src.href : String(src);
  if (isRemote(href)) {
    let response;
    try {
      response = await fetch(href);
    } catch (e) {
      throw new Mnv2Error('E_FETCH', `could not download ${href}: ${e.message}`);
    }
    return readResponse(response, onProgress, href);
  }
  const path = href.startsWith('file:') ? fileURLToPath(href) : href;
  try {
    const bytes = await readFile(path);
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    throw new Mnv2Error('E_IO', `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

const platform = {
  readBytes,
  // A file next to `base` (a URL, or a file path): where a model.json's weight shards are.
  resolve(base, path) {
    const href = base instanceof URL ? base.href : String(base);
    return isRemote(href) || href.startsWith('file:') ? new URL(path, href) : join(dirname(href), path);
  },
  async compileWasm(url) {
    return WebAssembly.compile(await readBytes(url));
  },
  defaultThreads: () => availableParallelism(),
  threadsSupported: () => typeof SharedArrayBuffer === 'function',
  // The threaded module's workers are worker_threads, which take a file path.
  workerScript: async (url) => (url.protocol === 'file:' ? fileURLToPath(url) : url.href),
};

/** Loads a MobileNetV1 or MobileNetV2 model. See index.d.ts. */
export function load(options = {}) {
  return loadWith(platform, options);
}
