// The parts of the TF.js loader (model/tfjs.h). Both file formats are translated into one
// list of ops (TfjsModel), which a single assembler checks and turns into a Network:
//
//   model.json ──ReadTfjsWeights──> TfjsWeights (the manifest over the shard bytes)
//              ──ReadLayersModel / ReadGraphModel──> TfjsModel ──AssembleTfjs──> Network
#ifndef MNV2_MODEL_TFJS_INTERNAL_H_
#define MNV2_MODEL_TFJS_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/builder.h"
#include "model/json.h"
#include "model/network.h"
#include "model/tfjs.h"

namespace mnv2 {
namespace model {

Status TfjsUnsupported(const std::string& message);  // kUnsupportedModel
Status TfjsMalformed(const std::string& message);    // kModelFormat
// "[1,2,3]"
std::string DimsString(const std::vector<int64_t>& dims);

// One tensor of the weightsManifest.
struct TfjsWeightSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::string dtype;         // "float32", "int32" or "bool"
  std::string quantization;  // "", "uint8", "uint16" or "float16"
  double min = 0, scale = 1;  // uint8/uint16: value = q * scale + min
  int64_t elements = 0;
  size_t offset = 0, bytes = 0;  // where it lies in the concatenated shards
};

// The weightsManifest over the concatenated shard bytes; tensors are decoded on demand.
class TfjsWeights {
 public:
  // Checks every spec, that the shards hold exactly the bytes the manifest describes, and that
  // the dequantized weights fit limits.max_memory_bytes.
  static Result<TfjsWeights> Read(const JsonValue& manifest, const uint8_t* data, size_t size, const Limits& limits);

  const TfjsWeightSpec* Find(const std::string& name) const;
  // The values of float tensor `name` (dequantized), which must have `shape`; `what` names
  // it in errors.
  Status Floats(const std::string& name, const std::vector<int64_t>& shape, const std::string& what,
                std::vector<float>* out) const;
  // The values of an int32 tensor `name` of any shape (axes, paddings, shapes).
  Status Ints(const std::string& name, const std::string& what, std::vector<int64_t>* out,
              std::vector<int64_t>* shape = nullptr) const;
  // How most of the weights are stored: "float32", "float16", "uint8" or "uint16".
  std::string StorageType() const;
  // Elements of all tensors together.
  int64_t elements() const { return elements_; }

 private:
  const uint8_t* data_ = nullptr;
  int64_t elements_ = 0;
  std::vector<TfjsWeightSpec> specs_;
  std::map<std::string, size_t> index_;
};

// An op in the form the assembler understands. Convolutions and dense layers are kept in
// TensorFlow's layouts until the assembler transposes them.
enum class TfjsOpKind {
  kAffine,      // y = x * mul + add, scalars (input normalization)
  kPad,         // zero padding: pads
  kConv,        // weights [kh][kw][in_c][out_c]
  kDepthwise,   // weights [kh][kw][channels] (depth multiplier 1)
  kBatchNorm,   // y = x * bn_scale[c] + bn_offset[c]
  kBiasAdd,     // y = x + bias[c]
  kActivation,  // y = activation(x)
  kAdd,         // y = inputs[0] + inputs[1]
  kAvgPool,     // pool_h x pool_w window, strides, padding
  kMean,        // global average over height and width
  kIdentity,    // Dropout, Identity: y = x
  kReshape,     // Flatten, Reshape, Squeeze: the same values in another shape
  kDense,       // weights [in][out]
  kSoftmax,
};

struct TfjsOp {
  TfjsOpKind kind = TfjsOpKind::kIdentity;
  std::string name;    // the layer or node name, for messages
  std::string type;    // its Keras class or TF op, for messages
  std::string output;  // the name later ops read it by
  std::vector<std::string> inputs;
  // kConv, kDepthwise, kAvgPool
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  bool same = false;         // SAME padding; otherwise VALID plus `pads`
  int pads[4] = {0, 0, 0, 0};  // top, bottom, left, right (kPad, explicit conv padding)
  int in_c = 0, out_c = 0;   // kConv, kDense (kDepthwise: both the channel count)
  std::vector<float> weights;
  std::vector<float> bias;   // empty: none
  Activation activation = Activation::kNone;
  std::vector<double> bn_scale, bn_offset;  // kBatchNorm
  double mul = 1, add = 0;                  // kAffine
};

// A BatchNormalization in inference mode, as the per-channel scale and offset it applies.
TfjsOp BatchNormOp(const std::vector<float>& gamma, const std::vector<float>& beta, const std::vector<float>& mean,
                   const std::vector<float>& variance, double epsilon);

struct TfjsModel {
  std::string input;  // the input tensor's name
  int height = 0, width = 0;
  std::vector<TfjsOp> ops;  // each after the ops it reads
  std::string output;
};

// The two formats; `topology` is model.json's modelTopology.
Result<TfjsModel> ReadLayersModel(const JsonValue& topology, const TfjsWeights& weights);
Result<TfjsModel> ReadGraphModel(const JsonValue& topology, const TfjsWeights& weights);

// Folds batch norms, biases and activations into the layers before them, then checks the op
// chain is a MobileNetV2 (stem, inverted residual blocks, head, pooling, dense layers) and
// builds the Network.
Result<Network> AssembleTfjs(TfjsModel model, const TfjsWeights& weights, const InputRange& range,
                             const Limits& limits);

// JSON helpers shared by the two formats. Each returns false (and leaves *out alone) when the
// value is missing or of another type.
bool JsonInt(const JsonValue* v, int64_t* out);  // an integral number, or a string of one (TF attrs)
bool JsonNumber(const JsonValue* v, double* out);
bool JsonString(const JsonValue* v, std::string* out);
// The height and width of an input shape [batch, height, width, 3] whose batch and spatial
// sizes may be unknown (null or -1); unknown sizes become 224, Keras' default.
Status InputSize(const std::vector<int64_t>& dims, const std::string& what, int* height, int* width);

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_TFJS_INTERNAL_H_
