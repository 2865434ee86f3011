// Builds an ONNX model (NCHW, opset 13) from the exported manifest (bench/export_weights.cc),
// with a minimal protobuf encoder: only the fields of onnx.proto this network needs.
//
// The graph is the one our engine runs: Conv (+ Clip(0, 6) for ReLU6), depthwise Conv (group = C),
// 1x1 Conv, Add for residuals, GlobalAveragePool, Flatten, Gemm, Softmax. Padding is explicit
// (TFLite SAME puts the odd row/column at the end: pads [0, 0, 1, 1] for a stride-2 3x3 on an
// even input), weights are transposed from the engine's NHWC layouts to ONNX's OIHW.

// ---- protobuf wire format ----
class Writer {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  bytes(b) {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
  varint(v) {
    // Non-negative integers up to 2^53 (negatives are not used here).
    if (v < 0 || !Number.isSafeInteger(v)) throw new Error(`varint out of range: ${v}`);
    const out = [];
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return this.bytes(Uint8Array.from(out));
  }
  tag(field, wire) {
    return this.varint(field * 8 + wire);
  }
  // Field helpers.
  int(field, v) {
    return this.tag(field, 0).varint(v);
  }
  float(field, v) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).bytes(b);
  }
  raw(field, b) {
    return this.tag(field, 2).varint(b.length).bytes(b);
  }
  string(field, s) {
    return this.raw(field, new TextEncoder().encode(s));
  }
  message(field, w) {
    return this.raw(field, w.finish());
  }
  finish() {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

// ---- onnx.proto messages (field numbers from onnx/onnx.proto) ----
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2;
const ATTR_INTS = 7;

function tensorProto(name, dims, data /* Float32Array */) {
  const w = new Writer();
  for (const d of dims) w.int(1, d); // dims
  w.int(2, FLOAT); // data_type
  w.string(8, name); // name
  w.raw(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // raw_data (little-endian)
  return w;
}

function attribute(name, value) {
  const w = new Writer().string(1, name);
  if (Array.isArray(value)) {
    for (const v of value) w.int(8, v); // ints (unpacked: accepted by every parser)
    w.int(20, ATTR_INTS);
  } else {
    w.int(3, value).int(20, ATTR_INT);
  }
  return w;
}

function nodeProto(op, inputs, outputs, name, attrs = {}) {
  const w = new Writer();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(attrs)) w.message(5, attribute(k, v));
  return w;
}

function valueInfo(name, dims) {
  const shape = new Writer();
  for (const d of dims) shape.message(1, new Writer().int(1, d)); // dim { dim_value }
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  const type = new Writer().message(1, tensorType);
  return new Writer().string(1, name).message(2, type);
}

// ---- layout conversions ----
// OHWI -> OIHW
export function ohwiToOihw(src, [o, h, w, i]) {
  const dst = new Float32Array(src.length);
  for (let oo = 0; oo < o; oo++)
    for (let hh = 0; hh < h; hh++)
      for (let ww = 0; ww < w; ww++)
        for (let ii = 0; ii < i; ii++) dst[((oo * i + ii) * h + hh) * w + ww] = src[((oo * h + hh) * w + ww) * i + ii];
  return dst;
}

// depthwise HWC -> [C, 1, H, W]
export function hwcToC1hw(src, [h, w, c]) {
  const dst = new Float32Array(src.length);
  for (let hh = 0; hh < h; hh++)
    for (let ww = 0; ww < w; ww++) for (let cc = 0; cc < c; cc++) dst[(cc * h + hh) * w + ww] = src[(hh * w + ww) * c + cc];
  return dst;
}

/** The float32 view of one manifest tensor inside the weights binary. */
export function tensorData(bin /* ArrayBuffer */, t) {
  return new Float32Array(bin, t.offset, t.length);
}

/**
 * Builds the ONNX model bytes. Input "input" [1, C, H, W] (NCHW, already normalized floats),
 * output "scores" [1, classes] (probabilities when the network ends in softmax).
 */
export function buildOnnx(manifest, bin) {
  const graph = new Writer();
  const nodes = [];
  const inits = [];
  let counter = 0;
  const constant = (name, dims, data) => {
    inits.push(tensorProto(name, dims, data));
    return name;
  };
  const zero = constant('const_zero', [], Float32Array.of(0));
  const six = constant('const_six', [], Float32Array.of(6));
  const activate = (x, act, name) => {
    if (act === 'none') return x;
    const y = `${name}_${act}`;
    if (act === 'relu6') nodes.push(nodeProto('Clip', [x, zero, six], [y], y));
    else if (act === 'relu') nodes.push(nodeProto('Relu', [x], [y], y));
    else throw new Error(`unknown activation ${act}`);
    return y;
  };

  const { height, width, channels } = manifest.input;
  let x = 'input';
  let blockInput = null;
  let currentBlock = null;
  for (const layer of manifest.layers) {
    const id = `l${counter++}_${layer.kind}${layer.block >= 0 ? layer.block : ''}`;
    if (layer.block !== currentBlock) {
      currentBlock = layer.block;
      blockInput = x;
    }
    if (layer.kind === 'classifier') {
      const pooled = `${id}_pool`;
      const flat = `${id}_flat`;
      nodes.push(nodeProto('GlobalAveragePool', [x], [pooled], pooled));
      nodes.push(nodeProto('Flatten', [pooled], [flat], flat, { axis: 1 }));
      const W = constant(`${id}_W`, [layer.classes, layer.features], tensorData(bin, layer.weights));
      const B = constant(`${id}_B`, [layer.classes], tensorData(bin, layer.bias));
      const logits = `${id}_gemm`;
      nodes.push(nodeProto('Gemm', [flat, W, B], [logits], logits, { transB: 1 }));
      x = activate(logits, layer.activation, id);
      continue;
    }
    const [kh, kw] = layer.kernel;
    const [, , inC] = layer.in;
    const [, , outC] = layer.out;
    const depthwise = layer.op === 'depthwise_conv2d';
    const wData = tensorData(bin, layer.weights);
    const W = depthwise
      ? constant(`${id}_W`, [outC, 1, kh, kw], hwcToC1hw(wData, [kh, kw, outC]))
      : constant(`${id}_W`, [outC, inC, kh, kw], ohwiToOihw(wData, [outC, kh, kw, inC]));
    const B = constant(`${id}_B`, [outC], tensorData(bin, layer.bias));
    const conv = `${id}_conv`;
    nodes.push(
      nodeProto('Conv', [x, W, B], [conv], conv, {
        kernel_shape: [kh, kw],
        strides: [layer.stride, layer.stride],
        pads: [layer.pad_top, layer.pad_left, layer.pad_bottom, layer.pad_right],
        dilations: [1, 1],
        group: depthwise ? outC : 1,
      }),
    );
    x = activate(conv, layer.activation, id);
    if (layer.residual) {
      const sum = `${id}_add`;
      nodes.push(nodeProto('Add', [x, blockInput], [sum], sum));
      x = sum;
    }
  }
  const classes = manifest.layers.at(-1).classes;
  if (manifest.softmax) {
    if (manifest.softmax_beta !== 1) {
      const beta = constant('const_beta', [], Float32Array.of(manifest.softmax_beta));
      nodes.push(nodeProto('Mul', [x, beta], ['scaled_logits'], 'scaled_logits'));
      x = 'scaled_logits';
    }
    nodes.push(nodeProto('Softmax', [x], ['scores'], 'softmax', { axis: 1 }));
  } else {
    nodes.push(nodeProto('Identity', [x], ['scores'], 'identity'));
  }

  for (const n of nodes) graph.message(1, n); // node
  graph.string(2, 'mobilenet_v2'); // name
  for (const t of inits) graph.message(5, t); // initializer
  graph.message(11, valueInfo('input', [1, channels, height, width])); // input
  graph.message(12, valueInfo('scores', [1, classes])); // output

  const model = new Writer();
  model.int(1, 7); // ir_version 7 (ONNX 1.8, opset 13)
  model.string(2, 'mobilenetv2-wasm bench'); // producer_name
  model.message(7, graph); // graph
  model.message(8, new Writer().string(1, '').int(2, 13)); // opset_import { domain: "", version: 13 }
  return model.finish();
}
