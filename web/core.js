// The JS API, independent of where it runs. browser.js and node.js supply the
// platform: how to read bytes, how to compile wasm, how to turn DOM images into pixels.
// All model and image work happens in the WebAssembly module (src/api/c_api.h).
import createNosimdModule from '../dist/mnv2-nosimd.mjs';
import createSimdModule from '../dist/mnv2-simd.mjs';
import { fetchShards, inMemoryModel, isInMemoryModel, isTflite, looksLikeJson } from './tfjs.js';

import { Classifier } from './classifier.js';
import { describe, Mnv2Error, moduleError, nextTask, withBytes } from './common.js';

export { Mnv2Error };

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): validates only where
// WebAssembly SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

// (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd)): validates
// only where WebAssembly's relaxed SIMD is supported.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...[0, 1, 2].flatMap(() => [253, 12, ...new Array(16).fill(0)]), 253, 133, 2, 11,
]);

function validates(bytes) {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether this JavaScript engine runs WebAssembly SIMD. */
export function simdSupported() {
  return validates(SIMD_PROBE);
}

/** Whether this JavaScript engine runs WebAssembly's relaxed SIMD (the mnv2-relaxed build). */
export function relaxedSimdSupported() {
  return validates(RELAXED_PROBE);
}

// The Emscripten glue of both single-threaded variants is imported statically (a few KB each; the
// .wasm files are fetched only when used): a dynamic import() of a module bundlers can see would
// make them split the code, which Vite cannot do for a Web Worker in its default (iife) format.
// The threaded variant's glue (with its pthread worker script beside it) is imported at run
// time from its URL instead, hidden from bundlers, which copy it as a file (`new URL`): its
// workers import it again by that URL, so it must stay a file of its own.
const VARIANTS = {
  simd: {
    file: 'mnv2-simd.wasm',
    url: () => new URL('../dist/mnv2-simd.wasm', import.meta.url),
    factory: createSimdModule,
  },
  nosimd: {
    file: 'mnv2-nosimd.wasm',
    url: () => new URL('../dist/mnv2-nosimd.wasm', import.meta.url),
    factory: createNosimdModule,
  },
  'simd-mt': {
    file: 'mnv2-simd-mt.wasm',
    url: () => new URL('../dist/mnv2-simd-mt.wasm', import.meta.url),
    glueFile: 'mnv2-simd-mt.mjs',
    glue: () => new URL('../dist/mnv2-simd-mt.mjs', import.meta.url),
    workerFile: 'mnv2-simd-mt.worker.js',
    worker: () => new URL('../dist/mnv2-simd-mt.worker.js', import.meta.url),
  },
  // The relaxed SIMD builds (src/kernels/relaxed.h): their glue is imported by URL too, so that
  // pages on engines without relaxed SIMD download none of it.
  relaxed: {
    file: 'mnv2-relaxed.wasm',
    url: () => new URL('../dist/mnv2-relaxed.wasm', import.meta.url),
    glueFile: 'mnv2-relaxed.mjs',
    glue: () => new URL('../dist/mnv2-relaxed.mjs', import.meta.url),
  },
  'relaxed-mt': {
    file: 'mnv2-relaxed-mt.wasm',
    url: () => new URL('../dist/mnv2-relaxed-mt.wasm', import.meta.url),
    glueFile: 'mnv2-relaxed-mt.mjs',
    glue: () => new URL('../dist/mnv2-relaxed-mt.mjs', import.meta.url),
    workerFile: 'mnv2-relaxed-mt.worker.js',
    worker: () => new URL('../dist/mnv2-relaxed-mt.worker.js', import.meta.url),
  },
};

// The learner module (src/api/learner_api.h) of each build, loaded the first time a classifier
// needs it. Its glue is imported by URL, as the threaded one is: pages that never create a
// classifier download none of it, and bundlers copy the files.
const LEARNER_VARIANTS = {
  simd: {
    file: 'mnv2-learner-simd.wasm',
    url: () => new URL('../dist/mnv2-learner-simd.wasm', import.meta.url),
    glueFile: 'mnv2-learner-simd.mjs',
    glue: () => new URL('../dist/mnv2-learner-simd.mjs', import.meta.url),
  },
  nosimd: {
    file: 'mnv2-learner-nosimd.wasm',
    url: () => new URL('../dist/mnv2-learner-nosimd.wasm', import.meta.url),
    glueFile: 'mnv2-learner-nosimd.mjs',
    glue: () => new URL('../dist/mnv2-learner-nosimd.mjs', import.meta.url),
  },
};

// A fresh instance of the learner module of the build a model runs on ('nosimd' or a SIMD one).
async function instantiateLearner(platform, variant, wasmPath) {
  const v = LEARNER_VARIANTS[variant === 'nosimd' ? 'nosimd' : 'simd'];
  const [wasmModule, factory] = await Promise.all([
    compileOnce(platform, distUrl(v.file, v.url, wasmPath)), importedFactory(distUrl(v.glueFile, v.glue, wasmPath)),
  ]);
  return factory(wasmOptions(wasmModule));
}

/** The most threads load({ threads }) takes (the engine's limit). */
export const MAX_THREADS = 8;

export const DEFAULT_MODEL_URL = () => new URL('../models/mobilenet_v2_1.0_224_quant.tflite', import.meta.url);
export const DEFAULT_LABELS_URL = () => new URL('../models/imagenet_labels.txt', import.meta.url);

// Compiled once per wasm file and location; every model gets its own instance (and memory).
const compiled = new Map();

function compileOnce(platform, url) {
  if (!compiled.has(url.href)) {
    const promise = platform.compileWasm(url);
    compiled.set(url.href, promise);
    promise.catch(() => compiled.delete(url.href));
  }
  return compiled.get(url.href);
}

// A file of the package: next to the module by default, in `wasmPath` if given.
function distUrl(file, defaultUrl, wasmPath) {
  if (!wasmPath) return defaultUrl();
  const base = String(wasmPath).endsWith('/') ? String(wasmPath) : `${wasmPath}/`;
  return new URL(file, new URL(base, globalThis.location?.href ?? import.meta.url));
}

function wasmUrl(variant, wasmPath) {
  return distUrl(VARIANTS[variant].file, VARIANTS[variant].url, wasmPath);
}

// The factory of a glue imported from its URL (the threaded module's, the learner's; see VARIANTS).
async function importedFactory(glueUrl) {
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ glueUrl.href)).default;
  } catch (e) {
    throw new Mnv2Error('E_FETCH', `could not load the module ${glueUrl}: ${e.message}`);
  }
}

// A module instance of `variant`; the threaded one starts threads - 1 workers with it, which
// load in the background: the model runs on one thread until they have (see Model).
async function instantiate(platform, variant, wasmPath, threads = 1) {
  const compiling = compileOnce(platform, wasmUrl(variant, wasmPath));
  const v = VARIANTS[variant];
  if (!v.glue) return v.factory(wasmOptions(await compiling));
  const glue = distUrl(v.glueFile, v.glue, wasmPath);
  if (!v.worker) {
    const [wasmModule, factory] = await Promise.all([compiling, importedFactory(glue)]);
    return factory(wasmOptions(wasmModule));
  }
  const worker = distUrl(v.workerFile, v.worker, wasmPath);
  // The glue and the worker script come while the wasm compiles.
  const [wasmModule, factory, workerScript] = await Promise.all([
    compiling, importedFactory(glue), platform.workerScript(worker),
  ]);
  const module = await factory({
    ...wasmOptions(wasmModule),
    mnv2Workers: threads - 1,  // wasm/module.cmake: PTHREAD_POOL_SIZE
    mainScriptUrlOrBlob: glue.href,  // what the workers import
    locateFile: (path) => (path.endsWith('.worker.js') ? workerScript : path),
  });
  module._mnv2_set_threads(threads);
  // Under Node, a model left undisposed must not keep the process alive through its workers.
  for (const w of module.PThread?.unusedWorkers ?? []) w.unref?.();
  return module;
}

// The factory's options: the module instantiated from the compiled wasm.
function wasmOptions(wasmModule) {
  return {
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(wasmModule, imports).then((instance) => receive(instance, wasmModule));
      return {};
    },
  };
}

// Stops a threaded module's workers (a module is dropped whole: disposed or replaced).
function release(module) {
  try {
    module?.PThread?.terminateAllThreads();
  } catch {
    // Workers of a module that trapped may be gone already.
  }
}

// load({ simd }): the build. 'auto': relaxed SIMD where the engine validates it, else SIMD where
// it has SIMD, else the build without; true: SIMD (never relaxed); 'relaxed': relaxed or an error.
// The relaxed build reads .tflite files only (wasm/module.cmake): a TF.js model (`tfjs`: known,
// or guessed from the arguments) runs in float32, whose kernels are the SIMD build's, and loads
// that build instead ('auto'), or is refused ('relaxed').
function chooseBuild(simd, tfjs) {
  const hasSimd = simdSupported();
  if (simd === 'relaxed' && !relaxedSimdSupported()) {
    throw new Mnv2Error('E_UNSUPPORTED', "this JavaScript engine does not support WebAssembly's relaxed SIMD; use simd: 'auto' or true");
  }
  if (simd === 'relaxed' && tfjs) {
    throw new Mnv2Error('E_UNSUPPORTED_MODEL', "simd: 'relaxed' runs .tflite models; TF.js models run in float32 on the SIMD build (the same float kernels): use simd: 'auto' or true");
  }
  if (simd === true && !hasSimd) {
    throw new Mnv2Error('E_UNSUPPORTED', 'this JavaScript engine does not support WebAssembly SIMD; use simd: false');
  }
  if (simd === false || !hasSimd) return 'nosimd';
  return simd === 'relaxed' || (simd === 'auto' && relaxedSimdSupported() && !tfjs) ? 'relaxed' : 'simd';
}

// Whether load({ model }) names a TF.js model before its bytes are read: { modelJson, weights },
// or a URL or path ending in .json. (Any other file is read before the build is known to fit.)
function namesTfjs(model) {
  if (isInMemoryModel(model)) return true;
  if (typeof model !== 'string' && !(model instanceof URL)) return false;
  return /\.json$/i.test(String(model).replace(/[?#].*$/, ''));
}

// load({ threads }): how many threads and which variant. Threads need the threaded SIMD build,
// SharedArrayBuffer and, in browsers, a cross-origin isolated page; without them: one thread.
function chooseThreads(platform, threads, variant) {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) {
    throw new Mnv2Error('E_INPUT_TYPE', `threads must be an integer from 1 to ${MAX_THREADS}, not ${JSON.stringify(threads)}`);
  }
  const wanted = threads ?? Math.min(4, platform.defaultThreads());
  if (wanted > 1 && variant !== 'nosimd' && platform.threadsSupported()) return { variant: `${variant}-mt`, threads: wanted };
  return { variant, threads: 1 };
}

function isBytes(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x);
}

function toUint8(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

// Model bytes from whatever `load({ model })` was given.
async function modelBytes(platform, model, onProgress) {
  if (model === undefined || model === null) return platform.readBytes(DEFAULT_MODEL_URL(), onProgress);
  if (isBytes(model)) return toUint8(model);
  if (typeof Blob !== 'undefined' && model instanceof Blob) return new Uint8Array(await model.arrayBuffer());
  if (typeof model === 'string' || model instanceof URL) return platform.readBytes(model, onProgress);
  throw new Mnv2Error('E_INPUT_TYPE', `load({ model }) takes a URL, a file path, the bytes of a .tflite file or { modelJson, weights }, not ${describe(model)}`);
}

// { bytes, weights }: a .tflite file (weights null), or a TF.js model.json and its weight shards.
async function modelFiles(platform, model, onProgress) {
  if (isInMemoryModel(model)) return inMemoryModel(model);
  const bytes = await modelBytes(platform, model, onProgress);
  if (isTflite(bytes) || !looksLikeJson(bytes)) return { bytes, weights: null };
  if (typeof model !== 'string' && !(model instanceof URL)) {
    throw new Mnv2Error('E_INPUT_TYPE', 'these bytes are a TF.js model.json, whose weight files cannot be found from it: pass its URL or path, or { modelJson, weights }');
  }
  return { bytes, weights: await fetchShards(platform, model, bytes, onProgress) };
}

// `load({ inputRange })`: [min, max] or undefined (the engine's default for the model).
function checkInputRange(range) {
  if (range === undefined) return;
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1])) {
    throw new Mnv2Error('E_INPUT_TYPE', `inputRange must be [min, max] with min < max, such as [0, 1], not ${JSON.stringify(range)}`);
  }
}

// Label text from a URL/path, string[] or the text itself (a string with a line break).
async function labelText(platform, labels, usingDefaultModel) {
  if (labels === undefined || labels === null) {
    return usingDefaultModel ? new TextDecoder().decode(await platform.readBytes(DEFAULT_LABELS_URL())) : null;
  }
  if (Array.isArray(labels)) return labels.map(String).join('\n');
  if (labels instanceof URL) return new TextDecoder().decode(await platform.readBytes(labels));
  if (typeof labels === 'string') {
    return /[\r\n]/.test(labels) ? labels : new TextDecoder().decode(await platform.readBytes(labels));
  }
  throw new Mnv2Error('E_INPUT_TYPE', `load({ labels }) takes a URL, a file path, string[] or label text, not ${describe(labels)}`);
}

/**
 * Loads a model. See index.d.ts for the options.
 * @param {object} options
 * @param {object} platform supplied by browser.js / node.js
 */
export async function loadWith(platform, options = {}) {
  const { model, labels, simd = 'auto', onProgress, wasmPath, limits = {}, inputRange, precision, threads } = options;
  if (simd !== 'auto' && simd !== true && simd !== false && simd !== 'relaxed') {
    throw new Mnv2Error('E_INPUT_TYPE', `simd must be 'auto', 'relaxed', true or false, not ${JSON.stringify(simd)}`);
  }
  if (precision !== undefined && !(precision in PRECISIONS)) {
    throw new Mnv2Error('E_INPUT_TYPE', `precision must be 'int8' or 'fp32', not ${JSON.stringify(precision)}`);
  }
  checkLimits(limits);
  checkInputRange(inputRange);
  let { variant, threads: count } = chooseThreads(platform, threads, chooseBuild(simd, namesTfjs(model)));
  const settled = await Promise.allSettled([
    instantiate(platform, variant, wasmPath, count),
    modelFiles(platform, model, onProgress),
    labelText(platform, labels, model === undefined || model === null),
  ]);
  let module = settled[0].value;
  try {
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [, { value: { bytes, weights } }, { value: text }] = settled;
    if (inputRange && !weights) {
      throw new Mnv2Error('E_INPUT_TYPE', 'inputRange applies to TF.js models; a .tflite model states how its input is scaled');
    }
    if (precision === 'int8' && weights) {
      throw new Mnv2Error('E_UNSUPPORTED_MODEL', "precision 'int8' needs a quantized .tflite model; TF.js models run in float32");
    }
    if (weights && variant.startsWith('relaxed')) {
      // A TF.js model the arguments did not name as one: the SIMD build instead.
      const chosen = chooseThreads(platform, threads, chooseBuild(simd, true));
      release(module);
      module = null;
      module = await instantiate(platform, chosen.variant, wasmPath, chosen.threads);
      ({ variant, threads: count } = chosen);
    }
    const effective = effectiveLimits(module, limits);
    const size = bytes.length + (weights?.length ?? 0);
    if (size > effective.maxModelBytes) {
      throw new Mnv2Error('E_MODEL_TOO_LARGE', `the model ${weights ? 'files are' : 'file is'} ${size} bytes; the limit (limits.maxModelBytes) is ${effective.maxModelBytes}`);
    }
    // A copy: the model is loaded again from it if the module ever has to be replaced.
    const source = {
      bytes: bytes.slice(), weights: weights?.slice() ?? null, inputRange: inputRange ?? [0, 0], labels: text, limits: effective,
      precision: PRECISIONS[precision ?? 'auto'],
    };
    return new Model(module, source, variant, count, () => instantiate(platform, variant, wasmPath, count), platform,
      () => instantiateLearner(platform, variant, wasmPath));
  } catch (e) {
    release(module);  // a failed load leaves no workers behind
    throw e;
  }
}

// The C API's precisions (src/api/c_api.h: MNV2_PRECISION_*); 'auto' is int8 for quantized models.
const PRECISIONS = { auto: 0, fp32: 1, int8: 2 };

// The C API's limit numbers (src/api/c_api.h: MNV2_LIMIT_*).
const LIMITS = { maxModelBytes: 0, maxMemoryBytes: 1, maxImageBytes: 2, maxImagePixels: 3 };
const IMAGE_SIDE = 4;

function checkLimits(limits) {
  if (typeof limits !== 'object' || limits === null) {
    throw new Mnv2Error('E_INPUT_TYPE', `limits must be an object such as { maxImagePixels: 4e6 }, not ${describe(limits)}`);
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!(name in LIMITS)) {
      throw new Mnv2Error('E_INPUT_TYPE', `unknown limit '${name}' (known: ${Object.keys(LIMITS).join(', ')})`);
    }
    if (value !== undefined && !(typeof value === 'number' && value > 0 && !Number.isNaN(value))) {
      throw new Mnv2Error('E_INPUT_TYPE', `limits.${name} must be a positive number, not ${JSON.stringify(value)}`);
    }
  }
}

// Every limit as a number: the caller's, or the engine's default.
function effectiveLimits(module, limits) {
  const out = {};
  for (const [name, which] of Object.entries(LIMITS)) out[name] = limits[name] ?? module._mnv2_limit(0, which);
  return Object.freeze(out);
}

// A failure inside the module: an uncaught C++ exception (Emscripten throws its pointer, a
// number; the engine throws only std::bad_alloc), an abort (an allocation failing without a
// null return) or a trap (a bug). Its memory is then in an unknown state: the model reloads.
function trapError(error) {
  const oom = typeof error === 'number' || /^Aborted|OOM|out of memory/i.test(String(error?.message));
  const what = typeof error === 'number' ? 'an allocation failed' : String(error?.message ?? error);
  return new Mnv2Error(oom ? 'E_OUT_OF_MEMORY' : 'E_INTERNAL',
    `the WebAssembly module ${oom ? 'ran out of memory' : 'failed'} (${what}); the model was reloaded and can be used again`);
}

class Model {
  #m;
  #handle = 0;
  #queue = Promise.resolve();
  #source;
  #reinstantiate;
  #platform;
  #disposed = false;
  #broken = null;  // the error of a failed reload: the model cannot run any more
  #lastThreads = 1;
  #threadsAsked;
  #classifiers = new Set();
  #instantiateLearner;
  #learner = null;  // a promise of the learner module its classifiers share, made when first needed
  #labelNames = null;  // #labels()

  constructor(module, source, variant, threads, reinstantiate, platform, instantiateLearner) {
    this.#platform = platform;
    this.#instantiateLearner = instantiateLearner;
    this.#threadsAsked = threads;
    this.#source = source;
    this.#reinstantiate = reinstantiate;
    this.#attach(module);
    const m = module;
    const h = this.#handle;
    const model = this;
    this.info = Object.freeze({
      simd: variant !== 'nosimd',
      target: m.UTF8ToString(m._mnv2_simd_target()),
      relaxedDot: m.UTF8ToString(m._mnv2_relaxed_dot()),
      // Read when asked: a threaded model starts on one thread, and each other thread joins
      // once its worker has loaded the module (src/engine/workers.h).
      get threads() {
        return model.#threads();
      },
      inputSize: Object.freeze({ width: m._mnv2_input_width(h), height: m._mnv2_input_height(h) }),
      numClasses: m._mnv2_num_classes(h),
      featureSize: m._mnv2_feature_size(h),
      alpha: Math.round(m._mnv2_alpha(h) * 1000) / 1000,
      quantized: m._mnv2_quantized(h) === 1,
      weightType: m.UTF8ToString(m._mnv2_weight_type(h)),
      precision: m.UTF8ToString(m._mnv2_precision(h)),
      multiplyAdds: m._mnv2_multiply_adds(h),
      parameters: m._mnv2_parameters(h),
      family: m.UTF8ToString(m._mnv2_family(h)),
      task: m._mnv2_task(h) === 1 ? 'segmentation' : 'classification',
      // Given to load(), or in the file's metadata (a .tflite written by Classifier.exportTflite).
      labels: m._mnv2_num_labels(h) > 0,
      limits: source.limits,
    });
  }

  // Loads the model (and labels) into `module`, with the limits; throws what the C API reports.
  // The model's class names (read from the module once per load).
  #labels() {
    if (!this.#labelNames) {
      const m = this.#m;
      this.#labelNames = Array.from({ length: m._mnv2_num_labels(this.#handle) },
        (_, i) => m.UTF8ToString(m._mnv2_label(this.#handle, i)));
    }
    return this.#labelNames;
  }

  #attach(module) {
    const { bytes, weights, inputRange, labels, limits, precision } = this.#source;
    this.#m = module;
    const m = module;
    this.#withBytes(bytes, (ptr, size) => {
      this.#handle = weights
        ? this.#withBytes(weights, (wptr, wsize) => m._mnv2_load_tfjs(ptr, size, wptr, wsize, inputRange[0], inputRange[1],
          limits.maxModelBytes, limits.maxMemoryBytes))
        : m._mnv2_load_with(ptr, size, precision, limits.maxModelBytes, limits.maxMemoryBytes);
    });
    if (!this.#handle) throw this.#lastError();
    m._mnv2_set_image_limits(this.#handle, limits.maxImageBytes, limits.maxImagePixels);
    if (labels !== null) {
      const encoded = new TextEncoder().encode(labels);
      const rc = this.#withBytes(encoded, (ptr, size) => m._mnv2_set_labels(this.#handle, ptr, size));
      if (rc !== 0) {
        const error = this.#lastError();
        this.#detach();
        throw error;
      }
    }
  }

  // The threads the next call runs on (the last count, once the model is gone).
  #threads() {
    if (this.#m && this.#handle) this.#lastThreads = this.#m._mnv2_threads(this.#handle);
    return this.#lastThreads;
  }

  #detach() {
    try {
      this.#threads();
      if (this.#handle) this.#m._mnv2_free(this.#handle);
    } catch {
      // A module that trapped may fail here too; it is dropped whole anyway.
    }
    release(this.#m);
    this.#handle = 0;
    this.#m = null;
  }

  // After a failed call: a trap, or a failure that grew the WebAssembly memory (which never
  // shrinks), gets a fresh module with the model loaded again. Returns the error to report.
  async #recover(error, memoryBefore) {
    const trapped = !(error instanceof Mnv2Error);
    const grown = this.#m !== null && this.#m.HEAPU8.buffer.byteLength > memoryBefore;
    if (!trapped && !grown) return error;
    this.#detach();
    let module = null;
    try {
      module = await this.#reinstantiate();
      if (this.#disposed) {
        release(module);
      } else {
        this.#attach(module);
      }
    } catch (e) {
      release(module);
      this.#m = null;
      this.#broken = e;
    }
    return trapped ? trapError(error) : error;
  }

  /**
   * The module's memory: its size (it grows, never shrinks) and what malloc has handed out; the
   * activations and scratch of the engine's plan (blocks run band by band, per thread), and what
   * running the model layer by layer, each tensor whole, would take.
   */
  memoryUsage() {
    if (!this.#m) return { wasmMemory: 0, allocated: 0, activationBytes: 0, layerByLayerBytes: 0 };
    const m = this.#m;
    return {
      wasmMemory: m.HEAPU8.buffer.byteLength, allocated: m._mnv2_heap_bytes() >>> 0,
      activationBytes: m._mnv2_activation_bytes(this.#handle), layerByLayerBytes: m._mnv2_layer_by_layer_bytes(this.#handle),
    };
  }

  /** Top classes of `input`, best first: [{ index, label, score }]. */
  classify(input, options = {}) {
    return this.#enqueue(async () => {
      const topk = options.topk ?? 5;
      if (!Number.isInteger(topk) || topk < 1) throw new Mnv2Error('E_INPUT_TYPE', `topk must be a positive integer, not ${topk}`);
      const m = this.#run(await this.#toInput(input), options);
      const k = Math.min(topk, this.info.numClasses);
      const indices = m._malloc(4 * k);
      if (!indices) throw new Mnv2Error('E_OUT_OF_MEMORY', 'out of WebAssembly memory');
      try {
        const n = m._mnv2_top_k(this.#handle, k, indices);
        const scores = m._mnv2_scores(this.#handle) >> 2;
        const result = [];
        for (let i = 0; i < n; i++) {
          const index = m.HEAP32[(indices >> 2) + i];
          const label = m.UTF8ToString(m._mnv2_label(this.#handle, index));
          result.push({ index, label: label || null, score: m.HEAPF32[scores + index] });
        }
        return result;
      } finally {
        m._free(indices);
      }
    });
  }

  /**
   * The class of every pixel of `input` (a segmentation model: info.task 'segmentation'):
   * { width, height, mask, labels, classes: [{ index, label, pixels, share, color }] } at the
   * image's own size, the classes present by pixel count. options.overlay (an opacity 0..1) adds
   * `overlay`: the image's RGB pixels with those classes blended in their colors.
   */
  segment(input, options = {}) {
    return this.#enqueue(async () => {
      const overlay = options.overlay ?? -1;
      if (typeof overlay !== 'number' || !(overlay <= 1)) {
        throw new Mnv2Error('E_INPUT_TYPE', `overlay must be an opacity from 0 to 1, not ${overlay}`);
      }
      const m = this.#run(await this.#toInput(input), options, overlay);
      const width = m._mnv2_mask_width(this.#handle), height = m._mnv2_mask_height(this.#handle);
      const at = m._mnv2_mask(this.#handle);
      const mask = m.HEAPU8.slice(at, at + width * height);
      const counts = new Float64Array(256);
      for (let i = 0; i < mask.length; i++) counts[mask[i]]++;
      const labels = this.#labels();
      const classes = [];
      for (let index = 0; index < 256; index++) {
        if (!counts[index]) continue;
        const c = m._mnv2_class_color(index);
        classes.push({ index, label: labels[index] ?? null, pixels: counts[index], share: counts[index] / mask.length,
          color: [c >> 16 & 255, c >> 8 & 255, c & 255] });
      }
      classes.sort((a, b) => b.pixels - a.pixels || a.index - b.index);
      const result = { width, height, mask, labels: labels.length ? [...labels] : null, classes };
      if (overlay >= 0) {
        const o = m._mnv2_overlay(this.#handle);
        result.overlay = m.HEAPU8.slice(o, o + width * height * 3);
      }
      return result;
    });
  }

  /** The pooled features before the classifier (featureSize floats). */
  embed(input, options = {}) {
    return this.#enqueue(async () => {
      const m = this.#run(await this.#toInput(input), options);
      const start = m._mnv2_features(this.#handle) >> 2;
      return m.HEAPF32.slice(start, start + this.info.featureSize);
    });
  }

  /** All class scores (probabilities for models that end in softmax). */
  scores(input, options = {}) {
    return this.#enqueue(async () => {
      const m = this.#run(await this.#toInput(input), options);
      const start = m._mnv2_scores(this.#handle) >> 2;
      return m.HEAPF32.slice(start, start + this.info.numClasses);
    });
  }

  /** A learner of new classes on this model's embeddings (web/classifier.js, index.d.ts). */
  createClassifier() {
    if (this.#disposed) throw new Mnv2Error('E_DISPOSED', 'this model was disposed');
    if (this.info.task !== 'classification') {
      throw new Mnv2Error('E_WRONG_TASK', 'this model segments images (info.task \'segmentation\'): it has no embeddings to learn classes from');
    }
    const classifier = new Classifier({
      featureSize: this.info.featureSize,
      // fn(embed) in this model's queue; embed(input, options) runs the model and resolves to
      // a copy of its features.
      enqueue: (fn) => this.#enqueue(() => fn(async (input, options = {}) => {
        const src = await this.#toInput(input);
        const m = this.#run(src, options);
        const start = m._mnv2_features(this.#handle) >> 2;
        return m.HEAPF32.slice(start, start + this.info.featureSize);
      })),
      // The learner module the model's classifiers share; a new one after `broken`.
      learner: () => {
        if (!this.#learner) {
          this.#learner = this.#instantiateLearner();
          this.#learner.catch(() => { this.#learner = null; });
        }
        return this.#learner;
      },
      broken: (module) => {
        this.#learner?.then((m) => { if (m === module) this.#learner = null; }, () => {});
      },
      source: () => this.#source,
      forget: (c) => this.#classifiers.delete(c),
    });
    this.#classifiers.add(classifier);
    return classifier;
  }

  /** Frees the model and its WebAssembly memory, and its classifiers; later calls reject with E_DISPOSED. */
  dispose() {
    this.#disposed = true;
    for (const c of [...this.#classifiers]) c.dispose();
    this.#learner = null;
    if (this.#m) this.#detach();
  }

  get disposed() {
    return this.#disposed;
  }

  // Calls run one after another, in the order they were made.
  #enqueue(task) {
    const result = this.#queue.then(async () => {
      if (this.#disposed) throw new Mnv2Error('E_DISPOSED', 'this model was disposed');
      if (this.#broken) {
        throw new Mnv2Error('E_INTERNAL', `this model could not be reloaded after an earlier failure: ${this.#broken.message}`);
      }
      // A threaded model's threads start when the event loop hands their workers' messages to
      // the module: until they all have, every call first lets it (they then join at once).
      if (this.#threads() < this.#threadsAsked) await nextTask();
      if (this.#disposed) throw new Mnv2Error('E_DISPOSED', 'this model was disposed');
      const memoryBefore = this.#m.HEAPU8.buffer.byteLength;
      try {
        return await task();
      } catch (error) {
        throw await this.#recover(error, memoryBefore);
      }
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  // Runs the model on a prepared input and returns the module: classifies it, or with `overlay`
  // (the overlay's opacity, < 0 for none) segments it. Synchronous, so the caller reads the results
  // before dispose() can run. The model may have been disposed while the input was prepared.
  #run(src, options, overlay) {
    const fit = options.crop ? 1 : 0;
    if (this.#disposed) throw new Mnv2Error('E_DISPOSED', 'this model was disposed');
    this.#checkSize(src);
    const m = this.#m;
    const segment = overlay !== undefined;
    const rc = src.pixels
      ? this.#withBytes(src.data, (ptr) => segment
        ? m._mnv2_segment_pixels(this.#handle, ptr, src.width, src.height, src.channels, src.width * src.channels, fit, overlay)
        : m._mnv2_classify_pixels(this.#handle, ptr, src.width, src.height, src.channels, src.width * src.channels, fit))
      : this.#withBytes(src.data, (ptr, size) => segment
        ? m._mnv2_segment_encoded(this.#handle, ptr, size, fit, overlay)
        : m._mnv2_classify_encoded(this.#handle, ptr, size, fit));
    if (rc !== 0) throw this.#lastError();
    return m;
  }

  // The limits, checked before the input is copied into the module's memory.
  #checkSize(src) {
    const { maxImageBytes, maxImagePixels } = this.info.limits;
    if (!src.pixels) {
      if (src.data.length > maxImageBytes) {
        throw new Mnv2Error('E_IMAGE_TOO_LARGE', `the image file is ${src.data.length} bytes; the limit (limits.maxImageBytes) is ${maxImageBytes}`);
      }
      return;
    }
    const maxSide = this.#m._mnv2_limit(0, IMAGE_SIDE);
    if (src.width * src.height > maxImagePixels || Math.max(src.width, src.height) > maxSide) {
      throw new Mnv2Error('E_IMAGE_TOO_LARGE', `the image is ${src.width}x${src.height} pixels; the limits are ${maxImagePixels} pixels (limits.maxImagePixels) and ${maxSide} on a side`);
    }
  }

  async #toInput(input) {
    if (input === undefined || input === null) {
      throw new Mnv2Error('E_INPUT_TYPE', `no image given (${input})`);
    }
    if (isBytes(input)) return { data: toUint8(input) };
    if (typeof Blob !== 'undefined' && input instanceof Blob) return { data: new Uint8Array(await input.arrayBuffer()) };
    if (typeof input === 'string' || input instanceof URL) return { data: await this.#platform.readBytes(input) };
    const fromDom = await this.#platform.domPixels?.(input);
    if (fromDom) return { pixels: true, ...fromDom };
    if (typeof input === 'object' && 'data' in input && 'width' in input && 'height' in input) {
      const { data, width, height } = input;
      if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
        throw new Mnv2Error('E_INPUT_TYPE', `raw pixels must be a Uint8Array or Uint8ClampedArray, not ${describe(data)}`);
      }
      if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
        throw new Mnv2Error('E_INPUT_TYPE', `raw pixels need a positive integer width and height, not ${width}x${height}`);
      }
      const channels = data.length / (width * height);
      if (channels !== 3 && channels !== 4) {
        throw new Mnv2Error('E_INPUT_TYPE',
          `raw pixels of ${width}x${height} must hold ${width * height * 3} (RGB) or ${width * height * 4} (RGBA) bytes, not ${data.length}`);
      }
      return { pixels: true, data: toUint8(data), width, height, channels };
    }
    throw new Mnv2Error('E_INPUT_TYPE', `cannot read an image from ${describe(input)}: pass image bytes, a Blob, { data, width, height } pixels` +
      (this.#platform.domPixels ? ', or an image, canvas, ImageBitmap, ImageData, video or VideoFrame' : ''));
  }

  // Copies bytes into the module's memory for the duration of fn(ptr, size).
  #withBytes(bytes, fn) {
    return withBytes(this.#m, bytes, fn);
  }

  #lastError() {
    return moduleError(this.#m);
  }
}

// Reads a Response body, reporting progress.
export async function readResponse(response, onProgress, what) {
  if (!response.ok) throw new Mnv2Error('E_FETCH', `could not download ${what}: HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get('content-length')) || 0;
  if (!onProgress || !response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  onProgress({ loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress({ loaded, total });
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
