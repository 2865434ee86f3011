// The three browser engines the browser tests run in, behind one small driver interface, so that
// each test is written once and runs in every engine:
//   chromium  Debian's chromium, through playwright-core (Chrome DevTools Protocol);
//   firefox   Debian's firefox-esr, through puppeteer-core (WebDriver BiDi);
//   webkit    Debian's WebKitGTK MiniBrowser, through WebKitWebDriver (W3C WebDriver over HTTP,
//             a client of a few lines below), on an Xvfb display (its own unless DISPLAY is set).
// All three come from Debian packages (scripts/setup.sh browser); nothing is downloaded.
//
//   const browser = await launchEngine('firefox', { fakeCamera: true });
//   const page = await browser.newPage({ width: 1200, height: 900 });
//   await page.goto(url); await page.click('#button'); await page.setInputFiles('#file', path);
//   const x = await page.evaluate((arg) => ..., arg);      // arg and result: JSON values
//   await page.waitFor((arg) => ..., arg);                  // polls until truthy, returns the value
//   await page.screenshot(file, { fullPage: true });
//   const { width, height } = await page.setViewport(390, 844);   // the viewport reached
//   await page.errors();                                   // uncaught errors of the page so far
//   await page.consoleMessages();                          // its console's warnings and errors so far
//   await page.close(); await browser.close();
//
// MNV2_BROWSERS=chromium,firefox picks engines (default: all three); CHROMIUM_PATH, FIREFOX_PATH,
// MINIBROWSER_PATH and WEBKIT_DRIVER_PATH override the Debian paths.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

export const PATHS = {
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  firefox: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
  webkit: process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  webkitDriver: process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver',
  xvfb: '/usr/bin/Xvfb',
};

const DEBIAN_PACKAGE = { chromium: 'chromium', firefox: 'firefox-esr', webkit: 'webkit2gtk-driver', webkitDriver: 'webkit2gtk-driver', xvfb: 'xvfb' };

/** The engines to test: $MNV2_BROWSERS (comma-separated) or all three. */
export function selectedEngines() {
  const wanted = (process.env.MNV2_BROWSERS || ENGINES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of wanted) assert.ok(ENGINES.includes(name), `MNV2_BROWSERS: unknown engine ${name} (${ENGINES})`);
  return wanted;
}

/** Fails early, and in words, when an engine's binaries are missing. */
export function checkEngine(name) {
  const needed = name === 'webkit' ? ['webkit', 'webkitDriver', ...(process.env.DISPLAY ? [] : ['xvfb'])] : [name];
  for (const key of needed) {
    assert.ok(existsSync(PATHS[key]), `${PATHS[key]} is missing: run scripts/setup.sh browser (apt-get install ${DEBIAN_PACKAGE[key]})`);
  }
}

const TIMEOUT = 60_000;
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Launches an engine: resolves to { engine, version, newPage(viewport), close() }. */
export async function launchEngine(name, options = {}) {
  checkEngine(name);
  if (name === 'chromium') return launchChromium(options);
  if (name === 'firefox') return launchFirefox(options);
  if (name === 'webkit') return launchWebKit(options);
  throw new Error(`unknown engine ${name}`);
}

// Files given as { name, mimeType, buffer } are written to a temporary folder under their name
// (puppeteer and WebDriver upload files by path).
const uploads = [];
function fileOnDisk(file) {
  if (typeof file === 'string') return path.resolve(file);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mnv2-upload-'));
  uploads.push(dir);
  const p = path.join(dir, file.name);
  writeFileSync(p, file.buffer);
  return p;
}
process.on('exit', () => {
  for (const dir of uploads) rmSync(dir, { recursive: true, force: true });
});

// A new page's viewport, unless asked otherwise.
const VIEWPORT = { width: 1280, height: 720 };

/** What every driver's page shares: polling, built on evaluate; reuse, built on blank and forget. */
class Page {
  /**
   * Readies a page that a test has finished with for the next one, as a new page would be: a blank
   * document, the viewport asked for, no errors or console messages recorded. Its browser context
   * (HTTP cache, permissions) stays. A new page costs 0.6-2.4 s of CPU (WebKit: a new
   * WebKitWebDriver and MiniBrowser); this, 0.1-0.3 s.
   */
  async reuse({ width = VIEWPORT.width, height = VIEWPORT.height } = {}) {
    await this.blank();
    this.forget();
    await this.setViewport(width, height);
  }

  /** Polls fn(arg) in the page until it returns a truthy value, which it returns. */
  async waitFor(fn, arg, { timeout = TIMEOUT, interval = 50, what } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const value = await this.evaluate(fn, arg);
        if (value) return value;
        last = null;
      } catch (e) {
        last = e; // e.g. the page is navigating
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeout} ms waiting for ${what ?? fn.toString()}${last ? ` (last error: ${last.message})` : ''}`);
      }
      await sleep(interval);
    }
  }

  /** Waits until the element matching `selector` exists (and is shown, with { visible: true }). */
  waitForSelector(selector, { visible = false, timeout } = {}) {
    return this.waitFor(({ selector, visible }) => {
      const el = document.querySelector(selector);
      return !!el && (!visible || (!el.hidden && el.getClientRects().length > 0));
    }, { selector, visible }, { timeout, what: `${selector}${visible ? ' to be visible' : ''}` });
  }
}

// ---------------------------------------------------------------------------------------------
// Chromium: playwright-core.

async function launchChromium({ fakeCamera = false } = {}) {
  const { chromium } = await import('playwright-core');
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (fakeCamera) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream');
  const browser = await chromium.launch({ executablePath: PATHS.chromium, args, timeout: TIMEOUT });
  return {
    engine: 'chromium',
    version: `Chromium ${browser.version()}`,
    async newPage({ width = VIEWPORT.width, height = VIEWPORT.height } = {}) {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      return new PlaywrightPage(page, context);
    },
    close: () => browser.close(),
  };
}

class PlaywrightPage extends Page {
  #errors = [];
  #console = [];

  constructor(page, context) {
    super();
    this.page = page;
    this.context = context;
    page.on('pageerror', (e) => this.#errors.push(e.message));
    page.on('console', (m) => {
      const where = m.location()?.url ? ` (${m.location().url})` : '';
      if (m.type() === 'warning' || m.type() === 'error') this.#console.push(`${m.type()}: ${m.text()}${where}`);
    });
  }

  async goto(url) { await this.page.goto(url); }
  async blank() { await this.page.goto('about:blank'); }
  forget() {
    this.#errors.length = 0;
    this.#console.length = 0;
  }
  evaluate(fn, arg) { return this.page.evaluate(fn, arg); }
  click(selector) { return this.page.click(selector); }
  setInputFiles(selector, file) { return this.page.setInputFiles(selector, file); }
  async screenshot(file, { fullPage = false } = {}) { await this.page.screenshot({ path: file, fullPage }); }
  async setViewport(width, height) {
    await this.page.setViewportSize({ width, height });
    return { width, height };
  }
  async errors() { return [...this.#errors]; }
  async consoleMessages() { return [...this.#console]; }
  close() { return this.context.close(); }
}

// ---------------------------------------------------------------------------------------------
// Firefox: puppeteer-core over WebDriver BiDi.

async function launchFirefox({ fakeCamera = false } = {}) {
  const { default: puppeteer } = await import('puppeteer-core');
  const prefs = {
    'app.update.disabledForTesting': true,
    'browser.safebrowsing.update.enabled': false,
    'network.captive-portal-service.enabled': false,
    'toolkit.telemetry.enabled': false,
  };
  if (fakeCamera) {
    Object.assign(prefs, { 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true });
  }
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: PATHS.firefox,
    headless: true,
    timeout: TIMEOUT,
    protocolTimeout: 2 * TIMEOUT,
    extraPrefsFirefox: prefs,
    defaultViewport: null,
  });
  const version = (await browser.version()).replace(/^firefox\//i, '');
  return {
    engine: 'firefox',
    version: `Firefox ESR ${version}`,
    async newPage({ width = VIEWPORT.width, height = VIEWPORT.height } = {}) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      await page.setViewport({ width, height });
      return new PuppeteerPage(page, context);
    },
    close: () => browser.close(),
  };
}

class PuppeteerPage extends Page {
  #errors = [];
  #console = [];

  constructor(page, context) {
    super();
    this.page = page;
    this.context = context;
    page.on('pageerror', (e) => this.#errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'warn' || m.type() === 'error') this.#console.push(`${m.type()}: ${m.text()}`);
    });
  }

  async goto(url) { await this.page.goto(url, { waitUntil: 'load' }); }
  async blank() { await this.page.goto('about:blank', { waitUntil: 'load' }); }
  forget() {
    this.#errors.length = 0;
    this.#console.length = 0;
  }
  evaluate(fn, arg) { return this.page.evaluate(fn, arg); }
  click(selector) { return this.page.click(selector); }
  async setInputFiles(selector, file) {
    const input = await this.page.$(selector);
    assert.ok(input, `no ${selector}`);
    await input.uploadFile(fileOnDisk(file));
    await input.dispose();
  }
  async screenshot(file, { fullPage = false } = {}) { await this.page.screenshot({ path: file, fullPage }); }
  async setViewport(width, height) {
    await this.page.setViewport({ width, height });
    return { width, height };
  }
  async errors() { return [...this.#errors]; }
  async consoleMessages() { return [...this.#console]; }
  close() { return this.context.close(); }
}

// ---------------------------------------------------------------------------------------------
// WebKit: WebKitGTK's MiniBrowser through WebKitWebDriver, a W3C WebDriver (HTTP + JSON) server.

// WebDriver's element reference key.
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts Xvfb on a free display number; resolves to { display, close() }. */
async function startXvfb() {
  const xvfb = spawn(PATHS.xvfb, ['-displayfd', '3', '-screen', '0', '1920x1200x24', '-nolisten', 'tcp'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  xvfb.stderr.on('data', (c) => { stderr += c; });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start:\n${stderr}`)), 20_000);
    xvfb.stdio[3].on('data', (c) => {
      out += c;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}):\n${stderr}`));
    });
  });
  return { display, close: () => stopProcess(xvfb) };
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// WebKitWebDriver drives one session (one MiniBrowser) at a time: each page gets its own driver.
async function startWebKitDriver(env) {
  const port = await freePort();
  const driver = spawn(PATHS.webkitDriver, [`--port=${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  driver.stdout.on('data', (c) => { log = (log + c).slice(-4000); });
  driver.stderr.on('data', (c) => { log = (log + c).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      assert.equal(driver.exitCode, null, `WebKitWebDriver exited:\n${log}`);
      try {
        if ((await (await fetch(`${base}/status`)).json()).value?.ready) break;
      } catch {
        // not listening yet
      }
      assert.ok(Date.now() < deadline, `WebKitWebDriver did not start:\n${log}`);
      await sleep(50);
    }
  } catch (e) {
    await stopProcess(driver);
    throw e;
  }
  return { base, close: () => stopProcess(driver) };
}

async function launchWebKit({ fakeCamera = false } = {}) {
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const env = { ...process.env, DISPLAY: xvfb?.display ?? process.env.DISPLAY };
  const args = ['--automation'];
  if (fakeCamera) args.push('--enable-media-stream=true', '--enable-mock-capture-devices=true');
  const capabilities = {
    capabilities: {
      alwaysMatch: {
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: PATHS.webkit, args },
      },
    },
  };
  const pages = new Set();
  let version = null;
  return {
    engine: 'webkit',
    get version() { return version; },
    async newPage({ width = VIEWPORT.width, height = VIEWPORT.height } = {}) {
      const driver = await startWebKitDriver(env);
      let page;
      try {
        const session = await webdriver(driver.base, 'POST', '/session', capabilities);
        version = `WebKitGTK ${session.capabilities.browserVersion}`;
        page = new WebDriverPage(driver.base, session.sessionId, async () => {
          pages.delete(page);
          await driver.close();
        });
        pages.add(page);
        await page.command('POST', '/timeouts', { script: 2 * TIMEOUT, pageLoad: TIMEOUT, implicit: 0 });
        await page.setViewport(width, height);
        return page;
      } catch (e) {
        if (page) await page.close().catch(() => {});
        else await driver.close();
        throw e;
      }
    },
    async close() {
      for (const page of [...pages]) await page.close().catch(() => {});
      await xvfb?.close();
    },
  };
}

async function webdriver(base, method, route, body) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json; charset=utf-8' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(3 * TIMEOUT), // a hung browser fails the test instead of stalling the suite
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`WebDriver ${method} ${route}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  }
  if (!response.ok || json.value?.error) {
    const { error, message } = json.value ?? {};
    throw new Error(`WebDriver ${method} ${route}: ${error ?? response.status}: ${message ?? text.slice(0, 500)}`);
  }
  return json.value;
}

// Runs the function's source in the page (Execute Async Script) and settles with its result.
const wrap = (fn) => `const done = arguments[arguments.length - 1];
const fn = (${fn.toString()});
Promise.resolve().then(() => fn(arguments[0])).then(
  (value) => done({ ok: true, value: value === undefined ? null : value }),
  (e) => done({ ok: false, message: e && e.message !== undefined ? String(e.message) : String(e) }));`;

class WebDriverPage extends Page {
  #base;
  #id;
  #onClose;

  constructor(base, id, onClose) {
    super();
    this.#base = base;
    this.#id = id;
    this.#onClose = onClose;
  }

  command(method, route, body) {
    return webdriver(this.#base, method, `/session/${this.#id}${route}`, body);
  }

  async goto(url) {
    await this.command('POST', '/url', { url });
    // WebDriver classic has no page events: the page records its own uncaught errors, and what its
    // console.warn / console.error print, from here on (not what the page printed while loading).
    await this.evaluate(() => {
      if (window.__mnv2Errors) return;
      window.__mnv2Errors = [];
      window.__mnv2Console = [];
      addEventListener('error', (e) => window.__mnv2Errors.push(e.message));
      addEventListener('unhandledrejection', (e) => window.__mnv2Errors.push(String(e.reason?.message ?? e.reason)));
      for (const type of ['warn', 'error']) {
        const original = console[type].bind(console);
        console[type] = (...args) => {
          window.__mnv2Console.push(`${type}: ${args.map(String).join(' ')}`);
          original(...args);
        };
      }
    });
  }

  async blank() { await this.command('POST', '/url', { url: 'about:blank' }); }
  forget() {} // what the page recorded went with its document

  async evaluate(fn, arg = null) {
    const r = await this.command('POST', '/execute/async', { script: wrap(fn), args: [arg ?? null] });
    if (!r?.ok) throw new Error(`in the page: ${r?.message}`);
    return r.value;
  }

  async #find(selector) {
    const el = await this.command('POST', '/element', { using: 'css selector', value: selector });
    return el[ELEMENT];
  }

  // Waits, as Playwright's actions do, until the element keeps its box across two animation
  // frames: WebDriver aims input where the element is when it is called, so on a page still
  // scrolling (the demo scrolls its error area into view smoothly) it lands elsewhere.
  // (A frame also ends after 100 ms, should the page get no animation frames.)
  async #holdStill(selector) {
    await this.waitFor((s) => new Promise((resolve) => {
      const el = document.querySelector(s);
      if (!el) return resolve(true); // Element Click says what is missing
      const box = () => JSON.stringify(el.getBoundingClientRect());
      const before = box();
      const frame = () => new Promise((done) => {
        requestAnimationFrame(done);
        setTimeout(done, 100);
      });
      return frame().then(frame).then(() => resolve(box() === before));
    }), selector, { what: `${selector} to hold still`, interval: 0 });
  }

  async click(selector) {
    await this.#holdStill(selector);
    await this.command('POST', `/element/${await this.#find(selector)}/click`, {});
  }

  /** The element's centre in viewport coordinates, scrolled into view and holding still. */
  async centre(selector) {
    await this.evaluate((s) => document.querySelector(s).scrollIntoView({ block: 'center' }), selector);
    await this.#holdStill(selector);
    return this.evaluate((s) => {
      const r = document.querySelector(s).getBoundingClientRect();
      return { x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2) };
    }, selector);
  }

  async setInputFiles(selector, file) {
    // Element Send Keys on <input type=file> sets its files (and fires input and change).
    await this.command('POST', `/element/${await this.#find(selector)}/value`, { text: fileOnDisk(file) });
  }

  async screenshot(file, { fullPage = false } = {}) {
    // Screenshots are of the viewport: for the whole page, the window is made as tall as the page.
    const size = fullPage ? await this.evaluate(() => [innerWidth, innerHeight, document.documentElement.scrollHeight]) : null;
    if (size && size[2] > size[1]) {
      await this.setViewport(size[0], size[2]);
      await this.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    }
    try {
      writeFileSync(file, Buffer.from(await this.command('GET', '/screenshot'), 'base64'));
    } finally {
      if (size && size[2] > size[1]) await this.setViewport(size[0], size[1]);
    }
  }

  /**
   * Sizes the window so that the page's viewport (innerWidth x innerHeight) is width x height, or as
   * close as the window allows (MiniBrowser's window is at least about 450 px wide).
   */
  async setViewport(width, height) {
    let w = width;
    let h = height;
    let inner;
    for (let i = 0; i < 3; i++) {
      await this.command('POST', '/window/rect', { width: w, height: h });
      inner = await this.evaluate(() => [innerWidth, innerHeight]);
      if (inner[0] === width && inner[1] === height) break;
      w = Math.max(1, w + width - inner[0]);
      h = Math.max(1, h + height - inner[1]);
    }
    return { width: inner[0], height: inner[1] };
  }

  async errors() {
    return (await this.evaluate(() => window.__mnv2Errors ?? [])) ?? [];
  }

  async consoleMessages() {
    return (await this.evaluate(() => window.__mnv2Console ?? [])) ?? [];
  }

  async close() {
    if (!this.#onClose) return;
    const onClose = this.#onClose;
    this.#onClose = null;
    try {
      await this.command('DELETE', ''); // quits MiniBrowser
    } finally {
      await onClose();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What each engine, in the Debian version tested, offers the package (tests/browser/pages/kinds.js
// features(), the same on the page and in a module worker). inputs.test.js asserts these, so that
// a new browser version that changes one is noticed, and asserts what the package then does.
const ALL = {
  wasmSimd: true, // WebAssembly SIMD: the SIMD build loads
  relaxedSimd: true, // WebAssembly relaxed SIMD: simd: 'auto' loads the relaxed build
  crossOriginIsolated: true, // COOP/COEP (scripts/serve.js) are honoured
  sharedArrayBuffer: true, // the SharedArrayBuffer global (what a threaded build's glue would need)
  sharedWasmMemory: true, // new WebAssembly.Memory({ shared: true })
  offscreenCanvas2d: true, // OffscreenCanvas with a 2D context, also in workers: DOM images become pixels there
  videoFrame: true, // WebCodecs' VideoFrame
  createImageBitmap: true,
  compileStreaming: true, // WebAssembly.compileStreaming
};
export const FEATURES = {
  chromium: { ...ALL },
  firefox: { ...ALL },
  // WebKitGTK 2.50: the page is cross-origin isolated and shared WebAssembly memories work, but the
  // SharedArrayBuffer global is not exposed.
  // No relaxed SIMD in WebKitGTK 2.50: it gets the SIMD build.
  webkit: { ...ALL, sharedArrayBuffer: false, relaxedSimd: false },
};
