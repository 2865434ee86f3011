// Writes FlatBuffers, and TFLite files from a plain list of tensors and operators: what
// ExportTflite (model/tflite_export.h) writes, and the tests' synthetic models.
#ifndef MNV2_MODEL_TFLITE_WRITER_H_
#define MNV2_MODEL_TFLITE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace mnv2 {
namespace model {

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
  size_t align = 4;                     // kBytes: alignment of the first element
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

FbPtr MakeFbTable();
FbPtr MakeFbString(const std::string& s);
template <typename T>
FbPtr MakeFbScalars(const std::vector<T>& values) {
  auto n = std::make_shared<FbNode>();
  n->kind = FbNode::Kind::kBytes;
  n->count = static_cast<uint32_t>(values.size());
  n->align = sizeof(T) < 4 ? 4 : sizeof(T);
  n->bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(n->bytes.data(), values.data(), n->bytes.size());
  return n;
}
FbPtr MakeFbTableVector(std::vector<FbPtr> tables);
// Serializes `root` with the file identifier (e.g. "TFL3").
std::vector<uint8_t> FinishFb(const FbPtr& root, const char identifier[4]);

// A TFLite model with one subgraph. Types, operator codes and option tables are the schema's
// raw values, so that tests can write what the schema forbids.
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
  int32_t code;  // BuiltinOperator
  std::vector<int32_t> inputs, outputs;
  FbPtr options;          // may be null
  uint8_t options_type = 0;  // the BuiltinOptions union tag of `options`
};
// An entry of the model's metadata: a name and its buffer's bytes.
struct MetadataDef {
  std::string name;
  std::vector<uint8_t> bytes;
};
struct GraphDef {
  std::vector<TensorDef> tensors;
  std::vector<OpDef> ops;
  std::vector<int32_t> inputs, outputs;
  std::string description;
  std::vector<MetadataDef> metadata;
};
std::vector<uint8_t> WriteTflite(const GraphDef& g);

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_TFLITE_WRITER_H_
