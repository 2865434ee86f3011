// model.segment() on the real DeepLabv3 files: against the reference mask, against TFLite's own
// runtime (tfjs-tflite) on the same file and pixels, across builds and threads; the overlay, the
// RGBA layer, the wrong-task errors and both CLIs' segment command.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { maskToImageData } from '../../web/node.js';
import { withTflite } from '../../bench/lib/node-io.mjs';
import { flatbuffer } from './flatbuffer.js';
import { assertMnv2Error, image, imageBytes, load, REPO, run, sharedModel, threadsStarted } from './helpers.js';

/** An Mnv2Error of `code` whose message matches `pattern`. */
async function expectError(promise, code, pattern) {
  let message = '';
  await assertMnv2Error(promise.catch((e) => {
    message = e.message;
    throw e;
  }), code);
  assert.match(message, pattern);
}

const MODELS = {
  half: sharedModel('deeplabv3_mnv2_dm05_pascal_quant.tflite'),
  full: sharedModel('deeplabv3_mnv2_pascal_quant.tflite'),
};
const LABELS = sharedModel('pascal_voc_segmentation_labels.txt');
const BIRD = 3;

/** An uncompressed BMP (24-bit or 8-bit palette, bottom-up) as rows of pixels: RGB, or palette indices. */
function readBmp(name) {
  const b = imageBytes(name);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const offset = v.getUint32(10, true), width = v.getInt32(18, true), height = v.getInt32(22, true);
  const bits = v.getUint16(28, true), channels = bits / 8, stride = Math.ceil((width * channels) / 4) * 4;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = b[row + x * channels + (channels === 3 ? 2 - c : c)];
    }
  }
  return { data: out, width, height };
}

const PHOTO = readBmp('bird_segmentation.bmp');
const REFERENCE = readBmp('bird_segmentation_mask.bmp').data;

function iou(a, b, c) {
  let both = 0, either = 0;
  for (let i = 0; i < a.length; i++) {
    both += a[i] === c && b[i] === c;
    either += a[i] === c || b[i] === c;
  }
  return both / either;
}
const equalShare = (a, b) => a.reduce((n, v, i) => n + (v === b[i]), 0) / a.length;

/**
 * TFLite's own mask: tfjs-tflite cannot hand back the int64 ARG_MAX output, so the file's graph
 * output is pointed at the ARG_MAX's input (the logits resized to 513x513, uint8) and the argmax
 * (the first largest) is taken here.
 */
async function tfliteMask(file) {
  const bytes = new Uint8Array(readFileSync(file));
  // Model.subgraphs[0].outputs (field 2 of the subgraph).
  const fb = flatbuffer(bytes);
  const outputs = fb.vector(fb.subgraph, 2);
  assert.equal(outputs.length, 1, 'one graph output');
  // The tensor before the ARG_MAX's output: the resized logits (checked by their shape below).
  fb.view.setUint32(outputs.at(0), fb.view.getUint32(outputs.at(0), true) - 1, true);
  return withTflite(async ({ tflite }) => {
    const model = await tflite.loadTFLiteModel(bytes.buffer, { numThreads: 1 });
    const runner = model.modelRunner;
    const [input] = runner.getInputs();
    const [output] = runner.getOutputs();
    assert.equal(output.shape, '1,513,513,21', 'the patched output is the resized logits');
    input.data().set(PHOTO.data);
    assert.ok(runner.infer());
    const logits = output.data();
    const mask = new Uint8Array(513 * 513);
    for (let p = 0; p < mask.length; p++) {
      let best = 0;
      for (let c = 1; c < 21; c++) if (logits[p * 21 + c] > logits[p * 21 + best]) best = c;
      mask[p] = best;
    }
    runner.cleanUp?.();
    return mask;
  });
}

describe('model.segment on DeepLabv3', () => {
  for (const [name, file] of Object.entries(MODELS)) {
    test(`${name} width: the reference mask, TFLite's own runtime, every build and thread count`, async () => {
      const model = await load({ model: file, labels: LABELS, threads: 1 });
      assert.equal(model.info.task, 'segmentation');
      assert.equal(model.info.numClasses, 21);
      const memory = model.memoryUsage();
      assert.ok(memory.activationBytes * 3 < memory.layerByLayerBytes, JSON.stringify(memory));
      const r = await model.segment(PHOTO);
      assert.deepEqual([r.width, r.height, r.mask.length], [513, 513, 513 * 513]);
      assert.equal(r.labels[BIRD], 'bird');
      assert.deepEqual(r.classes.slice(0, 2).map((c) => c.label), ['background', 'bird']);
      assert.equal(r.classes.reduce((n, c) => n + c.pixels, 0), r.mask.length);
      // Against the annotation: TFLite itself measures bird IoU 0.819 / 0.905, background 0.973 /
      // 0.978, 96.1% / 97.9% of the pixels equal (tests/cpp/engine_segmentation_test.cc).
      const bird = iou(r.mask, REFERENCE, BIRD), equal = equalShare(r.mask, REFERENCE);
      assert.ok(bird >= (name === 'half' ? 0.83 : 0.9), `bird IoU ${bird}`);
      assert.ok(equal >= (name === 'half' ? 0.96 : 0.975), `equal ${equal}`);
      // Against TFLite's runtime on the same file and pixels: the logits differ by a rounding
      // step at most, which moves a few pixels next to class borders.
      const theirs = await tfliteMask(file);
      assert.ok(equalShare(r.mask, theirs) >= 0.99, `equal to TFLite's ${equalShare(r.mask, theirs)}`);
      assert.ok(iou(r.mask, theirs, BIRD) >= 0.95, `bird IoU against TFLite's ${iou(r.mask, theirs, BIRD)}`);
      model.dispose();
      // The build without SIMD, and two threads: the same bytes.
      for (const options of [{ simd: false, threads: 1 }, { threads: 2 }]) {
        const other = await load({ model: file, ...options });
        if (options.threads === 2) await threadsStarted(other, 2);
        const o = await other.segment(PHOTO);
        assert.deepEqual(o.mask, r.mask, JSON.stringify(options));
        other.dispose();
      }
    });
  }

  test('photos of any size: the mask at the photo\'s size, its subject, the crop box, the overlay', async () => {
    const model = await load({ model: MODELS.half, labels: LABELS });
    for (const [photo, subject] of [['cat.bmp', 'cat'], ['grace_hopper.bmp', 'person'], ['bird.bmp', 'bird']]) {
      const r = await model.segment(image(photo), { overlay: 0.5 });
      const { width, height } = readBmp(photo);
      assert.deepEqual([r.width, r.height, r.mask.length], [width, height, width * height], photo);
      assert.equal(r.classes.find((c) => c.index !== 0).label, subject, photo);
      assert.equal(r.overlay.length, width * height * 3);
      // The overlay is the photo where the class is 0 and changed where it is not.
      const rgb = readBmp(photo).data;
      let kept = 0, changed = 0, background = 0;
      for (let i = 0; i < r.mask.length; i++) {
        const same = rgb[3 * i] === r.overlay[3 * i] && rgb[3 * i + 1] === r.overlay[3 * i + 1] && rgb[3 * i + 2] === r.overlay[3 * i + 2];
        if (r.mask[i] === 0) {
          background++;
          kept += same;
        } else {
          changed += !same;
        }
      }
      assert.equal(kept, background, `${photo}: the background is untouched`);
      assert.ok(changed > (r.mask.length - background) * 0.9, `${photo}: the classes are colored`);
      // The crop box: outside it the model saw nothing (class 0).
      const c = await model.segment(image(photo), { crop: true });
      const side = Math.min(width, height), x0 = Math.floor((width - side) / 2), y0 = Math.floor((height - side) / 2);
      for (let y = 0; y < height; y += 5) {
        for (let x = 0; x < width; x += 5) {
          if (x < x0 || x >= x0 + side || y < y0 || y >= y0 + side) assert.equal(c.mask[y * width + x], 0, `${photo} ${x},${y}`);
        }
      }
      assert.equal(c.classes.find((k) => k.index !== 0).label, subject, `${photo} cropped`);
    }
    model.dispose();
  });

  test('maskToImageData: each class in its color at the opacity, the background transparent', async () => {
    const model = await load({ model: MODELS.half });
    const r = await model.segment(image('cat.bmp'));
    const img = maskToImageData(r, { opacity: 0.5 });
    assert.deepEqual([img.width, img.height, img.data.length], [r.width, r.height, r.width * r.height * 4]);
    const cat = r.classes.find((c) => c.index === 8);
    assert.deepEqual(cat.color, [64, 0, 0], 'PASCAL VOC colormap');
    for (let i = 0; i < r.mask.length; i += 97) {
      const px = [...img.data.subarray(4 * i, 4 * i + 4)];
      assert.deepEqual(px, r.mask[i] === 0 ? [0, 0, 0, 0] : [64, 0, 0, 128], `pixel ${i}`);
    }
    const custom = maskToImageData(r, { colors: { 8: [1, 2, 3] }, opacity: 1 });
    const i = r.mask.indexOf(8);
    assert.deepEqual([...custom.data.subarray(4 * i, 4 * i + 4)], [1, 2, 3, 255]);
    assert.throws(() => maskToImageData({}), { code: 'E_INPUT_TYPE' });
    assert.throws(() => maskToImageData(r, { opacity: 2 }), { code: 'E_INPUT_TYPE' });
    model.dispose();
  });

  test('the other task\'s calls reject with E_WRONG_TASK, naming the call to make', async () => {
    const seg = await load({ model: MODELS.half });
    await expectError(seg.classify(image('cat.bmp')), 'E_WRONG_TASK', /call segment/);
    await expectError(seg.embed(image('cat.bmp')), 'E_WRONG_TASK', /call segment/);
    assert.throws(() => seg.createClassifier(), { code: 'E_WRONG_TASK' });
    await expectError(seg.segment(image('cat.bmp'), { overlay: 'yes' }), 'E_INPUT_TYPE', /overlay/);
    // The model still works after the refusals.
    assert.equal((await seg.segment(image('cat.bmp'))).width, 512);
    seg.dispose();
    const classifier = await load();
    assert.equal(classifier.info.task, 'classification');
    await expectError(classifier.segment(image('cat.bmp')), 'E_WRONG_TASK', /call classify/);
    classifier.dispose();
  });
});

/** The pixels of a PNG the CLIs write (8-bit gray or RGB, filter 0 rows as both encoders write them... or any filter). */
function readPng(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (p < bytes.length) {
    const length = v.getUint32(p), type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    const data = bytes.subarray(p + 8, p + 8 + length);
    if (type === 'IHDR') {
      width = v.getUint32(p + 8);
      height = v.getUint32(p + 12);
      channels = { 0: 1, 2: 3 }[data[9]];
    }
    if (type === 'IDAT') idat.push(data);
    p += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const row = width * channels, out = new Uint8Array(row * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (row + 1)];
    for (let x = 0; x < row; x++) {
      const cur = raw[y * (row + 1) + 1 + x];
      const left = x >= channels ? out[y * row + x - channels] : 0;
      const up = y > 0 ? out[(y - 1) * row + x] : 0;
      const ul = x >= channels && y > 0 ? out[(y - 1) * row + x - channels] : 0;
      const paeth = () => {
        const q = left + up - ul, pa = Math.abs(q - left), pb = Math.abs(q - up), pc = Math.abs(q - ul);
        return pa <= pb && pa <= pc ? left : pb <= pc ? up : ul;
      };
      const pred = [0, left, up, (left + up) >> 1, paeth()][filter];
      out[y * row + x] = (cur + pred) & 255;
    }
  }
  return { width, height, channels, data: out };
}

describe('segment on the command line', () => {
  const NATIVE = join(REPO, 'build', 'mnv2');
  const CLI = join(REPO, 'bin', 'cli.js');
  const tools = [['mobilenetv2-wasm', process.execPath, [CLI]]];
  if (existsSync(NATIVE)) tools.push(['mnv2 (native)', NATIVE, []]);
  for (const [name, command, prefix] of tools) {
    test(`${name} segment: PNG mask and overlay per photo, the classes' shares, --json`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'mnv2-segment-'));
      try {
        const args = [...prefix, 'segment', '--model', MODELS.half, '--labels', LABELS, '--out', out];
        const text = await run(command, [...args, image('cat.bmp'), image('bird.bmp')]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /cat\.bmp +512x341 .*cat\.mask\.png/);
        assert.match(text.stdout, /^ +\d+\.\d% +8 +cat$/m);
        assert.match(text.stdout, /^ +\d+\.\d% +3 +bird$/m);
        const mask = readPng(readFileSync(join(out, 'cat.mask.png')));
        assert.deepEqual([mask.width, mask.height, mask.channels], [512, 341, 1]);
        const model = await load({ model: MODELS.half, threads: 1 });
        const r = await model.segment(image('cat.bmp'));
        model.dispose();
        assert.deepEqual(mask.data, r.mask, 'the PNG holds the class indices');
        const overlay = readPng(readFileSync(join(out, 'cat.overlay.png')));
        assert.deepEqual([overlay.width, overlay.height, overlay.channels], [512, 341, 3]);
        const json = await run(command, [...args, '--json', image('grace_hopper.bmp')]);
        assert.equal(json.code, 0, json.stderr);
        const line = JSON.parse(json.stdout);
        assert.deepEqual([line.width, line.height], [512, 600]);
        assert.ok(line.classes.some((c) => c.label === 'person' && c.share > 0.3), json.stdout);
        assert.ok(existsSync(line.mask) && existsSync(line.overlay));
        // A classifier is the wrong model for segment.
        const wrong = await run(command, [...prefix, 'segment', image('cat.bmp'), ...(name === 'mnv2 (native)' ? ['--model', sharedModel('mobilenet_v2_1.0_224_quant.tflite')] : [])]);
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /E_WRONG_TASK/);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
