// The benchmark page (bench/browser.mjs drives it in headless Chromium; it also runs by hand:
// serve the repository with COOP/COEP headers and open /bench/browser/?warmup=20&runs=40).
//   ?mode=bench (default): every engine in this page, alternating; sets window.benchResult
//   ?mode=cold&engine=ours|ours2|ours8|ours8x2|ort1|ort2|ort8|ort8x2|tflite1|tflite2|tfjs: one cold start;
//   sets window.coldResult
import {
  createOrt, createOurs, createTfjs, createTflite, engineSets, inputsNeeded, parseEngine, prepareInput,
} from '../lib/engines.mjs';
import { checkAgreement, measure, measurePeak, ratios } from '../lib/harness.mjs';

const params = new URLSearchParams(location.search);
const out = document.getElementById('log');
const log = (s) => {
  out.textContent += `\n${s}`;
  console.log(`bench: ${s}`);
};

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';
const TFJS_CORE = '/node_modules/@tensorflow/tfjs-core/dist/tf-core.es2017.min.js';
const TFJS_WASM_DIST = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
const TFLITE = '/node_modules/@tensorflow/tfjs-tflite/';

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

// The .tflite bytes serve ours and tfjs-tflite alike: the very same file.
async function readInputs(which) {
  const needs = inputsNeeded(which);
  const [manifest, rgb, modelBytes, onnxBytes, onnxInt8Bytes, bin] = await Promise.all([
    fetch('/bench/out/weights.json').then((r) => r.json()),
    bytes('/bench/out/input.rgb'),
    needs.model ? bytes('/bench/out/model.tflite') : null,
    needs.onnx ? bytes('/bench/out/mobilenet_v2.onnx') : null,
    needs.onnxInt8 ? bytes('/bench/out/mobilenet_v2_int8.onnx') : null,
    needs.tfjsWeights ? bytes('/bench/out/weights.bin').then((b) => b.buffer) : null,
  ]);
  return { manifest, rgb, modelBytes, onnxBytes, onnxInt8Bytes, bin };
}

// onnxruntime-web/wasm (ort.wasm.bundle.min.mjs: the wasm EP, glue bundled), one module instance
// per thread count (float and integer sessions share it): env.wasm.numThreads sizes one global
// thread pool per instance.
const importOrt = (instance) => import(`${ORT_DIST}ort.wasm.bundle.min.mjs?instance=${instance}`);

const scripts = new Map(); // each script once: tfjs-core serves TF.js and tfjs-tflite alike
function script(src) {
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

// TF.js from its browser (UMD) builds; the wasm backend single-threaded, like ours.
async function importTfjs() {
  await script(TFJS_CORE);
  await script(`${TFJS_WASM_DIST}tf-backend-wasm.es2017.min.js`);
  const tf = globalThis.tf;
  tf.wasm.setWasmPaths(TFJS_WASM_DIST);
  tf.wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not initialize');
  return tf;
}

// tfjs-tflite from its UMD build (global `tflite`, on tfjs-core's global `tf`; it needs no TF.js
// backend: the benchmark drives its model runner with the bytes). Its wasm builds are in the
// package's wasm/ folder. In this cross-origin isolated page it takes its threaded SIMD build, and
// one module serves every thread count (numThreads per model). Loading the script also starts a
// load from dist/, next to the script, which is not there (one 404; setWasmPath comes after).
async function importTflite() {
  await script(TFJS_CORE);
  await script(`${TFLITE}dist/tf-tflite.min.js`);
  const { tflite } = globalThis;
  tflite.setWasmPath(`${TFLITE}wasm/`);
  const { version } = await fetch(`${TFLITE}package.json`).then((r) => r.json());
  // The build it loaded: the .wasm it fetched.
  const build = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)
    .filter((p) => p.startsWith(`${TFLITE}wasm/`) && p.endsWith('.wasm')).map((p) => p.split('/').pop().replace(/\.wasm$/, '')).at(-1) ?? null;
  return { tflite, version, build };
}

// `cold`: a cold start, which takes the first result as soon as there is one (ours: without
// waiting for every thread's worker).
async function create(name, data, input, { cold = false } = {}) {
  const { kind, precision, threads } = parseEngine(name);
  if (kind === 'ours') {
    const { load } = await import('/web/browser.js');
    return createOurs({ load, modelBytes: data.modelBytes, input, precision, threads, awaitAllThreads: !cold });
  }
  if (kind === 'ort') {
    const onnxBytes = precision === 'int8' ? data.onnxInt8Bytes : data.onnxBytes;
    return createOrt({ ort: await importOrt(threads), threads, precision, onnxBytes, input });
  }
  if (kind === 'tflite') {
    const { tflite, version, build } = await importTflite();
    return createTflite({ tflite, version, build, threads, modelBytes: data.modelBytes, manifest: data.manifest, input });
  }
  return createTfjs({ tf: await importTfjs(), manifest: data.manifest, bin: data.bin, input });
}

async function bench() {
  const names = (params.get('engines') ?? engineSets({ node: false }).all.join(',')).split(',');
  const warmup = Number(params.get('warmup') ?? 20);
  const runs = Number(params.get('runs') ?? 40);
  log(`crossOriginIsolated: ${globalThis.crossOriginIsolated}, ${navigator.hardwareConcurrency} cores`);
  const data = await readInputs(names);
  const input = prepareInput(data.manifest, data.rgb);
  const engines = [];
  for (const n of names) {
    log(`creating ${n}`);
    engines.push(await create(n, data, input));
  }
  log('checking that the outputs agree');
  const agreement = await checkAgreement(engines);
  log(`warm-up ${warmup} runs per engine, then ${runs} timed rounds`);
  const results = await measure(engines, { warmup, runs, onRound: (r) => r % 10 === 0 && log(`${r}/${runs}`) });
  log('WASM SIMD multiply-add peak');
  const peak = params.get('peak') === '0' ? undefined : await measurePeak(await bytes('/bench/out/peak.wasm'));
  for (const e of engines) await e.dispose();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    multiplyAdds: engines[0].multiplyAdds,
    manifest: { ...data.manifest, layers: undefined },
    config: { warmup, runs, batch: 1 },
    engines: results,
    ratios: ratios(results),
    agreement,
    peak,
  };
}

async function cold() {
  const name = params.get('engine');
  const data = await readInputs([name]);
  const input = prepareInput(data.manifest, data.rgb);
  const t0 = performance.now();
  const engine = await create(name, data, input, { cold: true });
  const scores = await engine.run();
  const ms = performance.now() - t0;
  let top1 = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[top1]) top1 = i;
  return { engine: name, ms, top1 };
}

const mode = params.get('mode') ?? 'bench';
const task = mode === 'cold' ? cold() : bench();
task.then(
  (result) => {
    window[mode === 'cold' ? 'coldResult' : 'benchResult'] = result;
    log('done');
  },
  (error) => {
    window.benchError = String(error?.stack ?? error);
    log(`error: ${window.benchError}`);
  },
);
