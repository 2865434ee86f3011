// As a web app developer: `npm pack` this package, install the tarball and Vite into a fresh
// app in a temporary folder, `vite build` it with no configuration, serve the output and
// classify a photo on the page and in a Web Worker. Then the Vite dev server, which needs one
// line of configuration (optimizeDeps.exclude; see README). Built once; the app is then opened
// in every engine (eachEngine), which costs a few seconds each.
// Needs the npm registry (Vite is installed from it; MNV2_VITE_VERSION picks the version).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, checkPrerequisites, eachEngine, start, withPage } from './helpers.js';

const VITE_VERSION = process.env.MNV2_VITE_VERSION || '7.3.8';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mnv2-vite-'));
const app = path.join(tmp, 'app');
const servers = [];
let built; // the server of vite build's output
let dev; // { url, stop() }: the Vite dev server

// `npm run test:browser` passes npm_* variables (npm_config_local_prefix, ...) that would make
// the npm run here act on this repository instead of the app.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function run(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const APP_FILES = {
  'index.html': `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>my app</title><link rel="icon" href="data:,"></head>
<body>
  <pre id="page" data-state="loading">loading</pre>
  <pre id="worker" data-state="loading">loading</pre>
  <script type="module" src="/main.js"></script>
</body>
</html>
`,
  // The page: the package's default model, a photo's bytes.
  'main.js': `import { load } from 'mobilenetv2-wasm';

function show(id, value, state) {
  const el = document.getElementById(id);
  el.textContent = JSON.stringify(value);
  el.dataset.state = state;
}

async function photo() {
  const response = await fetch('/samples/cat.bmp');
  return new Uint8Array(await response.arrayBuffer());
}

load()
  .then(async (model) => show('page', { info: model.info, top: await model.classify(await photo()) }, 'done'))
  .catch((e) => show('page', { code: e.code, message: e.message }, 'error'));

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = ({ data }) => show('worker', data, data.code ? 'error' : 'done');
worker.onerror = (e) => show('worker', { code: 'worker', message: e.message }, 'error');
photo().then((bytes) => worker.postMessage(bytes, [bytes.buffer]));
`,
  // The worker: the same package, an ImageBitmap decoded by the browser.
  'worker.js': `import { load } from 'mobilenetv2-wasm';

const model = load();
self.onmessage = async ({ data }) => {
  try {
    const m = await model;
    const bitmap = await createImageBitmap(new Blob([data]));
    postMessage({ info: m.info, top: await m.classify(bitmap) });
  } catch (e) {
    postMessage({ code: e.code ?? 'error', message: e.message });
  }
};
`,
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  checkPrerequisites();
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], REPO));
  const tarball = path.join(tmp, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  for (const f of ['web/browser.js', 'web/core.js', 'dist/mnv2-simd.wasm', 'dist/mnv2-nosimd.mjs', 'models/mobilenet_v2_1.0_224_quant.tflite']) {
    assert.ok(files.includes(f), `the package lacks ${f}`);
  }
  assert.ok(!files.some((f) => f.startsWith('web/demo/') || f.startsWith('tests/')), 'the demo and tests are not packed');

  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({
    name: 'my-app',
    private: true,
    type: 'module',
    scripts: { build: 'vite build', dev: 'vite' },
    dependencies: { 'mobilenetv2-wasm': `file:${tarball}` },
    devDependencies: { vite: VITE_VERSION },
  }, null, 2)}\n`);
  for (const [name, text] of Object.entries(APP_FILES)) writeFileSync(path.join(app, name), text);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
});

after(async () => {
  await dev?.stop();
  for (const s of servers) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

function classifyInApp(browser, url) {
  return withPage(browser, {}, async (page) => {
    await page.goto(url);
    await page.waitForSelector('#page:not([data-state="loading"])');
    await page.waitForSelector('#worker:not([data-state="loading"])');
    const result = await page.evaluate(() => ({
      page: JSON.parse(document.querySelector('#page').textContent),
      worker: JSON.parse(document.querySelector('#worker').textContent),
    }));
    assert.deepEqual(await page.errors(), []);
    assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    return result;
  });
}

function checkResults({ page, worker }) {
  assert.equal(page.code, undefined, `on the page: ${page.code}: ${page.message}`);
  assert.equal(page.info.simd, true);
  assert.equal(page.top[0].label, 'Egyptian cat');
  assert.equal(page.top[0].index, 286);
  assert.equal(worker.code, undefined, `in the worker: ${worker.code}: ${worker.message}`);
  assert.equal(worker.top[0].label, 'Egyptian cat');
}

test(`vite build (Vite ${VITE_VERSION}, no configuration): the bundle finds the .wasm files and the model`, async () => {
  run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], app);
  const assets = readdirSync(path.join(app, 'dist', 'assets'));
  for (const pattern of [/^mnv2-simd-.*\.wasm$/, /^mnv2-nosimd-.*\.wasm$/, /^mobilenet_v2_1\.0_224_quant-.*\.tflite$/, /^imagenet_labels-.*\.txt$/, /^worker-.*\.js$/]) {
    assert.ok(assets.some((a) => pattern.test(a)), `no ${pattern} in dist/assets: ${assets}`);
  }
  built = await start({ port: 0, root: path.join(app, 'dist') });
  servers.push(built);
});

test('vite dev server, with optimizeDeps.exclude, starts', async () => {
  // Pre-bundling would move web/core.js into node_modules/.vite/deps/, away from ../dist and ../models.
  const samples = await start({ port: 0, root: tmp });
  servers.push(samples);
  writeFileSync(path.join(app, 'vite.config.js'), `export default {
  optimizeDeps: { exclude: ['mobilenetv2-wasm'] },
  server: { proxy: { '/samples': '${samples.url}' } },
};
`);
  const port = await freePort();
  const vite = spawn(process.execPath, ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  vite.stdout.on('data', (chunk) => { output += chunk; });
  vite.stderr.on('data', (chunk) => { output += chunk; });
  dev = {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      if (vite.exitCode !== null || vite.signalCode !== null) return;
      const exited = new Promise((resolve) => vite.once('exit', resolve));
      vite.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (vite.exitCode === null && vite.signalCode === null) vite.kill('SIGKILL');
    },
  };
  // Ready when it answers (its banner is colored differently from one terminal to another).
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.equal(vite.exitCode, null, `vite exited (${vite.exitCode}):\n${output}`);
    assert.ok(Date.now() < deadline, `vite did not start:\n${output}`);
    try {
      if ((await fetch(dev.url)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

eachEngine('the Vite app', (ctx) => {
  test('built: classifies on the page and in a Web Worker', async () => {
    assert.ok(built, 'vite build failed');
    checkResults(await classifyInApp(ctx.browser, `${built.url}/`));
  });

  test('dev server: classifies on the page and in a Web Worker', async () => {
    assert.ok(dev, 'the dev server did not start');
    checkResults(await classifyInApp(ctx.browser, dev.url));
  });
});
