// The TFLite flatbuffer schema, read into plain structs. Only this file and
// tflite.cc know the schema's field numbers; everything is bounds-checked.
#ifndef MNV2_MODEL_TFLITE_H_
#define MNV2_MODEL_TFLITE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace mnv2 {
namespace model {

// TFLite's TensorType values.
enum class TensorType : int8_t {
  kFloat32 = 0, kFloat16 = 1, kInt32 = 2, kUInt8 = 3, kInt64 = 4, kString = 5, kBool = 6,
  kInt16 = 7, kComplex64 = 8, kInt8 = 9, kFloat64 = 10,
};
const char* TensorTypeName(TensorType type);
// Bytes per element, 0 for types we never read data of.
size_t TensorTypeSize(TensorType type);

// TFLite's BuiltinOperator values for the ops we know by name.
enum BuiltinOp : int32_t {
  kOpAdd = 0, kOpAveragePool2D = 1, kOpConcatenation = 2, kOpConv2D = 3, kOpDepthwiseConv2D = 4, kOpDequantize = 6,
  kOpFullyConnected = 9, kOpL2Normalization = 11, kOpRelu = 19, kOpRelu6 = 21, kOpReshape = 22, kOpResizeBilinear = 23,
  kOpSoftmax = 25, kOpMean = 40, kOpSqueeze = 43, kOpArgMax = 56, kOpQuantize = 114,
};

// The schema's BuiltinOptions union tags of the options tables read (tflite.cc) and written
// (tflite_export.cc).
enum OptionsType : uint8_t {
  kNoOptions = 0, kConv2DOptions = 1, kDepthwiseConv2DOptions = 2, kPool2DOptions = 5,
  kFullyConnectedOptions = 8, kSoftmaxOptions = 9, kConcatenationOptions = 10, kAddOptions = 11,
  kL2NormOptions = 12, kResizeBilinearOptions = 15, kReshapeOptions = 17, kReducerOptions = 27, kArgMaxOptions = 40,
};

// TFLite's name of a builtin operator ("CONV_2D", "RESIZE_BILINEAR", ...), or "BUILTIN_<n>" for a code
// newer than the schema this was written from.
std::string BuiltinOpName(int32_t code);

enum class FusedActivation : int8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3, kTanh = 4, kSignBit = 5 };
enum class Padding : int8_t { kSame = 0, kValid = 1 };

struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
};

// The most dimensions a tensor may have, in either file format.
constexpr size_t kMaxTensorRank = 8;

struct Tensor {
  std::string name;
  std::vector<int32_t> shape;
  TensorType type = TensorType::kFloat32;
  Quantization quant;
  // Constant data inside the file bytes (null for activations); checked to lie inside the file.
  const uint8_t* data = nullptr;
  size_t data_size = 0;
};

// The union of the builtin options of the ops we run, with TFLite's defaults.
struct OpOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  int32_t dilation_w = 1, dilation_h = 1;
  int32_t depth_multiplier = 1;
  int32_t filter_w = 0, filter_h = 0;
  FusedActivation activation = FusedActivation::kNone;
  float softmax_beta = 1.0f;
  bool keep_dims = false;
  int32_t axis = 0;                             // CONCATENATION
  bool align_corners = false;                   // RESIZE_BILINEAR
  bool half_pixel_centers = false;              // RESIZE_BILINEAR
  TensorType output_type = TensorType::kInt64;  // ARG_MAX
};

struct Operator {
  int32_t code = -1;        // BuiltinOperator, or -1 for a custom op
  std::string custom_code;  // for custom ops
  std::vector<int32_t> inputs, outputs;  // tensor indices, -1 for an omitted optional input
  OpOptions options;
};

// The name of the metadata entry whose buffer holds the class labels, one per line (UTF-8):
// what ExportTflite writes.
constexpr char kLabelsMetadata[] = "mnv2.labels";

struct Graph {
  uint32_t version = 0;
  std::string description;
  std::string labels;  // the kLabelsMetadata entry's text; empty without one
  std::vector<Tensor> tensors;
  std::vector<Operator> operators;
  std::vector<int32_t> inputs, outputs;
};

// Parses a .tflite file. `data` must outlive the Graph (tensors point into it).
// Rejects anything malformed with kModelFormat; does not judge which ops are supported.
Result<Graph> ReadTflite(const uint8_t* data, size_t size);

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_TFLITE_H_
