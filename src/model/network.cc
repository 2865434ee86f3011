#include "model/network.h"

#include <algorithm>
#include <limits>

namespace mnv2 {
namespace model {

const char* ActivationName(Activation a) {
  switch (a) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kRelu6: return "relu6";
  }
  return "?";
}

void ActivationRange(Activation a, float* lo, float* hi) {
  *lo = a == Activation::kNone ? -std::numeric_limits<float>::infinity() : 0.0f;
  *hi = a == Activation::kRelu6 ? 6.0f : std::numeric_limits<float>::infinity();
}

bool HasIntegerWeights(const LayerQuantization& q, size_t count) {
  const size_t channels = q.weight_scales.size();
  return q.weights.size() == count && channels > 0 && q.weight_zero_points.size() == channels &&
         count % channels == 0;
}

void DequantizeWeights(const LayerQuantization& q, bool channels_last, size_t begin, size_t end, float* out) {
  ForEachChannelRun(q, channels_last, begin, end, [&](size_t c, size_t i, size_t n) {
    const float scale = q.weight_scales[c], zero = static_cast<float>(q.weight_zero_points[c]);
    for (size_t j = i; j < i + n; ++j) *out++ = Dequantize(static_cast<float>(StoredWeight(q, j)), scale, zero);
  });
}

void PaddedAxis(bool same, int in, int kernel, int stride, int* out, int* pad_before) {
  if (same) {
    *out = (in + stride - 1) / stride;
    *pad_before = std::max((*out - 1) * stride + kernel - in, 0) / 2;
  } else {
    *out = in >= kernel ? (in - kernel) / stride + 1 : 0;
    *pad_before = 0;
  }
}

namespace {
int64_t ConvMacs(const ConvGeometry& g, bool depthwise) {
  const int64_t per_output = static_cast<int64_t>(g.kernel_h) * g.kernel_w * (depthwise ? 1 : g.in_c);
  return static_cast<int64_t>(g.out_h) * g.out_w * g.out_c * per_output;
}

int64_t ConvParameters(const ConvGeometry& g, bool depthwise) {
  return static_cast<int64_t>(g.kernel_h) * g.kernel_w * g.out_c * (depthwise ? 1 : g.in_c) + g.out_c;
}
}  // namespace

const char* FamilyName(Family f) { return f == Family::kMobileNetV1 ? "mobilenet_v1" : "mobilenet_v2"; }

const char* TaskName(Task t) { return t == Task::kSegmentation ? "segmentation" : "classification"; }

namespace {
// The segmentation head's convolutions.
template <class Fn>
void ForEachHeadConv(const SegmentationHead& s, Fn&& fn) {
  if (s.image_pooling) {
    fn(s.pool_conv);
    fn(s.map_conv);
  }
  for (const Conv2D& c : s.convs) fn(c);
}
}  // namespace

int64_t Network::MultiplyAdds() const {
  int64_t macs = ConvMacs(stem.g, false) + (has_head ? ConvMacs(head.g, false) : 0);
  for (const InvertedResidual& b : blocks) {
    if (b.has_expand) macs += ConvMacs(b.expand.g, false);
    macs += ConvMacs(b.depthwise.g, true) + ConvMacs(b.project.g, false);
  }
  for (const Classifier& d : hidden) macs += static_cast<int64_t>(d.features) * d.classes;
  ForEachHeadConv(segmentation, [&](const Conv2D& c) { macs += ConvMacs(c.g, false); });
  return macs + static_cast<int64_t>(classifier.features) * classifier.classes;
}

int64_t Network::Parameters() const {
  int64_t n = ConvParameters(stem.g, false) + (has_head ? ConvParameters(head.g, false) : 0);
  for (const InvertedResidual& b : blocks) {
    if (b.has_expand) n += ConvParameters(b.expand.g, false);
    n += ConvParameters(b.depthwise.g, true) + ConvParameters(b.project.g, false);
  }
  for (const Classifier& d : hidden) n += (static_cast<int64_t>(d.features) + 1) * d.classes;
  ForEachHeadConv(segmentation, [&](const Conv2D& c) { n += ConvParameters(c.g, false); });
  return n + (static_cast<int64_t>(classifier.features) + 1) * classifier.classes;
}

}  // namespace model
}  // namespace mnv2
