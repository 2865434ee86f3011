// Shared by the JS test files: where the repository and the real data are, the reference
// outputs, and the few assertions every file makes. Not a test file itself (no .test.js).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, Mnv2Error, simdSupported } from '../../web/node.js';

export { load, Mnv2Error, simdSupported };

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED = process.env.MNV2_SHARED_DIR ?? join(REPO, '..', 'shared');
export const image = (name) => join(SHARED, 'images', name);
export const sharedModel = (name) => join(SHARED, 'models', name);

export const IMAGENET_LABELS = sharedModel('imagenet_labels.txt');
export const INAT_BIRD_LABELS = sharedModel('inat_bird_labels.txt');
export const BIRD_MODEL = sharedModel('mobilenet_v2_1.0_224_inat_bird_quant.tflite');
/** The ImageNet models of reference_top5.json, with what the tests expect of each. */
export const IMAGENET_MODELS = [
  { file: 'mobilenet_v2_1.0_224_quant.tflite', weightType: 'uint8', scoreTolerance: 0.1 },
  { file: 'tf2_mobilenet_v2_1.0_224_ptq.tflite', weightType: 'int8', scoreTolerance: 0.15 },
];

/** The MobileNetV1 files, at three of the paper's (alpha, resolution) points, with what the paper says of each. */
export const V1_MODELS = [
  { file: 'mobilenet_v1_0.25_128_quant.tflite', alpha: 0.25, size: 128, multiplyAdds: 14e6, parameters: 0.47e6 },
  { file: 'mobilenet_v1_0.5_160_quant.tflite', alpha: 0.5, size: 160, multiplyAdds: 77e6, parameters: 1.32e6 },
  { file: 'mobilenet_v1_0.75_192_quant.tflite', alpha: 0.75, size: 192, multiplyAdds: 233e6, parameters: 2.59e6 },
];

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
/** model file -> photo -> [[index, label, prob], ...] from an independent TFLite runtime. */
export const REFERENCE_TOP5 = readJson(image('reference_top5.json'));
/** model file -> 'bird.rgb' | 'sunflower.rgb' -> the model's full uint8 output for that raw input. */
export const REFERENCE_RAW = readJson(image('reference_raw_outputs.json'));
/** The same for the MobileNetV1 files (raw inputs bird_N.rgb / sunflower_N.rgb, N = the input size). */
export const REFERENCE_TOP5_V1 = readJson(image('reference_top5_v1.json'));
export const REFERENCE_RAW_V1 = readJson(image('reference_raw_outputs_v1.json'));
/** The photos with reference outputs (the same for every ImageNet model). */
export const PHOTOS = Object.keys(REFERENCE_TOP5[IMAGENET_MODELS[0].file]);

const cache = new Map();
/** The bytes of a file in the shared images folder (read once per process). */
export function imageBytes(name) {
  if (!cache.has(name)) cache.set(name, new Uint8Array(readFileSync(image(name))));
  return cache.get(name);
}

/** bird.rgb / sunflower.rgb as `{ data, width, height }` RGB pixels. */
export const rawRgb = (name) => ({ data: imageBytes(name), width: 224, height: 224 });

/** The same pixels with an alpha channel (alpha varies, so a kernel that used it would show). */
export function toRgba({ data, width, height }) {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    rgba[j] = data[i];
    rgba[j + 1] = data[i + 1];
    rgba[j + 2] = data[i + 2];
    rgba[j + 3] = (i / 3) & 255;
  }
  return { data: rgba, width, height };
}

/** An ImageNet model from ../shared with its labels. */
export const loadImagenet = (file, options = {}) =>
  load({ model: sharedModel(file), labels: IMAGENET_LABELS, ...options });

/**
 * Waits until `model.info.threads` is `threads`: a threaded model starts on one thread and the
 * others join as their workers load, which needs the event loop (so this waits by timers).
 */
export async function threadsStarted(model, threads) {
  const deadline = Date.now() + 30000;  // a bound for a hang, not a measurement
  while (model.info.threads < threads && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(model.info.threads, threads, 'the threads running');
}

/** Asserts that `promise` rejects with an Mnv2Error of `code` whose message reads as a sentence. */
export async function assertMnv2Error(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Mnv2Error, `expected an Mnv2Error, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.name, 'Mnv2Error');
    assert.equal(e.code, code, `code of "${e.message}"`);
    assertReadable(e.message);
    return true;
  });
}

/** A message for people: words, not a bare code, no stringified objects. */
export function assertReadable(message) {
  assert.equal(typeof message, 'string');
  assert.ok(message.length >= 12, `message too short: "${message}"`);
  assert.match(message, /[a-z]{2,} [a-z0-9]+/i, `not a sentence: "${message}"`);
  assert.doesNotMatch(message, /\[object |^E_[A-Z_]+$/, `unreadable message: "${message}"`);
}

/** Index of the largest value. */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Runs a command; resolves with { code, stdout, stderr } whatever the exit code. */
export function run(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...options }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}
