// Elementwise add, global average pooling and softmax. See kernels.h.
// Tails (n not a multiple of the vector width) use LoadPartial/StorePartial,
// which never touch memory past the end.

// Target-independent includes.
#include <stddef.h>

#include <limits>

#include "kernels/kernels.h"

#if defined(MNV2_KERNELS_ELEMENTWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_ELEMENTWISE_INL_H_
#undef MNV2_KERNELS_ELEMENTWISE_INL_H_
#else
#define MNV2_KERNELS_ELEMENTWISE_INL_H_
#endif

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[i] = clamp(a[i] + b[i]); out may alias a and/or b (element i is read
// before it is written, and no vector is processed twice).
HWY_NOINLINE void Add(const float* a, const float* b, size_t n, float* out, float out_min,
                      float out_max) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto lo = hn::Set(d, out_min);
  const auto hi = hn::Set(d, out_max);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::Clamp(hn::Add(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), lo, hi), d, out + i);
  }
  if (i < n) {
    const size_t rem = n - i;
    const auto sum = hn::Add(LoadPartial(d, a + i, rem), LoadPartial(d, b + i, rem));
    StorePartial(d, hn::Clamp(sum, lo, hi), out + i, rem);
  }
}

// Sums channels [c, c + Lanes(d)) over all pixels (C floats apart).
template <class D>
HWY_INLINE hn::Vec<D> GapSum(D d, const float* HWY_RESTRICT in, size_t pixels, size_t C, size_t c) {
  // Two accumulators for independent add chains.
  auto acc0 = hn::Zero(d);
  auto acc1 = hn::Zero(d);
  size_t p = 0;
  for (; p + 2 <= pixels; p += 2) {
    acc0 = hn::Add(acc0, hn::LoadU(d, in + p * C + c));
    acc1 = hn::Add(acc1, hn::LoadU(d, in + (p + 1) * C + c));
  }
  if (p < pixels) acc0 = hn::Add(acc0, hn::LoadU(d, in + p * C + c));
  return hn::Add(acc0, acc1);
}

// out[c] = mean over pixels of in[p][c]. out must not overlap in.
HWY_NOINLINE void GlobalAveragePool(const float* HWY_RESTRICT in, size_t pixels, int channels,
                                    float* HWY_RESTRICT out) {
  if (channels <= 0) return;
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t C = static_cast<size_t>(channels);
  const auto scale = hn::Set(d, pixels == 0 ? 0.0f : 1.0f / static_cast<float>(pixels));
  size_t c = 0;
  for (; c + N <= C; c += N) {
    hn::StoreU(hn::Mul(GapSum(d, in, pixels, C, c), scale), d, out + c);
  }
  if (c == C) return;
  if (C >= N) {
    // Overlapping last vector: recomputes identical values.
    c = C - N;
    hn::StoreU(hn::Mul(GapSum(d, in, pixels, C, c), scale), d, out + c);
    return;
  }
  // Fewer channels than lanes.
  auto acc = hn::Zero(d);
  for (size_t p = 0; p < pixels; ++p) acc = hn::Add(acc, LoadPartial(d, in + p * C, C));
  StorePartial(d, hn::Mul(acc, scale), out, C);
}

// out = softmax(beta * in); out may alias in.
HWY_NOINLINE void Softmax(const float* in, int n, float beta, float* out) {
  if (n <= 0) return;
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t count = static_cast<size_t>(n);
  const size_t full = count - count % N;
  const size_t rem = count - full;
  const auto vbeta = hn::Set(d, beta);
  const auto tail_mask = hn::FirstN(d, rem);

  // 1) max of beta * x (so that every exponent is <= 0).
  auto vmax = hn::Set(d, -std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < full; i += N) {
    vmax = hn::Max(vmax, hn::Mul(hn::LoadU(d, in + i), vbeta));
  }
  if (rem != 0) {
    const auto y = hn::Mul(LoadPartial(d, in + full, rem), vbeta);
    vmax = hn::IfThenElse(tail_mask, hn::Max(vmax, y), vmax);
  }
  const auto vm = hn::MaxOfLanes(d, vmax);

  // 2) e = exp(beta * x - max), stored to out, and their sum.
  auto vsum = hn::Zero(d);
  for (size_t i = 0; i < full; i += N) {
    const auto e = hn::Exp(d, hn::Sub(hn::Mul(hn::LoadU(d, in + i), vbeta), vm));
    vsum = hn::Add(vsum, e);
    hn::StoreU(e, d, out + i);
  }
  if (rem != 0) {
    const auto x = LoadPartial(d, in + full, rem);
    const auto e = hn::IfThenElseZero(tail_mask, hn::Exp(d, hn::Sub(hn::Mul(x, vbeta), vm)));
    vsum = hn::Add(vsum, e);
    StorePartial(d, e, out + full, rem);
  }

  // 3) normalize.
  const auto scale = hn::Div(hn::Set(d, 1.0f), hn::SumOfLanes(d, vsum));
  for (size_t i = 0; i < full; i += N) {
    hn::StoreU(hn::Mul(hn::LoadU(d, out + i), scale), d, out + i);
  }
  if (rem != 0) {
    StorePartial(d, hn::Mul(LoadPartial(d, out + full, rem), scale), out + full, rem);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_ELEMENTWISE_INL_H_
