#include "engine/pointwise.h"

#include <algorithm>

#include "kernels/kernels.h"

namespace mnv2 {
namespace engine {

// Packed one panel of output channels at a time (PackGemmWeights on n <= kGemmPanel packs
// exactly that panel), so that weights made from integers need only a panel's buffer.
PointwisePlan PlanPointwise(const model::ConvGeometry& g, model::Activation act, const LayerWeights& weights,
                            const std::vector<float>& bias) {
  PointwisePlan p;
  p.g = g;
  model::ActivationRange(act, &p.out_min, &p.out_max);
  p.packed.resize(kernels::PackedGemmWeightsFloats(g.in_c, g.out_c));
  const size_t k = static_cast<size_t>(g.in_c), panel_floats = kernels::PackedGemmWeightsFloats(g.in_c, 1);
  std::vector<float> buffer;
  for (int o = 0; o < g.out_c; o += kernels::kGemmPanel) {
    const int n = std::min(kernels::kGemmPanel, g.out_c - o);
    const size_t begin = static_cast<size_t>(o) * k;
    kernels::PackGemmWeights(weights.Range(begin, begin + static_cast<size_t>(n) * k, &buffer), bias.data() + o,
                             g.in_c, n, p.packed.data() + static_cast<size_t>(o / kernels::kGemmPanel) * panel_floats);
  }
  return p;
}

PointwisePlan PlanDense(const model::Classifier& d) {
  model::ConvGeometry g;
  g.in_h = g.in_w = g.out_h = g.out_w = 1;
  g.in_c = d.features;
  g.out_c = d.classes;
  return PlanPointwise(g, d.activation, WeightsOf(d), d.bias);
}

}  // namespace engine
}  // namespace mnv2
