// The benchmark in Node (npm run bench): this package against onnxruntime-web (1 and 2 threads)
// and @tensorflow/tfjs-backend-wasm on the same float network, weights and input, and its integer
// path against @tensorflow/tfjs-tflite on the same .tflite file and onnxruntime-web on the same
// integer network; see bench/README.md.
//   node bench/node.mjs [--warmup N] [--runs N] [--cold N] [--engines float|int8|ours,ours2,...] [--no-peak]
//                       [--with-nsfwjs]
// Prints the report, then one line of JSON with every figure. --with-nsfwjs (npm run bench) then
// runs bench/nsfwjs.mjs with the same --warmup and --runs.
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseEngineArgs } from './lib/args.mjs';
import { engineSets, prepareInput } from './lib/engines.mjs';
import { checkAgreement, measure, measurePeak, median, peakReached, ratios, report } from './lib/harness.mjs';
import {
  BENCH, REPO, checkPrepared, createEngine, files, readInputs, wasmSizes,
} from './lib/node-io.mjs';

// The relaxed build's rows where Node runs relaxed SIMD (node --experimental-wasm-relaxed-simd).
const SETS = engineSets({ node: true, relaxed: process.execArgv.includes('--experimental-wasm-relaxed-simd') });

async function createEngines(names, data, input) {
  const engines = [];
  for (const name of names) engines.push(await createEngine(name, data, input));
  return engines;
}

function coldOnce(name) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH, 'cold.mjs'), name], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop();
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(line));
      } catch (e) {
        reject(new Error(`cold start of ${name} failed (${e.message}): ${err.trim() || out.trim()}`));
      }
    });
  });
}

async function coldStarts(names, repeats) {
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (const n of names) samples[n].push((await coldOnce(n)).ms);
  }
  const engines = {};
  for (const n of names) {
    engines[n] = { medianMs: median(samples[n]), minMs: Math.min(...samples[n]), samplesMs: samples[n].map((t) => Math.round(t * 10) / 10) };
  }
  return { how: 'fresh Node process each: import of the engine to its first result, model bytes already in memory', repeats, engines };
}

const argv = process.argv.slice(2);
const withNsfwjs = argv.includes('--with-nsfwjs');
const args = parseEngineArgs(argv.filter((a) => a !== '--with-nsfwjs'), { ...SETS, cold: 5 });
const loadavgAtStart = os.loadavg();
checkPrepared(args.engines);
const data = await readInputs(args.engines);
const input = prepareInput(data.manifest, data.rgb);
const labels = (await readFile(files.labels, 'utf8')).split('\n');

const log = (s) => process.stderr.write(`${s}\n`);
log(`bench: creating ${args.engines.join(', ')}`);
const engines = await createEngines(args.engines, data, input);
log('bench: checking that the outputs agree');
const agreement = await checkAgreement(engines);
log(`bench: warm-up ${args.warmup} runs per engine, then ${args.runs} timed rounds`);
const results = await measure(engines, {
  warmup: args.warmup,
  runs: args.runs,
  onRound: (r) => r % 10 === 0 && log(`bench: ${r}/${args.runs}`),
});
let peak;
if (args.peak) {
  log('bench: WASM SIMD multiply-add peak');
  peak = await measurePeak(await readFile(files.peak), { relaxedBytes: await readFile(files.relaxedPeak).catch(() => null) });
}
for (const e of engines) await e.dispose();
let coldStart;
if (args.cold > 0) {
  log(`bench: cold starts, ${args.cold} fresh processes per engine`);
  coldStart = await coldStarts(args.engines, args.cold);
}

// GMAC/s: the multiply-adds our model reports (model.info.multiplyAdds), the same network as the export's.
const multiplyAdds = engines[0].multiplyAdds;
if (multiplyAdds !== data.manifest.multiply_adds) {
  log(`bench: warning: model.info.multiplyAdds ${multiplyAdds} != exported ${data.manifest.multiply_adds}`);
}
const full = {
  bench: 'mobilenetv2-wasm issues 5 and 6',
  env: { runtime: `node ${process.version}`, v8: process.versions.v8, cpu: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, platform: `${os.platform()} ${os.arch()}`, loadavgAtStart, loadavgAtEnd: os.loadavg() },
  network: {
    source: data.manifest.source,
    family: data.manifest.family,
    weightType: data.manifest.weight_type,
    alpha: data.manifest.alpha,
    inputSize: data.manifest.input.height,
    multiplyAdds,
    image: path.basename(data.config.image),
  },
  config: { warmup: args.warmup, runs: args.runs, batch: 1 },
  engines: results,
  ratios: ratios(results),
  agreement,
  coldStart,
  wasmSize: await wasmSizes(args.engines),
  peak: peakReached(peak, results, multiplyAdds),
  labels,
};
for (const line of report(full)) console.log(line);
delete full.labels;
console.log(JSON.stringify(full));
if (withNsfwjs) {
  const nsfwjs = ['--warmup', String(args.warmup), '--runs', String(args.runs)];
  const child = spawnSync(process.execPath, [path.join(BENCH, 'nsfwjs.mjs'), ...nsfwjs], { cwd: REPO, stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
process.exit(0);
