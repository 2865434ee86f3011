// A/B of builds of this package in Node, for changes worth a few percent (npm run bench:ab --
// DIST_A DIST_B ...). Each build runs in fresh processes, the builds alternating round by round
// (the order reversed every other round): one process per build and round, a warm-up, then the
// median of its timed runs. It prints each build's median over the rounds and, for every build
// after the first, the median of its per-round ratios to the first and in how many rounds it
// was the faster.
//
// Two builds of the same source with a harmless change can differ by 2-3% in Node, consistently
// over many rounds (V8 places the compiled code differently; README, Performance): a change that
// moves the network by that much is checked against a second build of the base, and natively,
// before it is kept.
//
//   node bench/ab.mjs [--engine ours|ours2|ours8|ours8x2] [--rounds R] [--warmup N] [--runs N] DIST...
//
// DIST: a directory holding a build's modules (dist/, a build-wasm-simd/ ...): its mnv2-*.mjs,
// .wasm and worker files replace the repository's dist/ in a copy of the package. Needs
// bench/prepare.sh's input (npm run bench:ab runs it).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { eachArg } from './lib/args.mjs';
import { createOurs, parseEngine, prepareInput } from './lib/engines.mjs';
import { measure, median } from './lib/harness.mjs';
import { REPO, checkPrepared, readInputs } from './lib/node-io.mjs';

const SELF = fileURLToPath(import.meta.url);
const MODULE_FILE = /^mnv2-(simd|nosimd|simd-mt)\.(mjs|wasm|worker\.js)$/;

/** One build in this process: prints { medianMs } of `runs` timed runs after `warmup`. */
async function child(root, engine, warmup, runs) {
  const { precision, threads } = parseEngine(engine);
  const { load } = await import(pathToFileURL(path.join(root, 'web', 'node.js')).href);
  const data = await readInputs([engine]);
  const input = prepareInput(data.manifest, data.rgb);
  const e = await createOurs({ load, modelBytes: data.modelBytes, input, precision, threads });
  const [{ medianMs, label }] = await measure([e], { warmup, runs });
  e.dispose();
  process.stdout.write(`${JSON.stringify({ medianMs, label })}\n`);
}

/** A copy of the package whose dist/ holds the modules of `dist` (the repository's for the rest). */
function packageWith(dist, temp, i) {
  const modules = existsSync(dist) ? readdirSync(dist).filter((f) => MODULE_FILE.test(f)) : [];
  if (!modules.some((f) => f.endsWith('.wasm'))) throw new Error(`${dist}: no mnv2-*.wasm module`);
  const root = path.join(temp, `build${i}`);
  cpSync(path.join(REPO, 'web'), path.join(root, 'web'), { recursive: true });
  cpSync(path.join(REPO, 'dist'), path.join(root, 'dist'), { recursive: true });
  for (const f of modules) copyFileSync(path.join(dist, f), path.join(root, 'dist', f));
  copyFileSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
  return root;
}

async function main(argv) {
  if (argv[0] === '--child') return child(argv[1], argv[2], Number(argv[3]), Number(argv[4]));
  const a = { engine: 'ours', rounds: 9, warmup: 20, runs: 60, dists: [] };
  eachArg(argv, (arg, value) => {
    if (arg === '--engine') a.engine = value();
    else if (arg === '--rounds') a.rounds = Number(value());
    else if (arg === '--warmup') a.warmup = Number(value());
    else if (arg === '--runs') a.runs = Number(value());
    else if (arg.startsWith('--')) return false;
    else a.dists.push(path.resolve(arg));
    return true;
  });
  if (a.dists.length < 2) {
    throw new Error('usage: node bench/ab.mjs [--engine E] [--rounds R] [--warmup N] [--runs N] DIST_A DIST_B ...');
  }
  for (const k of ['rounds', 'warmup', 'runs']) {
    if (!Number.isInteger(a[k]) || a[k] < (k === 'warmup' ? 0 : 1)) throw new Error(`bad --${k}`);
  }
  if (parseEngine(a.engine).kind !== 'ours') {
    throw new Error(`--engine ${a.engine}: this package's engines only (ours, ours2, ours8, ours8x2)`);
  }
  checkPrepared([a.engine]);
  const temp = mkdtempSync(path.join(tmpdir(), 'mnv2-ab-'));
  try {
    const roots = a.dists.map((d, i) => packageWith(d, temp, i));
    const medians = roots.map(() => []);
    let label = '';
    for (let r = 0; r < a.rounds; r++) {
      const order = roots.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const i of order) {
        const out = spawnSync(process.execPath, [SELF, '--child', roots[i], a.engine, String(a.warmup), String(a.runs)],
          { encoding: 'utf8' });
        if (out.status !== 0) throw new Error(`${a.dists[i]}: ${out.stderr || `exit ${out.status}`}`);
        const result = JSON.parse(out.stdout.trim().split('\n').pop());
        medians[i].push(result.medianMs);
        label = result.label;
      }
      process.stderr.write(`ab: round ${r + 1}/${a.rounds}\n`);
    }
    console.log(`${label}: ${a.rounds} rounds of a fresh process per build ` +
      `(${a.warmup} warm-up, median of ${a.runs} runs each)`);
    a.dists.forEach((d, i) => {
      const ms = medians[i];
      const name = path.relative(process.cwd(), d) || '.';
      let line = `  ${name}: median ${median(ms).toFixed(2)} ms, min ${Math.min(...ms).toFixed(2)}`;
      if (i > 0) {
        const ratios = ms.map((m, r) => m / medians[0][r]);
        const faster = ratios.filter((x) => x < 1).length;
        line += `; / first: median ${median(ratios).toFixed(3)}, faster in ${faster} of ${a.rounds} rounds`;
      }
      console.log(line);
    });
    console.log(JSON.stringify({ engine: a.engine, builds: a.dists, roundMediansMs: medians }));
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
