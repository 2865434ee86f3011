// Node: the benchmark pages in headless Chromium (bench/browser.mjs, bench/learner.mjs --browser):
// the project's static server and fresh browsers driven through playwright-core (the installed
// /usr/bin/chromium; no browser is ever downloaded).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './node-io.mjs';

export const CHROMIUM = process.env.MNV2_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TIMEOUT_MS = 30 * 60 * 1000;

const log = (s) => process.stderr.write(`${s}\n`);

/**
 * The project's static server (scripts/serve.js: COOP/COEP headers, application/wasm) on the
 * repository. `samplesDir`: the folder served at /samples/ (null: none); `modelsDir`: the folder
 * served at /sample-models/ (null: none).
 */
export async function startServer({ samplesDir = null, modelsDir = null } = {}) {
  const { start } = await import(pathToFileURL(path.join(REPO, 'scripts', 'serve.js')).href);
  return start({ root: REPO, samplesDir, modelsDir, index: null });
}

/** A fresh browser with a fresh user-data dir; the caller closes it. */
export async function launch(chromium) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mnv2-bench-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    version: context.browser()?.version() ?? null,
    close: async () => {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` and waits until the page sets window[key] (its result) or window.benchError.
 * `echo`: the page's console lines that start with 'bench: ' go to stderr.
 */
export async function openAndWait(context, url, key, { echo = false } = {}) {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (echo && m.text().startsWith('bench: ')) log(m.text());
    else if (m.type() === 'error') log(`page: ${m.text()}`);
  });
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction((k) => window[k] !== undefined || window.benchError !== undefined, key, { timeout: TIMEOUT_MS, polling: 250 });
  const { result, error, ua } = await page.evaluate((k) => ({ result: window[k], error: window.benchError, ua: navigator.userAgent }), key);
  if (error) throw new Error(`in the page: ${error}`);
  return { result, ua };
}

/**
 * The whole of a benchmark page's run (bench/learner.mjs, bench/segment.mjs --browser): the
 * project's server (`server`: startServer's options), a fresh Chromium on `page` (a path and query
 * under the repository), its result (window[key]) and what it ran on.
 */
export async function runPage({ server: serverOptions, page, key }) {
  const { chromium } = await import('playwright-core');
  const server = await startServer(serverOptions);
  try {
    const url = `${server.url}${page}`;
    log(`bench: ${url} in ${CHROMIUM}`);
    const b = await launch(chromium);
    try {
      const { result, ua } = await openAndWait(b.context, url, key, { echo: true });
      const runtime = `headless Chromium ${/Chrome\/([\d.]+)/.exec(ua)?.[1] ?? '?'} (${CHROMIUM})` +
        `${result.crossOriginIsolated ? ', cross-origin isolated' : ''}`;
      return { result, runtime, cores: result.cores };
    } finally {
      await b.close();
    }
  } finally {
    await server.close();
  }
}
