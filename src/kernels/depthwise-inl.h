// Depthwise 3x3 convolution (depth multiplier 1), NHWC, vectorized over
// channels. See kernels.h.
//
// Per output row: pixels whose 3x3 window lies inside the input take a fast
// path without bounds checks (DwInterior); the others (borders, rows touching
// the top/bottom padding) gather only their valid taps (DwBorder).
//
// Channel tails: when channels >= Lanes(d), the last vector is re-based to
// [channels - Lanes(d), channels) and overlaps the previous one (it recomputes
// identical values), so nothing is read or written out of bounds and no masks
// are needed. Channel counts below the full vector width use a narrower tag
// (4 lanes, or 1 lane below 4 channels).

// Target-independent includes.
#include <stddef.h>

#include "kernels/kernels.h"

#if defined(MNV2_KERNELS_DEPTHWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_DEPTHWISE_INL_H_
#undef MNV2_KERNELS_DEPTHWISE_INL_H_
#else
#define MNV2_KERNELS_DEPTHWISE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One vector of channels [c, c + Lanes(d)) of one interior output pixel.
// r0/r1/r2: the three input rows at the window's left column, channel 0.
template <class D>
HWY_INLINE void DwInteriorVec(D d, size_t c, size_t channels, const float* HWY_RESTRICT r0,
                              const float* HWY_RESTRICT r1, const float* HWY_RESTRICT r2,
                              const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                              float* HWY_RESTRICT out, hn::Vec<D> lo, hn::Vec<D> hi) {
  const size_t C = channels;
  // Two accumulators halve the dependency chain.
  auto acc0 = hn::LoadU(d, bias + c);
  auto acc1 = hn::Mul(hn::LoadU(d, r1 + c), hn::LoadU(d, w + 3 * C + c));
  acc0 = hn::MulAdd(hn::LoadU(d, r0 + c), hn::LoadU(d, w + c), acc0);
  acc1 = hn::MulAdd(hn::LoadU(d, r1 + C + c), hn::LoadU(d, w + 4 * C + c), acc1);
  acc0 = hn::MulAdd(hn::LoadU(d, r0 + C + c), hn::LoadU(d, w + C + c), acc0);
  acc1 = hn::MulAdd(hn::LoadU(d, r1 + 2 * C + c), hn::LoadU(d, w + 5 * C + c), acc1);
  acc0 = hn::MulAdd(hn::LoadU(d, r0 + 2 * C + c), hn::LoadU(d, w + 2 * C + c), acc0);
  acc1 = hn::MulAdd(hn::LoadU(d, r2 + c), hn::LoadU(d, w + 6 * C + c), acc1);
  acc0 = hn::MulAdd(hn::LoadU(d, r2 + C + c), hn::LoadU(d, w + 7 * C + c), acc0);
  acc1 = hn::MulAdd(hn::LoadU(d, r2 + 2 * C + c), hn::LoadU(d, w + 8 * C + c), acc1);
  hn::StoreU(hn::Clamp(hn::Add(acc0, acc1), lo, hi), d, out + c);
}

// `count` consecutive interior output pixels of one row. in0 points at the
// top-left input tap (channel 0) of the first pixel; successive pixels are
// pixel_step floats apart; input rows are row_stride floats apart.
// Requires channels >= Lanes(d).
template <class D>
HWY_NOINLINE void DwInterior(D d, const float* HWY_RESTRICT in0, size_t row_stride,
                             size_t pixel_step, size_t count, size_t channels,
                             const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                             float* HWY_RESTRICT out, float out_min, float out_max) {
  const size_t N = hn::Lanes(d);
  const auto lo = hn::Set(d, out_min);
  const auto hi = hn::Set(d, out_max);
  for (size_t p = 0; p < count; ++p, in0 += pixel_step, out += channels) {
    const float* HWY_RESTRICT r0 = in0;
    const float* HWY_RESTRICT r1 = r0 + row_stride;
    const float* HWY_RESTRICT r2 = r1 + row_stride;
    size_t c = 0;
    for (; c + N <= channels; c += N) {
      DwInteriorVec(d, c, channels, r0, r1, r2, w, bias, out, lo, hi);
    }
    if (c != channels) {
      DwInteriorVec(d, channels - N, channels, r0, r1, r2, w, bias, out, lo, hi);
    }
  }
}

// Output pixels [ox_begin, ox_end) of row oy with any subset of valid taps.
// Requires channels >= Lanes(d).
template <class D>
HWY_NOINLINE void DwBorder(D d, const DepthwiseShape& s, const float* HWY_RESTRICT in,
                           const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                           float* HWY_RESTRICT out_row, int oy, int ox_begin, int ox_end,
                           float out_min, float out_max) {
  const size_t N = hn::Lanes(d);
  const size_t C = static_cast<size_t>(s.channels);
  const auto lo = hn::Set(d, out_min);
  const auto hi = hn::Set(d, out_max);
  const int iy0 = oy * s.stride - s.pad_top;
  const int ky_begin = HWY_MAX(0, -iy0);
  const int ky_end = HWY_MIN(3, s.in_h - iy0);
  for (int ox = ox_begin; ox < ox_end; ++ox) {
    const int ix0 = ox * s.stride - s.pad_left;
    const int kx_begin = HWY_MAX(0, -ix0);
    const int kx_end = HWY_MIN(3, s.in_w - ix0);
    const float* tap_in[9];
    const float* tap_w[9];
    size_t taps = 0;
    for (int ky = ky_begin; ky < ky_end; ++ky) {
      for (int kx = kx_begin; kx < kx_end; ++kx) {
        tap_in[taps] = in + (static_cast<size_t>(iy0 + ky) * s.in_w + (ix0 + kx)) * C;
        tap_w[taps] = w + static_cast<size_t>(ky * 3 + kx) * C;
        ++taps;
      }
    }
    float* HWY_RESTRICT out = out_row + static_cast<size_t>(ox) * C;
    for (size_t c = 0;; c += N) {
      if (c + N > C) {
        if (c == C) break;
        c = C - N;  // overlapping last vector
      }
      auto acc = hn::LoadU(d, bias + c);
      for (size_t t = 0; t < taps; ++t) {
        acc = hn::MulAdd(hn::LoadU(d, tap_in[t] + c), hn::LoadU(d, tap_w[t] + c), acc);
      }
      hn::StoreU(hn::Clamp(acc, lo, hi), d, out + c);
      if (c + N == C) break;
    }
  }
}

// Smallest ox >= 0 with ox * stride >= pad (first column whose window starts
// inside the input), and one past the last ox whose window ends inside it.
static inline int DwFirstInterior(int pad, int stride) {
  return pad <= 0 ? 0 : (pad + stride - 1) / stride;
}
static inline int DwEndInterior(int in, int pad, int stride) {
  const int last_start = in - 3 + pad;  // ox * stride <= last_start
  return last_start < 0 ? 0 : last_start / stride + 1;
}

template <class D>
HWY_INLINE void DwRows(D d, const DepthwiseShape& s, const float* HWY_RESTRICT in,
                       const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                       float* HWY_RESTRICT out, int row_begin, int row_end, float out_min,
                       float out_max) {
  const size_t C = static_cast<size_t>(s.channels);
  const int ox_lo = HWY_MIN(DwFirstInterior(s.pad_left, s.stride), s.out_w);
  const int ox_hi = HWY_MIN(DwEndInterior(s.in_w, s.pad_left, s.stride), s.out_w);
  const size_t row_stride = static_cast<size_t>(s.in_w) * C;
  const size_t pixel_step = static_cast<size_t>(s.stride) * C;
  for (int oy = row_begin; oy < row_end; ++oy) {
    float* HWY_RESTRICT out_row = out + static_cast<size_t>(oy) * s.out_w * C;
    const int iy0 = oy * s.stride - s.pad_top;
    if (iy0 < 0 || iy0 + 3 > s.in_h || ox_lo >= ox_hi) {
      DwBorder(d, s, in, w, bias, out_row, oy, 0, s.out_w, out_min, out_max);
      continue;
    }
    if (ox_lo > 0) DwBorder(d, s, in, w, bias, out_row, oy, 0, ox_lo, out_min, out_max);
    const int ix0 = ox_lo * s.stride - s.pad_left;
    DwInterior(d, in + (static_cast<size_t>(iy0) * s.in_w + ix0) * C, row_stride, pixel_step,
               static_cast<size_t>(ox_hi - ox_lo), C, w, bias,
               out_row + static_cast<size_t>(ox_lo) * C, out_min, out_max);
    if (ox_hi < s.out_w) {
      DwBorder(d, s, in, w, bias, out_row, oy, ox_hi, s.out_w, out_min, out_max);
    }
  }
}

// See kernels.h. out must not overlap in, weights or bias.
HWY_NOINLINE void DepthwiseConv3x3(const DepthwiseShape& s, const float* HWY_RESTRICT in,
                                   const float* HWY_RESTRICT weights,
                                   const float* HWY_RESTRICT bias, float* HWY_RESTRICT out,
                                   int out_row_begin, int out_row_end, float out_min,
                                   float out_max) {
  const int row_begin = HWY_MAX(out_row_begin, 0);
  const int row_end = HWY_MIN(out_row_end, s.out_h);
  if (row_begin >= row_end || s.channels <= 0 || s.out_w <= 0) return;
  const size_t C = static_cast<size_t>(s.channels);
  const hn::ScalableTag<float> df;
  const hn::CappedTag<float, 4> d4;
  const hn::CappedTag<float, 1> d1;
  if (C >= hn::Lanes(df)) {
    DwRows(df, s, in, weights, bias, out, row_begin, row_end, out_min, out_max);
  } else if (C >= hn::Lanes(d4)) {
    DwRows(d4, s, in, weights, bias, out, row_begin, row_end, out_min, out_max);
  } else {
    DwRows(d1, s, in, weights, bias, out, row_begin, row_end, out_min, out_max);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_DEPTHWISE_INL_H_
