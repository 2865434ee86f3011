#include "tfjs_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "model/builder.h"
#include "model/float16.h"

namespace mnv2 {
namespace testing {
namespace {

using model::Activation;
using model::Conv2D;
using model::ConvGeometry;
using model::Network;

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}
std::string Str(const std::string& s) { return "\"" + s + "\""; }
std::string List(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + items[i];
  return s + "]";
}
std::string Ints(const std::vector<int64_t>& v) {
  std::vector<std::string> items;
  for (int64_t x : v) items.push_back(std::to_string(x));
  return List(items);
}
std::string Base64(const std::string& in) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kChars[(n >> 18) & 63];
    out += kChars[(n >> 12) & 63];
    out += i + 1 < in.size() ? kChars[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kChars[n & 63] : '=';
  }
  return out;
}

// [out][kh][kw][in] <-> [kh][kw][in][out]
std::vector<float> OhwiToHwio(const std::vector<float>& w, int out_c, int taps, int in_c) {
  std::vector<float> r(w.size());
  for (int o = 0; o < out_c; ++o)
    for (int t = 0; t < taps; ++t)
      for (int i = 0; i < in_c; ++i) r[(static_cast<size_t>(t) * in_c + i) * out_c + o] = w[(static_cast<size_t>(o) * taps + t) * in_c + i];
  return r;
}
std::vector<float> HwioToOhwi(const std::vector<float>& w, int out_c, int taps, int in_c) {
  std::vector<float> r(w.size());
  for (int o = 0; o < out_c; ++o)
    for (int t = 0; t < taps; ++t)
      for (int i = 0; i < in_c; ++i) r[(static_cast<size_t>(o) * taps + t) * in_c + i] = w[(static_cast<size_t>(t) * in_c + i) * out_c + o];
  return r;
}

// The weightsManifest entries and the bytes after them.
class WeightWriter {
 public:
  explicit WeightWriter(TfjsQuantization q) : q_(q) {}

  // Returns the values as the loader decodes them.
  std::vector<float> Float(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& v) {
    std::vector<float> decoded(v.size());
    std::string quant;
    if (q_ == TfjsQuantization::kNone) {
      Append(v.data(), 4 * v.size());
      decoded = v;
    } else if (q_ == TfjsQuantization::kFloat16) {
      for (size_t i = 0; i < v.size(); ++i) {
        const uint16_t h = FloatToHalf(v[i]);
        Append(&h, 2);
        decoded[i] = model::HalfToFloat(h);
      }
      quant = R"(,"quantization":{"dtype":"float16"})";
    } else {
      const bool u8 = q_ == TfjsQuantization::kUint8;
      const double levels = u8 ? 255 : 65535;
      const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
      const double scale = hi > lo ? (hi - lo) / levels : 1.0;
      for (size_t i = 0; i < v.size(); ++i) {
        const uint16_t q = static_cast<uint16_t>(std::clamp(std::round((v[i] - lo) / scale), 0.0, levels));
        if (u8) {
          const uint8_t b = static_cast<uint8_t>(q);
          Append(&b, 1);
        } else {
          Append(&q, 2);
        }
        decoded[i] = static_cast<float>(q * scale + lo);
      }
      quant = std::string(R"(,"quantization":{"dtype":")") + (u8 ? "uint8" : "uint16") + R"(","min":)" + Num(lo) +
              R"(,"scale":)" + Num(scale) + "}";
    }
    specs_.push_back(R"({"name":)" + Str(name) + R"(,"shape":)" + Ints(shape) + R"(,"dtype":"float32")" + quant + "}");
    return decoded;
  }

  void Int32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<int32_t>& v) {
    Append(v.data(), 4 * v.size());
    specs_.push_back(R"({"name":)" + Str(name) + R"(,"shape":)" + Ints(shape) + R"(,"dtype":"int32"})");
  }

  // The manifest, with the bytes split into shards of `shard_bytes`.
  std::string Finish(size_t shard_bytes, TfjsFiles* files) {
    files->weights = bytes_;
    std::vector<std::string> paths;
    for (size_t at = 0; at < bytes_.size() || paths.empty(); at += shard_bytes) {
      const size_t end = std::min(bytes_.size(), at + shard_bytes);
      files->shards.emplace_back(bytes_.begin() + at, bytes_.begin() + end);
      paths.push_back(Str("group1-shard" + std::to_string(paths.size() + 1)));
    }
    return R"([{"paths":)" + List(paths) + R"(,"weights":)" + List(specs_) + "}]";
  }

 private:
  void Append(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  TfjsQuantization q_;
  std::vector<std::string> specs_;
  std::vector<uint8_t> bytes_;
};

// Top, bottom, left, right zero padding that SAME padding of `g` means.
std::vector<int64_t> SamePads(const ConvGeometry& g) {
  const int total_h = std::max((g.out_h - 1) * g.stride + g.kernel_h - g.in_h, 0);
  const int total_w = std::max((g.out_w - 1) * g.stride + g.kernel_w - g.in_w, 0);
  return {g.pad_top, total_h - g.pad_top, g.pad_left, total_w - g.pad_left};
}

std::string ExpectedWeightType(TfjsQuantization q) {
  switch (q) {
    case TfjsQuantization::kNone: return "float32";
    case TfjsQuantization::kUint8: return "uint8";
    case TfjsQuantization::kUint16: return "uint16";
    case TfjsQuantization::kFloat16: return "float16";
  }
  return "";
}

void SetExpectedInput(TfjsFiles* f, const Network& net, TfjsQuantization q) {
  f->expected.input = net.input;
  f->expected.input.quantized = false;
  f->expected.input.scale = static_cast<float>(2.0 / 255.0);
  f->expected.input.zero_point = 127.5f;
  f->expected.weight_type = ExpectedWeightType(q);
  f->expected.quantized = q == TfjsQuantization::kUint8 || q == TfjsQuantization::kUint16;
}

// ------------------------------------------------------------------------------------------
class LayersWriter {
 public:
  LayersWriter(const Network& net, const TfjsWriteOptions& o) : net_(net), o_(o), w_(o.quantization), rng_(o.seed) {}

  TfjsFiles Write() {
    files_.expected = net_;
    SetExpectedInput(&files_, net_, o_.quantization);
    const model::InputSpec& in = net_.input;
    Layer("input_1", "InputLayer",
          R"("batch_input_shape":[null,)" + std::to_string(in.height) + "," + std::to_string(in.width) +
              R"(,3],"dtype":"float32","sparse":false)",
          {});
    // Layer names as keras.applications gives them: MobileNetV2's, or MobileNet's (V1).
    const bool v1 = net_.family() == model::Family::kMobileNetV1;
    if (v1) {
      Conv(net_.stem, &files_.expected.stem, "conv1", "conv1_bn", "conv1_relu");
    } else {
      Conv(net_.stem, &files_.expected.stem, "Conv1", "bn_Conv1", "Conv1_relu");
    }
    for (size_t i = 0; i < net_.blocks.size(); ++i) {
      const model::InvertedResidual& b = net_.blocks[i];
      model::InvertedResidual& e = files_.expected.blocks[i];
      if (v1) {
        const std::string n = std::to_string(i + 1);
        Depthwise(b.depthwise, &e.depthwise, "conv_dw_" + n, "conv_dw_" + n + "_bn", "conv_dw_" + n + "_relu");
        Conv(b.project, &e.project, "conv_pw_" + n, "conv_pw_" + n + "_bn", "conv_pw_" + n + "_relu");
        continue;
      }
      const std::string p = i == 0 ? "expanded_conv_" : "block_" + std::to_string(i) + "_";
      const std::string block_in = prev_;
      if (b.has_expand) Conv(b.expand, &e.expand, p + "expand", p + "expand_BN", p + "expand_relu");
      Depthwise(b.depthwise, &e.depthwise, p + "depthwise", p + "depthwise_BN", p + "depthwise_relu");
      Conv(b.project, &e.project, p + "project", p + "project_BN", p + "project_relu");
      if (b.residual) Layer(p + "add", "Add", "", {block_in, prev_});
    }
    if (net_.has_head) Conv(net_.head, &files_.expected.head, "Conv_1", "Conv_1_bn", "out_relu");
    const ConvGeometry& pooled = net_.pooled_geometry();
    if (o_.avg_pool) {
      const std::string k = std::to_string(pooled.out_h) + "," + std::to_string(pooled.out_w);
      Layer("average_pooling2d_1", "AveragePooling2D",
            R"("pool_size":[)" + k + R"(],"padding":"valid","strides":[)" + k + R"(],"data_format":"channels_last")");
      Layer("flatten_1", "Flatten", R"("data_format":"channels_last")");
    } else {
      Layer("global_average_pooling2d_1", "GlobalAveragePooling2D", R"("data_format":"channels_last")");
    }
    int n = 0;
    for (size_t i = 0; i < net_.hidden.size(); ++i) {
      Dense(net_.hidden[i], &files_.expected.hidden[i], "dense_" + std::to_string(++n), model::ActivationName(net_.hidden[i].activation));
      Layer("dropout_" + std::to_string(n), "Dropout", R"("rate":0.5,"noise_shape":null,"seed":null)");
    }
    const model::Classifier& c = net_.classifier;
    Dense(c, &files_.expected.classifier, "dense_" + std::to_string(++n),
          net_.softmax ? "softmax" : model::ActivationName(c.activation));
    const std::string model = R"({"class_name":"Model","config":{"name":"mobilenetv2","layers":)" + List(layers_) +
                              R"(,"input_layers":[["input_1",0,0]],"output_layers":[[)" + Str(prev_) + ",0,0]]}}";
    files_.json = R"({"format":"layers-model","generatedBy":"keras v2.2.4","convertedBy":"tests",)"
                  R"("modelTopology":{"keras_version":"2.2.4","backend":"tensorflow","model_config":)" +
                  model + R"(},"weightsManifest":)" + w_.Finish(o_.shard_bytes, &files_) + "}";
    return std::move(files_);
  }

 private:
  static std::string Relu(Activation a) { return a == Activation::kRelu6 ? "6" : "null"; }

  void Layer(const std::string& name, const std::string& cls, const std::string& config,
             std::vector<std::string> inputs = {"<prev>"}) {
    std::vector<std::string> refs;
    for (std::string& in : inputs) refs.push_back("[" + Str(in == "<prev>" ? prev_ : in) + ",0,0,{}]");
    layers_.push_back(R"({"name":)" + Str(name) + R"(,"class_name":)" + Str(cls) + R"(,"config":{"name":)" + Str(name) +
                      (config.empty() ? "" : ",") + config + R"(},"inbound_nodes":)" +
                      (refs.empty() ? "[]" : "[" + List(refs) + "]") + "}");
    prev_ = name;
  }

  // Keras' ZeroPadding2D + 'valid' before a stride-2 layer, else 'same'.
  std::string Padding(const ConvGeometry& g, const std::string& name) {
    if (g.stride == 1 || !o_.pad_layers) return "same";
    const std::vector<int64_t> p = SamePads(g);
    Layer(name + "_pad", "ZeroPadding2D",
          R"("padding":[[)" + std::to_string(p[0]) + "," + std::to_string(p[1]) + "],[" + std::to_string(p[2]) + "," +
              std::to_string(p[3]) + R"(]],"data_format":"channels_last")");
    return "valid";
  }

  // A batch norm after a layer with `bias`, and the scale it multiplies the layer's weights by once
  // folded. Without random_batch_norm: gamma 1, beta bias, mean 0, variance 1, epsilon 0, which
  // fold to exactly the layer as it is.
  std::vector<double> BatchNorm(const std::string& name, const std::vector<float>& bias, Activation act,
                                const std::string& relu, std::vector<float>* folded_bias) {
    const size_t c = bias.size();
    std::vector<float> gamma(c, 1.0f), beta = bias, mean(c, 0.0f), variance(c, 1.0f);
    double epsilon = 0;
    if (o_.random_batch_norm) {
      epsilon = 1e-3;
      std::uniform_real_distribution<float> u(-0.5f, 0.5f);
      for (size_t i = 0; i < c; ++i) {
        gamma[i] = 1 + u(rng_);
        beta[i] = u(rng_);
        mean[i] = u(rng_);
        variance[i] = 1.1f + 2 * u(rng_);
      }
    }
    const int64_t n = static_cast<int64_t>(c);
    gamma = w_.Float(name + "/gamma", {n}, gamma);
    beta = w_.Float(name + "/beta", {n}, beta);
    mean = w_.Float(name + "/moving_mean", {n}, mean);
    variance = w_.Float(name + "/moving_variance", {n}, variance);
    Layer(name, "BatchNormalization",
          R"("axis":-1,"momentum":0.999,"epsilon":)" + Num(epsilon) + R"(,"center":true,"scale":true)");
    if (act != Activation::kNone) Layer(relu, "ReLU", R"("max_value":)" + Relu(act) + R"(,"negative_slope":0,"threshold":0)");
    std::vector<double> scale(c);
    folded_bias->resize(c);
    for (size_t i = 0; i < c; ++i) {
      scale[i] = gamma[i] / std::sqrt(static_cast<double>(variance[i]) + epsilon);
      (*folded_bias)[i] = static_cast<float>(beta[i] - mean[i] * scale[i]);
    }
    return scale;
  }

  // Weights whose last dimension is the channel, scaled as the batch norm folds them.
  static std::vector<float> Scaled(std::vector<float> w, const std::vector<double>& scale) {
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(w[i] * scale[i % scale.size()]);
    return w;
  }

  void Conv(const Conv2D& c, Conv2D* expected, const std::string& name, const std::string& bn, const std::string& relu) {
    const ConvGeometry& g = c.g;
    const int taps = g.kernel_h * g.kernel_w;
    const std::string padding = Padding(g, name);
    const std::vector<float> hwio = w_.Float(name + "/kernel", {g.kernel_h, g.kernel_w, g.in_c, g.out_c},
                                             OhwiToHwio(c.weights, g.out_c, taps, g.in_c));
    Layer(name, "Conv2D",
          R"("filters":)" + std::to_string(g.out_c) + R"(,"kernel_size":[)" + std::to_string(g.kernel_h) + "," +
              std::to_string(g.kernel_w) + R"(],"strides":[)" + std::to_string(g.stride) + "," + std::to_string(g.stride) +
              R"(],"padding":")" + padding + R"(","data_format":"channels_last","dilation_rate":[1,1],"activation":"linear","use_bias":false)");
    const std::vector<double> scale = BatchNorm(bn, c.bias, c.activation, relu, &expected->bias);
    expected->weights = HwioToOhwi(Scaled(hwio, scale), g.out_c, taps, g.in_c);
  }

  void Depthwise(const model::DepthwiseConv2D& d, model::DepthwiseConv2D* expected, const std::string& name,
                 const std::string& bn, const std::string& relu) {
    const ConvGeometry& g = d.g;
    const std::string padding = Padding(g, name);
    const std::vector<float> weights = w_.Float(name + "/depthwise_kernel", {3, 3, g.in_c, 1}, d.weights);
    Layer(name, "DepthwiseConv2D",
          R"("kernel_size":[3,3],"strides":[)" + std::to_string(g.stride) + "," + std::to_string(g.stride) +
              R"(],"padding":")" + padding + R"(","data_format":"channels_last","dilation_rate":[1,1],"activation":"linear","use_bias":false,"depth_multiplier":1)");
    expected->weights = Scaled(weights, BatchNorm(bn, d.bias, d.activation, relu, &expected->bias));
  }

  void Dense(const model::Classifier& c, model::Classifier* expected, const std::string& name, const std::string& activation) {
    const std::vector<float> w = w_.Float(name + "/kernel", {c.features, c.classes}, OhwiToHwio(c.weights, c.classes, 1, c.features));
    expected->weights = HwioToOhwi(w, c.classes, 1, c.features);
    expected->bias = w_.Float(name + "/bias", {c.classes}, c.bias);
    Layer(name, "Dense", R"("units":)" + std::to_string(c.classes) + R"(,"activation":")" +
                             (activation == "none" ? "linear" : activation) + R"(","use_bias":true)");
  }

  const Network& net_;
  const TfjsWriteOptions& o_;
  WeightWriter w_;
  std::mt19937 rng_;
  TfjsFiles files_;
  std::vector<std::string> layers_;
  std::string prev_;
};

// ------------------------------------------------------------------------------------------
class GraphWriter {
 public:
  GraphWriter(const Network& net, const TfjsWriteOptions& o) : net_(net), o_(o), w_(o.quantization) {}

  TfjsFiles Write() {
    files_.expected = net_;
    SetExpectedInput(&files_, net_, o_.quantization);
    const model::InputSpec& in = net_.input;
    Node("input", "Placeholder", {},
         R"("shape":{"shape":{"dim":[{"size":"-1"},{"size":")" + std::to_string(in.height) + R"("},{"size":")" +
             std::to_string(in.width) + R"("},{"size":"3"}]}},"dtype":{"type":"DT_FLOAT"})");
    if (o_.normalize_in_graph) {
      Const("hub_input/Mul/y", {}, {2.0f});
      Node("hub_input/Mul", "Mul", {"hub_input/Mul/y", prev_}, T());
      Const("hub_input/Sub/y", {}, {1.0f});
      Node("hub_input/Sub", "Sub", {prev_, "hub_input/Sub/y"}, T());
    }
    // Node names as TF-slim's graphs (TF Hub) have them: MobilenetV2/..., or MobilenetV1/...
    const bool v1 = net_.family() == model::Family::kMobileNetV1;
    Conv(net_.stem, &files_.expected.stem, v1 ? "MobilenetV1/Conv2d_0" : "MobilenetV2/Conv");
    for (size_t i = 0; i < net_.blocks.size(); ++i) {
      const model::InvertedResidual& b = net_.blocks[i];
      model::InvertedResidual& e = files_.expected.blocks[i];
      if (v1) {
        const std::string p = "MobilenetV1/Conv2d_" + std::to_string(i + 1);
        Depthwise(b.depthwise, &e.depthwise, p + "_depthwise");
        Conv(b.project, &e.project, p + "_pointwise");
        continue;
      }
      const std::string p = "MobilenetV2/expanded_conv" + (i ? "_" + std::to_string(i) : "") + "/";
      const std::string block_in = prev_;
      if (b.has_expand) Conv(b.expand, &e.expand, p + "expand");
      Depthwise(b.depthwise, &e.depthwise, p + "depthwise");
      Conv(b.project, &e.project, p + "project");
      if (b.residual) Node(p + "add", "AddV2", {block_in, prev_}, T());
    }
    if (net_.has_head) Conv(net_.head, &files_.expected.head, "MobilenetV2/Conv_1");
    const model::ConvGeometry& h = net_.pooled_geometry();
    if (o_.avg_pool) {
      Node("MobilenetV2/Logits/AvgPool", "AvgPool", {prev_},
           Ints("ksize", {1, h.out_h, h.out_w, 1}) + "," + Ints("strides", {1, 1, 1, 1}) + "," + S("padding", "VALID") +
               "," + S("data_format", "NHWC") + "," + T());
      Node("feature_vector/SpatialSqueeze", "Squeeze", {prev_}, Ints("squeeze_dims", {1, 2}) + "," + T());
    } else {
      Const("MobilenetV2/Logits/Mean/axes", {2}, {}, {1, 2});
      Node("MobilenetV2/Logits/Mean", "Mean", {prev_, "MobilenetV2/Logits/Mean/axes"}, R"("keep_dims":{"b":false},)" + T());
    }
    for (size_t i = 0; i < net_.hidden.size(); ++i) {
      Dense(net_.hidden[i], &files_.expected.hidden[i], "dense_" + std::to_string(i));
    }
    Dense(net_.classifier, &files_.expected.classifier, "prediction");
    if (net_.softmax) Node("prediction/Softmax", "Softmax", {prev_}, T());
    Node("Identity", "Identity", {prev_}, T());
    files_.json = R"({"format":"graph-model","generatedBy":"2.2.0","convertedBy":"tests","modelTopology":{"node":)" +
                  List(nodes_) + R"(,"library":{},"versions":{"producer":175}},"weightsManifest":)" +
                  w_.Finish(o_.shard_bytes, &files_) + "}";
    return std::move(files_);
  }

 private:
  static std::string T() { return R"("T":{"type":"DT_FLOAT"})"; }
  static std::string S(const std::string& key, const std::string& value) {
    return Str(key) + R"(:{"s":")" + Base64(value) + R"("})";
  }
  static std::string Ints(const std::string& key, const std::vector<int64_t>& v) {
    std::vector<std::string> items;
    for (int64_t x : v) items.push_back(Str(std::to_string(x)));
    return Str(key) + R"(:{"list":{"i":)" + List(items) + "}}";
  }
  static std::string Strings(const std::string& key, const std::vector<std::string>& v) {
    std::vector<std::string> items;
    for (const std::string& x : v) items.push_back(Str(Base64(x)));
    return Str(key) + R"(:{"list":{"s":)" + List(items) + "}}";
  }

  void Node(const std::string& name, const std::string& op, const std::vector<std::string>& inputs,
            const std::string& attr) {
    std::vector<std::string> in;
    for (const std::string& i : inputs) in.push_back(Str(i));
    nodes_.push_back(R"({"name":)" + Str(name) + R"(,"op":)" + Str(op) + (in.empty() ? "" : R"(,"input":)" + List(in)) +
                     R"(,"attr":{)" + attr + "}}");
    prev_ = name;
  }

  // A Const node and its weights; returns the float values as decoded.
  std::vector<float> Const(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& v,
                           const std::vector<int32_t>& ints = {}) {
    std::vector<std::string> dims;
    for (int64_t d : shape) dims.push_back(R"({"size":")" + std::to_string(d) + R"("})");
    const char* type = ints.empty() ? "DT_FLOAT" : "DT_INT32";
    const std::string saved = prev_;
    Node(name, "Const", {},
         R"("value":{"tensor":{"dtype":")" + std::string(type) + R"(","tensorShape":{"dim":)" + List(dims) +
             R"(}}},"dtype":{"type":")" + type + R"("})");
    prev_ = saved;
    if (!ints.empty()) {
      w_.Int32(name, shape, ints);
      return {};
    }
    return w_.Float(name, shape, v);
  }

  // Pad node + VALID before a stride-2 layer (o.pad_layers), else SAME.
  std::string Padding(const ConvGeometry& g, const std::string& name) {
    if (g.stride == 1 || !o_.pad_layers) return "SAME";
    const std::vector<int64_t> p = SamePads(g);
    Const(name + "/Pad/paddings", {4, 2}, {},
          {0, 0, static_cast<int32_t>(p[0]), static_cast<int32_t>(p[1]), static_cast<int32_t>(p[2]),
           static_cast<int32_t>(p[3]), 0, 0});
    Node(name + "/Pad", "Pad", {prev_, name + "/Pad/paddings"}, R"("Tpaddings":{"type":"DT_INT32"},)" + T());
    return "VALID";
  }

  // The layer node, then its bias and activation: fused into one node, or as separate nodes.
  void Layer(const std::string& name, const std::string& fused_op, const std::string& op, const std::string& weights,
             const std::string& bias, Activation act, const std::string& attr) {
    const std::string relu = act == Activation::kRelu6 ? "Relu6" : "Relu";
    if (o_.unfused) {
      Node(name + "/" + op, op, {prev_, weights}, attr + "," + T());
      Node(name + "/BiasAdd", "BiasAdd", {prev_, bias}, R"("data_format":{"s":"TkhXQw=="},)" + T());
      if (act != Activation::kNone) Node(name + "/" + relu, relu, {prev_}, T());
      return;
    }
    std::vector<std::string> fused = {"BiasAdd"};
    if (act != Activation::kNone) fused.push_back(relu);
    Node(name + "/" + (act != Activation::kNone ? relu : "BiasAdd"), fused_op, {prev_, weights, bias},
         attr + "," + Strings("fused_ops", fused) + R"(,"num_args":{"i":"1"},"epsilon":{"f":0},)" + T());
  }

  void Conv(const Conv2D& c, Conv2D* expected, const std::string& name) {
    const ConvGeometry& g = c.g;
    const int taps = g.kernel_h * g.kernel_w;
    const std::string padding = Padding(g, name);
    const std::vector<float> hwio = Const(name + "/weights", {g.kernel_h, g.kernel_w, g.in_c, g.out_c},
                                          OhwiToHwio(c.weights, g.out_c, taps, g.in_c));
    expected->weights = HwioToOhwi(hwio, g.out_c, taps, g.in_c);
    expected->bias = Const(name + "/bias", {g.out_c}, c.bias);
    Layer(name, "_FusedConv2D", "Conv2D", name + "/weights", name + "/bias", c.activation,
          Ints("strides", {1, g.stride, g.stride, 1}) + "," + S("padding", padding) + "," + Ints("dilations", {1, 1, 1, 1}) +
              "," + S("data_format", "NHWC") + R"(,"explicit_paddings":{"list":{}},"use_cudnn_on_gpu":{"b":true})");
  }

  void Depthwise(const model::DepthwiseConv2D& d, model::DepthwiseConv2D* expected, const std::string& name) {
    const ConvGeometry& g = d.g;
    const std::string padding = Padding(g, name);
    expected->weights = Const(name + "/weights", {3, 3, g.in_c, 1}, d.weights);
    expected->bias = Const(name + "/bias", {g.in_c}, d.bias);
    Layer(name, "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative", name + "/weights", name + "/bias", d.activation,
          Ints("strides", {1, g.stride, g.stride, 1}) + "," + S("padding", padding) + "," + Ints("dilations", {1, 1, 1, 1}) +
              "," + S("data_format", "NHWC"));
  }

  void Dense(const model::Classifier& c, model::Classifier* expected, const std::string& name) {
    // Unfused graphs store the weights transposed, [out][in], as MatMul(transpose_b) reads them.
    if (o_.unfused) {
      expected->weights = Const(name + "/weights", {c.classes, c.features}, c.weights);
    } else {
      const std::vector<float> w = Const(name + "/weights", {c.features, c.classes}, OhwiToHwio(c.weights, c.classes, 1, c.features));
      expected->weights = HwioToOhwi(w, c.classes, 1, c.features);
    }
    expected->bias = Const(name + "/bias", {c.classes}, c.bias);
    const std::string transpose = o_.unfused ? "true" : "false";
    Layer(name, "_FusedMatMul", "MatMul", name + "/weights", name + "/bias", c.activation,
          R"("transpose_a":{"b":false},"transpose_b":{"b":)" + transpose + "}");
  }

  const Network& net_;
  const TfjsWriteOptions& o_;
  WeightWriter w_;
  TfjsFiles files_;
  std::vector<std::string> nodes_;
  std::string prev_;
};

}  // namespace

TfjsFiles WriteLayersModel(const Network& net, const TfjsWriteOptions& options) {
  return LayersWriter(net, options).Write();
}

TfjsFiles WriteGraphModel(const Network& net, const TfjsWriteOptions& options) {
  return GraphWriter(net, options).Write();
}

Network SyntheticNetwork(const SyntheticSpec& spec) {
  const std::vector<uint8_t> bytes = SyntheticMobileNetV2(spec);
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  EXPECT_TRUE(net.ok()) << net.status().ToString();
  return std::move(*net);
}

void AddDenseHead(Network* net, const std::vector<int>& sizes, uint32_t seed) {
  std::mt19937 rng(seed);
  auto dense = [&](int in, int out, Activation a, const std::string& name) {
    model::Classifier d;
    d.name = name;
    d.features = in;
    d.classes = out;
    d.activation = a;
    std::uniform_real_distribution<float> u(-std::sqrt(3.0f / in), std::sqrt(3.0f / in));
    for (int i = 0; i < in * out; ++i) d.weights.push_back(u(rng));
    for (int i = 0; i < out; ++i) d.bias.push_back(u(rng) * 0.1f);
    return d;
  };
  int features = net->feature_size();
  for (size_t i = 0; i < sizes.size(); ++i) {
    net->hidden.push_back(dense(features, sizes[i], Activation::kRelu, "dense_" + std::to_string(i)));
    features = sizes[i];
  }
  net->classifier = dense(features, net->classifier.classes, Activation::kNone, "classifier");
}

}  // namespace testing
}  // namespace mnv2
