// The TF.js layers format: a functional Keras model as modelTopology, its
// weights named "<layer>/<weight>" (Conv1/kernel, bn_Conv1/moving_mean, ...).
#include <cmath>

#include "common/numbers.h"
#include "model/tfjs_internal.h"

namespace mnv2 {
namespace model {
namespace {

constexpr char kSupportedLayers[] =
    "InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, Softmax, ZeroPadding2D, Add, "
    "GlobalAveragePooling2D, AveragePooling2D, Flatten, Reshape, Dense, Dropout, Rescaling";

struct Layer {
  std::string name, cls;
  const JsonValue* config = nullptr;
  std::vector<std::string> inputs;
};

// The layers a Keras 3 call reads: every keras_history inside its args.
void KerasHistoryNames(const JsonValue& v, std::vector<std::string>* names) {
  if (const JsonValue* history = v.Find("config") ? v.Find("config")->Find("keras_history") : nullptr) {
    std::string name;
    if (history->is_array() && history->size() >= 1 && JsonString(&(*history)[0], &name)) names->push_back(name);
    return;
  }
  if (v.is_array() || v.is_object()) {
    for (const JsonValue& item : v.items()) KerasHistoryNames(item, names);
  }
}

// The layers a functional model's layer reads. Keras 2: [[["name", 0, 0, {}], ...]];
// Keras 3: [{"args": [...], "kwargs": {}}].
Status InboundNames(const JsonValue& layer, const std::string& name, std::vector<std::string>* out) {
  const JsonValue* nodes = layer.Find("inbound_nodes");
  if (nodes == nullptr || !nodes->is_array()) return TfjsMalformed("layer '" + name + "' has no inbound_nodes list");
  if (nodes->size() == 0) return Status::Ok();
  if (nodes->size() > 1) {
    return TfjsUnsupported("layer '" + name + "' is called " + std::to_string(nodes->size()) + " times (shared layers)");
  }
  const JsonValue& node = (*nodes)[0];
  if (node.is_object()) {
    if (const JsonValue* args = node.Find("args")) KerasHistoryNames(*args, out);
    return Status::Ok();
  }
  if (!node.is_array()) return TfjsMalformed("layer '" + name + "' has a malformed inbound node");
  for (const JsonValue& ref : node.items()) {
    std::string from;
    int64_t node_index = 0, tensor_index = 0;
    if (!ref.is_array() || ref.size() < 3 || !JsonString(&ref[0], &from) || !JsonInt(&ref[1], &node_index) ||
        !JsonInt(&ref[2], &tensor_index)) {
      return TfjsMalformed("layer '" + name + "' has a malformed inbound node");
    }
    if (node_index != 0 || tensor_index != 0) {
      return TfjsUnsupported("layer '" + name + "' reads output " + std::to_string(tensor_index) + " of call " +
                             std::to_string(node_index) + " of layer '" + from + "'");
    }
    out->push_back(from);
  }
  return Status::Ok();
}

class LayersReader {
 public:
  explicit LayersReader(const TfjsWeights& weights) : weights_(weights) {}

  Result<TfjsModel> Read(const JsonValue& topology) {
    // The Keras converter nests the model under model_config; tfjs-layers' save() does not.
    const JsonValue* config = topology.Find("model_config") ? topology.Find("model_config") : &topology;
    std::string cls;
    JsonString(config->Find("class_name"), &cls);
    const JsonValue* body = config->Find("config");
    if (body == nullptr) return TfjsMalformed("modelTopology has no model config");
    // A Sequential model cannot hold MobileNetV2's residual connections; one that nests a
    // functional MobileNetV2 is not supported.
    if (cls != "Model" && cls != "Functional") {
      return TfjsUnsupported("modelTopology is a Keras '" + cls + "' (supported: a functional Model)");
    }
    MNV2_RETURN_IF_ERROR(ReadFunctional(*body));
    return std::move(model_);
  }

 private:
  static const JsonValue& Members(const JsonValue& v, const char* key) {
    static const JsonValue kNone;
    const JsonValue* m = v.Find(key);
    return m ? *m : kNone;
  }

  static Status ParseLayer(const JsonValue& v, Layer* layer) {
    if (!JsonString(v.Find("class_name"), &layer->cls)) return TfjsMalformed("a layer has no class_name");
    layer->config = v.Find("config");
    if (layer->config == nullptr || !layer->config->is_object()) {
      return TfjsMalformed("layer of class " + layer->cls + " has no config");
    }
    if (!JsonString(v.Find("name"), &layer->name) && !JsonString(layer->config->Find("name"), &layer->name)) {
      return TfjsMalformed("a " + layer->cls + " layer has no name");
    }
    return Status::Ok();
  }

  Status ReadFunctional(const JsonValue& body) {
    const JsonValue& layers = Members(body, "layers");
    if (!layers.is_array()) return TfjsMalformed("the model config has no layers list");
    MNV2_RETURN_IF_ERROR(OneEndpoint(body, "input_layers", &model_.input));
    MNV2_RETURN_IF_ERROR(OneEndpoint(body, "output_layers", &model_.output));
    bool found_input = false;
    for (const JsonValue& v : layers.items()) {
      Layer layer;
      MNV2_RETURN_IF_ERROR(ParseLayer(v, &layer));
      MNV2_RETURN_IF_ERROR(InboundNames(v, layer.name, &layer.inputs));
      if (layer.cls == "InputLayer") {
        if (layer.name != model_.input) return TfjsUnsupported("the model has more than one input");
        MNV2_RETURN_IF_ERROR(ReadInputShape(*layer.config, "input layer '" + layer.name + "'"));
        found_input = true;
        continue;
      }
      MNV2_RETURN_IF_ERROR(Translate(layer));
    }
    if (!found_input) return TfjsMalformed("the model has no InputLayer named '" + model_.input + "'");
    return Status::Ok();
  }

  static Status OneEndpoint(const JsonValue& body, const char* key, std::string* name) {
    const JsonValue& list = Members(body, key);
    // [["input_1", 0, 0]], or a single ["input_1", 0, 0] (Keras 3).
    const JsonValue* entry = list.is_array() && list.size() == 1 && list[0].is_array() ? &list[0] : &list;
    if (!entry->is_array() || entry->size() < 1 || !JsonString(&(*entry)[0], name)) {
      return TfjsUnsupported(std::string("the model must have exactly one entry in ") + key);
    }
    return Status::Ok();
  }

  Status ReadInputShape(const JsonValue& config, const std::string& what) {
    const JsonValue* shape = config.Find("batch_input_shape");
    if (shape == nullptr) shape = config.Find("batch_shape");
    if (shape == nullptr || !shape->is_array()) return TfjsUnsupported(what + " has no batch_input_shape");
    std::vector<int64_t> dims;
    for (const JsonValue& d : shape->items()) {
      int64_t n = -1;
      if (!d.is_null() && (!JsonInt(&d, &n) || n < 1)) return TfjsMalformed(what + " has an invalid input shape");
      dims.push_back(n);
    }
    return InputSize(dims, what, &model_.height, &model_.width);
  }

  // --- config fields -----------------------------------------------------------------

  // An int, or a pair [a, b] (kernel_size, strides, ...); `fallback` when absent.
  static Status Pair(const Layer& l, const char* key, int fallback, int* a, int* b) {
    const JsonValue* v = l.config->Find(key);
    int64_t x = fallback, y = fallback;
    bool ok = true;
    if (v != nullptr && !v->is_null()) {
      ok = JsonInt(v, &x) ? (y = x, true)
                          : v->is_array() && v->size() == 2 && JsonInt(&(*v)[0], &x) && JsonInt(&(*v)[1], &y);
    }
    if (!ok || x < 0 || y < 0 || x > 4096 || y > 4096) {
      return TfjsMalformed("layer '" + l.name + "' has an invalid " + key);
    }
    *a = static_cast<int>(x);
    *b = static_cast<int>(y);
    return Status::Ok();
  }

  static bool Bool(const Layer& l, const char* key, bool fallback) {
    const JsonValue* v = l.config->Find(key);
    return v && v->is_bool() ? v->boolean() : fallback;
  }

  static Status ChannelsLast(const Layer& l) {
    std::string format;
    if (JsonString(l.config->Find("data_format"), &format) && format != "channels_last") {
      return TfjsUnsupported("layer '" + l.name + "' uses data_format " + format + " (only channels_last)");
    }
    return Status::Ok();
  }

  // Keras activation names; softmax is an op of its own (see Translate).
  static Status ActivationOf(const Layer& l, const std::string& name, Activation* a, bool* softmax) {
    if (softmax) *softmax = false;
    if (name == "linear" || name.empty()) {
      *a = Activation::kNone;
    } else if (name == "relu") {
      *a = Activation::kRelu;
    } else if (name == "relu6") {
      *a = Activation::kRelu6;
    } else if (name == "softmax" && softmax != nullptr) {
      *a = Activation::kNone;
      *softmax = true;
    } else {
      return Status(ErrorCode::kUnsupportedOp, "layer '" + l.name + "' uses activation '" + name +
                                                   "' (supported: linear, relu, relu6, softmax)");
    }
    return Status::Ok();
  }

  Status Padding(const Layer& l, TfjsOp* op) {
    std::string padding = "valid";
    JsonString(l.config->Find("padding"), &padding);
    if (padding != "same" && padding != "valid") {
      return TfjsUnsupported("layer '" + l.name + "' has padding '" + padding + "'");
    }
    op->same = padding == "same";
    return Status::Ok();
  }

  // The shape of weight "<layer>/<which>", which must have `rank` dimensions.
  Status WeightShape(const Layer& l, const char* which, size_t rank, std::vector<int64_t>* shape) {
    const std::string name = l.name + "/" + which;
    const TfjsWeightSpec* spec = weights_.Find(name);
    if (spec == nullptr) return TfjsMalformed("the weight '" + name + "' of layer '" + l.name + "' is not in the weightsManifest");
    if (spec->shape.size() != rank) {
      return TfjsUnsupported("the weight '" + name + "' has shape " + DimsString(spec->shape));
    }
    for (int64_t d : spec->shape) {
      if (d < 1 || d > (1 << 20)) return TfjsUnsupported("the weight '" + name + "' has shape " + DimsString(spec->shape));
    }
    *shape = spec->shape;
    return Status::Ok();
  }

  Status Weight(const Layer& l, const char* which, const std::vector<int64_t>& shape, std::vector<float>* out) {
    return weights_.Floats(l.name + "/" + which, shape, "the weight", out);
  }

  Status Bias(const Layer& l, int channels, TfjsOp* op) {
    if (!Bool(l, "use_bias", true)) return Status::Ok();
    return Weight(l, "bias", {channels}, &op->bias);
  }

  // --- layers --------------------------------------------------------------------------

  Status Translate(const Layer& l) {
    TfjsOp op;
    op.name = op.output = l.name;
    op.type = l.cls;
    op.inputs = l.inputs;
    const size_t inputs = l.cls == "Add" ? 2 : 1;
    if (l.inputs.size() != inputs) {
      return TfjsUnsupported("layer '" + l.name + "' reads " + std::to_string(l.inputs.size()) + " tensors");
    }
    std::string activation;
    JsonString(l.config->Find("activation"), &activation);
    bool softmax = false;
    if (l.cls == "Conv2D" || l.cls == "DepthwiseConv2D") {
      MNV2_RETURN_IF_ERROR(Convolution(l, &op));
      MNV2_RETURN_IF_ERROR(ActivationOf(l, activation, &op.activation, nullptr));
    } else if (l.cls == "Dense") {
      std::vector<int64_t> shape;
      MNV2_RETURN_IF_ERROR(WeightShape(l, "kernel", 2, &shape));
      op.kind = TfjsOpKind::kDense;
      op.in_c = static_cast<int>(shape[0]);
      op.out_c = static_cast<int>(shape[1]);
      int64_t units = 0;
      if (!JsonInt(l.config->Find("units"), &units) || units != op.out_c) {
        return TfjsUnsupported("Dense '" + l.name + "' has a kernel of shape " + DimsString(shape) + " for " +
                               std::to_string(units) + " units");
      }
      MNV2_RETURN_IF_ERROR(Weight(l, "kernel", shape, &op.weights));
      MNV2_RETURN_IF_ERROR(Bias(l, op.out_c, &op));
      MNV2_RETURN_IF_ERROR(ActivationOf(l, activation, &op.activation, &softmax));
    } else if (l.cls == "BatchNormalization") {
      MNV2_RETURN_IF_ERROR(BatchNorm(l, &op));
    } else if (l.cls == "ReLU") {
      double max_value = INFINITY, slope = 0, threshold = 0;
      JsonNumber(l.config->Find("max_value"), &max_value);
      JsonNumber(l.config->Find("negative_slope"), &slope);
      JsonNumber(l.config->Find("threshold"), &threshold);
      if (slope != 0 || threshold != 0 || (max_value != 6 && max_value != INFINITY)) {
        return Status(ErrorCode::kUnsupportedOp, "ReLU '" + l.name + "' is not relu or relu6 (max_value " +
                                                     FormatNumber(max_value) + ", negative_slope " +
                                                     FormatNumber(slope) + ", threshold " + FormatNumber(threshold) + ")");
      }
      op.kind = TfjsOpKind::kActivation;
      op.activation = max_value == 6 ? Activation::kRelu6 : Activation::kRelu;
    } else if (l.cls == "Activation") {
      op.kind = TfjsOpKind::kActivation;
      MNV2_RETURN_IF_ERROR(ActivationOf(l, activation, &op.activation, &softmax));
      if (softmax) op.kind = TfjsOpKind::kSoftmax;
      softmax = false;
    } else if (l.cls == "Softmax") {
      int64_t axis = -1;
      JsonInt(l.config->Find("axis"), &axis);
      if (axis != -1) return TfjsUnsupported("Softmax '" + l.name + "' is over axis " + std::to_string(axis));
      op.kind = TfjsOpKind::kSoftmax;
    } else if (l.cls == "ZeroPadding2D") {
      MNV2_RETURN_IF_ERROR(ZeroPadding(l, &op));
    } else if (l.cls == "Add") {
      op.kind = TfjsOpKind::kAdd;
    } else if (l.cls == "GlobalAveragePooling2D") {
      MNV2_RETURN_IF_ERROR(ChannelsLast(l));
      op.kind = TfjsOpKind::kMean;
    } else if (l.cls == "AveragePooling2D") {
      MNV2_RETURN_IF_ERROR(ChannelsLast(l));
      op.kind = TfjsOpKind::kAvgPool;
      MNV2_RETURN_IF_ERROR(Pair(l, "pool_size", 2, &op.kernel_h, &op.kernel_w));
      MNV2_RETURN_IF_ERROR(Pair(l, "strides", op.kernel_h, &op.stride_h, &op.stride_w));
      MNV2_RETURN_IF_ERROR(Padding(l, &op));
    } else if (l.cls == "Flatten" || l.cls == "Reshape") {
      op.kind = TfjsOpKind::kReshape;
    } else if (l.cls == "Dropout" || l.cls == "SpatialDropout2D" || l.cls == "GaussianDropout" ||
               l.cls == "GaussianNoise" || l.cls == "AlphaDropout") {
      op.kind = TfjsOpKind::kIdentity;  // inactive at inference
    } else if (l.cls == "Rescaling") {
      op.kind = TfjsOpKind::kAffine;
      if (!JsonNumber(l.config->Find("scale"), &op.mul)) {
        return TfjsUnsupported("Rescaling '" + l.name + "' does not have one scale for every channel");
      }
      JsonNumber(l.config->Find("offset"), &op.add);
    } else {
      return Status(ErrorCode::kUnsupportedOp, "layer '" + l.name + "' is a " + l.cls +
                                                   ", which this engine does not run (supported: " + kSupportedLayers + ")");
    }
    if (softmax) {
      // Dense(activation='softmax'): the dense layer, then a softmax under the layer's name.
      op.output = l.name + "/logits";
      TfjsOp s;
      s.kind = TfjsOpKind::kSoftmax;
      s.name = s.output = l.name;
      s.type = l.cls + " softmax";
      s.inputs = {op.output};
      model_.ops.push_back(std::move(op));
      model_.ops.push_back(std::move(s));
      return Status::Ok();
    }
    model_.ops.push_back(std::move(op));
    return Status::Ok();
  }

  Status Convolution(const Layer& l, TfjsOp* op) {
    const bool depthwise = l.cls == "DepthwiseConv2D";
    MNV2_RETURN_IF_ERROR(ChannelsLast(l));
    MNV2_RETURN_IF_ERROR(Pair(l, "kernel_size", 1, &op->kernel_h, &op->kernel_w));
    MNV2_RETURN_IF_ERROR(Pair(l, "strides", 1, &op->stride_h, &op->stride_w));
    int dilation_h, dilation_w;
    MNV2_RETURN_IF_ERROR(Pair(l, "dilation_rate", 1, &dilation_h, &dilation_w));
    if (dilation_h != 1 || dilation_w != 1) return TfjsUnsupported(l.cls + " '" + l.name + "' is dilated");
    int64_t groups = 1;
    JsonInt(l.config->Find("groups"), &groups);
    if (groups != 1) return TfjsUnsupported("Conv2D '" + l.name + "' has " + std::to_string(groups) + " groups");
    MNV2_RETURN_IF_ERROR(Padding(l, op));
    const char* kernel = depthwise ? "depthwise_kernel" : "kernel";
    std::vector<int64_t> shape;
    MNV2_RETURN_IF_ERROR(WeightShape(l, kernel, 4, &shape));
    if (shape[0] != op->kernel_h || shape[1] != op->kernel_w) {
      return TfjsUnsupported("the kernel of " + l.cls + " '" + l.name + "' has shape " + DimsString(shape) +
                             " for kernel_size " + std::to_string(op->kernel_h) + "x" + std::to_string(op->kernel_w));
    }
    op->in_c = static_cast<int>(shape[2]);
    if (depthwise) {
      op->kind = TfjsOpKind::kDepthwise;
      op->out_c = op->in_c;
      int64_t multiplier = 1;
      JsonInt(l.config->Find("depth_multiplier"), &multiplier);
      if (multiplier != 1 || shape[3] != 1) {
        return TfjsUnsupported("DepthwiseConv2D '" + l.name + "' has depth multiplier " + std::to_string(shape[3]));
      }
    } else {
      op->kind = TfjsOpKind::kConv;
      op->out_c = static_cast<int>(shape[3]);
      int64_t filters = 0;
      if (!JsonInt(l.config->Find("filters"), &filters) || filters != op->out_c) {
        return TfjsUnsupported("Conv2D '" + l.name + "' has a kernel of shape " + DimsString(shape) + " for " +
                               std::to_string(filters) + " filters");
      }
    }
    MNV2_RETURN_IF_ERROR(Weight(l, kernel, shape, &op->weights));
    return Bias(l, op->out_c, op);
  }

  Status BatchNorm(const Layer& l, TfjsOp* op) {
    const JsonValue* axis = l.config->Find("axis");
    int64_t a = -1;
    if (axis && axis->is_array() && axis->size() == 1) axis = &(*axis)[0];
    if (axis && !axis->is_null() && (!JsonInt(axis, &a) || (a != -1 && a != 3))) {
      return TfjsUnsupported("BatchNormalization '" + l.name + "' does not normalize the channel axis");
    }
    double epsilon = 1e-3;
    JsonNumber(l.config->Find("epsilon"), &epsilon);
    std::vector<int64_t> shape;
    MNV2_RETURN_IF_ERROR(WeightShape(l, "moving_mean", 1, &shape));
    const size_t c = static_cast<size_t>(shape[0]);
    std::vector<float> gamma(c, 1.0f), beta(c, 0.0f), mean, variance;
    if (Bool(l, "scale", true)) MNV2_RETURN_IF_ERROR(Weight(l, "gamma", shape, &gamma));
    if (Bool(l, "center", true)) MNV2_RETURN_IF_ERROR(Weight(l, "beta", shape, &beta));
    MNV2_RETURN_IF_ERROR(Weight(l, "moving_mean", shape, &mean));
    MNV2_RETURN_IF_ERROR(Weight(l, "moving_variance", shape, &variance));
    if (!(epsilon >= 0)) return TfjsUnsupported("BatchNormalization '" + l.name + "' has a negative epsilon");
    for (float v : variance) {
      if (!(v + epsilon > 0)) return TfjsUnsupported("BatchNormalization '" + l.name + "' has a variance <= 0");
    }
    TfjsOp bn = BatchNormOp(gamma, beta, mean, variance, epsilon);
    op->kind = TfjsOpKind::kBatchNorm;
    op->bn_scale = std::move(bn.bn_scale);
    op->bn_offset = std::move(bn.bn_offset);
    return Status::Ok();
  }

  // padding: n, [h, w] (symmetric) or [[top, bottom], [left, right]].
  Status ZeroPadding(const Layer& l, TfjsOp* op) {
    MNV2_RETURN_IF_ERROR(ChannelsLast(l));
    op->kind = TfjsOpKind::kPad;
    const JsonValue* p = l.config->Find("padding");
    int64_t v[4];
    bool ok = false;
    if (p && p->is_array() && p->size() == 2 && p->items()[0].is_array()) {
      const JsonValue &h = (*p)[0], &w = (*p)[1];
      ok = h.size() == 2 && w.is_array() && w.size() == 2 && JsonInt(&h[0], &v[0]) && JsonInt(&h[1], &v[1]) &&
           JsonInt(&w[0], &v[2]) && JsonInt(&w[1], &v[3]);
    } else if (p && p->is_array() && p->size() == 2) {
      ok = JsonInt(&(*p)[0], &v[0]) && JsonInt(&(*p)[1], &v[2]);
      v[1] = v[0];
      v[3] = v[2];
    } else if (JsonInt(p, &v[0])) {
      ok = true;
      v[1] = v[2] = v[3] = v[0];
    }
    for (int i = 0; ok && i < 4; ++i) {
      ok = v[i] >= 0 && v[i] <= 16;
      op->pads[i] = static_cast<int>(v[i]);
    }
    if (!ok) return TfjsUnsupported("ZeroPadding2D '" + l.name + "' has an invalid padding");
    return Status::Ok();
  }

  const TfjsWeights& weights_;
  TfjsModel model_;
};

}  // namespace

Result<TfjsModel> ReadLayersModel(const JsonValue& topology, const TfjsWeights& weights) {
  return LayersReader(weights).Read(topology);
}

}  // namespace model
}  // namespace mnv2
