// A validated MobileNetV2-family network: what the engine runs, with nothing
// left to check. Built from a file by model/builder.h; shapes, padding and
// weights (dequantized to float32) all come from the file.
#ifndef MNV2_MODEL_NETWORK_H_
#define MNV2_MODEL_NETWORK_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace mnv2 {
namespace model {

// The clamp a layer applies to its output.
enum class Activation { kNone, kRelu, kRelu6 };
const char* ActivationName(Activation a);
// The output clamp [lo, hi] an activation means (infinite where it does not clamp).
void ActivationRange(Activation a, float* lo, float* hi);

// How a quantized tensor maps its integers to reals: real = scale * (q - zero_point),
// with q and zero_point in the tensor's own type.
struct QuantParams {
  float scale = 0.0f;
  int32_t zero_point = 0;
  bool is_signed = false;  // int8 rather than uint8
};
inline bool operator==(const QuantParams& a, const QuantParams& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point && a.is_signed == b.is_signed;
}
inline bool operator!=(const QuantParams& a, const QuantParams& b) { return !(a == b); }

// real = scale * (q - zero_point) in float32: how every integer constant is dequantized.
inline float Dequantize(float q, float scale, float zero_point) { return scale * (q - zero_point); }

// A layer's integers as the file stores them, for the integer path (empty when the
// layer or its activations are not 8-bit quantized).
struct LayerQuantization {
  QuantParams input, output;
  std::vector<uint8_t> weights;  // stored bytes (int8 as two's complement), layout of the float weights
  bool weights_signed = false;
  std::vector<float> weight_scales;         // one per output channel, or one for the tensor
  std::vector<int32_t> weight_zero_points;  // as many as weight_scales
  std::vector<int32_t> bias;                // one per output channel (zeros when the file has none)
  std::vector<float> bias_scales;           // the file's (which its float bias was read with), or none
};

// Stored weight i of q as the integer it stands for: int8 bytes are two's complement, which
// (byte ^ 128) - 128 undoes without a branch (0 for uint8).
inline int32_t StoredWeight(const LayerQuantization& q, size_t i) {
  const int32_t flip = q.weights_signed ? 128 : 0;
  return (q.weights[i] ^ flip) - flip;
}

// Calls fn(channel, i, n) for each run of n elements from i on that share the scale and zero
// point of `channel`, covering elements [begin, end) of q's stored weights in order: runs of
// count / channels in conv and dense layouts ([out_c][...]), of one element cycling through
// the channels in depthwise ones ([kh][kw][channels], channels_last), one run with one scale.
template <class Fn>
void ForEachChannelRun(const LayerQuantization& q, bool channels_last, size_t begin, size_t end, Fn&& fn) {
  const size_t channels = q.weight_scales.size();
  const size_t inner = channels > 1 && !channels_last ? q.weights.size() / channels : 1;
  size_t c = 0, run = end - begin;
  if (channels > 1) {
    c = channels_last ? begin % channels : begin / inner;
    run = inner - begin % inner;
  }
  for (size_t i = begin; i < end; c = c + 1 == channels ? 0 : c + 1) {
    const size_t n = run < end - i ? run : end - i;
    fn(c, i, n);
    i += n;
    run = inner;
  }
}

// Whether q holds `count` stored weights with a scale and zero point for each channel (or
// one for the tensor): what DequantizeWeights needs.
bool HasIntegerWeights(const LayerQuantization& q, size_t count);
// Elements [begin, end) of a layer's float weights, made from its stored integers (a network
// read without its float weights, BuildOptions::skip_float_weights): the floats the builder
// would have read. The channel of element i is i / (count / channels) in conv and dense
// layouts ([out_c][...]) and i % channels in depthwise ones ([kh][kw][channels]):
// channels_last. Needs HasIntegerWeights.
void DequantizeWeights(const LayerQuantization& q, bool channels_last, size_t begin, size_t end, float* out);

// Spatial geometry shared by convolutions: NHWC input [in_h, in_w, in_c] to output [out_h, out_w, out_c].
struct ConvGeometry {
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride = 1;
  int dilation = 1;               // atrous: tap k reads input row/column (out * stride - pad + k * dilation)
  int pad_top = 0, pad_left = 0;  // zero padding before the first row/column
};

// One axis of a convolution with TFLite's SAME (same) or VALID padding: the output size (0 when
// VALID leaves none) and the zero padding before the first row or column.
// A dilated kernel spans (kernel - 1) * dilation + 1 inputs: pass that as `kernel`.
void PaddedAxis(bool same, int in, int kernel, int stride, int* out, int* pad_before);

// A convolution with a dense kernel: weights [out_c][kernel_h][kernel_w][in_c] (OHWI).
struct Conv2D {
  std::string name;
  ConvGeometry g;
  Activation activation = Activation::kNone;
  std::vector<float> weights;
  std::vector<float> bias;  // [out_c]
  LayerQuantization q;
};

// A depthwise convolution (one filter per channel): weights [kernel_h][kernel_w][channels].
struct DepthwiseConv2D {
  std::string name;
  ConvGeometry g;  // in_c == out_c
  Activation activation = Activation::kNone;
  std::vector<float> weights;
  std::vector<float> bias;
  LayerQuantization q;
};

// The networks of the MobileNet family this engine runs: a stem convolution, a chain of
// depthwise-separable blocks, [a 1x1 head,] global average pooling and a classifier.
enum class Family { kMobileNetV1, kMobileNetV2 };
const char* FamilyName(Family f);  // "mobilenet_v1", "mobilenet_v2"

// One depthwise-separable block: [expand 1x1] -> depthwise 3x3 -> project 1x1 [+ input].
// MobileNetV2's inverted residual expands (all but its first block), projects linearly and adds
// the block's input when `residual` (same shape in and out). MobileNetV1's block has neither
// expansion nor residual, and its projection (the pointwise convolution) has a ReLU6.
struct InvertedResidual {
  bool has_expand = false;
  Conv2D expand;
  DepthwiseConv2D depthwise;
  Conv2D project;
  bool residual = false;
  QuantParams add_output;  // the residual ADD's output (integer path)
};

// A fully connected layer (the classifier, or a hidden layer of a Keras head):
// weights [classes][features].
struct Classifier {
  std::string name;
  int features = 0;
  int classes = 0;
  Activation activation = Activation::kNone;
  std::vector<float> weights;
  std::vector<float> bias;
  LayerQuantization q;
};

// What the integer path needs beyond each layer's LayerQuantization. Available when
// every tensor from the input to the output is 8-bit quantized and every layer stores
// 8-bit weights and 32-bit biases.
struct QuantizedGraph {
  bool available = false;
  std::string unavailable_reason;  // when not available
  QuantParams input;               // the graph input (the image bytes)
  std::vector<QuantParams> input_requantize;   // outputs of the QUANTIZE ops after the input, in order
  bool pool_is_mean = false;       // MEAN rather than AVERAGE_POOL_2D
  QuantParams pool_output;
  // The pooled features are dequantized and the classifier (and softmax) run in float32, as
  // an exported learned head does (model/tflite_export.h); nothing after the pooling is 8-bit.
  bool float_classifier = false;
  QuantParams softmax_input, softmax_output;  // when softmax and not float_classifier
  std::vector<QuantParams> output_requantize;  // outputs of the QUANTIZE ops at the end, in order
};

// How the input tensor maps integers to reals: real = scale * (q - zero_point).
// A float model has no quantization; its images are mapped to `float_range`.
struct InputSpec {
  int height = 0, width = 0, channels = 3;
  bool quantized = false;
  float scale = 1.0f;
  float zero_point = 0.0f;
};

// What a network computes: one class for the image, or one class per pixel.
enum class Task { kClassification, kSegmentation };
const char* TaskName(Task t);  // "classification", "segmentation"

// How RESIZE_BILINEAR maps an output coordinate to an input one (TFLite's two flags).
struct ResizeMode {
  bool align_corners = false;
  bool half_pixel_centers = false;
};

// DeepLabv3's head on a MobileNetV2 backbone (the MobileNetV2 paper's section 6.3: output stride
// 16, atrous depthwise convolutions in the last blocks, and of the ASPP only the image-pooling
// branch and a 1x1 branch). On the backbone's map M:
//   [concat(broadcast(pool_conv(average(M))), map_conv(M))] -> convs (1x1) -> logits
// then the logits are upsampled bilinearly to the input size and each pixel takes the class
// of its largest logit (ARG_MAX; the first on ties). Without the image-pooling branch the
// convs read M directly.
struct SegmentationHead {
  bool image_pooling = false;
  bool pooling_first = true;  // the pooled branch's channels come first in the concatenation
  Conv2D pool_conv;           // 1x1 over the [1, 1, C] average of M (its input quantization is the average's)
  std::vector<QuantParams> pool_requantize;  // QUANTIZE ops after the broadcast, in order
  Conv2D map_conv;            // 1x1 over M
  QuantParams concat;         // the concatenation's output (integer path)
  std::vector<Conv2D> convs;  // the last one's output channels are the classes
  ResizeMode upsample;        // of the resize to the input size
  int classes() const { return convs.empty() ? 0 : convs.back().g.out_c; }
  // The logits' map (the last conv's output geometry).
  const ConvGeometry& logits_geometry() const { return convs.back().g; }
};

struct Network {
  Task task = Task::kClassification;
  InputSpec input;
  Conv2D stem;
  std::vector<InvertedResidual> blocks;
  bool has_head = true;  // MobileNetV2's last 1x1 convolution; MobileNetV1 pools its last block
  Conv2D head;           // (1280 channels at alpha <= 1)
  // Global average pooling over the head's output (the last block's without a head), then the hidden dense layers of heads such as
  // Keras' Dense(256, relu) -> Dense(128, relu) -> Dense(5) (usually none), then:
  std::vector<Classifier> hidden;
  // L2_NORMALIZATION of the pooled features first (kernels::L2Normalize), as in an exported head.
  bool normalize_features = false;
  Classifier classifier;  // (none in a segmentation network)
  SegmentationHead segmentation;  // Task::kSegmentation: instead of the head, pooling and classifier
  bool softmax = true;
  float softmax_beta = 1.0f;
  QuantizedGraph quant;

  // Facts about the file, for model.info and the CLI.
  std::string weight_type;  // "float32", "float16", "uint8", "int8"
  bool quantized = false;   // weights stored as integers
  std::vector<std::string> labels;  // the file's own (Graph::labels), one per class; or none
  // MobileNetV2 expands; MobileNetV1 never does.
  Family family() const {
    for (const InvertedResidual& b : blocks) {
      if (b.has_expand) return Family::kMobileNetV2;
    }
    return Family::kMobileNetV1;
  }
  // The width multiplier, from the last block's channels: 320 * alpha in MobileNetV2 (rounded to
  // a multiple of 8, they give 0.35, 0.5, 0.75, 1.0, 1.3, 1.4 exactly, which the stem's 32 * alpha
  // does not), 1024 * alpha in MobileNetV1.
  float alpha() const {
    const float full = family() == Family::kMobileNetV1 ? 1024.0f : 320.0f;
    const int c = blocks.empty() ? stem.g.out_c * 10 : blocks.back().project.g.out_c;
    return std::round(static_cast<float>(c) / full * 100.0f) / 100.0f;
  }
  int num_classes() const { return task == Task::kSegmentation ? segmentation.classes() : classifier.classes; }
  // The pooled map: the head's output, or the last block's.
  const ConvGeometry& pooled_geometry() const { return has_head || blocks.empty() ? head.g : blocks.back().project.g; }
  int feature_size() const { return pooled_geometry().out_c; }
  // Multiply-adds of one inference, and the weights and biases.
  int64_t MultiplyAdds() const;
  int64_t Parameters() const;
};

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_NETWORK_H_
