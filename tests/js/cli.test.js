// bin/cli.js as a user runs it, and against the native tool (build/mnv2) on the same flags.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IMAGENET_LABELS, IMAGENET_MODELS, image, PHOTOS, REPO, run, sharedModel } from './helpers.js';

const CLI = join(REPO, 'bin', 'cli.js');
const NATIVE = join(REPO, 'build', 'mnv2');

const cli = (...args) => run(process.execPath, [CLI, 'classify', ...args]);

// stdout of --json: one object per line.
function jsonLines(stdout) {
  assert.ok(stdout.endsWith('\n'), 'output ends with a line break');
  return stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
}

describe('mobilenetv2-wasm info', () => {
  const info = (...args) => run(process.execPath, [CLI, 'info', ...args]);

  test('a MobileNetV1 file: its family, alpha, input size, cost; --json is model.info', async () => {
    const model = sharedModel('mobilenet_v1_0.5_160_quant.tflite');
    const text = await info('--model', model);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^family +mobilenet_v1$/m);
    assert.match(text.stdout, /^alpha +0\.5$/m);
    assert.match(text.stdout, /^input +160x160$/m);
    assert.match(text.stdout, /^multiply-adds +76\.5 M$/m);
    assert.match(text.stdout, /^parameters +1\.33 M$/m);
    const json = await info('--model', model, '--json');
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.deepEqual([parsed.family, parsed.alpha, parsed.inputSize.width, parsed.numClasses], ['mobilenet_v1', 0.5, 160, 1001]);
    // The bundled model by default; an image is a usage error.
    assert.match((await info()).stdout, /^family +mobilenet_v2$/m);
    assert.equal((await info(image('cat.bmp'))).code, 2);
  });
});

describe('mobilenetv2-wasm classify', () => {
  test('--json on two photos: one line each with image, top and ms', async () => {
    const { code, stdout, stderr } = await cli('--json', image('cat.bmp'), image('bird.bmp'));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const lines = jsonLines(stdout);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines.map((l) => l.image), [image('cat.bmp'), image('bird.bmp')]);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line), ['image', 'top', 'ms']);
      assert.equal(line.top.length, 5);
      assert.ok(line.ms > 0);
      for (const p of line.top) assert.deepEqual(Object.keys(p), ['index', 'label', 'score']);
    }
    assert.deepEqual([lines[0].top[0].index, lines[0].top[0].label], [286, 'Egyptian cat']);
    assert.equal(lines[1].top[0].label, 'chickadee');
  });

  test('text output: the image, then one line per class', async () => {
    const { code, stdout } = await cli('--top', '3', image('cat.bmp'));
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /cat\.bmp {2}\(\d+\.\d\d ms\)$/);
    assert.match(lines[1], /^ {2}0\.\d{4} {3}286 {2}Egyptian cat$/);
  });

  test('a bad image: a message on stderr, a non-zero exit code, the good image still classified', async () => {
    const { code, stdout, stderr } = await cli('--json', image('COPYRIGHT'), image('cat.bmp'));
    assert.notEqual(code, 0);
    assert.match(stderr, /COPYRIGHT: E_IMAGE_DECODE: unrecognized image format/);
    const lines = jsonLines(stdout);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].top[0].label, 'Egyptian cat');
  });

  test('a missing image: E_IO on stderr, non-zero exit', async () => {
    const { code, stderr } = await cli(image('no-such-photo.jpg'));
    assert.notEqual(code, 0);
    assert.match(stderr, /no-such-photo\.jpg: E_IO: /);
  });

  test('--raw 224x224 on bird.rgb', async () => {
    const { code, stdout, stderr } = await cli('--json', '--raw', '224x224', image('bird.rgb'));
    assert.equal(code, 0, stderr);
    const [line] = jsonLines(stdout);
    assert.deepEqual([line.top[0].index, line.top[0].label], [20, 'chickadee']);
  });

  test('--raw with a size that does not match the file (even one that would fit RGBA): E_INVALID_ARGUMENT', async () => {
    for (const size of ['100x100', '168x224']) {
      const { code, stdout, stderr } = await cli('--json', '--raw', size, image('bird.rgb'));
      assert.notEqual(code, 0, size);
      assert.equal(stdout, '');
      assert.match(stderr, /bird\.rgb: E_INVALID_ARGUMENT: raw image holds 150528 bytes/);
    }
  });

  test('bad usage: exit code 2 and the usage text', async () => {
    for (const args of [[], ['--top', '0', 'x.jpg'], ['--raw', '224', 'x.rgb'], ['--bogus', 'x.jpg']]) {
      const { code, stderr } = await cli(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /^mobilenetv2-wasm: .+\nusage: /);
    }
  });

  test('a model that does not load: its code on stderr, non-zero exit', async () => {
    const { code, stderr } = await cli('--model', image('cat.bmp'), image('cat.bmp'));
    assert.notEqual(code, 0);
    assert.match(stderr, /E_MODEL_FORMAT/);
  });
});

describe('the same answers as the native tool', { skip: !existsSync(NATIVE) && `${NATIVE} does not exist (build it with scripts/build.sh)` }, () => {
  const photos = PHOTOS.map(image);
  const runs = [];
  for (const { file } of IMAGENET_MODELS) {
    const common = ['--json', '--model', sharedModel(file), '--labels', IMAGENET_LABELS];
    runs.push([`${file}, all photos`, [...common, ...photos]]);
    runs.push([`${file}, all photos, --crop`, [...common, '--crop', ...photos]]);
    runs.push([`${file}, --raw 224x224`, [...common, '--raw', '224x224', image('bird.rgb'), image('sunflower.rgb')]]);
  }
  for (const [what, args] of runs) {
    test(what, async () => {
      const [wasm, native] = await Promise.all([cli(...args), run(NATIVE, ['classify', ...args])]);
      assert.equal(wasm.code, 0, wasm.stderr);
      assert.equal(native.code, 0, native.stderr);
      const a = jsonLines(wasm.stdout);
      const b = jsonLines(native.stdout);
      assert.deepEqual(a.map((l) => l.image), b.map((l) => l.image));
      for (let i = 0; i < a.length; i++) {
        assert.deepEqual(a[i].top.map((p) => [p.index, p.label]), b[i].top.map((p) => [p.index, p.label]), a[i].image);
        for (let j = 0; j < a[i].top.length; j++) assert.ok(Math.abs(a[i].top[j].score - b[i].top[j].score) <= 2e-4);
      }
    });
  }

  test('both refuse a --raw size that does not match the file', async () => {
    const args = ['--model', sharedModel(IMAGENET_MODELS[0].file), '--raw', '168x224', image('bird.rgb')];
    const [wasm, native] = await Promise.all([cli(...args), run(NATIVE, ['classify', ...args])]);
    assert.equal(native.code, 1);
    assert.equal(wasm.code, 1);
    assert.match(native.stderr, /E_INVALID_ARGUMENT/);
    assert.match(wasm.stderr, /E_INVALID_ARGUMENT/);
  });
});
