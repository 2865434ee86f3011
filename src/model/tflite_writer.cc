#include "model/tflite_writer.h"

#include <algorithm>

namespace mnv2 {
namespace model {

FbPtr MakeFbTable() { return std::make_shared<FbNode>(); }

FbPtr MakeFbString(const std::string& s) {
  auto n = std::make_shared<FbNode>();
  n->kind = FbNode::Kind::kBytes;
  n->count = static_cast<uint32_t>(s.size());
  n->bytes.assign(s.begin(), s.end());
  n->bytes.push_back(0);
  return n;
}

FbPtr MakeFbTableVector(std::vector<FbPtr> tables) {
  auto n = std::make_shared<FbNode>();
  n->kind = FbNode::Kind::kRefs;
  n->refs = std::move(tables);
  return n;
}

namespace {

class Serializer {
 public:
  std::vector<uint8_t> out;

  void Pad(size_t align) {
    while (out.size() % align) out.push_back(0);
  }
  template <typename T>
  void Put(size_t pos, T v) {
    std::memcpy(out.data() + pos, &v, sizeof(T));
  }
  template <typename T>
  void Append(T v) {
    const size_t pos = out.size();
    out.resize(pos + sizeof(T));
    Put(pos, v);
  }
  void PatchOffset(size_t field_pos, size_t target) { Put<uint32_t>(field_pos, static_cast<uint32_t>(target - field_pos)); }

  size_t Emit(const FbNode& n) {
    switch (n.kind) {
      case FbNode::Kind::kBytes: {
        while ((out.size() + 4) % n.align) out.push_back(0);
        const size_t pos = out.size();
        Append<uint32_t>(n.count);
        out.insert(out.end(), n.bytes.begin(), n.bytes.end());
        return pos;
      }
      case FbNode::Kind::kRefs: {
        Pad(4);
        const size_t pos = out.size();
        Append<uint32_t>(static_cast<uint32_t>(n.refs.size()));
        const size_t first = out.size();
        out.resize(first + 4 * n.refs.size());
        for (size_t i = 0; i < n.refs.size(); ++i) PatchOffset(first + 4 * i, Emit(*n.refs[i]));
        return pos;
      }
      case FbNode::Kind::kTable:
        break;
    }
    // Lay the table out: soffset, then fields in id order (a few: no std::sort in the
    // WebAssembly module), each aligned to its size.
    int max_id = -1;
    for (const auto& f : n.fields) max_id = std::max(max_id, f.id);
    std::vector<const FbNode::Field*> fields;
    for (int id = 0; id <= max_id; ++id) {
      for (const auto& f : n.fields) {
        if (f.id == id) fields.push_back(&f);
      }
    }
    std::vector<size_t> offsets;
    size_t size = 4;
    for (const auto* f : fields) {
      const size_t width = f->ref ? 4 : f->scalar.size();
      size = (size + width - 1) / width * width;
      offsets.push_back(size);
      size += width;
    }
    Pad(2);
    const size_t vtable = out.size();
    Append<uint16_t>(static_cast<uint16_t>(4 + 2 * (max_id + 1)));
    Append<uint16_t>(static_cast<uint16_t>(size));
    for (int id = 0; id <= max_id; ++id) Append<uint16_t>(0);
    for (size_t i = 0; i < fields.size(); ++i) Put<uint16_t>(vtable + 4 + 2 * fields[i]->id, static_cast<uint16_t>(offsets[i]));
    Pad(8);
    const size_t table = out.size();
    out.resize(table + size);
    Put<int32_t>(table, static_cast<int32_t>(table - vtable));
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!fields[i]->ref) std::memcpy(out.data() + table + offsets[i], fields[i]->scalar.data(), fields[i]->scalar.size());
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i]->ref) PatchOffset(table + offsets[i], Emit(*fields[i]->ref));
    }
    return table;
  }
};

// A Buffer table holding `bytes`, 16-byte aligned as the schema asks (force_align: 16).
FbPtr BufferOf(const std::vector<uint8_t>& bytes) {
  FbPtr data = MakeFbScalars(bytes);
  data->align = 16;
  FbPtr b = MakeFbTable();
  b->Ref(0, data);
  return b;
}

}  // namespace

std::vector<uint8_t> FinishFb(const FbPtr& root, const char identifier[4]) {
  Serializer s;
  s.out.resize(8);
  std::memcpy(s.out.data() + 4, identifier, 4);
  s.PatchOffset(0, s.Emit(*root));
  return s.out;
}

std::vector<uint8_t> WriteTflite(const GraphDef& g) {
  // One operator code per distinct builtin.
  std::vector<int32_t> codes;
  std::vector<FbPtr> ops;
  for (const OpDef& op : g.ops) {
    auto it = std::find(codes.begin(), codes.end(), op.code);
    const uint32_t index = static_cast<uint32_t>(it - codes.begin());
    if (it == codes.end()) codes.push_back(op.code);
    FbPtr o = MakeFbTable();
    o->Scalar<uint32_t>(0, index).Ref(1, MakeFbScalars(op.inputs)).Ref(2, MakeFbScalars(op.outputs));
    if (op.options) o->Scalar<uint8_t>(3, op.options_type).Ref(4, op.options);
    ops.push_back(o);
  }
  std::vector<FbPtr> opcodes;
  for (int32_t c : codes) {
    FbPtr oc = MakeFbTable();
    // deprecated_builtin_code holds codes up to 127 (PLACEHOLDER_FOR_GREATER_OP_CODES beyond).
    oc->Scalar<int8_t>(0, static_cast<int8_t>(std::min(c, 127))).Scalar<int32_t>(2, 1).Scalar<int32_t>(3, c);
    opcodes.push_back(oc);
  }
  std::vector<FbPtr> buffers = {MakeFbTable()};  // buffer 0: empty, by convention
  std::vector<FbPtr> tensors;
  for (const TensorDef& t : g.tensors) {
    FbPtr tt = MakeFbTable();
    tt->Ref(0, MakeFbScalars(t.shape)).Scalar<int8_t>(1, t.type).Ref(3, MakeFbString(t.name));
    if (!t.data.empty()) {
      buffers.push_back(BufferOf(t.data));
      tt->Scalar<uint32_t>(2, static_cast<uint32_t>(buffers.size() - 1));
    }
    if (!t.scale.empty()) {
      FbPtr q = MakeFbTable();
      q->Ref(2, MakeFbScalars(t.scale)).Ref(3, MakeFbScalars(t.zero_point)).Scalar<int32_t>(6, t.quantized_dimension);
      tt->Ref(4, q);
    }
    tensors.push_back(tt);
  }
  std::vector<FbPtr> metadata;
  for (const MetadataDef& m : g.metadata) {
    buffers.push_back(BufferOf(m.bytes));
    FbPtr entry = MakeFbTable();
    entry->Ref(0, MakeFbString(m.name)).Scalar<uint32_t>(1, static_cast<uint32_t>(buffers.size() - 1));
    metadata.push_back(entry);
  }
  FbPtr subgraph = MakeFbTable();
  subgraph->Ref(0, MakeFbTableVector(tensors))
      .Ref(1, MakeFbScalars(g.inputs))
      .Ref(2, MakeFbScalars(g.outputs))
      .Ref(3, MakeFbTableVector(ops));
  FbPtr model = MakeFbTable();
  model->Scalar<uint32_t>(0, 3)
      .Ref(1, MakeFbTableVector(opcodes))
      .Ref(2, MakeFbTableVector({subgraph}))
      .Ref(3, MakeFbString(g.description))
      .Ref(4, MakeFbTableVector(buffers));
  if (!metadata.empty()) model->Ref(6, MakeFbTableVector(metadata));
  return FinishFb(model, "TFL3");
}

}  // namespace model
}  // namespace mnv2
