// The demo's Teach mode (web/demo/teach.js) used as a person would, in every engine (Chromium,
// Firefox, WebKit): classes made with the name field, photos of ../shared/images/imprinting
// added through each class's file input (read there, never copied), the test photos classified
// by nearest neighbours, then trained (the progress to the last epoch) and classified by the
// softmax head, the .json and .tflite downloaded, the .json read back, the .tflite opened in
// Classify mode with its own labels; drops, errors in words, and the phone layout. (With a fake
// camera, holding a class's Record button: demo.test.js, beside the demo's other webcam tests.)
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  IMAGES, addClass, artifactPath, attrOf, card, checkPrerequisites, classifyFile, counts, eachEngine, errorText, isVisible, openDemo,
  openTeach, shownError, sleep, start, textOf, withPage,
} from './helpers.js';

const IMPRINTING = path.join(IMAGES, 'imprinting');
const photo = (name) => path.join(IMPRINTING, name);
const TRAIN = { cat: ['cat_train_0.bmp'], dog: ['dog_train_0.bmp'], hotdog: ['hotdog_train_0.bmp', 'hotdog_train_1.bmp'] };
const TEST = { cat: 'cat_test_0.bmp', dog: 'dog_test_0.bmp', hotdog: 'hotdog_test_0.bmp' };

let server;

before(async () => {
  checkPrerequisites();
  server = await start({ port: 0 });
});

after(async () => {
  await server?.close();
});

// ---------------------------------------------------------------------------------------------
// Driving Teach mode through its own controls (and helpers.js: openTeach, addClass, counts).

/** Waits until the class shows `count` examples (or the page shows an error). */
async function waitForCount(page, name, count) {
  await page.waitFor(([s, n]) => Number(document.querySelector(s)?.dataset.count) >= n || !document.querySelector('#error').hidden,
    [card(name), count], { what: `${name}: ${count} examples` });
  assert.equal(await errorText(page), null);
}

/** Adds photos through the class's file input, one at a time. */
async function addPhotos(page, name, files) {
  for (const file of files) {
    const before = (await counts(page))[name];
    await page.setInputFiles(`${card(name)} input[type="file"]`, photo(file));
    await waitForCount(page, name, before + 1);
  }
}

/** Tests a photo through the test area's file input: { method, source, top: [{ label, score }] }. */
async function predictPhoto(page, file, method) {
  const before = await page.evaluate(() => Number(document.querySelector('#teach-predictions').dataset.runs));
  await page.setInputFiles('#test-file', photo(file));
  await page.waitFor(([n, f, m]) => {
    const list = document.querySelector('#teach-predictions');
    return (Number(list.dataset.runs) > n && list.dataset.source === f && list.dataset.method === m)
      || !document.querySelector('#error').hidden;
  }, [before, file, method], { what: `a ${method} prediction of ${file}` });
  assert.equal(await errorText(page), null);
  return page.evaluate(() => {
    const list = document.querySelector('#teach-predictions');
    return {
      method: list.dataset.method,
      source: list.dataset.source,
      top: [...list.querySelectorAll('li[data-label]')].map((li) => ({ label: li.dataset.label, score: Number(li.dataset.score) })),
    };
  });
}

async function checkTestPhotos(page, method) {
  const got = {};
  for (const [label, file] of Object.entries(TEST)) {
    const shown = await predictPhoto(page, file, method);
    assert.equal(shown.top.length, 3, JSON.stringify(shown));
    assert.ok(shown.top.every((p, i) => i === 0 || p.score <= shown.top[i - 1].score), `best first: ${JSON.stringify(shown.top)}`);
    got[label] = shown.top[0].label;
  }
  assert.deepEqual(got, { cat: 'cat', dog: 'dog', hotdog: 'hotdog' }, `top labels (${method})`);
}

/**
 * Presses a button and gets what it downloads: { name, bytes }. Chromium: Playwright's download
 * event and the file it saved. Firefox and WebKit: their drivers here (puppeteer over WebDriver
 * BiDi, WebKitWebDriver) report no downloads, so the page's download link is read instead: its
 * click is caught, and the blob it points to fetched.
 */
async function download(ctx, page, selector) {
  if (ctx.engine === 'chromium') {
    const [d] = await Promise.all([page.page.waitForEvent('download'), page.click(selector)]);
    return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
  }
  const before = await page.evaluate(() => {
    if (!window.__downloads) {
      window.__downloads = [];
      HTMLAnchorElement.prototype.click = function click() {
        const { href, download: name } = this;
        fetch(href).then((r) => r.arrayBuffer()).then((buffer) => {
          const bytes = new Uint8Array(buffer);
          let s = '';
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
          window.__downloads.push({ name, base64: btoa(s) });
        }, (e) => window.__downloads.push({ name, error: String(e) }));
      };
    }
    return window.__downloads.length;
  });
  await page.click(selector);
  await page.waitFor((n) => window.__downloads.length > n || !document.querySelector('#error').hidden, before, { what: `a download from ${selector}` });
  assert.equal(await errorText(page), null);
  const got = await page.evaluate((n) => window.__downloads[n], before);
  assert.equal(got.error, undefined, got.error);
  return { name: got.name, bytes: Buffer.from(got.base64, 'base64') };
}


// ---------------------------------------------------------------------------------------------

eachEngine('the demo\'s Teach mode', (ctx) => {
  describe('cat, dog and hotdog from ../shared/images/imprinting', () => {
    let page;
    let saved; // the .json and .tflite downloaded
    before(async () => {
      page = await ctx.browser.newPage({ width: 1200, height: 900 });
    });
    after(() => page?.close());

    test('classes are made with the name field; Train waits for two classes with examples', async () => {
      await openTeach(page, server.url);
      assert.equal(await page.evaluate(() => document.querySelector('#train').disabled), true);
      assert.match(await textOf(page, '#train-hint'), /at least two classes/);
      for (const name of Object.keys(TRAIN)) await addClass(page, name);
      assert.deepEqual(await counts(page), { cat: 0, dog: 0, hotdog: 0 });
      // A second class of the same name is refused by the form, not added.
      await page.evaluate(() => { document.querySelector('#class-name').value = 'dog'; });
      await page.click('#new-class button[type="submit"]');
      assert.equal(await page.evaluate(() => document.querySelector('#class-name').validationMessage), 'There is a class named “dog” already.');
      assert.deepEqual(Object.keys(await counts(page)), ['cat', 'dog', 'hotdog']);
      assert.equal(await page.evaluate(() => document.querySelector('#save-tflite').disabled), true);
      assert.equal(await page.evaluate(() => document.querySelector('#save-json').disabled), true);
    });

    test('photos added through each class\'s file input: counts and thumbnails', async () => {
      await addPhotos(page, 'cat', TRAIN.cat);
      assert.equal(await page.evaluate(() => document.querySelector('#train').disabled), true, 'one class with examples');
      for (const name of ['dog', 'hotdog']) await addPhotos(page, name, TRAIN[name]);
      assert.deepEqual(await counts(page), { cat: 1, dog: 1, hotdog: 2 });
      assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('#classes li.class-card')]
        .map((li) => [li.dataset.label, li.querySelector('.count').textContent, li.querySelectorAll('.thumbs canvas').length])),
      [['cat', '1 example', 1], ['dog', '1 example', 1], ['hotdog', '2 examples', 2]]);
      assert.equal(await page.evaluate(() => document.querySelector('#train').disabled), false);
      assert.match(await textOf(page, '#train-hint'), /Ready to train on 4 examples of 3 classes/);
    });

    test('the test photos, by nearest neighbours before training: the right top label each', async () => {
      await checkTestPhotos(page, 'knn');
      assert.equal(await textOf(page, '#teach-method'), 'nearest neighbours');
      assert.equal(await page.evaluate(() => document.querySelector('#teach-image').alt), TEST.hotdog);
    });

    test('Train: the progress reaches the last epoch; then the softmax head ranks them right', async () => {
      assert.equal(await page.evaluate(() => document.querySelector('#epochs').value), '50');
      await page.click('#train');
      await page.waitFor(() => document.querySelector('#train-form').dataset.state === 'trained'
        || !document.querySelector('#error').hidden, null, { what: 'the training to end' });
      assert.equal(await errorText(page), null);
      const shown = await page.evaluate(() => {
        const bar = document.querySelector('#train-progress');
        return {
          value: bar.value, max: bar.max, epoch: document.querySelector('#train-epoch').textContent,
          loss: document.querySelector('#train-loss').textContent, time: document.querySelector('#train-time').textContent,
          epochs: document.querySelector('#train-form').dataset.epochs, disabled: document.querySelector('#train').disabled,
        };
      });
      assert.deepEqual([shown.value, shown.max, shown.epoch, shown.epochs], [50, 50, '50 / 50', '50']);
      assert.match(shown.loss, /^\d+\.\d{4}$/);
      assert.ok(Number(shown.loss) < 0.5, `final loss ${shown.loss}`);
      assert.match(shown.time, /^\d+(\.\d)? ms$/);
      assert.equal(shown.disabled, false);
      assert.match(await textOf(page, '#status-text'), /^Trained 50 epochs in .*: final loss \d/);
      // The test photo shown is ranked again by the trained head at once.
      await page.waitFor(() => document.querySelector('#teach-predictions').dataset.method === 'softmax', null, { what: 'a softmax ranking' });
      await checkTestPhotos(page, 'softmax');
      assert.equal(await textOf(page, '#teach-method'), 'trained head');
    });

    test('.json and .tflite downloads', async () => {
      const json = await download(ctx, page, '#save-json');
      assert.equal(json.name, 'my-classifier.json');
      assert.ok(json.bytes.length > 0);
      const parsed = JSON.parse(json.bytes.toString('utf8'));
      assert.equal(parsed.format, 'mobilenetv2-wasm/classifier');
      assert.deepEqual(parsed.labels, ['cat', 'dog', 'hotdog']);
      assert.deepEqual(parsed.examples.map((e) => e.label), ['cat', 'dog', 'hotdog', 'hotdog']);
      assert.ok(parsed.head, 'the trained head is saved');
      const tflite = await download(ctx, page, '#save-tflite');
      assert.equal(tflite.name, 'my-classifier.tflite');
      assert.ok(tflite.bytes.length > 1e6, `${tflite.bytes.length} bytes`);
      assert.equal(tflite.bytes.subarray(4, 8).toString('latin1'), 'TFL3', 'a TFLite flatbuffer');
      saved = { json, tflite };
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('the .json read back restores a removed class, its examples and the trained head', async () => {
      assert.ok(saved, 'the downloads test ran');
      await page.click(`${card('hotdog')} button.remove`);
      await page.waitFor(() => !document.querySelector('#classes li[data-label="hotdog"]'));
      assert.deepEqual(await counts(page), { cat: 1, dog: 1 });
      assert.equal(await attrOf(page, '#train-form', 'data-state'), 'untrained', 'removing a class undoes the training');
      await page.setInputFiles('#load-json', { name: 'my-classifier.json', mimeType: 'application/json', buffer: saved.json.bytes });
      await page.waitFor(() => !!document.querySelector('#classes li[data-label="hotdog"]')
        || !document.querySelector('#error').hidden, null, { what: 'the classes of the .json' });
      assert.equal(await errorText(page), null);
      assert.deepEqual(await counts(page), { cat: 1, dog: 1, hotdog: 2 });
      assert.equal(await attrOf(page, '#train-form', 'data-state'), 'trained');
      assert.match(await textOf(page, `${card('hotdog')} .thumbs`), /loaded from a file/);
      await checkTestPhotos(page, 'softmax');
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('the .tflite opened is a model of Classify mode, with the labels of its file', async () => {
      await page.setInputFiles('#load-tflite', { name: 'my-classifier.tflite', mimeType: 'application/octet-stream', buffer: saved.tflite.bytes });
      await page.waitFor(() => document.querySelector('#variant').dataset.file === 'my-classifier.tflite'
        || !document.querySelector('#error').hidden, null, { what: 'the .tflite to load' });
      assert.equal(await errorText(page), null);
      assert.equal(await isVisible(page, '#classify-panel'), true);
      assert.equal(await attrOf(page, '#tab-classify', 'aria-selected'), 'true');
      assert.equal(await attrOf(page, '#variant', 'data-num-classes'), '3');
      for (const [label, file] of Object.entries(TEST)) {
        const top = await classifyFile(page, photo(file));
        assert.deepEqual(top.map((p) => p.label).sort(), ['cat', 'dog', 'hotdog']);
        assert.equal(top[0].label, label, `${file}: ${JSON.stringify(top)}`);
      }
      // Teach mode still has its classes, on the model it learned on.
      await page.click('#tab-teach');
      assert.deepEqual(await counts(page), { cat: 1, dog: 1, hotdog: 2 });
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('a photo dropped on a class is added to it; dropped elsewhere, it is tested', async () => {
      await page.evaluate(async () => {
        const blob = await (await fetch('/samples/cat.bmp')).blob();
        const drop = (target) => {
          const data = new DataTransfer();
          data.items.add(new File([blob], 'cat.bmp', { type: 'image/bmp' }));
          for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
          }
        };
        drop(document.querySelector('#classes li[data-label="cat"] .thumbs'));
      });
      await waitForCount(page, 'cat', 2);
      assert.equal(await attrOf(page, '#train-form', 'data-state'), 'untrained');
      const runs = await page.evaluate(() => Number(document.querySelector('#teach-predictions').dataset.runs));
      await page.evaluate(async () => {
        const blob = await (await fetch('/samples/cat.bmp')).blob();
        const data = new DataTransfer();
        data.items.add(new File([blob], 'dropped-cat.bmp', { type: 'image/bmp' }));
        document.querySelector('#teach-preview').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));
      });
      await page.waitFor((n) => {
        const list = document.querySelector('#teach-predictions');
        return Number(list.dataset.runs) > n && list.dataset.source === 'dropped-cat.bmp';
      }, runs, { what: 'the dropped photo classified' });
      assert.equal(await page.evaluate(() => document.querySelector('#teach-predictions li[data-label]').dataset.label), 'cat');
      assert.equal(await page.evaluate(() => document.querySelectorAll('.dragging').length), 0);
    });

    test('errors are explained in the page\'s error area', async () => {
      await page.setInputFiles(`${card('dog')} input[type="file"]`, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not pixels\n') });
      await page.waitForSelector('#error', { visible: true });
      let error = await shownError(page);
      assert.equal(error.code, 'E_IMAGE_DECODE');
      assert.equal(error.title, '“notes.txt” is not an image that can be read.');
      assert.equal((await counts(page)).dog, 1);
      await page.click('#error-close');
      await page.setInputFiles('#load-json', { name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": 1') });
      await page.waitForSelector('#error', { visible: true });
      error = await shownError(page);
      assert.equal(error.code, 'E_MODEL_FORMAT');
      assert.equal(error.title, '“broken.json” is not a file this page can read.');
      // A classifier of another model (other embedding size) is refused, and nothing changes.
      await page.click('#error-close');
      const other = JSON.stringify({ format: 'mobilenetv2-wasm/classifier', version: 1, featureSize: 1024, labels: [], examples: [], head: null });
      await page.setInputFiles('#load-json', { name: 'v1.json', mimeType: 'application/json', buffer: Buffer.from(other) });
      await page.waitForSelector('#error', { visible: true });
      error = await shownError(page);
      assert.equal(error.code, 'E_INVALID_ARGUMENT');
      assert.equal(error.title, '“v1.json” does not fit this model.');
      assert.deepEqual(await counts(page), { cat: 2, dog: 1, hotdog: 2 });
      await page.click('#error-close');
      assert.deepEqual(await page.errors(), [], 'no uncaught error or rejection');
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });

    test('removing every class empties the predictions and disables Train', async () => {
      for (const name of ['cat', 'dog', 'hotdog']) await page.click(`${card(name)} button.remove`);
      assert.deepEqual(await counts(page), {});
      assert.equal(await page.evaluate(() => document.querySelector('#train').disabled), true);
      assert.equal(await page.evaluate(() => document.querySelector('#save-tflite').disabled), true);
      await page.waitFor(() => !!document.querySelector('#teach-predictions li.empty'), null, { what: 'no predictions' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'class-name', 'the focus goes back to the name field');
    });

    test('screenshots, desktop and phone sized: nothing sticks out', async (t) => {
      for (const name of Object.keys(TRAIN)) await addClass(page, name);
      await addPhotos(page, 'cat', TRAIN.cat);
      await addPhotos(page, 'hotdog', TRAIN.hotdog);
      await addClass(page, 'a class with a very long name that goes on and on');
      await predictPhoto(page, TEST.hotdog, 'knn');
      await page.evaluate(() => document.fonts.ready.then(() => true));
      await page.screenshot(artifactPath(`teach-desktop-${ctx.engine}.png`), { fullPage: true });
      const phone = await page.setViewport(390, 844);
      if (phone.width !== 390) t.diagnostic(`the narrowest viewport this engine's window allows: ${phone.width}px`);
      await sleep(300);
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        width: innerWidth,
        outside: [...document.querySelectorAll('#teach-panel *')].filter((el) => el.getClientRects().length > 0
          && !el.closest('.visually-hidden') && el.getBoundingClientRect().right > innerWidth + 0.5).map((el) => el.className || el.tagName),
      }));
      assert.ok(layout.scrollWidth <= layout.width, `the page is ${layout.scrollWidth}px wide on a ${layout.width}px screen`);
      assert.deepEqual(layout.outside, []);
      await page.screenshot(artifactPath(`teach-phone-${ctx.engine}.png`), { fullPage: true });
      await page.setViewport(1200, 900);
      assert.deepEqual(await page.errors(), []);
      assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
    });
  });

  for (const [query, what] of [['?worker=1', 'with ?worker=1, Teach mode learns on the page and the .tflite classifies in the Web Worker'],
    ['?simd=0', 'with ?simd=0, Teach mode learns on the build without SIMD']]) {
    test(what, async () => {
      await withPage(ctx.browser, {}, async (page) => {
        const variant = await openDemo(page, server.url, `${query}#teach`);
        assert.equal(variant.state, 'ready', variant.text);
        assert.equal(variant.where, query === '?worker=1' ? 'Web Worker' : 'main thread');
        for (const [name, files] of Object.entries(TRAIN)) {
          await addClass(page, name);
          await addPhotos(page, name, files);
        }
        assert.equal((await predictPhoto(page, TEST.dog, 'knn')).top[0].label, 'dog');
        await page.evaluate(() => { document.querySelector('#epochs').value = '20'; });
        await page.click('#train');
        await page.waitFor(() => document.querySelector('#train-form').dataset.state === 'trained'
          || !document.querySelector('#error').hidden, null, { what: 'the training to end' });
        assert.equal(await textOf(page, '#train-epoch'), '20 / 20');
        assert.equal((await predictPhoto(page, TEST.cat, 'softmax')).top[0].label, 'cat');
        const tflite = await download(ctx, page, '#save-tflite');
        await page.setInputFiles('#load-tflite', { name: 'mine.tflite', mimeType: 'application/octet-stream', buffer: tflite.bytes });
        await page.waitFor(() => document.querySelector('#variant').dataset.file === 'mine.tflite'
          || !document.querySelector('#error').hidden, null, { what: 'the .tflite to load' });
        assert.equal(await errorText(page), null);
        const opened = await page.evaluate(() => ({ ...document.querySelector('#variant').dataset }));
        assert.equal(opened.where, variant.where);
        assert.equal(opened.simd, variant.simd);
        const top = await classifyFile(page, photo(TEST.hotdog));
        assert.equal(top[0].label, 'hotdog', JSON.stringify(top));
        assert.deepEqual(await page.errors(), []);
        assert.deepEqual(await page.consoleMessages(), [], 'the console stays clean');
      });
    });
  }

  test('#teach opens Teach mode; the tabs follow the arrow keys', async () => {
    await withPage(ctx.browser, {}, async (page) => {
      await openDemo(page, server.url, '#teach');
      assert.equal(await isVisible(page, '#teach-panel'), true);
      assert.equal(await attrOf(page, '#tab-teach', 'aria-selected'), 'true');
      await page.evaluate(() => {
        document.querySelector('#tab-teach').focus();
        document.querySelector('#tab-teach').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
      });
      assert.equal(await isVisible(page, '#classify-panel'), true);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-classify');
      assert.equal(await page.evaluate(() => location.hash), '');
    });
  });
});

