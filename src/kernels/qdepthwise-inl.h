// Quantized depthwise 3x3 (depth multiplier 1), NHWC, 8 channels per step (layout in
// qpacked.h). The nine taps run as five pairs: the inputs of two taps are widened to
// int16 and interleaved, so that DotPairs (i32x4.dot_i16x8_s) adds
// both products of a channel at once into its int32 lane.
//
// The input zero point is folded into the bias, so padding taps read the zero point
// (and add nothing): windows inside the input load their nine taps directly, the
// others (borders, padded rows) point their missing taps at a row of zero points.
// Channel tails re-base the last group to [channels - 8, channels) as the float
// kernel does; fewer than 8 channels run the scalar kernel. Dilation d: the caller passes
// rows d apart, the window's columns are d pixels apart (a run-time tap step for
// QDwInterior; the sliding stride-1 kernel takes dilation 1 only).

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/out_of_line.h"
#include "kernels/qpacked.h"

#if defined(MNV2_KERNELS_QDEPTHWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_QDEPTHWISE_INL_H_
#undef MNV2_KERNELS_QDEPTHWISE_INL_H_
#else
#define MNV2_KERNELS_QDEPTHWISE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/qdepthwise_relaxed-inl.h"
#include "kernels/requant-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
// The pair weights of 8 channels: [pair][lo = channels 0..3, hi = 4..7].
struct QDwWeights {
  hn::Vec<DI16> w[kQDwPairs][2];
};

HWY_INLINE QDwWeights LoadQDwWeights(const int16_t* HWY_RESTRICT pairs, size_t channels, size_t c) {
  const DI16 d16;
  QDwWeights w;
  for (int p = 0; p < kQDwPairs; ++p) {
    w.w[p][0] = hn::LoadU(d16, pairs + (p * channels + c) * 2);
    w.w[p][1] = hn::LoadU(d16, pairs + (p * channels + c + 4) * 2);
  }
  return w;
}

// One pixel, 8 channels: x[t] points at the 8 input bytes of tap t. The int32 sums of
// channels 0..3 and 4..7, before requantization.
HWY_INLINE void QDwPixel8(const uint8_t* const* x, const QDwWeights& w, VI32 bias_lo, VI32 bias_hi, VI32* sum_lo,
                          VI32* sum_hi) {
  const DI16 d16;
  const DI32 d32;
  const hn::Rebind<uint8_t, DI16> du8;
  auto tap = [&](int t) { return hn::PromoteTo(d16, hn::LoadU(du8, x[t])); };
  VI32 lo = bias_lo, hi = bias_hi, lo_odd = hn::Zero(d32), hi_odd = hn::Zero(d32);
  for (int p = 0; p < kQDwPairs; ++p) {
    const auto a = tap(kQDwPairTaps[p][0]);
    const auto b = kQDwPairTaps[p][1] < 0 ? hn::Zero(d16) : tap(kQDwPairTaps[p][1]);
    lo = DotPairs(lo, hn::InterleaveLower(d16, a, b), w.w[p][0], lo_odd);
    hi = DotPairs(hi, hn::InterleaveUpper(d16, a, b), w.w[p][1], hi_odd);
  }
  *sum_lo = hn::RearrangeToOddPlusEven(lo, lo_odd);
  *sum_hi = hn::RearrangeToOddPlusEven(hi, hi_odd);
}

// What the interior kernels keep for one group of 8 channels starting at c.
struct QDwGroup {
  QDwWeights w;
  VI32 bias_lo, bias_hi;
  Requant4 rq_lo, rq_hi;
};
HWY_INLINE QDwGroup LoadQDwGroup(const QDepthwisePacked& p, size_t channels, size_t c) {
  const DI32 d32;
  QDwGroup q;
  q.w = LoadQDwWeights(p.pairs, channels, c);
  q.bias_lo = hn::LoadU(d32, p.params.bias + c);
  q.bias_hi = hn::LoadU(d32, p.params.bias + c + 4);
  q.rq_lo = LoadRequant4(p.params, c);
  q.rq_hi = LoadRequant4(p.params, c + 4);
  return q;
}

// `count` consecutive output pixels whose windows lie inside the input. r0/r1/r2 point at
// the first pixel's top-left tap in the three rows; the window's columns are tap_step bytes
// apart (dilation * channels), pixels pixel_step bytes apart.
template <bool kScaled, bool kRelu>
HWY_NOINLINE void QDwInterior(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t tap_step,
                              size_t pixel_step, size_t count, size_t channels, const QDepthwisePacked& p,
                              const QPackedHeader& h, uint8_t* HWY_RESTRICT out) {
  const size_t C = channels;
  const size_t T = tap_step;
  const size_t groups = (C + 7) / 8;
  for (size_t g = 0; g < groups; ++g) {
    const size_t c = QDwGroupStart(g, C);
    const QDwGroup q = LoadQDwGroup(p, C, c);
    const uint8_t* x[9] = {r0 + c, r0 + T + c, r0 + 2 * T + c, r1 + c, r1 + T + c, r1 + 2 * T + c,
                           r2 + c, r2 + T + c, r2 + 2 * T + c};
    uint8_t* o = out + c;
    for (size_t i = 0; i < count; ++i, o += C) {
      VI32 lo, hi;
      QDwPixel8(x, q.w, q.bias_lo, q.bias_hi, &lo, &hi);
      StoreBytes8(OutputStage4<kScaled, kRelu>(lo, q.rq_lo, h), OutputStage4<kScaled, kRelu>(hi, q.rq_hi, h), h, o);
      for (int t = 0; t < 9; ++t) x[t] += pixel_step;
    }
  }
}

// QDwInterior for stride 1 and dilation 1, sliding along the row: consecutive pixels share
// two of their three window columns, so each column's inputs are widened and interleaved
// once instead of three times. Rows 0 and 1 of a column form the pairs (0, 3), (1, 4), (2, 5); row 2 of
// columns k - 1 and k forms one pair that serves twice: as taps (6, 7) of the pixel starting
// at column k - 1, and with the weights (0, w8) as tap 8 of the pixel before it. Per pixel
// and 8 channels: 3 loads and 4 interleaves instead of 9 and 10, the same 10 dot products.
template <bool kScaled, bool kRelu>
HWY_NOINLINE void QDwInteriorS1(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t count,
                                size_t channels, const QDepthwisePacked& p, const QPackedHeader& h,
                                uint8_t* HWY_RESTRICT out) {
  const DI16 d16;
  const DI32 d32;
  const hn::Rebind<uint8_t, DI16> du8;
  const size_t C = channels;
  const size_t groups = (C + 7) / 8;
  using V16 = hn::Vec<DI16>;
  for (size_t g = 0; g < groups; ++g) {
    const size_t c = QDwGroupStart(g, C);
    const QDwGroup q = LoadQDwGroup(p, C, c);
    const QDwWeights& w = q.w;
    // Tap 8's weights as the second of a pair: (w8, 0) -> (0, w8) in each 32-bit lane.
    const V16 w8_lo = hn::BitCast(d16, hn::ShiftLeft<16>(hn::BitCast(d32, w.w[4][0])));
    const V16 w8_hi = hn::BitCast(d16, hn::ShiftLeft<16>(hn::BitCast(d32, w.w[4][1])));
    const uint8_t* x0 = r0 + c;
    const uint8_t* x1 = r1 + c;
    const uint8_t* x2 = r2 + c;
    // Column k: rows 0 and 1 as (row 0, row 1) pairs of channels 0..3 and 4..7; row 2 widened
    // and paired with the previous column's row 2 (`bottom`, updated).
    auto column = [&](size_t k, V16* lo, V16* hi, V16* bottom, V16* pair_lo, V16* pair_hi) {
      const auto a = hn::PromoteTo(d16, hn::LoadU(du8, x0 + k * C));
      const auto b = hn::PromoteTo(d16, hn::LoadU(du8, x1 + k * C));
      const auto e = hn::PromoteTo(d16, hn::LoadU(du8, x2 + k * C));
      *lo = hn::InterleaveLower(d16, a, b);
      *hi = hn::InterleaveUpper(d16, a, b);
      *pair_lo = hn::InterleaveLower(d16, *bottom, e);
      *pair_hi = hn::InterleaveUpper(d16, *bottom, e);
      *bottom = e;
    };
    V16 lo0, hi0, lo1, hi1, pair1_lo, pair1_hi;
    V16 bottom = hn::Zero(d16);  // (column 0's pair is not used)
    column(0, &lo0, &hi0, &bottom, &pair1_lo, &pair1_hi);
    column(1, &lo1, &hi1, &bottom, &pair1_lo, &pair1_hi);
    uint8_t* o = out + c;
    for (size_t i = 0; i < count; ++i, o += C) {
      V16 lo2, hi2, pair2_lo, pair2_hi;
      column(i + 2, &lo2, &hi2, &bottom, &pair2_lo, &pair2_hi);
      VI32 lo = q.bias_lo, hi = q.bias_hi, lo_odd = hn::Zero(d32), hi_odd = hn::Zero(d32);
      lo = DotPairs(lo, lo0, w.w[0][0], lo_odd);
      hi = DotPairs(hi, hi0, w.w[0][1], hi_odd);
      lo = DotPairs(lo, lo1, w.w[1][0], lo_odd);
      hi = DotPairs(hi, hi1, w.w[1][1], hi_odd);
      lo = DotPairs(lo, lo2, w.w[2][0], lo_odd);
      hi = DotPairs(hi, hi2, w.w[2][1], hi_odd);
      lo = DotPairs(lo, pair1_lo, w.w[3][0], lo_odd);
      hi = DotPairs(hi, pair1_hi, w.w[3][1], hi_odd);
      lo = DotPairs(lo, pair2_lo, w8_lo, lo_odd);
      hi = DotPairs(hi, pair2_hi, w8_hi, hi_odd);
      lo = hn::RearrangeToOddPlusEven(lo, lo_odd);
      hi = hn::RearrangeToOddPlusEven(hi, hi_odd);
      StoreBytes8(OutputStage4<kScaled, kRelu>(lo, q.rq_lo, h), OutputStage4<kScaled, kRelu>(hi, q.rq_hi, h), h, o);
      lo0 = lo1, hi0 = hi1;
      lo1 = lo2, hi1 = hi2, pair1_lo = pair2_lo, pair1_hi = pair2_hi;
    }
  }
}

// Output pixels [ox_begin, ox_end) with any subset of taps in the padding: a few per row,
// so one copy serves every requantization variant. Tap kx reads column
// ox * stride - pad_left + kx * dilation.
HWY_NOINLINE void QDwBorder(const DepthwiseShape& s, const uint8_t* const* rows, const QDepthwisePacked& p,
                            const QPackedHeader& h, uint8_t* HWY_RESTRICT out_row, int ox_begin, int ox_end) {
  const DI32 d32;
  const size_t C = static_cast<size_t>(s.channels);
  uint8_t zero_points[8];
  memset(zero_points, h.input_zero_point, sizeof(zero_points));
  const size_t groups = (C + 7) / 8;
  for (int ox = ox_begin; ox < ox_end; ++ox) {
    const int ix0 = ox * s.stride - s.pad_left;
    const uint8_t* base[9];
    bool inside[9];
    for (int ky = 0; ky < 3; ++ky) {
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ix0 + kx * s.dilation;
        inside[ky * 3 + kx] = rows[ky] != nullptr && ix >= 0 && ix < s.in_w;
        base[ky * 3 + kx] = inside[ky * 3 + kx] ? rows[ky] + static_cast<size_t>(ix) * C : zero_points;
      }
    }
    for (size_t g = 0; g < groups; ++g) {
      const size_t c = QDwGroupStart(g, C);
      const uint8_t* x[9];
      for (int t = 0; t < 9; ++t) x[t] = inside[t] ? base[t] + c : zero_points;
      VI32 lo, hi;
      QDwPixel8(x, LoadQDwWeights(p.pairs, C, c), hn::LoadU(d32, p.params.bias + c),
                hn::LoadU(d32, p.params.bias + c + 4), &lo, &hi);
      StoreBytes8(OutputStage4Any(lo, LoadRequant4(p.params, c), h),
                  OutputStage4Any(hi, LoadRequant4(p.params, c + 4), h), h, out_row + static_cast<size_t>(ox) * C + c);
    }
  }
}

// The largest padding row (in_w * channels bytes) kept on the stack.
constexpr size_t kQDwZeroRowBytes = 16384;

// Smallest ox with a window starting inside the input, and one past the last ending inside
// (the window spans 2 * dilation + 1 columns).
static inline int QDwFirstInterior(int pad, int stride) { return pad <= 0 ? 0 : (pad + stride - 1) / stride; }
static inline int QDwEndInterior(int in, int pad, int stride, int dilation) {
  const int last_start = in - (2 * dilation + 1) + pad;
  return last_start < 0 ? 0 : last_start / stride + 1;
}

// One output row: the pixels whose windows reach into the padding by QDwBorder, the
// interior [ox_lo, ox_hi) by interior(r0, r1, r2, count, out): r0/r1/r2 at the first interior
// window's top-left tap, out at its output pixel.
template <class Interior>
HWY_INLINE void QDwRowParts(const DepthwiseShape& s, const uint8_t* const* rows, const QDepthwisePacked& p,
                            const QPackedHeader& h, uint8_t* HWY_RESTRICT out_row, Interior&& interior) {
  const size_t C = static_cast<size_t>(s.channels);
  const int ox_lo = HWY_MIN(QDwFirstInterior(s.pad_left, s.stride), s.out_w);
  const int ox_hi = HWY_MIN(QDwEndInterior(s.in_w, s.pad_left, s.stride, s.dilation), s.out_w);
  if (!rows[0] || !rows[1] || !rows[2] || ox_lo >= ox_hi) {
    QDwBorder(s, rows, p, h, out_row, 0, s.out_w);
    return;
  }
  if (ox_lo > 0) QDwBorder(s, rows, p, h, out_row, 0, ox_lo);
  const size_t first = static_cast<size_t>(ox_lo * s.stride - s.pad_left) * C;
  interior(rows[0] + first, rows[1] + first, rows[2] + first, static_cast<size_t>(ox_hi - ox_lo),
           out_row + static_cast<size_t>(ox_lo) * C);
  if (ox_hi < s.out_w) QDwBorder(s, rows, p, h, out_row, ox_hi, s.out_w);
}

template <bool kScaled, bool kRelu>
HWY_INLINE void QDwRow(const DepthwiseShape& s, const uint8_t* const* rows, const QDepthwisePacked& p,
                       const QPackedHeader& h, uint8_t* HWY_RESTRICT out_row) {
  const size_t C = static_cast<size_t>(s.channels);
  QDwRowParts(s, rows, p, h, out_row, [&](const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t count,
                                          uint8_t* out) MNV2_INLINE_LAMBDA {
    // The sliding kernel is compiled for the ReLU variant only (every depthwise layer of
    // MobileNetV2: one more copy, not three), for undilated windows.
    const bool slide = kRelu && s.stride == 1 && s.dilation == 1;
    if constexpr (kRelu) {
      if (slide) QDwInteriorS1<kScaled, kRelu>(r0, r1, r2, count, C, p, h, out);
    }
    if (!slide) {
      QDwInterior<kScaled, kRelu>(r0, r1, r2, static_cast<size_t>(s.dilation) * C, static_cast<size_t>(s.stride) * C,
                                  count, C, p, h, out);
    }
  });
}

#if defined(MNV2_RELAXED_QGEMM)
// The interior on the relaxed dot product (qdepthwise_relaxed-inl.h): from the kernel module in
// the relaxed WebAssembly build, this target's otherwise. A call per row.
HWY_NOINLINE void QDwRelaxedRow(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t tap_step,
                                size_t pixel_step, size_t count, size_t channels, const uint8_t* packed,
                                uint8_t* out) {
#if defined(MNV2_RELAXED_IMPORTS)
  mnv2_relaxed_qdw_interior(r0, r1, r2, tap_step, pixel_step, count, channels, packed, out);
#else
  QDwRelaxedInterior(r0, r1, r2, tap_step, pixel_step, count, channels, packed, out);
#endif
}
#endif

HWY_NOINLINE void QDepthwiseConv3x3Row(const DepthwiseShape& s, const uint8_t* const* rows,
                                       const uint8_t* HWY_RESTRICT packed, uint8_t* HWY_RESTRICT out_row) {
  if (s.channels <= 0 || s.out_w <= 0) return;
  QPackedHeader h;
  memcpy(&h, packed, sizeof(h));
  if (s.channels < 8 || !h.vector) {
    OutOfLine(&QDepthwiseRowScalar)(s, rows, packed, out_row, 0, s.out_w);
    return;
  }
  const QDepthwisePacked p = QDepthwiseAt(packed, s.channels);
  // A padding row (top or bottom) reads a row of input zero points, which add nothing: the
  // row's interior then runs the interior kernel, only its two ends the border one.
  const size_t row_bytes = static_cast<size_t>(s.in_w) * static_cast<size_t>(s.channels);
  const uint8_t* r[3] = {rows[0], rows[1], rows[2]};
  HWY_ALIGN uint8_t zero_row[kQDwZeroRowBytes];
  if ((!r[0] || !r[1] || !r[2]) && row_bytes <= sizeof(zero_row)) {
    memset(zero_row, h.input_zero_point, row_bytes);
    for (const uint8_t*& row : r) row = row ? row : zero_row;
  }
#if defined(MNV2_RELAXED_QGEMM)
  if (h.relaxed) {
    const size_t C = static_cast<size_t>(s.channels);
    QDwRowParts(s, r, p, h, out_row, [&](const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t count,
                                         uint8_t* out) MNV2_INLINE_LAMBDA {
      QDwRelaxedRow(r0, r1, r2, static_cast<size_t>(s.dilation) * C, static_cast<size_t>(s.stride) * C, count, C,
                    packed, out);
    });
    return;
  }
#endif
  WithOutputVariant(h, [&](auto scaled, auto relu) MNV2_INLINE_LAMBDA {
    QDwRow<decltype(scaled)::value, decltype(relu)::value>(s, r, p, h, out_row);
  });
}
#else   // HWY_SCALAR
HWY_NOINLINE void QDepthwiseConv3x3Row(const DepthwiseShape& s, const uint8_t* const* rows, const uint8_t* packed,
                                       uint8_t* out_row) {
  if (s.channels <= 0 || s.out_w <= 0) return;
  QDepthwiseRowScalar(s, rows, packed, out_row, 0, s.out_w);
}
#endif  // HWY_TARGET != HWY_SCALAR

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_QDEPTHWISE_INL_H_
