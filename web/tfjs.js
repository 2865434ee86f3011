// TensorFlow.js models (a model.json plus binary weight shards): telling them from a .tflite
// file and gathering their bytes for the engine's loader (mnv2_load_tfjs in src/api/c_api.h),
// which reads both the layers and the graph format.
import { Mnv2Error } from './common.js';

const isBytes = (x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x);

function toUint8(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Whether `bytes` are a .tflite flatbuffer: the file identifier "TFL3" at offset 4. */
export function isTflite(bytes) {
  return bytes.length >= 8 && bytes[4] === 0x54 && bytes[5] === 0x46 && bytes[6] === 0x4c && bytes[7] === 0x33;
}

/** Whether `bytes` start like a JSON object (after white space or a byte order mark). */
export function looksLikeJson(bytes) {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x7b;
}

/** `load({ model: { modelJson, weights } })`: a model already in memory. */
export function isInMemoryModel(model) {
  return typeof model === 'object' && model !== null && !isBytes(model) && 'modelJson' in model;
}

/** { bytes: model.json, weights } from `{ modelJson, weights }`. */
export function inMemoryModel({ modelJson, weights }) {
  let bytes;
  if (typeof modelJson === 'string') bytes = new TextEncoder().encode(modelJson);
  else if (isBytes(modelJson)) bytes = toUint8(modelJson);
  else if (typeof modelJson === 'object' && modelJson !== null) bytes = new TextEncoder().encode(JSON.stringify(modelJson));
  else throw new Mnv2Error('E_INPUT_TYPE', `modelJson must be the model.json object or its text, not ${typeof modelJson}`);
  const shards = Array.isArray(weights) ? weights : [weights];
  if (!shards.every(isBytes)) {
    throw new Mnv2Error('E_INPUT_TYPE', 'weights must be an ArrayBuffer or Uint8Array (or a list of them, the shards in manifest order)');
  }
  return { bytes, weights: concat(shards.map(toUint8)) };
}

// The shard paths of model.json's weightsManifest, in order.
function shardPaths(bytes, where) {
  let json;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Mnv2Error('E_MODEL_FORMAT', `${where} is not valid JSON: ${e.message}`);
  }
  const manifest = json?.weightsManifest;
  if (!Array.isArray(manifest)) throw new Mnv2Error('E_MODEL_FORMAT', `${where} has no weightsManifest list`);
  const paths = manifest.flatMap((group) => group?.paths);
  for (const p of paths) {
    // Shards lie next to model.json (or below it), as tensorflowjs_converter writes them.
    if (typeof p !== 'string' || p === '' || /^[a-z][a-z0-9+.-]*:|^[/\\]|(^|[/\\])\.\.([/\\]|$)/i.test(p)) {
      throw new Mnv2Error('E_MODEL_FORMAT', `${where} lists the weight file ${JSON.stringify(p)}, which is not a path relative to it`);
    }
  }
  return paths;
}

/**
 * The weight shards of the model.json read from `url` (a URL or, in Node, a file path), fetched
 * relative to it, in parallel; onProgress sees the model.json's bytes and the shards' together.
 */
export async function fetchShards(platform, url, jsonBytes, onProgress) {
  const paths = shardPaths(jsonBytes, String(url));
  const loaded = paths.map(() => 0);
  const totals = paths.map(() => 0);
  const report = () => {
    const sum = (a) => a.reduce((n, x) => n + x, jsonBytes.length);
    onProgress({ loaded: sum(loaded), total: totals.every((t) => t > 0) ? sum(totals) : 0 });
  };
  const shardUrl = (p) => {
    try {
      return platform.resolve(url, p);
    } catch (e) {
      throw new Mnv2Error('E_INPUT_TYPE', `cannot find the weight file ${p} relative to ${url}: ${e.message}`);
    }
  };
  const shards = await Promise.all(paths.map((p, i) => platform.readBytes(shardUrl(p), onProgress && ((progress) => {
    loaded[i] = progress.loaded;
    totals[i] = progress.total;
    report();
  }))));
  return concat(shards);
}
