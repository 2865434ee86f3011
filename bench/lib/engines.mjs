// The engines the benchmark compares, behind one interface, in Node and in the browser:
//   { name, label, run(): Promise<Float32Array /* class scores */>, details, dispose() }
// The platform entry points (bench/node.mjs, bench/browser/page.mjs) import the modules and
// read the files; everything here only uses what they hand over.
import { tensorData } from './onnx.mjs';

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
  const nchw = new Float32Array(nhwc.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) nchw[(k * h + y) * w + x] = nhwc[(y * w + x) * c + k];
  return { rgb, width: w, height: h, channels: c, nhwc, nchw };
}

/** Ours with `threads` threads: 'ours' (1) or 'ours2' (2), as the benchmarks name them. */
export const oursName = (threads) => (threads === 1 ? 'ours' : `ours${threads}`);
export const oursThreads = (name) => (name === 'ours' ? 1 : Number(name.slice(4)));

/**
 * This package. `load` is the package's load(); the model bytes are the .tflite the weights were
 * exported from. `threads` is explicit (the package's default is the cores, at most 4).
 */
export async function createOurs({ load, modelBytes, input, threads = 1 }) {
  // float32: the anchors run the dequantized float network.
  const model = await load({ model: modelBytes, simd: true, precision: 'fp32', threads });
  if (model.info.threads !== threads) throw new Error(`ours: ${threads} threads asked for, ${model.info.threads} running`);
  const pixels = { data: input.rgb, width: input.width, height: input.height };
  return {
    name: oursName(threads),
    label: `mobilenetv2-wasm (${model.info.target}) ${model.info.threads} thread${model.info.threads > 1 ? 's' : ''}`,
    details: { simd: model.info.simd, target: model.info.target, threads: model.info.threads, multiplyAdds: model.info.multiplyAdds },
    multiplyAdds: model.info.multiplyAdds,
    run: () => model.scores(pixels),
    dispose: () => model.dispose(),
  };
}

/**
 * onnxruntime-web, wasm execution provider. `ort` must be a module instance of its own:
 * env.wasm.numThreads sizes one global thread pool per instance, fixed at its first session.
 */
export async function createOrt({ ort, threads, onnxBytes, input }) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(onnxBytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const tensor = new ort.Tensor('float32', input.nchw, [1, input.channels, input.height, input.width]);
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  return {
    name: `ort${threads}`,
    label: `onnxruntime-web ${ort.env.versions?.web ?? ''} ${threads} thread${threads > 1 ? 's' : ''}`.replace(/\s+/g, ' '),
    details: { version: ort.env.versions?.web, threads: ort.env.wasm.numThreads },
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
