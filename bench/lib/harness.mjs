// The measurement itself, the same in Node and in the browser: warm-up, timed runs alternating
// between engines, agreement of the outputs, the SIMD multiply-add peak; and the report.
import { isInt8, parseEngine } from './engines.mjs';

const now = () => performance.now();

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function stats(times) {
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sd = Math.sqrt(times.reduce((a, t) => a + (t - mean) ** 2, 0) / Math.max(1, times.length - 1));
  return { medianMs: median(times), minMs: Math.min(...times), meanMs: mean, sdMs: sd };
}


/**
 * The largest |difference| of an int8 engine's dequantized probabilities from ours8 that still
 * counts as agreement (with the same top-1 class). Our threads split the rows, never the
 * arithmetic: ours8x2 must equal ours8. Ours requantizes each layer's int32 sums as TFLite's
 * reference kernels do (fixed-point multiplier, rounding half away from zero); TFLite's web runtime
 * runs this model through XNNPACK's QU8 kernels and onnxruntime through MLAS, both of which
 * requantize in float32 (scale multiply, round half to even). Ties that round apart give +-1 in
 * some outputs of a layer, and that spreads through 52 layers: on cat.bmp tfjs-tflite and
 * onnxruntime agree exactly with each other and differ from ours by 3 steps of the output's 1/256.
 * Bound: 8 steps.
 */
export const INT8_TOLERANCE = { ours: 0, tflite: 8 / 256, ort: 8 / 256 };
const int8Tolerance = (name) => INT8_TOLERANCE[parseEngine(name).kind];

/**
 * Compares every engine's scores on the same input. Float engines against ours (the first
 * engine) and with each other; int8 engines against ours8 (the first ours8* engine) under
 * INT8_TOLERANCE. Returns { reference, classes, maxAbsDiff: { name: vs ours }, maxAbsDiffAnyPair
 * (float engines), top1: { name: index }, top5, int8?: { reference, maxAbsDiff: { name: vs ours8 },
 * tolerance, ok, vsFloat: ours8 against ours } }.
 */
export async function checkAgreement(engines) {
  const outputs = [];
  for (const e of engines) outputs.push(Float32Array.from(await e.run()));
  const diff = (a, b) => {
    if (a.length !== b.length) return Infinity;
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };
  const top = (a, k) => [...a.keys()].sort((i, j) => a[j] - a[i]).slice(0, k);
  const result = { reference: engines[0].name, classes: outputs[0].length, maxAbsDiff: {}, maxAbsDiffAnyPair: 0, top1: {}, top5: {} };
  const float = [];
  engines.forEach((e, i) => {
    result.top1[e.name] = top(outputs[i], 1)[0];
    result.top5[e.name] = top(outputs[i], 5).map((k) => ({ index: k, score: Number(outputs[i][k].toFixed(6)) }));
    if (isInt8(e.name)) return;
    if (i > 0) result.maxAbsDiff[e.name] = diff(outputs[0], outputs[i]);
    for (const j of float) result.maxAbsDiffAnyPair = Math.max(result.maxAbsDiffAnyPair, diff(outputs[i], outputs[j]));
    float.push(i);
  });
  const ref = engines.findIndex((e) => e.name.startsWith('ours8'));
  if (ref >= 0) {
    const int8 = { reference: engines[ref].name, maxAbsDiff: {}, tolerance: {}, ok: {}, vsFloat: diff(outputs[ref], outputs[0]) };
    engines.forEach((e, i) => {
      if (i === ref || !isInt8(e.name)) return;
      int8.maxAbsDiff[e.name] = diff(outputs[ref], outputs[i]);
      int8.tolerance[e.name] = int8Tolerance(e.name);
      int8.ok[e.name] = int8.maxAbsDiff[e.name] <= int8.tolerance[e.name] && result.top1[e.name] === result.top1[engines[ref].name];
    });
    result.int8 = int8;
  }
  return result;
}

/**
 * Warm-up (`warmup` runs of every engine, interleaved), then `runs` timed rounds; in each round
 * every engine runs once, the starting engine rotating from round to round. Times are wall-clock
 * per call, from the call to the scores being back in JavaScript.
 */
export async function measure(engines, { warmup = 20, runs = 40, onRound } = {}) {
  for (let i = 0; i < warmup; i++) for (const e of engines) await e.run();
  const times = engines.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < engines.length; k++) {
      const i = (k + r) % engines.length;
      const t0 = now();
      await engines[i].run();
      times[i].push(now() - t0);
    }
    onRound?.(r + 1);
  }
  return engines.map((e, i) => ({
    name: e.name,
    label: e.label,
    details: e.details,
    ...stats(times[i]),
    timesMs: times[i].map((t) => Math.round(t * 1000) / 1000),
  }));
}

/**
 * WebAssembly SIMD multiply-add peaks of this machine (bench/peak/peak.cc), float32 (`muladd_N`:
 * f32x4.mul + f32x4.add, 4 multiply-adds per step of a chain) and integer (`dot_N`:
 * i32x4.dot_i16x8_s + i32x4.add, 8 per step): for each number of independent chains, `warmup` calls
 * (so that V8 tiers the function up) and `calls` timed calls; the best call of the best chain count is
 * the peak. The float figures sit at the top level of the result, the integer ones under `int8`.
 */
export async function measurePeak(wasmBytes, { iters = 1_000_000, warmup = 20, calls = 30, relaxedBytes = null } = {}) {
  const { instance } = await WebAssembly.instantiate(wasmBytes, {});
  let sink = 0;
  const family = (prefix, macsPerStep, seed, mul, add, exports = instance.exports) => {
    const variants = [];
    for (const name of Object.keys(exports).filter((n) => n.startsWith(prefix))) {
      const chains = Number(name.slice(prefix.length));
      const f = exports[name];
      for (let i = 0; i < warmup; i++) sink += f(iters, seed(0), mul, add);
      let best = Infinity;
      for (let i = 0; i < calls; i++) {
        const t0 = now();
        sink += f(iters, seed(i), mul, add);
        best = Math.min(best, now() - t0);
      }
      variants.push({ chains, bestMs: best, gmacs: (iters * chains * macsPerStep) / (best * 1e6) });
    }
    const top = variants.reduce((a, b) => (b.gmacs > a.gmacs ? b : a));
    return { gmacs: top.gmacs, chains: top.chains, variants };
  };
  const float = family('muladd_', 4, (i) => 1 + i * 1e-3, 0.999, 0.001);
  const int8 = family('dot_', 8, (i) => i + 1, 3, 1);
  // The relaxed SIMD peaks (relaxed-peak.wasm), where the engine runs relaxed SIMD.
  let relaxed;
  if (relaxedBytes && WebAssembly.validate(relaxedBytes)) {
    const { instance: r } = await WebAssembly.instantiate(relaxedBytes, {});
    relaxed = {
      madd: family('rmadd_', 4, (i) => 1 + i * 1e-3, 0.999, 0.001, r.exports),
      dot: family('rdot_', 16, (i) => i + 1, 3, 1, r.exports),
    };
  }
  if (!Number.isFinite(sink)) throw new Error('peak microbenchmark diverged');
  return { ...float, gflops: 2 * float.gmacs, int8, ...(relaxed ? { relaxed } : {}) };
}

/**
 * What ours reached against the peaks (result.peak): float32 (`ours`, one thread) against the
 * float peak and, when it ran, int8 (`ours8`) against the integer one. Both do the network's
 * multiplyAdds (the float engine skips some, see the README: this counts them as done).
 */
export function peakReached(peak, results, multiplyAdds) {
  if (!peak) return undefined;
  const gmacs = (name) => {
    const e = results.find((r) => r.name === name);
    return e && (multiplyAdds / e.medianMs) * 1e-6;
  };
  const ours = gmacs('ours');
  const ours8 = gmacs('ours8');
  return {
    ...peak,
    oursGmacs: ours,
    oursFraction: ours / peak.gmacs,
    int8: peak.int8 && { ...peak.int8, ours8Gmacs: ours8, ours8Fraction: ours8 && ours8 / peak.int8.gmacs },
  };
}

/**
 * The ratios ours/anchor of the medians and of the minima (below 1: ours is faster), for the pairs
 * that ran: float32: ours on one thread against every float anchor, ours on 2 threads against
 * onnxruntime-web on 2; int8: ours8 against TFLite's runtime, onnxruntime-web's integer model and
 * our own float32, ours8x2 against their 2-thread runs. `goal`: issue 6's bound, where it sets one.
 */
export const RATIO_PAIRS = [
  ['ours', 'ort1'], ['ours', 'ort2'], ['ours', 'tfjs'], ['ours2', 'ort2'],
  ['ours8', 'tflite1', 0.85], ['ours8x2', 'tflite2', 0.85], ['ours8', 'ours', 0.6], ['ours8', 'ort8'], ['ours8x2', 'ort8x2'],
  // The relaxed SIMD build (issue 23's bounds): int8 against tfjs-tflite and our float32 SIMD
  // build, and each relaxed row against the same row on the SIMD build.
  ['ours8r', 'tflite1', 0.5], ['ours8rx2', 'tflite2', 0.5], ['ours8r', 'ours', 0.55], ['ours8r', 'ours8'],
  ['ours8rx2', 'ours8x2'], ['oursr', 'ours'], ['oursr2', 'ours2'],
];

export function ratios(results) {
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  return RATIO_PAIRS.filter(([o, a]) => byName[o] && byName[a]).map(([o, a, goal]) => ({
    ours: o,
    anchor: a,
    median: byName[o].medianMs / byName[a].medianMs,
    min: byName[o].minMs / byName[a].minMs,
    ...(goal ? { goal, goalMet: byName[o].medianMs / byName[a].medianMs <= goal } : {}),
  }));
}

// ---- report ----
const ms = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(2));
const kb = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

/** The human-readable report (an array of lines) of a complete result object. */
export function report(r) {
  const lines = [];
  const L = (s = '') => lines.push(s);
  const alpha = Number.isInteger(r.network.alpha) ? r.network.alpha.toFixed(1) : r.network.alpha;
  const int8 = r.engines.some((e) => isInt8(e.name));
  const family = r.network.family === 'mobilenet_v1' ? 'MobileNetV1' : 'MobileNetV2';
  L(`${family} ${alpha}/${r.network.inputSize} (${r.network.source}, ${r.network.weightType} weights dequantized to float32` +
    `${int8 ? `; int8 engines: the file's ${r.network.weightType} integers` : ''}), batch 1, input ${r.network.image}`);
  const load = (l) => (l ? l.map((x) => x.toFixed(2)).join(' ') : '?');
  L(`${r.env.runtime}; ${r.env.cpu}; ${r.env.cores} cores; load average ${load(r.env.loadavgAtStart)} at start, ${load(r.env.loadavgAtEnd)} at end`);
  const busy = r.env.loadavgAtStart?.[0] > 0.75 * r.env.cores;
  if (busy) {
    L(`warning: the machine was busy when the benchmark started (1-minute load average ${r.env.loadavgAtStart[0].toFixed(2)} ` +
      `on ${r.env.cores} cores): other load lands on the engines unevenly, the thread counts above 1 most; ` +
      'the ratios and goals below are unreliable');
  }
  L(`warm-up ${r.config.warmup} runs per engine, then ${r.config.runs} timed runs each, engines alternating run by run`);
  L();
  const macs = r.network.multiplyAdds;
  const w = Math.max(...r.engines.map((e) => e.label.length)) + 2;
  // Each anchor's row: ours on one thread of the same precision (ours for float32, ours8 for int8) / anchor.
  const rowRatio = (e) => r.ratios.find((x) => x.anchor === e.name && x.ours === (isInt8(e.name) ? 'ours8' : 'ours'));
  const shown = new Set();
  L(`${pad('engine', w)}${lpad('median ms', 10)}${lpad('min ms', 9)}${lpad('mean ms', 9)}${lpad('GMAC/s', 9)}   ours/anchor median, min`);
  for (const e of r.engines) {
    const ratio = rowRatio(e);
    if (ratio) shown.add(ratio);
    const tag = /^ours/.test(e.name) ? `(ours${isInt8(e.name) ? ', int8' : ''})` : '';
    L(`${pad(e.label, w)}${lpad(ms(e.medianMs), 10)}${lpad(ms(e.minMs), 9)}${lpad(ms(e.meanMs), 9)}` +
      `${lpad(((macs / e.medianMs) * 1e-6).toFixed(2), 9)}   ${ratio ? `${ratio.median.toFixed(3)}  ${ratio.min.toFixed(3)}` : tag}`);
  }
  const label = (n) => r.engines.find((e) => e.name === n).label;
  for (const x of r.ratios.filter((q) => !shown.has(q))) {
    L(`${label(x.ours)} / ${label(x.anchor)}: median ${x.median.toFixed(3)}, min ${x.min.toFixed(3)}`);
  }
  const goals = r.ratios.filter((x) => x.goal);
  if (goals.length) {
    L(`issue 6 goals: ${goals.map((x) => `${x.ours}/${x.anchor} ${x.median.toFixed(3)} <= ${x.goal} ${x.goalMet ? 'met' : 'NOT met'}`).join('; ')}`);
  }
  L();
  const a = r.agreement;
  const className = (i) => (r.labels?.[i] ? ` ${r.labels[i]}` : '');
  const top1Line = (names) => {
    const top1 = [...new Set(names.map((n) => a.top1[n]))];
    return top1.length === 1
      ? `${top1[0]}${className(top1[0])} (${names.map((n) => a.top5[n][0].score.toFixed(4)).join(' / ')}) for ${names.join(', ')}`
      : names.map((n) => `${n} ${a.top1[n]}${className(a.top1[n])}`).join(', ');
  };
  const floatNames = Object.keys(a.top1).filter((n) => !isInt8(n));
  if (floatNames.length > 1) {
    const diffs = Object.entries(a.maxAbsDiff).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ');
    L(`float32 agreement on ${r.network.image} (max |difference| of the ${a.classes} probabilities vs ours): ${diffs}; ` +
      `any pair ${a.maxAbsDiffAnyPair.toExponential(2)} (target <= 1e-3: ${a.maxAbsDiffAnyPair <= 1e-3 ? 'ok' : 'EXCEEDED'})`);
  }
  L(`top-1 float32: ${top1Line(floatNames)}`);
  if (a.int8) {
    const q = a.int8;
    const diffs = Object.entries(q.maxAbsDiff)
      .map(([k, v]) => `${k} ${v.toExponential(2)} (<= ${q.tolerance[k].toExponential(2)}: ${q.ok[k] ? 'ok' : 'EXCEEDED'})`).join(', ');
    L(`int8 agreement (max |difference| of the ${a.classes} dequantized probabilities vs ${q.reference}, tolerance): ` +
      `${diffs || 'no other int8 engine'}; ${q.reference} vs ours (float32) ${q.vsFloat.toExponential(2)}`);
    L(`top-1 int8: ${top1Line(Object.keys(a.top1).filter(isInt8))}`);
  }
  if (r.coldStart) {
    L();
    L(`cold start (${r.coldStart.how}), median / min of ${r.coldStart.repeats}:`);
    for (const e of r.engines) {
      const c = r.coldStart.engines[e.name];
      if (c) L(`  ${pad(e.label, w)}${lpad(ms(c.medianMs), 9)} ms ${lpad(ms(c.minMs), 9)} ms`);
    }
  }
  if (r.wasmSize) {
    L();
    L('WebAssembly binaries (raw / gzip -9):');
    for (const s of r.wasmSize) L(`  ${pad(s.engine, 30)}${pad(s.file, 40)}${lpad(kb(s.raw), 11)} / ${lpad(kb(s.gzip), 10)}`);
  }
  if (r.peak) {
    // The figures of peakReached.
    const ours = r.engines.find((e) => e.name === 'ours');
    L();
    L(`WASM SIMD multiply-add peak (f32x4 mul + add, ${r.peak.chains} independent chains): ${r.peak.gmacs.toFixed(2)} GMAC/s ` +
      `= ${r.peak.gflops.toFixed(2)} GFLOP/s (one thread)`);
    L(`ours: ${(macs / 1e6).toFixed(1)} M multiply-adds in ${ms(ours.medianMs)} ms = ${r.peak.oursGmacs.toFixed(2)} GMAC/s ` +
      `= ${(100 * r.peak.oursFraction).toFixed(1)}% of that peak`);
    const q = r.peak.int8;
    if (q) {
      L(`WASM SIMD integer multiply-add peak (i32x4.dot_i16x8_s + add, ${q.chains} independent chains): ` +
        `${q.gmacs.toFixed(2)} GMAC/s (one thread), ${(q.gmacs / r.peak.gmacs).toFixed(2)}x the float32 peak`);
      const ours8 = r.engines.find((e) => e.name === 'ours8');
      if (ours8 && q.ours8Gmacs) {
        L(`ours8: ${(macs / 1e6).toFixed(1)} M multiply-adds in ${ms(ours8.medianMs)} ms = ` +
          `${q.ours8Gmacs.toFixed(2)} GMAC/s = ${(100 * q.ours8Fraction).toFixed(1)}% of that peak`);
      }
    }
    const x = r.peak.relaxed;
    if (x) {
      L(`relaxed SIMD peaks (one thread): f32x4.relaxed_madd ${x.madd.gmacs.toFixed(2)} GMAC/s (${(x.madd.gmacs / r.peak.gmacs).toFixed(2)}x ` +
        `mul + add), i32x4.relaxed_dot_i8x16_i7x16_add_s ${x.dot.gmacs.toFixed(2)} GMAC/s` +
        `${q ? ` (${(x.dot.gmacs / q.gmacs).toFixed(2)}x dot_i16x8_s + add)` : ''}`);
      const ours8r = r.engines.find((e) => e.name === 'ours8r');
      if (ours8r) {
        const g = (macs / ours8r.medianMs) * 1e-6;
        L(`ours8r: ${(macs / 1e6).toFixed(1)} M multiply-adds in ${ms(ours8r.medianMs)} ms = ${g.toFixed(2)} GMAC/s = ` +
          `${((100 * g) / x.dot.gmacs).toFixed(1)}% of the relaxed dot peak`);
      }
    }
  }
  return lines;
}
