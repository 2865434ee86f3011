// The engines the benchmark compares, behind one interface, in Node and in the browser:
//   { name, label, run(): Promise<Float32Array /* class scores */>, details, dispose() }
// The platform entry points (bench/node.mjs, bench/cold.mjs, bench/browser/page.mjs) import the
// modules and read the files; everything here only uses what they hand over.
import { tensorData } from './onnx.mjs';

/**
 * The engines by name: float32 (the dequantized network) and int8 (the .tflite's integers).
 *   ours, ours2         this package, fp32, 1 / 2 threads
 *   ours8, ours8x2      this package, int8, 1 / 2 threads
 *   oursr, ours8r ...   the same on the relaxed SIMD build (simd: 'relaxed'), where the engine has it
 *   ort1, ort2          onnxruntime-web, float ONNX, 1 / 2 threads
 *   ort8, ort8x2        onnxruntime-web, integer ONNX (QLinearConv ...), 1 / 2 threads
 *   tflite1, tflite2    @tensorflow/tfjs-tflite on the .tflite file itself, 1 / 2 threads
 *   tfjs                @tensorflow/tfjs-backend-wasm, float graph, 1 thread
 * Returns { kind: 'ours' | 'ort' | 'tflite' | 'tfjs', precision: 'fp32' | 'int8', threads }.
 */
export function parseEngine(name) {
  let m;
  if ((m = /^ours(?:8(r?)(?:x(\d+))?|(r?)(\d+)?)$/.exec(name))) {
    const int8 = name.startsWith('ours8');
    const relaxed = (int8 ? m[1] : m[3]) === 'r';
    return { kind: 'ours', precision: int8 ? 'int8' : 'fp32', threads: Number((int8 ? m[2] : m[4]) ?? 1), relaxed };
  }
  if ((m = /^ort(?:8(?:x(\d+))?|(\d+))$/.exec(name))) {
    const int8 = name.startsWith('ort8');
    return { kind: 'ort', precision: int8 ? 'int8' : 'fp32', threads: Number((int8 ? m[1] : m[2]) ?? 1) };
  }
  if ((m = /^tflite(\d+)$/.exec(name))) return { kind: 'tflite', precision: 'int8', threads: Number(m[1]) };
  if (name === 'tfjs') return { kind: 'tfjs', precision: 'fp32', threads: 1 };
  throw new Error(`unknown engine ${name}`);
}

/** The engine's name back from its kind, precision and threads. */
export function engineName({ kind, precision, threads, relaxed = false }) {
  const x = threads === 1 ? '' : `x${threads}`;
  const r = relaxed ? 'r' : '';
  if (kind === 'ours') return precision === 'int8' ? `ours8${r}${x}` : threads === 1 ? `ours${r}` : `ours${r}${threads}`;
  if (kind === 'ort') return precision === 'int8' ? `ort8${x}` : `ort${threads}`;
  if (kind === 'tflite') return `tflite${threads}`;
  return 'tfjs';
}

export const isInt8 = (name) => parseEngine(name).precision === 'int8';

/** Which of bench/prepare.sh's files the engines `names` read (the .tflite serves ours and tfjs-tflite). */
export function inputsNeeded(names) {
  const kinds = names.map(parseEngine);
  const needs = (kind, precision) => kinds.some((k) => k.kind === kind && (!precision || k.precision === precision));
  return { model: needs('ours') || needs('tflite'), onnx: needs('ort', 'fp32'), onnxInt8: needs('ort', 'int8'), tfjsWeights: needs('tfjs') };
}

/**
 * The engine sets of `--engines float|int8` (each run with ours, the reference); the default is
 * both. `node`: without tflite2 (tfjs-tflite runs one thread in Node, see node-io.mjs withTflite).
 */
export function engineSets({ node, relaxed = false }) {
  // `relaxed`: the engine runs relaxed SIMD; the relaxed build's rows join each set.
  const float = ['ours', 'ours2', 'ort1', 'ort2', 'tfjs', ...(relaxed ? ['oursr', 'oursr2'] : [])];
  const int8 = ['ours', 'ours8', 'ours8x2', 'tflite1', ...(node ? [] : ['tflite2']), 'ort8', 'ort8x2',
    ...(relaxed ? ['ours8r', 'ours8rx2'] : [])];
  return { all: [...new Set([...float, ...int8])], sets: { float, int8 } };
}

/**
 * The shared input: the photo's 224x224 RGB pixels, and the float tensor every engine sees,
 * real = scale * (pixel - zero_point) (for the ImageNet models (pixel - 128) / 128), in NHWC
 * (ours computes it itself from the pixels; TF.js takes it as is) and NCHW (onnxruntime).
 */
export function prepareInput(manifest, rgb) {
  const { height: h, width: w, channels: c, scale, zero_point: zp } = manifest.input;
  if (rgb.length !== h * w * c) throw new Error(`input.rgb has ${rgb.length} bytes, expected ${h}x${w}x${c}`);
  const nhwc = new Float32Array(h * w * c);
  // The same float arithmetic as the engine: float(scale) * (float(pixel) - float(zero_point)).
  const s = Math.fround(scale);
  const z = Math.fround(zp);
  for (let i = 0; i < nhwc.length; i++) nhwc[i] = Math.fround(s * Math.fround(rgb[i] - z));
  const toNchw = (src) => {
    const out = new src.constructor(src.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = src[(y * w + x) * c + k];
    return out;
  };
  // nchwBytes: the pixels as bytes, for the integer ONNX model (its input is the .tflite's uint8 input).
  return { rgb, width: w, height: h, channels: c, nhwc, nchw: toNchw(nhwc), nchwBytes: toNchw(rgb) };
}

export const plural = (n) => `${n} thread${n > 1 ? 's' : ''}`;

// A threaded model may start on one thread, the others joining as their workers come up:
// waits (10 s at most) until the threads asked for are running, or fails.
export async function awaitThreads(model, threads) {
  const t0 = performance.now();
  while (model.info.threads !== threads && performance.now() - t0 < 10_000) await new Promise((resolve) => setTimeout(resolve, 5));
  if (model.info.threads !== threads) throw new Error(`ours: ${threads} threads asked for, ${model.info.threads} running`);
}

/**
 * This package. `load` is the package's load(); the model bytes are the .tflite the weights were
 * exported from. `precision`: 'fp32' (what the float anchors run: the dequantized network) or
 * 'int8' (the file's integers, what tfjs-tflite and the integer ONNX run). `threads` is explicit
 * (the package's default is the cores, at most 4). `awaitAllThreads`: for timing, wait until every
 * thread runs; a cold start does not (the package answers at once on the threads that are up).
 */
export async function createOurs({ load, modelBytes, input, precision = 'fp32', threads = 1, relaxed = false, awaitAllThreads = true }) {
  const model = await load({ model: modelBytes, simd: relaxed ? 'relaxed' : true, precision, threads });
  if (model.info.precision !== precision) throw new Error(`ours: ${precision} asked for, ${model.info.precision} running`);
  const pixels = { data: input.rgb, width: input.width, height: input.height };
  if (awaitAllThreads) await awaitThreads(model, threads);
  return {
    name: engineName({ kind: 'ours', precision, threads, relaxed }),
    label: `mobilenetv2-wasm ${precision} (${model.info.target}${relaxed ? `, dot ${model.info.relaxedDot}` : ''}) ${plural(model.info.threads)}`,
    details: {
      simd: model.info.simd, target: model.info.target, relaxedDot: model.info.relaxedDot, precision: model.info.precision, threads: model.info.threads,
      multiplyAdds: model.info.multiplyAdds,
    },
    multiplyAdds: model.info.multiplyAdds,
    run: () => model.scores(pixels),
    dispose: () => model.dispose(),
  };
}

/**
 * onnxruntime-web, wasm execution provider. `ort` must be a module instance of its own per thread
 * count: env.wasm.numThreads sizes one global thread pool per instance, fixed at its first session
 * (the float and integer sessions of one thread count share their instance).
 * `precision` 'fp32': the float ONNX model, float NCHW input; 'int8': the integer ONNX model
 * (bench/lib/onnx.mjs buildOnnxInt8), the pixels as uint8 NCHW; both give float probabilities.
 */
export async function createOrt({ ort, threads, onnxBytes, input, precision = 'fp32' }) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(onnxBytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  if (ort.env.wasm.numThreads !== threads) throw new Error(`ort: ${threads} threads asked for, this instance has ${ort.env.wasm.numThreads}`);
  const int8 = precision === 'int8';
  const tensor = int8
    ? new ort.Tensor('uint8', input.nchwBytes, [1, input.channels, input.height, input.width])
    : new ort.Tensor('float32', input.nchw, [1, input.channels, input.height, input.width]);
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  return {
    name: engineName({ kind: 'ort', precision, threads }),
    label: `onnxruntime-web ${ort.env.versions?.web ?? ''} ${int8 ? 'int8 (QLinearConv) ' : ''}${plural(threads)}`.replace(/\s+/g, ' '),
    details: { version: ort.env.versions?.web, precision, threads: ort.env.wasm.numThreads },
    run: async () => {
      const out = await session.run({ [inputName]: tensor });
      return out[outputName].data;
    },
    dispose: () => session.release(),
  };
}

/**
 * @tensorflow/tfjs-backend-wasm with @tensorflow/tfjs-core: the same network written with tf ops
 * in NHWC. Convolutions are tf.fused.conv2d / tf.fused.depthwiseConv2d (bias and ReLU6 fused, as
 * the TF.js converter emits them for a MobileNetV2 graph) with the exported explicit padding;
 * residuals tf.add; pooling tf.mean; classifier tf.fused.matMul; tf.softmax.
 * `tf` must already have the wasm backend registered and selected (tf.setBackend('wasm')).
 */
export async function createTfjs({ tf, manifest, bin, input }) {
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`TF.js backend is ${tf.getBackend()}, not wasm`);
  const weights = [];
  const keep = (t) => {
    weights.push(t);
    return t;
  };
  const act = (a) => ({ none: 'linear', relu: 'relu', relu6: 'relu6' })[a];
  const layers = manifest.layers.map((layer) => {
    const bias = keep(tf.tensor1d(tensorData(bin, layer.bias)));
    if (layer.kind === 'classifier') {
      // [classes][features] -> [features, classes]
      const src = tensorData(bin, layer.weights);
      const t = new Float32Array(src.length);
      for (let c = 0; c < layer.classes; c++) for (let f = 0; f < layer.features; f++) t[f * layer.classes + c] = src[c * layer.features + f];
      return { ...layer, w: keep(tf.tensor2d(t, [layer.features, layer.classes])), b: bias };
    }
    const [kh, kw] = layer.kernel;
    const inC = layer.in[2];
    const outC = layer.out[2];
    const src = tensorData(bin, layer.weights);
    let w;
    if (layer.op === 'depthwise_conv2d') {
      w = tf.tensor4d(new Float32Array(src), [kh, kw, outC, 1]); // HWC is already [kh, kw, C, 1]
    } else {
      // OHWI -> HWIO
      const t = new Float32Array(src.length);
      for (let o = 0; o < outC; o++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            for (let i = 0; i < inC; i++) t[((y * kw + x) * inC + i) * outC + o] = src[((o * kh + y) * kw + x) * inC + i];
      w = tf.tensor4d(t, [kh, kw, inC, outC]);
    }
    const pad = [[0, 0], [layer.pad_top, layer.pad_bottom], [layer.pad_left, layer.pad_right], [0, 0]];
    return { ...layer, w: keep(w), b: bias, pad };
  });

  const predict = (x) =>
    tf.tidy(() => {
      let blockInput = x;
      let block = null;
      for (const l of layers) {
        if (l.block !== block) {
          block = l.block;
          blockInput = x;
        }
        if (l.kind === 'classifier') {
          const pooled = tf.mean(x, [1, 2]); // [1, C]
          x = tf.fused.matMul({ a: pooled, b: l.w, bias: l.b, activation: act(l.activation) });
          continue;
        }
        const args = { x, filter: l.w, strides: l.stride, pad: l.pad, bias: l.b, activation: act(l.activation) };
        x = l.op === 'depthwise_conv2d' ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
        if (l.residual) x = tf.add(x, blockInput);
      }
      if (manifest.softmax) x = tf.softmax(manifest.softmax_beta === 1 ? x : tf.mul(x, manifest.softmax_beta));
      return x;
    });

  const x = keep(tf.tensor4d(input.nhwc, [1, input.height, input.width, input.channels]));
  const backend = tf.backend();
  const wasmThreads = (() => {
    try {
      return backend?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
    } catch {
      return 1;
    }
  })();
  return {
    name: 'tfjs',
    label: `tfjs-backend-wasm ${tf.version_core ?? ''} ${wasmThreads} thread${wasmThreads > 1 ? 's' : ''}`.replace(/\s+/g, ' '),
    details: { version: tf.version_core, backend: tf.getBackend(), threads: wasmThreads },
    run: async () => {
      const y = predict(x);
      const data = y.dataSync();
      y.dispose();
      return data;
    },
    dispose: () => weights.forEach((t) => t.dispose()),
  };
}

/**
 * @tensorflow/tfjs-tflite: TFLite's own web runtime (the TFLite interpreter with XNNPACK, built
 * with Emscripten) running the very same .tflite file. `tflite` is the package's module, already
 * loaded (bench/lib/node-io.mjs importTflite in Node, its UMD build in the page); `version` is its
 * package.json's (the module does not export it); `build` names the wasm build it picked, when the
 * platform knows it (a string, or a function that tells it once the model is loaded).
 * Timed per run: the photo's bytes copied into the interpreter's uint8 input tensor, infer(), and
 * the uint8 probabilities dequantized with the softmax output's scale and zero point (from the
 * export: the runner does not expose them). This drives the model's runner (TFLiteModel's
 * modelRunner) directly: predict() would take the pixels as an int32 tf.Tensor, convert them and
 * warn about the conversion on every call.
 */
export async function createTflite({ tflite, version, threads, modelBytes, manifest, input, build }) {
  const buffer = modelBytes.buffer.slice(modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.byteLength);
  const model = await tflite.loadTFLiteModel(buffer, { numThreads: threads });
  const runner = model.modelRunner;
  if (!runner || typeof runner.infer !== 'function') throw new Error('tfjs-tflite: the model has no runner');
  const [inInfo] = runner.getInputs();
  const [outInfo] = runner.getOutputs();
  const shape = [1, input.height, input.width, input.channels].join(',');
  if (inInfo.dataType !== 'uint8' || inInfo.shape !== shape) {
    throw new Error(`tfjs-tflite: input ${inInfo.dataType} [${inInfo.shape}], expected uint8 [${shape}]`);
  }
  const q = manifest.quant;
  const outQ = q.output_requantize.at(-1) ?? q.softmax_output;
  if (outInfo.dataType !== outQ.dtype) throw new Error(`tfjs-tflite: output ${outInfo.dataType}, the export says ${outQ.dtype}`);
  const scale = Math.fround(outQ.scale);
  const classes = Number(outInfo.shape.split(',').at(-1));
  return {
    name: engineName({ kind: 'tflite', precision: 'int8', threads }),
    label: `tfjs-tflite ${version ?? ''} ${plural(threads)}`.replace(/\s+/g, ' '),
    details: { version, precision: 'int8', threads, build: typeof build === 'function' ? build() : build, input: `${inInfo.dataType} [${inInfo.shape}]`, output: `${outInfo.dataType} [${outInfo.shape}]` },
    run: async () => {
      inInfo.data().set(input.rgb); // data(): a view of the wasm heap, taken anew each call
      if (!runner.infer()) throw new Error('tfjs-tflite: inference failed');
      const out = outInfo.data();
      const scores = new Float32Array(classes);
      for (let i = 0; i < classes; i++) scores[i] = scale * (out[i] - outQ.zero_point);
      return scores;
    },
    dispose: () => runner.cleanUp?.(),
  };
}
