// One cold start, in a fresh process (bench/node.mjs spawns this once per engine and repeat):
//   node bench/cold.mjs ours|ours2|ours8|ours8x2|ort1|ort2|ort8|ort8x2|tflite1|tfjs
// The files are read first; the clock then runs from the engine's import to its first result.
// Prints one JSON line: { engine, ms, top1 }.
import { engineSets, prepareInput } from './lib/engines.mjs';
import { createEngine, readInputs } from './lib/node-io.mjs';

const name = process.argv[2];
const { all } = engineSets({ node: true });
if (!all.includes(name)) {
  console.error(`usage: node bench/cold.mjs ${all.join('|')}`);
  process.exit(2);
}
const data = await readInputs([name]);
const input = prepareInput(data.manifest, data.rgb);

const t0 = performance.now();
const engine = await createEngine(name, data, input, { cold: true });
const scores = await engine.run();
const ms = performance.now() - t0;
let top1 = 0;
for (let i = 1; i < scores.length; i++) if (scores[i] > scores[top1]) top1 = i;
console.log(JSON.stringify({ engine: name, ms, top1 }));
process.exit(0);
