// Builds the ONNX models from the exported weights (bench/out/weights.{json,bin}, weights_q.bin):
//   bench/out/mobilenet_v2.onnx       the float32 network (the dequantized weights)
//   bench/out/mobilenet_v2_int8.onnx  the integer network (QLinearConv etc.), when the model has an integer path
//   node bench/build_models.mjs [OUT_DIR]
// The TF.js graph needs no file: bench/lib/engines.mjs builds it from the same export at run time.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOnnx, buildOnnxInt8 } from './lib/onnx.mjs';

const out = process.argv[2] ?? fileURLToPath(new URL('./out', import.meta.url));
const manifest = JSON.parse(await readFile(`${out}/weights.json`, 'utf8'));
const asArrayBuffer = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
const bin = await readFile(`${out}/weights.bin`);
if (bin.length !== manifest.byte_length) throw new Error(`weights.bin has ${bin.length} bytes, the manifest says ${manifest.byte_length}`);
const onnx = buildOnnx(manifest, asArrayBuffer(bin));
await writeFile(`${out}/mobilenet_v2.onnx`, onnx);
console.log(`${manifest.source}: ${manifest.layers.length} layers -> ${out}/mobilenet_v2.onnx (${onnx.length} bytes)`);

if (manifest.quant?.available) {
  const qbin = await readFile(`${out}/${manifest.quant.binary}`);
  if (qbin.length !== manifest.quant.byte_length) {
    throw new Error(`${manifest.quant.binary} has ${qbin.length} bytes, the manifest says ${manifest.quant.byte_length}`);
  }
  const int8 = buildOnnxInt8(manifest, asArrayBuffer(qbin));
  await writeFile(`${out}/mobilenet_v2_int8.onnx`, int8);
  console.log(`${manifest.source}: integer path -> ${out}/mobilenet_v2_int8.onnx (${int8.length} bytes)`);
} else {
  // No stale integer model from an earlier export of another file.
  await rm(`${out}/mobilenet_v2_int8.onnx`, { force: true });
  console.log(`${manifest.source}: no integer path (${manifest.quant?.reason ?? 'not exported'}): no mobilenet_v2_int8.onnx`);
}
