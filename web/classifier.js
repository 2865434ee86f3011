// model.createClassifier(): the user's own classes, learned from the model's embeddings in the
// learner's WebAssembly module (src/learner/learner.h through src/api/learner_api.h), which the
// model loads when a classifier first needs it. This file keeps a copy of the examples and the
// trained head, so that the learner can be rebuilt in a fresh module (after a failure) and
// written out as JSON.
import { describe, Mnv2Error, moduleError, nextTask, withBytes } from './common.js';

const FORMAT = 'mobilenetv2-wasm/classifier';
const VERSION = 1;
// The C API's methods (MNV2_METHOD_*).
const METHODS = { knn: 0, softmax: 1, imprint: 2 };
const TRAIN_DEFAULTS = { epochs: 50, learningRate: 0.1, l2: 1e-4, batchSize: 16, seed: 1 };

const invalid = (message) => new Mnv2Error('E_INVALID_ARGUMENT', message);
const badFile = (message) => new Mnv2Error('E_MODEL_FORMAT', `not a classifier saved by toJSON(): ${message}`);

function checkLabel(label) {
  if (typeof label !== 'string' || label.length === 0 || /[\r\n]/.test(label)) {
    throw invalid(`a label must be a non-empty string of one line, not ${typeof label === 'string' ? JSON.stringify(label) : describe(label)}`);
  }
}

function checkInteger(name, value, min, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, not ${JSON.stringify(value)}`);
  }
}

function checkNumber(name, value, positive) {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive ? value <= 0 : value < 0)) {
    throw invalid(`${name} must be a finite number ${positive ? '> 0' : '>= 0'}, not ${JSON.stringify(value)}`);
  }
}

function toBase64(floats) {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// `count` finite float32 values (little-endian, as every WebAssembly engine stores them).
function fromBase64(text, count, what) {
  let s;
  try {
    s = atob(text);
  } catch {
    throw badFile(`${what} is not base64`);
  }
  if (s.length !== count * 4) throw badFile(`${what} holds ${s.length / 4} floats, not ${count}`);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  const floats = new Float32Array(bytes.buffer);
  if (!floats.every(Number.isFinite)) throw badFile(`${what} holds a value that is not finite`);
  return floats;
}

const now = () => globalThis.performance?.now() ?? Date.now();

const bytesOf = (floats) => new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);

// fn(pointer to `label` as a C string) in module m; throws the module's error when it returns false.
function withLabel(m, label, fn) {
  withBytes(m, new TextEncoder().encode(`${label}\0`), (p) => {
    if (!fn(p)) throw moduleError(m);
  });
}

export class Classifier {
  #model;  // what the model lends: its queue and embeddings, its files, the learner module (Model.createClassifier)
  #examples = [];  // { label, embedding: Float32Array } in the order added
  #counts = new Map();  // label -> examples, in the order the labels were first added
  #head = null;  // the trained (or read back) softmax head: { weights, bias }
  #module = null;  // the module the learner below lives in
  #handle = 0;
  #stale = false;  // the learner no longer matches the copy: rebuilt at the next call
  #disposed = false;

  constructor(model) {
    this.#model = model;
  }

  /** Floats per embedding: the model's featureSize. */
  get featureSize() {
    return this.#model.featureSize;
  }

  /** The labels, in the order first added. */
  get labels() {
    return [...this.#counts.keys()];
  }

  /** Examples per label. */
  get counts() {
    return Object.fromEntries(this.#counts);
  }

  get numExamples() {
    return this.#examples.length;
  }

  /** Whether a softmax head is trained (adding or removing examples drops it). */
  get trained() {
    return this.#head !== null;
  }

  get disposed() {
    return this.#disposed;
  }

  /** Embeds `input` (anything classify accepts) and stores it under `label`; resolves to the label's count. */
  async addExample(input, label, options = {}) {
    this.#alive();
    checkLabel(label);
    return this.#task((m, features) => this.#add(m, features, label), input, options);
  }

  /** Stores an embedding (featureSize floats, e.g. from model.embed) under `label`; resolves to the label's count. */
  async addEmbedding(embedding, label) {
    this.#alive();
    checkLabel(label);
    const features = this.#checkEmbedding(embedding).slice();
    return this.#task((m) => this.#add(m, features, label));
  }

  /** Forgets a label and its examples; false when there was no such label. */
  removeLabel(label) {
    this.#alive();
    if (!this.#counts.has(label)) return false;
    this.#examples = this.#examples.filter((e) => e.label !== label);
    this.#counts.delete(label);
    this.#changed();
    return true;
  }

  /** Forgets every label and example. */
  clear() {
    this.#alive();
    this.#examples = [];
    this.#counts.clear();
    this.#changed();
  }

  /**
   * The best labels of `input`, best first: [{ label, score }]. method: 'knn' (the default
   * before training; scores are the shares of the k nearest examples' votes), 'imprint', or
   * 'softmax' (the default once trained).
   */
  async classify(input, options = {}) {
    this.#alive();
    const { topk = 5, k = 3 } = options;
    const method = options.method ?? (this.#head ? 'softmax' : 'knn');
    if (!Object.hasOwn(METHODS, method)) throw invalid(`method must be 'knn', 'softmax' or 'imprint', not ${JSON.stringify(method)}`);
    checkInteger('topk', topk, 1);
    checkInteger('k', k, 1);
    return this.#task((m, features) => withBytes(m, bytesOf(features), (ptr) => {
      if (m._mnv2_learner_classify(this.#handle, ptr, METHODS[method], k) !== 0) throw moduleError(m);
      const labels = this.labels;
      const n = Math.min(topk, labels.length);
      return withBytes(m, new Uint8Array(4 * n), (indices) => {
        const count = m._mnv2_learner_top_k(this.#handle, n, indices);
        const scores = m._mnv2_learner_scores(this.#handle) >> 2;
        const out = [];
        for (let i = 0; i < count; i++) {
          const index = m.HEAP32[(indices >> 2) + i];
          out.push({ label: labels[index], score: m.HEAPF32[scores + index] });
        }
        return out;
      });
    }), input, options);
  }

  /**
   * Trains the softmax head on the examples (multinomial logistic regression, mini-batch SGD
   * with momentum from the imprinted head; deterministic for a seed). One epoch at a time, with
   * the event loop running in between: the page stays responsive, and other calls on the
   * model interleave. Resolves to { epochs, loss, ms }.
   */
  async train(options = {}) {
    this.#alive();
    const { epochs, learningRate, l2, batchSize, seed } = { ...TRAIN_DEFAULTS, ...options };
    const { onProgress } = options;
    checkInteger('epochs', epochs, 1);
    checkInteger('batchSize', batchSize, 1);
    checkInteger('seed', seed, 0, 0xffffffff);
    checkNumber('learningRate', learningRate, true);
    checkNumber('l2', l2, false);
    if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid('onProgress must be a function');
    const start = now();
    await this.#task((m) => {
      if (m._mnv2_learner_train_begin(this.#handle, epochs, learningRate, l2, batchSize, seed) !== 0) throw moduleError(m);
      this.#head = null;  // replaced by the new one after the last epoch (the module has none meanwhile)
    });
    let loss = NaN;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      loss = await this.#task((m) => {
        if (m._mnv2_learner_train_epoch(this.#handle) !== 0) throw moduleError(m);
        return m._mnv2_learner_loss(this.#handle);
      });
      onProgress?.({ epoch, epochs, loss });
      await nextTask();
    }
    await this.#task((m) => {
      const weights = m._mnv2_learner_head_weights(this.#handle) >> 2;
      const bias = m._mnv2_learner_head_bias(this.#handle) >> 2;
      if (!weights || !bias) throw invalid('training was interrupted: the examples changed while it ran');
      const classes = this.#counts.size;
      this.#head = {
        weights: m.HEAPF32.slice(weights, weights + classes * this.featureSize),
        bias: m.HEAPF32.slice(bias, bias + classes),
      };
    });
    return { epochs, loss, ms: now() - start };
  }

  /**
   * A plain object for JSON.stringify: the labels, the examples' embeddings (unless
   * { examples: false }) and the trained head, floats as base64. fromJSON reads it back.
   */
  toJSON(options = {}) {
    const withExamples = options.examples ?? true;
    return {
      format: FORMAT,
      version: VERSION,
      featureSize: this.featureSize,
      labels: this.labels,
      examples: withExamples ? this.#examples.map((e) => ({ label: e.label, embedding: toBase64(e.embedding) })) : [],
      head: this.#head && { weights: toBase64(this.#head.weights), bias: toBase64(this.#head.bias) },
    };
  }

  /** Replaces the contents with what toJSON() wrote (the object or its text), for a model of the same featureSize. */
  async fromJSON(json) {
    this.#alive();
    const parsed = this.#parse(json);
    // In the queue: calls made before it see the old contents.
    return this.#model.enqueue(async () => {
      this.#alive();
      this.#examples = parsed.examples;
      this.#counts = parsed.counts;
      this.#changed();
      this.#head = parsed.head;
    });
  }

  /**
   * A complete .tflite file: the model as loaded, its classifier replaced by this head (the
   * trained one, else the imprinted one): AVERAGE_POOL_2D, L2_NORMALIZATION, FULLY_CONNECTED,
   * SOFTMAX, with the labels in the file's metadata. load({ model: bytes }) reads it back.
   */
  async exportTflite() {
    this.#alive();
    return this.#task((m) => {
      const { bytes, weights, inputRange } = this.#model.source();
      const rc = withBytes(m, bytes, (ptr, size) => (weights
        ? withBytes(m, weights, (wptr, wsize) =>
          m._mnv2_learner_export_tfjs(this.#handle, ptr, size, wptr, wsize, inputRange[0], inputRange[1]))
        : m._mnv2_learner_export_tflite(this.#handle, ptr, size)));
      if (rc !== 0) throw moduleError(m);
      const data = m._mnv2_learner_export_data(this.#handle);
      return m.HEAPU8.slice(data, data + m._mnv2_learner_export_size(this.#handle));
    });
  }

  /** Frees the learner; later calls reject with E_DISPOSED. Disposing the model disposes it too. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#model.forget(this);
    try {
      if (this.#handle) this.#module._mnv2_learner_free(this.#handle);
    } catch {
      // A learner module that failed is dropped whole.
    }
    this.#module = null;
    this.#handle = 0;
  }

  // In the model's queue: `input` (if given) embedded by the model, then fn(learnerModule,
  // features) with the learner there up to date. A failure of the learner module (a trap) is
  // reported as E_INTERNAL, and the learner is rebuilt from the copy in a fresh module next time.
  #task(fn, input, options) {
    return this.#model.enqueue(async (embed) => {
      this.#alive();
      const features = input === undefined ? null : await embed(input, options);
      this.#alive();
      const m = await this.#model.learner();
      try {
        this.#sync(m);
        return await fn(m, features);
      } catch (e) {
        if (e instanceof Mnv2Error) throw e;
        this.#model.broken(m);
        this.#module = null;
        this.#handle = 0;
        throw new Mnv2Error('E_INTERNAL', `the learner's WebAssembly module failed (${e?.message ?? e}); it is rebuilt at the next call`);
      }
    });
  }

  #alive() {
    if (this.#disposed) throw new Mnv2Error('E_DISPOSED', 'this classifier was disposed');
  }

  // The examples or labels changed: the trained head no longer fits, and the learner in the
  // module is rebuilt from this copy at the next call.
  #changed() {
    this.#head = null;
    this.#stale = true;
  }

  // Builds the learner in module m from the copy kept here, unless it is there already.
  #sync(m) {
    if (this.#module === m && this.#handle && !this.#stale) return;
    if (this.#module === m && this.#handle) m._mnv2_learner_free(this.#handle);
    this.#module = null;
    this.#handle = 0;
    const handle = m._mnv2_learner_create(this.featureSize);
    if (!handle) throw moduleError(m);
    try {
      for (const label of this.#counts.keys()) withLabel(m, label, (p) => m._mnv2_learner_add_label(handle, p) === 0);
      for (const e of this.#examples) {
        withBytes(m, bytesOf(e.embedding), (ptr) => withLabel(m, e.label, (p) => m._mnv2_learner_add(handle, ptr, p) > 0));
      }
      if (this.#head) {
        withBytes(m, bytesOf(this.#head.weights), (w) => withBytes(m, bytesOf(this.#head.bias), (b) => {
          if (m._mnv2_learner_set_head(handle, w, b) !== 0) throw moduleError(m);
        }));
      }
    } catch (e) {
      m._mnv2_learner_free(handle);
      throw e;
    }
    this.#module = m;
    this.#handle = handle;
    this.#stale = false;
  }

  // Adds the embedding `features` to the learner in module m and to the copy.
  #add(m, features, label) {
    let count = 0;
    withBytes(m, bytesOf(features), (ptr) => withLabel(m, label, (p) => (count = m._mnv2_learner_add(this.#handle, ptr, p)) > 0));
    this.#counts.set(label, count);
    this.#examples.push({ label, embedding: features });
    this.#head = null;
    return count;
  }

  #checkEmbedding(embedding) {
    if (!(embedding instanceof Float32Array) || embedding.length !== this.featureSize) {
      throw invalid(`an embedding must be a Float32Array of ${this.featureSize} values (this model's featureSize), not ${describe(embedding)}${embedding?.length !== undefined ? ` of ${embedding.length}` : ''}`);
    }
    return embedding;
  }

  // What fromJSON reads, checked whole before anything is replaced.
  #parse(json) {
    let o = json;
    if (typeof json === 'string') {
      try {
        o = JSON.parse(json);
      } catch (e) {
        throw badFile(`invalid JSON (${e.message})`);
      }
    }
    if (typeof o !== 'object' || o === null || o.format !== FORMAT) throw badFile(`no "format": "${FORMAT}"`);
    if (o.version !== VERSION) throw badFile(`version ${JSON.stringify(o.version)}; this package reads version ${VERSION}`);
    if (o.featureSize !== this.featureSize) {
      throw invalid(`these embeddings have ${o.featureSize} features; this model's have ${this.featureSize}: they come from another model`);
    }
    if (!Array.isArray(o.labels) || !Array.isArray(o.examples)) throw badFile('"labels" and "examples" must be arrays');
    const counts = new Map();
    for (const label of o.labels) {
      try {
        checkLabel(label);
      } catch (e) {
        throw badFile(e.message);
      }
      if (counts.has(label)) throw badFile(`label ${JSON.stringify(label)} is listed twice`);
      counts.set(label, 0);
    }
    const examples = o.examples.map((e, i) => {
      if (typeof e !== 'object' || e === null || !counts.has(e.label) || typeof e.embedding !== 'string') {
        throw badFile(`example ${i} must be { label: one of "labels", embedding: base64 }`);
      }
      counts.set(e.label, counts.get(e.label) + 1);
      return { label: e.label, embedding: fromBase64(e.embedding, this.featureSize, `example ${i}`) };
    });
    let head = null;
    if (o.head !== null && o.head !== undefined) {
      if (typeof o.head !== 'object' || typeof o.head.weights !== 'string' || typeof o.head.bias !== 'string') {
        throw badFile('"head" must be null or { weights: base64, bias: base64 }');
      }
      if (o.labels.length < 2) throw badFile('a head needs at least two labels');
      head = {
        weights: fromBase64(o.head.weights, o.labels.length * this.featureSize, 'the head weights'),
        bias: fromBase64(o.head.bias, o.labels.length, 'the head bias'),
      };
    }
    return { examples, counts, head };
  }
}
