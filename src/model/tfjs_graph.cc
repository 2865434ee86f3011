// The TF.js graph format: modelTopology.node, a TensorFlow GraphDef in JSON whose Const nodes
// are the weights of the manifest (by node name), as tensorflowjs_converter writes it.
#include <set>

#include "model/tfjs_internal.h"

namespace mnv2 {
namespace model {
namespace {

constexpr char kSupportedOps[] =
    "Placeholder, Const, Identity, Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative, "
    "BiasAdd, Relu, Relu6, FusedBatchNorm(V3), Add(V2), Sub, Mul, RealDiv, Pad, AvgPool, Mean, Squeeze, Reshape, "
    "MatMul, _FusedMatMul, Softmax";

struct Node {
  std::string name, op;
  const JsonValue* attr = nullptr;
  std::vector<std::string> inputs;  // data inputs, without ":0"
};

// attr "s" values and fused op names are base64.
bool Base64Decode(const std::string& in, std::string* out) {
  out->clear();
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') break;
    else return false;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out->push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return true;
}

class GraphReader {
 public:
  explicit GraphReader(const TfjsWeights& weights) : weights_(weights) {}

  Result<TfjsModel> Read(const JsonValue& topology) {
    const JsonValue* list = topology.Find("node");
    if (list == nullptr || !list->is_array()) return TfjsMalformed("the graph's modelTopology has no node list");
    std::vector<Node> nodes;
    for (const JsonValue& v : list->items()) {
      Node n;
      if (!JsonString(v.Find("name"), &n.name) || !JsonString(v.Find("op"), &n.op)) {
        return TfjsMalformed("a graph node has no name or op");
      }
      n.attr = v.Find("attr");
      if (const JsonValue* inputs = v.Find("input")) {
        for (const JsonValue& in : inputs->items()) {
          std::string s;
          if (!JsonString(&in, &s) || s.empty()) return TfjsMalformed("node '" + n.name + "' has an invalid input");
          if (s[0] == '^') continue;  // a control dependency
          const size_t colon = s.rfind(':');
          if (colon != std::string::npos && s.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
            if (s.substr(colon + 1) != "0") {
              return TfjsUnsupported("node '" + n.name + "' reads output " + s.substr(colon + 1) + " of '" +
                                     s.substr(0, colon) + "'");
            }
            s.resize(colon);
          }
          n.inputs.push_back(s);
        }
      }
      if (!index_.emplace(n.name, nodes.size()).second) return TfjsMalformed("two graph nodes are named '" + n.name + "'");
      nodes.push_back(std::move(n));
    }
    nodes_ = &nodes;
    std::vector<size_t> order;
    MNV2_RETURN_IF_ERROR(TopologicalOrder(&order));
    for (size_t i : order) MNV2_RETURN_IF_ERROR(Translate(nodes[i]));
    if (model_.input.empty()) return TfjsUnsupported("the graph has no Placeholder input");
    return std::move(model_);
  }

 private:
  bool IsConst(const std::string& name) const {
    auto it = index_.find(name);
    return it != index_.end() && (*nodes_)[it->second].op == "Const";
  }

  // Non-Const nodes, each after the nodes it reads (file order where that allows), and the
  // single node nothing reads: the output.
  Status TopologicalOrder(std::vector<size_t>* order) {
    const std::vector<Node>& nodes = *nodes_;
    std::vector<int> waiting(nodes.size(), 0);
    std::vector<std::vector<size_t>> readers(nodes.size());
    std::set<size_t> ready;
    size_t live = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].op == "Const" || nodes[i].op == "NoOp") continue;
      ++live;
      for (const std::string& in : nodes[i].inputs) {
        auto it = index_.find(in);
        if (it == index_.end()) return TfjsMalformed("node '" + nodes[i].name + "' reads '" + in + "', which no node produces");
        if (nodes[it->second].op == "Const") continue;
        ++waiting[i];
        readers[it->second].push_back(i);
      }
      if (waiting[i] == 0) ready.insert(i);
    }
    std::vector<std::string> outputs;
    while (!ready.empty()) {
      const size_t i = *ready.begin();
      ready.erase(ready.begin());
      order->push_back(i);
      if (readers[i].empty()) outputs.push_back(nodes[i].name);
      for (size_t r : readers[i]) {
        if (--waiting[r] == 0) ready.insert(r);
      }
    }
    if (order->size() != live) return TfjsMalformed("the graph has a cycle");
    if (outputs.size() != 1) {
      std::string names;
      for (size_t k = 0; k < outputs.size() && k < 4; ++k) names += (k ? ", '" : "'") + outputs[k] + "'";
      return TfjsUnsupported("the graph has " + std::to_string(outputs.size()) + " outputs (" + names +
                             "); expected one");
    }
    model_.output = outputs[0];
    return Status::Ok();
  }

  // --- attributes --------------------------------------------------------------------

  const JsonValue* Attr(const Node& n, const char* key) const { return n.attr ? n.attr->Find(key) : nullptr; }

  bool AttrString(const Node& n, const char* key, std::string* out) const {
    const JsonValue* a = Attr(n, key);
    std::string encoded;
    return a && JsonString(a->Find("s"), &encoded) && Base64Decode(encoded, out);
  }

  // A list attribute ("list": {"i": [...]} or {"s": [...]}); absent lists are empty.
  bool AttrInts(const Node& n, const char* key, std::vector<int64_t>* out) const {
    out->clear();
    const JsonValue* a = Attr(n, key);
    const JsonValue* list = a ? a->Find("list") : nullptr;
    const JsonValue* items = list ? list->Find("i") : nullptr;
    if (items == nullptr) return a == nullptr || list != nullptr;
    if (!items->is_array() || items->size() > 16) return false;
    for (const JsonValue& v : items->items()) {
      int64_t x;
      if (!JsonInt(&v, &x)) return false;
      out->push_back(x);
    }
    return true;
  }

  bool AttrStrings(const Node& n, const char* key, std::vector<std::string>* out) const {
    out->clear();
    const JsonValue* a = Attr(n, key);
    const JsonValue* list = a ? a->Find("list") : nullptr;
    const JsonValue* items = list ? list->Find("s") : nullptr;
    if (items == nullptr) return true;
    if (!items->is_array() || items->size() > 16) return false;
    for (const JsonValue& v : items->items()) {
      std::string encoded, s;
      if (!JsonString(&v, &encoded) || !Base64Decode(encoded, &s)) return false;
      out->push_back(s);
    }
    return true;
  }

  bool AttrBool(const Node& n, const char* key) const {
    const JsonValue* a = Attr(n, key);
    const JsonValue* b = a ? a->Find("b") : nullptr;
    return b && b->is_bool() && b->boolean();
  }

  double AttrFloat(const Node& n, const char* key, double fallback) const {
    const JsonValue* a = Attr(n, key);
    double f = fallback;
    if (a) JsonNumber(a->Find("f"), &f);
    return f;
  }

  // --- inputs ------------------------------------------------------------------------

  static std::string Describe(const Node& n) { return n.op + " '" + n.name + "'"; }

  // The node's data inputs split into activations and constants, of which it needs
  // `activations` and at least `constants`.
  Status Inputs(const Node& n, size_t activations, size_t constants, std::vector<std::string>* act,
                std::vector<std::string>* consts) const {
    for (const std::string& in : n.inputs) (IsConst(in) ? consts : act)->push_back(in);
    if (act->size() != activations || consts->size() < constants) {
      return TfjsUnsupported(Describe(n) + " reads " + std::to_string(act->size()) + " activations and " +
                             std::to_string(consts->size()) + " constants; expected " + std::to_string(activations) +
                             " and " + std::to_string(constants));
    }
    // Constants must follow the activation, as TF orders op inputs.
    if (activations > 0 && n.inputs[0] != (*act)[0]) {
      return TfjsUnsupported(Describe(n) + " does not read its activation first");
    }
    return Status::Ok();
  }

  Status ConstFloats(const std::string& name, const std::string& what, std::vector<float>* out,
                     std::vector<int64_t>* shape) const {
    const TfjsWeightSpec* spec = weights_.Find(name);
    if (spec == nullptr) return TfjsMalformed(what + " '" + name + "' is not in the weightsManifest");
    *shape = spec->shape;
    return weights_.Floats(name, spec->shape, what, out);
  }

  Status Vector(const std::string& name, const std::string& what, int64_t channels, std::vector<float>* out) const {
    return weights_.Floats(name, {channels}, what, out);
  }

  // --- nodes -------------------------------------------------------------------------

  TfjsOp NewOp(const Node& n, TfjsOpKind kind, const std::vector<std::string>& inputs) const {
    TfjsOp op;
    op.kind = kind;
    op.name = op.output = n.name;
    op.type = n.op;
    op.inputs = inputs;
    return op;
  }

  Status Translate(const Node& n) {
    std::vector<std::string> act, consts;
    const std::string& op = n.op;
    std::string format;
    if (AttrString(n, "data_format", &format) && format != "NHWC") {
      return TfjsUnsupported(Describe(n) + " uses data format " + format + " (only NHWC)");
    }
    if (op == "Placeholder") {
      if (!model_.input.empty()) return TfjsUnsupported("the graph has more than one input");
      model_.input = n.name;
      return PlaceholderShape(n);
    }
    if (op == "Identity" || op == "StopGradient" || op == "Snapshot") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, 0, &act, &consts));
      return Emit(NewOp(n, TfjsOpKind::kIdentity, act));
    }
    if (op == "Conv2D" || op == "_FusedConv2D" || op == "DepthwiseConv2dNative" || op == "FusedDepthwiseConv2dNative") {
      return Convolution(n);
    }
    if (op == "MatMul" || op == "_FusedMatMul") return MatMul(n);
    if (op == "Relu" || op == "Relu6") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, 0, &act, &consts));
      TfjsOp a = NewOp(n, TfjsOpKind::kActivation, act);
      a.activation = op == "Relu" ? Activation::kRelu : Activation::kRelu6;
      return Emit(std::move(a));
    }
    if (op == "FusedBatchNorm" || op == "FusedBatchNormV2" || op == "FusedBatchNormV3") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, 4, &act, &consts));
      if (AttrBool(n, "is_training")) return TfjsUnsupported(Describe(n) + " is in training mode");
      return BatchNorm(n, act, {n.inputs.begin() + 1, n.inputs.end()}, "");
    }
    if (op == "Add" || op == "AddV2" || op == "Sub" || op == "Mul" || op == "RealDiv" || op == "BiasAdd") {
      return Arithmetic(n);
    }
    if (op == "Pad" || op == "PadV2") return Pad(n);
    if (op == "AvgPool") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, 0, &act, &consts));
      TfjsOp pool = NewOp(n, TfjsOpKind::kAvgPool, act);
      std::vector<int64_t> ksize;
      if (!AttrInts(n, "ksize", &ksize) || ksize.size() != 4 || ksize[0] != 1 || ksize[3] != 1 || ksize[1] < 1 ||
          ksize[2] < 1 || ksize[1] > 4096 || ksize[2] > 4096) {
        return TfjsUnsupported(Describe(n) + " has an invalid ksize");
      }
      pool.kernel_h = static_cast<int>(ksize[1]);
      pool.kernel_w = static_cast<int>(ksize[2]);
      MNV2_RETURN_IF_ERROR(Padding(n, &pool));
      return Emit(std::move(pool));
    }
    if (op == "Mean") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, 1, &act, &consts));
      std::vector<int64_t> axes;
      MNV2_RETURN_IF_ERROR(weights_.Ints(consts[0], "the axes of " + Describe(n), &axes));
      if (std::set<int64_t>(axes.begin(), axes.end()) != std::set<int64_t>{1, 2} || axes.size() != 2) {
        return TfjsUnsupported(Describe(n) + " reduces axes " + DimsString(axes) + "; only the spatial axes [1, 2]");
      }
      return Emit(NewOp(n, TfjsOpKind::kMean, act));
    }
    if (op == "Squeeze" || op == "Reshape") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, op == "Reshape" ? 1 : 0, &act, &consts));
      return Emit(NewOp(n, TfjsOpKind::kReshape, act));
    }
    if (op == "Softmax") {
      MNV2_RETURN_IF_ERROR(Inputs(n, 1, 0, &act, &consts));
      return Emit(NewOp(n, TfjsOpKind::kSoftmax, act));
    }
    return Status(ErrorCode::kUnsupportedOp, "graph node '" + n.name + "' is a " + op +
                                                 ", which this engine does not run (supported: " + kSupportedOps + ")");
  }

  Status Emit(TfjsOp op) {
    model_.ops.push_back(std::move(op));
    return Status::Ok();
  }

  Status PlaceholderShape(const Node& n) {
    const JsonValue* a = Attr(n, "shape");
    const JsonValue* shape = a ? a->Find("shape") : nullptr;
    const JsonValue* dims = shape ? shape->Find("dim") : nullptr;
    if (dims == nullptr || !dims->is_array()) return TfjsUnsupported("the input '" + n.name + "' has no shape");
    std::vector<int64_t> sizes;
    for (const JsonValue& d : dims->items()) {
      int64_t size = -1;
      if (d.Find("size") && !JsonInt(d.Find("size"), &size)) return TfjsMalformed("the input '" + n.name + "' has an invalid shape");
      sizes.push_back(size);
    }
    return InputSize(sizes, "the input '" + n.name + "'", &model_.height, &model_.width);
  }

  Status Padding(const Node& n, TfjsOp* op) const {
    std::vector<int64_t> strides;
    if (!AttrInts(n, "strides", &strides) || (!strides.empty() && strides.size() != 4) ||
        (!strides.empty() && (strides[0] != 1 || strides[3] != 1))) {
      return TfjsUnsupported(Describe(n) + " has invalid strides");
    }
    if (!strides.empty()) {
      if (strides[1] < 1 || strides[2] < 1 || strides[1] > 4096 || strides[2] > 4096) {
        return TfjsUnsupported(Describe(n) + " has invalid strides");
      }
      op->stride_h = static_cast<int>(strides[1]);
      op->stride_w = static_cast<int>(strides[2]);
    }
    std::string padding;
    if (!AttrString(n, "padding", &padding)) return TfjsUnsupported(Describe(n) + " has no padding");
    op->same = padding == "SAME";
    if (padding == "EXPLICIT") {
      std::vector<int64_t> p;
      if (!AttrInts(n, "explicit_paddings", &p) || p.size() != 8 || p[0] || p[1] || p[6] || p[7]) {
        return TfjsUnsupported(Describe(n) + " has invalid explicit_paddings");
      }
      for (int i = 0; i < 4; ++i) {
        if (p[2 + i] < 0 || p[2 + i] > 16) return TfjsUnsupported(Describe(n) + " has invalid explicit_paddings");
        op->pads[i] = static_cast<int>(p[2 + i]);
      }
    } else if (padding != "SAME" && padding != "VALID") {
      return TfjsUnsupported(Describe(n) + " has padding '" + padding + "'");
    }
    return Status::Ok();
  }

  // The ops a fused node's fused_ops append after the layer: a bias or batch norm, then an
  // activation. The layer op itself is renamed so that the last appended op carries the name.
  Status FusedOps(const Node& n, TfjsOp layer, const std::vector<std::string>& args) {
    std::vector<std::string> fused;
    if (!AttrStrings(n, "fused_ops", &fused)) return TfjsMalformed(Describe(n) + " has invalid fused_ops");
    Activation activation = Activation::kNone;
    if (!fused.empty() && (fused.back() == "Relu" || fused.back() == "Relu6")) {
      activation = fused.back() == "Relu" ? Activation::kRelu : Activation::kRelu6;
      fused.pop_back();
    }
    const int channels = layer.kind == TfjsOpKind::kDepthwise ? layer.in_c : layer.out_c;
    layer.output = n.name + "/layer";
    const std::string layer_output = layer.output;
    MNV2_RETURN_IF_ERROR(Emit(std::move(layer)));
    std::string last = layer_output;
    if (fused.size() == 1 && fused[0] == "BiasAdd") {
      if (args.empty()) return TfjsMalformed(Describe(n) + " fuses BiasAdd without a bias");
      TfjsOp bias = NewOp(n, TfjsOpKind::kBiasAdd, {last});
      bias.output = n.name + "/bias";
      MNV2_RETURN_IF_ERROR(Vector(args[0], "the bias of " + Describe(n), channels, &bias.bias));
      last = bias.output;
      MNV2_RETURN_IF_ERROR(Emit(std::move(bias)));
    } else if (fused.size() == 1 && (fused[0] == "FusedBatchNorm" || fused[0] == "FusedBatchNormV3")) {
      MNV2_RETURN_IF_ERROR(BatchNorm(n, {last}, args, "/bn"));
      last = n.name + "/bn";
    } else if (!fused.empty()) {
      std::string names;
      for (const std::string& f : fused) names += " " + f;
      return Status(ErrorCode::kUnsupportedOp, Describe(n) + " fuses" + names +
                                                   ", which this engine does not run (supported: BiasAdd or "
                                                   "FusedBatchNorm, then Relu or Relu6)");
    }
    TfjsOp act = NewOp(n, TfjsOpKind::kActivation, {last});
    act.activation = activation;
    return Emit(std::move(act));
  }

  // A batch norm reading `act` with constants [scale, offset, mean, variance] in `args`.
  Status BatchNorm(const Node& n, const std::vector<std::string>& act, const std::vector<std::string>& args,
                   const std::string& suffix) {
    if (args.size() < 4) return TfjsMalformed(Describe(n) + " has no scale, offset, mean and variance");
    const std::string what = "the batch norm of " + Describe(n);
    std::vector<float> v[4];
    std::vector<int64_t> shape;
    MNV2_RETURN_IF_ERROR(ConstFloats(args[0], what, &v[0], &shape));
    if (shape.size() != 1) return TfjsUnsupported(what + " has a scale of shape " + DimsString(shape));
    for (int i = 1; i < 4; ++i) MNV2_RETURN_IF_ERROR(Vector(args[i], what, shape[0], &v[i]));
    const double epsilon = AttrFloat(n, "epsilon", 1e-4);
    for (float variance : v[3]) {
      if (!(variance + epsilon > 0)) return TfjsUnsupported(what + " has a variance <= 0");
    }
    TfjsOp bn = BatchNormOp(v[0], v[1], v[2], v[3], epsilon);
    bn.name = bn.output = n.name + suffix;
    bn.type = n.op;
    bn.inputs = act;
    return Emit(std::move(bn));
  }

  Status Convolution(const Node& n) {
    const bool depthwise = n.op.find("Depthwise") != std::string::npos;
    const bool fused = n.op[0] == '_' || n.op.rfind("Fused", 0) == 0;
    std::vector<std::string> act, consts;
    MNV2_RETURN_IF_ERROR(Inputs(n, 1, 1, &act, &consts));
    TfjsOp op = NewOp(n, depthwise ? TfjsOpKind::kDepthwise : TfjsOpKind::kConv, act);
    std::vector<int64_t> dilations;
    if (!AttrInts(n, "dilations", &dilations) ||
        !(dilations.empty() || dilations == std::vector<int64_t>{1, 1, 1, 1})) {
      return TfjsUnsupported(Describe(n) + " is dilated");
    }
    MNV2_RETURN_IF_ERROR(Padding(n, &op));
    std::vector<int64_t> shape;
    const std::string filter = n.inputs[1];
    MNV2_RETURN_IF_ERROR(ConstFloats(filter, "the filter of " + Describe(n), &op.weights, &shape));
    if (shape.size() != 4 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || shape[3] < 1 || shape[0] > 16 ||
        shape[1] > 16) {
      return TfjsUnsupported("the filter of " + Describe(n) + " has shape " + DimsString(shape));
    }
    op.kernel_h = static_cast<int>(shape[0]);
    op.kernel_w = static_cast<int>(shape[1]);
    op.in_c = static_cast<int>(shape[2]);
    op.out_c = depthwise ? op.in_c : static_cast<int>(shape[3]);
    if (depthwise && shape[3] != 1) {
      return TfjsUnsupported(Describe(n) + " has depth multiplier " + std::to_string(shape[3]));
    }
    if (!fused) return Emit(std::move(op));
    return FusedOps(n, std::move(op), {n.inputs.begin() + 2, n.inputs.end()});
  }

  Status MatMul(const Node& n) {
    std::vector<std::string> act, consts;
    MNV2_RETURN_IF_ERROR(Inputs(n, 1, 1, &act, &consts));
    if (AttrBool(n, "transpose_a")) return TfjsUnsupported(Describe(n) + " transposes its input");
    TfjsOp op = NewOp(n, TfjsOpKind::kDense, act);
    std::vector<int64_t> shape;
    std::vector<float> w;
    MNV2_RETURN_IF_ERROR(ConstFloats(n.inputs[1], "the weights of " + Describe(n), &w, &shape));
    if (shape.size() != 2 || shape[0] < 1 || shape[1] < 1) {
      return TfjsUnsupported("the weights of " + Describe(n) + " have shape " + DimsString(shape));
    }
    const bool transposed = AttrBool(n, "transpose_b");  // [out][in]
    op.in_c = static_cast<int>(shape[transposed ? 1 : 0]);
    op.out_c = static_cast<int>(shape[transposed ? 0 : 1]);
    if (transposed) {
      op.weights.resize(w.size());
      for (int i = 0; i < op.in_c; ++i) {
        for (int o = 0; o < op.out_c; ++o) op.weights[static_cast<size_t>(i) * op.out_c + o] = w[static_cast<size_t>(o) * op.in_c + i];
      }
    } else {
      op.weights = std::move(w);
    }
    if (n.op == "MatMul") return Emit(std::move(op));
    return FusedOps(n, std::move(op), {n.inputs.begin() + 2, n.inputs.end()});
  }

  // Add/Sub/Mul/RealDiv/BiasAdd: a residual addition of two activations, a scalar input
  // normalization, or a per-channel bias or scale after a layer.
  Status Arithmetic(const Node& n) {
    std::vector<std::string> act, consts;
    for (const std::string& in : n.inputs) (IsConst(in) ? consts : act).push_back(in);
    if (n.inputs.size() != 2) return TfjsUnsupported(Describe(n) + " has " + std::to_string(n.inputs.size()) + " inputs");
    if (act.size() == 2 && (n.op == "Add" || n.op == "AddV2")) return Emit(NewOp(n, TfjsOpKind::kAdd, act));
    if (act.size() != 1) return TfjsUnsupported(Describe(n) + " does not combine an activation with a constant");
    const bool const_first = IsConst(n.inputs[0]);
    std::vector<float> c;
    std::vector<int64_t> shape;
    MNV2_RETURN_IF_ERROR(ConstFloats(consts[0], "the constant of " + Describe(n), &c, &shape));
    if (c.size() == 1) {
      TfjsOp op = NewOp(n, TfjsOpKind::kAffine, act);
      const double k = c[0];
      if (n.op == "Mul") {
        op.mul = k;
      } else if (n.op == "Sub") {
        op.mul = const_first ? -1 : 1;
        op.add = const_first ? k : -k;
      } else if (n.op == "RealDiv" && !const_first && k != 0) {
        op.mul = 1 / k;
      } else if (n.op != "RealDiv") {
        op.add = k;
      } else {
        return TfjsUnsupported(Describe(n) + " divides by an activation or by zero");
      }
      return Emit(std::move(op));
    }
    if (shape.size() != 1 || (n.op == "Sub" && const_first) || n.op == "RealDiv") {
      return TfjsUnsupported(Describe(n) + " applies a constant of shape " + DimsString(shape) +
                             "; only scalars and per-channel vectors are supported");
    }
    if (n.op == "Mul") {
      TfjsOp op = NewOp(n, TfjsOpKind::kBatchNorm, act);
      op.bn_scale.assign(c.begin(), c.end());
      op.bn_offset.assign(c.size(), 0.0);
      return Emit(std::move(op));
    }
    TfjsOp op = NewOp(n, TfjsOpKind::kBiasAdd, act);
    op.bias = std::move(c);
    if (n.op == "Sub") {
      for (float& b : op.bias) b = -b;
    }
    return Emit(std::move(op));
  }

  Status Pad(const Node& n) {
    std::vector<std::string> act, consts;
    MNV2_RETURN_IF_ERROR(Inputs(n, 1, 1, &act, &consts));
    if (n.op == "PadV2") {
      std::vector<float> value;
      std::vector<int64_t> shape;
      if (consts.size() != 2 || !ConstFloats(consts[1], "the pad value of " + Describe(n), &value, &shape).ok() ||
          value.size() != 1 || value[0] != 0) {
        return TfjsUnsupported(Describe(n) + " pads with a value other than zero");
      }
    }
    std::vector<int64_t> p, shape;
    MNV2_RETURN_IF_ERROR(weights_.Ints(n.inputs[1], "the paddings of " + Describe(n), &p, &shape));
    if (shape != std::vector<int64_t>{4, 2} || p[0] || p[1] || p[6] || p[7]) {
      return TfjsUnsupported(Describe(n) + " does not pad height and width only");
    }
    TfjsOp op = NewOp(n, TfjsOpKind::kPad, act);
    for (int i = 0; i < 4; ++i) {
      if (p[2 + i] < 0 || p[2 + i] > 16) return TfjsUnsupported(Describe(n) + " has invalid paddings");
      op.pads[i] = static_cast<int>(p[2 + i]);
    }
    return Emit(std::move(op));
  }

  const TfjsWeights& weights_;
  std::map<std::string, size_t> index_;
  const std::vector<Node>* nodes_ = nullptr;
  TfjsModel model_;
};

}  // namespace

Result<TfjsModel> ReadGraphModel(const JsonValue& topology, const TfjsWeights& weights) {
  return GraphReader(weights).Read(topology);
}

}  // namespace model
}  // namespace mnv2
