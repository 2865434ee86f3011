// Quantized GEMM on packed panels (layout in qpacked.h):
//   C[m][j] = requantize(bias'[j] + sum_k A[m][k] * W[j][k])
// with the input zero point folded into bias' at packing time, so the inner loop
// multiplies raw uint8 inputs.
//
// Rows of A are first staged as int16 (zero-padded to a multiple of 8 along k), a group
// of rows at a time in a stack buffer, and every panel then runs over the staged group.
// The micro-kernel takes kRows (<= kQGemmRows) rows x one panel of 8 output channels,
// whose int32 accumulators hold one channel per lane (two vectors per row), starting
// from the bias. For each pair (k, k+1), a splatting load puts a row's pair in every
// 32-bit lane and DotPairs (i32x4.dot_i16x8_s on WebAssembly, pmaddwd on x86) multiplies
// it with the panel's 8 channels x 2 weights: 8 multiply-adds per instruction, no shuffle,
// and no reduction across lanes at the end, so the output stage requantizes the
// accumulators as they are. Staging once per group instead of widening in every tile made
// the large-k layers about 20% faster. Like the float GEMM's tile, the tiles
// of a panel are a separate HWY_NOINLINE function, inlined into QGemm in the WebAssembly
// module (see gemm-inl.h).
//
// One pair per loop iteration, not unrolled: V8's optimizing compiler schedules every load
// of an iteration first, and four pairs per iteration kept 24 loaded vectors live next to
// the 8 accumulators, more than x86-64 has registers: it spilled accumulators and splats to
// the machine stack on every iteration. Besides their own cost, those stack accesses can
// collide with loads of rows and weights whose addresses share their low 12 bits (4K
// aliasing, the likely cause): some processes, and some stack depths of the caller within
// one process, ran the int8 network 35-140% slower than others. One pair keeps 14 vectors
// live, spills nothing and measured 5% faster besides.

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/out_of_line.h"
#include "kernels/qpacked.h"

#if defined(MNV2_KERNELS_QGEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_QGEMM_INL_H_
#undef MNV2_KERNELS_QGEMM_INL_H_
#else
#define MNV2_KERNELS_QGEMM_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/qgemm_relaxed-inl.h"
#include "kernels/requant-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
// Rows per micro-kernel: 4 x 2 accumulators, 2 weight vectors and the 4 rows' splatted
// pairs (all loaded before the first multiply) use 14 of the 15 SIMD registers V8
// allocates on x86-64 (where V8 runs WebAssembly SIMD).
constexpr size_t kQGemmRows = 4;

// The pair (k, k + 1) of a staged row in every 32-bit lane: no shuffle, so each multiply-add
// costs the dot product and its add.
HWY_INLINE hn::Vec<DI16> LoadPair(const int16_t* HWY_RESTRICT p) { return LoadSplat32(DI16(), p); }

// The pair (i, i + 1) of every row against the panel's 8 channels x 2 weights of that pair.
template <size_t kRows>
HWY_INLINE void QGemmPair(const int16_t* const (&x)[kRows], size_t i, const int16_t* HWY_RESTRICT w,
                          VI32 (&acc)[kRows][2], VI32 (&odd)[kRows][2]) {
  const DI16 d16;
  const auto w0 = hn::LoadU(d16, w);
  const auto w1 = hn::LoadU(d16, w + 8);
  for (size_t r = 0; r < kRows; ++r) {
    const auto pair = LoadPair(x[r] + i);
    acc[r][0] = DotPairs(acc[r][0], pair, w0, odd[r][0]);
    acc[r][1] = DotPairs(acc[r][1], pair, w1, odd[r][1]);
  }
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
      StoreBytes8(lo, hi, h, c + r * c_stride);
    } else {
      StoreBytes4(lo, h, c + r * c_stride, HWY_MIN(cols, size_t{4}));
      if (cols > 4) StoreBytes4(hi, h, c + r * c_stride + 4, cols - 4);
    }
  }
}

// `row_count` staged rows of `kc` (a multiple of 8) int16 inputs, `x_stride` apart, times one
// panel, kRows rows per tile; a last tile of fewer rows repeats its last row and does not
// store the repeats. The layer's requantization variant (h.scaled, h.relu) is chosen per
// tile, in the output stage only: one copy of the multiply loop per tile size keeps the
// module small. One call per panel and group: the panel's setup is shared by its tiles.
template <size_t kRows>
HWY_NOINLINE void QGemmTiles(const int16_t* HWY_RESTRICT x_rows, size_t x_stride, size_t row_count, size_t kc,
                             const uint8_t* HWY_RESTRICT panel, uint8_t* HWY_RESTRICT c, size_t c_stride,
                             size_t cols, const QPackedHeader& h) {
  static_assert(kRows >= 1 && kRows <= kQGemmRows, "rows");
  static_assert(kQGemmPanel == 8, "two vectors of four channels");
  const DI32 d32;
  const QChannelParams params = QChannelParamsAt(panel, kQGemmPanel);
  const int16_t* HWY_RESTRICT weights = reinterpret_cast<const int16_t*>(panel + QChannelParamsBytes(kQGemmPanel));
  const auto bias0 = hn::LoadU(d32, params.bias), bias1 = hn::LoadU(d32, params.bias + 4);
  for (size_t row = 0; row < row_count; row += kRows, x_rows += kRows * x_stride, c += kRows * c_stride) {
    const size_t rows = HWY_MIN(kRows, row_count - row);
    const int16_t* x[kRows];
    for (size_t r = 0; r < kRows; ++r) x[r] = x_rows + HWY_MIN(r, rows - 1) * x_stride;
    VI32 acc[kRows][2], odd[kRows][2];
    for (size_t r = 0; r < kRows; ++r) {
      acc[r][0] = bias0;
      acc[r][1] = bias1;
      odd[r][0] = odd[r][1] = hn::Zero(d32);
    }
    // Consecutive pairs' weights are consecutive (qpacked.h). One pair per iteration (above).
    const int16_t* HWY_RESTRICT w = weights;
    MNV2_NO_UNROLL
    for (size_t i = 0; i < kc; i += 2, w += kQGemmPanel * 2) QGemmPair(x, i, w, acc, odd);
    for (size_t r = 0; r < kRows; ++r) {
      acc[r][0] = hn::RearrangeToOddPlusEven(acc[r][0], odd[r][0]);
      acc[r][1] = hn::RearrangeToOddPlusEven(acc[r][1], odd[r][1]);
    }

    if (HWY_LIKELY(h.vector)) {
      WithOutputVariant(h, [&](auto scaled, auto relu) MNV2_INLINE_LAMBDA {
        QGemmStore<decltype(scaled)::value, decltype(relu)::value>(acc, rows, params, c, c_stride, cols, h);
      });
      continue;
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
}

// Stages `rows` rows of k bytes as int16, zero-padded to kc (a multiple of 8), x_stride apart.
HWY_INLINE void QGemmStageRows(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t rows, size_t k, size_t kc,
                               int16_t* HWY_RESTRICT x) {
  const DI16 d16;
  const hn::Rebind<uint8_t, DI16> du8;  // 8 bytes
  for (size_t r = 0; r < rows; ++r, a += a_stride, x += kc) {
    size_t i = 0;
    for (; i + 8 <= k; i += 8) hn::Store(hn::PromoteTo(d16, hn::LoadU(du8, a + i)), d16, x + i);
    if (i < kc) {
      uint8_t buf[8] = {0};
      memcpy(buf, a + i, k - i);
      hn::Store(hn::PromoteTo(d16, hn::LoadU(du8, buf)), d16, x + i);
    }
  }
}

// Bytes of int16 rows staged at a time, on the stack.
constexpr size_t kQGemmStageBytes = 32768;

HWY_INLINE void QGemmPanels(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                            const uint8_t* HWY_RESTRICT packed_panels, size_t n, uint8_t* HWY_RESTRICT c,
                            size_t c_stride, const QPackedHeader& h) {
  const size_t panel_bytes = QGemmPanelBytes(static_cast<int>(k));
  const size_t kc = QGemmChunks(static_cast<int>(k)) * 8;
  HWY_ALIGN int16_t staged[kQGemmStageBytes / sizeof(int16_t)];
  // Rows go in groups that fit the stage, whole tiles where k allows.
  size_t group = kQGemmStageBytes / sizeof(int16_t) / HWY_MAX(kc, size_t{1});
  if (group > kQGemmRows) group -= group % kQGemmRows;
  for (size_t row0 = 0; row0 < m; row0 += group) {
    const size_t group_rows = HWY_MIN(group, m - row0);
    QGemmStageRows(a + row0 * a_stride, a_stride, group_rows, k, kc, staged);
    // Panel-outer: one panel's weights stay in L1 while the staged rows stream past. A single
    // last row (the classifier's, or one past whole tiles) takes the one-row tile.
    const size_t single = group_rows % kQGemmRows == 1 ? 1 : 0;
    const size_t tiled = group_rows - single;
    const uint8_t* panel = packed_panels;
    for (size_t col = 0; col < n; col += kQGemmPanel, panel += panel_bytes) {
      const size_t cols = HWY_MIN(static_cast<size_t>(kQGemmPanel), n - col);
      uint8_t* out = c + row0 * c_stride + col;
      if (tiled > 0) QGemmTiles<kQGemmRows>(staged, kc, tiled, kc, panel, out, c_stride, cols, h);
      if (single) QGemmTiles<1>(staged + tiled * kc, kc, 1, kc, panel, out + tiled * c_stride, c_stride, cols, h);
    }
  }
}

HWY_NOINLINE void QGemm(const uint8_t* HWY_RESTRICT a, size_t a_stride, int m, int k,
                        const uint8_t* HWY_RESTRICT packed, int n, uint8_t* HWY_RESTRICT c, size_t c_stride) {
  if (m <= 0 || n <= 0 || k < 0) return;
  QPackedHeader h;
  memcpy(&h, packed, sizeof(h));
  const size_t mm = static_cast<size_t>(m), nn = static_cast<size_t>(n), kk = static_cast<size_t>(k);
#if defined(MNV2_RELAXED_QGEMM)
  if (h.relaxed) return QGemmRelaxedPanels(a, a_stride, mm, kk, packed + sizeof(QPackedHeader), nn, c, c_stride, h);
#endif
  // Past a row per stage (k > 16384; no real layer), the exact scalar kernel.
  if (QGemmChunks(k) * 8 * sizeof(int16_t) > kQGemmStageBytes) {
    return OutOfLine(&QGemmScalar)(a, a_stride, m, k, packed, n, c, c_stride);
  }
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
