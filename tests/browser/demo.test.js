// The demo page (web/demo/) used as a person would — the file input, the sample gallery, the
// webcam, the SIMD and worker switches, the model picker, Segment mode (DeepLabv3), errors shown
// in words, and Teach mode's Record button with a webcam (its other tests: teach.test.js) — in
// every engine (eachEngine: Chromium, Firefox, WebKit; tests/browser/engines.js). The webcam tests
// are here rather than with Teach mode's so that the browser suite's files, two at a time, take
// about the same time on each side (scripts/test.sh).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load as loadInNode } from '../../web/node.js';
import { withMulOperators } from '../js/flatbuffer.js';
import {
  IMAGES, REPO, addClass, artifactPath, attrOf, checkPrerequisites, classifyFile, classifySample, counts, defaultThreads, eachEngine,
  errorText, holdRecord, isChecked, isVisible, openDemo, openTeach, references, segmentSample, segmentWith, shownError, shownLegend,
  shownPredictions, sleep, start, textOf, waitForVariant, withPage,
} from './helpers.js';
import { FEATURES } from './engines.js';

const photos = references();
const MODELS = path.join(path.dirname(IMAGES), 'models'); // ../shared/models
const DEEPLAB = 'deeplabv3_mnv2_dm05_pascal_quant.tflite'; // α 0.5: the quicker of the two
// PASCAL VOC's classes in the sample photos: the one the legend must list first.
const SEGMENTED = [['bird.bmp', 3, 'bird'], ['cat.bmp', 8, 'cat']];
let server;
let noModel; // a server of the package without its models/ folder: the model download fails
let noModelRoot;
let badModels; // a server whose /sample-models/ holds files the package cannot run
let badModelsDir;
let expectedMasks; // file -> the mask Node computes with the same model, for the overlay's pixels

before(async () => {
  checkPrerequisites();
  server = await start({ port: 0 });
  noModelRoot = mkdtempSync(path.join(os.tmpdir(), 'mnv2-nomodel-'));
  cpSync(path.join(REPO, 'web'), path.join(noModelRoot, 'web'), { recursive: true });
  cpSync(path.join(REPO, 'dist'), path.join(noModelRoot, 'dist'), { recursive: true });
  noModel = await start({ port: 0, root: noModelRoot });
  badModelsDir = mkdtempSync(path.join(os.tmpdir(), 'mnv2-badmodels-'));
  const small = readFileSync(path.join(MODELS, 'mobilenet_v1_0.25_128_quant.tflite'));
  writeFileSync(path.join(badModelsDir, 'mul_everywhere.tflite'), withMulOperators(new Uint8Array(small)));
  writeFileSync(path.join(badModelsDir, 'truncated.tflite'), small.subarray(0, 4096));
  badModels = await start({ port: 0, modelsDir: badModelsDir });
  // The masks the page must draw: the same model and photos, in Node.
  const model = await loadInNode({ model: path.join(MODELS, DEEPLAB) });
  expectedMasks = {};
  for (const [file] of SEGMENTED) expectedMasks[file] = (await model.segment(readFileSync(path.join(IMAGES, file)))).mask;
  model.dispose();
});

after(async () => {
  await server?.close();
  await noModel?.close();
  await badModels?.close();
  if (noModelRoot) rmSync(noModelRoot, { recursive: true, force: true });
  if (badModelsDir) rmSync(badModelsDir, { recursive: true, force: true });
});

/** The pixels of `mask` equal to `index`, one bit each (the first pixel in the low bit), base64. */
function maskBits(mask, index) {
  const bits = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i] === index) bits[i >> 3] |= 1 << (i & 7);
  return Buffer.from(bits).toString('base64');
}

/**
 * The overlay canvas as the page shows it: its size, the photo's, and its pixels in the color
 * `color` (within 4 levels: the canvas stores them premultiplied) at alpha `alpha` (within 1) as
 * maskBits does, the other non-transparent pixels counted.
 */
function readOverlay(page, color, alpha) {
  return page.evaluate(([color, alpha]) => {
    const canvas = document.querySelector('#overlay');
    const img = document.querySelector('#image');
    // Read through a copy made for reading: the page's canvas is not read back again and again
    // (Chromium warns in the console when a canvas is).
    const copy = Object.assign(document.createElement('canvas'), { width: canvas.width, height: canvas.height });
    const context = copy.getContext('2d', { willReadFrequently: true });
    context.drawImage(canvas, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    const n = canvas.width * canvas.height;
    const bits = new Uint8Array(Math.ceil(n / 8));
    let matching = 0;
    let others = 0;
    const alphas = new Set();
    for (let i = 0; i < n; i++) {
      const [r, g, b, a] = data.subarray(i * 4, i * 4 + 4);
      if (a === 0) continue;
      alphas.add(a);
      if (Math.abs(a - alpha) <= 1 && Math.abs(r - color[0]) <= 4 && Math.abs(g - color[1]) <= 4 && Math.abs(b - color[2]) <= 4) {
        bits[i >> 3] |= 1 << (i & 7);
        matching += 1;
      } else {
        others += 1;
      }
    }
    let binary = '';
    for (const byte of bits) binary += String.fromCharCode(byte);
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
    };
    return {
      width: canvas.width, height: canvas.height, photo: [img.naturalWidth, img.naturalHeight],
      hidden: canvas.hidden, shown: canvas.getClientRects().length > 0, sameBox: String(box(canvas)) === String(box(img)),
      bits: btoa(binary), matching, others, alphas: [...alphas].sort((a, b) => a - b),
    };
  }, [color, alpha]);
}

/** Picks `file` ('' for the bundled model) in the model menu; resolves once the page reloaded with it. */
async function pickModel(page, file) {
  await page.waitFor((f) => [...document.querySelector('#model').options].some((o) => o.value === f), file, { what: `${file} in the menu` });
  await page.evaluate((f) => {
    const select = document.querySelector('#model');
    select.value = f;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  }, file);
  const search = file ? `?model=${file}` : '';
  await page.waitFor((q) => location.search === q, search, { what: `the URL to end in '${search}'` });
  return waitForVariant(page);
}

/** Which of the two modes' parts the page shows. */
const shownMode = (page) => page.evaluate(() => {
  const visible = (id) => {
    const el = document.getElementById(id);
    return !el.hidden && el.getClientRects().length > 0;
  };
  return {
    task: document.body.dataset.task, top5: visible('classify-result'), legend: visible('segment-result'),
    note: visible('task-note'), teach: !document.querySelector('#tab-teach').disabled, tab: document.querySelector('#tab-classify').textContent,
  };
});

/** Sets the opacity slider as a person dragging it would (input events). */
const setOpacity = (page, value) => page.evaluate((v) => {
  const slider = document.querySelector('#opacity');
  slider.value = String(v);
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  return document.querySelector('#opacity-value').textContent;
}, value);

/** Classifies every photo with `classify(photo)` and compares the top-1 to the reference. */
async function checkAll(classify) {
  const got = {};
  const want = {};
  for (const photo of photos) {
    const top = await classify(photo);
    assert.equal(top.length, 5, `${photo.name}: ${top.length} predictions shown`);
    got[photo.name] = `${top[0].index} ${top[0].label}`;
    want[photo.name] = `${photo.index} ${photo.label}`;
  }
  assert.deepEqual(got, want);
}

eachEngine('the demo', (ctx) => {
  describe('SIMD variant, on the page thread', () => {
    let page;
    before(async () => {
      page = await ctx.browser.newPage({ width: 1200, height: 900 });
    });
    after(() => page?.close());

    test('loads the SIMD variant and says so', async () => {
      const variant = await openDemo(page, server.url);
      assert.equal(variant.state, 'ready', variant.text);
      assert.equal(variant.simd, 'true');
      // The relaxed SIMD build where the engine has relaxed SIMD (Chromium, Firefox).
      const relaxed = FEATURES[ctx.engine].relaxedSimd;
      assert.equal(variant.target, relaxed ? 'WASM_RELAXED' : 'WASM');
      // A threaded model starts on one thread; the chip follows as the others join.
      const threads = String(await defaultThreads(page, FEATURES[ctx.engine]));
      await page.waitFor((n) => document.querySelector('#variant').dataset.threads === n, threads, { what: `${threads} threads shown` });
      assert.equal(variant.where, 'main thread');
      assert.match(variant.text, relaxed ? /WebAssembly relaxed SIMD/ : /WebAssembly SIMD/);
      assert.match(variant.text, relaxed ? /target WASM_RELAXED/ : /target WASM\b/);
      assert.equal(await isChecked(page, '#simd'), true);
      assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP headers make the page cross-origin isolated');
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('photos chosen with the file input: top-1 equals the reference', async () => {
      assert.ok(photos.length >= 8, `only ${photos.length} photos found`);
      await checkAll((photo) => classifyFile(page, photo.file));
      // The photo itself, the latency of the last inference and the running median are shown.
      await page.waitFor(() => document.querySelector('#image').naturalWidth > 0);
      const shown = await page.evaluate(() => {
        const img = document.querySelector('#image');
        return { src: img.src, hidden: img.hidden };
      });
      assert.match(shown.src, /^blob:/);
      assert.equal(shown.hidden, false);
      assert.match(await textOf(page, '#latency'), /^\d+(\.\d)? ms$/);
      assert.match(await textOf(page, '#median'), /^\d+(\.\d)? ms$/);
      assert.equal(await textOf(page, '#runs'), String(photos.length));
      assert.match(await textOf(page, '#caption'), new RegExp(photos.at(-1).name.replace('.', '\\.')));
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('the sample gallery lists the photos; clicking each classifies it', async () => {
      const names = await page.evaluate(() => [...document.querySelectorAll('#gallery button')].map((b) => b.dataset.name));
      for (const photo of photos) assert.ok(names.includes(photo.name), `${photo.name} is not in the gallery (${names})`);
      assert.ok(!names.some((n) => n.endsWith('.rgb') || n.endsWith('.json')), `raw or JSON files offered: ${names}`);
      await checkAll((photo) => classifySample(page, photo.name));
      assert.equal(await attrOf(page, `#gallery button[data-name="${photos.at(-1).name}"]`, 'aria-pressed'), 'true');
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('long labels stay inside the result card, on a desktop and on a phone', async () => {
      await classifySample(page, 'dragonfly.bmp'); // the longest label of all
      for (const width of [1200, 900, 390, 320]) {
        const reached = await page.setViewport(width, 844);
        const outside = await page.evaluate(() => {
          const card = document.querySelector('.result').getBoundingClientRect();
          return [...document.querySelectorAll('#predictions .pct, #predictions .bar')]
            .filter((el) => el.getBoundingClientRect().right > card.right + 0.5).length;
        });
        assert.equal(outside, 0, `${outside} elements stick out of the card at ${reached.width}px`);
      }
      await page.setViewport(1200, 900);
    });

    test('screenshots after a classification, desktop and phone sized', async (t) => {
      const top = await classifySample(page, 'parrot.jpg');
      assert.equal(top[0].label, 'macaw');
      await page.waitFor(() => [...document.querySelectorAll('#gallery img')].every((img) => img.complete));
      await page.evaluate(() => document.fonts.ready.then(() => true));
      await page.screenshot(artifactPath(`demo-desktop-${ctx.engine}.png`), { fullPage: true });

      const phone = await page.setViewport(390, 844);
      // MiniBrowser's window cannot be narrower than ~450 px: the phone layout is checked at that width.
      if (phone.width !== 390) t.diagnostic(`the narrowest viewport this engine's window allows: ${phone.width}px`);
      assert.ok(phone.width <= 480, `a phone-sized viewport: ${phone.width}px`);
      await sleep(300);
      // Nothing sticks out sideways on a phone, and the results come in one column.
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        width: innerWidth,
        columns: getComputedStyle(document.querySelector('.result')).gridTemplateColumns.split(' ').length,
      }));
      assert.ok(layout.scrollWidth <= layout.width, `the page is ${layout.scrollWidth}px wide on a ${layout.width}px screen`);
      assert.equal(layout.columns, 1);
      await page.screenshot(artifactPath(`demo-phone-${ctx.engine}.png`), { fullPage: true });
      await page.setViewport(1200, 900);
    });

    test('a file that is not an image gives a readable error, and the page still works', async () => {
      await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not pixels\n') });
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.equal(error.code, 'E_IMAGE_DECODE');
      assert.equal(error.title, '“notes.txt” is not an image that can be read.');
      assert.match(error.text, /JPEG, PNG, BMP, GIF or WebP/);
      assert.deepEqual(await shownPredictions(page), [], 'no stale result next to the error');
      await sleep(600); // the error scrolls into view
      // Within a pixel: Firefox may end a smooth scroll a fraction of a pixel past the element's top.
      assert.ok(await page.evaluate(() => document.querySelector('#error').getBoundingClientRect().top > -1), 'the error is scrolled into view');
      await page.screenshot(artifactPath(`demo-error-${ctx.engine}.png`));

      const top = await classifyFile(page, photos[0].file);
      assert.equal(top[0].label, photos[0].label);
      assert.equal(await shownError(page), null, 'the error went away');
    });

    test('without a webcam, pressing the button explains why it does not start', async () => {
      await page.click('#camera');
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.match(error.title, /webcam/i, JSON.stringify(error));
      assert.equal(await textOf(page, '#camera'), 'Start webcam');
      await page.click('#error-close');
    });
  });

  test('?simd=0 forces the variant without SIMD, and it classifies correctly', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, server.url, '?simd=0');
      assert.equal(variant.state, 'ready', variant.text);
      assert.equal(variant.simd, 'false');
      assert.equal(variant.target, 'EMU128');
      assert.match(variant.text, /no SIMD/);
      assert.equal(await isChecked(page, '#simd'), false);
      await checkAll((photo) => classifyFile(page, photo.file));
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  test('the SIMD switch reloads the page with the other variant', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      await openDemo(page, server.url);
      await page.click('#simd');
      await page.waitFor(() => location.search === '?simd=0', null, { what: 'the URL to end in ?simd=0' });
      const variant = await waitForVariant(page);
      assert.equal(variant.simd, 'false');
      assert.equal(variant.target, 'EMU128');
    });
  });

  test('?worker=1 classifies in a Web Worker (encoded bytes), with the same results', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, server.url, '?worker=1');
      assert.equal(variant.state, 'ready', variant.text);
      assert.equal(variant.where, 'Web Worker');
      assert.equal(variant.simd, 'true');
      assert.equal(await isChecked(page, '#worker'), true);
      await checkAll((photo) => classifyFile(page, photo.file));
      const top = await classifySample(page, 'hot_dog.jpg');
      assert.equal(top[0].index, 935);
      // A non-image file: the worker's error reaches the page with its code.
      await page.setInputFiles('#file', { name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) });
      await page.waitForSelector('#error', { visible: true });
      assert.equal((await shownError(page)).code, 'E_IMAGE_DECODE');
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  test('the model picker runs a MobileNetV1 file of ../shared/models and shows its family, α, size and cost', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      const file = 'mobilenet_v1_0.5_160_quant.tflite';
      const variant = await openDemo(page, server.url, `?model=${file}`);
      assert.equal(variant.state, 'ready', variant.text);
      assert.deepEqual([variant.family, variant.alpha, variant.size], ['mobilenet_v1', '0.5', '160']);
      assert.ok(Number(variant.multiplyAdds) > 70e6 && Number(variant.multiplyAdds) < 80e6, variant.multiplyAdds);
      assert.match(variant.text, /MobileNetV1 α 0\.5 · 160×160/);
      assert.match(variant.text, /77 M multiply-adds/);
      const options = await page.evaluate(() => [...document.querySelector('#model').options].map((o) => [o.value, o.selected]));
      assert.ok(options.some(([value, selected]) => value === file && selected), JSON.stringify(options));
      // The ImageNet labels come with it; a clear photo gets the reference's class (macaw).
      const top = await classifySample(page, 'parrot.jpg');
      assert.deepEqual([top[0].index, top[0].label], [89, 'macaw']);
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  test('a model file this page cannot run shows its coded error in words', async () => {
    // An operator no model of the family has: E_UNSUPPORTED_OP, naming it.
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, badModels.url, '?model=mul_everywhere.tflite');
      assert.equal(variant.state, 'error');
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.equal(error.code, 'E_UNSUPPORTED_OP');
      assert.match(error.title, /not a model this page runs/);
      assert.match(error.text, /MUL/);
      assert.equal(await attrOf(page, '#status', 'data-state'), 'error');
      const options = await page.evaluate(() => [...document.querySelector('#model').options].map((o) => o.value));
      assert.deepEqual(options, ['', 'mul_everywhere.tflite', 'truncated.tflite']);
      assert.deepEqual(await page.errors(), []);
    });
    // A file cut short: E_MODEL_FORMAT.
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, badModels.url, '?model=truncated.tflite');
      assert.equal(variant.state, 'error');
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.equal(error.code, 'E_MODEL_FORMAT');
      assert.equal(error.title, 'The model file is damaged.');
      assert.deepEqual(await page.errors(), []);
    });
  });

  describe('Segment mode: DeepLabv3 α 0.5 picked in the model menu', () => {
    let page;
    before(async () => {
      page = await ctx.browser.newPage({ width: 1200, height: 900 });
    });
    after(() => page?.close());

    test('picking the DeepLab model switches to Segment mode: no top 5, no Teach, a legend and an opacity slider', async () => {
      assert.equal((await openDemo(page, server.url)).task, 'classification');
      assert.deepEqual(await shownMode(page), { task: 'classification', top5: true, legend: false, note: false, teach: true, tab: 'Classify' });
      const variant = await pickModel(page, DEEPLAB);
      assert.equal(variant.state, 'ready', variant.text);
      assert.deepEqual([variant.task, variant.family, variant.alpha, variant.size, variant.numClasses],
        ['segmentation', 'mobilenet_v2', '0.5', '513', '21']);
      assert.match(variant.text, /DeepLabv3 · MobileNetV2 α 0\.5 · 513×513/);
      assert.match(variant.text, /segmentation · 21 classes/);
      assert.deepEqual(await shownMode(page), { task: 'segmentation', top5: false, legend: true, note: true, teach: false, tab: 'Segment' });
      assert.match(await textOf(page, '#task-note'), /segmentation.*Teach mode need a classifier/s);
      assert.equal(await textOf(page, '#legend'), 'No image segmented yet.');
      assert.equal(await attrOf(page, '#model option:checked', 'value'), DEEPLAB);
      // Teach mode stays shut, by the keyboard (the tab, disabled, takes no clicks) and by the URL.
      await page.evaluate(() => {
        document.querySelector('#tab-classify').focus();
        document.querySelector('#tab-classify').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
        location.hash = '#teach';
      });
      await sleep(100);
      assert.equal(await isVisible(page, '#classify-panel'), true);
      assert.equal(await isVisible(page, '#teach-panel'), false);
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('the sample photos: the legend lists their class with its share, the overlay colors exactly its pixels', async () => {
      for (const [file, index, label] of SEGMENTED) {
        const legend = await segmentSample(page, file);
        assert.deepEqual([legend[0].index, legend[0].label], [index, label], `${file}: ${JSON.stringify(legend)}`);
        assert.ok(legend[0].share > 0.1 && legend[0].share < 0.6, `${file}: ${legend[0].share}`);
        assert.equal(legend[0].pct, `${(legend[0].share * 100).toFixed(1)}%`);
        assert.deepEqual(legend.at(-1).label, 'background', 'the background is listed last');
        const shares = legend.reduce((sum, c) => sum + c.share, 0);
        assert.ok(Math.abs(shares - 1) < 1e-9, `the shares add up to ${shares}`);
        // The overlay: a canvas of the photo's own size over it, in the class's color at 60%
        // where Node's mask (same model, same photo) has the class, transparent on the background.
        await page.waitFor(() => document.querySelector('#image').complete && document.querySelector('#image').naturalWidth > 0);
        const overlay = await readOverlay(page, legend[0].color, Math.round(0.6 * 255));
        assert.deepEqual([overlay.width, overlay.height], overlay.photo, `${file}: the overlay's size`);
        assert.equal(overlay.width * overlay.height, expectedMasks[file].length);
        assert.ok(overlay.shown && !overlay.hidden && overlay.sameBox, `${file}: the overlay lies over the photo ${JSON.stringify(overlay)}`);
        assert.equal(overlay.bits, maskBits(expectedMasks[file], index), `${file}: the ${label} pixels`);
        const otherPixels = legend.slice(1, -1).reduce((sum, c) => sum + c.pixels, 0);
        assert.equal(overlay.others, otherPixels, `${file}: pixels of other classes`);
        assert.ok(overlay.matching > 0.1 * expectedMasks[file].length, `${file}: ${overlay.matching} pixels colored`);
        assert.match(await textOf(page, '#caption'), new RegExp(file.replace('.', '\\.')));
      }
      assert.match(await textOf(page, '#latency'), /^\d+(\.\d)? ms$/);
      assert.equal(await textOf(page, '#runs'), String(SEGMENTED.length));
      await page.screenshot(artifactPath(`demo-segment-${ctx.engine}.png`), { fullPage: true });
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('the opacity slider redraws the overlay at another alpha without running the model again', async () => {
      const [file, index] = SEGMENTED.at(-1); // shown by the test before
      const legend = await shownLegend(page);
      const color = legend.find((c) => c.index === index).color;
      const before = { latency: await textOf(page, '#latency'), runs: await textOf(page, '#runs'), list: await attrOf(page, '#legend', 'data-runs') };
      const want = maskBits(expectedMasks[file], index);
      for (const [value, shown] of [[0.25, '25%'], [1, '100%'], [0, '0%'], [0.6, '60%']]) {
        assert.equal(await setOpacity(page, value), shown);
        const overlay = await readOverlay(page, color, Math.round(value * 255));
        if (value === 0) {
          assert.deepEqual([overlay.matching, overlay.others], [0, 0], 'nothing drawn at 0%');
          continue;
        }
        assert.equal(overlay.bits, want, `at ${shown}`);
        assert.deepEqual(overlay.alphas, [Math.round(value * 255)], `the alpha at ${shown}`);
      }
      const after = { latency: await textOf(page, '#latency'), runs: await textOf(page, '#runs'), list: await attrOf(page, '#legend', 'data-runs') };
      assert.deepEqual(after, before, 'no new run');
    });

    test('a file that is not an image: its error, the legend emptied, the overlay gone', async () => {
      await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not pixels\n') });
      await page.waitForSelector('#error', { visible: true });
      assert.equal((await shownError(page)).code, 'E_IMAGE_DECODE');
      assert.deepEqual(await shownLegend(page), []);
      assert.equal(await isVisible(page, '#overlay'), false);
      const legend = await segmentWith(page, () => page.setInputFiles('#file', path.join(IMAGES, 'grace_hopper.bmp')));
      assert.deepEqual([legend[0].index, legend[0].label], [15, 'person']);
      assert.equal(await isVisible(page, '#overlay'), true);
    });

    test('picking the classifier again brings the top 5 and Teach back', async () => {
      const variant = await pickModel(page, '');
      assert.equal(variant.state, 'ready', variant.text);
      assert.equal(variant.task, 'classification');
      assert.deepEqual(await shownMode(page), { task: 'classification', top5: true, legend: false, note: false, teach: true, tab: 'Classify' });
      const top = await classifySample(page, 'parrot.jpg');
      assert.equal(top.length, 5);
      assert.deepEqual([top[0].index, top[0].label], [89, 'macaw']);
      assert.equal(await isVisible(page, '#overlay'), false);
      await page.click('#tab-teach');
      assert.equal(await isVisible(page, '#teach-panel'), true);
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  test('Segment mode in a Web Worker (the mask transferred back); #teach falls back to Segment mode, saying why', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, server.url, `?worker=1&model=${DEEPLAB}#teach`);
      assert.equal(variant.state, 'ready', variant.text);
      assert.deepEqual([variant.where, variant.task], ['Web Worker', 'segmentation']);
      assert.equal(await isVisible(page, '#classify-panel'), true);
      assert.equal(await page.evaluate(() => location.hash), '');
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.equal(error.code, 'E_WRONG_TASK');
      assert.match(error.title, /Teach mode needs a classifier/);
      const [file, index, label] = SEGMENTED[0];
      const legend = await segmentSample(page, file);
      assert.deepEqual([legend[0].index, legend[0].label], [index, label]);
      await page.waitFor(() => document.querySelector('#image').complete && document.querySelector('#image').naturalWidth > 0);
      const overlay = await readOverlay(page, legend[0].color, Math.round(0.6 * 255));
      assert.equal(overlay.bits, maskBits(expectedMasks[file], index));
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  test('a failed model download is explained in the page', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, noModel.url); // models/ is not there: HTTP 404
      assert.equal(variant.state, 'error');
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.equal(error.code, 'E_FETCH');
      assert.equal(error.title, 'The model could not be downloaded.');
      assert.match(error.text, /Check your network connection/);
      assert.equal(await attrOf(page, '#status', 'data-state'), 'error');
      // Choosing a photo anyway repeats the explanation instead of failing silently.
      await page.click('#error-close');
      await page.setInputFiles('#file', photos[0].file);
      await page.waitForSelector('#error', { visible: true });
      assert.equal((await shownError(page)).code, 'E_FETCH');
      assert.deepEqual(await page.errors(), []);
    });
  });
});

// Each engine's fake camera: Chromium's --use-fake-device-for-media-stream, Firefox's
// media.navigator.streams.fake, WebKitGTK's mock capture devices.
eachEngine('the webcam (fake camera)', (ctx) => {
  for (const query of ['', '?worker=1']) {
    test(`frames are classified one after another${query ? ' in a Web Worker (ImageBitmap)' : ' (HTMLVideoElement)'}`, async () => {
      await withPage(ctx.browser, {}, async (page) => {
        await openDemo(page, server.url, query);
        await page.click('#camera');
        await page.waitFor(() => Number(document.querySelector('#predictions').dataset.runs) >= 3
          || !document.querySelector('#error').hidden, null, { what: 'three webcam frames classified' });
        assert.equal(await shownError(page), null);
        assert.equal(await isVisible(page, '#video'), true);
        assert.equal(await textOf(page, '#camera'), 'Stop webcam');
        assert.equal((await shownPredictions(page)).length, 5);
        assert.match(await textOf(page, '#median'), /^\d+(\.\d)? ms$/);
        await page.click('#camera');
        assert.equal(await textOf(page, '#camera'), 'Start webcam');
        assert.equal(await page.evaluate(() => document.querySelector('#video').srcObject), null);
        assert.deepEqual(await page.errors(), []);
        assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
      });
    });
  }

  test('with a segmentation model, frames are segmented one after another, the mask over the video', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      assert.equal((await openDemo(page, server.url, `?model=${DEEPLAB}`)).task, 'segmentation');
      await page.click('#camera');
      await page.waitFor(() => Number(document.querySelector('#legend').dataset.runs) >= 3
        || !document.querySelector('#error').hidden, null, { what: 'three webcam frames segmented' });
      assert.equal(await shownError(page), null);
      assert.equal(await isVisible(page, '#video'), true);
      assert.equal(await isVisible(page, '#overlay'), true);
      const sizes = await page.evaluate(() => {
        const video = document.querySelector('#video');
        const canvas = document.querySelector('#overlay');
        return [[canvas.width, canvas.height], [video.videoWidth, video.videoHeight]];
      });
      assert.deepEqual(sizes[0], sizes[1], 'the overlay has the size of the frames');
      assert.ok((await shownLegend(page)).length >= 1);
      assert.match(await textOf(page, '#median'), /^\d+(\.\d)? ms$/);
      await page.click('#camera');
      assert.equal(await textOf(page, '#camera'), 'Start webcam');
      assert.equal(await isVisible(page, '#overlay'), false, 'the mask goes with the frame');
      // No run left behind: the count stays once the webcam is off.
      const runs = await textOf(page, '#runs');
      await sleep(500);
      assert.equal(await textOf(page, '#runs'), runs);
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  test('Teach mode: holding Record (mouse, then Space) adds a frame every 150 ms; the webcam is classified live', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      await openTeach(page, server.url);
      await addClass(page, 'left');
      await addClass(page, 'right');
      assert.equal(await page.evaluate(() => document.querySelector('#classes li[data-label="left"] button.record').disabled), true,
        'Record needs the webcam');
      await page.click('#teach-camera');
      await page.waitFor(() => {
        const video = document.querySelector('#teach-video');
        return (video.readyState >= 2 && video.videoWidth > 0) || !document.querySelector('#error').hidden;
      }, null, { what: 'the webcam to play' });
      assert.equal(await errorText(page), null);
      assert.equal(await textOf(page, '#teach-camera'), 'Stop webcam');
      await holdRecord(ctx, page, 'left', 1000, 'pointer');
      await page.waitFor(() => !document.querySelector('#classes li[data-label="left"] button.record.live'), null, { what: 'the recording to end' });
      const left = (await counts(page)).left;
      assert.ok(left >= 3 && left <= 12, `${left} frames in 1 s`);
      await holdRecord(ctx, page, 'right', 1000, 'keyboard');
      await page.waitFor(() => !document.querySelector('#classes li[data-label="right"] button.record.live'), null, { what: 'the recording to end' });
      const now = await counts(page);
      assert.ok(now.right >= 3 && now.right <= 12, `${now.right} frames in 1 s`);
      assert.equal(now.left, left, 'the other class is left alone');
      assert.equal(await page.evaluate(() => document.querySelectorAll('#classes li[data-label="left"] .thumbs canvas').length), Math.min(left, 6));
      // With two classes, the live frames are ranked by nearest neighbours.
      const runs = await page.evaluate(() => Number(document.querySelector('#teach-predictions').dataset.runs));
      await page.waitFor((n) => Number(document.querySelector('#teach-predictions').dataset.runs) > n + 2, runs, { what: 'live predictions' });
      const live = await page.evaluate(() => {
        const list = document.querySelector('#teach-predictions');
        return { method: list.dataset.method, source: list.dataset.source, labels: [...list.querySelectorAll('li[data-label]')].map((li) => li.dataset.label) };
      });
      assert.deepEqual({ ...live, labels: live.labels.sort() }, { method: 'knn', source: 'the webcam', labels: ['left', 'right'] });
      await page.click('#teach-camera');
      assert.equal(await textOf(page, '#teach-camera'), 'Start webcam');
      assert.equal(await page.evaluate(() => document.querySelector('#teach-video').srcObject), null);
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });
}, { fakeCamera: true });
