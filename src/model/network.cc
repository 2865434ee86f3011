#include "model/network.h"

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
