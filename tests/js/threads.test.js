// load({ threads }): the threaded WebAssembly module (Emscripten pthreads; worker_threads under
// Node). Every block's rows are shared among the threads, so the scores are bitwise those of one
// thread; the option is checked, falls back to one thread without SIMD, and workers never keep
// a Node process alive. The model answers before its workers have loaded: it starts on one
// thread, the others join as their workers come up, and info.threads says how many run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  IMAGENET_MODELS, PHOTOS, REPO, argmax, assertMnv2Error, image, imageBytes, load, loadImagenet, rawRgb, sharedModel,
  threadsStarted,
} from './helpers.js';

const INPUTS = [...PHOTOS.slice(0, 4), 'bird.rgb'];
const input = (name) => (name.endsWith('.rgb') ? rawRgb(name) : imageBytes(name));

for (const { file } of IMAGENET_MODELS) {
  for (const precision of ['int8', 'fp32']) {
    describe(`${file}, ${precision}: 1, 2 and 3 threads`, () => {
      const models = {};
      before(async () => {
        for (const threads of [1, 2, 3]) models[threads] = await loadImagenet(file, { precision, threads });
        for (const threads of [2, 3]) await threadsStarted(models[threads], threads);
      });
      after(() => Object.values(models).forEach((m) => m.dispose()));

      test('info.threads is what was asked for; the rest of info is the same', () => {
        for (const threads of [1, 2, 3]) {
          assert.equal(models[threads].info.threads, threads);
          assert.equal(models[threads].info.target, 'WASM');
          const { threads: _a, ...rest } = models[threads].info;
          const { threads: _b, ...one } = models[1].info;
          assert.deepEqual(rest, one);
        }
      });

      for (const name of INPUTS) {
        test(`${name}: the same scores, bit for bit`, async () => {
          const [one, two, three] = await Promise.all([1, 2, 3].map((t) => models[t].scores(input(name))));
          assert.deepEqual(two, one);
          assert.deepEqual(three, one);
        });
      }
    });
  }
}

// Runs an ES module script in a fresh Node; killed after 30 s (code null) if it hangs.
async function runChild(script) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, out, err };
}

describe('threads option', () => {
  test('the default: the cores, at most 4', async () => {
    const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file) });
    try {
      await threadsStarted(model, Math.min(4, availableParallelism()));
    } finally {
      model.dispose();
    }
  });

  test('without SIMD there is one thread', async () => {
    const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file), simd: false, threads: 2 });
    try {
      assert.equal(model.info.threads, 1);
      assert.equal(model.info.target, 'EMU128');
    } finally {
      model.dispose();
    }
  });

  test('bad values are refused', async () => {
    for (const threads of [0, 9, 1.5, '2', null, -1]) {
      await assertMnv2Error(load({ model: sharedModel(IMAGENET_MODELS[0].file), threads }), 'E_INPUT_TYPE');
    }
  });

  test('calls issued together on a threaded model all resolve, in order', async () => {
    const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file), threads: 2 });
    try {
      const names = [...INPUTS, ...INPUTS];
      const results = await Promise.all(names.map((n) => model.scores(input(n))));
      for (let i = 0; i < INPUTS.length; i++) assert.deepEqual(results[i + INPUTS.length], results[i]);
      assert.ok(results.every((r) => r.length === 1001 && argmax(r) >= 0));
    } finally {
      model.dispose();
    }
  });

  test('loads and disposes of threaded models, over and over, before and after their threads have started', async () => {
    for (let i = 0; i < 12; i++) {
      const threads = 2 + (i % 3);
      const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file), threads });
      assert.ok(model.info.threads >= 1 && model.info.threads <= threads, `${model.info.threads} threads`);
      if (i % 2) await threadsStarted(model, threads);
      model.dispose();
      assert.ok(model.info.threads >= 1 && model.info.threads <= threads);
    }
  });

  test('answers at once, its threads joining as their workers load: info.threads rises to the count, scores unchanged', async () => {
    const one = await loadImagenet(IMAGENET_MODELS[0].file, { threads: 1 });
    const model = await loadImagenet(IMAGENET_MODELS[0].file, { threads: 3 });
    try {
      const seen = [model.info.threads];
      // Calls made at once, before any worker can have loaded: none waits for the workers.
      const first = await Promise.all(INPUTS.map((n) => model.scores(input(n))));
      seen.push(model.info.threads);
      await threadsStarted(model, 3);
      seen.push(model.info.threads);
      const later = await Promise.all(INPUTS.map((n) => model.scores(input(n))));
      const reference = await Promise.all(INPUTS.map((n) => one.scores(input(n))));
      assert.deepEqual(first, reference);
      assert.deepEqual(later, reference);
      assert.ok(seen.every((t, i) => t >= 1 && t <= 3 && (i === 0 || t >= seen[i - 1])), `threads seen: ${seen}`);
    } finally {
      one.dispose();
      model.dispose();
    }
  });

  test('calls alone let the threads start (no timers needed)', async () => {
    const model = await load({ model: sharedModel(IMAGENET_MODELS[0].file), threads: 2 });
    try {
      const pixels = rawRgb('bird.rgb');
      for (let i = 0; i < 500 && model.info.threads < 2; i++) await model.scores(pixels);
      assert.equal(model.info.threads, 2);
    } finally {
      model.dispose();
    }
  });

  test('a load that fails leaves no workers behind', async () => {
    // Each worker_thread holds about 10 MB: 15 failed loads that kept theirs would add 150 MB.
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 15; i++) {
      await assertMnv2Error(load({ model: sharedModel(IMAGENET_MODELS[0].file), threads: 2, limits: { maxModelBytes: 1000 } }),
        'E_MODEL_TOO_LARGE');
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const grown = (process.memoryUsage().rss - rss) / 1e6;
    assert.ok(grown < 75, `RSS grew by ${grown.toFixed(1)} MB`);
  });

  test('a threaded model disposed before its workers have loaded stops them; Node exits', async () => {
    const script = `import { load } from ${JSON.stringify(pathToFileURL(`${REPO}web/node.js`).href)};
      const model = await load({ model: ${JSON.stringify(sharedModel(IMAGENET_MODELS[0].file))}, threads: 4 });
      const threads = model.info.threads;
      model.dispose();
      console.log(threads >= 1 && threads <= 4 ? 'ok' : threads);`;
    const { code, out, err } = await runChild(script);
    assert.equal(code, 0, `exit code ${code} (killed after 30 s if null): ${err}`);
    assert.equal(out.trim(), 'ok');
  });

  test('a threaded model left undisposed does not keep Node running', async () => {
    const script = `import { load } from ${JSON.stringify(pathToFileURL(`${REPO}web/node.js`).href)};
      const model = await load({ model: ${JSON.stringify(sharedModel(IMAGENET_MODELS[0].file))}, threads: 2 });
      await model.classify(${JSON.stringify(image('cat.bmp'))});
      while (model.info.threads < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      console.log(model.info.threads);`;
    const { code, out, err } = await runChild(script);
    assert.equal(code, 0, `exit code ${code} (killed after 30 s if null): ${err}`);
    assert.equal(out.trim(), '2');
  });
});
