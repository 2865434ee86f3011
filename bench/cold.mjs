// One cold start, in a fresh process (bench/node.mjs spawns this once per engine and repeat):
//   node bench/cold.mjs ours|ours2|ort1|ort2|tfjs
// The files are read first; the clock then runs from the engine's import to its first result.
// Prints one JSON line: { engine, ms, top1 }.
import { createOrt, createOurs, createTfjs, oursThreads, prepareInput } from './lib/engines.mjs';
import { readInputs } from './lib/node-io.mjs';

const name = process.argv[2];
if (!/^(ours\d*|ort\d+|tfjs)$/.test(name ?? '')) {
  console.error('usage: node bench/cold.mjs ours|ours2|ort1|ort2|tfjs');
  process.exit(2);
}
const data = await readInputs([name]);
const input = prepareInput(data.manifest, data.rgb);

const t0 = performance.now();
let engine;
if (name.startsWith('ours')) {
  const { load } = await import('mobilenetv2-wasm');
  engine = await createOurs({ load, modelBytes: data.modelBytes, input, threads: oursThreads(name) });
} else if (name.startsWith('ort')) {
  const ort = await import('onnxruntime-web');
  engine = await createOrt({ ort, threads: Number(name.slice(3)), onnxBytes: data.onnxBytes, input });
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
