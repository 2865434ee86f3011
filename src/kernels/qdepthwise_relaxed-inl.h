// The quantized depthwise 3x3's interior on the relaxed dot product (relaxed.h), for ReLU
// layers packed for it (qpacked.h: QDepthwisePacked's relaxed copy). The borders stay with
// qdepthwise-inl.h's int16 kernel.
//
// A window column's three input rows of 8 channels are interleaved into quads (row 0, row 1,
// row 2, row 2) per channel, two vectors of four channels (4 shuffles), and one relaxed dot
// product per vector takes the column's three taps at once against the weight quads (a0, a1,
// a2, 0): per output pixel and 8 channels 6 dot products, where the int16 kernel takes 10 and
// their adds. With stride 1 and dilation 1 consecutive pixels share two of their three columns,
// so each column is loaded and interleaved once (QDwRelaxedSlide); otherwise per pixel
// (QDwRelaxedWindows). A group of 8 channels whose weights needed an offset d (a channel whose
// nine weights do not fit int8) adds d times each column's input sum, one more dot product
// per column with the quads (d, d, d, 0): the weights' range, not the form, decides that.
//
// QDwRelaxedInterior is the function the relaxed WebAssembly build's kernel module exports (all
// of it inlined: that module has no stack for the group's constants to be passed by reference);
// natively it is compiled per target with the instruction emulated in the engine's form (tests).

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>

#include "kernels/qpacked.h"
#include "kernels/relaxed.h"

#if defined(MNV2_KERNELS_QDEPTHWISE_RELAXED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_QDEPTHWISE_RELAXED_INL_H_
#undef MNV2_KERNELS_QDEPTHWISE_RELAXED_INL_H_
#else
#define MNV2_KERNELS_QDEPTHWISE_RELAXED_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/qgemm_relaxed-inl.h"
#include "kernels/requant-inl.h"

#if defined(MNV2_RELAXED_QGEMM)
HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
using DU8 = hn::Full128<uint8_t>;
using DU16 = hn::Full128<uint16_t>;

// The 8 bytes at p in the lower half of a vector (the upper half zero).
HWY_INLINE hn::Vec<DU8> LoadLow8(const uint8_t* HWY_RESTRICT p) {
#if HWY_TARGET == HWY_WASM
  return hn::Vec<DU8>{wasm_v128_load64_zero(p)};
#else
  return hn::ZeroExtendVector(DU8(), hn::LoadU(hn::Full64<uint8_t>(), p));
#endif
}

// One window column of 8 channels (rows x0, x1, x2) as quads: channels 0-3 in lo, 4-7 in hi,
// each byte XORed with 0x80 in the signed form (kFlip).
template <bool kFlip>
HWY_INLINE void QDwQuads(const uint8_t* x0, const uint8_t* x1, const uint8_t* x2, hn::Vec<DI8>* lo,
                         hn::Vec<DI8>* hi) {
  const DU8 du8;
  const DU16 du16;
  const DI8 di8;
  const auto a = LoadLow8(x0), b = LoadLow8(x1), e = LoadLow8(x2);
  const auto ab = hn::BitCast(du16, hn::InterleaveLower(du8, a, b));
  const auto ee = hn::BitCast(du16, hn::InterleaveLower(du8, e, e));
  auto l = hn::BitCast(du8, hn::InterleaveLower(du16, ab, ee));
  auto h = hn::BitCast(du8, hn::InterleaveUpper(du16, ab, ee));
  if (kFlip) {
    l = hn::Xor(l, hn::Set(du8, 0x80));
    h = hn::Xor(h, hn::Set(du8, 0x80));
  }
  *lo = hn::BitCast(di8, l);
  *hi = hn::BitCast(di8, h);
}

// What the kernels keep for one group of 8 channels starting at c: the weight quads of the
// three columns and the offsets' (lo = channels 0-3, hi = 4-7), the bias, the requantization.
// Named members, not arrays (the kernel module can have no stack frame: relaxed_kernels.cc).
struct QDwRelaxedGroup {
  hn::Vec<DI8> w0_lo, w0_hi, w1_lo, w1_hi, w2_lo, w2_hi, d_lo, d_hi;
  VI32 bias_lo, bias_hi;
  Requant4 rq_lo, rq_hi;
};
HWY_INLINE QDwRelaxedGroup LoadQDwRelaxedGroup(const QChannelParams& params, const QDepthwiseRelaxed& r,
                                               size_t channels, size_t c) {
  const DI8 d8;
  const DI32 d32;
  QDwRelaxedGroup q;
  const int8_t* w = r.quads + c * 4;
  const size_t column = channels * 4;
  q.w0_lo = hn::LoadU(d8, w), q.w0_hi = hn::LoadU(d8, w + 16);
  q.w1_lo = hn::LoadU(d8, w + column), q.w1_hi = hn::LoadU(d8, w + column + 16);
  q.w2_lo = hn::LoadU(d8, w + 2 * column), q.w2_hi = hn::LoadU(d8, w + 2 * column + 16);
  q.d_lo = hn::LoadU(d8, r.offsets + c * 4), q.d_hi = hn::LoadU(d8, r.offsets + c * 4 + 16);
  q.bias_lo = hn::LoadU(d32, r.bias + c);
  q.bias_hi = hn::LoadU(d32, r.bias + c + 4);
  q.rq_lo = LoadRequant4(params, c);
  q.rq_hi = LoadRequant4(params, c + 4);
  return q;
}

// One output pixel from its three columns' quads (a: the left column, b, e) and, with
// kOffsets, the columns' offset sums: requantized (the ReLU form) to 8 bytes at o.
template <bool kOffsets>
HWY_INLINE void QDwRelaxedPixel(const QDwRelaxedGroup& q, hn::Vec<DI8> a_lo, hn::Vec<DI8> a_hi, hn::Vec<DI8> b_lo,
                                hn::Vec<DI8> b_hi, hn::Vec<DI8> e_lo, hn::Vec<DI8> e_hi, VI32 sum_lo, VI32 sum_hi,
                                int32_t mode, const QPackedHeader& h, uint8_t* HWY_RESTRICT o) {
  VI32 lo = kOffsets ? hn::Add(q.bias_lo, sum_lo) : q.bias_lo;
  VI32 hi = kOffsets ? hn::Add(q.bias_hi, sum_hi) : q.bias_hi;
  lo = DotQuads(lo, q.w0_lo, a_lo, mode);
  hi = DotQuads(hi, q.w0_hi, a_hi, mode);
  lo = DotQuads(lo, q.w1_lo, b_lo, mode);
  hi = DotQuads(hi, q.w1_hi, b_hi, mode);
  lo = DotQuads(lo, q.w2_lo, e_lo, mode);
  hi = DotQuads(hi, q.w2_hi, e_hi, mode);
  StoreBytes8(ReluForm4(lo, q.rq_lo), ReluForm4(hi, q.rq_hi), h, o);
}

// d times a column's input sums (the offset quads' dot product), channels 0-3 and 4-7.
HWY_INLINE void QDwOffsetSums(const QDwRelaxedGroup& q, hn::Vec<DI8> lo, hn::Vec<DI8> hi, int32_t mode, VI32* s_lo,
                              VI32* s_hi) {
  *s_lo = DotQuads(hn::Zero(DI32()), q.d_lo, lo, mode);
  *s_hi = DotQuads(hn::Zero(DI32()), q.d_hi, hi, mode);
}

// `count` consecutive pixels of stride 1 and dilation 1, one group: each new column is
// interleaved once and serves three pixels.
template <bool kOffsets, bool kFlip>
HWY_INLINE void QDwRelaxedSlide(const uint8_t* x0, const uint8_t* x1, const uint8_t* x2, size_t channels,
                                size_t count, const QDwRelaxedGroup& q, const QPackedHeader& h,
                                uint8_t* HWY_RESTRICT o) {
  const size_t C = channels;
  const int32_t mode = h.relaxed;
  hn::Vec<DI8> a_lo, a_hi, b_lo, b_hi;
  QDwQuads<kFlip>(x0, x1, x2, &a_lo, &a_hi);
  QDwQuads<kFlip>(x0 + C, x1 + C, x2 + C, &b_lo, &b_hi);
  VI32 sa_lo = hn::Zero(DI32()), sa_hi = sa_lo, sb_lo = sa_lo, sb_hi = sa_lo;
  if (kOffsets) {
    QDwOffsetSums(q, a_lo, a_hi, mode, &sa_lo, &sa_hi);
    QDwOffsetSums(q, b_lo, b_hi, mode, &sb_lo, &sb_hi);
  }
  MNV2_NO_UNROLL
  for (size_t i = 0; i < count; ++i, o += C) {
    const size_t k = (i + 2) * C;
    hn::Vec<DI8> e_lo, e_hi;
    QDwQuads<kFlip>(x0 + k, x1 + k, x2 + k, &e_lo, &e_hi);
    VI32 se_lo = sa_lo, se_hi = sa_hi;
    if (kOffsets) QDwOffsetSums(q, e_lo, e_hi, mode, &se_lo, &se_hi);
    QDwRelaxedPixel<kOffsets>(q, a_lo, a_hi, b_lo, b_hi, e_lo, e_hi, hn::Add(hn::Add(sa_lo, sb_lo), se_lo),
                              hn::Add(hn::Add(sa_hi, sb_hi), se_hi), mode, h, o);
    a_lo = b_lo, a_hi = b_hi, b_lo = e_lo, b_hi = e_hi;
    sa_lo = sb_lo, sa_hi = sb_hi, sb_lo = se_lo, sb_hi = se_hi;
  }
}

// `count` pixels, pixel_step bytes apart, their window's columns tap_step apart, one group:
// every pixel interleaves its three columns.
template <bool kOffsets, bool kFlip>
HWY_INLINE void QDwRelaxedWindows(const uint8_t* x0, const uint8_t* x1, const uint8_t* x2, size_t tap_step,
                                  size_t pixel_step, size_t channels, size_t count, const QDwRelaxedGroup& q,
                                  const QPackedHeader& h, uint8_t* HWY_RESTRICT o) {
  const size_t T = tap_step;
  const int32_t mode = h.relaxed;
  MNV2_NO_UNROLL
  for (size_t i = 0; i < count; ++i, o += channels) {
    const size_t k = i * pixel_step;
    hn::Vec<DI8> a_lo, a_hi, b_lo, b_hi, e_lo, e_hi;
    QDwQuads<kFlip>(x0 + k, x1 + k, x2 + k, &a_lo, &a_hi);
    QDwQuads<kFlip>(x0 + k + T, x1 + k + T, x2 + k + T, &b_lo, &b_hi);
    QDwQuads<kFlip>(x0 + k + 2 * T, x1 + k + 2 * T, x2 + k + 2 * T, &e_lo, &e_hi);
    VI32 sum_lo = hn::Zero(DI32()), sum_hi = sum_lo;
    if (kOffsets) {
      VI32 sa_lo, sa_hi, sb_lo, sb_hi, se_lo, se_hi;
      QDwOffsetSums(q, a_lo, a_hi, mode, &sa_lo, &sa_hi);
      QDwOffsetSums(q, b_lo, b_hi, mode, &sb_lo, &sb_hi);
      QDwOffsetSums(q, e_lo, e_hi, mode, &se_lo, &se_hi);
      sum_lo = hn::Add(hn::Add(sa_lo, sb_lo), se_lo);
      sum_hi = hn::Add(hn::Add(sa_hi, sb_hi), se_hi);
    }
    QDwRelaxedPixel<kOffsets>(q, a_lo, a_hi, b_lo, b_hi, e_lo, e_hi, sum_lo, sum_hi, mode, h, o);
  }
}

// `count` output pixels whose windows lie inside the input, for a layer packed with the relaxed
// copy (at least 8 channels): r0/r1/r2 point at the first pixel's top-left tap in the three
// rows, the window's columns tap_step bytes apart (dilation * channels), pixels pixel_step.
HWY_INLINE void QDwRelaxedInterior(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t tap_step,
                                   size_t pixel_step, size_t count, size_t channels, const uint8_t* packed,
                                   uint8_t* HWY_RESTRICT out) {
  const QPackedHeader& h = *reinterpret_cast<const QPackedHeader*>(packed);
  const QChannelParams params = QChannelParamsAt(packed + sizeof(QPackedHeader), channels);
  const QDepthwiseRelaxed r = QDepthwiseRelaxedAt(packed, static_cast<int>(channels));
  const size_t C = channels;
  const bool slide = tap_step == C && pixel_step == C;
  const bool flip = h.input_xor != 0;
  const DI8 d8;
  for (size_t g = 0; g < (C + 7) / 8; ++g) {
    const size_t c = QDwGroupStart(g, C);
    const QDwRelaxedGroup q = LoadQDwRelaxedGroup(params, r, C, c);
    const bool offsets = !hn::AllTrue(d8, hn::Eq(hn::Or(q.d_lo, q.d_hi), hn::Zero(d8)));
    const uint8_t *x0 = r0 + c, *x1 = r1 + c, *x2 = r2 + c;
    uint8_t* o = out + c;
    if (slide) {
      if (offsets) {
        flip ? QDwRelaxedSlide<true, true>(x0, x1, x2, C, count, q, h, o)
             : QDwRelaxedSlide<true, false>(x0, x1, x2, C, count, q, h, o);
      } else {
        flip ? QDwRelaxedSlide<false, true>(x0, x1, x2, C, count, q, h, o)
             : QDwRelaxedSlide<false, false>(x0, x1, x2, C, count, q, h, o);
      }
    } else if (offsets) {
      flip ? QDwRelaxedWindows<true, true>(x0, x1, x2, tap_step, pixel_step, C, count, q, h, o)
           : QDwRelaxedWindows<true, false>(x0, x1, x2, tap_step, pixel_step, C, count, q, h, o);
    } else {
      flip ? QDwRelaxedWindows<false, true>(x0, x1, x2, tap_step, pixel_step, C, count, q, h, o)
           : QDwRelaxedWindows<false, false>(x0, x1, x2, tap_step, pixel_step, C, count, q, h, o);
    }
  }
}
#endif  // HWY_TARGET != HWY_SCALAR

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();
#endif  // MNV2_RELAXED_QGEMM

#endif  // MNV2_KERNELS_QDEPTHWISE_RELAXED_INL_H_
