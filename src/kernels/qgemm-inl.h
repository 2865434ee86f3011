// Quantized GEMM on packed panels (layout in qpacked.h):
//   C[m][j] = requantize(bias'[j] + sum_k A[m][k] * W[j][k])
// with the input zero point folded into bias' at packing time, so the inner loop
// multiplies raw uint8 inputs.
//
// The micro-kernel takes kRows (<= kQGemmRows) rows x one panel of 4 output
// channels, k in chunks of 8: each chunk of a row is widened to 8 int16 lanes once
// and multiplied with each channel's 8 weights by ReorderWidenMulAccumulate
// (i32x4.dot_i16x8_s on WebAssembly, pmaddwd on x86) into one int32x4 accumulator
// per (row, channel); a transpose-and-add at the end leaves one lane per channel.
// Like the float GEMM, it is a separate HWY_NOINLINE function per tile so that V8
// tiers it up early.

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/qpacked.h"

#if defined(MNV2_KERNELS_QGEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_QGEMM_INL_H_
#undef MNV2_KERNELS_QGEMM_INL_H_
#else
#define MNV2_KERNELS_QGEMM_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/requant-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
// Rows per micro-kernel: 3 x 4 accumulators, 3 inputs and a weight vector fill the 16
// SIMD registers of x86-64 (where V8 runs WebAssembly SIMD).
constexpr size_t kQGemmRows = 3;

// Lane c = the sum of the lanes of s[c].
HWY_INLINE VI32 SumEachOf4(VI32 s0, VI32 s1, VI32 s2, VI32 s3) {
  const DI32 d;
  const auto t0 = hn::Add(hn::InterleaveLower(d, s0, s1), hn::InterleaveUpper(d, s0, s1));
  const auto t1 = hn::Add(hn::InterleaveLower(d, s2, s3), hn::InterleaveUpper(d, s2, s3));
  return hn::Add(hn::ConcatLowerLower(d, t1, t0), hn::ConcatUpperUpper(d, t1, t0));
}

template <size_t kRows, bool kScaled, bool kTies>
HWY_NOINLINE void QGemmTile(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t k,
                            const uint8_t* HWY_RESTRICT panel, uint8_t* HWY_RESTRICT c, size_t c_stride,
                            size_t cols, const QPackedHeader& h) {
  static_assert(kRows >= 1 && kRows <= kQGemmRows, "rows");
  const DI16 d16;
  const DI32 d32;
  const hn::Rebind<uint8_t, DI16> du8;  // 8 bytes
  const QChannelParams params = QChannelParamsAt(panel, kQGemmPanel);
  const int16_t* HWY_RESTRICT w = reinterpret_cast<const int16_t*>(panel + QChannelParamsBytes(kQGemmPanel));

  VI32 acc[kRows][kQGemmPanel], odd[kRows][kQGemmPanel];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t j = 0; j < kQGemmPanel; ++j) acc[r][j] = odd[r][j] = hn::Zero(d32);
  }
  const size_t full = k / 8;
  for (size_t i = 0; i < full; ++i, w += kQGemmPanel * 8) {
    hn::Vec<DI16> x[kRows];
    for (size_t r = 0; r < kRows; ++r) x[r] = hn::PromoteTo(d16, hn::LoadU(du8, a + r * a_stride + i * 8));
    for (size_t j = 0; j < kQGemmPanel; ++j) {
      const auto wj = hn::LoadU(d16, w + j * 8);
      for (size_t r = 0; r < kRows; ++r) acc[r][j] = hn::ReorderWidenMulAccumulate(d32, x[r], wj, acc[r][j], odd[r][j]);
    }
  }
  if (k % 8 != 0) {
    // Last, partial chunk: the inputs go through a zeroed buffer (the weights are zero-padded).
    hn::Vec<DI16> x[kRows];
    for (size_t r = 0; r < kRows; ++r) {
      uint8_t buf[8] = {0};
      memcpy(buf, a + r * a_stride + full * 8, k % 8);
      x[r] = hn::PromoteTo(d16, hn::LoadU(du8, buf));
    }
    for (size_t j = 0; j < kQGemmPanel; ++j) {
      const auto wj = hn::LoadU(d16, w + j * 8);
      for (size_t r = 0; r < kRows; ++r) acc[r][j] = hn::ReorderWidenMulAccumulate(d32, x[r], wj, acc[r][j], odd[r][j]);
    }
  }

  const auto bias = hn::LoadU(d32, params.bias);
  if (HWY_LIKELY(h.vector)) {
    const Requant4 rq = LoadRequant4(params, 0);
    for (size_t r = 0; r < kRows; ++r) {
      const VI32 sums = SumEachOf4(hn::Add(acc[r][0], odd[r][0]), hn::Add(acc[r][1], odd[r][1]),
                                   hn::Add(acc[r][2], odd[r][2]), hn::Add(acc[r][3], odd[r][3]));
      StoreBytes4(OutputStage4<kScaled, kTies>(hn::Add(sums, bias), rq, h), c + r * c_stride, cols);
    }
    return;
  }
  for (size_t r = 0; r < kRows; ++r) {
    const VI32 sums = SumEachOf4(hn::Add(acc[r][0], odd[r][0]), hn::Add(acc[r][1], odd[r][1]),
                                 hn::Add(acc[r][2], odd[r][2]), hn::Add(acc[r][3], odd[r][3]));
    HWY_ALIGN int32_t buf[4];
    hn::Store(hn::Add(sums, bias), d32, buf);
    for (size_t j = 0; j < cols; ++j) {
      c[r * c_stride + j] = QRequantScalar(buf[j], params.tfl_mult[j], params.tfl_shift[j], h);
    }
  }
}

template <bool kScaled, bool kTies>
HWY_INLINE void QGemmPanels(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                            const uint8_t* HWY_RESTRICT panel, size_t n, uint8_t* HWY_RESTRICT c, size_t c_stride,
                            const QPackedHeader& h) {
  static_assert(kQGemmRows == 3, "update the switch below");
  const size_t panel_bytes = QGemmPanelBytes(static_cast<int>(k));
  // Panel-outer: one panel's weights stay in L1 while the rows stream past.
  for (size_t col = 0; col < n; col += kQGemmPanel, panel += panel_bytes) {
    const size_t cols = HWY_MIN(static_cast<size_t>(kQGemmPanel), n - col);
    size_t row = 0;
    for (; row + kQGemmRows <= m; row += kQGemmRows) {
      QGemmTile<kQGemmRows, kScaled, kTies>(a + row * a_stride, a_stride, k, panel, c + row * c_stride + col,
                                           c_stride, cols, h);
    }
    switch (m - row) {
      case 2:
        QGemmTile<2, kScaled, kTies>(a + row * a_stride, a_stride, k, panel, c + row * c_stride + col, c_stride,
                                     cols, h);
        break;
      case 1:
        QGemmTile<1, kScaled, kTies>(a + row * a_stride, a_stride, k, panel, c + row * c_stride + col, c_stride,
                                     cols, h);
        break;
      default:
        break;
    }
  }
}

HWY_NOINLINE void QGemm(const uint8_t* HWY_RESTRICT a, size_t a_stride, int m, int k,
                        const uint8_t* HWY_RESTRICT packed, int n, uint8_t* HWY_RESTRICT c, size_t c_stride) {
  if (m <= 0 || n <= 0 || k < 0) return;
  QPackedHeader h;
  memcpy(&h, packed, sizeof(h));
  const size_t mm = static_cast<size_t>(m), nn = static_cast<size_t>(n), kk = static_cast<size_t>(k);
  const uint8_t* panel = packed + sizeof(QPackedHeader);
  if (h.scaled) {
    if (h.ties) return QGemmPanels<true, true>(a, a_stride, mm, kk, panel, nn, c, c_stride, h);
    return QGemmPanels<true, false>(a, a_stride, mm, kk, panel, nn, c, c_stride, h);
  }
  if (h.ties) return QGemmPanels<false, true>(a, a_stride, mm, kk, panel, nn, c, c_stride, h);
  QGemmPanels<false, false>(a, a_stride, mm, kk, panel, nn, c, c_stride, h);
}
#else   // HWY_SCALAR: one lane is no vector.
HWY_NOINLINE void QGemm(const uint8_t* a, size_t a_stride, int m, int k, const uint8_t* packed, int n, uint8_t* c,
                        size_t c_stride) {
  QGemmScalar(a, a_stride, m, k, packed, n, c, c_stride);
}
#endif  // HWY_TARGET != HWY_SCALAR

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_QGEMM_INL_H_
