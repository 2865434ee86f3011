#include "model/tfjs.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "common/numbers.h"
#include "model/tfjs_internal.h"

namespace mnv2 {
namespace model {
namespace {

std::string Describe(const TfjsOp& op) { return op.type + " '" + op.name + "'"; }

bool FoldsIntoLayer(TfjsOpKind k) {
  return k == TfjsOpKind::kBatchNorm || k == TfjsOpKind::kBiasAdd || k == TfjsOpKind::kActivation;
}
bool IsLayer(TfjsOpKind k) {
  return k == TfjsOpKind::kConv || k == TfjsOpKind::kDepthwise || k == TfjsOpKind::kDense;
}

// Applies a batch norm, bias or activation op to the layer whose output it alone reads.
Status Fold(const TfjsOp& op, TfjsOp* layer) {
  if (op.kind == TfjsOpKind::kActivation) {
    if (layer->activation == Activation::kNone) {
      layer->activation = op.activation;
    } else if (op.activation != Activation::kNone) {
      // relu(relu6(x)) and relu6(relu(x)) are both relu6(x).
      if (op.activation == Activation::kRelu6) layer->activation = Activation::kRelu6;
    }
    return Status::Ok();
  }
  if (layer->activation != Activation::kNone) {
    return TfjsUnsupported(Describe(op) + " follows the activation of " + Describe(*layer) +
                           "; only a batch norm or bias before the activation can be folded");
  }
  const int channels = layer->kind == TfjsOpKind::kDepthwise ? layer->in_c : layer->out_c;
  const size_t n = op.kind == TfjsOpKind::kBatchNorm ? op.bn_scale.size() : op.bias.size();
  if (n != static_cast<size_t>(channels)) {
    return TfjsUnsupported(Describe(op) + " has " + std::to_string(n) + " channels, but " + Describe(*layer) +
                           " produces " + std::to_string(channels));
  }
  if (layer->bias.empty()) layer->bias.assign(channels, 0.0f);
  if (op.kind == TfjsOpKind::kBiasAdd) {
    for (int c = 0; c < channels; ++c) layer->bias[c] += op.bias[c];
    return Status::Ok();
  }
  // Channels are the last dimension of every layout.
  for (size_t i = 0; i < layer->weights.size(); ++i) {
    layer->weights[i] = static_cast<float>(layer->weights[i] * op.bn_scale[i % channels]);
  }
  for (int c = 0; c < channels; ++c) {
    layer->bias[c] = static_cast<float>(layer->bias[c] * op.bn_scale[c] + op.bn_offset[c]);
  }
  return Status::Ok();
}

// Walks the fused op list in order, like the TFLite builder walks its operators, tracking the
// running activation and its shape.
class Assembler {
 public:
  Assembler(TfjsModel model, const TfjsWeights& weights, const InputRange& range, const Limits& limits)
      : m_(std::move(model)), range_(range), limits_(limits), weight_bytes_(8 * weights.elements()) {}

  Result<Network> Build() {
    MNV2_RETURN_IF_ERROR(Fuse());
    Network net;
    net.input.height = h_ = m_.height;
    net.input.width = w_ = m_.width;
    c_ = 3;
    cur_ = m_.input;
    input_elements_ = int64_t{h_} * w_ * 3;
    MNV2_RETURN_IF_ERROR(CheckMemory("the input"));

    double mul = 1, add = 0;  // the model's own input normalization
    bool normalizes = false;
    while (Peek(TfjsOpKind::kAffine)) {
      const TfjsOp& op = Next();
      MNV2_RETURN_IF_ERROR(Consume(op));
      mul *= op.mul;
      add = add * op.mul + op.add;
      normalizes = true;
    }
    MNV2_RETURN_IF_ERROR(InputMapping(normalizes, mul, add, &net.input));

    MNV2_RETURN_IF_ERROR(ReadConv(&net.stem, "stem"));
    while (StartsBlock()) {
      net.blocks.emplace_back();
      MNV2_RETURN_IF_ERROR(ReadBlock(&net.blocks.back(), static_cast<int>(net.blocks.size()) - 1));
    }
    if (net.blocks.empty()) return TfjsUnsupported("no depthwise-separable block follows the stem, found " + Found());
    // MobileNetV2 has a 1x1 head convolution before the pooling; MobileNetV1 pools its last block.
    net.has_head = Peek(TfjsOpKind::kConv) || (Peek(TfjsOpKind::kPad) && Peek(TfjsOpKind::kConv, 1));
    if (net.has_head) {
      MNV2_RETURN_IF_ERROR(ReadConv(&net.head, "head"));
      MNV2_RETURN_IF_ERROR(CheckPointwise(net.head, "head"));
    }
    MNV2_RETURN_IF_ERROR(ReadPool());

    std::vector<Classifier> dense;
    for (;;) {
      MNV2_RETURN_IF_ERROR(SkipReshapes());
      const bool conv_1x1 = Peek(TfjsOpKind::kConv) && ops_[next_].kernel_h == 1 && ops_[next_].kernel_w == 1;
      if (!Peek(TfjsOpKind::kDense) && !conv_1x1) break;
      dense.emplace_back();
      MNV2_RETURN_IF_ERROR(ReadDense(&dense.back()));
    }
    if (dense.empty()) return TfjsUnsupported("expected a dense classifier after the pooling, found " + Found());
    net.classifier = std::move(dense.back());
    dense.pop_back();
    net.hidden = std::move(dense);
    net.softmax = Peek(TfjsOpKind::kSoftmax);
    if (net.softmax) MNV2_RETURN_IF_ERROR(Consume(Next()));
    MNV2_RETURN_IF_ERROR(SkipReshapes());
    if (next_ != ops_.size()) return TfjsUnsupported("unexpected " + Found() + " after the classifier");
    if (cur_ != m_.output) return TfjsUnsupported("the classifier's result is not the model's output '" + m_.output + "'");
    return net;
  }

 private:
  // Drops identities, then folds batch norms, biases and activations into the layer before
  // them when that layer's output goes nowhere else.
  Status Fuse() {
    std::map<std::string, std::string> alias;  // identity output -> what it passes on
    auto resolve = [&](std::string name) {
      for (auto it = alias.find(name); it != alias.end(); it = alias.find(name)) name = it->second;
      return name;
    };
    // With unique names and no op reading its own output, the aliases cannot form a cycle.
    std::set<std::string> names = {m_.input};
    std::vector<TfjsOp> ops;
    for (TfjsOp& op : m_.ops) {
      if (!names.insert(op.output).second) return TfjsMalformed("two layers are named '" + op.output + "'");
      for (std::string& in : op.inputs) {
        in = resolve(in);
        if (in == op.output) return TfjsMalformed(Describe(op) + " reads its own output");
      }
      if (op.kind == TfjsOpKind::kIdentity && op.inputs.size() == 1) {
        alias[op.output] = op.inputs[0];
      } else {
        ops.push_back(std::move(op));
      }
    }
    m_.output = resolve(m_.output);

    std::map<std::string, int> consumers;
    for (const TfjsOp& op : ops) {
      for (const std::string& in : op.inputs) ++consumers[in];
    }
    ++consumers[m_.output];
    std::map<std::string, size_t> producer;
    for (TfjsOp& op : ops) {
      if (FoldsIntoLayer(op.kind) && op.inputs.size() == 1) {
        auto it = producer.find(op.inputs[0]);
        if (it != producer.end() && IsLayer(ops_[it->second].kind) && consumers[op.inputs[0]] == 1) {
          TfjsOp& layer = ops_[it->second];
          MNV2_RETURN_IF_ERROR(Fold(op, &layer));
          const size_t index = it->second;
          producer.erase(it);
          layer.output = op.output;
          producer[layer.output] = index;
          continue;
        }
      }
      producer[op.output] = ops_.size();
      ops_.push_back(std::move(op));
    }
    return Status::Ok();
  }

  bool Peek(TfjsOpKind kind, size_t ahead = 0) const {
    return next_ + ahead < ops_.size() && ops_[next_ + ahead].kind == kind;
  }
  const TfjsOp& Next() { return ops_[next_++]; }
  std::string Found() const { return next_ < ops_.size() ? Describe(ops_[next_]) : "the end of the model"; }

  // `op` must read the running activation (alone); its output becomes the running one.
  Status Consume(const TfjsOp& op) {
    if (op.inputs.size() != 1 || op.inputs[0] != cur_) {
      if (FoldsIntoLayer(op.kind)) {
        return TfjsUnsupported(Describe(op) + " does not directly follow a convolution or dense layer");
      }
      return TfjsUnsupported(Describe(op) + " does not read the previous layer's output: the model is not a "
                             "MobileNet chain");
    }
    cur_ = op.output;
    return Status::Ok();
  }

  Status CheckMemory(const std::string& what) const {
    const int64_t bytes = weight_bytes_ + 2 * 4 * layer_peak_ + 4 * input_elements_;
    if (static_cast<uint64_t>(bytes) <= static_cast<uint64_t>(limits_.max_memory_bytes)) return Status::Ok();
    return Status(ErrorCode::kModelTooLarge, "the model needs more than " +
                                                 std::to_string(limits_.max_memory_bytes >> 20) +
                                                 " MB of memory, the limit (reached at " + what + ")");
  }

  // Pixels 0..255 -> range -> the model's own normalization, as real = scale * (pixel - zero_point).
  Status InputMapping(bool normalizes, double mul, double add, InputSpec* in) const {
    double lo = range_.min, hi = range_.max;
    if (lo == hi) {
      lo = normalizes ? 0.0 : -1.0;
      hi = !normalizes ? 1.0 : std::fabs(mul) < 0.1 ? 255.0 : 1.0;
    } else if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi)) {
      return Status(ErrorCode::kInvalidArgument, "the input range [" + FormatNumber(range_.min) + ", " +
                                                     FormatNumber(range_.max) + "] is not an interval min < max");
    }
    const double scale = mul * (hi - lo) / 255.0;
    const double zero_point = -(mul * lo + add) / scale;
    if (!(std::fabs(scale) > 1e-12) || !std::isfinite(scale) || !std::isfinite(zero_point)) {
      return TfjsUnsupported("the input normalization multiplies by " + FormatNumber(mul));
    }
    in->scale = static_cast<float>(scale);
    in->zero_point = static_cast<float>(zero_point);
    return Status::Ok();
  }

  // Output size and padding along one axis, for SAME or VALID padding after `pad_before` /
  // `pad_after` explicit zeros. The padding must leave every window on some input.
  Status Axis(const TfjsOp& op, int in, int k, int stride, int pad_before, int pad_after, int* out,
              int* pad_out) const {
    const int padded = in + pad_before + pad_after;
    int before = pad_before;
    if (op.same) {
      *out = (padded + stride - 1) / stride;
      before += std::max((*out - 1) * stride + k - padded, 0) / 2;
    } else {
      *out = padded >= k ? (padded - k) / stride + 1 : 0;
    }
    if (*out <= 0 || before > k - 1 || (*out - 1) * stride - before >= in) {
      return TfjsUnsupported(Describe(op) + " has a " + std::to_string(k) + "-wide window, stride " +
                             std::to_string(stride) + " and padding " + std::to_string(pad_before) + "+" +
                             std::to_string(pad_after) + " over " + std::to_string(in) +
                             " pixels: some windows would lie wholly in the padding");
    }
    *pad_out = before;
    return Status::Ok();
  }

  // Geometry of a conv / depthwise op over the running activation, after an optional kPad op.
  Status Geometry(const TfjsOp& op, const int pads[4], int out_c, ConvGeometry* g) {
    if (op.stride_h != op.stride_w || (op.stride_h != 1 && op.stride_h != 2)) {
      return TfjsUnsupported(Describe(op) + " has strides " + std::to_string(op.stride_h) + "x" +
                             std::to_string(op.stride_w) + " (only 1 and 2, equal in both directions)");
    }
    g->in_h = h_;
    g->in_w = w_;
    g->in_c = c_;
    g->kernel_h = op.kernel_h;
    g->kernel_w = op.kernel_w;
    g->stride = op.stride_h;
    g->out_c = out_c;
    MNV2_RETURN_IF_ERROR(Axis(op, h_, op.kernel_h, g->stride, pads[0] + op.pads[0], pads[1] + op.pads[1], &g->out_h,
                              &g->pad_top));
    MNV2_RETURN_IF_ERROR(Axis(op, w_, op.kernel_w, g->stride, pads[2] + op.pads[2], pads[3] + op.pads[3], &g->out_w,
                              &g->pad_left));
    const int64_t in = int64_t{g->in_h} * g->in_w * g->in_c, out = int64_t{g->out_h} * g->out_w * g->out_c;
    layer_peak_ = std::max(layer_peak_, in + out);
    MNV2_RETURN_IF_ERROR(CheckMemory(Describe(op)));
    h_ = g->out_h;
    w_ = g->out_w;
    c_ = g->out_c;
    return Status::Ok();
  }

  // An optional zero padding op before a convolution: its pads.
  Status ReadPad(int pads[4]) {
    std::fill(pads, pads + 4, 0);
    if (!Peek(TfjsOpKind::kPad)) return Status::Ok();
    const TfjsOp& pad = Next();
    MNV2_RETURN_IF_ERROR(Consume(pad));
    std::copy(pad.pads, pad.pads + 4, pads);
    if (!Peek(TfjsOpKind::kConv) && !Peek(TfjsOpKind::kDepthwise)) {
      return TfjsUnsupported(Describe(pad) + " is not followed by a convolution, but by " + Found());
    }
    return Status::Ok();
  }

  Status ReadConv(Conv2D* conv, const std::string& what) {
    int pads[4];
    MNV2_RETURN_IF_ERROR(ReadPad(pads));
    if (!Peek(TfjsOpKind::kConv)) return TfjsUnsupported("expected a convolution for the " + what + ", found " + Found());
    const TfjsOp& op = Next();
    MNV2_RETURN_IF_ERROR(Consume(op));
    if (op.in_c != c_) {
      return TfjsUnsupported(Describe(op) + " reads " + std::to_string(op.in_c) + " channels, but its input has " +
                             std::to_string(c_));
    }
    if (op.kernel_h > 7 || op.kernel_w > 7) {
      return TfjsUnsupported(Describe(op) + " has a " + std::to_string(op.kernel_h) + "x" + std::to_string(op.kernel_w) +
                             " kernel (at most 7x7)");
    }
    conv->name = op.name;
    MNV2_RETURN_IF_ERROR(Geometry(op, pads, op.out_c, &conv->g));
    // [kh][kw][in][out] -> [out][kh][kw][in]
    const int taps = op.kernel_h * op.kernel_w, in_c = op.in_c, out_c = op.out_c;
    conv->weights.resize(op.weights.size());
    for (int t = 0; t < taps; ++t) {
      for (int i = 0; i < in_c; ++i) {
        for (int o = 0; o < out_c; ++o) {
          conv->weights[(static_cast<size_t>(o) * taps + t) * in_c + i] = op.weights[(static_cast<size_t>(t) * in_c + i) * out_c + o];
        }
      }
    }
    conv->bias = op.bias.empty() ? std::vector<float>(out_c, 0.0f) : op.bias;
    conv->activation = op.activation;
    return Status::Ok();
  }

  static Status CheckPointwise(const Conv2D& conv, const std::string& what) {
    const ConvGeometry& g = conv.g;
    if (g.kernel_h != 1 || g.kernel_w != 1 || g.stride != 1 || g.pad_top != 0 || g.pad_left != 0 || g.out_h != g.in_h ||
        g.out_w != g.in_w) {
      return TfjsUnsupported("the " + what + " convolution '" + conv.name + "' is not 1x1 stride 1 without padding");
    }
    return Status::Ok();
  }

  bool StartsBlock() const {
    const size_t pad = Peek(TfjsOpKind::kPad) ? 1 : 0;
    if (Peek(TfjsOpKind::kDepthwise, pad)) return true;
    if (!Peek(TfjsOpKind::kConv)) return false;
    const size_t pad2 = Peek(TfjsOpKind::kPad, 1) ? 1 : 0;
    return Peek(TfjsOpKind::kDepthwise, 1 + pad2);
  }

  Status ReadBlock(InvertedResidual* b, int n) {
    const std::string what = "block " + std::to_string(n);
    const std::string block_in = cur_;
    const int in_h = h_, in_w = w_, in_c = c_;
    if (Peek(TfjsOpKind::kConv)) {
      b->has_expand = true;
      MNV2_RETURN_IF_ERROR(ReadConv(&b->expand, what + " expand"));
      MNV2_RETURN_IF_ERROR(CheckPointwise(b->expand, what + " expand"));
    }
    int pads[4];
    MNV2_RETURN_IF_ERROR(ReadPad(pads));
    const TfjsOp& op = Next();
    MNV2_RETURN_IF_ERROR(Consume(op));
    if (op.kernel_h != 3 || op.kernel_w != 3 || op.in_c != c_) {
      return TfjsUnsupported(Describe(op) + " is a " + std::to_string(op.kernel_h) + "x" + std::to_string(op.kernel_w) +
                             " depthwise filter over " + std::to_string(op.in_c) + " channels; only 3x3 filters over "
                             "the " + std::to_string(c_) + " channels of its input are supported");
    }
    DepthwiseConv2D& dw = b->depthwise;
    dw.name = op.name;
    MNV2_RETURN_IF_ERROR(Geometry(op, pads, c_, &dw.g));
    dw.weights = op.weights;
    dw.bias = op.bias.empty() ? std::vector<float>(c_, 0.0f) : op.bias;
    dw.activation = op.activation;
    MNV2_RETURN_IF_ERROR(ReadConv(&b->project, what + " project"));
    MNV2_RETURN_IF_ERROR(CheckPointwise(b->project, what + " project"));
    if (Peek(TfjsOpKind::kAdd)) {
      const TfjsOp& add = Next();
      const bool reads_both = add.inputs.size() == 2 && ((add.inputs[0] == cur_ && add.inputs[1] == block_in) ||
                                                         (add.inputs[1] == cur_ && add.inputs[0] == block_in));
      if (!reads_both) return TfjsUnsupported(Describe(add) + " does not add the " + what + " input to its output");
      if (h_ != in_h || w_ != in_w || c_ != in_c) return TfjsUnsupported(Describe(add) + " adds tensors of different shapes");
      cur_ = add.output;
      b->residual = true;
    }
    return Status::Ok();
  }

  Status ReadPool() {
    if (Peek(TfjsOpKind::kAvgPool)) {
      const TfjsOp& op = Next();
      MNV2_RETURN_IF_ERROR(Consume(op));
      const bool global = op.kernel_h == h_ && op.kernel_w == w_ && !op.same &&
                          std::all_of(op.pads, op.pads + 4, [](int p) { return p == 0; });
      if (!global) {
        return TfjsUnsupported(Describe(op) + " pools " + std::to_string(op.kernel_h) + "x" + std::to_string(op.kernel_w) +
                               ", which does not cover the whole " + std::to_string(h_) + "x" + std::to_string(w_) +
                               " feature map");
      }
    } else if (Peek(TfjsOpKind::kMean)) {
      MNV2_RETURN_IF_ERROR(Consume(Next()));
    } else {
      return TfjsUnsupported("expected a global average pooling after the last convolution, found " + Found());
    }
    h_ = w_ = 1;
    return Status::Ok();
  }

  // Reshapes only where the activation is a vector (after the pooling), where they change nothing.
  Status SkipReshapes() {
    while (Peek(TfjsOpKind::kReshape)) {
      const TfjsOp& op = Next();
      MNV2_RETURN_IF_ERROR(Consume(op));
      if (h_ != 1 || w_ != 1) return TfjsUnsupported(Describe(op) + " reshapes a feature map");
    }
    return Status::Ok();
  }

  // A dense layer, or a 1x1 convolution over the pooled 1x1 map.
  Status ReadDense(Classifier* d) {
    const TfjsOp& op = Next();
    MNV2_RETURN_IF_ERROR(Consume(op));
    if (op.in_c != c_) {
      return TfjsUnsupported(Describe(op) + " takes " + std::to_string(op.in_c) + " features, but its input has " +
                             std::to_string(c_));
    }
    d->name = op.name;
    d->features = op.in_c;
    d->classes = op.out_c;
    d->activation = op.activation;
    d->weights.resize(op.weights.size());
    for (int i = 0; i < op.in_c; ++i) {
      for (int o = 0; o < op.out_c; ++o) {
        d->weights[static_cast<size_t>(o) * op.in_c + i] = op.weights[static_cast<size_t>(i) * op.out_c + o];
      }
    }
    d->bias = op.bias.empty() ? std::vector<float>(op.out_c, 0.0f) : op.bias;
    c_ = op.out_c;
    return Status::Ok();
  }

  TfjsModel m_;
  const InputRange& range_;
  const Limits& limits_;
  std::vector<TfjsOp> ops_;  // after Fuse
  size_t next_ = 0;
  std::string cur_;
  int h_ = 0, w_ = 0, c_ = 0;  // shape of the running activation
  int64_t weight_bytes_ = 0, layer_peak_ = 0, input_elements_ = 0;
};

}  // namespace

Result<Network> AssembleTfjs(TfjsModel model, const TfjsWeights& weights, const InputRange& range,
                             const Limits& limits) {
  return Assembler(std::move(model), weights, range, limits).Build();
}

Result<Network> LoadTfjs(const char* model_json, size_t json_size, const uint8_t* weights, size_t weights_size,
                         const InputRange& range, const Limits& limits) {
  if (json_size > limits.max_model_bytes || weights_size > limits.max_model_bytes - json_size) {
    return Status(ErrorCode::kModelTooLarge, "the model.json and its weights are " +
                                                 std::to_string(static_cast<uint64_t>(json_size) + weights_size) +
                                                 " bytes; the limit is " + std::to_string(limits.max_model_bytes));
  }
  if (weights == nullptr && weights_size > 0) return Status(ErrorCode::kInvalidArgument, "no weights (null pointer)");
  Result<JsonValue> json = ParseJson(model_json, json_size);
  if (!json.ok()) return Status(json.status().code(), "model.json: " + json.status().message());
  const JsonValue* topology = json->Find("modelTopology");
  const JsonValue* manifest = json->Find("weightsManifest");
  if (topology == nullptr || !topology->is_object()) return TfjsMalformed("model.json has no modelTopology object");
  if (manifest == nullptr) return TfjsMalformed("model.json has no weightsManifest");
  Result<TfjsWeights> w = TfjsWeights::Read(*manifest, weights, weights_size, limits);
  if (!w.ok()) return w.status();

  std::string format;
  JsonString(json->Find("format"), &format);
  Result<TfjsModel> model = Status();
  if (format == "graph-model" || (format.empty() && topology->Find("node"))) {
    model = ReadGraphModel(*topology, *w);
  } else if (format == "layers-model" || format.empty()) {
    model = ReadLayersModel(*topology, *w);
  } else {
    return TfjsUnsupported("model.json has format '" + format + "' (supported: layers-model, graph-model)");
  }
  if (!model.ok()) return model.status();
  Result<Network> net = AssembleTfjs(std::move(*model), *w, range, limits);
  if (!net.ok()) return net.status();
  net->weight_type = w->StorageType();
  net->quantized = net->weight_type == "uint8" || net->weight_type == "uint16";
  return net;
}

}  // namespace model
}  // namespace mnv2
