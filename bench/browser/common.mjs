// What every benchmark page (page.mjs, learner.mjs, segment.mjs) does alike: its log, fetching
// bytes, loading the anchors' UMD builds, and handing its result to the Node driver
// (bench/lib/chromium.mjs openAndWait waits for window[key] or window.benchError).

const out = document.getElementById('log');
/** A line in the page and, prefixed 'bench: ', on the console (echoed by the driver). */
export const log = (s) => {
  out.textContent += `\n${s}`;
  console.log(`bench: ${s}`);
};

export async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const scripts = new Map(); // each script once: tfjs-core serves TF.js and tfjs-tflite alike
export function script(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const s = Object.assign(document.createElement('script'), { src, crossOrigin: 'anonymous' });
      s.onload = resolve;
      s.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.append(s);
    }));
  }
  return scripts.get(src);
}

const TFJS_CORE = '/node_modules/@tensorflow/tfjs-core/dist/tf-core.es2017.min.js';
const TFJS_WASM_DIST = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
const TFLITE = '/node_modules/@tensorflow/tfjs-tflite/';

/** TF.js from its browser (UMD) builds; the wasm backend single-threaded, like ours. */
export async function importTfjs() {
  await script(TFJS_CORE);
  await script(`${TFJS_WASM_DIST}tf-backend-wasm.es2017.min.js`);
  const { tf } = globalThis;
  tf.wasm.setWasmPaths(TFJS_WASM_DIST);
  tf.wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not initialize');
  return tf;
}

/**
 * tfjs-tflite from its UMD build (global `tflite`, on tfjs-core's global `tf`; it needs no TF.js
 * backend: the benchmarks drive its model runner with the bytes). Its wasm builds are in the
 * package's wasm/ folder. In a cross-origin isolated page it takes its threaded SIMD build, and one
 * module serves every thread count (numThreads per model). Loading the script also starts a load
 * from dist/, next to the script, which is not there (one 404; setWasmPath comes after).
 * `build()` names the wasm build it fetched.
 */
export async function importTflite() {
  await script(TFJS_CORE);
  await script(`${TFLITE}dist/tf-tflite.min.js`);
  const { tflite } = globalThis;
  tflite.setWasmPath(`${TFLITE}wasm/`);
  const { version } = await fetch(`${TFLITE}package.json`).then((r) => r.json());
  const build = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)
    .filter((p) => p.startsWith(`${TFLITE}wasm/`) && p.endsWith('.wasm')).map((p) => p.split('/').pop().replace(/\.wasm$/, '')).at(-1) ?? null;
  return { tflite, version, build };
}

/** What the page ran on, added to its result. */
export const pageEnv = () => ({
  crossOriginIsolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency, userAgent: navigator.userAgent,
});

/** Sets window[key] to what `task` resolves to, or window.benchError to why it failed. */
export function publish(task, key) {
  task.then(
    (result) => {
      window[key] = result;
      log('done');
    },
    (error) => {
      window.benchError = String(error?.stack ?? error);
      log(`error: ${window.benchError}`);
    },
  );
}
