// Browsers and Web Workers: fetch for bytes, streaming wasm compilation, and DOM images
// drawn into a canvas to get their pixels.
import { loadWith, Mnv2Error, readResponse, relaxedSimdSupported, simdSupported } from './core.js';
// core.js's own imports, named here too: a page that imports this file unbundled (from a CDN,
// say) then fetches them together with core.js instead of after it, one round trip less
// before the first result (bundlers see the same graph either way).
import '../dist/mnv2-nosimd.mjs';
import '../dist/mnv2-simd.mjs';
import './classifier.js';
import './common.js';
import './segmentation.js';
import './tfjs.js';

export { Mnv2Error, relaxedSimdSupported, simdSupported };
export { maskToImageData } from './segmentation.js';

const has = (name) => typeof globalThis[name] !== 'undefined';
const workerBlobs = new Map();

// A successful response for one of the package's own files, or an E_FETCH error naming `what`.
async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Mnv2Error('E_FETCH', `could not download ${what} ${url}: ${e.message}`);
  }
  if (!response.ok) throw new Mnv2Error('E_FETCH', `could not download ${what} ${url}: HTTP ${response.status}`);
  return response;
}

// Pixel size of a DOM image source, or null if `x` is not one.
function sourceSize(x) {
  if (has('HTMLImageElement') && x instanceof HTMLImageElement) return [x.naturalWidth, x.naturalHeight];
  if (has('HTMLVideoElement') && x instanceof HTMLVideoElement) return [x.videoWidth, x.videoHeight];
  if (has('HTMLCanvasElement') && x instanceof HTMLCanvasElement) return [x.width, x.height];
  if (has('OffscreenCanvas') && x instanceof OffscreenCanvas) return [x.width, x.height];
  if (has('ImageBitmap') && x instanceof ImageBitmap) return [x.width, x.height];
  if (has('VideoFrame') && x instanceof VideoFrame) return [x.displayWidth, x.displayHeight];
  if (has('SVGImageElement') && x instanceof SVGImageElement) return [x.width.baseVal.value, x.height.baseVal.value];
  return null;
}

function makeCanvas(width, height) {
  if (has('OffscreenCanvas')) return new OffscreenCanvas(width, height);
  if (has('document')) return Object.assign(document.createElement('canvas'), { width, height });
  throw new Mnv2Error('E_UNSUPPORTED', 'this environment has neither OffscreenCanvas nor a document to draw images in; pass image bytes or { data, width, height } instead');
}

const platform = {
  async readBytes(url, onProgress) {
    let response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new Mnv2Error('E_FETCH', `could not download ${url}: ${e.message}`);
    }
    return readResponse(response, onProgress, String(url));
  },

  // A file next to `base`: where a model.json's weight shards are.
  resolve(base, path) {
    return new URL(path, new URL(base, globalThis.location?.href));
  },

  // The threads load() takes by default (before the limit of 4): the cores on a page's main
  // thread; one in a Web Worker, where the threaded module's own (nested) workers hung now and
  // then in Firefox ESR 153 (tests/browser/vite.test.js), so threads there must be asked for.
  defaultThreads: () => (typeof document === 'undefined' ? 1 : globalThis.navigator?.hardwareConcurrency || 1),
  // SharedArrayBuffer exists only on cross-origin isolated pages (COOP + COEP headers).
  threadsSupported: () => typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true,
  // The threaded module's worker script as a same-origin blob: URL, whatever its own URL is (a
  // bundler may have inlined it as a data: URL, whose workers have an opaque origin, or it may be
  // on a CDN); it imports the module's glue by its absolute URL. One per script URL.
  async workerScript(url) {
    if (!workerBlobs.has(url.href)) {
      const made = (async () => {
        const response = await fetchOk(url, 'the worker script');
        return URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
      })();
      workerBlobs.set(url.href, made);
      made.catch(() => workerBlobs.delete(url.href));
    }
    return workerBlobs.get(url.href);
  },

  async compileWasm(url) {
    const response = await fetchOk(url, 'the WebAssembly module');
    // Streaming compilation needs the application/wasm type; fall back for servers without it.
    if (WebAssembly.compileStreaming && response.headers.get('content-type')?.startsWith('application/wasm')) {
      return WebAssembly.compileStreaming(response);
    }
    return WebAssembly.compile(await response.arrayBuffer());
  },

  async domPixels(input) {
    if (has('ImageData') && input instanceof ImageData) {
      return { data: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength), width: input.width, height: input.height, channels: 4 };
    }
    if (has('HTMLImageElement') && input instanceof HTMLImageElement && !input.complete) {
      try {
        await input.decode();
      } catch {
        throw new Mnv2Error('E_IMAGE_DECODE', `the image ${input.src} could not be loaded or decoded`);
      }
    }
    const size = sourceSize(input);
    if (!size) return null;
    const [width, height] = size;
    if (!width || !height) {
      throw new Mnv2Error('E_INPUT_TYPE', `the ${input.constructor.name} has no pixels yet (${width}x${height}); wait until it has loaded`);
    }
    const ctx = makeCanvas(width, height).getContext('2d', { willReadFrequently: true });
    ctx.drawImage(input, 0, 0, width, height);
    const data = ctx.getImageData(0, 0, width, height).data;
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 };
  },
};

/** Loads a MobileNetV1 or MobileNetV2 model. See index.d.ts. */
export function load(options = {}) {
  return loadWith(platform, options);
}
