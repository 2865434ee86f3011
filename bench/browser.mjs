// The same benchmark in headless Chromium (npm run bench:browser): serves the repository with
// COOP/COEP headers (scripts/serve.js), opens bench/browser/ in Debian's /usr/bin/chromium through
// playwright-core (no browser download), and prints the same report and JSON line as bench/node.mjs.
//   node bench/browser.mjs [--warmup N] [--runs N] [--cold N] [--engines float|int8|ours,ours2,...] [--no-peak]
//                          [--browser chromium|firefox]
// Every browser gets a fresh user-data dir; each cold start runs in a browser of its own.
// --browser firefox: Debian's Firefox ESR through the browser tests' driver (tests/browser/engines.js),
// the timed runs only (no cold starts).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseEngineArgs } from './lib/args.mjs';
import { CHROMIUM, launch, openAndWait, startServer } from './lib/chromium.mjs';
import { engineSets } from './lib/engines.mjs';
import { median, peakReached, report } from './lib/harness.mjs';
import { checkPrepared, files, wasmSizes } from './lib/node-io.mjs';

const SETS = engineSets({ node: false, relaxed: true });  // Chromium runs relaxed SIMD
const log = (s) => process.stderr.write(`${s}\n`);

// --browser NAME: taken out before the engine arguments.
const argv = process.argv.slice(2);
const at = argv.indexOf('--browser');
const browserName = at >= 0 ? argv.splice(at, 2)[1] : 'chromium';
if (!['chromium', 'firefox'].includes(browserName)) throw new Error(`--browser chromium or firefox, not ${browserName}`);
const args = parseEngineArgs(argv, { ...SETS, cold: browserName === 'firefox' ? 0 : 7 });
if (browserName === 'firefox' && args.cold > 0) throw new Error('--browser firefox measures no cold starts (--cold 0)');
const loadavgAtStart = os.loadavg();
checkPrepared(args.engines);
const { chromium } = await import('playwright-core');
const server = await startServer();
let exitCode = 0;
try {
  const query = new URLSearchParams({ engines: args.engines.join(','), warmup: args.warmup, runs: args.runs, peak: args.peak ? '1' : '0' });
  const url = `${server.url}/bench/browser/?${query}`;
  log(`bench: ${url} in ${browserName === 'firefox' ? 'Firefox ESR' : CHROMIUM}`);
  let bench;
  let ua;
  if (browserName === 'firefox') {
    ({ result: bench, ua } = await inFirefox(url));
  } else {
    const browser = await launch(chromium);
    try {
      ({ result: bench, ua } = await openAndWait(browser.context, url, 'benchResult', { echo: true }));
    } finally {
      await browser.close();
    }
  }
  if (!bench.crossOriginIsolated) log('bench: warning: the page is not cross-origin isolated (no threads for onnxruntime-web, tfjs-tflite, ours)');

  let coldStart;
  if (args.cold > 0) {
    log(`bench: cold starts, ${args.cold} fresh browsers per engine`);
    const samples = Object.fromEntries(args.engines.map((n) => [n, []]));
    for (let r = 0; r < args.cold; r++) {
      for (const n of args.engines) {
        const b = await launch(chromium);
        try {
          const { result } = await openAndWait(b.context, `${server.url}/bench/browser/?mode=cold&engine=${n}`, 'coldResult');
          samples[n].push(result.ms);
        } finally {
          await b.close();
        }
      }
    }
    const engines = {};
    for (const n of args.engines) {
      engines[n] = { medianMs: median(samples[n]), minMs: Math.min(...samples[n]), samplesMs: samples[n].map((t) => Math.round(t * 10) / 10) };
    }
    coldStart = {
      how: 'fresh browser and user-data dir each, files served over localhost with an empty HTTP cache: import of the engine to its first result, model bytes already in memory',
      repeats: args.cold,
      engines,
    };
  }

  const labels = (await readFile(files.labels, 'utf8')).split('\n');
  const chromiumVersion = /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? '?';
  const runtime = browserName === 'firefox' ? `headless Firefox ${/Firefox\/([\d.]+)/.exec(ua)?.[1] ?? '?'}` : `headless Chromium ${chromiumVersion} (${CHROMIUM})`;
  const full = {
    bench: 'mobilenetv2-wasm issues 5 and 6',
    env: {
      runtime: `${runtime}${bench.crossOriginIsolated ? ', cross-origin isolated' : ''}`,
      userAgent: bench.userAgent,
      cpu: os.cpus()[0]?.model ?? '?',
      cores: bench.cores,
      platform: `${os.platform()} ${os.arch()}`,
      loadavgAtStart,
      loadavgAtEnd: os.loadavg(),
    },
    network: {
      source: bench.manifest.source,
      family: bench.manifest.family,
      weightType: bench.manifest.weight_type,
      alpha: bench.manifest.alpha,
      inputSize: bench.manifest.input.height,
      multiplyAdds: bench.multiplyAdds,
      image: path.basename(JSON.parse(await readFile(files.config, 'utf8')).image),
    },
    config: bench.config,
    engines: bench.engines,
    ratios: bench.ratios,
    agreement: bench.agreement,
    coldStart,
    wasmSize: await wasmSizes(args.engines, { browser: true }),
    peak: peakReached(bench.peak, bench.engines, bench.multiplyAdds),
    labels,
  };
  for (const line of report(full)) console.log(line);
  delete full.labels;
  console.log(JSON.stringify(full));
} catch (e) {
  console.error(`bench:browser: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  await server.close();
}
process.exit(exitCode);

// The bench page in Firefox ESR: its result (window.benchResult) and user agent.
async function inFirefox(url) {
  const { launchEngine } = await import('../tests/browser/engines.js');
  const browser = await launchEngine('firefox');
  try {
    const page = await browser.newPage({ width: 1000, height: 700 });
    await page.goto(url);
    const done = await page.waitFor(() => (window.benchResult || window.benchError ? { result: window.benchResult, error: window.benchError } : null),
      null, { timeout: 30 * 60_000, interval: 1000, what: 'the bench page' });
    if (done.error) throw new Error(`in the page: ${done.error}`);
    return { result: done.result, ua: await page.evaluate(() => navigator.userAgent) };
  } finally {
    await browser.close();
  }
}
