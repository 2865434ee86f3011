// Shared by the browser tests: the engines (engines.js: Chromium, Firefox, WebKit behind one
// driver interface), the demo server, and the reference labels of the real photos in
// ../shared/images (read there, never copied).
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { REPO, sharedDir, start } from '../../scripts/serve.js';
import { launchEngine, selectedEngines, sleep } from './engines.js';

export { REPO, sleep, start };
export const IMAGES = path.join(sharedDir(), 'images');
export const ARTIFACTS = path.join(REPO, 'artifacts');
export const MODEL_KEY = 'mobilenet_v2_1.0_224_quant.tflite';

/** The photos with a reference top-1 for the default model: [{ name, file, index, label }]. */
export function references() {
  const all = JSON.parse(readFileSync(path.join(IMAGES, 'reference_top5.json'), 'utf8'))[MODEL_KEY];
  assert.ok(all, `reference_top5.json has no entry for ${MODEL_KEY}`);
  return Object.entries(all)
    .filter(([name]) => /\.(bmp|jpe?g|png|gif)$/i.test(name) && existsSync(path.join(IMAGES, name)))
    .map(([name, top]) => ({ name, file: path.join(IMAGES, name), index: top[0][0], label: top[0][1] }));
}

/** Fails early, and in words, when the package is not built or the photos are missing. */
export function checkPrerequisites() {
  for (const f of ['dist/mnv2-simd.wasm', 'dist/mnv2-nosimd.wasm', 'models/mobilenet_v2_1.0_224_quant.tflite']) {
    assert.ok(existsSync(path.join(REPO, f)), `${f} is missing: run npm run build first`);
  }
  assert.ok(existsSync(IMAGES), `${IMAGES} is missing (set MNV2_SHARED_DIR)`);
}

export function artifactPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/**
 * The one way a browser test is written: `body(ctx)` defines the tests once, and runs once per
 * engine (MNV2_BROWSERS picks them), in a suite named "title [engine]". ctx.browser is launched
 * before the suite's tests (launchOptions: { fakeCamera }) and closed after; ctx.engine names it.
 */
export function eachEngine(title, body, launchOptions = {}) {
  for (const engine of selectedEngines()) {
    describe(`${title} [${engine}]`, () => {
      const ctx = { engine, browser: null };
      before(async () => {
        ctx.browser = await launchEngine(engine, launchOptions);
      });
      body(ctx);
      // After hooks run in the order they are registered: the suite's own (closing its pages) first.
      after(async () => {
        await ctx.browser?.close();
      });
    });
  }
}

// A page of each browser that withPage left open for the next one.
const spare = new WeakMap();

/**
 * Runs fn(page) on a page of `browser` as new (the one the last withPage on it finished with,
 * reused: engines.js Page.reuse; or a new one). The page is kept for the next only when fn
 * succeeded; it is closed when fn fails, or with the browser.
 */
export async function withPage(browser, viewport, fn) {
  let page = spare.get(browser);
  spare.delete(browser);
  if (page) {
    try {
      await page.reuse(viewport);
    } catch (e) {
      await page.close().catch(() => {});
      throw e;
    }
  } else {
    page = await browser.newPage(viewport);
  }
  let finished = false;
  try {
    const result = await fn(page);
    finished = true;
    return result;
  } finally {
    if (finished && !spare.has(browser)) spare.set(browser, page);
    else await page.close();
  }
}

/** One line of measurements per engine, gathered for the README's compatibility table. */
/**
 * The threads load() picks by default on `page`'s main thread (`where` 'page') or in a worker
 * ('worker'), for a SIMD build: on the main thread of a cross-origin isolated page with
 * SharedArrayBuffer the cores, at most 4; in a worker, or without them, 1.
 */
export async function defaultThreads(page, features, where = 'page') {
  if (where !== 'page' || !features.crossOriginIsolated || !features.sharedArrayBuffer) return 1;
  return Math.min(4, await page.evaluate(() => navigator.hardwareConcurrency || 1));
}

export function record(entry) {
  appendFileSync(artifactPath('browser-compat.jsonl'), `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Reading the page (the same in every engine: everything goes through page.evaluate).

export const textOf = (page, selector) => page.evaluate((s) => document.querySelector(s).textContent, selector);
export const isChecked = (page, selector) => page.evaluate((s) => document.querySelector(s).checked, selector);
export const attrOf = (page, selector, name) => page.evaluate(([s, n]) => document.querySelector(s).getAttribute(n), [selector, name]);
export const isVisible = (page, selector) => page.evaluate((s) => {
  const el = document.querySelector(s);
  return !!el && !el.hidden && el.getClientRects().length > 0;
}, selector);

// ---------------------------------------------------------------------------------------------
// The demo page, driven through its own controls.

/** Opens the demo and waits until the model has loaded; returns the variant shown. */
export async function openDemo(page, baseUrl, query = '') {
  await page.goto(`${baseUrl}/web/demo/${query}`);
  return waitForVariant(page);
}

/** Waits until the demo has loaded its model (or failed to); returns the variant shown. */
export async function waitForVariant(page) {
  await page.waitForSelector('#variant[data-state="ready"], #variant[data-state="error"]');
  return page.evaluate(() => {
    const el = document.querySelector('#variant');
    return { ...el.dataset, text: el.innerText };
  });
}

const runs = (page) => page.evaluate(() => Number(document.querySelector('#predictions').dataset.runs));

/** Waits for the classification after `action` and returns the top-5 shown: [{ index, label, score }]. */
export async function classifyWith(page, action) {
  if (await isVisible(page, '#error')) await page.click('#error-close');
  const before = await runs(page);
  await action();
  await page.waitFor((n) => {
    const shown = Number(document.querySelector('#predictions').dataset.runs);
    return shown > n || !document.querySelector('#error').hidden;
  }, before, { what: 'a classification or an error' });
  const error = await page.evaluate(() => {
    const el = document.querySelector('#error');
    return el.hidden ? null : el.innerText;
  });
  assert.equal(error, null, `the page shows an error: ${error}`);
  return shownPredictions(page);
}

export function shownPredictions(page) {
  return page.evaluate(() => [...document.querySelectorAll('#predictions li[data-index]')].map((li) => ({
    index: Number(li.dataset.index),
    label: li.querySelector('.label').textContent,
    score: Number(li.dataset.score),
    pct: li.querySelector('.pct').textContent,
  })));
}

/** Classifies a file through the page's file input. */
export function classifyFile(page, file) {
  return classifyWith(page, () => page.setInputFiles('#file', file));
}

/** Classifies a sample photo by clicking it in the gallery. */
export function classifySample(page, name) {
  return classifyWith(page, () => page.click(`#gallery button[data-name="${name}"]`));
}

const segmentRuns = (page) => page.evaluate(() => Number(document.querySelector('#legend').dataset.runs));

/**
 * Segment mode (a segmentation model): waits for the segmentation after `action` and returns the
 * legend shown: [{ index, label, share, pixels, pct, color: [r, g, b] }], the background last.
 */
export async function segmentWith(page, action) {
  if (await isVisible(page, '#error')) await page.click('#error-close');
  const before = await segmentRuns(page);
  await action();
  await page.waitFor((n) => Number(document.querySelector('#legend').dataset.runs) > n
    || !document.querySelector('#error').hidden, before, { what: 'a segmentation or an error' });
  const error = await page.evaluate(() => {
    const el = document.querySelector('#error');
    return el.hidden ? null : el.innerText;
  });
  assert.equal(error, null, `the page shows an error: ${error}`);
  return shownLegend(page);
}

export function shownLegend(page) {
  return page.evaluate(() => [...document.querySelectorAll('#legend li[data-index]')].map((li) => ({
    index: Number(li.dataset.index),
    label: li.querySelector('.label').textContent,
    share: Number(li.dataset.share),
    pixels: Number(li.dataset.pixels),
    pct: li.querySelector('.pct').textContent,
    color: li.dataset.color.split(',').map(Number),
  })));
}

/** Segments a sample photo by clicking it in the gallery (Segment mode). */
export function segmentSample(page, name) {
  return segmentWith(page, () => page.click(`#gallery button[data-name="${name}"]`));
}

/** The error the page shows: { title, text, code } or null. */
export function shownError(page) {
  return page.evaluate(() => {
    const el = document.querySelector('#error');
    return el.hidden ? null : {
      title: el.querySelector('#error-title').textContent,
      text: el.innerText,
      code: el.dataset.code,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The demo's Teach mode, driven through its own controls (teach.test.js; demo.test.js with a webcam).

export const card = (name) => `#classes li[data-label="${name}"]`;

/** Opens the demo, waits for the model, and switches to Teach mode with its tab. */
export async function openTeach(page, baseUrl) {
  const variant = await openDemo(page, baseUrl);
  assert.equal(variant.state, 'ready', variant.text);
  await page.click('#tab-teach');
  await page.waitForSelector('#teach-panel', { visible: true });
  assert.equal(await isVisible(page, '#classify-panel'), false);
  assert.equal(await page.evaluate(() => location.hash), '#teach');
}

/** Types a class name and presses Add class. */
export async function addClass(page, name) {
  await page.evaluate((n) => {
    const input = document.querySelector('#class-name');
    input.focus();
    input.value = n;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, name);
  await page.click('#new-class button[type="submit"]');
  await page.waitForSelector(card(name));
}

/** { class: examples } as the cards show them, in their order (pairs cross WebDriver in order, objects' keys may not). */
export async function counts(page) {
  return Object.fromEntries(await page.evaluate(() => [...document.querySelectorAll('#classes li.class-card')]
    .map((li) => [li.dataset.label, Number(li.dataset.count)])));
}

export const errorText = (page) => page.evaluate(() => (document.querySelector('#error').hidden ? null : document.querySelector('#error').innerText));



/** Holds a class's Record button for `ms`: with the mouse, or with the keyboard's Space. */
export async function holdRecord(ctx, page, name, ms, device) {
  const selector = `${card(name)} button.record`;
  if (ctx.engine === 'webkit') {
    // Aimed at the button's centre in viewport coordinates. With the element as the pointer's
    // origin, WebKit lays the element out within the action; that action once failed with an
    // empty 'unknown error' (CI, a busy machine). Here the action only sends input.
    const { x, y } = await page.centre(selector);
    const actions = device === 'pointer'
      ? [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions: [
        { type: 'pointerMove', origin: 'viewport', x, y }, { type: 'pointerDown', button: 0 },
        { type: 'pause', duration: ms }, { type: 'pointerUp', button: 0 }] }]
      : [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value: '\uE00D' }, { type: 'pause', duration: ms }, { type: 'keyUp', value: '\uE00D' }] }];
    if (device !== 'pointer') await page.evaluate((s) => document.querySelector(s).focus(), selector);
    await page.command('POST', '/actions', { actions });
    await page.command('DELETE', '/actions');
    return;
  }
  const p = page.page; // Playwright's page (Chromium) or puppeteer's (Firefox): the same calls
  if (device === 'pointer') {
    await p.hover(selector);
    await p.mouse.down();
    await sleep(ms);
    await p.mouse.up();
  } else {
    const space = ctx.engine === 'chromium' ? 'Space' : ' '; // Playwright's name, puppeteer's
    await p.focus(selector);
    await p.keyboard.down(space);
    await sleep(ms);
    await p.keyboard.up(space);
  }
}
