// One cold start, in a fresh process (bench/node.mjs spawns this once per engine and repeat):
//   node bench/cold.mjs ours|ours2|ours8|ours8x2|ort1|ort2|ort8|ort8x2|tflite1|tfjs
// The files are read first; the clock then runs from the engine's import to its first result.
// Prints one JSON line: { engine, ms, top1 }.
import { createOrt, createOurs, createTfjs, createTflite, engineSets, parseEngine, prepareInput } from './lib/engines.mjs';
import { readInputs, withTflite } from './lib/node-io.mjs';

const name = process.argv[2];
const { all } = engineSets({ node: true });
if (!all.includes(name)) {
  console.error(`usage: node bench/cold.mjs ${all.join('|')}`);
  process.exit(2);
}
const { kind, precision, threads } = parseEngine(name);
const data = await readInputs([name]);
const input = prepareInput(data.manifest, data.rgb);

const t0 = performance.now();
let engine;
if (kind === 'ours') {
  const { load } = await import('mobilenetv2-wasm');
  engine = await createOurs({ load, modelBytes: data.modelBytes, input, precision, threads, awaitAllThreads: false });
} else if (kind === 'ort') {
  const ort = await import('onnxruntime-web');
  const onnxBytes = precision === 'int8' ? data.onnxInt8Bytes : data.onnxBytes;
  engine = await createOrt({ ort, threads, precision, onnxBytes, input });
} else if (kind === 'tflite') {
  engine = await withTflite(({ tflite, version, build }) =>
    createTflite({ tflite, version, build, threads, modelBytes: data.modelBytes, manifest: data.manifest, input }));
} else {
  const m = await import('@tensorflow/tfjs-core');
  const tf = typeof m.setBackend === 'function' ? m : m.default;
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not initialize');
  engine = await createTfjs({ tf, manifest: data.manifest, bin: data.bin, input });
}
const scores = await engine.run();
const ms = performance.now() - t0;
let top1 = 0;
for (let i = 1; i < scores.length; i++) if (scores[i] > scores[top1]) top1 = i;
console.log(JSON.stringify({ engine: name, ms, top1 }));
process.exit(0);
