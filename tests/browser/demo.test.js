// The demo page (web/demo/) used as a person would — the file input, the sample gallery, the
// webcam, the SIMD and worker switches, errors shown in words — in every engine (eachEngine:
// Chromium, Firefox, WebKit; tests/browser/engines.js).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO, artifactPath, attrOf, checkPrerequisites, classifyFile, classifySample, defaultThreads, eachEngine, isChecked, isVisible,
  openDemo, references, shownError, shownPredictions, sleep, start, textOf, waitForVariant, withPage,
} from './helpers.js';
import { FEATURES } from './engines.js';

const photos = references();
let server;
let noModel; // a server of the package without its models/ folder: the model download fails
let noModelRoot;

before(async () => {
  checkPrerequisites();
  server = await start({ port: 0 });
  noModelRoot = mkdtempSync(path.join(os.tmpdir(), 'mnv2-nomodel-'));
  cpSync(path.join(REPO, 'web'), path.join(noModelRoot, 'web'), { recursive: true });
  cpSync(path.join(REPO, 'dist'), path.join(noModelRoot, 'dist'), { recursive: true });
  noModel = await start({ port: 0, root: noModelRoot });
});

after(async () => {
  await server?.close();
  await noModel?.close();
  if (noModelRoot) rmSync(noModelRoot, { recursive: true, force: true });
});

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
      assert.equal(variant.target, 'WASM');
      // A threaded model starts on one thread; the chip follows as the others join.
      const threads = String(await defaultThreads(page, FEATURES[ctx.engine]));
      await page.waitFor((n) => document.querySelector('#variant').dataset.threads === n, threads, { what: `${threads} threads shown` });
      assert.equal(variant.where, 'main thread');
      assert.match(variant.text, /WebAssembly SIMD/);
      assert.match(variant.text, /target WASM/);
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
    // A model the classifier does not run says which operator stops it.
    await withPage(ctx.browser, {}, async (page) => {
      const variant = await openDemo(page, server.url, '?model=deeplabv3_mnv2_dm05_pascal_quant.tflite');
      assert.equal(variant.state, 'error');
      await page.waitForSelector('#error', { visible: true });
      const error = await shownError(page);
      assert.equal(error.code, 'E_UNSUPPORTED_OP');
      assert.match(error.text, /RESIZE_BILINEAR/);
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
}, { fakeCamera: true });
