// Quantized ADD, requantization (QUANTIZE between 8-bit types) and global average
// pooling. See quantized_kernels.h. Vectors of 8 values; tails and the parts that
// the vector form cannot represent exactly run the scalar TFLite formulas.

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "kernels/qpacked.h"

#if defined(MNV2_KERNELS_QELEMENTWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_QELEMENTWISE_INL_H_
#undef MNV2_KERNELS_QELEMENTWISE_INL_H_
#else
#define MNV2_KERNELS_QELEMENTWISE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/requant-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

static inline uint8_t QClampByte(int64_t v, const QOutput& out) {
  return static_cast<uint8_t>(std::min<int64_t>(std::max<int64_t>(v, out.min), out.max));
}

static inline uint8_t QAddScalar(uint8_t a, uint8_t b, const QAddParams& p) {
  const int32_t sum = p.a_rescaled[a] + p.b_rescaled[b];
  return QClampByte(static_cast<int64_t>(MultiplyByQuantizedMultiplier(sum, p.out_mult)) + p.out.zero_point, p.out);
}

static inline uint8_t QRequantScalarByte(uint8_t v, const QRequantParams& p) {
  return QClampByte(static_cast<int64_t>(MultiplyByQuantizedMultiplier(v - p.input_zero_point, p.mult)) +
                        p.out.zero_point,
                    p.out);
}

#if HWY_TARGET != HWY_SCALAR
// The vector form of one multiplier for all four lanes; false where it is not exact.
HWY_INLINE bool BroadcastRequant(QuantizedMultiplier m, int64_t bound, bool saturating, Requant4* r, int* shift) {
  QChannelVector v;
  const int rs = m.multiplier != 0 ? std::max(0, -m.shift) : 0;
  if (!QChannelForm(m, bound, rs, saturating, &v)) return false;
  const DU32 du32;
  const DU64 du64;
  r->mult = hn::Set(du32, v.mult);
  r->clamp = hn::Set(du32, v.clamp);
  r->pre = hn::Set(du32, v.pre);
  r->corr = hn::Set(du32, v.corr);
  r->round_a = r->round_b = hn::Set(du64, v.round);
  *shift = 31 + rs;
  return true;
}

// Eight bytes widened to two int32 vectors minus a zero point.
HWY_INLINE void LoadCentered8(const uint8_t* HWY_RESTRICT p, int32_t zero_point, VI32* lo, VI32* hi) {
  const DI16 d16;
  const DI32 d32;
  const hn::Rebind<uint8_t, DI16> du8;
  const auto v = hn::PromoteTo(d16, hn::LoadU(du8, p));
  const auto z = hn::Set(d32, zero_point);
  *lo = hn::Sub(hn::PromoteTo(d32, hn::LowerHalf(v)), z);
  *hi = hn::Sub(hn::PromoteTo(d32, hn::UpperHalf(hn::Half<DI16>(), v)), z);
}
#endif

// out may alias a or b: each group is read before it is written. The inputs' rescaling
// comes from the per-byte tables, eight sums at a time, and the sums are requantized as
// vectors.
HWY_NOINLINE void QAdd(const uint8_t* a, const uint8_t* b, size_t n, const QAddParams& p, uint8_t* out) {
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  // Each rescaled input is at most 255 * 2^20 in magnitude (a multiplier below one), so their
  // sum stays below 2^29.
  constexpr int64_t kSumBound = int64_t{2 * 255} << 20;
  Requant4 ro;
  int so;
  if (BroadcastRequant(p.out_mult, kSumBound, true, &ro, &so)) {
    const DI32 d32;
    QPackedHeader h{};
    h.zero_point = p.out.zero_point;
    h.min = p.out.min;
    h.max = p.out.max;
    h.shift = so;
    for (; i + 8 <= n; i += 8) {
      HWY_ALIGN int32_t sums[8];
      for (size_t j = 0; j < 8; ++j) sums[j] = p.a_rescaled[a[i + j]] + p.b_rescaled[b[i + j]];
      StoreBytes8(OutputStage4(hn::Load(d32, sums), ro, h), OutputStage4(hn::Load(d32, sums + 4), ro, h), h, out + i);
    }
  }
#endif
  for (; i < n; ++i) out[i] = QAddScalar(a[i], b[i], p);
}

// out may alias in.
HWY_NOINLINE void QRequantize(const uint8_t* in, size_t n, const QRequantParams& p, uint8_t* out) {
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  Requant4 r;
  int shift;
  if (BroadcastRequant(p.mult, 255, true, &r, &shift)) {
    QPackedHeader h{};
    h.zero_point = p.out.zero_point;
    h.min = p.out.min;
    h.max = p.out.max;
    h.shift = shift;
    for (; i + 8 <= n; i += 8) {
      VI32 lo, hi;
      LoadCentered8(in + i, p.input_zero_point, &lo, &hi);
      StoreBytes8(OutputStage4(lo, r, h), OutputStage4(hi, r, h), h, out + i);
    }
  }
#endif
  for (; i < n; ++i) out[i] = QRequantScalarByte(in[i], p);
}

// out[c] from the channel sum over all pixels, as qreference::GlobalAveragePool.
static inline uint8_t QPoolFinish(int32_t sum, int32_t count, const QPoolParams& p) {
  int32_t v = 0;
  switch (p.kind) {
    case QPoolParams::Kind::kAveragePool:
      v = count ? (sum + count / 2) / count : 0;
      break;
    case QPoolParams::Kind::kAveragePoolInt8: {
      const int32_t acc = sum - 128 * count;
      v = (count ? (acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count) : 0) + 128;
      break;
    }
    // In int64 and clamped: a saturated multiplier (an untrusted file's scales) puts the
    // product at the int32 limits, where rounding or adding the offset would overflow.
    case QPoolParams::Kind::kMean: {
      const int64_t acc = MultiplyByQuantizedMultiplier(sum - p.input_zero_point * count, p.mult);
      const int64_t mean = count ? (acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count) : 0;
      v = static_cast<int32_t>(std::clamp<int64_t>(mean + p.out.zero_point, -1, 256));
      break;
    }
    case QPoolParams::Kind::kMeanUint8:
      v = static_cast<int32_t>(
          std::clamp<int64_t>(int64_t{MultiplyByQuantizedMultiplier(sum, p.mult)} + p.offset, -1, 256));
      break;
  }
  return QClampByte(v, p.out);
}

// Channel sums vectorized (4 channels per vector, the last group re-based); the finish
// per channel is scalar (a few thousand values).
HWY_NOINLINE void QGlobalAveragePool(const uint8_t* HWY_RESTRICT in, size_t pixels, int channels,
                                     const QPoolParams& p, uint8_t* HWY_RESTRICT out) {
  if (channels <= 0) return;
  const size_t C = static_cast<size_t>(channels);
  const int32_t count = static_cast<int32_t>(pixels);
  size_t c = 0;
#if HWY_TARGET != HWY_SCALAR
  if (C >= 4) {
    const DI32 d32;
    const hn::Full32<uint8_t> du8;
    for (size_t g = 0; g < (C + 3) / 4; ++g) {
      c = HWY_MIN(g * 4, C - 4);
      auto sum = hn::Zero(d32);
      for (size_t i = 0; i < pixels; ++i) sum = hn::Add(sum, hn::PromoteTo(d32, hn::LoadU(du8, in + i * C + c)));
      HWY_ALIGN int32_t sums[4];
      hn::Store(sum, d32, sums);
      for (size_t j = 0; j < 4; ++j) out[c + j] = QPoolFinish(sums[j], count, p);
    }
    return;
  }
#endif
  for (; c < C; ++c) {
    int32_t sum = 0;
    for (size_t i = 0; i < pixels; ++i) sum += in[i * C + c];
    out[c] = QPoolFinish(sum, count, p);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_QELEMENTWISE_INL_H_
