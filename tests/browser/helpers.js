// Shared by the browser tests: Debian's Chromium driven by playwright-core, the demo server,
// and the reference labels of the real photos in ../shared/images (read there, never copied).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, sharedDir, start } from '../../scripts/serve.js';

export { REPO, start };
export const IMAGES = path.join(sharedDir(), 'images');
export const ARTIFACTS = path.join(REPO, 'artifacts');
export const MODEL_KEY = 'mobilenet_v2_1.0_224_quant.tflite';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The photos with a reference top-1 for the default model: [{ name, file, index, label }]. */
export function references() {
  const all = JSON.parse(readFileSync(path.join(IMAGES, 'reference_top5.json'), 'utf8'))[MODEL_KEY];
  assert.ok(all, `reference_top5.json has no entry for ${MODEL_KEY}`);
  return Object.entries(all)
    .filter(([name]) => /\.(bmp|jpe?g|png|gif)$/i.test(name) && existsSync(path.join(IMAGES, name)))
    .map(([name, top]) => ({ name, file: path.join(IMAGES, name), index: top[0][0], label: top[0][1] }));
}

/** Fails early, and in words, when the package is not built or Chromium is missing. */
export function checkPrerequisites() {
  for (const f of ['dist/mnv2-simd.wasm', 'dist/mnv2-nosimd.wasm', 'models/mobilenet_v2_1.0_224_quant.tflite']) {
    assert.ok(existsSync(path.join(REPO, f)), `${f} is missing: run npm run build first`);
  }
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  assert.ok(existsSync(IMAGES), `${IMAGES} is missing (set MNV2_SHARED_DIR)`);
}

/** Launches Chromium with a fresh profile (playwright makes a temporary user-data dir). */
export function launch(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...extraArgs], timeout: 60_000 });
}

/** A new page that fails the test on uncaught page errors; returns { page, errors }. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(60_000);
  return { page, errors, context };
}

export function artifactPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

// ---------------------------------------------------------------------------------------------
// The demo page, driven through its own controls.

/** Opens the demo and waits until the model has loaded; returns the variant shown. */
export async function openDemo(page, baseUrl, query = '') {
  await page.goto(`${baseUrl}/web/demo/${query}`);
  await page.waitForSelector('#variant[data-state="ready"], #variant[data-state="error"]');
  return page.$eval('#variant', (el) => ({ ...el.dataset, text: el.innerText }));
}

const runs = (page) => page.$eval('#predictions', (el) => Number(el.dataset.runs));

/** Waits for the classification after `action` and returns the top-5 shown: [{ index, label, score }]. */
export async function classifyWith(page, action) {
  if (await page.isVisible('#error')) await page.click('#error-close');
  const before = await runs(page);
  await action();
  await page.waitForFunction((n) => {
    const shown = Number(document.querySelector('#predictions').dataset.runs);
    return shown > n || !document.querySelector('#error').hidden;
  }, before);
  const error = await page.$eval('#error', (el) => (el.hidden ? null : el.innerText));
  assert.equal(error, null, `the page shows an error: ${error}`);
  return shownPredictions(page);
}

export function shownPredictions(page) {
  return page.$$eval('#predictions li[data-index]', (items) => items.map((li) => ({
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

/** The error the page shows: { title, text, code } or null. */
export function shownError(page) {
  return page.$eval('#error', (el) => (el.hidden ? null : {
    title: el.querySelector('#error-title').textContent,
    text: el.innerText,
    code: el.dataset.code,
  }));
}
