// The benchmark page (bench/browser.mjs drives it in headless Chromium; it also runs by hand:
// serve the repository with COOP/COEP headers and open /bench/browser/?warmup=20&runs=40).
//   ?mode=bench (default): every engine in this page, alternating; sets window.benchResult
//   ?mode=cold&engine=ours|ours2|ort1|ort2|tfjs: one cold start; sets window.coldResult
import { createOrt, createOurs, createTfjs, oursThreads, prepareInput } from '../lib/engines.mjs';
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

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function readInputs(which) {
  const needs = (x) => which.some((w) => w.startsWith(x));
  const [manifest, rgb, modelBytes, onnxBytes, bin] = await Promise.all([
    fetch('/bench/out/weights.json').then((r) => r.json()),
    bytes('/bench/out/input.rgb'),
    needs('ours') ? bytes('/models/mobilenet_v2_1.0_224_quant.tflite') : null,
    needs('ort') ? bytes('/bench/out/mobilenet_v2.onnx') : null,
    needs('tfjs') ? bytes('/bench/out/weights.bin').then((b) => b.buffer) : null,
  ]);
  return { manifest, rgb, modelBytes, onnxBytes, bin };
}

// onnxruntime-web/wasm (ort.wasm.bundle.min.mjs: the wasm EP, glue bundled), one module instance
// per thread count: env.wasm.numThreads sizes one global thread pool per instance.
const importOrt = (instance) => import(`${ORT_DIST}ort.wasm.bundle.min.mjs?instance=${instance}`);

function script(src) {
  return new Promise((resolve, reject) => {
    const s = Object.assign(document.createElement('script'), { src, crossOrigin: 'anonymous' });
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
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

async function create(name, data, input) {
  if (name.startsWith('ours')) {
    const { load } = await import('/web/browser.js');
    return createOurs({ load, modelBytes: data.modelBytes, input, threads: oursThreads(name) });
  }
  if (name.startsWith('ort')) {
    const threads = Number(name.slice(3));
    return createOrt({ ort: await importOrt(threads), threads, onnxBytes: data.onnxBytes, input });
  }
  return createTfjs({ tf: await importTfjs(), manifest: data.manifest, bin: data.bin, input });
}

async function bench() {
  const names = (params.get('engines') ?? 'ours,ours2,ort1,ort2,tfjs').split(',');
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
  const engine = await create(name, data, input);
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
