// Depthwise 3x3 convolution (depth multiplier 1), NHWC, vectorized over
// channels. See kernels.h.
//
// One output row at a time, from three input row pointers (so callers may keep
// rows in a ring buffer): pixels whose 3x3 window lies inside the input take a
// fast path without bounds checks (DwInterior); the others (left/right borders,
// rows touching the top/bottom padding) gather only their valid taps (DwBorder).
// Dilation d spaces the window's columns d pixels apart: the kernels take it as a
// run-time tap step of d * channels floats (no extra instantiations); the caller
// passes the rows d apart.
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

// One vector of channels [c, c + Lanes(d)) for `count` consecutive interior output
// pixels: the nine filter taps and the bias stay in registers while the pixels
// stream past, so each multiply-add loads one input vector. The window's columns
// are tap_step floats apart (dilation * channels).
template <class D>
HWY_INLINE void DwInteriorChannels(D d, size_t c, size_t channels, const float* HWY_RESTRICT r0,
                                   const float* HWY_RESTRICT r1, const float* HWY_RESTRICT r2,
                                   size_t tap_step, size_t pixel_step, size_t count, const float* HWY_RESTRICT w,
                                   const float* HWY_RESTRICT bias, float* HWY_RESTRICT out,
                                   hn::Vec<D> lo, hn::Vec<D> hi) {
  const size_t C = channels;
  const size_t T = tap_step;
  const auto w0 = hn::LoadU(d, w + c), w1 = hn::LoadU(d, w + C + c), w2 = hn::LoadU(d, w + 2 * C + c);
  const auto w3 = hn::LoadU(d, w + 3 * C + c), w4 = hn::LoadU(d, w + 4 * C + c), w5 = hn::LoadU(d, w + 5 * C + c);
  const auto w6 = hn::LoadU(d, w + 6 * C + c), w7 = hn::LoadU(d, w + 7 * C + c), w8 = hn::LoadU(d, w + 8 * C + c);
  const auto b = hn::LoadU(d, bias + c);
  r0 += c;
  r1 += c;
  r2 += c;
  out += c;
  for (size_t p = 0; p < count; ++p, r0 += pixel_step, r1 += pixel_step, r2 += pixel_step, out += C) {
    // Two accumulators halve the dependency chain.
    auto acc0 = hn::MulAdd(hn::LoadU(d, r0), w0, b);
    auto acc1 = hn::Mul(hn::LoadU(d, r1), w3);
    acc0 = hn::MulAdd(hn::LoadU(d, r0 + T), w1, acc0);
    acc1 = hn::MulAdd(hn::LoadU(d, r1 + T), w4, acc1);
    acc0 = hn::MulAdd(hn::LoadU(d, r0 + 2 * T), w2, acc0);
    acc1 = hn::MulAdd(hn::LoadU(d, r1 + 2 * T), w5, acc1);
    acc0 = hn::MulAdd(hn::LoadU(d, r2), w6, acc0);
    acc1 = hn::MulAdd(hn::LoadU(d, r2 + T), w7, acc1);
    acc0 = hn::MulAdd(hn::LoadU(d, r2 + 2 * T), w8, acc0);
    hn::StoreU(hn::Clamp(hn::Add(acc0, acc1), lo, hi), d, out);
  }
}

// `count` consecutive interior output pixels of one row. r0/r1/r2 point at the
// top-left tap (channel 0) of the first pixel in the three input rows; the window's
// columns are tap_step floats apart, successive pixels pixel_step floats apart.
// Requires channels >= Lanes(d).
template <class D>
HWY_NOINLINE void DwInterior(D d, const float* HWY_RESTRICT r0, const float* HWY_RESTRICT r1,
                             const float* HWY_RESTRICT r2, size_t tap_step, size_t pixel_step, size_t count,
                             size_t channels, const float* HWY_RESTRICT w,
                             const float* HWY_RESTRICT bias, float* HWY_RESTRICT out,
                             float out_min, float out_max) {
  const size_t N = hn::Lanes(d);
  const auto lo = hn::Set(d, out_min);
  const auto hi = hn::Set(d, out_max);
  size_t c = 0;
  for (; c + N <= channels; c += N) {
    DwInteriorChannels(d, c, channels, r0, r1, r2, tap_step, pixel_step, count, w, bias, out, lo, hi);
  }
  if (c != channels) {
    DwInteriorChannels(d, channels - N, channels, r0, r1, r2, tap_step, pixel_step, count, w, bias, out, lo, hi);
  }
}

// Output pixels [ox_begin, ox_end) of one row with any subset of valid taps:
// rows[k] is null where input row k of the window is padding; tap kx reads column
// ox * stride - pad_left + kx * dilation.
// Requires channels >= Lanes(d).
template <class D>
HWY_NOINLINE void DwBorder(D d, const DepthwiseShape& s, const float* const* rows,
                           const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                           float* HWY_RESTRICT out_row, int ox_begin, int ox_end,
                           float out_min, float out_max) {
  const size_t N = hn::Lanes(d);
  const size_t C = static_cast<size_t>(s.channels);
  const auto lo = hn::Set(d, out_min);
  const auto hi = hn::Set(d, out_max);
  for (int ox = ox_begin; ox < ox_end; ++ox) {
    const int ix0 = ox * s.stride - s.pad_left;
    const float* tap_in[9];
    const float* tap_w[9];
    size_t taps = 0;
    for (int ky = 0; ky < 3; ++ky) {
      if (rows[ky] == nullptr) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ix0 + kx * s.dilation;
        if (ix < 0 || ix >= s.in_w) continue;
        tap_in[taps] = rows[ky] + static_cast<size_t>(ix) * C;
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
// inside the input), and one past the last ox whose window (2 * dilation + 1
// columns) ends inside it.
static inline int DwFirstInterior(int pad, int stride) {
  return pad <= 0 ? 0 : (pad + stride - 1) / stride;
}
static inline int DwEndInterior(int in, int pad, int stride, int dilation) {
  const int last_start = in - (2 * dilation + 1) + pad;  // ox * stride <= last_start
  return last_start < 0 ? 0 : last_start / stride + 1;
}

template <class D>
HWY_INLINE void DwRow(D d, const DepthwiseShape& s, const float* const* rows,
                      const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                      float* HWY_RESTRICT out_row, float out_min, float out_max) {
  const size_t C = static_cast<size_t>(s.channels);
  const int ox_lo = HWY_MIN(DwFirstInterior(s.pad_left, s.stride), s.out_w);
  const int ox_hi = HWY_MIN(DwEndInterior(s.in_w, s.pad_left, s.stride, s.dilation), s.out_w);
  if (!rows[0] || !rows[1] || !rows[2] || ox_lo >= ox_hi) {
    DwBorder(d, s, rows, w, bias, out_row, 0, s.out_w, out_min, out_max);
    return;
  }
  if (ox_lo > 0) DwBorder(d, s, rows, w, bias, out_row, 0, ox_lo, out_min, out_max);
  const size_t first = static_cast<size_t>(ox_lo * s.stride - s.pad_left) * C;
  DwInterior(d, rows[0] + first, rows[1] + first, rows[2] + first, static_cast<size_t>(s.dilation) * C,
             static_cast<size_t>(s.stride) * C, static_cast<size_t>(ox_hi - ox_lo), C, w, bias,
             out_row + static_cast<size_t>(ox_lo) * C, out_min, out_max);
  if (ox_hi < s.out_w) DwBorder(d, s, rows, w, bias, out_row, ox_hi, s.out_w, out_min, out_max);
}

// See kernels.h. out_row must not overlap the rows, weights or bias.
HWY_NOINLINE void DepthwiseConv3x3Row(const DepthwiseShape& s, const float* const* rows,
                                      const float* HWY_RESTRICT weights,
                                      const float* HWY_RESTRICT bias, float* HWY_RESTRICT out_row,
                                      float out_min, float out_max) {
  if (s.channels <= 0 || s.out_w <= 0) return;
  const size_t C = static_cast<size_t>(s.channels);
  const hn::ScalableTag<float> df;
  const hn::CappedTag<float, 4> d4;
  const hn::CappedTag<float, 1> d1;
  if (C >= hn::Lanes(df)) {
    DwRow(df, s, rows, weights, bias, out_row, out_min, out_max);
  } else if (C >= hn::Lanes(d4)) {
    DwRow(d4, s, rows, weights, bias, out_row, out_min, out_max);
  } else {
    // Fewer channels than lanes (no MobileNetV2 layer): the border form takes every pixel.
    DwBorder(d1, s, rows, weights, bias, out_row, 0, s.out_w, out_min, out_max);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_DEPTHWISE_INL_H_
