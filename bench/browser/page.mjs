// The benchmark page (bench/browser.mjs drives it in headless Chromium; it also runs by hand:
// serve the repository with COOP/COEP headers and open /bench/browser/?warmup=20&runs=40).
//   ?mode=bench (default): every engine in this page, alternating; sets window.benchResult
//   ?mode=cold&engine=ours|ours2|ours8|ours8x2|ort1|ort2|ort8|ort8x2|tflite1|tflite2|tfjs: one cold start;
//   sets window.coldResult
import {
  createOrt, createOurs, createTfjs, createTflite, engineSets, inputsNeeded, parseEngine, prepareInput,
} from '../lib/engines.mjs';
import { checkAgreement, measure, measurePeak, ratios } from '../lib/harness.mjs';
import { bytes, importTfjs, importTflite, log, publish } from './common.mjs';

const params = new URLSearchParams(location.search);

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';

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

// `cold`: a cold start, which takes the first result as soon as there is one (ours: without
// waiting for every thread's worker).
async function create(name, data, input, { cold = false } = {}) {
  const { kind, precision, threads, relaxed } = parseEngine(name);
  if (kind === 'ours') {
    const { load } = await import('/web/browser.js');
    return createOurs({ load, modelBytes: data.modelBytes, input, precision, threads, relaxed, awaitAllThreads: !cold });
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
  const relaxedBytes = await bytes('/bench/out/relaxed-peak.wasm').catch(() => null);
  const peak = params.get('peak') === '0' ? undefined : await measurePeak(await bytes('/bench/out/peak.wasm'), { relaxedBytes });
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
publish(task, mode === 'cold' ? 'coldResult' : 'benchResult');
