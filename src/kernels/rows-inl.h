// Dot products of one vector with many rows, and the rank-1 update back into them: what
// nearest-neighbour search and a dense softmax head's forward and backward passes do. See
// kernels.h. Four rows share each load of the vector.

// Target-independent includes.
#include <stddef.h>

#include "kernels/kernels.h"

#if defined(MNV2_KERNELS_ROWS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_ROWS_INL_H_
#undef MNV2_KERNELS_ROWS_INL_H_
#else
#define MNV2_KERNELS_ROWS_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[r] = sum_i x[i] * rows[r * stride + i] for r < count.
HWY_NOINLINE void DotRows(const float* HWY_RESTRICT x, const float* HWY_RESTRICT rows, size_t n, size_t count,
                          size_t stride, float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t full = n - n % N;
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const float* r0 = rows + r * stride;
    const float* r1 = r0 + stride;
    const float* r2 = r1 + stride;
    const float* r3 = r2 + stride;
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    for (size_t i = 0; i < full; i += N) {
      const auto v = hn::LoadU(d, x + i);
      a0 = hn::MulAdd(v, hn::LoadU(d, r0 + i), a0);
      a1 = hn::MulAdd(v, hn::LoadU(d, r1 + i), a1);
      a2 = hn::MulAdd(v, hn::LoadU(d, r2 + i), a2);
      a3 = hn::MulAdd(v, hn::LoadU(d, r3 + i), a3);
    }
    if (full < n) {
      const size_t rem = n - full;
      const auto v = LoadPartial(d, x + full, rem);
      a0 = hn::MulAdd(v, LoadPartial(d, r0 + full, rem), a0);
      a1 = hn::MulAdd(v, LoadPartial(d, r1 + full, rem), a1);
      a2 = hn::MulAdd(v, LoadPartial(d, r2 + full, rem), a2);
      a3 = hn::MulAdd(v, LoadPartial(d, r3 + full, rem), a3);
    }
    out[r] = hn::GetLane(hn::SumOfLanes(d, a0));
    out[r + 1] = hn::GetLane(hn::SumOfLanes(d, a1));
    out[r + 2] = hn::GetLane(hn::SumOfLanes(d, a2));
    out[r + 3] = hn::GetLane(hn::SumOfLanes(d, a3));
  }
  for (; r < count; ++r) {
    const float* row = rows + r * stride;
    auto a = hn::Zero(d);
    for (size_t i = 0; i < full; i += N) a = hn::MulAdd(hn::LoadU(d, x + i), hn::LoadU(d, row + i), a);
    if (full < n) a = hn::MulAdd(LoadPartial(d, x + full, n - full), LoadPartial(d, row + full, n - full), a);
    out[r] = hn::GetLane(hn::SumOfLanes(d, a));
  }
}

// rows[r * stride + i] += coeffs[r] * x[i] for r < count (rows with a zero coefficient are skipped).
HWY_NOINLINE void MulAddRows(const float* HWY_RESTRICT coeffs, const float* HWY_RESTRICT x, size_t n, size_t count,
                             size_t stride, float* HWY_RESTRICT rows) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t full = n - n % N;
  for (size_t r = 0; r < count; ++r) {
    if (coeffs[r] == 0.0f) continue;
    float* row = rows + r * stride;
    const auto c = hn::Set(d, coeffs[r]);
    for (size_t i = 0; i < full; i += N) {
      hn::StoreU(hn::MulAdd(c, hn::LoadU(d, x + i), hn::LoadU(d, row + i)), d, row + i);
    }
    if (full < n) {
      const size_t rem = n - full;
      StorePartial(d, hn::MulAdd(c, LoadPartial(d, x + full, rem), LoadPartial(d, row + full, rem)), row + full, rem);
    }
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_ROWS_INL_H_
