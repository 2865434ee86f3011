// Builds bench/out/mobilenet_v2.onnx from the exported weights (bench/out/weights.{json,bin}).
//   node bench/build_models.mjs [OUT_DIR]
// The TF.js graph needs no file: bench/lib/engines.mjs builds it from the same export at run time.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOnnx } from './lib/onnx.mjs';

const out = process.argv[2] ?? fileURLToPath(new URL('./out', import.meta.url));
const manifest = JSON.parse(await readFile(`${out}/weights.json`, 'utf8'));
const bin = await readFile(`${out}/weights.bin`);
if (bin.length !== manifest.byte_length) throw new Error(`weights.bin has ${bin.length} bytes, the manifest says ${manifest.byte_length}`);
const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
const onnx = buildOnnx(manifest, buffer);
await writeFile(`${out}/mobilenet_v2.onnx`, onnx);
console.log(`${manifest.source}: ${manifest.layers.length} layers -> ${out}/mobilenet_v2.onnx (${onnx.length} bytes)`);
