// Target-independent weight packing for Gemm and ConvDirect (see kernels.h).

#include <stddef.h>

#include <algorithm>

#include "kernels/kernels.h"

namespace mnv2 {
namespace kernels {
namespace {

size_t RoundUpToPanel(int n) {
  const size_t nn = n > 0 ? static_cast<size_t>(n) : 0;
  return (nn + kGemmPanel - 1) / kGemmPanel * kGemmPanel;
}

}  // namespace

size_t PackedGemmWeightsFloats(int k, int n) {
  const size_t kk = k > 0 ? static_cast<size_t>(k) : 0;
  return RoundUpToPanel(n) * (kk + 1);
}

void PackGemmWeights(const float* weights, const float* bias, int k, int n, float* packed) {
  const size_t kk = k > 0 ? static_cast<size_t>(k) : 0;
  const size_t nn = n > 0 ? static_cast<size_t>(n) : 0;
  // Only the padding of a last partial panel, or a missing bias, is not written below.
  if (bias == nullptr || nn % kGemmPanel != 0) std::fill(packed, packed + PackedGemmWeightsFloats(k, n), 0.0f);
  const size_t panel_floats = kGemmPanel * (kk + 1);
  for (size_t o = 0; o < nn; ++o) {
    float* panel = packed + (o / kGemmPanel) * panel_floats;
    const size_t j = o % kGemmPanel;
    if (bias != nullptr) panel[j] = bias[o];
    for (size_t i = 0; i < kk; ++i) {
      panel[kGemmPanel * (i + 1) + j] = weights[o * kk + i];
    }
  }
}

size_t PackedConvWeightsFloats(const ConvShape& s) {
  const size_t ocp = RoundUpToPanel(s.out_c);
  const size_t taps = static_cast<size_t>(std::max(s.kernel_h, 0)) *
                      static_cast<size_t>(std::max(s.kernel_w, 0)) *
                      static_cast<size_t>(std::max(s.in_c, 0));
  return ocp * (taps + 1);
}

void PackConvWeights(const ConvShape& s, const float* weights, const float* bias, float* packed) {
  const size_t ocp = RoundUpToPanel(s.out_c);
  std::fill(packed, packed + PackedConvWeightsFloats(s), 0.0f);
  if (s.out_c <= 0) return;
  const size_t out_c = static_cast<size_t>(s.out_c);
  const size_t taps = PackedConvWeightsFloats(s) / ocp - 1;  // kh * kw * in_c
  if (bias != nullptr) std::copy(bias, bias + out_c, packed);
  float* w = packed + ocp;
  // OHWI: weights[o][ky][kx][ic] = weights[o * taps + t], t = (ky * kw + kx) * in_c + ic.
  for (size_t o = 0; o < out_c; ++o) {
    for (size_t t = 0; t < taps; ++t) w[t * ocp + o] = weights[o * taps + t];
  }
}

}  // namespace kernels
}  // namespace mnv2
