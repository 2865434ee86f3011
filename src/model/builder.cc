#include "model/builder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/numbers.h"
#include "model/float16.h"
#include "model/labels.h"

namespace mnv2 {
namespace model {
namespace {

Status Unsupported(const std::string& message) {
  return Status(ErrorCode::kUnsupportedModel, "not a supported MobileNetV2 model: " + message);
}

std::string ShapeString(const std::vector<int32_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Walks the operator list in order; knows which tensor is the running activation.
class Builder {
 public:
  Builder(const Graph& g, const Limits& limits, const BuildOptions& options)
      : g_(g), limits_(limits), options_(options) {}

  Result<Network> Build() {
    MNV2_RETURN_IF_ERROR(CheckOpsSupported());
    if (g_.inputs.size() != 1 || g_.outputs.size() != 1) {
      return Unsupported("the graph has " + std::to_string(g_.inputs.size()) + " inputs and " +
                         std::to_string(g_.outputs.size()) + " outputs; expected one of each");
    }
    Network net;
    cur_ = g_.inputs[0];
    MNV2_RETURN_IF_ERROR(ReadInput(&net.input));
    if (net.input.quantized) {
      qg_.input = Quant8(cur_, "the input");
    } else {
      NoInteger("the input is float");
    }
    // An int8 model may convert its uint8 input first; the real values do not change.
    while (Peek(kOpQuantize) || Peek(kOpDequantize)) {
      const bool quantize = Peek(kOpQuantize);
      MNV2_RETURN_IF_ERROR(PassThrough());
      if (quantize) {
        qg_.input_requantize.push_back(Quant8(cur_, "the QUANTIZE output"));
      } else {
        NoInteger("the input is dequantized to float");
      }
    }

    MNV2_RETURN_IF_ERROR(ReadConv(&net.stem, "stem"));
    if (net.stem.g.in_c != net.input.channels) return Unsupported("the stem does not read the input image");
    while (Peek(kOpDepthwiseConv2D) || (Peek(kOpConv2D) && Peek(kOpDepthwiseConv2D, 1))) {
      net.blocks.emplace_back();
      MNV2_RETURN_IF_ERROR(ReadBlock(&net.blocks.back(), static_cast<int>(net.blocks.size()) - 1));
    }
    if (net.blocks.empty()) return Unsupported("no depthwise-separable block follows the stem");
    if (IsSegmentation()) {
      net.task = Task::kSegmentation;
      net.has_head = false;
      MNV2_RETURN_IF_ERROR(ReadSegmentationHead(&net));
    } else {
      MNV2_RETURN_IF_ERROR(ReadClassificationHead(&net));
    }
    net.weight_type = TensorTypeName(g_.tensors[feature_weights_].type);
    net.quantized = net.weight_type == "uint8" || net.weight_type == "int8";
    // Float weights skipped for a network whose layers turned out not all 8-bit: read it all.
    if (skipped_ && !quant_ok_) return Builder(g_, limits_, BuildOptions()).Build();
    if (!g_.labels.empty()) {
      Result<std::vector<std::string>> labels = ParseLabels(g_.labels, net.num_classes());
      if (!labels.ok()) {
        return Status(ErrorCode::kModelFormat, "malformed TFLite model: its labels: " + labels.status().message());
      }
      net.labels = std::move(*labels);
    }
    qg_.available = quant_ok_;
    qg_.unavailable_reason = reason_;
    qg_.float_classifier = float_classifier_;
    net.quant = std::move(qg_);
    if (!quant_ok_) DropLayerQuantization(&net);
    return net;
  }

 private:
  // After the blocks of a classifier: [the 1x1 head,] the pooling, [an exported head's
  // normalization,] the classifier, [SOFTMAX,] and QUANTIZE / DEQUANTIZE / RESHAPE to the output.
  Status ReadClassificationHead(Network* net_ptr) {
    Network& net = *net_ptr;
    // MobileNetV2 has a 1x1 head convolution before the pooling; MobileNetV1 pools its last block.
    net.has_head = Peek(kOpConv2D);
    if (net.has_head) {
      MNV2_RETURN_IF_ERROR(ReadConv(&net.head, "head"));
      if (net.head.g.kernel_h != 1 || net.head.g.kernel_w != 1 || net.head.g.stride != 1) {
        return Unsupported("the head convolution '" + net.head.name + "' is not 1x1 stride 1");
      }
    }
    MNV2_RETURN_IF_ERROR(ReadGlobalPool(net.pooled_geometry()));
    qg_.pool_is_mean = g_.operators[next_ - 1].code == kOpMean;
    qg_.pool_output = Quant8(cur_, "the pooling output");
    SkipReshapes();
    MNV2_RETURN_IF_ERROR(ReadFeatureNormalization(&net));
    MNV2_RETURN_IF_ERROR(ReadClassifier(&net.classifier, net.feature_size()));
    SkipReshapes();
    net.softmax = false;
    if (Peek(kOpSoftmax)) {
      const Operator& op = Next();
      if (!float_classifier_) qg_.softmax_input = Quant8(cur_, "the SOFTMAX input");
      MNV2_RETURN_IF_ERROR(Consume(op, "SOFTMAX"));
      if (!float_classifier_) qg_.softmax_output = Quant8(cur_, "the SOFTMAX output");
      net.softmax = true;
      net.softmax_beta = op.options.softmax_beta;
      if (!(net.softmax_beta > 0.0f) || !std::isfinite(net.softmax_beta)) {
        return Unsupported("SOFTMAX has beta " + FormatNumber(net.softmax_beta));
      }
    }
    bool dequantized = float_classifier_;  // the output is float from here on
    while (Peek(kOpQuantize) || Peek(kOpDequantize) || Peek(kOpReshape) || Peek(kOpSqueeze)) {
      const int32_t code = g_.operators[next_].code;
      MNV2_RETURN_IF_ERROR(PassThrough());
      if (dequantized && code != kOpReshape && code != kOpSqueeze) NoInteger("the output is quantized again");
      if (code == kOpQuantize && !dequantized) qg_.output_requantize.push_back(Quant8(cur_, "the QUANTIZE output"));
      dequantized = dequantized || code == kOpDequantize;
    }
    if (next_ != g_.operators.size()) {
      return Unsupported("unexpected " + OpName(next_) + " after the classifier");
    }
    if (cur_ != g_.outputs[0]) return Unsupported("the classifier's result is not the graph output");
    const int64_t out_elements = Elements(g_.tensors[cur_]);
    if (out_elements != net.classifier.classes) {
      return Unsupported("the output tensor " + ShapeString(g_.tensors[cur_].shape) + " does not hold " +
                         std::to_string(net.classifier.classes) + " classes");
    }
    return Status::Ok();
  }

  // A DeepLab graph ends in per-pixel classes: an ARG_MAX (or a RESIZE_BILINEAR, CONCATENATION).
  bool IsSegmentation() const {
    for (const Operator& op : g_.operators) {
      if (op.code == kOpArgMax || op.code == kOpResizeBilinear || op.code == kOpConcatenation) return true;
    }
    return false;
  }

  std::string Where(const char* what, size_t index) const {
    return std::string(what) + " (operator " + std::to_string(index) + ")";
  }

  // A RESIZE_BILINEAR of the running activation to its constant size input: its output's
  // height and width, and its mode.
  Status ReadResize(const std::string& where, int* out_h, int* out_w, ResizeMode* mode) {
    const Operator& op = Next();
    const int32_t in = cur_;
    MNV2_RETURN_IF_ERROR(Consume(op, where.c_str()));
    const Tensor& x = g_.tensors[in];
    const Tensor& y = g_.tensors[cur_];
    if (op.inputs.size() != 2 || op.inputs[1] < 0) return Unsupported(where + " has no size input");
    const Tensor& size = g_.tensors[op.inputs[1]];
    int32_t hw[2] = {0, 0};
    if (size.data == nullptr || size.type != TensorType::kInt32 || size.data_size != 8) {
      return Unsupported(where + " must resize to a constant int32 [height, width]");
    }
    std::memcpy(hw, size.data, 8);
    if (x.shape.size() != 4 || x.shape[0] != 1 || x.shape[1] < 1 || x.shape[2] < 1) {
      return Unsupported(where + " input has shape " + ShapeString(x.shape));
    }
    if (hw[0] < 1 || hw[1] < 1 || hw[0] > kMaxInputSide || hw[1] > kMaxInputSide) {
      return Unsupported(where + " resizes to " + std::to_string(hw[0]) + "x" + std::to_string(hw[1]));
    }
    const std::vector<int32_t> expected = {1, hw[0], hw[1], x.shape[3]};
    if (y.shape != expected) {
      return Unsupported(where + " output has shape " + ShapeString(y.shape) + ", expected " + ShapeString(expected));
    }
    if (op.options.align_corners && op.options.half_pixel_centers) {
      return Unsupported(where + " sets both align_corners and half_pixel_centers");
    }
    if (x.type != y.type || (y.type != TensorType::kFloat32 && Quant8(in, where) != Quant8(cur_, where))) {
      return Unsupported(where + " changes the type or quantization of its input");
    }
    *out_h = hw[0];
    *out_w = hw[1];
    mode->align_corners = op.options.align_corners;
    mode->half_pixel_centers = op.options.half_pixel_centers;
    return ReserveLayer(Elements(x) + Elements(y), where);
  }

  // After the backbone of a DeepLab network (SegmentationHead): the branches, by the tensors
  // they read (their operators may interleave), then the 1x1 convolutions, the resizes to the
  // input size and the ARG_MAX over the channels.
  Status ReadSegmentationHead(Network* net) {
    SegmentationHead& s = net->segmentation;
    const ConvGeometry& backbone = net->blocks.back().project.g;
    const int32_t map = cur_;
    if (Peek(kOpAveragePool2D)) {
      s.image_pooling = true;
      const QuantParams map_q = Quant8(map, "the backbone's output");
      MNV2_RETURN_IF_ERROR(ReadGlobalPool(backbone));
      const int32_t pooled = cur_;
      if (Quant8(pooled, "the pooling output") != map_q) {
        NoInteger("the AVERAGE_POOL_2D output is quantized differently from its input");
      }
      int32_t branch = -1, map_branch = -1;  // the two branches' running tensors
      bool broadcast = false;
      while (!Peek(kOpConcatenation)) {
        if (next_ >= g_.operators.size()) return Unsupported("the segmentation head has no CONCATENATION");
        const Operator& op = g_.operators[next_];
        const int32_t in = op.inputs.empty() ? -1 : op.inputs[0];
        const std::string where = Where(BuiltinOpName(op.code).c_str(), next_);
        if (op.code == kOpConv2D && in == map && map_branch < 0) {
          cur_ = map;
          MNV2_RETURN_IF_ERROR(ReadPointwise(&s.map_conv, "the segmentation head's 1x1 branch"));
          map_branch = cur_;
        } else if (op.code == kOpConv2D && in == pooled && branch < 0) {
          cur_ = pooled;
          MNV2_RETURN_IF_ERROR(ReadPointwise(&s.pool_conv, "the image-pooling branch"));
          branch = cur_;
        } else if (op.code == kOpResizeBilinear && in == branch && branch >= 0 && !broadcast) {
          cur_ = branch;
          int h, w;
          ResizeMode mode;
          MNV2_RETURN_IF_ERROR(ReadResize(where, &h, &w, &mode));
          if (h != backbone.out_h || w != backbone.out_w) {
            return Unsupported(where + " does not resize the pooled branch to the " + std::to_string(backbone.out_h) +
                               "x" + std::to_string(backbone.out_w) + " map");
          }
          branch = cur_;
          broadcast = true;
        } else if (op.code == kOpQuantize && in == branch && broadcast) {
          cur_ = branch;
          MNV2_RETURN_IF_ERROR(PassThrough());
          s.pool_requantize.push_back(Quant8(cur_, "the QUANTIZE output"));
          branch = cur_;
        } else {
          return Unsupported("unexpected " + where + " in the segmentation head");
        }
      }
      if (!broadcast || map_branch < 0) {
        return Unsupported("the segmentation head concatenates before both branches are complete");
      }
      const size_t index = next_;
      const Operator& op = Next();
      const std::string where = Where("CONCATENATION", index);
      const bool reads_both = op.inputs.size() == 2 && ((op.inputs[0] == branch && op.inputs[1] == map_branch) ||
                                                        (op.inputs[1] == branch && op.inputs[0] == map_branch));
      if (!reads_both) return Unsupported(where + " does not concatenate the two branches");
      if (op.options.axis != 3 && op.options.axis != -1) {
        return Unsupported(where + " concatenates along axis " + std::to_string(op.options.axis) +
                           " (only the channels, 3 or -1)");
      }
      if (op.options.activation != FusedActivation::kNone) return Unsupported(where + " has a fused activation");
      s.pooling_first = op.inputs[0] == branch;
      cur_ = op.inputs[0];
      MNV2_RETURN_IF_ERROR(Consume(op, where.c_str()));
      const std::vector<int32_t> expected = {1, backbone.out_h, backbone.out_w,
                                             s.pool_conv.g.out_c + s.map_conv.g.out_c};
      if (g_.tensors[cur_].shape != expected) {
        return Unsupported(where + " output has shape " + ShapeString(g_.tensors[cur_].shape) + ", expected " +
                           ShapeString(expected));
      }
      s.concat = Quant8(cur_, where + " output");
      MNV2_RETURN_IF_ERROR(ReserveLayer(Elements(g_.tensors[cur_]) * 2, where));
    }
    while (Peek(kOpConv2D)) {
      s.convs.emplace_back();
      MNV2_RETURN_IF_ERROR(
          ReadPointwise(&s.convs.back(), "the segmentation head's convolution " + std::to_string(s.convs.size())));
    }
    if (s.convs.empty()) {
      return Unsupported("expected a 1x1 CONV_2D giving the class logits, found " + NextOpName());
    }
    const ConvGeometry& logits = s.logits_geometry();
    if (logits.out_c > 256) return Unsupported(std::to_string(logits.out_c) + " classes (at most 256)");
    // The resizes: those to the same size are identities; one resizes to the input size.
    int h = logits.out_h, w = logits.out_w;
    bool upsampled = h == net->input.height && w == net->input.width;
    while (Peek(kOpResizeBilinear)) {
      const std::string where = Where("RESIZE_BILINEAR", next_);
      int out_h, out_w;
      ResizeMode mode;
      MNV2_RETURN_IF_ERROR(ReadResize(where, &out_h, &out_w, &mode));
      if (out_h == h && out_w == w) continue;
      if (upsampled || out_h != net->input.height || out_w != net->input.width) {
        return Unsupported(where + " resizes the logits to " + std::to_string(out_h) + "x" + std::to_string(out_w) +
                           "; only one resize, to the input size, is supported");
      }
      s.upsample = mode;
      upsampled = true;
      h = out_h;
      w = out_w;
    }
    if (!upsampled) return Unsupported("the logits are not resized to the input size");
    if (!Peek(kOpArgMax)) {
      return Unsupported("expected ARG_MAX over the upsampled logits, found " + NextOpName());
    }
    const std::string where = Where("ARG_MAX", next_);
    const Operator& op = Next();
    MNV2_RETURN_IF_ERROR(Consume(op, where.c_str()));
    if (op.inputs.size() != 2 || op.inputs[1] < 0) return Unsupported(where + " has no axis");
    const Tensor& axis = g_.tensors[op.inputs[1]];
    int64_t a = -2;
    if (axis.data != nullptr && Elements(axis) == 1 && axis.type == TensorType::kInt32 && axis.data_size == 4) {
      int32_t v;
      std::memcpy(&v, axis.data, 4);
      a = v;
    } else if (axis.data != nullptr && Elements(axis) == 1 && axis.type == TensorType::kInt64 && axis.data_size == 8) {
      std::memcpy(&a, axis.data, 8);
    }
    if (a != 3 && a != -1) return Unsupported(where + " must reduce the constant channel axis (3 or -1)");
    const Tensor& out = g_.tensors[cur_];
    if (out.type != TensorType::kInt64 && out.type != TensorType::kInt32) {
      return Unsupported(where + " output is " + TensorTypeName(out.type) + " (int64 or int32 expected)");
    }
    if (out.type != op.options.output_type) {
      return Unsupported(where + " output is " + TensorTypeName(out.type) + " but its options say " +
                         TensorTypeName(op.options.output_type));
    }
    if (out.shape != std::vector<int32_t>{1, h, w}) {
      return Unsupported(where + " output has shape " + ShapeString(out.shape) + ", expected " +
                         ShapeString({1, h, w}));
    }
    if (next_ != g_.operators.size()) return Unsupported("unexpected " + OpName(next_) + " after the ARG_MAX");
    if (cur_ != g_.outputs[0]) return Unsupported("the ARG_MAX result is not the graph output");
    return Status::Ok();
  }

  Status CheckOpsSupported() const {
    for (size_t i = 0; i < g_.operators.size(); ++i) {
      switch (g_.operators[i].code) {
        case kOpConv2D: case kOpDepthwiseConv2D: case kOpAdd: case kOpAveragePool2D: case kOpMean:
        case kOpFullyConnected: case kOpReshape: case kOpSqueeze: case kOpSoftmax: case kOpQuantize:
        case kOpDequantize: case kOpL2Normalization: case kOpConcatenation: case kOpResizeBilinear: case kOpArgMax:
          break;
        default:
          return Status(ErrorCode::kUnsupportedOp,
                        "operator " + std::to_string(i) + " is " + OpName(i) +
                            ", which this engine does not run (supported: CONV_2D, DEPTHWISE_CONV_2D, ADD, "
                            "AVERAGE_POOL_2D, MEAN, FULLY_CONNECTED, RESHAPE, SQUEEZE, SOFTMAX, QUANTIZE, "
                            "DEQUANTIZE, L2_NORMALIZATION, CONCATENATION, RESIZE_BILINEAR, ARG_MAX)");
      }
    }
    return Status::Ok();
  }

  // What comes next, for "expected ..., found ..." messages.
  std::string NextOpName() const {
    return next_ < g_.operators.size() ? OpName(next_) : std::string("the end of the graph");
  }

  std::string OpName(size_t i) const {
    const Operator& op = g_.operators[i];
    return op.code < 0 ? "custom op '" + op.custom_code + "'" : BuiltinOpName(op.code);
  }
  std::string TensorName(int32_t t) const {
    return "tensor " + std::to_string(t) + " ('" + g_.tensors[t].name + "')";
  }
  // Saturates at kManyElements: dims are <= 2^24 and rank <= 8 (checked by the reader), so a
  // plain product could overflow.
  static constexpr int64_t kManyElements = int64_t{1} << 38;
  static int64_t Elements(const Tensor& t) {
    int64_t n = 1;
    for (int32_t d : t.shape) n = std::min(n * d, kManyElements);
    return n;
  }

  // Tracks what loading and running the network will allocate (see Limits) and fails as soon
  // as it exceeds the limit, before the allocation.
  Status ReserveWeights(int64_t elements, const std::string& what) {
    weight_bytes_ += 2 * 4 * elements;
    return CheckMemory(what);
  }
  Status ReserveLayer(int64_t elements, const std::string& what) {
    layer_peak_ = std::max(layer_peak_, elements);
    return CheckMemory(what);
  }
  Status CheckMemory(const std::string& what) const {
    const int64_t bytes = weight_bytes_ + 2 * 4 * layer_peak_ + 4 * input_elements_;
    if (bytes <= static_cast<int64_t>(std::min<size_t>(limits_.max_memory_bytes, INT64_MAX))) return Status::Ok();
    return Status(ErrorCode::kModelTooLarge,
                  "the model needs more than " + std::to_string(limits_.max_memory_bytes >> 20) +
                      " MB of memory, the limit (reached at " + what + ": at least " +
                      std::to_string(bytes >> 20) + " MB)");
  }

  bool Peek(int32_t code, size_t ahead = 0) const {
    return next_ + ahead < g_.operators.size() && g_.operators[next_ + ahead].code == code;
  }
  const Operator& Next() { return g_.operators[next_++]; }

  // Checks that `op` reads the running activation (its first input) and makes its output the running one.
  Status Consume(const Operator& op, const char* what) {
    const size_t index = next_ - 1;
    if (op.inputs.empty() || op.inputs[0] != cur_) {
      return Unsupported(std::string(what) + " (operator " + std::to_string(index) +
                         ") does not read the previous layer's output: the graph is not a MobileNet chain");
    }
    if (op.outputs.size() != 1) {
      return Unsupported(std::string(what) + " (operator " + std::to_string(index) + ") has " +
                         std::to_string(op.outputs.size()) + " outputs");
    }
    if (g_.tensors[op.outputs[0]].data != nullptr) {
      return Unsupported(std::string(what) + " writes into constant " + TensorName(op.outputs[0]));
    }
    cur_ = op.outputs[0];
    return Status::Ok();
  }

  Status PassThrough() {
    const Operator& op = Next();
    const int32_t in = cur_;
    MNV2_RETURN_IF_ERROR(Consume(op, BuiltinOpName(op.code).c_str()));
    if (Elements(g_.tensors[in]) != Elements(g_.tensors[cur_])) {
      return Unsupported(BuiltinOpName(op.code) + " changes the number of elements");
    }
    return Status::Ok();
  }

  void SkipReshapes() {
    while ((Peek(kOpReshape) || Peek(kOpSqueeze)) && PassThrough().ok()) {
    }
  }

  // The integer path needs every tensor 8-bit quantized; the first reason it cannot run
  // is kept (the float path is unaffected).
  void NoInteger(const std::string& why) {
    if (quant_ok_) reason_ = why;
    quant_ok_ = false;
  }

  QuantParams Quant8(int32_t t, const std::string& what) {
    const Tensor& x = g_.tensors[t];
    QuantParams q;
    const bool eight_bit = x.type == TensorType::kUInt8 || x.type == TensorType::kInt8;
    if (!eight_bit || x.quant.scale.size() != 1 || x.quant.zero_point.size() > 1 || !(x.quant.scale[0] > 0) ||
        !std::isfinite(x.quant.scale[0])) {
      NoInteger(what + " (" + TensorName(t) + ") is not an 8-bit tensor with one scale");
      return q;
    }
    q.scale = x.quant.scale[0];
    q.is_signed = x.type == TensorType::kInt8;
    const int64_t zp = x.quant.zero_point.empty() ? 0 : x.quant.zero_point[0];
    if (zp < (q.is_signed ? -128 : 0) || zp > (q.is_signed ? 127 : 255)) {
      NoInteger(what + " (" + TensorName(t) + ") has zero point " + std::to_string(zp));
      return q;
    }
    q.zero_point = static_cast<int32_t>(zp);
    return q;
  }

  // The stored integers of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (weights input 1,
  // bias input 2) whose scales run along qdim. ReadConstant has checked shapes and sizes.
  void ReadLayerQuantization(const Operator& op, int32_t in, int channels, int qdim, const std::string& what,
                             LayerQuantization* q) {
    if (!quant_ok_ || float_classifier_) return;
    q->input = Quant8(in, what + " input");
    q->output = Quant8(op.outputs[0], what + " output");
    const Tensor& w = g_.tensors[op.inputs[1]];
    if (w.type != TensorType::kUInt8 && w.type != TensorType::kInt8) {
      return NoInteger(what + " weights are " + TensorTypeName(w.type));
    }
    const Quantization& wq = w.quant;
    const bool per_channel = wq.scale.size() > 1;
    if ((per_channel && (static_cast<int>(wq.scale.size()) != channels || wq.quantized_dimension != qdim)) ||
        wq.scale.empty()) {
      return NoInteger(what + " weights are not quantized per tensor or per output channel");
    }
    for (float scale : wq.scale) {
      if (!(scale > 0) || !std::isfinite(scale)) return NoInteger(what + " weights have scale " + FormatNumber(scale));
    }
    q->weights_signed = w.type == TensorType::kInt8;
    q->weight_scales = wq.scale;
    q->weight_zero_points.assign(wq.scale.size(), 0);
    for (size_t i = 0; i < wq.zero_point.size() && i < wq.scale.size(); ++i) {
      const int64_t zp = wq.zero_point[i];
      if (zp < (q->weights_signed ? -128 : 0) || zp > (q->weights_signed ? 127 : 255)) {
        return NoInteger(what + " weights have zero point " + std::to_string(zp));
      }
      q->weight_zero_points[i] = static_cast<int32_t>(zp);
    }
    q->weights.resize(w.data_size);  // (a memcpy: an element-wise copy is slow in a cold module)
    std::memcpy(q->weights.data(), w.data, w.data_size);
    q->bias.assign(channels, 0);
    if (op.inputs.size() >= 3 && op.inputs[2] >= 0) {
      const Tensor& b = g_.tensors[op.inputs[2]];
      if (b.type != TensorType::kInt32) return NoInteger(what + " bias is " + TensorTypeName(b.type));
      std::memcpy(q->bias.data(), b.data, 4 * static_cast<size_t>(channels));
      q->bias_scales = b.quant.scale;
    }
  }

  static void DropLayerQuantization(Network* net) {
    auto drop = [](LayerQuantization* q) { *q = LayerQuantization(); };
    drop(&net->stem.q);
    for (InvertedResidual& b : net->blocks) {
      drop(&b.expand.q);
      drop(&b.depthwise.q);
      drop(&b.project.q);
    }
    drop(&net->head.q);
    drop(&net->classifier.q);
    SegmentationHead& s = net->segmentation;
    drop(&s.pool_conv.q);
    drop(&s.map_conv.q);
    for (Conv2D& c : s.convs) drop(&c.q);
  }

  Status ReadInput(InputSpec* in) {
    const Tensor& t = g_.tensors[cur_];
    if (t.shape.size() != 4 || t.shape[0] != 1 || t.shape[3] != 3) {
      return Unsupported("the input " + TensorName(cur_) + " has shape " + ShapeString(t.shape) +
                         "; expected [1, height, width, 3]");
    }
    in->height = t.shape[1];
    in->width = t.shape[2];
    in->channels = 3;
    if (in->height < 8 || in->width < 8 || in->height > kMaxInputSide || in->width > kMaxInputSide) {
      return Unsupported("input size " + std::to_string(in->width) + "x" + std::to_string(in->height) +
                         " is outside 8.." + std::to_string(kMaxInputSide));
    }
    input_elements_ = int64_t{in->height} * in->width * 3;
    MNV2_RETURN_IF_ERROR(CheckMemory("the input " + TensorName(cur_)));
    if (t.type == TensorType::kUInt8 || t.type == TensorType::kInt8) {
      if (t.quant.scale.size() != 1 || t.quant.zero_point.size() != 1 || !(t.quant.scale[0] > 0)) {
        return Unsupported("the quantized input " + TensorName(cur_) + " has no per-tensor scale");
      }
      in->quantized = true;
      in->scale = t.quant.scale[0];
      // An int8 input stores pixel - 128; express the mapping on uint8 pixels.
      in->zero_point = static_cast<float>(t.quant.zero_point[0]) + (t.type == TensorType::kInt8 ? 128.0f : 0.0f);
    } else if (t.type == TensorType::kFloat32) {
      // Float MobileNetV2 models take pixels in [-1, 1] (Keras' preprocess_input).
      in->scale = 1.0f / 127.5f;
      in->zero_point = 127.5f;
    } else {
      return Unsupported("the input " + TensorName(cur_) + " has type " + TensorTypeName(t.type));
    }
    return Status::Ok();
  }

  Status ToActivation(FusedActivation a, const std::string& where, Activation* out) {
    switch (a) {
      case FusedActivation::kNone: *out = Activation::kNone; return Status::Ok();
      case FusedActivation::kRelu: *out = Activation::kRelu; return Status::Ok();
      case FusedActivation::kRelu6: *out = Activation::kRelu6; return Status::Ok();
      default:
        return Status(ErrorCode::kUnsupportedOp, where + " uses fused activation " +
                                                     std::to_string(static_cast<int>(a)) +
                                                     " (only none, RELU and RELU6 are supported)");
    }
  }

  // Dequantizes constant tensor `index` of the expected shape to float32. Per-channel scales
  // run along the tensor's quantized_dimension.
  Status ReadConstant(int32_t index, const std::vector<int32_t>& shape, const std::string& what,
                      std::vector<float>* out, bool values = true) {
    if (index < 0) return Unsupported(what + " is missing");
    const Tensor& t = g_.tensors[index];
    const std::string name = what + " (" + TensorName(index) + ")";
    if (t.data == nullptr) return Unsupported(name + " is not a constant");
    if (t.shape != shape) {
      return Unsupported(name + " has shape " + ShapeString(t.shape) + ", expected " + ShapeString(shape));
    }
    const int64_t count = Elements(t);
    const size_t elem = TensorTypeSize(t.type);
    if (elem == 0 || t.type == TensorType::kInt64 || t.type == TensorType::kFloat64 ||
        t.type == TensorType::kBool || t.type == TensorType::kComplex64) {
      return Unsupported(name + " has unsupported type " + TensorTypeName(t.type));
    }
    if (static_cast<uint64_t>(count) > t.data_size / elem || t.data_size != static_cast<size_t>(count) * elem) {
      return Status(ErrorCode::kModelFormat, "malformed TFLite model: " + name + " holds " +
                                                 std::to_string(t.data_size) + " bytes, expected " +
                                                 std::to_string(count * static_cast<int64_t>(elem)));
    }
    MNV2_RETURN_IF_ERROR(ReserveWeights(count, name));
    // Integer data: real = scale[c] * (q - zero_point[c]). Its quantization is checked whether
    // or not the values are read, so that reading without them refuses the same files.
    const bool is_float = t.type == TensorType::kFloat32 || t.type == TensorType::kFloat16;
    const Quantization& q = t.quant;
    const int rank = static_cast<int>(shape.size());
    int64_t channels = 1, inner = count;
    if (!is_float) {
      if (q.scale.size() > 1) {
        inner = 1;
        if (q.quantized_dimension < 0 || q.quantized_dimension >= rank ||
            static_cast<int64_t>(q.scale.size()) != shape[q.quantized_dimension]) {
          return Unsupported(name + " has " + std::to_string(q.scale.size()) + " scales along dimension " +
                             std::to_string(q.quantized_dimension));
        }
        channels = shape[q.quantized_dimension];
        for (int d = q.quantized_dimension + 1; d < rank; ++d) inner *= shape[d];
      } else if (q.scale.size() != 1) {
        return Unsupported(name + " is an integer tensor without quantization scale");
      }
      if (!q.zero_point.empty() && q.zero_point.size() != q.scale.size()) {
        return Unsupported(name + " has " + std::to_string(q.zero_point.size()) + " zero points for " +
                           std::to_string(q.scale.size()) + " scales");
      }
    }
    if (!values) {
      out->clear();
      return Status::Ok();
    }
    out->resize(static_cast<size_t>(count));
    if (t.type == TensorType::kFloat32) {
      std::memcpy(out->data(), t.data, t.data_size);
      for (float v : *out) {
        if (!std::isfinite(v)) return Status(ErrorCode::kModelFormat, "malformed TFLite model: " + name + " holds a non-finite value");
      }
      return Status::Ok();
    }
    if (t.type == TensorType::kFloat16) {
      for (int64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        (*out)[i] = HalfToFloat(h);
        if (!std::isfinite((*out)[i])) return Status(ErrorCode::kModelFormat, "malformed TFLite model: " + name + " holds a non-finite value");
      }
      return Status::Ok();
    }
    // Runs of `inner` elements share one channel's scale and zero point.
    auto dequantize = [&](auto load) {
      float* dst = out->data();
      for (int64_t run = 0, i = 0; i < count; ++run) {
        const size_t c = static_cast<size_t>(run % channels);
        const float scale = q.scale[c];
        const float zero = q.zero_point.empty() ? 0.0f : static_cast<float>(q.zero_point[c]);
        for (const int64_t end = i + inner; i < end; ++i) dst[i] = Dequantize(static_cast<float>(load(i)), scale, zero);
      }
    };
    switch (t.type) {
      case TensorType::kUInt8: dequantize([&](int64_t i) { return t.data[i]; }); break;
      case TensorType::kInt8: dequantize([&](int64_t i) { return static_cast<int8_t>(t.data[i]); }); break;
      case TensorType::kInt16:
        dequantize([&](int64_t i) { int16_t x; std::memcpy(&x, t.data + 2 * i, 2); return x; });
        break;
      case TensorType::kInt32:
        dequantize([&](int64_t i) { int32_t x; std::memcpy(&x, t.data + 4 * i, 4); return x; });
        break;
      default:
        return Unsupported(name + " has unsupported type " + TensorTypeName(t.type));
    }
    return Status::Ok();
  }

  // A layer's weights, as ReadConstant, but checked only (left empty) while every layer so far
  // has its stored integers (the integer path can still run the network) and the options ask
  // to skip them.
  Status ReadWeights(int32_t index, const std::vector<int32_t>& shape, const std::string& what,
                     std::vector<float>* out) {
    const bool skip = options_.skip_float_weights && quant_ok_ && !float_classifier_;
    skipped_ = skipped_ || skip;
    return ReadConstant(index, shape, what, out, !skip);
  }

  // Reads the optional bias input (index 2) of a conv/FC op; absent bias means zeros.
  Status ReadBias(const Operator& op, int channels, const std::string& what, std::vector<float>* bias) {
    if (op.inputs.size() < 3 || op.inputs[2] < 0) {
      bias->assign(channels, 0.0f);
      return Status::Ok();
    }
    return ReadConstant(op.inputs[2], {channels}, what + " bias", bias);
  }

  // Fills the geometry from the input/output tensors and the op's padding/stride.
  Status Geometry(const Operator& op, int32_t in_tensor, int kh, int kw, int out_c, const std::string& what,
                  ConvGeometry* g, bool dilation_ok = false) {
    const Tensor& in = g_.tensors[in_tensor];
    const Tensor& out = g_.tensors[op.outputs[0]];
    if (in.shape.size() != 4 || in.shape[0] != 1) {
      return Unsupported(what + " input has shape " + ShapeString(in.shape));
    }
    const OpOptions& o = op.options;
    if (o.stride_w != o.stride_h || (o.stride_w != 1 && o.stride_w != 2)) {
      return Unsupported(what + " has strides " + std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w) +
                         " (only 1 and 2, equal in both directions)");
    }
    const bool one_by_one = kh == 1 && kw == 1;
    if (o.dilation_w != o.dilation_h || o.dilation_w < 1 || o.dilation_w > 64 ||
        (o.dilation_w != 1 && (!dilation_ok || o.stride_w != 1) && !one_by_one)) {
      return Unsupported(what + " has dilations " + std::to_string(o.dilation_h) + "x" + std::to_string(o.dilation_w) +
                         (dilation_ok ? " (only equal ones, at stride 1)" : " (only depthwise ones)"));
    }
    g->dilation = one_by_one ? 1 : o.dilation_w;
    g->in_h = in.shape[1];
    g->in_w = in.shape[2];
    g->in_c = in.shape[3];
    g->kernel_h = kh;
    g->kernel_w = kw;
    g->stride = o.stride_w;
    g->out_c = out_c;
    const bool same = o.padding == Padding::kSame;
    PaddedAxis(same, g->in_h, (kh - 1) * g->dilation + 1, g->stride, &g->out_h, &g->pad_top);
    PaddedAxis(same, g->in_w, (kw - 1) * g->dilation + 1, g->stride, &g->out_w, &g->pad_left);
    const std::vector<int32_t> expected = {1, g->out_h, g->out_w, out_c};
    if (g->out_h <= 0 || g->out_w <= 0 || out.shape != expected) {
      return Unsupported(what + " output " + TensorName(op.outputs[0]) + " has shape " + ShapeString(out.shape) +
                         ", but its input and padding give " + ShapeString(expected));
    }
    return ReserveLayer(Elements(in) + Elements(out), what);
  }

  Status ReadConv(Conv2D* conv, const std::string& what) {
    if (!Peek(kOpConv2D)) {
      return Unsupported("expected CONV_2D for the " + what + ", found " + NextOpName());
    }
    const size_t index = next_;
    const Operator& op = Next();
    const int32_t in = cur_;
    const std::string where = what + " CONV_2D (operator " + std::to_string(index) + ")";
    MNV2_RETURN_IF_ERROR(Consume(op, where.c_str()));
    if (op.inputs.size() < 2 || op.inputs[1] < 0) return Unsupported(where + " has no weights");
    const Tensor& w = g_.tensors[op.inputs[1]];
    if (w.shape.size() != 4) return Unsupported(where + " weights have shape " + ShapeString(w.shape));
    const int out_c = w.shape[0], kh = w.shape[1], kw = w.shape[2];
    if (kh < 1 || kw < 1 || kh > 7 || kw > 7 || out_c < 1) {
      return Unsupported(where + " has a " + std::to_string(kh) + "x" + std::to_string(kw) + " kernel");
    }
    conv->name = g_.tensors[op.outputs[0]].name;
    MNV2_RETURN_IF_ERROR(Geometry(op, in, kh, kw, out_c, where, &conv->g));
    MNV2_RETURN_IF_ERROR(ReadWeights(op.inputs[1], {out_c, kh, kw, conv->g.in_c}, where + " weights", &conv->weights));
    MNV2_RETURN_IF_ERROR(ReadBias(op, out_c, where, &conv->bias));
    ReadLayerQuantization(op, in, out_c, 0, where, &conv->q);
    if (what != "classifier") feature_weights_ = op.inputs[1];
    return ToActivation(op.options.activation, where, &conv->activation);
  }

  Status ReadPointwise(Conv2D* conv, const std::string& what) {
    MNV2_RETURN_IF_ERROR(ReadConv(conv, what));
    if (conv->g.kernel_h != 1 || conv->g.kernel_w != 1 || conv->g.stride != 1) {
      return Unsupported(what + " convolution '" + conv->name + "' is not 1x1 stride 1");
    }
    return Status::Ok();
  }

  Status ReadBlock(InvertedResidual* b, int n) {
    const std::string what = "block " + std::to_string(n);
    const int32_t block_in = cur_;
    if (Peek(kOpConv2D)) {
      b->has_expand = true;
      MNV2_RETURN_IF_ERROR(ReadPointwise(&b->expand, what + " expand"));
    }
    const size_t index = next_;
    const Operator& op = Next();
    const int32_t in = cur_;
    const std::string where = what + " DEPTHWISE_CONV_2D (operator " + std::to_string(index) + ")";
    MNV2_RETURN_IF_ERROR(Consume(op, where.c_str()));
    if (op.options.depth_multiplier != 1) return Unsupported(where + " has depth multiplier " + std::to_string(op.options.depth_multiplier));
    if (op.inputs.size() < 2 || op.inputs[1] < 0) return Unsupported(where + " has no weights");
    const Tensor& w = g_.tensors[op.inputs[1]];
    const Tensor& x = g_.tensors[in];
    if (x.shape.size() != 4) return Unsupported(where + " input has shape " + ShapeString(x.shape));
    const int channels = x.shape[3];
    if (w.shape != std::vector<int32_t>{1, 3, 3, channels}) {
      return Unsupported(where + " weights have shape " + ShapeString(w.shape) + "; only 3x3 depthwise filters over " +
                         std::to_string(channels) + " channels are supported");
    }
    DepthwiseConv2D& dw = b->depthwise;
    dw.name = g_.tensors[op.outputs[0]].name;
    MNV2_RETURN_IF_ERROR(Geometry(op, in, 3, 3, channels, where, &dw.g, /*dilation_ok=*/true));
    MNV2_RETURN_IF_ERROR(ReadWeights(op.inputs[1], {1, 3, 3, channels}, where + " weights", &dw.weights));
    MNV2_RETURN_IF_ERROR(ReadBias(op, channels, where, &dw.bias));
    ReadLayerQuantization(op, in, channels, 3, where, &dw.q);
    MNV2_RETURN_IF_ERROR(ToActivation(op.options.activation, where, &dw.activation));

    MNV2_RETURN_IF_ERROR(ReadPointwise(&b->project, what + " project"));
    if (Peek(kOpAdd)) {
      const size_t add_index = next_;
      const Operator& add = Next();
      const std::string add_where = what + " ADD (operator " + std::to_string(add_index) + ")";
      const bool reads_both = add.inputs.size() == 2 &&
                              ((add.inputs[0] == cur_ && add.inputs[1] == block_in) ||
                               (add.inputs[1] == cur_ && add.inputs[0] == block_in));
      if (!reads_both) return Unsupported(add_where + " does not add the block's input to its output");
      if (g_.tensors[block_in].shape != g_.tensors[cur_].shape) {
        return Unsupported(add_where + " adds tensors of different shapes");
      }
      Activation act;
      MNV2_RETURN_IF_ERROR(ToActivation(add.options.activation, add_where, &act));
      if (act != Activation::kNone) return Unsupported(add_where + " has a fused activation");
      if (add.outputs.size() != 1 || g_.tensors[add.outputs[0]].shape != g_.tensors[cur_].shape) {
        return Unsupported(add_where + " output has the wrong shape");
      }
      cur_ = add.outputs[0];
      b->residual = true;
      b->add_output = Quant8(cur_, add_where + " output");
    }
    return Status::Ok();
  }

  Status ReadGlobalPool(const ConvGeometry& head) {
    const size_t index = next_;
    const std::string where = "the pooling (operator " + std::to_string(index) + ")";
    if (Peek(kOpAveragePool2D)) {
      const Operator& op = Next();
      MNV2_RETURN_IF_ERROR(Consume(op, "AVERAGE_POOL_2D"));
      const OpOptions& o = op.options;
      const bool global = o.filter_h == head.out_h && o.filter_w == head.out_w && o.padding == Padding::kValid;
      if (!global) {
        return Unsupported("AVERAGE_POOL_2D " + std::to_string(o.filter_h) + "x" + std::to_string(o.filter_w) +
                           " does not cover the whole " + std::to_string(head.out_h) + "x" +
                           std::to_string(head.out_w) + " feature map");
      }
      if (o.activation != FusedActivation::kNone) return Unsupported(where + " has a fused activation");
    } else if (Peek(kOpMean)) {
      const Operator& op = Next();
      MNV2_RETURN_IF_ERROR(Consume(op, "MEAN"));
      if (op.inputs.size() != 2 || op.inputs[1] < 0) return Unsupported(where + " has no axes");
      const Tensor& axes = g_.tensors[op.inputs[1]];
      if (axes.data == nullptr || axes.type != TensorType::kInt32 || axes.data_size != 8) {
        return Unsupported(where + " must reduce the constant axes [1, 2]");
      }
      int32_t a[2];
      std::memcpy(a, axes.data, 8);
      if (!((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1))) {
        return Unsupported(where + " reduces axes [" + std::to_string(a[0]) + ", " + std::to_string(a[1]) +
                           "]; only the spatial axes [1, 2] are supported");
      }
    } else {
      return Unsupported("expected AVERAGE_POOL_2D or MEAN after the last convolution, found " + NextOpName());
    }
    if (Elements(g_.tensors[cur_]) != head.out_c) {
      return Unsupported(where + " output " + ShapeString(g_.tensors[cur_].shape) + " is not one value per channel");
    }
    return Status::Ok();
  }

  // What an exported head (model/tflite_export.h) puts between the pooling and the classifier:
  // [DEQUANTIZE to float32 after a quantized backbone] [L2_NORMALIZATION in float32], each
  // optionally followed by RESHAPE / SQUEEZE.
  Status ReadFeatureNormalization(Network* net) {
    if (Peek(kOpDequantize)) {
      const TensorType in = g_.tensors[cur_].type;
      MNV2_RETURN_IF_ERROR(PassThrough());
      if ((in != TensorType::kUInt8 && in != TensorType::kInt8) || g_.tensors[cur_].type != TensorType::kFloat32) {
        return Unsupported("the DEQUANTIZE after the pooling must turn 8-bit features into float32");
      }
      float_classifier_ = true;
      SkipReshapes();
    }
    if (Peek(kOpL2Normalization)) {
      const bool fused = g_.operators[next_].options.activation != FusedActivation::kNone;
      const TensorType in = g_.tensors[cur_].type;
      MNV2_RETURN_IF_ERROR(PassThrough());
      if (fused || in != TensorType::kFloat32 || g_.tensors[cur_].type != TensorType::kFloat32) {
        return Unsupported("L2_NORMALIZATION must be float32, without a fused activation");
      }
      net->normalize_features = true;
      SkipReshapes();
    }
    return Status::Ok();
  }

  Status ReadClassifier(Classifier* c, int features) {
    c->features = features;
    if (Peek(kOpConv2D)) {
      Conv2D conv;
      // A 1x1 convolution over the 1x1 pooled map; the pooled tensor must look like [1, 1, 1, features].
      if (g_.tensors[cur_].shape != std::vector<int32_t>{1, 1, 1, features}) {
        return Unsupported("the classifier CONV_2D reads " + ShapeString(g_.tensors[cur_].shape));
      }
      MNV2_RETURN_IF_ERROR(ReadPointwise(&conv, "classifier"));
      c->name = conv.name;
      c->classes = conv.g.out_c;
      c->activation = conv.activation;
      c->weights = std::move(conv.weights);
      c->bias = std::move(conv.bias);
      c->q = std::move(conv.q);
      return Status::Ok();
    }
    if (!Peek(kOpFullyConnected)) {
      return Unsupported("expected a FULLY_CONNECTED or 1x1 CONV_2D classifier, found " + NextOpName());
    }
    const size_t index = next_;
    const Operator& op = Next();
    const int32_t in = cur_;
    const std::string where = "classifier FULLY_CONNECTED (operator " + std::to_string(index) + ")";
    MNV2_RETURN_IF_ERROR(Consume(op, where.c_str()));
    if (op.inputs.size() < 2 || op.inputs[1] < 0) return Unsupported(where + " has no weights");
    const Tensor& w = g_.tensors[op.inputs[1]];
    if (w.shape.size() != 2 || w.shape[1] != features || w.shape[0] < 1) {
      return Unsupported(where + " weights have shape " + ShapeString(w.shape) + " for " + std::to_string(features) +
                         " features");
    }
    c->name = g_.tensors[op.outputs[0]].name;
    c->classes = w.shape[0];
    MNV2_RETURN_IF_ERROR(ReadWeights(op.inputs[1], {c->classes, features}, where + " weights", &c->weights));
    MNV2_RETURN_IF_ERROR(ReadBias(op, c->classes, where, &c->bias));
    ReadLayerQuantization(op, in, c->classes, 0, where, &c->q);
    if (Elements(g_.tensors[cur_]) != c->classes) return Unsupported(where + " output has the wrong size");
    return ToActivation(op.options.activation, where, &c->activation);
  }

  const Graph& g_;
  const Limits& limits_;
  const BuildOptions options_;
  bool skipped_ = false;  // some float weights were not read (options_.skip_float_weights)
  int64_t weight_bytes_ = 0, layer_peak_ = 0, input_elements_ = 0;  // for CheckMemory
  size_t next_ = 0;      // next operator to read
  int32_t cur_ = -1;     // tensor holding the running activation
  int32_t feature_weights_ = 0;  // of the last convolution before the pooling: the file's weight type
  QuantizedGraph qg_;     // what the integer path needs, gathered on the way
  bool float_classifier_ = false;  // the pooled features were dequantized (QuantizedGraph::float_classifier)
  bool quant_ok_ = true;  // the integer path can run
  std::string reason_;    // why not, when it cannot
};

}  // namespace

Result<Network> BuildNetwork(const Graph& graph, const Limits& limits, const BuildOptions& options) {
  return Builder(graph, limits, options).Build();
}

Result<Network> LoadTflite(const uint8_t* data, size_t size, const Limits& limits, const BuildOptions& options) {
  if (size > limits.max_model_bytes) {
    return Status(ErrorCode::kModelTooLarge, "the model file is " + std::to_string(size) + " bytes; the limit is " +
                                                 std::to_string(limits.max_model_bytes));
  }
  Result<Graph> graph = ReadTflite(data, size);
  if (!graph.ok()) return graph.status();
  return BuildNetwork(*graph, limits, options);
}

}  // namespace model
}  // namespace mnv2
