// Builds ONNX models (NCHW, opset 13) from the exported manifest (bench/export_weights.cc),
// with a minimal protobuf encoder: only the fields of onnx.proto these networks need.
//
// buildOnnx: the float graph our engine runs: Conv (+ Clip(0, 6) for ReLU6), depthwise Conv
// (group = C), 1x1 Conv, Add for residuals, GlobalAveragePool, Flatten, Gemm, Softmax. Padding is
// explicit (TFLite SAME puts the odd row/column at the end: pads [0, 0, 1, 1] for a stride-2 3x3 on
// an even input), weights are transposed from the engine's NHWC layouts to ONNX's OIHW.
//
// buildOnnxInt8: the integer graph of the same quantized .tflite, with its own 8-bit weights,
// int32 biases, scales and zero points: QLinearConv, com.microsoft QLinearAdd and
// QLinearGlobalAveragePool, then DequantizeLinear -> Softmax -> QuantizeLinear (the softmax
// output's quantization) -> DequantizeLinear.

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
const FLOAT = 1; // TensorProto.DataType
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;
const ATTR_INT = 2;
const ATTR_INTS = 7;
const MS_DOMAIN = 'com.microsoft'; // onnxruntime's contrib operators

const dataType = (data) => {
  if (data instanceof Float32Array) return FLOAT;
  if (data instanceof Uint8Array) return UINT8;
  if (data instanceof Int8Array) return INT8;
  if (data instanceof Int32Array) return INT32;
  throw new Error(`no ONNX type for ${data?.constructor?.name}`);
};

function tensorProto(name, dims, data /* Float32Array, Uint8Array, Int8Array or Int32Array */) {
  const w = new Writer();
  for (const d of dims) w.int(1, d); // dims
  w.int(2, dataType(data)); // data_type
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

function nodeProto(op, inputs, outputs, name, attrs = {}, domain = '') {
  const w = new Writer();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(attrs)) w.message(5, attribute(k, v));
  if (domain) w.string(7, domain); // domain
  return w;
}

function valueInfo(name, dims, elemType = FLOAT) {
  const shape = new Writer();
  for (const d of dims) shape.message(1, new Writer().int(1, d)); // dim { dim_value }
  const tensorType = new Writer().int(1, elemType).message(2, shape);
  const type = new Writer().message(1, tensorType);
  return new Writer().string(1, name).message(2, type);
}

// ---- layout conversions (any typed array) ----
// OHWI -> OIHW
export function ohwiToOihw(src, [o, h, w, i]) {
  const dst = new src.constructor(src.length);
  for (let oo = 0; oo < o; oo++)
    for (let hh = 0; hh < h; hh++)
      for (let ww = 0; ww < w; ww++)
        for (let ii = 0; ii < i; ii++) dst[((oo * i + ii) * h + hh) * w + ww] = src[((oo * h + hh) * w + ww) * i + ii];
  return dst;
}

// depthwise HWC -> [C, 1, H, W]
export function hwcToC1hw(src, [h, w, c]) {
  const dst = new src.constructor(src.length);
  for (let hh = 0; hh < h; hh++)
    for (let ww = 0; ww < w; ww++) for (let cc = 0; cc < c; cc++) dst[(cc * h + hh) * w + ww] = src[(hh * w + ww) * c + cc];
  return dst;
}

/** The float32 view of one manifest tensor inside the weights binary. */
export function tensorData(bin /* ArrayBuffer */, t) {
  return new Float32Array(bin, t.offset, t.length);
}

/** The 8-bit weights (typed by their dtype) or int32 bias of one integer manifest tensor. */
export function quantTensorData(qbin /* ArrayBuffer */, t) {
  const Type = { uint8: Uint8Array, int8: Int8Array, int32: Int32Array }[t.dtype];
  if (!Type) throw new Error(`unknown integer dtype ${t.dtype}`);
  return new Type(qbin, t.offset, t.length);
}

function modelProto(graph, opsets) {
  const model = new Writer();
  model.int(1, 7); // ir_version 7 (ONNX 1.8, opset 13)
  model.string(2, 'mobilenetv2-wasm bench'); // producer_name
  model.message(7, graph); // graph
  for (const [domain, version] of opsets) model.message(8, new Writer().string(1, domain).int(2, version)); // opset_import
  return model.finish();
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

  return modelProto(graph, [['', 13]]);
}

const ELEM = { uint8: UINT8, int8: INT8 };
const RANGE = { uint8: [0, 255], int8: [-128, 127] };

/**
 * Builds the integer ONNX model bytes from the manifest's "quant" entries and weights_q.bin.
 * Input "input" [1, C, H, W] of the .tflite input's type (uint8 for the ImageNet models: the
 * pixels), output "scores" [1, classes] float32: the quantized probabilities dequantized.
 * Every activation carries the .tflite tensor's scale and zero point; each QLinearConv's int32
 * bias is the file's (scale input_scale * weight_scale, zero point 0, as ONNX requires too).
 */
export function buildOnnxInt8(manifest, qbin) {
  const q = manifest.quant;
  if (!q?.available) throw new Error(`no integer path in ${manifest.source}: ${q?.reason ?? 'the manifest has no quant entries'}`);
  const graph = new Writer();
  const nodes = [];
  const inits = [];
  const names = new Set();
  const constant = (name, dims, data) => {
    if (names.has(name)) return name;
    names.add(name);
    inits.push(tensorProto(name, dims, data));
    return name;
  };
  const zeroPoint = (p) => (p.dtype === 'int8' ? Int8Array : Uint8Array).of(p.zero_point);
  // A (scale, zero point) pair as two scalar initializers; identical pairs share them.
  const params = (p) => {
    const key = `${p.dtype}_${p.scale}_${p.zero_point}`.replace(/[^\w]/g, '_');
    return [constant(`s_${key}`, [], Float32Array.of(p.scale)), constant(`zp_${key}`, [], zeroPoint(p))];
  };
  const same = (a, b) => a.dtype === b.dtype && Math.fround(a.scale) === Math.fround(b.scale) && a.zero_point === b.zero_point;
  const check = (where, actual, expected) => {
    if (!same(actual, expected)) {
      throw new Error(`${where}: the tensor is quantized as ${JSON.stringify(actual)}, the layer reads ${JSON.stringify(expected)}`);
    }
  };
  // real = scale * (q - zero_point) -> another scale / zero point (TFLite's QUANTIZE between 8-bit tensors).
  const requantize = (x, from, to, name) => {
    const f = `${name}_f`;
    nodes.push(nodeProto('DequantizeLinear', [x, ...params(from)], [f], f));
    nodes.push(nodeProto('QuantizeLinear', [f, ...params(to)], [name], name));
    return name;
  };
  // The activation's clamp on the integers: what TFLite fuses into the layer's output range;
  // none when it covers the type's whole range (ReLU6 with scale 6/255 and zero point 0).
  const clamp = (x, act, p, name) => {
    const [lo, hi] = { none: [-Infinity, Infinity], relu: [0, Infinity], relu6: [0, 6] }[act];
    const [qmin, qmax] = RANGE[p.dtype];
    const quantize = (f) => Math.min(qmax, Math.max(qmin, p.zero_point + Math.round(f / p.scale)));
    const qlo = Number.isFinite(lo) ? quantize(lo) : qmin;
    const qhi = Number.isFinite(hi) ? quantize(hi) : qmax;
    if (qlo === qmin && qhi === qmax) return x;
    const Type = p.dtype === 'int8' ? Int8Array : Uint8Array;
    const y = `${name}_${act}`;
    nodes.push(nodeProto('Clip', [x, constant(`${y}_min`, [], Type.of(qlo)), constant(`${y}_max`, [], Type.of(qhi))], [y], y));
    return y;
  };
  const qconv = (id, x, xq, layer, W, wDims, attrs) => {
    const lq = layer.quant;
    const scales = Float32Array.from(lq.weight_scales);
    const zps = (lq.weights.dtype === 'int8' ? Int8Array : Uint8Array).from(lq.weight_zero_points);
    const perTensor = scales.length === 1;
    const inputs = [
      x, ...params(xq),
      constant(`${id}_W`, wDims, W),
      constant(`${id}_W_scale`, perTensor ? [] : [scales.length], scales),
      constant(`${id}_W_zp`, perTensor ? [] : [zps.length], zps),
      ...params(lq.output),
      constant(`${id}_B`, [wDims[0]], quantTensorData(qbin, lq.bias)),
    ];
    const y = `${id}_qconv`;
    nodes.push(nodeProto('QLinearConv', inputs, [y], y, attrs));
    return clamp(y, layer.activation, lq.output, id);
  };

  const { height, width, channels } = manifest.input;
  let x = 'input';
  let xq = q.input;
  q.input_requantize.forEach((to, i) => {
    x = requantize(x, xq, to, `input_requantize${i}`);
    xq = to;
  });
  let block = { id: null, x, xq };
  let counter = 0;
  for (const layer of manifest.layers) {
    const id = `l${counter++}_${layer.kind}${layer.block >= 0 ? layer.block : ''}`;
    const lq = layer.quant;
    if (layer.block !== block.id) block = { id: layer.block, x, xq };
    if (layer.kind === 'classifier') {
      const pooled = `${id}_pool`;
      nodes.push(nodeProto('QLinearGlobalAveragePool', [x, ...params(xq), ...params(q.pool_output)], [pooled], pooled,
        { channels_last: 0 }, MS_DOMAIN));
      check(id, q.pool_output, lq.input);
      // The classifier as a 1x1 QLinearConv on the pooled [1, features, 1, 1]: weights [classes][features][1][1].
      const y = qconv(id, pooled, q.pool_output, layer, quantTensorData(qbin, lq.weights), [layer.classes, layer.features, 1, 1],
        { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
      x = `${id}_flat`;
      nodes.push(nodeProto('Flatten', [y], [x], x, { axis: 1 }));
      xq = lq.output;
      continue;
    }
    check(id, xq, lq.input);
    const [kh, kw] = layer.kernel;
    const [, , inC] = layer.in;
    const [, , outC] = layer.out;
    const depthwise = layer.op === 'depthwise_conv2d';
    const wData = quantTensorData(qbin, lq.weights);
    const [W, wDims] = depthwise
      ? [hwcToC1hw(wData, [kh, kw, outC]), [outC, 1, kh, kw]]
      : [ohwiToOihw(wData, [outC, kh, kw, inC]), [outC, inC, kh, kw]];
    x = qconv(id, x, xq, layer, W, wDims, {
      kernel_shape: [kh, kw],
      strides: [layer.stride, layer.stride],
      pads: [layer.pad_top, layer.pad_left, layer.pad_bottom, layer.pad_right],
      dilations: [1, 1],
      group: depthwise ? outC : 1,
    });
    xq = lq.output;
    if (layer.residual) {
      const sum = `${id}_add`;
      nodes.push(nodeProto('QLinearAdd', [x, ...params(xq), block.x, ...params(block.xq), ...params(lq.add_output)], [sum], sum,
        {}, MS_DOMAIN));
      x = sum;
      xq = lq.add_output;
    }
  }
  const classes = manifest.layers.at(-1).classes;
  if (manifest.softmax) {
    check('softmax', xq, q.softmax_input);
    let f = 'logits';
    nodes.push(nodeProto('DequantizeLinear', [x, ...params(xq)], [f], f));
    if (manifest.softmax_beta !== 1) {
      const beta = constant('const_beta', [], Float32Array.of(manifest.softmax_beta));
      nodes.push(nodeProto('Mul', [f, beta], ['scaled_logits'], 'scaled_logits'));
      f = 'scaled_logits';
    }
    nodes.push(nodeProto('Softmax', [f], ['probabilities'], 'softmax', { axis: 1 }));
    nodes.push(nodeProto('QuantizeLinear', ['probabilities', ...params(q.softmax_output)], ['q_probabilities'], 'q_probabilities'));
    x = 'q_probabilities';
    xq = q.softmax_output;
  }
  q.output_requantize.forEach((to, i) => {
    x = requantize(x, xq, to, `output_requantize${i}`);
    xq = to;
  });
  nodes.push(nodeProto('DequantizeLinear', [x, ...params(xq)], ['scores'], 'scores'));

  for (const n of nodes) graph.message(1, n); // node
  graph.string(2, 'mobilenet_v2_int8'); // name
  for (const t of inits) graph.message(5, t); // initializer
  graph.message(11, valueInfo('input', [1, channels, height, width], ELEM[q.input.dtype])); // input
  graph.message(12, valueInfo('scores', [1, classes])); // output
  return modelProto(graph, [['', 13], [MS_DOMAIN, 1]]);
}
