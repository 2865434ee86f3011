// Types of the public API (one source of truth for the browser and Node entry points).

/** Anything `classify` / `embed` / `scores` accept. */
export type ImageInput =
  | Uint8Array | ArrayBuffer | ArrayBufferView  // encoded JPEG / PNG / BMP / GIF bytes
  | Blob                                         // an encoded image file
  | string | URL                                 // Node: a file path; everywhere: a URL of an image file
  | RawPixels
  | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap
  | HTMLVideoElement | VideoFrame;

/** Interleaved 8-bit pixels: width * height * 3 (RGB) or * 4 (RGBA) bytes, rows without padding. */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * A TensorFlow.js model already in memory (layers or graph format): its model.json (the object,
 * or its text) and its weight shards (one buffer, or every shard in weightsManifest order).
 */
export interface TfjsModelFiles {
  modelJson: object | string;
  weights: ArrayBuffer | Uint8Array | Array<ArrayBuffer | Uint8Array>;
}

export interface LoadOptions {
  /**
   * A .tflite file or a TensorFlow.js model.json (layers or graph format; its weight shards are
   * fetched relative to it): a URL, a file path (Node), the bytes of a .tflite file, or a TF.js
   * model in memory. Default: the bundled MobileNetV2 1.0/224 ImageNet model.
   */
  model?: string | URL | ArrayBuffer | Uint8Array | Blob | TfjsModelFiles;
  /**
   * TF.js models only: the range the model expects pixels scaled to, e.g. [0, 1] for nsfwjs.
   * Default: [-1, 1] (Keras' MobileNetV2 convention); for a model that normalizes its input
   * itself (TF Hub graphs), [0, 1], or [0, 255] when it scales raw pixels.
   */
  inputRange?: [number, number];
  /** A URL, a file path (Node), string[] or the text of a label file (one class per line). Default: ImageNet labels with the default model. */
  labels?: string | URL | string[];
  /**
   * 'auto' (default): the relaxed SIMD build where the engine validates relaxed SIMD, else the
   * SIMD build where it has SIMD, else the build without. 'relaxed', true (SIMD) and false (no
   * SIMD) force a build. The relaxed build runs .tflite files: TF.js models (float32, the same
   * kernels) load the SIMD build, and 'relaxed' refuses them (E_UNSUPPORTED_MODEL).
   */
  simd?: 'auto' | 'relaxed' | boolean;
  /**
   * 'int8' runs a quantized .tflite model in integer arithmetic as TFLite's reference kernels
   * do (the default for quantized models); 'fp32' dequantizes its weights to float32 (the only
   * choice for float models: 'int8' on them rejects with E_UNSUPPORTED_MODEL).
   */
  precision?: 'int8' | 'fp32';
  /**
   * Threads sharing every inference (1 to 8; the results are the same bytes for any count).
   * Default: the number of cores, at most 4 (in a browser's Web Worker: 1). More than one needs the SIMD build and
   * SharedArrayBuffer, which browsers give only to cross-origin isolated pages (COOP
   * `same-origin` + COEP `require-corp`); elsewhere the model runs on one thread
   * (`info.threads` says which). Each extra thread is a Web Worker (a worker_thread in Node),
   * started with the model and stopped by dispose(). load() does not wait for them to load:
   * the model answers at once on one thread, and the others join as their workers come up
   * (`info.threads` rises to the count).
   */
  threads?: number;
  /** Called while the model downloads. */
  onProgress?: (progress: { loaded: number; total: number }) => void;
  /**
   * Where the .wasm files live (a folder URL), e.g. on a CDN. Default: next to this module. The
   * threaded build's mnv2-simd-mt.mjs and .worker.js are taken from there too.
   */
  wasmPath?: string | URL;
  /** Bounds on untrusted input; each is optional (defaults in `Limits`). */
  limits?: Partial<Limits>;
}

/**
 * What a model and its images may ask for. Inputs beyond a limit are refused before they are
 * copied into WebAssembly memory or decoded: E_MODEL_TOO_LARGE, E_IMAGE_TOO_LARGE.
 */
export interface Limits {
  /** Size of the .tflite file. Default 128 MiB. */
  maxModelBytes: number;
  /** Memory the model's weights and activations need (an upper bound, checked while the file is read). Default 512 MiB. */
  maxMemoryBytes: number;
  /** Size of an encoded image (JPEG, PNG, BMP, GIF). Default 64 MiB. */
  maxImageBytes: number;
  /** width * height of an image, encoded or raw (the longer side may not exceed 16384 either). Default 40,000,000. */
  maxImagePixels: number;
}

export interface RunOptions {
  /** Center-crop to the model's aspect ratio instead of resizing the whole image. */
  crop?: boolean;
}

export interface ClassifyOptions extends RunOptions {
  /** How many classes to return (default 5). */
  topk?: number;
}

export interface Prediction {
  index: number;
  /** The class name, or null when the model has no labels. */
  label: string | null;
  score: number;
}

export interface SegmentOptions extends RunOptions {
  /** Also return `overlay`: the image with the classes other than 0 blended in their colors at this opacity (0..1). */
  overlay?: number;
}

export interface SegmentClass {
  index: number;
  /** The class name, or null when the model has no labels. */
  label: string | null;
  /** Pixels of the mask with this class, and their share of the image. */
  pixels: number;
  share: number;
  /** Its color in PASCAL VOC's colormap, [r, g, b] (what the overlay and maskToImageData use). */
  color: [number, number, number];
}

export interface Segmentation {
  /** The image's own size: the mask covers it whole (with `crop`, class 0 outside the crop box). */
  width: number;
  height: number;
  /** One class index per pixel, row by row: the model's logits resized to the image, then the largest. */
  mask: Uint8Array;
  /** The model's class names (index = class), or null without labels. */
  labels: string[] | null;
  /** The classes present, most pixels first. */
  classes: SegmentClass[];
  /** With options.overlay: width * height RGB pixels. */
  overlay?: Uint8Array;
}

export interface ModelInfo {
  /** Whether the WebAssembly SIMD variant runs. */
  simd: boolean;
  /** The build: 'WASM_RELAXED' (relaxed SIMD), 'WASM' (SIMD) or 'EMU128' (no SIMD). */
  target: string;
  /**
   * The relaxed dot product's form the int8 kernels use in the relaxed build: 'unsigned' or
   * 'signed'; 'none' in other builds and on engines whose form would not give exact results
   * (they use the SIMD build's int8 kernels).
   */
  relaxedDot: 'unsigned' | 'signed' | 'none';
  /**
   * Threads the next call runs on, read when asked (see LoadOptions.threads): a threaded model
   * starts on 1 and rises to the count as its workers load. After dispose(): the last count.
   */
  threads: number;
  /** Which network of the MobileNet family the file holds (a DeepLabv3 file: its MobileNetV2 backbone). */
  family: 'mobilenet_v1' | 'mobilenet_v2';
  /** A classifier (classify, embed, scores) or a segmentation model such as DeepLabv3 (segment). */
  task: 'classification' | 'segmentation';
  inputSize: { width: number; height: number };
  numClasses: number;
  /** Length of `embed()`'s result. */
  featureSize: number;
  /** Width multiplier. */
  alpha: number;
  /** The file stores integer (uint8/uint16/int8) weights. */
  quantized: boolean;
  weightType: 'float32' | 'float16' | 'uint8' | 'uint16' | 'int8';
  /** Arithmetic used at run time. */
  precision: 'int8' | 'fp32';
  /** Multiply-adds of one inference. */
  multiplyAdds: number;
  /** Weights and biases of the network. */
  parameters: number;
  /** Whether classify() names classes: labels given to load(), or stored in the file (exportTflite). */
  labels: boolean;
  /** The limits in force. */
  limits: Readonly<Limits>;
}

export interface Model {
  readonly info: ModelInfo;
  readonly disposed: boolean;
  /**
   * The best classes, best first. Equal scores (a quantized model's probabilities come in steps of
   * 1/256) rank by the model's pre-softmax logits, then by index; class 0 of a 1001-class ImageNet
   * model ("background", or unlabelled) is never listed. Calls made without awaiting run in order.
   */
  classify(input: ImageInput, options?: ClassifyOptions): Promise<Prediction[]>;
  /** The pooled features before the classifier. */
  embed(input: ImageInput, options?: RunOptions): Promise<Float32Array>;
  /** Every class's score (probabilities for models ending in softmax). */
  scores(input: ImageInput, options?: RunOptions): Promise<Float32Array>;
  /**
   * The class of every pixel of `input` (a segmentation model, info.task 'segmentation'; a
   * classifier rejects with E_WRONG_TASK, as classify, embed and scores do on a segmentation model).
   */
  segment(input: ImageInput, options?: SegmentOptions): Promise<Segmentation>;
  /**
   * The model's WebAssembly memory in bytes: its size (it grows, never shrinks; a call that fails
   * after growing it gets a fresh module) and what malloc has handed out; the activations and
   * scratch of the engine's plan (blocks run band by band; more with more threads) and what running
   * the model layer by layer, each tensor whole, would take. Zeros once disposed.
   */
  memoryUsage(): { wasmMemory: number; allocated: number; activationBytes: number; layerByLayerBytes: number };
  /**
   * A learner of your own classes on this model's embeddings: add a few examples per label, then
   * classify by nearest neighbours at once, or train a softmax head in seconds and export it.
   */
  createClassifier(): Classifier;
  /** Frees the model's WebAssembly memory and its classifiers; later calls reject with code E_DISPOSED. */
  dispose(): void;
}

/**
 * How a Classifier scores: 'knn' the k most cosine-similar examples vote (score: the share of
 * votes; k is capped at the fewest examples of a label); 'imprint' softmax of 10 x the cosine
 * with each label's mean example (instant, no training); 'softmax' the trained head.
 */
export type ClassifierMethod = 'knn' | 'imprint' | 'softmax';

export interface LearnedPrediction {
  label: string;
  score: number;
}

export interface ClassifierClassifyOptions extends RunOptions {
  /** How many labels (default 5). */
  topk?: number;
  /** Default: 'softmax' once trained, 'knn' before. */
  method?: ClassifierMethod;
  /** Neighbours that vote, for 'knn' (default 3). */
  k?: number;
}

export interface TrainOptions {
  /** Passes over the examples (default 50). */
  epochs?: number;
  /** SGD step (default 0.1; momentum 0.9). */
  learningRate?: number;
  /** Weight decay (default 1e-4). */
  l2?: number;
  /** Examples per step (default 16). */
  batchSize?: number;
  /** Fixes the order of the examples: the same seed, examples and options give the same head (default 1). */
  seed?: number;
  /** After each epoch: its mean cross-entropy. */
  onProgress?: (progress: { epoch: number; epochs: number; loss: number }) => void;
}

/** What Classifier.toJSON() writes (floats as base64 of little-endian float32). */
export interface ClassifierJSON {
  format: 'mobilenetv2-wasm/classifier';
  version: 1;
  featureSize: number;
  labels: string[];
  examples: Array<{ label: string; embedding: string }>;
  head: { weights: string; bias: string } | null;
}

export interface Classifier {
  /** Floats per embedding (the model's info.featureSize). */
  readonly featureSize: number;
  /** Labels in the order first added. */
  readonly labels: string[];
  /** Examples per label. */
  readonly counts: Record<string, number>;
  readonly numExamples: number;
  /** Whether a softmax head is trained; adding or removing examples drops it. */
  readonly trained: boolean;
  readonly disposed: boolean;
  /** Embeds the image (one model run) and stores it under `label`; resolves to that label's count. */
  addExample(input: ImageInput, label: string, options?: RunOptions): Promise<number>;
  /** Stores an embedding from model.embed() under `label`; resolves to that label's count. */
  addEmbedding(embedding: Float32Array, label: string): Promise<number>;
  /** Forgets a label and its examples; false when there is no such label. */
  removeLabel(label: string): boolean;
  clear(): void;
  /** The best labels, best first. Needs examples of at least two labels (or a trained head). */
  classify(input: ImageInput, options?: ClassifierClassifyOptions): Promise<LearnedPrediction[]>;
  /** Trains the softmax head (from the imprinted one), an epoch at a time; the page stays responsive. */
  train(options?: TrainOptions): Promise<{ epochs: number; loss: number; ms: number }>;
  /** The labels, the examples' embeddings (unless { examples: false }) and the trained head. */
  toJSON(options?: { examples?: boolean }): ClassifierJSON;
  /** Replaces the contents with a toJSON() result (object or text) from a model of the same featureSize. */
  fromJSON(json: ClassifierJSON | string): Promise<void>;
  /**
   * A complete .tflite: the model as loaded with its classifier replaced by this head (trained,
   * else imprinted), the labels in its metadata. load({ model: bytes }) runs it, as does TFLite.
   */
  exportTflite(): Promise<Uint8Array>;
  /** Frees it; later calls reject with E_DISPOSED. */
  dispose(): void;
}

/** Every failure: `code` is stable, `message` is for people. */
export class Mnv2Error extends Error {
  readonly code:
    | 'E_MODEL_FORMAT' | 'E_UNSUPPORTED_OP' | 'E_UNSUPPORTED_MODEL' | 'E_IMAGE_DECODE' | 'E_IMAGE_TOO_LARGE'
    | 'E_INVALID_ARGUMENT' | 'E_INPUT_TYPE' | 'E_DISPOSED' | 'E_FETCH' | 'E_IO' | 'E_UNSUPPORTED' | 'E_OUT_OF_MEMORY'
    | 'E_MODEL_TOO_LARGE'  // beyond limits.maxModelBytes or limits.maxMemoryBytes
    | 'E_WRONG_TASK'       // classify on a segmentation model, or segment on a classifier
    | 'E_INTERNAL'         // the WebAssembly module trapped; the model was reloaded and works again
    | string;
}

export function load(options?: LoadOptions): Promise<Model>;
/** Whether this JavaScript engine runs WebAssembly SIMD. */
export function simdSupported(): boolean;
/** Whether this JavaScript engine runs WebAssembly's relaxed SIMD (the build simd: 'auto' then loads). */
export function relaxedSimdSupported(): boolean;

export interface MaskImageOptions {
  /** Alpha of the colored pixels, 0..1 (default 0.6). */
  opacity?: number;
  /** Colors by class index, [r, g, b], instead of the result's. */
  colors?: Record<number, [number, number, number]>;
  /** The class left transparent (default 0). */
  background?: number;
}

/**
 * A segment() result as an RGBA layer to draw over the image (each class in its color at the
 * opacity, the background transparent): an ImageData where the platform has one, else
 * { data, width, height }. Throws E_INPUT_TYPE for anything but a segment() result.
 */
export function maskToImageData(
  result: Segmentation,
  options?: MaskImageOptions,
): ImageData | { data: Uint8ClampedArray; width: number; height: number };
