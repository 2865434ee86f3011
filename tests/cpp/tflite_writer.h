// Writes TFLite flatbuffers for tests: synthetic MobileNetV2 and MobileNetV1 models of any
// width, resolution, class count and weight type, and hand-made broken ones.
#ifndef MNV2_TESTS_TFLITE_WRITER_H_
#define MNV2_TESTS_TFLITE_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/tflite_writer.h"

namespace mnv2 {
namespace testing {

// The writer itself lives in src/model (ExportTflite writes with it); tests edit its GraphDefs.
using model::GraphDef;
using model::OpDef;
using model::TensorDef;
using model::WriteTflite;

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
  // DeepLabv3 on the MobileNetV2 backbone instead of a classifier (the MobileNetV2 paper's
  // section 6.3; the layout of deeplabv3_mnv2_pascal_quant.tflite): output stride 16 (the
  // 160-channel stage at stride 1, its later blocks and the last one dilated by 2), no 1x1 head;
  // then [AVERAGE_POOL_2D -> CONV_2D 1x1 -> RESIZE_BILINEAR to the map -> QUANTIZE] and a 1x1
  // CONV_2D of the map, CONCATENATION, CONV_2D 1x1, CONV_2D 1x1 to `classes` logits,
  // RESIZE_BILINEAR to the input size and ARG_MAX (int64). For a 8-bit type only.
  bool segmentation = false;
  bool image_pooling = true;  // (segmentation) the pooled branch and the concatenation
  int aspp_channels = 256;    // (segmentation) the branches' and the projection's channels
  bool align_corners = true, half_pixel_centers = false;  // (segmentation) the resizes' mode
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

// The graph SyntheticMobileNetV2 writes, for tests that edit it before writing.
GraphDef SyntheticMobileNetV2Graph(const SyntheticSpec& spec);

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_TFLITE_WRITER_H_
