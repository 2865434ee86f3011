// Every model in ../shared/models that this package runs, one after another, each benchmarked as
// `npm run bench` does (bench/prepare.sh with MNV2_BENCH_MODEL, then bench/node.mjs or, with
// --browser, bench/browser.mjs): ours in int8 and float32 on 1 thread against tfjs-tflite on the
// very same .tflite and onnxruntime-web on the same float network; in the browser (Chromium, which
// has relaxed SIMD) also the relaxed build, which simd: 'auto' loads there. Prints a Markdown table
// (docs/performance.md's) and, as its last line, one line of JSON.
//   node bench/models.mjs [--browser] [--warmup N] [--runs N] [--only NAME,...]
// Files the package refuses are listed with the reason, the segmentation models (DeepLabv3) as
// measured by `npm run bench:segment`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { eachArg } from './lib/args.mjs';
import { REPO } from './lib/node-io.mjs';

const SHARED = process.env.MNV2_SHARED_DIR ?? path.join(REPO, '..', 'shared');
const MODELS = path.join(SHARED, 'models');

const args = { browser: false, warmup: 20, runs: 40, only: null };
eachArg(process.argv.slice(2), (arg, value) => {
  if (arg === '--browser') args.browser = true;
  else if (arg === '--warmup') args.warmup = Number(value());
  else if (arg === '--runs') args.runs = Number(value());
  else if (arg === '--only') args.only = value().split(',');
  else return false;
  return true;
});

const log = (s) => process.stderr.write(`${s}\n`);

function run(command, argv, env = {}) {
  const r = spawnSync(command, argv, { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${command} ${argv.join(' ')} failed:\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

const { load } = await import('mobilenetv2-wasm');
const rows = [];
const refused = [];
const segmentation = []; // files that bench/segment.mjs measures instead
for (const file of readdirSync(MODELS).filter((f) => f.endsWith('.tflite')).sort()) {
  if (args.only && !args.only.includes(file)) continue;
  const model = path.join(MODELS, file);
  let info;
  try {
    const m = await load({ model, threads: 1 });
    info = m.info;
    m.dispose();
  } catch (e) {
    refused.push({ file, code: e.code, message: e.message });
    continue;
  }
  if (info.task === 'segmentation') {
    segmentation.push(file);
    continue;
  }
  log(`bench: ${file}`);
  run('bench/prepare.sh', [], { MNV2_BENCH_MODEL: model });
  const script = args.browser ? 'bench/browser.mjs' : 'bench/node.mjs';
  const engines = `ours,ours8,tflite1,ort1${args.browser ? ',oursr,ours8r' : ''}`;
  const out = run(process.execPath, [script, '--engines', engines, '--no-peak', '--cold', '0',
    '--warmup', String(args.warmup), '--runs', String(args.runs)]);
  const result = JSON.parse(out.trim().split('\n').pop());
  const ms = Object.fromEntries(result.engines.map((e) => [e.name, e.medianMs]));
  rows.push({
    file, family: info.family, alpha: info.alpha, input: info.inputSize.width, multiplyAdds: info.multiplyAdds,
    parameters: info.parameters, bytes: statSync(model).size, int8: ms.ours8, fp32: ms.ours, tflite: ms.tflite1, ort: ms.ort1,
    int8Relaxed: ms.ours8r, fp32Relaxed: ms.oursr, runtime: result.env.runtime,
  });
}

const f2 = (x) => (x === undefined ? '—' : x.toFixed(2));
const lines = [
  `| file | family | α | input | multiply-adds | parameters | file size | ours int8 | ours fp32 | tfjs-tflite | ours int8 / tfjs-tflite | onnxruntime-web fp32 | ours fp32 / ort |`,
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| \`${r.file}\` | ${r.family === 'mobilenet_v1' ? 'V1' : 'V2'} | ${r.alpha} | ${r.input} | ` +
    `${(r.multiplyAdds / 1e6).toFixed(1)} M | ${(r.parameters / 1e6).toFixed(2)} M | ${(r.bytes / 1e6).toFixed(2)} MB | ` +
    `${f2(r.int8)} ms | ${f2(r.fp32)} ms | ${f2(r.tflite)} ms | ${f2(r.int8 / r.tflite)} | ${f2(r.ort)} ms | ${f2(r.fp32 / r.ort)} |`),
];
console.log(`${rows[0]?.runtime ?? ''}, 1 thread, medians of ${args.runs} (engines alternating)\n`);
console.log(lines.join('\n'));
if (args.browser) {
  console.log('\nThe relaxed SIMD build (what simd: \'auto\' loads in this browser), the same runs:\n');
  console.log(['| file | ours int8, relaxed | / tfjs-tflite | ours fp32, relaxed | / onnxruntime-web |',
    '|---|---|---|---|---|', ...rows.map((r) => `| \`${r.file}\` | ${f2(r.int8Relaxed)} ms | ${f2(r.int8Relaxed / r.tflite)} | ` +
      `${f2(r.fp32Relaxed)} ms | ${f2(r.fp32Relaxed / r.ort)} |`)].join('\n'));
}
for (const r of refused) console.log(`\nnot run: ${r.file}: ${r.code}: ${r.message}`);
for (const file of segmentation) console.log(`\nnot run here: ${file}, a segmentation model (npm run bench:segment)`);
console.log(JSON.stringify({ bench: 'mobilenetv2-wasm models', rows, refused, segmentation }));
