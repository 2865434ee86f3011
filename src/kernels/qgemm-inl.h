// Quantized GEMM on packed panels (layout in qpacked.h):
//   C[m][j] = requantize(bias'[j] + sum_k A[m][k] * W[j][k])
// with the input zero point folded into bias' at packing time, so the inner loop
// multiplies raw uint8 inputs.
//
// The micro-kernel takes kRows (<= kQGemmRows) rows x one panel of 8 output channels,
// whose int32 accumulators hold one channel per lane (two vectors per row), starting
// from the bias. k runs in chunks of 8: a row's chunk is widened to 8 int16 lanes once;
// for each of its 4 pairs (k, k+1) the pair is broadcast to every 32-bit lane and
// multiplied with the panel's 8 channels x 2 weights by ReorderWidenMulAccumulate
// (i32x4.dot_i16x8_s on WebAssembly, pmaddwd on x86): 8 multiply-adds per instruction
// and no reduction across lanes at the end, so the output stage requantizes the
// accumulators as they are. Like the float GEMM, it is a separate HWY_NOINLINE function
// per tile so that V8 tiers it up early.

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
// Rows per micro-kernel: 4 x 2 accumulators, 4 widened input chunks, 2 weight vectors
// and a broadcast pair fill 15 of the 16 SIMD registers of x86-64 (where V8 runs
// WebAssembly SIMD).
constexpr size_t kQGemmRows = 4;

// Pair kPair of every row's chunk against the panel's weights of that pair.
template <int kPair, size_t kRows>
HWY_INLINE void QGemmPair(const hn::Vec<DI16> (&x)[kRows], const int16_t* HWY_RESTRICT w, VI32 (&acc)[kRows][2],
                          VI32 (&odd)[kRows][2]) {
  const DI16 d16;
  const DI32 d32;
  const auto w0 = hn::LoadU(d16, w + kPair * 16);
  const auto w1 = hn::LoadU(d16, w + kPair * 16 + 8);
  for (size_t r = 0; r < kRows; ++r) {
    const auto pair = hn::BitCast(d16, hn::Broadcast<kPair>(hn::BitCast(d32, x[r])));
    acc[r][0] = hn::ReorderWidenMulAccumulate(d32, pair, w0, acc[r][0], odd[r][0]);
    acc[r][1] = hn::ReorderWidenMulAccumulate(d32, pair, w1, acc[r][1], odd[r][1]);
  }
}

// One chunk of 8 along k (x: each row's 8 inputs as int16).
template <size_t kRows>
HWY_INLINE void QGemmChunk(const hn::Vec<DI16> (&x)[kRows], const int16_t* HWY_RESTRICT w, VI32 (&acc)[kRows][2],
                           VI32 (&odd)[kRows][2]) {
  QGemmPair<0>(x, w, acc, odd);
  QGemmPair<1>(x, w, acc, odd);
  QGemmPair<2>(x, w, acc, odd);
  QGemmPair<3>(x, w, acc, odd);
}

// The output stage of a tile: `rows` rows of requantized bytes, `cols` (<= 8) of them each.
template <bool kScaled, bool kRelu, size_t kRows>
HWY_INLINE void QGemmStore(const VI32 (&acc)[kRows][2], size_t rows, const QChannelParams& params, uint8_t* HWY_RESTRICT c,
                           size_t c_stride, size_t cols, const QPackedHeader& h) {
  const Requant4 rq0 = LoadRequant4(params, 0), rq1 = LoadRequant4(params, 4);
  for (size_t r = 0; r < kRows; ++r) {  // (a constant bound keeps acc in registers)
    if (r >= rows) break;
    const VI32 lo = OutputStage4<kScaled, kRelu>(acc[r][0], rq0, h);
    const VI32 hi = OutputStage4<kScaled, kRelu>(acc[r][1], rq1, h);
    if (HWY_LIKELY(cols == 8)) {
      StoreBytes8(lo, hi, c + r * c_stride);
    } else {
      StoreBytes4(lo, c + r * c_stride, HWY_MIN(cols, size_t{4}));
      if (cols > 4) StoreBytes4(hi, c + r * c_stride + 4, cols - 4);
    }
  }
}

// `rows` (<= kRows) rows are real: the others repeat the last one and are not stored. The
// layer's requantization variant (h.scaled, h.relu) is chosen per tile, in the output
// stage only: one copy of the multiply loop per tile size keeps the module small.
template <size_t kRows>
HWY_NOINLINE void QGemmTile(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t rows, size_t k,
                            const uint8_t* HWY_RESTRICT panel, uint8_t* HWY_RESTRICT c, size_t c_stride,
                            size_t cols, const QPackedHeader& h) {
  static_assert(kRows >= 1 && kRows <= kQGemmRows, "rows");
  const uint8_t* row_in[kRows];
  for (size_t r = 0; r < kRows; ++r) row_in[r] = a + HWY_MIN(r, rows - 1) * a_stride;
  static_assert(kQGemmPanel == 8, "two vectors of four channels");
  const DI16 d16;
  const DI32 d32;
  const hn::Rebind<uint8_t, DI16> du8;  // 8 bytes
  const QChannelParams params = QChannelParamsAt(panel, kQGemmPanel);
  const int16_t* HWY_RESTRICT w = reinterpret_cast<const int16_t*>(panel + QChannelParamsBytes(kQGemmPanel));

  VI32 acc[kRows][2], odd[kRows][2];
  const auto bias0 = hn::LoadU(d32, params.bias), bias1 = hn::LoadU(d32, params.bias + 4);
  for (size_t r = 0; r < kRows; ++r) {
    acc[r][0] = bias0;
    acc[r][1] = bias1;
    odd[r][0] = odd[r][1] = hn::Zero(d32);
  }
  const size_t full = k / 8;
  for (size_t i = 0; i < full; ++i, w += kQGemmPanel * 8) {
    hn::Vec<DI16> x[kRows];
    for (size_t r = 0; r < kRows; ++r) x[r] = hn::PromoteTo(d16, hn::LoadU(du8, row_in[r] + i * 8));
    QGemmChunk(x, w, acc, odd);
  }
  if (k % 8 != 0) {
    // Last, partial chunk: the inputs go through a zeroed buffer (the weights are zero-padded).
    hn::Vec<DI16> x[kRows];
    for (size_t r = 0; r < kRows; ++r) {
      uint8_t buf[8] = {0};
      memcpy(buf, row_in[r] + full * 8, k % 8);
      x[r] = hn::PromoteTo(d16, hn::LoadU(du8, buf));
    }
    QGemmChunk(x, w, acc, odd);
  }
  for (size_t r = 0; r < kRows; ++r) {
    acc[r][0] = hn::RearrangeToOddPlusEven(acc[r][0], odd[r][0]);
    acc[r][1] = hn::RearrangeToOddPlusEven(acc[r][1], odd[r][1]);
  }

  if (HWY_LIKELY(h.vector)) {
    return WithOutputVariant(h, [&](auto scaled, auto relu) MNV2_INLINE_LAMBDA {
      QGemmStore<decltype(scaled)::value, decltype(relu)::value>(acc, rows, params, c, c_stride, cols, h);
    });
  }
  for (size_t r = 0; r < kRows; ++r) {
    if (r >= rows) break;
    HWY_ALIGN int32_t buf[8];
    hn::Store(acc[r][0], d32, buf);
    hn::Store(acc[r][1], d32, buf + 4);
    for (size_t j = 0; j < cols; ++j) {
      c[r * c_stride + j] = QRequantScalar(buf[j], params.tfl_mult[j], params.tfl_shift[j], h);
    }
  }
}

HWY_INLINE void QGemmPanels(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                            const uint8_t* HWY_RESTRICT panel, size_t n, uint8_t* HWY_RESTRICT c, size_t c_stride,
                            const QPackedHeader& h) {
  const size_t panel_bytes = QGemmPanelBytes(static_cast<int>(k));
  // Panel-outer: one panel's weights stay in L1 while the rows stream past. A last group of
  // fewer than kQGemmRows rows runs the full tile (repeating its last row) except for a
  // single row (the classifier's).
  for (size_t col = 0; col < n; col += kQGemmPanel, panel += panel_bytes) {
    const size_t cols = HWY_MIN(static_cast<size_t>(kQGemmPanel), n - col);
    for (size_t row = 0; row < m; row += kQGemmRows) {
      const size_t rows = HWY_MIN(kQGemmRows, m - row);
      if (rows == 1) {
        QGemmTile<1>(a + row * a_stride, a_stride, 1, k, panel, c + row * c_stride + col, c_stride,
                                     cols, h);
      } else {
        QGemmTile<kQGemmRows>(a + row * a_stride, a_stride, rows, k, panel, c + row * c_stride + col,
                                              c_stride, cols, h);
      }
    }
  }
}

HWY_NOINLINE void QGemm(const uint8_t* HWY_RESTRICT a, size_t a_stride, int m, int k,
                        const uint8_t* HWY_RESTRICT packed, int n, uint8_t* HWY_RESTRICT c, size_t c_stride) {
  if (m <= 0 || n <= 0 || k < 0) return;
  QPackedHeader h;
  memcpy(&h, packed, sizeof(h));
  const size_t mm = static_cast<size_t>(m), nn = static_cast<size_t>(n), kk = static_cast<size_t>(k);
  QGemmPanels(a, a_stride, mm, kk, packed + sizeof(QPackedHeader), nn, c, c_stride, h);
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
