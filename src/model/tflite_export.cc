#include "model/tflite_export.h"

#include <cmath>
#include <cstring>

#include "common/numbers.h"
#include "model/tflite.h"
#include "model/tflite_writer.h"

namespace mnv2 {
namespace model {
namespace {

Status Invalid(const std::string& message) {
  return Status(ErrorCode::kInvalidArgument, "cannot export the model: " + message);
}

template <typename T>
std::vector<uint8_t> BytesOf(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

int8_t FusedOf(Activation a) {
  switch (a) {
    case Activation::kNone: return static_cast<int8_t>(FusedActivation::kNone);
    case Activation::kRelu: return static_cast<int8_t>(FusedActivation::kRelu);
    case Activation::kRelu6: return static_cast<int8_t>(FusedActivation::kRelu6);
  }
  return 0;
}

// Whether TFLite's SAME (same) or VALID padding gives the geometry's output size and padding.
bool PaddingGives(const ConvGeometry& g, bool same) {
  int out_h, out_w, pad_top, pad_left;
  PaddedAxis(same, g.in_h, g.kernel_h, g.stride, &out_h, &pad_top);
  PaddedAxis(same, g.in_w, g.kernel_w, g.stride, &out_w, &pad_left);
  return out_h == g.out_h && out_w == g.out_w && pad_top == g.pad_top && pad_left == g.pad_left;
}

// Builds the graph in order, the running activation in cur_. On the integer path (a backbone
// with its stored integers, Network::quant) the backbone's tensors are 8-bit with the file's
// quantization; otherwise float32.
class Exporter {
 public:
  explicit Exporter(const Network& net) : net_(net), integer_(net.quant.available) {}

  Result<GraphDef> Build(const DenseHead& head, const std::vector<std::string>& labels) {
    MNV2_RETURN_IF_ERROR(Input());
    MNV2_RETURN_IF_ERROR(Conv(net_.stem));
    for (const InvertedResidual& b : net_.blocks) {
      const int block_in = cur_;
      if (b.has_expand) MNV2_RETURN_IF_ERROR(Conv(b.expand));
      MNV2_RETURN_IF_ERROR(Depthwise(b.depthwise));
      MNV2_RETURN_IF_ERROR(Conv(b.project));
      if (b.residual) {
        const int out = Activation(g_.tensors[cur_].shape, &b.add_output, b.project.name + "/add");
        AddOp(kOpAdd, {block_in, cur_}, out, MakeFbTable(), kAddOptions);
      }
    }
    if (net_.has_head) MNV2_RETURN_IF_ERROR(Conv(net_.head));
    Pool();
    Classifier(head);
    g_.description = "mobilenetv2-wasm: a backbone and a learned head";
    if (!labels.empty()) {
      std::string text;
      for (const std::string& label : labels) text += label + "\n";
      g_.metadata.push_back({kLabelsMetadata, std::vector<uint8_t>(text.begin(), text.end())});
    }
    return std::move(g_);
  }

 private:
  int Add(TensorDef t) {
    g_.tensors.push_back(std::move(t));
    return static_cast<int>(g_.tensors.size()) - 1;
  }
  // An activation: 8-bit with q, or float32 (q null).
  int Activation(std::vector<int32_t> shape, const QuantParams* q, const std::string& name) {
    TensorDef t;
    t.shape = std::move(shape);
    t.name = name;
    t.type = static_cast<int8_t>(TensorType::kFloat32);
    if (q != nullptr) {
      t.type = static_cast<int8_t>(q->is_signed ? TensorType::kInt8 : TensorType::kUInt8);
      t.scale = {q->scale};
      t.zero_point = {q->zero_point};
    }
    return Add(std::move(t));
  }
  int Constant(std::vector<int32_t> shape, TensorType type, std::vector<uint8_t> data, const std::string& name) {
    TensorDef t;
    t.shape = std::move(shape);
    t.type = static_cast<int8_t>(type);
    t.data = std::move(data);
    t.name = name;
    return Add(std::move(t));
  }
  void AddOp(int32_t code, std::vector<int32_t> inputs, int out, FbPtr options = nullptr, uint8_t options_type = 0) {
    g_.ops.push_back({code, std::move(inputs), {out}, std::move(options), options_type});
    cur_ = out;
  }

  Status Input() {
    const InputSpec& in = net_.input;
    const std::vector<int32_t> shape = {1, in.height, in.width, 3};
    if (integer_) {
      const QuantizedGraph& qg = net_.quant;
      cur_ = Activation(shape, &qg.input, "input");
      g_.inputs = {cur_};
      for (size_t i = 0; i < qg.input_requantize.size(); ++i) {
        AddOp(kOpQuantize, {cur_}, Activation(shape, &qg.input_requantize[i], "input/quantize_" + std::to_string(i)));
      }
      return Status::Ok();
    }
    // A float input takes pixels mapped to [-1, 1] (how LoadTflite reads one); other mappings
    // with an integer zero point become a uint8 input and a DEQUANTIZE.
    if (!in.quantized && in.scale == 1.0f / 127.5f && in.zero_point == 127.5f) {
      cur_ = Activation(shape, nullptr, "input");
      g_.inputs = {cur_};
      return Status::Ok();
    }
    if (!(in.scale > 0.0f) || !std::isfinite(in.scale) || in.zero_point != std::floor(in.zero_point) ||
        in.zero_point < 0.0f || in.zero_point > 255.0f) {
      return Invalid("the network maps pixels p to " + FormatNumber(in.scale) + " * (p - " +
                     FormatNumber(in.zero_point) + "), which a .tflite input cannot express");
    }
    const QuantParams pixels{in.scale, static_cast<int32_t>(in.zero_point), false};
    cur_ = Activation(shape, &pixels, "input");
    g_.inputs = {cur_};
    AddOp(kOpDequantize, {cur_}, Activation(shape, nullptr, "input/dequantize"));
    return Status::Ok();
  }

  // Weights [shape] and bias [channels]: float32, or the stored integers (scales along qdim)
  // and an int32 bias whose scales are the input's times the weights'.
  Status WeightsAndBias(const std::string& name, const std::vector<float>& weights, const std::vector<float>& bias,
                        const LayerQuantization& q, const std::vector<int32_t>& shape, int qdim, int* w, int* b) {
    size_t count = 1;
    for (int32_t d : shape) count *= static_cast<size_t>(d);
    const int channels = shape[qdim];
    if (!integer_) {
      if (weights.size() != count || bias.size() != static_cast<size_t>(channels)) {
        return Invalid(name + " has no float weights");
      }
      *w = Constant(shape, TensorType::kFloat32, BytesOf(weights), name + "/weights");
      *b = Constant({channels}, TensorType::kFloat32, BytesOf(bias), name + "/bias");
      return Status::Ok();
    }
    if (!HasIntegerWeights(q, count) || q.bias.size() != static_cast<size_t>(channels)) {
      return Invalid(name + " has no integer weights");
    }
    const bool per_channel = q.weight_scales.size() > 1;
    TensorDef wt;
    wt.shape = shape;
    wt.type = static_cast<int8_t>(q.weights_signed ? TensorType::kInt8 : TensorType::kUInt8);
    wt.data = q.weights;
    wt.scale = q.weight_scales;
    wt.zero_point.assign(q.weight_zero_points.begin(), q.weight_zero_points.end());
    wt.quantized_dimension = per_channel ? qdim : 0;
    wt.name = name + "/weights";
    *w = Add(std::move(wt));
    TensorDef bt;
    bt.shape = {channels};
    bt.type = static_cast<int8_t>(TensorType::kInt32);
    bt.data = BytesOf(q.bias);
    // The file's bias scales (which the float engine reads the bias with), or TFLite's rule.
    bt.scale = q.bias_scales;
    if (bt.scale.empty()) {
      for (float s : q.weight_scales) bt.scale.push_back(q.input.scale * s);
    }
    bt.zero_point.assign(bt.scale.size(), 0);
    bt.name = name + "/bias";
    *b = Add(std::move(bt));
    return Status::Ok();
  }

  Status CheckPadding(const ConvGeometry& g, const std::string& name, bool* same) {
    *same = PaddingGives(g, true);
    if (*same || PaddingGives(g, false)) return Status::Ok();
    return Invalid(name + " is padded by " + std::to_string(g.pad_top) + " rows and " + std::to_string(g.pad_left) +
                   " columns, which neither SAME nor VALID padding gives");
  }

  Status Conv(const Conv2D& c) {
    const ConvGeometry& g = c.g;
    bool same;
    MNV2_RETURN_IF_ERROR(CheckPadding(g, c.name, &same));
    int w, b;
    MNV2_RETURN_IF_ERROR(WeightsAndBias(c.name, c.weights, c.bias, c.q, {g.out_c, g.kernel_h, g.kernel_w, g.in_c}, 0, &w, &b));
    FbPtr o = MakeFbTable();
    o->Scalar<int8_t>(0, same ? 0 : 1).Scalar<int32_t>(1, g.stride).Scalar<int32_t>(2, g.stride).Scalar<int8_t>(3, FusedOf(c.activation));
    AddOp(kOpConv2D, {cur_, w, b}, Activation({1, g.out_h, g.out_w, g.out_c}, integer_ ? &c.q.output : nullptr, c.name), o,
          kConv2DOptions);
    return Status::Ok();
  }

  Status Depthwise(const DepthwiseConv2D& d) {
    const ConvGeometry& g = d.g;
    bool same;
    MNV2_RETURN_IF_ERROR(CheckPadding(g, d.name, &same));
    int w, b;
    MNV2_RETURN_IF_ERROR(WeightsAndBias(d.name, d.weights, d.bias, d.q, {1, g.kernel_h, g.kernel_w, g.out_c}, 3, &w, &b));
    FbPtr o = MakeFbTable();
    o->Scalar<int8_t>(0, same ? 0 : 1).Scalar<int32_t>(1, g.stride).Scalar<int32_t>(2, g.stride).Scalar<int32_t>(3, 1)
        .Scalar<int8_t>(4, FusedOf(d.activation));
    AddOp(kOpDepthwiseConv2D, {cur_, w, b}, Activation({1, g.out_h, g.out_w, g.out_c}, integer_ ? &d.q.output : nullptr, d.name), o,
          kDepthwiseConv2DOptions);
    return Status::Ok();
  }

  // Global average pooling into [1, features] (MEAN where the integer path pooled with it: its
  // requantization differs), then float32.
  void Pool() {
    const ConvGeometry& map = net_.pooled_geometry();
    const int features = map.out_c;
    const QuantParams* q = integer_ ? &net_.quant.pool_output : nullptr;
    if (integer_ && net_.quant.pool_is_mean) {
      const int axes = Constant({2}, TensorType::kInt32, BytesOf(std::vector<int32_t>{1, 2}), "pool/axes");
      AddOp(kOpMean, {cur_, axes}, Activation({1, features}, q, "pool"), MakeFbTable(), kReducerOptions);
    } else {
      FbPtr o = MakeFbTable();
      o->Scalar<int8_t>(0, 1).Scalar<int32_t>(1, 1).Scalar<int32_t>(2, 1).Scalar<int32_t>(3, map.out_w).Scalar<int32_t>(4, map.out_h);
      AddOp(kOpAveragePool2D, {cur_}, Activation({1, 1, 1, features}, q, "pool"), o, kPool2DOptions);
      const std::vector<int32_t> shape = {1, features};
      const int shape_tensor = Constant({2}, TensorType::kInt32, BytesOf(shape), "features/shape");
      FbPtr r = MakeFbTable();
      r->Ref(0, MakeFbScalars(shape));
      AddOp(kOpReshape, {cur_, shape_tensor}, Activation(shape, q, "features"), r, kReshapeOptions);
    }
    if (integer_) AddOp(kOpDequantize, {cur_}, Activation({1, features}, nullptr, "features/dequantize"));
  }

  void Classifier(const DenseHead& head) {
    AddOp(kOpL2Normalization, {cur_}, Activation({1, head.features}, nullptr, "features/l2_normalize"),
          MakeFbTable(), kL2NormOptions);
    const int w = Constant({head.classes, head.features}, TensorType::kFloat32, BytesOf(head.weights), "head/weights");
    const int b = Constant({head.classes}, TensorType::kFloat32, BytesOf(head.bias), "head/bias");
    AddOp(kOpFullyConnected, {cur_, w, b}, Activation({1, head.classes}, nullptr, "head/logits"),
          MakeFbTable(), kFullyConnectedOptions);
    FbPtr o = MakeFbTable();
    o->Scalar<float>(0, 1.0f);  // beta (the schema's default is 0)
    AddOp(kOpSoftmax, {cur_}, Activation({1, head.classes}, nullptr, "scores"), o, kSoftmaxOptions);
    g_.outputs = {cur_};
  }

  const Network& net_;
  const bool integer_;
  GraphDef g_;
  int cur_ = -1;
};

Status CheckHead(const Network& net, const DenseHead& head, const std::vector<std::string>& labels) {
  if (head.features != net.feature_size()) {
    return Invalid("the head reads " + std::to_string(head.features) + " features; the network has " +
                   std::to_string(net.feature_size()));
  }
  if (head.classes < 1) return Invalid("the head has " + std::to_string(head.classes) + " classes");
  if (static_cast<uint64_t>(head.weights.size()) != static_cast<uint64_t>(head.classes) * head.features ||
      head.bias.size() != static_cast<size_t>(head.classes)) {
    return Invalid("the head has " + std::to_string(head.weights.size()) + " weights and " +
                   std::to_string(head.bias.size()) + " biases for " + std::to_string(head.classes) + " classes of " +
                   std::to_string(head.features) + " features");
  }
  for (const std::vector<float>* v : {&head.weights, &head.bias}) {
    for (float x : *v) {
      if (!std::isfinite(x)) return Invalid("the head holds a non-finite value");
    }
  }
  if (!labels.empty() && labels.size() != static_cast<size_t>(head.classes)) {
    return Invalid(std::to_string(labels.size()) + " labels for " + std::to_string(head.classes) + " classes");
  }
  for (const std::string& label : labels) {
    if (label.find_first_of("\r\n") != std::string::npos) return Invalid("a label holds a line break");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> ExportTflite(const Network& backbone, const DenseHead& head,
                                          const std::vector<std::string>& labels) {
  MNV2_RETURN_IF_ERROR(CheckHead(backbone, head, labels));
  Result<GraphDef> g = Exporter(backbone).Build(head, labels);
  if (!g.ok()) return g.status();
  return WriteTflite(*g);
}

}  // namespace model
}  // namespace mnv2
