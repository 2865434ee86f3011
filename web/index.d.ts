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

export interface LoadOptions {
  /** A URL, a file path (Node), or the bytes of a .tflite file. Default: the bundled MobileNetV2 1.0/224 ImageNet model. */
  model?: string | URL | ArrayBuffer | Uint8Array | Blob;
  /** A URL, a file path (Node), string[] or the text of a label file (one class per line). Default: ImageNet labels with the default model. */
  labels?: string | URL | string[];
  /** 'auto' (default) picks WebAssembly SIMD where the engine supports it; true / false force a variant. */
  simd?: 'auto' | boolean;
  /** Called while the model downloads. */
  onProgress?: (progress: { loaded: number; total: number }) => void;
  /** Where the .wasm files live (a folder URL), e.g. on a CDN. Default: next to this module. */
  wasmPath?: string | URL;
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

export interface ModelInfo {
  /** Whether the WebAssembly SIMD variant runs. */
  simd: boolean;
  /** The SIMD target of the kernels: 'WASM' (SIMD) or 'EMU128' (no SIMD). */
  target: string;
  threads: number;
  inputSize: { width: number; height: number };
  numClasses: number;
  /** Length of `embed()`'s result. */
  featureSize: number;
  /** Width multiplier. */
  alpha: number;
  /** The file stores integer (uint8/int8) weights. */
  quantized: boolean;
  weightType: 'float32' | 'float16' | 'uint8' | 'int8';
  /** Arithmetic used at run time. */
  precision: 'fp32';
  multiplyAdds: number;
  labels: boolean;
}

export interface Model {
  readonly info: ModelInfo;
  readonly disposed: boolean;
  /** The best classes, best first. Calls made without awaiting run in order. */
  classify(input: ImageInput, options?: ClassifyOptions): Promise<Prediction[]>;
  /** The pooled features before the classifier. */
  embed(input: ImageInput, options?: RunOptions): Promise<Float32Array>;
  /** Every class's score (probabilities for models ending in softmax). */
  scores(input: ImageInput, options?: RunOptions): Promise<Float32Array>;
  /** Frees the model's WebAssembly memory; later calls reject with code E_DISPOSED. */
  dispose(): void;
}

/** Every failure: `code` is stable, `message` is for people. */
export class Mnv2Error extends Error {
  readonly code:
    | 'E_MODEL_FORMAT' | 'E_UNSUPPORTED_OP' | 'E_UNSUPPORTED_MODEL' | 'E_IMAGE_DECODE' | 'E_IMAGE_TOO_LARGE'
    | 'E_INVALID_ARGUMENT' | 'E_INPUT_TYPE' | 'E_DISPOSED' | 'E_FETCH' | 'E_IO' | 'E_UNSUPPORTED' | 'E_OUT_OF_MEMORY'
    | string;
}

export function load(options?: LoadOptions): Promise<Model>;
/** Whether this JavaScript engine runs WebAssembly SIMD. */
export function simdSupported(): boolean;
