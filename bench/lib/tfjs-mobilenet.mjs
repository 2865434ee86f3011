// A TensorFlow.js graph model of the benchmarked MobileNetV2, for @tensorflow-models/mobilenet
// (bench/learner.mjs), built in memory from bench/prepare.sh's export (weights.json + weights.bin:
// the .tflite's weights dequantized to float32; the same the main benchmark's TF.js anchor runs).
//
// @tensorflow-models/mobilenet downloads its model from TF Hub by default, which needs the
// internet. load({ version: 2, alpha: 1.0, modelUrl }) takes a URL or a tf.io.IOHandler instead
// and reads it with tfconv.loadGraphModel; infer(img, true) then executes the graph up to the node
// `module_apply_default/MobilenetV2/Logits/AvgPool` and squeezes it to [1, 1280], and infer(img) /
// classify(img) take the 1001 logits of the graph's output and drop index 0 (background). So the
// graph written here has TF Hub's node names and shapes (TF-slim's MobilenetV2/... under
// module_apply_default/), and the ops the TF.js converter emits for such a graph: _FusedConv2D and
// FusedDepthwiseConv2dNative with BiasAdd and Relu6 fused, AddV2 for the residuals, AvgPool over the
// last 7x7, the classifier as a fused 1x1 convolution, Squeeze. Float32 weights, one shard in memory.
import { tensorData } from './onnx.mjs';

export const PREFIX = 'module_apply_default/';
/** What @tensorflow-models/mobilenet 2.x executes for infer(img, true) on a version 2 model. */
export const EMBEDDING_NODE = `${PREFIX}MobilenetV2/Logits/AvgPool`;

const b64 = (s) => btoa(s);
const T = { T: { type: 'DT_FLOAT' } };
const ints = (v) => ({ list: { i: v.map(String) } });

// TensorFlow's SAME padding of one dimension: [before, after].
function samePads(inSize, outSize, kernel, stride) {
  const total = Math.max((outSize - 1) * stride + kernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The graph model's artifacts (what a tf.io.IOHandler's load() resolves to) for the export
 * `manifest` (weights.json) and `bin` (weights.bin, an ArrayBuffer). Only MobileNetV2 exports
 * (the default model of bench/prepare.sh) are accepted: the node names are MobileNetV2's.
 */
export function mobilenetV2GraphArtifacts(manifest, bin) {
  if (manifest.family !== 'mobilenet_v2' || manifest.pool !== 'global_average') {
    throw new Error(`bench/out/weights.json is a ${manifest.family} export; run bench/prepare.sh without MNV2_BENCH_MODEL`);
  }
  const nodes = [];
  const specs = [];
  const chunks = [];
  let bytes = 0;
  const node = (name, op, input, attr) => {
    nodes.push({ name: PREFIX + name, op, ...(input.length ? { input: input.map((i) => PREFIX + i) } : {}), attr });
    return name;
  };
  const constant = (name, shape, values) => {
    node(name, 'Const', [], {
      value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } },
      dtype: { type: 'DT_FLOAT' },
    });
    specs.push({ name: PREFIX + name, shape, dtype: 'float32' });
    const copy = Float32Array.from(values);
    chunks.push(copy);
    bytes += copy.byteLength;
    return name;
  };
  const fusedAttrs = (activation) => ({
    fused_ops: { list: { s: ['BiasAdd', ...(activation === 'relu6' ? ['Relu6'] : [])].map(b64) } },
    num_args: { i: '1' },
    epsilon: { f: 0 },
  });
  // Strides, and SAME padding when it is what the export's explicit padding amounts to (it is,
  // for every layer of the TF1 models); otherwise a Pad node and VALID.
  const geometry = (l, x, name) => {
    const [kh, kw] = l.kernel;
    const [padH, padW] = [samePads(l.in[0], l.out[0], kh, l.stride), samePads(l.in[1], l.out[1], kw, l.stride)];
    const same = padH[0] === l.pad_top && padH[1] === l.pad_bottom && padW[0] === l.pad_left && padW[1] === l.pad_right;
    const none = !l.pad_top && !l.pad_bottom && !l.pad_left && !l.pad_right;
    if (same || none) return { x, padding: same ? 'SAME' : 'VALID' };
    throw new Error(`${name}: padding ${[l.pad_top, l.pad_bottom, l.pad_left, l.pad_right]} is not TensorFlow's SAME`);
  };

  let x = 'images';
  nodes.push({ name: PREFIX + x, op: 'Placeholder', attr: {
    shape: { shape: { dim: [-1, manifest.input.height, manifest.input.width, 3].map((d) => ({ size: String(d) })) } },
    dtype: { type: 'DT_FLOAT' },
  } });
  let blockInput = x;
  let block = null;
  let last = null;
  for (const l of manifest.layers) {
    if (l.kind === 'classifier') {
      // TF-slim: AvgPool over the last feature map, then Logits/Conv2d_1c_1x1 (1x1), Squeeze.
      const [h, w] = last.out;
      x = node('MobilenetV2/Logits/AvgPool', 'AvgPool', [x], {
        ksize: ints([1, h, w, 1]), strides: ints([1, 1, 1, 1]), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') }, ...T,
      });
      const base = 'MobilenetV2/Logits/Conv2d_1c_1x1';
      const src = tensorData(bin, l.weights); // [classes][features] -> HWIO [1, 1, features, classes]
      const hwio = new Float32Array(src.length);
      for (let c = 0; c < l.classes; c++) for (let f = 0; f < l.features; f++) hwio[f * l.classes + c] = src[c * l.features + f];
      const wName = constant(`${base}/weights`, [1, 1, l.features, l.classes], hwio);
      const bName = constant(`${base}/biases`, [l.classes], tensorData(bin, l.bias));
      x = node(`${base}/BiasAdd`, '_FusedConv2D', [x, wName, bName], {
        strides: ints([1, 1, 1, 1]), padding: { s: b64('SAME') }, dilations: ints([1, 1, 1, 1]), data_format: { s: b64('NHWC') },
        explicit_paddings: { list: {} }, use_cudnn_on_gpu: { b: true }, ...fusedAttrs(l.activation), ...T,
      });
      x = node('MobilenetV2/Logits/output', 'Squeeze', [x], { squeeze_dims: ints([1, 2]), ...T });
      continue;
    }
    if (l.block !== block) {
      block = l.block;
      blockInput = x;
    }
    const scope = l.kind === 'stem' ? 'MobilenetV2/Conv'
      : l.kind === 'head' ? 'MobilenetV2/Conv_1'
        : `MobilenetV2/expanded_conv${l.block ? `_${l.block}` : ''}/${l.kind}`;
    const [kh, kw] = l.kernel;
    const { padding } = geometry(l, x, scope);
    const src = tensorData(bin, l.weights);
    const inC = l.in[2];
    const outC = l.out[2];
    const common = {
      strides: ints([1, l.stride, l.stride, 1]), padding: { s: b64(padding) }, dilations: ints([1, 1, 1, 1]),
      data_format: { s: b64('NHWC') }, ...fusedAttrs(l.activation), ...T,
    };
    const out = `${scope}/${l.activation === 'relu6' ? 'Relu6' : 'BiasAdd'}`;
    if (l.op === 'depthwise_conv2d') {
      const wName = constant(`${scope}/depthwise_weights`, [kh, kw, outC, 1], src); // HWC is [kh, kw, C, 1]
      const bName = constant(`${scope}/biases`, [outC], tensorData(bin, l.bias));
      x = node(out, 'FusedDepthwiseConv2dNative', [x, wName, bName], common);
    } else {
      const hwio = new Float32Array(src.length); // OHWI -> HWIO
      for (let o = 0; o < outC; o++)
        for (let y = 0; y < kh; y++)
          for (let z = 0; z < kw; z++)
            for (let i = 0; i < inC; i++) hwio[((y * kw + z) * inC + i) * outC + o] = src[((o * kh + y) * kw + z) * inC + i];
      const wName = constant(`${scope}/weights`, [kh, kw, inC, outC], hwio);
      const bName = constant(`${scope}/biases`, [outC], tensorData(bin, l.bias));
      x = node(out, '_FusedConv2D', [x, wName, bName], { ...common, explicit_paddings: { list: {} }, use_cudnn_on_gpu: { b: true } });
    }
    if (l.residual) x = node(`MobilenetV2/expanded_conv_${l.block}/add`, 'AddV2', [blockInput, x], T);
    last = l;
  }
  const weightData = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    weightData.set(new Uint8Array(c.buffer), at);
    at += c.byteLength;
  }
  return {
    format: 'graph-model',
    generatedBy: 'bench/lib/tfjs-mobilenet.mjs',
    convertedBy: `bench/out/weights.json (${manifest.source})`,
    modelTopology: { node: nodes, library: {}, versions: { producer: 175 } },
    weightSpecs: specs,
    weightData: weightData.buffer,
  };
}

/** A tf.io.IOHandler serving those artifacts: mobilenet.load({ version: 2, alpha: 1.0, modelUrl: handler }). */
export function mobilenetV2Handler(manifest, bin) {
  const artifacts = mobilenetV2GraphArtifacts(manifest, bin);
  return { load: async () => artifacts };
}
