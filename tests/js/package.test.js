// The package as users get it: `npm pack`, install the tarball into a fresh project, import
// it by name and classify with the bundled model.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { image, REPO, run } from './helpers.js';

// A user's script: imports the package by name, loads the default model, classifies argv[2].
const USER_SCRIPT = `import { load } from 'mobilenetv2-wasm';
const model = await load();
const top = await model.classify(process.argv[2]);
const learner = model.createClassifier();  // its own module, found in the installed package
await learner.addExample(process.argv[2], 'this photo');
await learner.addEmbedding(new Float32Array(model.info.featureSize).fill(1), 'flat');
const learned = await learner.classify(process.argv[2]);
console.log(JSON.stringify({ resolved: import.meta.resolve('mobilenetv2-wasm'), info: model.info, top, learned }));
model.dispose();
`;

async function npm(args, cwd) {
  const result = await run('npm', args, { cwd, timeout: 60_000 });
  assert.equal(result.code, 0, `npm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('npm pack, then install into a fresh project', { timeout: 60_000 }, () => {
  let temp;
  let tarball;
  let project;
  before(async () => {
    temp = realpathSync(mkdtempSync(join(tmpdir(), 'mnv2-package-')));
    const [packed] = JSON.parse(await npm(['pack', REPO, '--pack-destination', temp, '--json'], temp));
    tarball = join(temp, packed.filename);
    project = join(temp, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    writeFileSync(join(project, 'classify.js'), USER_SCRIPT);
    await npm(['install', tarball, '--no-audit', '--no-fund'], project);
  });
  after(() => {
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  test('the tarball holds the module, models and types, and nothing from tests/ or src/', async () => {
    const { code, stdout, stderr } = await run('tar', ['-tzf', tarball]);
    assert.equal(code, 0, stderr);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const wanted of [
      'package.json', 'README.md', 'bin/cli.js',
      'web/core.js', 'web/common.js', 'web/classifier.js', 'web/node.js', 'web/browser.js', 'web/index.d.ts',
      'dist/mnv2-simd.mjs', 'dist/mnv2-simd.wasm', 'dist/mnv2-nosimd.mjs', 'dist/mnv2-nosimd.wasm',
      'dist/mnv2-learner-simd.mjs', 'dist/mnv2-learner-simd.wasm', 'dist/mnv2-learner-nosimd.mjs', 'dist/mnv2-learner-nosimd.wasm',
      'dist/mnv2-relaxed.mjs', 'dist/mnv2-relaxed.wasm', 'dist/mnv2-relaxed-mt.mjs', 'dist/mnv2-relaxed-mt.wasm', 'dist/mnv2-relaxed-mt.worker.js',
      'models/mobilenet_v2_1.0_224_quant.tflite', 'models/imagenet_labels.txt', 'models/LICENSE',
    ]) {
      assert.ok(files.includes(wanted), `${wanted} is missing from the tarball`);
    }
    const unwanted = files.filter((f) => /^(tests|src|build[^/]*|wasm|scripts)\//.test(f) || f.endsWith('.tgz'));
    assert.deepEqual(unwanted, []);
  });

  test('import by name, load() the bundled model, classify cat.bmp, learn a class', async () => {
    const { code, stdout, stderr } = await run(process.execPath, ['classify.js', image('cat.bmp')], { cwd: project });
    assert.equal(code, 0, stderr);
    const { resolved, info, top, learned } = JSON.parse(stdout);
    // The installed copy, not the repository.
    assert.equal(resolved, pathToFileURL(join(project, 'node_modules', 'mobilenetv2-wasm', 'web', 'node.js')).href);
    assert.equal(info.simd, true);
    assert.equal(info.labels, true);
    assert.deepEqual([top[0].index, top[0].label], [286, 'Egyptian cat']);
    assert.deepEqual(learned.map((p) => p.label), ['this photo', 'flat']);
  });

  test('the installed command runs', async () => {
    const bin = join(project, 'node_modules', '.bin', 'mobilenetv2-wasm');
    const { code, stdout, stderr } = await run(bin, ['classify', '--json', image('cat.bmp')], { cwd: project });
    assert.equal(code, 0, stderr);
    assert.equal(JSON.parse(stdout).top[0].label, 'Egyptian cat');
  });

  test('sizes of the WebAssembly modules', (t) => {
    const dist = join(project, 'node_modules', 'mobilenetv2-wasm', 'dist');
    const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm')).sort();
    assert.deepEqual(wasm, ['mnv2-learner-nosimd.wasm', 'mnv2-learner-simd.wasm', 'mnv2-nosimd.wasm', 'mnv2-relaxed-mt.wasm',
      'mnv2-relaxed.wasm', 'mnv2-simd-mt.wasm', 'mnv2-simd.wasm']);
    // The threaded modules' worker scripts, CommonJS under Node.
    assert.ok(existsSync(join(dist, 'mnv2-simd-mt.worker.js')));
    assert.ok(existsSync(join(dist, 'mnv2-relaxed-mt.worker.js')));
    assert.equal(JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8')).type, 'commonjs');
    for (const file of wasm) {
      const bytes = readFileSync(join(dist, file));
      const gzip = gzipSync(bytes, { level: 9 }).length;
      t.diagnostic(`${file}: ${(bytes.length / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip`);
      assert.ok(gzip < bytes.length);
    }
    // Issue 5's goal, image decoding included, checked on every build: a change once took the
    // module 237 bytes past it while the README still gave the size before it. Issue 20 took it
    // 221 bytes past 250,000: reading back an exported learned head (its labels in the file's
    // metadata, DEQUANTIZE and L2_NORMALIZATION before a float classifier on the int8 engine).
    // The learner and the exporter themselves are in the learner module, loaded only by pages
    // that learn classes. Issue 22 added segmentation (DeepLabv3: its graph, the atrous blocks, its
    // head in both engines, the fused resize and argmax, masks and overlays): 24 KB, in the module
    // every page loads (a model's task is known only once its file is read).
    const simd = readFileSync(join(dist, 'mnv2-simd.wasm')).length;
    assert.ok(simd <= 275_000, `mnv2-simd.wasm is ${simd} bytes, over the 275,000 bytes of classification and segmentation`);
    // The relaxed SIMD build (issue 23's goal: 260,000 bytes): the SIMD module's code and the
    // relaxed kernels (6 KB), the import names kept for the merge, without the TF.js reader (68
    // KB): TF.js models load the SIMD build.
    const relaxed = readFileSync(join(dist, 'mnv2-relaxed.wasm')).length;
    assert.ok(relaxed <= 260_000, `mnv2-relaxed.wasm is ${relaxed} bytes, over issue 23's 260,000`);
    const learner = readFileSync(join(dist, 'mnv2-learner-simd.wasm')).length;
    assert.ok(learner <= 170_000, `mnv2-learner-simd.wasm is ${learner} bytes`);
  });
});
