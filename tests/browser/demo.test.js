// The demo page (web/demo/) in headless Chromium, used as a person would: the file input,
// the sample gallery, the webcam, the SIMD and worker switches; errors shown in words.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  artifactPath, checkPrerequisites, classifyFile, classifySample, launch, newPage, openDemo, references,
  shownError, shownPredictions, start,
} from './helpers.js';

const photos = references();
let server;
let browser;

before(async () => {
  checkPrerequisites();
  server = await start({ port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
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

describe('the demo, SIMD variant, on the page thread', () => {
  let page;
  let errors;

  before(async () => {
    ({ page, errors } = await newPage(browser, { viewport: { width: 1200, height: 900 } }));
  });
  after(() => page.context().close());

  test('loads the SIMD variant and says so', async () => {
    const variant = await openDemo(page, server.url);
    assert.equal(variant.state, 'ready', variant.text);
    assert.equal(variant.simd, 'true');
    assert.equal(variant.target, 'WASM');
    assert.equal(variant.threads, '1');
    assert.equal(variant.where, 'main thread');
    assert.match(variant.text, /WebAssembly SIMD/);
    assert.match(variant.text, /target WASM/);
    assert.equal(await page.isChecked('#simd'), true);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP headers make the page cross-origin isolated');
    assert.deepEqual(errors, []);
  });

  test('photos chosen with the file input: top-1 equals the reference', async () => {
    assert.ok(photos.length >= 8, `only ${photos.length} photos found`);
    await checkAll((photo) => classifyFile(page, photo.file));
    // The photo itself, the latency of the last inference and the running median are shown.
    const shown = await page.$eval('#image', (img) => ({ src: img.src, width: img.naturalWidth, hidden: img.hidden }));
    assert.match(shown.src, /^blob:/);
    assert.equal(shown.hidden, false);
    await page.waitForFunction(() => document.querySelector('#image').naturalWidth > 0);
    assert.match(await page.textContent('#latency'), /^\d+(\.\d)? ms$/);
    assert.match(await page.textContent('#median'), /^\d+(\.\d)? ms$/);
    assert.equal(await page.textContent('#runs'), String(photos.length));
    assert.match(await page.textContent('#caption'), new RegExp(photos.at(-1).name.replace('.', '\\.')));
    assert.deepEqual(errors, []);
  });

  test('the sample gallery lists the photos; clicking each classifies it', async () => {
    const names = await page.$$eval('#gallery button', (buttons) => buttons.map((b) => b.dataset.name));
    for (const photo of photos) assert.ok(names.includes(photo.name), `${photo.name} is not in the gallery (${names})`);
    assert.ok(!names.some((n) => n.endsWith('.rgb') || n.endsWith('.json')), `raw or JSON files offered: ${names}`);
    await checkAll((photo) => classifySample(page, photo.name));
    assert.equal(await page.getAttribute(`#gallery button[data-name="${photos.at(-1).name}"]`, 'aria-pressed'), 'true');
    assert.deepEqual(errors, []);
  });

  test('long labels stay inside the result card, on a desktop and on a phone', async () => {
    await classifySample(page, 'dragonfly.bmp'); // the longest label of all
    for (const width of [1200, 900, 390, 320]) {
      await page.setViewportSize({ width, height: 844 });
      const outside = await page.evaluate(() => {
        const card = document.querySelector('.result').getBoundingClientRect();
        return [...document.querySelectorAll('#predictions .pct, #predictions .bar')]
          .filter((el) => el.getBoundingClientRect().right > card.right + 0.5).length;
      });
      assert.equal(outside, 0, `${outside} elements stick out of the card at ${width}px`);
    }
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  test('screenshots after a classification, desktop and phone sized', async () => {
    const top = await classifySample(page, 'parrot.jpg');
    assert.equal(top[0].label, 'macaw');
    await page.waitForFunction(() => [...document.querySelectorAll('#gallery img')].every((img) => img.complete));
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: artifactPath('demo-desktop.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    // Nothing sticks out sideways on a phone, and the results come in one column.
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      width: innerWidth,
      columns: getComputedStyle(document.querySelector('.result')).gridTemplateColumns.split(' ').length,
    }));
    assert.ok(layout.scrollWidth <= layout.width, `the page is ${layout.scrollWidth}px wide on a ${layout.width}px screen`);
    assert.equal(layout.columns, 1);
    await page.screenshot({ path: artifactPath('demo-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  test('a file that is not an image gives a readable error, and the page still works', async () => {
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not pixels\n') });
    await page.waitForSelector('#error:not([hidden])');
    const error = await shownError(page);
    assert.equal(error.code, 'E_IMAGE_DECODE');
    assert.equal(error.title, '“notes.txt” is not an image that can be read.');
    assert.match(error.text, /JPEG, PNG, BMP, GIF or WebP/);
    assert.deepEqual(await shownPredictions(page), [], 'no stale result next to the error');
    await page.waitForTimeout(600); // the error scrolls into view
    assert.ok(await page.$eval('#error', (el) => el.getBoundingClientRect().top >= 0), 'the error is scrolled into view');
    await page.screenshot({ path: artifactPath('demo-error.png') });

    const top = await classifyFile(page, photos[0].file);
    assert.equal(top[0].label, photos[0].label);
    assert.equal(await shownError(page), null, 'the error went away');
  });

  test('without a webcam, pressing the button explains why it does not start', async () => {
    await page.click('#camera');
    await page.waitForSelector('#error:not([hidden])');
    const error = await shownError(page);
    assert.match(error.title, /webcam/i, JSON.stringify(error));
    assert.equal(await page.textContent('#camera'), 'Start webcam');
    await page.click('#error-close');
  });
});

test('?simd=0 forces the variant without SIMD, and it classifies correctly', async () => {
  const { page, errors } = await newPage(browser);
  try {
    const variant = await openDemo(page, server.url, '?simd=0');
    assert.equal(variant.state, 'ready', variant.text);
    assert.equal(variant.simd, 'false');
    assert.equal(variant.target, 'EMU128');
    assert.match(variant.text, /no SIMD/);
    assert.equal(await page.isChecked('#simd'), false);
    await checkAll((photo) => classifyFile(page, photo.file));
    assert.deepEqual(errors, []);
  } finally {
    await page.context().close();
  }
});

test('the SIMD switch reloads the page with the other variant', async () => {
  const { page } = await newPage(browser);
  try {
    await openDemo(page, server.url);
    await Promise.all([page.waitForURL(/\?simd=0$/), page.uncheck('#simd')]);
    const variant = await openDemo(page, server.url, '?simd=0');
    assert.equal(variant.simd, 'false');
  } finally {
    await page.context().close();
  }
});

test('?worker=1 classifies in a Web Worker (encoded bytes), with the same results', async () => {
  const { page, errors } = await newPage(browser);
  try {
    const variant = await openDemo(page, server.url, '?worker=1');
    assert.equal(variant.state, 'ready', variant.text);
    assert.equal(variant.where, 'Web Worker');
    assert.equal(variant.simd, 'true');
    assert.equal(await page.isChecked('#worker'), true);
    await checkAll((photo) => classifyFile(page, photo.file));
    const top = await classifySample(page, 'hot_dog.jpg');
    assert.equal(top[0].index, 935);
    // A non-image file: the worker's error reaches the page with its code.
    await page.setInputFiles('#file', { name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) });
    await page.waitForSelector('#error:not([hidden])');
    assert.equal((await shownError(page)).code, 'E_IMAGE_DECODE');
    assert.deepEqual(errors, []);
  } finally {
    await page.context().close();
  }
});

test('a failed model download is explained in the page', async () => {
  const { page, errors } = await newPage(browser);
  try {
    await page.route('**/*.tflite', (route) => route.fulfill({ status: 404, body: 'not found' }));
    const variant = await openDemo(page, server.url);
    assert.equal(variant.state, 'error');
    await page.waitForSelector('#error:not([hidden])');
    const error = await shownError(page);
    assert.equal(error.code, 'E_FETCH');
    assert.equal(error.title, 'The model could not be downloaded.');
    assert.match(error.text, /Check your network connection/);
    assert.equal(await page.getAttribute('#status', 'data-state'), 'error');
    // Choosing a photo anyway repeats the explanation instead of failing silently.
    await page.click('#error-close');
    await page.setInputFiles('#file', photos[0].file);
    await page.waitForSelector('#error:not([hidden])');
    assert.equal((await shownError(page)).code, 'E_FETCH');
    assert.deepEqual(errors, []);
  } finally {
    await page.context().close();
  }
});

describe('the webcam (Chromium\'s fake camera)', () => {
  let camBrowser;
  before(async () => {
    camBrowser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  });
  after(() => camBrowser?.close());

  for (const query of ['', '?worker=1']) {
    test(`frames are classified one after another${query ? ' in a Web Worker (ImageBitmap)' : ''}`, async () => {
      const { page, errors } = await newPage(camBrowser);
      try {
        await openDemo(page, server.url, query);
        await page.click('#camera');
        await page.waitForFunction(() => Number(document.querySelector('#predictions').dataset.runs) >= 3);
        assert.equal(await shownError(page), null);
        assert.equal(await page.isVisible('#video'), true);
        assert.equal(await page.textContent('#camera'), 'Stop webcam');
        assert.equal((await shownPredictions(page)).length, 5);
        assert.match(await page.textContent('#median'), /^\d+(\.\d)? ms$/);
        await page.click('#camera');
        assert.equal(await page.textContent('#camera'), 'Start webcam');
        assert.equal(await page.evaluate(() => document.querySelector('#video').srcObject), null);
        assert.deepEqual(errors, []);
      } finally {
        await page.context().close();
      }
    });
  }
});
