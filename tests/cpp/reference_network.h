// A network computed layer by layer, whole tensors, with the scalar reference kernels and
// unpacked weights: what the engines' fused, banded, threaded plans must reproduce. Float32
// (kernels/reference.h, accumulating in double) and 8-bit (kernels/qreference.h, with the
// quantization parameters derived here from TFLite's formulas, independently of the engine).
#ifndef MNV2_TESTS_REFERENCE_NETWORK_H_
#define MNV2_TESTS_REFERENCE_NETWORK_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/qreference.h"
#include "kernels/quantized_kernels.h"
#include "kernels/reference.h"
#include "kernels/upsample.h"
#include "model/network.h"

namespace mnv2 {
namespace testing {

// ---------------------------------------------------------------------------
// Float32.

inline std::vector<float> RefConv(const model::Conv2D& c, const std::vector<float>& in) {
  const model::ConvGeometry& g = c.g;
  std::vector<float> out(static_cast<size_t>(g.out_h) * g.out_w * g.out_c);
  float lo, hi;
  model::ActivationRange(c.activation, &lo, &hi);
  const kernels::ConvShape s{g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w,
                             g.stride, g.pad_top, g.pad_left};
  kernels::reference::Conv(s, in.data(), c.weights.data(), c.bias.data(), out.data(), lo, hi);
  return out;
}

inline kernels::DepthwiseShape RefDepthwiseShape(const model::ConvGeometry& g) {
  return {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.stride, g.pad_top, g.pad_left, g.dilation};
}

// The stem and the blocks: the last block's output.
inline std::vector<float> ReferenceBackbone(const model::Network& net, const std::vector<float>& input) {
  std::vector<float> x = RefConv(net.stem, input);
  for (const model::InvertedResidual& b : net.blocks) {
    std::vector<float> e = b.has_expand ? RefConv(b.expand, x) : x;
    const model::ConvGeometry& g = b.depthwise.g;
    std::vector<float> d(static_cast<size_t>(g.out_h) * g.out_w * g.out_c);
    float lo, hi;
    model::ActivationRange(b.depthwise.activation, &lo, &hi);
    kernels::reference::DepthwiseConv3x3(RefDepthwiseShape(g), e.data(), b.depthwise.weights.data(),
                                         b.depthwise.bias.data(), d.data(), lo, hi);
    std::vector<float> y = RefConv(b.project, d);
    if (b.residual) kernels::reference::Add(y.data(), x.data(), y.size(), y.data(), -INFINITY, INFINITY);
    x = std::move(y);
  }
  return x;
}

// A segmentation network's logits [h][w][classes] (its SegmentationHead on the backbone's map).
inline std::vector<float> ReferenceSegmentationLogits(const model::Network& net, const std::vector<float>& input) {
  const model::SegmentationHead& s = net.segmentation;
  std::vector<float> x = ReferenceBackbone(net, input);
  if (s.image_pooling) {
    const model::ConvGeometry& map = net.blocks.back().project.g;
    const size_t pixels = static_cast<size_t>(map.out_h) * map.out_w;
    std::vector<float> pooled(map.out_c);
    kernels::reference::GlobalAveragePool(x.data(), pixels, map.out_c, pooled.data());
    const std::vector<float> branch = RefConv(s.pool_conv, pooled);
    const std::vector<float> aspp = RefConv(s.map_conv, x);
    const size_t P = branch.size(), Q = aspp.size() / pixels;
    std::vector<float> concat;
    for (size_t i = 0; i < pixels; ++i) {
      const float* first = s.pooling_first ? branch.data() : &aspp[i * Q];
      const float* second = s.pooling_first ? &aspp[i * Q] : branch.data();
      concat.insert(concat.end(), first, first + (s.pooling_first ? P : Q));
      concat.insert(concat.end(), second, second + (s.pooling_first ? Q : P));
    }
    x = std::move(concat);
  }
  for (const model::Conv2D& c : s.convs) x = RefConv(c, x);
  return x;
}

// ---------------------------------------------------------------------------
// 8-bit, on the uint8 carrier (an int8 tensor as value + 128).

inline int32_t Carrier(const model::QuantParams& q) { return q.zero_point + (q.is_signed ? 128 : 0); }

inline kernels::QOutput Stage(const model::QuantParams& q, model::Activation a) {
  float lo, hi;
  model::ActivationRange(a, &lo, &hi);
  return kernels::QuantizedActivationRange(q.scale, Carrier(q), lo, hi);
}

struct RefLayer {
  std::vector<int16_t> weights;
  std::vector<kernels::QuantizedMultiplier> mult;
};

inline RefLayer Unpack(const model::LayerQuantization& q, int channels, bool depthwise, bool fully_connected) {
  RefLayer r;
  const size_t per_channel = q.weights.size() / channels;
  for (size_t i = 0; i < q.weights.size(); ++i) {
    const int c = static_cast<int>(depthwise ? i % channels : i / per_channel);
    const int32_t v = q.weights_signed ? static_cast<int8_t>(q.weights[i]) : q.weights[i];
    r.weights.push_back(static_cast<int16_t>(v - q.weight_zero_points[q.weight_zero_points.size() > 1 ? c : 0]));
  }
  for (int c = 0; c < channels; ++c) {
    const float ws = q.weight_scales[q.weight_scales.size() > 1 ? c : 0];
    // uint8 (and per-tensor FC): float product of scales; int8 convolutions: double products.
    const bool legacy = !q.input.is_signed || (fully_connected && q.weight_scales.size() == 1);
    const double real = legacy ? static_cast<double>(q.input.scale * ws) / q.output.scale
                               : static_cast<double>(q.input.scale) * ws / q.output.scale;
    r.mult.push_back(kernels::QuantizeMultiplier(real));
  }
  return r;
}

inline std::vector<uint8_t> QRefConv(const model::Conv2D& c, const std::vector<uint8_t>& in) {
  const model::ConvGeometry& g = c.g;
  const RefLayer r = Unpack(c.q, g.out_c, false, false);
  std::vector<uint8_t> out(static_cast<size_t>(g.out_h) * g.out_w * g.out_c);
  const kernels::ConvShape s{g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w,
                             g.stride, g.pad_top, g.pad_left};
  kernels::qreference::Conv(s, in.data(), Carrier(c.q.input), r.weights.data(), c.q.bias.data(), r.mult.data(),
                            Stage(c.q.output, c.activation), out.data());
  return out;
}

inline std::vector<uint8_t> RequantizeAll(std::vector<uint8_t> x, model::QuantParams from,
                                          const std::vector<model::QuantParams>& to) {
  for (const model::QuantParams& q : to) {
    const kernels::QRequantParams p = kernels::PrepareQRequant(from.scale, Carrier(from), q.scale, Carrier(q));
    kernels::qreference::Requantize(x.data(), x.size(), p, x.data());
    from = q;
  }
  return x;
}

// The input's QUANTIZE ops, the stem and the blocks: the last block's output.
inline std::vector<uint8_t> QReferenceBackbone(const model::Network& net, const std::vector<uint8_t>& input) {
  std::vector<uint8_t> x = RequantizeAll(input, net.quant.input, net.quant.input_requantize);
  x = QRefConv(net.stem, x);
  for (const model::InvertedResidual& b : net.blocks) {
    std::vector<uint8_t> e = b.has_expand ? QRefConv(b.expand, x) : x;
    const model::ConvGeometry& g = b.depthwise.g;
    const RefLayer r = Unpack(b.depthwise.q, g.in_c, true, false);
    std::vector<uint8_t> d(static_cast<size_t>(g.out_h) * g.out_w * g.out_c);
    kernels::qreference::DepthwiseConv3x3(RefDepthwiseShape(g), e.data(), Carrier(b.depthwise.q.input),
                                          r.weights.data(), b.depthwise.q.bias.data(), r.mult.data(),
                                          Stage(b.depthwise.q.output, b.depthwise.activation), d.data());
    std::vector<uint8_t> y = QRefConv(b.project, d);
    if (b.residual) {
      const model::QuantParams& p = b.project.q.output;
      const model::QuantParams& in = b.has_expand ? b.expand.q.input : b.depthwise.q.input;
      const kernels::QAddParams add = kernels::PrepareQAdd(p.scale, Carrier(p), in.scale, Carrier(in),
                                                           b.add_output.scale,
                                                           Stage(b.add_output, model::Activation::kNone));
      kernels::qreference::Add(y.data(), x.data(), y.size(), add, y.data());
    }
    x = std::move(y);
  }
  return x;
}

// A segmentation network's logits [h][w][classes] (the carrier bytes).
inline std::vector<uint8_t> QReferenceSegmentationLogits(const model::Network& net, const std::vector<uint8_t>& input) {
  const model::SegmentationHead& s = net.segmentation;
  std::vector<uint8_t> x = QReferenceBackbone(net, input);
  if (s.image_pooling) {
    const model::ConvGeometry& map = net.blocks.back().project.g;
    const size_t pixels = static_cast<size_t>(map.out_h) * map.out_w;
    std::vector<uint8_t> pooled(map.out_c);
    const bool is_signed = net.blocks.back().project.q.output.is_signed;
    kernels::qreference::GlobalAveragePool(x.data(), pixels, map.out_c,
                                           kernels::PrepareQAveragePool(is_signed, kernels::QOutput()), pooled.data());
    std::vector<model::QuantParams> to = s.pool_requantize;
    to.push_back(s.concat);
    const std::vector<uint8_t> branch = RequantizeAll(QRefConv(s.pool_conv, pooled), s.pool_conv.q.output, to);
    const std::vector<uint8_t> aspp = RequantizeAll(QRefConv(s.map_conv, x), s.map_conv.q.output, {s.concat});
    const size_t P = branch.size(), Q = aspp.size() / pixels;
    std::vector<uint8_t> concat;
    for (size_t i = 0; i < pixels; ++i) {
      const uint8_t* first = s.pooling_first ? branch.data() : &aspp[i * Q];
      const uint8_t* second = s.pooling_first ? &aspp[i * Q] : branch.data();
      concat.insert(concat.end(), first, first + (s.pooling_first ? P : Q));
      concat.insert(concat.end(), second, second + (s.pooling_first ? Q : P));
    }
    x = std::move(concat);
  }
  for (const model::Conv2D& c : s.convs) x = QRefConv(c, x);
  return x;
}

// A segmentation network's class per pixel at the input size, as its graph computes it (the
// logits resized as ResizeBilinearInteger does, then ARG_MAX).
inline std::vector<uint8_t> QReferenceSegmentation(const model::Network& net, const std::vector<uint8_t>& input) {
  const model::SegmentationHead& s = net.segmentation;
  const std::vector<uint8_t> x = QReferenceSegmentationLogits(net, input);
  const model::ConvGeometry& logits = s.logits_geometry();
  const int H = net.input.height, W = net.input.width;
  std::vector<kernels::ResizeTap> ys(H), xs(W);
  kernels::ResizeTaps(logits.out_h, H, s.upsample.align_corners, s.upsample.half_pixel_centers, ys.data());
  kernels::ResizeTaps(logits.out_w, W, s.upsample.align_corners, s.upsample.half_pixel_centers, xs.data());
  std::vector<uint8_t> mask(static_cast<size_t>(H) * W);
  kernels::QUpsampleArgmaxReference(x.data(), logits.out_h, logits.out_w, logits.out_c, ys.data(), xs.data(), H, W,
                                    mask.data());
  return mask;
}

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_REFERENCE_NETWORK_H_
