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
  // Runs of elements that share a channel: `inner` long in conv and dense layouts, one long
  // in depthwise ones (the channel then cycles), the whole range with one scale.
  const size_t channels = q.weight_scales.size();
  const size_t inner = q.weights.size() / channels;
  size_t c = 0, run = end - begin;
  if (channels > 1 && channels_last) {
    c = begin % channels;
    run = 1;
  } else if (channels > 1) {
    c = begin / inner;
    run = inner - begin % inner;
  }
  auto convert = [&](auto load) {
    for (size_t i = begin; i < end; c = c + 1 == channels ? 0 : c + 1) {
      const size_t n = std::min(run, end - i);
      const float scale = q.weight_scales[c], zero = static_cast<float>(q.weight_zero_points[c]);
      for (size_t j = 0; j < n; ++j) *out++ = Dequantize(static_cast<float>(load(q.weights[i + j])), scale, zero);
      i += n;
      run = channels_last ? 1 : inner;
    }
  };
  if (q.weights_signed) {
    convert([](uint8_t v) { return static_cast<int8_t>(v); });
  } else {
    convert([](uint8_t v) { return v; });
  }
}

namespace {
int64_t ConvMacs(const ConvGeometry& g, bool depthwise) {
  const int64_t per_output = static_cast<int64_t>(g.kernel_h) * g.kernel_w * (depthwise ? 1 : g.in_c);
  return static_cast<int64_t>(g.out_h) * g.out_w * g.out_c * per_output;
}
}  // namespace

int64_t Network::MultiplyAdds() const {
  int64_t macs = ConvMacs(stem.g, false) + ConvMacs(head.g, false);
  for (const InvertedResidual& b : blocks) {
    if (b.has_expand) macs += ConvMacs(b.expand.g, false);
    macs += ConvMacs(b.depthwise.g, true) + ConvMacs(b.project.g, false);
  }
  for (const Classifier& d : hidden) macs += static_cast<int64_t>(d.features) * d.classes;
  return macs + static_cast<int64_t>(classifier.features) * classifier.classes;
}

}  // namespace model
}  // namespace mnv2
