// Writes TFLite flatbuffers for tests: synthetic MobileNetV2 and MobileNetV1 models of any
// width, resolution, class count and weight type, and hand-made broken ones.
#ifndef MNV2_TESTS_TFLITE_WRITER_H_
#define MNV2_TESTS_TFLITE_WRITER_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace mnv2 {
namespace testing {

// A FlatBuffers object tree, serialized with children after parents (uoffsets are unsigned).
struct FbNode {
  enum class Kind { kTable, kBytes, kRefs };
  Kind kind = Kind::kTable;
  struct Field {
    int id;
    std::vector<uint8_t> scalar;  // inline bytes, or empty for a reference
    std::shared_ptr<FbNode> ref;
  };
  std::vector<Field> fields;            // kTable
  std::vector<uint8_t> bytes;           // kBytes: a vector of scalars (or a string)
  uint32_t count = 0;                   // kBytes: number of elements
  size_t align = 4;                     // kBytes: element alignment
  std::vector<std::shared_ptr<FbNode>> refs;  // kRefs: a vector of tables

  template <typename T>
  FbNode& Scalar(int id, T value) {
    Field f{id, std::vector<uint8_t>(sizeof(T)), nullptr};
    std::memcpy(f.scalar.data(), &value, sizeof(T));
    fields.push_back(std::move(f));
    return *this;
  }
  FbNode& Ref(int id, std::shared_ptr<FbNode> node) {
    fields.push_back({id, {}, std::move(node)});
    return *this;
  }
};
using FbPtr = std::shared_ptr<FbNode>;

FbPtr FbTable();
FbPtr FbString(const std::string& s);
template <typename T>
FbPtr FbScalars(const std::vector<T>& values) {
  auto n = std::make_shared<FbNode>();
  n->kind = FbNode::Kind::kBytes;
  n->count = static_cast<uint32_t>(values.size());
  n->align = sizeof(T) < 4 ? 4 : sizeof(T);
  n->bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(n->bytes.data(), values.data(), n->bytes.size());
  return n;
}
FbPtr FbTables(std::vector<FbPtr> tables);
// Serializes `root` with the file identifier (e.g. "TFL3").
std::vector<uint8_t> FbFinish(const FbPtr& root, const char identifier[4]);

// ---------------------------------------------------------------------------
enum class WeightType { kFloat32, kFloat16, kUInt8, kInt8PerChannel };

struct SyntheticSpec {
  float alpha = 1.0f;
  int resolution = 224;
  int classes = 1001;
  WeightType weights = WeightType::kFloat32;
  bool fc_classifier = false;  // FULLY_CONNECTED instead of a 1x1 CONV_2D
  bool mean_pool = false;      // MEAN instead of AVERAGE_POOL_2D
  bool quantize_edges = false;  // int8 style: QUANTIZE after the input and before the output
  bool softmax = true;
  // MobileNetV1 (Howard et al. 2017, Table 1) instead: 13 depthwise-separable blocks (depthwise
  // 3x3 + ReLU6, pointwise 1x1 + ReLU6), int(c * alpha) channels, no head convolution.
  bool v1 = false;
  uint32_t seed = 1;
  // Tiny models (fuzzing seeds): only the first `blocks` inverted residual blocks, and a head
  // of `head_channels` (0: the paper's 1280, or more for alpha > 1).
  int blocks = 17;
  int head_channels = 0;
};

// A tiny uint8 model (alpha 0.35, 16x16 input, 3 blocks, a head of 16, 3 classes): loads and
// runs in microseconds, for the limits and robustness tests.
inline SyntheticSpec TinyUint8Spec() {
  SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 16;
  spec.classes = 3;
  spec.weights = WeightType::kUInt8;
  spec.blocks = 3;
  spec.head_channels = 16;
  return spec;
}

// IEEE half precision, rounding half away from zero.
uint16_t FloatToHalf(float f);

// Keras' make_divisible(v, 8): channel counts of the family.
int MakeDivisible(float v, int divisor = 8);

// A MobileNetV2 (Sandler et al. 2018, Table 2) with random weights scaled to keep activations
// in a sane range. Channels follow Keras' make_divisible(c * alpha, 8).
std::vector<uint8_t> SyntheticMobileNetV2(const SyntheticSpec& spec);

// Hand-built graphs for error paths: a list of ops over a list of tensors.
struct TensorDef {
  std::vector<int32_t> shape;
  int8_t type = 0;  // TensorType
  std::vector<uint8_t> data;  // constant data, or empty
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  std::string name;
};
struct OpDef {
  int32_t code;
  std::vector<int32_t> inputs, outputs;
  FbPtr options;          // may be null
  uint8_t options_type = 0;
};
struct GraphDef {
  std::vector<TensorDef> tensors;
  std::vector<OpDef> ops;
  std::vector<int32_t> inputs, outputs;
};
std::vector<uint8_t> WriteTflite(const GraphDef& g);
// The graph SyntheticMobileNetV2 writes, for tests that edit it before writing.
GraphDef SyntheticMobileNetV2Graph(const SyntheticSpec& spec);

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_TFLITE_WRITER_H_
