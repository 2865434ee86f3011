// The quantized GEMM on the relaxed dot product (relaxed.h), on panels packed for it
// (qpacked.h: int8 quads, QPackedHeader::relaxed):
//   C[m][j] = requantize(bias'[j] + sum_k a[j][k] * x'[m][k] + row_sum_factor * sum_k x[m][k])
// where x' is the input byte XORed with input_xor (read by the instruction as the engine's
// form reads it) and a the weight minus row_sum_factor (so that it fits int8); PackQGemm
// folds the rest into bias'. Like the int16 kernel (qgemm-inl.h), rows are first staged, a
// group at a time (here as bytes, with their sums), and every panel runs over the group.
//
// The micro-kernel: kRows (<= 4) rows x one panel of 8 channels, two int32 accumulators per
// row of four channels each. Per quad of k: the panel's two weight vectors (4 channels x 4
// weights), each row's quad splatted into every 32-bit lane by one load, and one relaxed dot
// product per row and vector: 16 multiply-adds each, accumulate included. One quad per loop
// iteration, as in the int16 kernel (14 live vectors, nothing spilled).
//
// QRelaxedTiles (the loop over a panel's tiles) is the function the relaxed WebAssembly
// build's kernel module exports; QGemmRelaxedPanels (the staging and the loop over panels)
// stays in the main module. Natively both are compiled per target, with an exact emulation
// of the instruction's form.

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/qpacked.h"
#include "kernels/relaxed.h"

#if defined(MNV2_KERNELS_QGEMM_RELAXED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_QGEMM_RELAXED_INL_H_
#undef MNV2_KERNELS_QGEMM_RELAXED_INL_H_
#else
#define MNV2_KERNELS_QGEMM_RELAXED_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/requant-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR && defined(MNV2_RELAXED_QGEMM)
using DI8 = hn::Full128<int8_t>;

// acc + in each lane j, sum over t < 4 of w[4j + t] * x[4j + t], x's bytes read in the form
// `mode` (RelaxedDot) says.
HWY_INLINE VI32 DotQuads(VI32 acc, hn::Vec<DI8> w, hn::Vec<DI8> x, int32_t mode) {
#if HWY_TARGET == HWY_WASM && defined(__wasm_relaxed_simd__)
  (void)mode;
  return VI32{wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w.raw, x.raw, acc.raw)};
#else
  HWY_ALIGN int8_t wb[16], xb[16];
  HWY_ALIGN int32_t sum[4];
  hn::Store(w, DI8(), wb);
  hn::Store(x, DI8(), xb);
  hn::Store(acc, DI32(), sum);
  for (size_t i = 0; i < 16; ++i) {
    const int32_t xi = mode == static_cast<int32_t>(RelaxedDot::kSigned) ? xb[i] : static_cast<uint8_t>(xb[i]);
    sum[i / 4] += wb[i] * xi;
  }
  return hn::Load(DI32(), sum);
#endif
}

// The quad (k .. k + 3) of a staged row in every 32-bit lane.
HWY_INLINE hn::Vec<DI8> LoadQuad(const uint8_t* HWY_RESTRICT p) {
#if HWY_TARGET == HWY_WASM
  return hn::Vec<DI8>{wasm_v128_load32_splat(p)};
#else
  int32_t bits;
  memcpy(&bits, p, sizeof(bits));
  return hn::BitCast(DI8(), hn::Set(DI32(), bits));
#endif
}

// One tile: `rows` (<= kRows) staged rows; a short tile repeats its last row and does not
// store the repeats. Writes 8 bytes a row.
template <size_t kRows>
HWY_INLINE void QRelaxedTile(const uint8_t* HWY_RESTRICT x_rows, size_t rows, size_t kc,
                             const int32_t* HWY_RESTRICT row_sums, const QChannelParams& params,
                             const int8_t* HWY_RESTRICT weights, uint8_t* HWY_RESTRICT c, size_t c_stride,
                             const QPackedHeader& h) {
  const DI32 d32;
  const DI8 d8;
  const uint8_t* x[kRows];
  VI32 acc[kRows][2];
  const auto bias0 = hn::LoadU(d32, params.bias), bias1 = hn::LoadU(d32, params.bias + 4);
  for (size_t r = 0; r < kRows; ++r) {
    x[r] = x_rows + HWY_MIN(r, rows - 1) * kc;
    acc[r][0] = bias0;
    acc[r][1] = bias1;
  }
  const int8_t* HWY_RESTRICT w = weights;
  MNV2_NO_UNROLL
  for (size_t i = 0; i < kc; i += 4, w += kQGemmPanel * 4) {
    const auto w0 = hn::LoadU(d8, w), w1 = hn::LoadU(d8, w + 16);
    for (size_t r = 0; r < kRows; ++r) {
      const auto quad = LoadQuad(x[r] + i);
      acc[r][0] = DotQuads(acc[r][0], w0, quad, h.relaxed);
      acc[r][1] = DotQuads(acc[r][1], w1, quad, h.relaxed);
    }
  }
  const Requant4 rq0 = LoadRequant4(params, 0), rq1 = LoadRequant4(params, 4);
  WithOutputVariant(h, [&](auto scaled, auto relu) MNV2_INLINE_LAMBDA {
    constexpr bool kScaled = decltype(scaled)::value, kRelu = decltype(relu)::value;
    for (size_t r = 0; r < kRows; ++r) {  // (a constant bound keeps acc in registers)
      if (r >= rows) break;
      const VI32 sum = hn::Set(d32, h.row_sum_factor * row_sums[r]);
      const VI32 lo = OutputStage4<kScaled, kRelu>(hn::Add(acc[r][0], sum), rq0, h);
      const VI32 hi = OutputStage4<kScaled, kRelu>(hn::Add(acc[r][1], sum), rq1, h);
      StoreBytes8(lo, hi, h, c + r * c_stride);
    }
  });
}

// `rows` staged rows of kc bytes (kc apart) and their sums, times one panel: 8 bytes a row.
HWY_INLINE void QRelaxedTiles(const uint8_t* HWY_RESTRICT x_rows, size_t rows, size_t kc,
                              const int32_t* HWY_RESTRICT row_sums, const uint8_t* HWY_RESTRICT panel,
                              uint8_t* HWY_RESTRICT c, size_t c_stride, const QPackedHeader& h) {
  const QChannelParams params = QChannelParamsAt(panel, kQGemmPanel);
  const int8_t* weights = reinterpret_cast<const int8_t*>(panel + QChannelParamsBytes(kQGemmPanel));
  for (size_t row = 0; row < rows; row += 4) {
    const size_t left = HWY_MIN(size_t{4}, rows - row);
    if (left == 1) {
      QRelaxedTile<1>(x_rows + row * kc, 1, kc, row_sums + row, params, weights, c + row * c_stride, c_stride, h);
    } else {
      QRelaxedTile<4>(x_rows + row * kc, left, kc, row_sums + row, params, weights, c + row * c_stride, c_stride, h);
    }
  }
}

#if !defined(MNV2_RELAXED_KERNEL_MODULE)
// Rows staged per group, at most (their sums and a short panel's output sit on the stack too).
constexpr size_t kQRelaxedGroupRows = 256;

// A panel's tiles: from the kernel module in the relaxed WebAssembly build, this target's
// otherwise. A separate call per panel and group, as for the int16 kernel.
HWY_NOINLINE void QRelaxedPanel(const uint8_t* x_rows, size_t rows, size_t kc, const int32_t* row_sums,
                                const uint8_t* panel, uint8_t* c, size_t c_stride, const QPackedHeader& h) {
#if defined(MNV2_RELAXED_IMPORTS)
  mnv2_relaxed_qgemm_tiles(x_rows, rows, kc, row_sums, panel, c, c_stride, &h);
#else
  QRelaxedTiles(x_rows, rows, kc, row_sums, panel, c, c_stride, h);
#endif
}

// QGemm for a layer packed for the relaxed dot product.
HWY_INLINE void QGemmRelaxedPanels(const uint8_t* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                                   const uint8_t* HWY_RESTRICT panels, size_t n, uint8_t* HWY_RESTRICT c,
                                   size_t c_stride, const QPackedHeader& h) {
  const size_t kc = QRelaxedDepth(static_cast<int>(k));
  const size_t panel_bytes = QRelaxedPanelBytes(static_cast<int>(k));
  HWY_ALIGN uint8_t staged[kQRelaxedStageBytes];
  int32_t sums[kQRelaxedGroupRows];
  uint8_t short_panel[kQRelaxedGroupRows * kQGemmPanel];  // the last panel's, under 8 channels
  size_t group = HWY_MIN(kQRelaxedStageBytes / HWY_MAX(kc, size_t{1}), kQRelaxedGroupRows);
  if (group > 4) group -= group % 4;
  const uint8_t flip = static_cast<uint8_t>(h.input_xor);
  for (size_t row0 = 0; row0 < m; row0 += group) {
    const size_t rows = HWY_MIN(group, m - row0);
    for (size_t r = 0; r < rows; ++r) {
      const uint8_t* in = a + (row0 + r) * a_stride;
      uint8_t* x = staged + r * kc;
      int32_t sum = 0;
      for (size_t i = 0; i < k; ++i) {
        sum += in[i];
        x[i] = in[i] ^ flip;
      }
      for (size_t i = k; i < kc; ++i) x[i] = 0;
      sums[r] = sum;
    }
    const uint8_t* panel = panels;
    for (size_t col = 0; col < n; col += kQGemmPanel, panel += panel_bytes) {
      const size_t cols = HWY_MIN(static_cast<size_t>(kQGemmPanel), n - col);
      uint8_t* out = c + row0 * c_stride + col;
      if (cols == kQGemmPanel) {
        QRelaxedPanel(staged, rows, kc, sums, panel, out, c_stride, h);
        continue;
      }
      QRelaxedPanel(staged, rows, kc, sums, panel, short_panel, kQGemmPanel, h);
      for (size_t r = 0; r < rows; ++r) memcpy(out + r * c_stride, short_panel + r * kQGemmPanel, cols);
    }
  }
}
#endif  // !MNV2_RELAXED_KERNEL_MODULE
#endif  // HWY_TARGET != HWY_SCALAR && MNV2_RELAXED_QGEMM

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_QGEMM_RELAXED_INL_H_
