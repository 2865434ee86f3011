#include "model/tflite.h"

#include <cmath>
#include <cstring>

#include "common/out_of_line.h"
#include "model/flatbuffer.h"

namespace mnv2 {
namespace model {
namespace {

// Field numbers of the TFLite schema (tensorflow/lite/schema/schema.fbs).
namespace model_fields { enum { kVersion = 0, kOperatorCodes = 1, kSubgraphs = 2, kDescription = 3, kBuffers = 4, kMetadata = 6 }; }
namespace metadata_fields { enum { kName = 0, kBuffer = 1 }; }
namespace opcode_fields { enum { kDeprecatedBuiltinCode = 0, kCustomCode = 1, kVersion = 2, kBuiltinCode = 3 }; }
namespace subgraph_fields { enum { kTensors = 0, kInputs = 1, kOutputs = 2, kOperators = 3 }; }
namespace tensor_fields { enum { kShape = 0, kType = 1, kBuffer = 2, kName = 3, kQuantization = 4, kIsVariable = 5, kSparsity = 6 }; }
namespace quant_fields { enum { kMin = 0, kMax = 1, kScale = 2, kZeroPoint = 3, kDetailsType = 4, kQuantizedDimension = 6 }; }
namespace buffer_fields { enum { kData = 0, kOffset = 1, kSize = 2 }; }
namespace operator_fields { enum { kOpcodeIndex = 0, kInputs = 1, kOutputs = 2, kOptionsType = 3, kOptions = 4 }; }

constexpr size_t kMaxTensors = 1 << 16;
constexpr size_t kMaxOperators = 1 << 16;
constexpr size_t kMaxMetadata = 1 << 16;
constexpr int32_t kMaxDim = 1 << 24;

Status FormatError(const std::string& message) {
  return Status(ErrorCode::kModelFormat, "malformed TFLite model: " + message);
}

std::vector<int32_t> ReadInts(const FbVector& v) {
  std::vector<int32_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v.Scalar<int32_t>(i);
  return out;
}

Status ReadOptions(int32_t code, const FbTable& op, OpOptions* o) {
  const uint8_t type = op.Scalar<uint8_t>(operator_fields::kOptionsType, kNoOptions);
  const FbTable t = op.Table(operator_fields::kOptions);
  uint8_t expected = kNoOptions;
  switch (code) {
    case kOpConv2D: expected = kConv2DOptions; break;
    case kOpDepthwiseConv2D: expected = kDepthwiseConv2DOptions; break;
    case kOpAveragePool2D: expected = kPool2DOptions; break;
    case kOpFullyConnected: expected = kFullyConnectedOptions; break;
    case kOpSoftmax: expected = kSoftmaxOptions; break;
    case kOpAdd: expected = kAddOptions; break;
    case kOpL2Normalization: expected = kL2NormOptions; break;
    case kOpReshape: expected = kReshapeOptions; break;
    case kOpMean: expected = kReducerOptions; break;
    case kOpConcatenation: expected = kConcatenationOptions; break;
    case kOpResizeBilinear: expected = kResizeBilinearOptions; break;
    case kOpArgMax: expected = kArgMaxOptions; break;
    default: return Status::Ok();
  }
  if (!t.present()) return Status::Ok();  // all defaults
  if (type != expected) {
    return FormatError(BuiltinOpName(code) + " has options of union type " + std::to_string(type) +
                       ", expected " + std::to_string(expected));
  }
  auto act = [](int8_t a) { return static_cast<FusedActivation>(a); };
  switch (code) {
    case kOpConv2D:
      o->padding = static_cast<Padding>(t.Scalar<int8_t>(0, 0));
      o->stride_w = t.Scalar<int32_t>(1, 0);
      o->stride_h = t.Scalar<int32_t>(2, 0);
      o->activation = act(t.Scalar<int8_t>(3, 0));
      o->dilation_w = t.Scalar<int32_t>(4, 1);
      o->dilation_h = t.Scalar<int32_t>(5, 1);
      break;
    case kOpDepthwiseConv2D:
      o->padding = static_cast<Padding>(t.Scalar<int8_t>(0, 0));
      o->stride_w = t.Scalar<int32_t>(1, 0);
      o->stride_h = t.Scalar<int32_t>(2, 0);
      o->depth_multiplier = t.Scalar<int32_t>(3, 0);
      o->activation = act(t.Scalar<int8_t>(4, 0));
      o->dilation_w = t.Scalar<int32_t>(5, 1);
      o->dilation_h = t.Scalar<int32_t>(6, 1);
      break;
    case kOpAveragePool2D:
      o->padding = static_cast<Padding>(t.Scalar<int8_t>(0, 0));
      o->stride_w = t.Scalar<int32_t>(1, 0);
      o->stride_h = t.Scalar<int32_t>(2, 0);
      o->filter_w = t.Scalar<int32_t>(3, 0);
      o->filter_h = t.Scalar<int32_t>(4, 0);
      o->activation = act(t.Scalar<int8_t>(5, 0));
      break;
    case kOpFullyConnected:
      o->activation = act(t.Scalar<int8_t>(0, 0));
      o->keep_dims = t.Scalar<uint8_t>(2, 0) != 0;
      break;
    case kOpSoftmax:
      o->softmax_beta = t.Scalar<float>(0, 0.0f);
      break;
    case kOpAdd:
    case kOpL2Normalization:
      o->activation = act(t.Scalar<int8_t>(0, 0));
      break;
    case kOpMean:
      o->keep_dims = t.Scalar<uint8_t>(0, 0) != 0;
      break;
    case kOpConcatenation:
      o->axis = t.Scalar<int32_t>(0, 0);
      o->activation = act(t.Scalar<int8_t>(1, 0));
      break;
    case kOpResizeBilinear:  // fields 0 and 1 (new_height, new_width) are deprecated
      o->align_corners = t.Scalar<uint8_t>(2, 0) != 0;
      o->half_pixel_centers = t.Scalar<uint8_t>(3, 0) != 0;
      break;
    case kOpArgMax:
      o->output_type = static_cast<TensorType>(t.Scalar<int8_t>(0, static_cast<int8_t>(TensorType::kInt64)));
      break;
    default:
      break;
  }
  if (o->padding != Padding::kSame && o->padding != Padding::kValid) {
    return FormatError(BuiltinOpName(code) + " has unknown padding " +
                       std::to_string(static_cast<int>(o->padding)));
  }
  return Status::Ok();
}

// The bytes of buffer `index` (none for an empty buffer), checked to lie inside the file.
Status BufferData(const FbVector& buffers, uint32_t index, const FlatBufferReader& reader, const std::string& what,
                  const uint8_t** data, size_t* size) {
  if (index >= buffers.size()) {
    return FormatError(what + " refers to buffer " + std::to_string(index) + " of " + std::to_string(buffers.size()));
  }
  const FbTable b = buffers.Table(index);
  if (!b.present()) return Status::Ok();
  const FbVector inline_data = b.Vector(buffer_fields::kData, 1);
  const uint64_t offset = b.Scalar<uint64_t>(buffer_fields::kOffset, 0);
  const uint64_t length = b.Scalar<uint64_t>(buffer_fields::kSize, 0);
  if (inline_data.present() && inline_data.size() > 0) {
    *data = inline_data.data();
    *size = inline_data.size();
  } else if (offset > 1) {  // data stored after the flatbuffer (models over 2 GB)
    // On 32-bit targets (WebAssembly) the 64-bit fields must not wrap into range.
    if (static_cast<size_t>(offset) != offset || static_cast<size_t>(length) != length ||
        !reader.InBounds(static_cast<size_t>(offset), static_cast<size_t>(length))) {
      return FormatError(what + " has data outside the file");
    }
    *data = reader.data() + offset;
    *size = static_cast<size_t>(length);
  }
  return reader.ok() ? Status::Ok() : FormatError(reader.error());
}

Status ReadTensor(const FbTable& t, const FbVector& buffers, const FlatBufferReader& reader,
                  size_t index, Tensor* out) {
  out->name = t.String(tensor_fields::kName);
  const std::string what = "tensor " + std::to_string(index) + " ('" + out->name + "')";
  const FbVector shape = t.Vector(tensor_fields::kShape, 4);
  if (shape.size() > kMaxTensorRank) return FormatError(what + " has rank " + std::to_string(shape.size()));
  out->shape = ReadInts(shape);
  for (int32_t d : out->shape) {
    if (d < 0 || d > kMaxDim) return FormatError(what + " has dimension " + std::to_string(d));
  }
  out->type = static_cast<TensorType>(t.Scalar<int8_t>(tensor_fields::kType, 0));
  if (t.FieldPos(tensor_fields::kSparsity)) return FormatError(what + " is sparse, which is not supported");

  const FbTable q = t.Table(tensor_fields::kQuantization);
  if (q.present()) {
    const FbVector scale = q.Vector(quant_fields::kScale, 4);
    const FbVector zero = q.Vector(quant_fields::kZeroPoint, 8);
    if (scale.size() > kMaxDim || zero.size() > kMaxDim) return FormatError(what + " has too many scales");
    for (size_t i = 0; i < scale.size(); ++i) out->quant.scale.push_back(scale.Scalar<float>(i));
    for (size_t i = 0; i < zero.size(); ++i) out->quant.zero_point.push_back(zero.Scalar<int64_t>(i));
    out->quant.quantized_dimension = q.Scalar<int32_t>(quant_fields::kQuantizedDimension, 0);
    for (float s : out->quant.scale) {
      if (!std::isfinite(s) || s < 0) return FormatError(what + " has an invalid quantization scale");
    }
    if (q.Scalar<uint8_t>(quant_fields::kDetailsType, 0) != 0) {
      return FormatError(what + " uses custom quantization details, which are not supported");
    }
  }

  return BufferData(buffers, t.Scalar<uint32_t>(tensor_fields::kBuffer, 0), reader, what, &out->data,
                    &out->data_size);
}

}  // namespace

const char* TensorTypeName(TensorType type) {
  switch (type) {
    case TensorType::kFloat32: return "float32";
    case TensorType::kFloat16: return "float16";
    case TensorType::kInt32: return "int32";
    case TensorType::kUInt8: return "uint8";
    case TensorType::kInt64: return "int64";
    case TensorType::kString: return "string";
    case TensorType::kBool: return "bool";
    case TensorType::kInt16: return "int16";
    case TensorType::kComplex64: return "complex64";
    case TensorType::kInt8: return "int8";
    case TensorType::kFloat64: return "float64";
  }
  return "unknown type";
}

size_t TensorTypeSize(TensorType type) {
  switch (type) {
    case TensorType::kFloat32: case TensorType::kInt32: return 4;
    case TensorType::kFloat16: case TensorType::kInt16: return 2;
    case TensorType::kUInt8: case TensorType::kInt8: case TensorType::kBool: return 1;
    case TensorType::kInt64: case TensorType::kFloat64: case TensorType::kComplex64: return 8;
    default: return 0;
  }
}

std::string BuiltinOpName(int32_t code) {
  // TFLite's BuiltinOperator enum (schema.fbs) in code order, separated by spaces; '@' stands
  // for "STABLEHLO_". One string rather than a table of pointers: the WebAssembly module
  // carries it, and every byte of that is downloaded.
  static const char kNames[] =
      "ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP "
      "FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC "
      "LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX "
      "SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD "
      "UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE "
      "UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX "
      "DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER "
      "GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL "
      "LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND "
      "LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE "
      "RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N "
      "GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF "
      "WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL "
      "PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS "
      "HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE "
      "READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL "
      "GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 "
      "UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT @LOGISTIC @ADD @DIVIDE @MULTIPLY @MAXIMUM "
      "@RESHAPE @CLAMP @CONCATENATE @BROADCAST_IN_DIM @CONVOLUTION @SLICE @CUSTOM_CALL @REDUCE @ABS @AND @COSINE "
      "@EXPONENTIAL @FLOOR @LOG @MINIMUM @NEGATE @OR @POWER @REMAINDER @RSQRT @SELECT @SUBTRACT @TANH @SCATTER "
      "@COMPARE @CONVERT @DYNAMIC_SLICE @DYNAMIC_UPDATE_SLICE @PAD @IOTA @DOT_GENERAL @REDUCE_WINDOW @SORT @WHILE "
      "@GATHER @TRANSPOSE DILATE @RNG_BIT_GENERATOR REDUCE_WINDOW";
  const char* name = code < 0 ? nullptr : kNames;
  for (int32_t i = 0; i < code && name != nullptr; ++i) {
    name = std::strchr(name, ' ');
    if (name != nullptr) ++name;
  }
  if (name == nullptr) return code == 225 ? "TEMP_STREAMING_CONV_2D" : "BUILTIN_" + std::to_string(code);
  const char* end = std::strchr(name, ' ');
  if (end == nullptr) end = name + std::strlen(name);
  return *name == '@' ? "STABLEHLO_" + std::string(name + 1, end) : std::string(name, end);
}

Result<Graph> ReadTflite(const uint8_t* data, size_t size) {
  if (data == nullptr || size == 0) return FormatError("the file is empty");
  FlatBufferReader reader(data, size);
  const FbTable root = reader.Root("TFL3");
  if (!reader.ok()) return FormatError(reader.error() + " (not a .tflite file?)");

  Graph g;
  g.version = root.Scalar<uint32_t>(model_fields::kVersion, 0);
  if (g.version != 3) return FormatError("schema version " + std::to_string(g.version) + ", expected 3");
  g.description = root.String(model_fields::kDescription);

  const FbVector codes = root.Vector(model_fields::kOperatorCodes, 4);
  const FbVector subgraphs = root.Vector(model_fields::kSubgraphs, 4);
  const FbVector buffers = root.Vector(model_fields::kBuffers, 4);
  if (!reader.ok()) return FormatError(reader.error());
  if (subgraphs.size() != 1) {
    return Status(ErrorCode::kUnsupportedModel,
                  "the model has " + std::to_string(subgraphs.size()) + " subgraphs; exactly one is supported");
  }
  const FbTable sg = subgraphs.Table(0);
  if (!reader.ok() || !sg.present()) return FormatError(reader.error());

  const FbVector tensors = sg.Vector(subgraph_fields::kTensors, 4);
  const FbVector operators = sg.Vector(subgraph_fields::kOperators, 4);
  g.inputs = ReadInts(sg.Vector(subgraph_fields::kInputs, 4));
  g.outputs = ReadInts(sg.Vector(subgraph_fields::kOutputs, 4));
  if (!reader.ok()) return FormatError(reader.error());
  if (tensors.size() > kMaxTensors) return FormatError(std::to_string(tensors.size()) + " tensors");
  if (operators.size() > kMaxOperators) return FormatError(std::to_string(operators.size()) + " operators");

  g.tensors.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const FbTable t = tensors.Table(i);
    if (!reader.ok() || !t.present()) return FormatError(reader.error());
    MNV2_RETURN_IF_ERROR(OutOfLine(&ReadTensor)(t, buffers, reader, i, &g.tensors[i]));
    if (!reader.ok()) return FormatError(reader.error());
  }

  auto check_index = [&](int32_t index, bool optional, const std::string& where) -> Status {
    if ((optional && index == -1) || (index >= 0 && static_cast<size_t>(index) < g.tensors.size())) {
      return Status::Ok();
    }
    return FormatError(where + " refers to tensor " + std::to_string(index) + " of " +
                       std::to_string(g.tensors.size()));
  };
  for (int32_t i : g.inputs) MNV2_RETURN_IF_ERROR(check_index(i, false, "the graph input"));
  for (int32_t i : g.outputs) MNV2_RETURN_IF_ERROR(check_index(i, false, "the graph output"));

  g.operators.resize(operators.size());
  for (size_t i = 0; i < operators.size(); ++i) {
    const FbTable o = operators.Table(i);
    if (!reader.ok() || !o.present()) return FormatError(reader.error());
    Operator& op = g.operators[i];
    const uint32_t opcode_index = o.Scalar<uint32_t>(operator_fields::kOpcodeIndex, 0);
    if (opcode_index >= codes.size()) {
      return FormatError("operator " + std::to_string(i) + " uses opcode " + std::to_string(opcode_index) +
                         " of " + std::to_string(codes.size()));
    }
    const FbTable code = codes.Table(opcode_index);
    if (!reader.ok() || !code.present()) return FormatError(reader.error());
    const int32_t deprecated = code.Scalar<int8_t>(opcode_fields::kDeprecatedBuiltinCode, 0);
    const int32_t builtin = code.Scalar<int32_t>(opcode_fields::kBuiltinCode, 0);
    op.code = deprecated > builtin ? deprecated : builtin;
    op.custom_code = code.String(opcode_fields::kCustomCode);
    if (op.code == 32) op.code = -1;  // BuiltinOperator_CUSTOM
    op.inputs = ReadInts(o.Vector(operator_fields::kInputs, 4));
    op.outputs = ReadInts(o.Vector(operator_fields::kOutputs, 4));
    if (!reader.ok()) return FormatError(reader.error());
    const std::string where = "operator " + std::to_string(i) + " (" +
                              (op.code < 0 ? "custom '" + op.custom_code + "'" : BuiltinOpName(op.code)) + ")";
    for (int32_t t : op.inputs) MNV2_RETURN_IF_ERROR(check_index(t, true, where));
    for (int32_t t : op.outputs) MNV2_RETURN_IF_ERROR(check_index(t, false, where));
    MNV2_RETURN_IF_ERROR(OutOfLine(&ReadOptions)(op.code, o, &op.options));
    if (!reader.ok()) return FormatError(reader.error());
  }

  const FbVector metadata = root.Vector(model_fields::kMetadata, 4);
  if (!reader.ok()) return FormatError(reader.error());
  if (metadata.size() > kMaxMetadata) return FormatError(std::to_string(metadata.size()) + " metadata entries");
  for (size_t i = 0; i < metadata.size(); ++i) {
    const FbTable m = metadata.Table(i);
    const std::string name = m.String(metadata_fields::kName);
    const uint32_t buffer = m.Scalar<uint32_t>(metadata_fields::kBuffer, 0);
    if (!reader.ok() || !m.present()) return FormatError(reader.error());
    const uint8_t* bytes = nullptr;
    size_t size = 0;
    MNV2_RETURN_IF_ERROR(BufferData(buffers, buffer, reader, "metadata entry '" + name + "'", &bytes, &size));
    if (name == kLabelsMetadata && bytes != nullptr) g.labels.assign(reinterpret_cast<const char*>(bytes), size);
  }
  return g;
}

}  // namespace model
}  // namespace mnv2
