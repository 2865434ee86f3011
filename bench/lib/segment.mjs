// The segmentation benchmark (bench/segment.mjs), the same in Node and in the page
// (bench/browser/segment.mjs): this package's model.segment() against TFLite's own web runtime
// (@tensorflow/tfjs-tflite, runner.infer()) on the DeepLabv3 files of ../shared/models, the same
// 513x513 pixels. The platform entry points import the modules and read the files; this only uses
// what they hand over. See bench/README.md ("Segmentation").
import { awaitThreads, plural } from './engines.mjs';
import { median } from './harness.mjs';

/** The DeepLabv3 files (../shared/models), uint8 513x513x3 in, int64 ARG_MAX 513x513 out. */
export const MODELS = [
  { file: 'deeplabv3_mnv2_pascal_quant.tflite', alpha: 1.0 },
  { file: 'deeplabv3_mnv2_dm05_pascal_quant.tflite', alpha: 0.5 },
];
/** The photo (../shared/images, 513x513: the models' input as is) and its reference mask (PASCAL VOC class per pixel). */
export const PHOTO = 'bird_segmentation.bmp';
export const REFERENCE_MASK = 'bird_segmentation_mask.bmp';
export const LABELS = 'pascal_voc_segmentation_labels.txt';
export const BIRD = 3;
/**
 * TFLite's own runtime (tfjs-tflite 0.0.1-alpha.10, XNNPACK) on the same file and pixels against
 * the reference mask, as tests/cpp/engine_segmentation_test.cc records it (tfjs-tflite does not
 * hand out the int64 mask, so this benchmark cannot measure it itself).
 */
export const TFLITE_VS_REFERENCE = {
  'deeplabv3_mnv2_pascal_quant.tflite': { bird: 0.905, background: 0.978, equal: 0.979 },
  'deeplabv3_mnv2_dm05_pascal_quant.tflite': { bird: 0.819, background: 0.973, equal: 0.961 },
};

export const SEGMENT_DEFAULTS = { warmup: 10, runs: 30 };
/** The issue's goal: ours <= 0.80 x tfjs-tflite's infer(), on the medians, per model and thread count. */
export const GOAL = 0.8;

/**
 * The options from `get(name)` (a query parameter or a parsed argument; undefined / null: the default):
 * warmup, runs, models (alphas or file names, comma-separated, e.g. '1.0,0.5').
 */
export function segmentOptions(get) {
  const o = { ...SEGMENT_DEFAULTS };
  for (const key of Object.keys(SEGMENT_DEFAULTS)) {
    const v = get(key);
    if (v !== undefined && v !== null) o[key] = Number(v);
    if (!Number.isInteger(o[key]) || o[key] < (key === 'warmup' ? 0 : 1)) throw new Error(`bad ${key}: ${v}`);
  }
  const models = get('models');
  o.models = MODELS.map((m) => m.file);
  if (models !== undefined && models !== null) {
    o.models = models.split(',').map((want) => {
      const m = MODELS.find((x) => x.file === want || x.file === `${want}.tflite` || x.alpha === Number(want));
      if (!m) throw new Error(`unknown model ${want} (${MODELS.map((x) => `${x.alpha.toFixed(1)} = ${x.file}`).join(', ')})`);
      return m.file;
    });
  }
  return o;
}

/**
 * A BMP file (uncompressed, 24-bit or 8-bit paletted, bottom-up or top-down; rows padded to 4
 * bytes): { width, height, channels, data }, data the RGB bytes top row first (24-bit: from BGR),
 * or the palette indices (8-bit: channels 1; the reference mask's index is its class).
 */
export function decodeBmp(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new Error('not a BMP file');
  const offset = v.getUint32(10, true);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  if (compression !== 0 || (bpp !== 24 && bpp !== 8)) throw new Error(`BMP: ${bpp}-bit, compression ${compression}: not read here`);
  const height = Math.abs(rawHeight);
  const channels = bpp === 24 ? 3 : 1;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (offset + stride * height > bytes.length) throw new Error('BMP: truncated');
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    const out = y * width * channels;
    if (channels === 1) {
      data.set(bytes.subarray(row, row + width), out);
    } else {
      for (let x = 0; x < width; x++) {
        data[out + 3 * x] = bytes[row + 3 * x + 2];
        data[out + 3 * x + 1] = bytes[row + 3 * x + 1];
        data[out + 3 * x + 2] = bytes[row + 3 * x];
      }
    }
  }
  return { width, height, channels, data };
}

/** `mask` against the reference mask: IoU of the bird and of the background, share of equal pixels. */
export function compareMasks(mask, reference) {
  if (mask.length !== reference.length) throw new Error(`masks of ${mask.length} and ${reference.length} pixels`);
  const iou = (c) => {
    let both = 0;
    let either = 0;
    for (let i = 0; i < mask.length; i++) {
      both += mask[i] === c && reference[i] === c;
      either += mask[i] === c || reference[i] === c;
    }
    return either ? both / either : 1;
  };
  let equal = 0;
  for (let i = 0; i < mask.length; i++) equal += mask[i] === reference[i];
  return { bird: iou(BIRD), background: iou(0), equal: equal / mask.length };
}

/** The p-quantile (0..1) of `xs`, linear between order statistics. */
export function quantile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const k = (s.length - 1) * p;
  const lo = Math.floor(k);
  const hi = Math.ceil(k);
  return s[lo] + (s[hi] - s[lo]) * (k - lo);
}

const now = () => performance.now();

/**
 * Warm-up (`warmup` runs of every engine, interleaved), then `runs` timed rounds; in each round
 * every engine runs once, the starting engine rotating from round to round. One sample is the
 * wall-clock time of `run()`; an engine's `prepare()`, when it has one, runs just before, untimed.
 */
export async function measureRounds(engines, { warmup, runs, onRound }) {
  for (let i = 0; i < warmup; i++) {
    for (const e of engines) {
      await e.prepare?.();
      await e.run();
    }
  }
  const times = engines.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < engines.length; k++) {
      const i = (k + r) % engines.length;
      await engines[i].prepare?.();
      const t0 = now();
      await engines[i].run();
      times[i].push(now() - t0);
    }
    onRound?.(r + 1);
  }
  return times.map((t) => ({
    medianMs: median(t),
    p10Ms: quantile(t, 0.1),
    p90Ms: quantile(t, 0.9),
    minMs: Math.min(...t),
    meanMs: t.reduce((a, b) => a + b, 0) / t.length,
    timesMs: t.map((x) => Math.round(x * 1000) / 1000),
  }));
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** This package, int8, `threads` threads: model.segment() of the 513x513 pixels. */
async function createOurs({ load, bytes, pixels, threads }) {
  const t0 = now();
  const model = await load({ model: bytes, precision: 'int8', threads });
  const loadMs = now() - t0;
  const { info } = model;
  if (info.task !== 'segmentation') throw new Error(`ours: task ${info.task}, not segmentation`);
  if (info.precision !== 'int8') throw new Error(`ours: int8 asked for, ${info.precision} running`);
  if (info.inputSize.width !== pixels.width || info.inputSize.height !== pixels.height) {
    throw new Error(`ours: input ${info.inputSize.width}x${info.inputSize.height}, the photo is ${pixels.width}x${pixels.height}`);
  }
  const t1 = now();
  await awaitThreads(model, threads); // untimed in loadMs: load() answers at once on one thread
  const threadsMs = now() - t1;
  const t2 = now();
  const first = await model.segment(pixels);
  const firstRunMs = now() - t2;
  return {
    name: `ours8${threads > 1 ? `x${threads}` : ''}`,
    label: `mobilenetv2-wasm int8 (${info.target}) ${plural(info.threads)}`,
    kind: 'ours',
    threads,
    loadMs,
    threadsMs,
    firstRunMs,
    first,
    info,
    memory: model.memoryUsage(),  // the plan's activations (per thread count) and layer by layer
    details: { target: info.target, simd: info.simd, precision: info.precision, threads: info.threads },
    run: () => model.segment(pixels),
    dispose: () => model.dispose(),
  };
}

/**
 * TFLite's web runtime on the same file, `threads` threads: the pixels copied into its uint8
 * input tensor (untimed, before every run), then runner.infer(), which is what is timed. Its
 * output (int64 ARG_MAX) is not read: tfjs-tflite does not know the type (dataType 'unknown').
 */
async function createTflite({ loadTflite, bytes, pixels, threads }) {
  const t0 = now();
  const { model, version, build } = await loadTflite(bytes, threads);
  const loadMs = now() - t0;
  const runner = model.modelRunner;
  if (!runner || typeof runner.infer !== 'function') throw new Error('tfjs-tflite: the model has no runner');
  const [inInfo] = runner.getInputs();
  const [outInfo] = runner.getOutputs();
  const shape = [1, pixels.height, pixels.width, 3].join(',');
  if (inInfo.dataType !== 'uint8' || inInfo.shape !== shape) {
    throw new Error(`tfjs-tflite: input ${inInfo.dataType} [${inInfo.shape}], expected uint8 [${shape}]`);
  }
  const prepare = () => inInfo.data().set(pixels.data); // data(): a view of the wasm heap, taken anew each call
  const run = () => {
    if (!runner.infer()) throw new Error('tfjs-tflite: inference failed');
  };
  const t1 = now();
  prepare();
  run();
  const firstRunMs = now() - t1;
  return {
    name: `tflite${threads}`,
    label: `tfjs-tflite ${version ?? ''} ${plural(threads)}`.replace(/\s+/g, ' '),
    kind: 'tflite',
    threads,
    loadMs,
    firstRunMs,
    details: { version, build, threads, input: `${inInfo.dataType} [${inInfo.shape}]`, output: `${outInfo.dataType} [${outInfo.shape}]` },
    prepare,
    run,
    dispose: () => runner.cleanUp?.(),
  };
}

/**
 * Runs the benchmark and returns its result (everything but the platform's env).
 *   load            this package's load()
 *   loadTflite      (bytes: Uint8Array, threads) => Promise<{ model, version, build }>: tfjs-tflite's
 *                   loadTFLiteModel(bytes, { numThreads: threads }) (Node: inside withTflite)
 *   models          [{ file, alpha, bytes: Uint8Array }]
 *   pixels          { data, width: 513, height: 513 }: the photo's RGB bytes
 *   oursThreads     thread counts of ours ([1, 2]); tfliteThreads: of tfjs-tflite (Node: [1], page: [1, 2])
 *   options         segmentOptions()
 * Per model: the engines are created one after the other (each load timed, then its first run),
 * then measured together (measureRounds), then disposed. Ours' masks of every thread count must
 * be the same bytes. Each ours row's ratio is against tfjs-tflite on as many threads, or on its
 * most threads when it cannot run that many (Node: 1), which the ratio then says (`anchorThreads`).
 * The result holds `mask` (ours, one thread) per model, for the caller to compare with the
 * reference mask (compareMasks) and drop.
 */
export async function runSegmentBench({ load, loadTflite, models, pixels, oursThreads = [1, 2], tfliteThreads, options: o, log }) {
  const result = { config: { warmup: o.warmup, runs: o.runs, oursThreads, tfliteThreads, goal: GOAL }, models: [] };
  const firstLoad = { ours: true, tflite: true };
  for (const m of models) {
    log(`${m.file}: loading`);
    const engines = [];
    for (const threads of oursThreads) engines.push(await createOurs({ load, bytes: m.bytes, pixels, threads }));
    for (const threads of tfliteThreads) engines.push(await createTflite({ loadTflite, bytes: m.bytes, pixels, threads }));
    // The first load of each runtime in the process also compiles and instantiates its module.
    for (const e of engines) {
      e.firstLoadInProcess = firstLoad[e.kind];
      firstLoad[e.kind] = false;
    }
    const ours = engines.filter((e) => e.kind === 'ours');
    const { info, memory } = ours[0];
    const mask = ours[0].first.mask;
    const masksEqual = ours.every((e) => e.first.width === pixels.width && e.first.height === pixels.height && sameBytes(e.first.mask, mask));
    if (!masksEqual) throw new Error(`${m.file}: ours gives different masks on ${ours.map((e) => e.threads).join(' and ')} threads`);
    log(`${m.file}: warm-up ${o.warmup} runs per engine, then ${o.runs} timed rounds (${engines.map((e) => e.name).join(', ')})`);
    const times = await measureRounds(engines, { warmup: o.warmup, runs: o.runs, onRound: (r) => r % 10 === 0 && log(`${r}/${o.runs}`) });
    const rows = engines.map((e, i) => ({
      name: e.name,
      label: e.label,
      kind: e.kind,
      threads: e.threads,
      loadMs: e.loadMs,
      firstLoadInProcess: e.firstLoadInProcess,
      ...(e.threadsMs !== undefined ? { threadsMs: e.threadsMs } : {}),
      firstRunMs: e.firstRunMs,
      ...times[i],
      details: e.details,
    }));
    for (const e of engines) await e.dispose();
    const tflites = rows.filter((r) => r.kind === 'tflite');
    const ratios = rows.filter((r) => r.kind === 'ours').map((r) => {
      const anchor = tflites.find((t) => t.threads === r.threads) ?? tflites.reduce((a, b) => (b.threads > a.threads ? b : a));
      const median = r.medianMs / anchor.medianMs;
      return {
        ours: r.name, anchor: anchor.name, threads: r.threads, anchorThreads: anchor.threads,
        median, p10: r.p10Ms / anchor.p10Ms, p90: r.p90Ms / anchor.p90Ms, goal: GOAL, goalMet: median <= GOAL,
      };
    });
    result.models.push({
      file: m.file,
      alpha: m.alpha,
      info: {
        alpha: info.alpha, inputSize: info.inputSize, numClasses: info.numClasses, multiplyAdds: info.multiplyAdds,
        parameters: info.parameters, activationBytes: memory.activationBytes, layerByLayerBytes: memory.layerByLayerBytes,
        target: info.target, precision: info.precision,
      },
      engines: rows,
      ratios,
      classes: ours[0].first.classes.map(({ index, pixels: n, share }) => ({ index, pixels: n, share })),
      masksEqualAcrossThreads: masksEqual,
      mask,
    });
  }
  return result;
}

// ---- report ----
const f = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const mib = (b) => `${(b / (1 << 20)).toFixed(2)} MiB`;
const pct = (x) => `${(100 * x).toFixed(1)}%`;

/** The human-readable report (an array of lines, Markdown tables) of a complete result (with env). */
export function segmentReport(r, { labels = [] } = {}) {
  const lines = [];
  const L = (s = '') => lines.push(s);
  const name = (i) => labels[i] ?? `class ${i}`;
  const load = (l) => (l ? l.map((x) => x.toFixed(2)).join(' ') : '?');
  L(`DeepLabv3 MobileNetV2 (../shared/models, uint8), batch 1, input ${PHOTO} (${r.input.width}x${r.input.height} RGB, the models' input as is)`);
  L(`${r.env.runtime}; ${r.env.cpu}; ${r.env.cores} cores; load average ${load(r.env.loadavgAtStart)} at start, ${load(r.env.loadavgAtEnd)} at end`);
  if (r.env.loadavgAtStart?.[0] > 0.75 * r.env.cores) {
    L(`warning: the machine was busy when the benchmark started (1-minute load average ${r.env.loadavgAtStart[0].toFixed(2)} ` +
      `on ${r.env.cores} cores): the ratios and goals below, the 2-thread ones above all, are unreliable`);
  }
  L(`warm-up ${r.config.warmup} runs per engine, then ${r.config.runs} timed rounds, engines alternating run by run (one model at a time)`);
  L('ours: `await model.segment({ data, width: 513, height: 513 })`, int8, the whole call (pixels in, mask and class counts out); ' +
    'tfjs-tflite: `runner.infer()` only, after copying the pixels into its uint8 input tensor (untimed): its int64 ARG_MAX ' +
    'output is not readable through tfjs-tflite (dataType \'unknown\'), so no mask comes out of it and it is not compared');
  L('load: `load({ model: bytes })` / `loadTFLiteModel(bytes)` from the bytes in memory (* the first of that runtime in the process: ' +
    'it also compiles its WebAssembly); first run: the first call after it (tfjs-tflite: copy + infer())');
  L();
  L(`| model | engine | threads | load ms | first run ms | median ms | p10 ms | p90 ms | ours / tfjs-tflite (median) | goal <= ${GOAL.toFixed(2)} |`);
  L('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  const anchorNote = [];
  for (const m of r.models) {
    for (const e of m.engines) {
      const ratio = m.ratios.find((x) => x.ours === e.name);
      let rc = '';
      let gc = '';
      if (ratio) {
        const other = ratio.anchorThreads !== ratio.threads;
        if (other) anchorNote.push(ratio);
        rc = `${ratio.median.toFixed(3)} (vs ${ratio.anchor}${other ? '†' : ''})`;
        gc = ratio.goalMet ? 'met' : '**not met**';
      }
      L(`| α ${m.alpha.toFixed(1)} | ${e.label} | ${e.threads} | ${f(e.loadMs)}${e.firstLoadInProcess ? '*' : ''} | ${f(e.firstRunMs)} | ` +
        `**${f(e.medianMs)}** | ${f(e.p10Ms)} | ${f(e.p90Ms)} | ${rc} | ${gc} |`);
    }
  }
  if (anchorNote.length) {
    L();
    L(`† tfjs-tflite runs one thread only in ${r.env.runtime.split(' ')[0] === 'node' ? 'Node' : 'this runtime'} (bench/lib/node-io.mjs withTflite): ` +
      'ours on 2 threads is compared with its single thread');
  }
  L();
  L('| model | multiply-adds | parameters | activationBytes | layerByLayerBytes | ours vs reference mask: bird IoU / background IoU / pixels equal | tfjs-tflite (recorded) |');
  L('|---|---:|---:|---:|---:|---|---|');
  for (const m of r.models) {
    const a = m.reference;
    const t = TFLITE_VS_REFERENCE[m.file];
    L(`| α ${m.alpha.toFixed(1)} (${m.file}) | ${(m.info.multiplyAdds / 1e9).toFixed(2)} G | ${(m.info.parameters / 1e6).toFixed(2)} M | ` +
      `${m.info.activationBytes} (${mib(m.info.activationBytes)}) | ${m.info.layerByLayerBytes} (${mib(m.info.layerByLayerBytes)}) | ` +
      `${a ? `${a.bird.toFixed(3)} / ${a.background.toFixed(3)} / ${pct(a.equal)}` : '-'} | ` +
      `${t ? `${t.bird.toFixed(3)} / ${t.background.toFixed(3)} / ${pct(t.equal)}` : '-'} |`);
  }
  L();
  for (const m of r.models) {
    L(`α ${m.alpha.toFixed(1)}: ours' mask the same bytes on ${r.config.oursThreads.join(' and ')} threads: ` +
      `${m.masksEqualAcrossThreads ? 'yes' : 'NO'}; classes: ${m.classes.map((c) => `${name(c.index)} ${pct(c.share)}`).join(', ')}`);
  }
  const goals = r.models.flatMap((m) => m.ratios.map((x) => ({ ...x, alpha: m.alpha })));
  L(`goals (ours <= ${GOAL.toFixed(2)} x tfjs-tflite infer(), medians): ` +
    `${goals.map((x) => `α ${x.alpha.toFixed(1)} ${plural(x.threads)} ${x.median.toFixed(3)} ${x.goalMet ? 'met' : 'NOT met'}` +
      `${x.anchorThreads !== x.threads ? ` (vs ${plural(x.anchorThreads)})` : ''}`).join('; ')}`);
  if (r.wasm) {
    L();
    L('WebAssembly binaries (raw / gzip -9, sha256 prefix):');
    for (const s of r.wasm) L(`  ${s.engine.padEnd(28)}${s.file.padEnd(40)}${(s.raw / 1024).toFixed(1).padStart(9)} KiB / ${(s.gzip / 1024).toFixed(1).padStart(8)} KiB  ${s.sha256}`);
  }
  return lines;
}
