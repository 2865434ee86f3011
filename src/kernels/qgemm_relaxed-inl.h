// The quantized GEMM on the relaxed dot product (relaxed.h), on panels packed for it
// (qpacked.h: int8 quads, QPackedHeader::relaxed):
//   C[m][j] = requantize(bias'[j] + sum_k a[j][k] * x'[m][k] + row_sum_factor * sum_k x[m][k])
// where x' is the input byte XORed with input_xor (read by the instruction as the engine's
// form reads it) and a the weight minus row_sum_factor (so that it fits int8); PackQGemm
// folds the rest into bias'. Like the int16 kernel (qgemm-inl.h), rows are first staged, a
// group at a time (here as bytes, with their sums; in the unsigned form with k a multiple of 4
// they are read in place), and every panel runs over the group.
//
// The micro-kernel: 4 rows (or 1) x one panel of 8 channels, two int32 accumulators per row of
// four channels each. Per quad of k: the panel's two weight vectors (4 channels x 4
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

#if defined(MNV2_RELAXED_QGEMM)
HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
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

// The quad (k .. k + 3) of a row in every 32-bit lane.
HWY_INLINE hn::Vec<DI8> LoadQuad(const uint8_t* HWY_RESTRICT p) { return LoadSplat32(DI8(), p); }

// One row's output: its two accumulators (channels 0-3, 4-7) plus row_sum_factor times its
// input sum, requantized to 8 bytes.
template <bool kScaled, bool kRelu>
HWY_INLINE void QRelaxedStoreRow(VI32 lo, VI32 hi, int32_t row_sum, const Requant4& rq0, const Requant4& rq1,
                                 uint8_t* HWY_RESTRICT c, const QPackedHeader& h) {
  const VI32 sum = hn::Set(DI32(), h.row_sum_factor * row_sum);
  lo = hn::Add(lo, sum);
  hi = hn::Add(hi, sum);
  StoreBytes8(OutputStage4<kScaled, kRelu>(lo, rq0, h), OutputStage4<kScaled, kRelu>(hi, rq1, h), h, c);
}

// fn(scaled, relu, rq0, rq1): the tile's requantization variant (std::bool_constant arguments,
// as WithOutputVariant gives them) and the constants of its two groups of channels, loaded
// inside it, so that each variant loads only the constants it reads: the ReLU form 8 vectors,
// not 20 (20 beside the 8 accumulators are more than x86's 16 vector registers).
template <class Fn>
HWY_INLINE void QRelaxedWithRequant(const QChannelParams& params, const QPackedHeader& h, Fn&& fn) {
  WithOutputVariant(h, [&](auto scaled, auto relu) MNV2_INLINE_LAMBDA {
    fn(scaled, relu, LoadRequant4(params, 0), LoadRequant4(params, 4));
  });
}

// A tile of 4 rows (`rows` of them real: a short tile repeats its last row and does not store
// the repeats), or of 1. The accumulators are named variables, not an array: clang 19 kept an
// array of them in a stack frame, which the kernel module cannot have (relaxed_kernels.cc).
HWY_INLINE void QRelaxedTile4(const uint8_t* HWY_RESTRICT x_rows, size_t x_stride, size_t rows, size_t kc,
                              const int32_t* HWY_RESTRICT row_sums, const QChannelParams& params,
                              const int8_t* HWY_RESTRICT weights, uint8_t* HWY_RESTRICT c, size_t c_stride,
                              const QPackedHeader& h) {
  const DI32 d32;
  const DI8 d8;
  const uint8_t* HWY_RESTRICT x0 = x_rows;
  const uint8_t* HWY_RESTRICT x1 = x_rows + HWY_MIN(size_t{1}, rows - 1) * x_stride;
  const uint8_t* HWY_RESTRICT x2 = x_rows + HWY_MIN(size_t{2}, rows - 1) * x_stride;
  const uint8_t* HWY_RESTRICT x3 = x_rows + HWY_MIN(size_t{3}, rows - 1) * x_stride;
  const auto b0 = hn::LoadU(d32, params.bias), b1 = hn::LoadU(d32, params.bias + 4);
  VI32 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
  const int8_t* HWY_RESTRICT w = weights;
  const int32_t mode = h.relaxed;
  MNV2_NO_UNROLL
  for (size_t i = 0; i < kc; i += 4, w += kQGemmPanel * 4) {
    const auto w0 = hn::LoadU(d8, w), w1 = hn::LoadU(d8, w + 16);
    const auto q0 = LoadQuad(x0 + i), q1 = LoadQuad(x1 + i), q2 = LoadQuad(x2 + i), q3 = LoadQuad(x3 + i);
    a00 = DotQuads(a00, w0, q0, mode);
    a01 = DotQuads(a01, w1, q0, mode);
    a10 = DotQuads(a10, w0, q1, mode);
    a11 = DotQuads(a11, w1, q1, mode);
    a20 = DotQuads(a20, w0, q2, mode);
    a21 = DotQuads(a21, w1, q2, mode);
    a30 = DotQuads(a30, w0, q3, mode);
    a31 = DotQuads(a31, w1, q3, mode);
  }
  QRelaxedWithRequant(params, h, [&](auto scaled, auto relu, const Requant4& rq0, const Requant4& rq1)
                                      MNV2_INLINE_LAMBDA {
    constexpr bool kScaled = decltype(scaled)::value, kRelu = decltype(relu)::value;
    QRelaxedStoreRow<kScaled, kRelu>(a00, a01, row_sums[0], rq0, rq1, c, h);
    if (rows > 1) QRelaxedStoreRow<kScaled, kRelu>(a10, a11, row_sums[1], rq0, rq1, c + c_stride, h);
    if (rows > 2) QRelaxedStoreRow<kScaled, kRelu>(a20, a21, row_sums[2], rq0, rq1, c + 2 * c_stride, h);
    if (rows > 3) QRelaxedStoreRow<kScaled, kRelu>(a30, a31, row_sums[3], rq0, rq1, c + 3 * c_stride, h);
  });
}

HWY_INLINE void QRelaxedTile1(const uint8_t* HWY_RESTRICT x, size_t kc, const int32_t* HWY_RESTRICT row_sums,
                              const QChannelParams& params, const int8_t* HWY_RESTRICT weights,
                              uint8_t* HWY_RESTRICT c, const QPackedHeader& h) {
  const DI8 d8;
  VI32 a0 = hn::LoadU(DI32(), params.bias), a1 = hn::LoadU(DI32(), params.bias + 4);
  const int8_t* HWY_RESTRICT w = weights;
  const int32_t mode = h.relaxed;
  MNV2_NO_UNROLL
  for (size_t i = 0; i < kc; i += 4, w += kQGemmPanel * 4) {
    const auto q = LoadQuad(x + i);
    a0 = DotQuads(a0, hn::LoadU(d8, w), q, mode);
    a1 = DotQuads(a1, hn::LoadU(d8, w + 16), q, mode);
  }
  QRelaxedWithRequant(params, h, [&](auto scaled, auto relu, const Requant4& rq0, const Requant4& rq1)
                                      MNV2_INLINE_LAMBDA {
    QRelaxedStoreRow<decltype(scaled)::value, decltype(relu)::value>(a0, a1, row_sums[0], rq0, rq1, c, h);
  });
}

// `rows` rows of kc bytes (x_stride apart) and their sums, times one panel: 8 bytes a row.
HWY_INLINE void QRelaxedTiles(const uint8_t* HWY_RESTRICT x_rows, size_t x_stride, size_t rows, size_t kc,
                              const int32_t* HWY_RESTRICT row_sums, const uint8_t* HWY_RESTRICT panel,
                              uint8_t* HWY_RESTRICT c, size_t c_stride, const QPackedHeader& h) {
  const QChannelParams params = QChannelParamsAt(panel, kQGemmPanel);
  const int8_t* weights = reinterpret_cast<const int8_t*>(panel + QChannelParamsBytes(kQGemmPanel));
  for (size_t row = 0; row < rows; row += 4) {
    const size_t left = HWY_MIN(size_t{4}, rows - row);
    if (left == 1) {
      QRelaxedTile1(x_rows + row * x_stride, kc, row_sums + row, params, weights, c + row * c_stride, h);
    } else {
      QRelaxedTile4(x_rows + row * x_stride, x_stride, left, kc, row_sums + row, params, weights, c + row * c_stride,
                    c_stride, h);
    }
  }
}

#if !defined(MNV2_RELAXED_KERNEL_MODULE)
// Rows staged per group, at most (their sums and a short panel's output sit on the stack too).
constexpr size_t kQRelaxedGroupRows = 256;

// A panel's tiles: from the kernel module in the relaxed WebAssembly build, this target's
// otherwise. A separate call per panel and group, as for the int16 kernel.
HWY_NOINLINE void QRelaxedPanel(const uint8_t* x_rows, size_t x_stride, size_t rows, size_t kc,
                                const int32_t* row_sums, const uint8_t* panel, uint8_t* c, size_t c_stride,
                                const QPackedHeader& h) {
#if defined(MNV2_RELAXED_IMPORTS)
  mnv2_relaxed_qgemm_tiles(x_rows, x_stride, rows, kc, row_sums, panel, c, c_stride, &h);
#else
  QRelaxedTiles(x_rows, x_stride, rows, kc, row_sums, panel, c, c_stride, h);
#endif
}

// The sum of a row's k input bytes; with `flip` != 0 the row is also copied to `staged`, each
// byte XORed with it (SumsOf8: eight bytes summed per 64-bit lane).
HWY_INLINE int32_t QRelaxedRowSum(const uint8_t* HWY_RESTRICT in, size_t k, uint8_t flip, uint8_t* HWY_RESTRICT staged) {
  const hn::Full128<uint8_t> d8;
  const hn::Full128<uint64_t> d64;
  const auto mask = hn::Set(d8, flip);
  auto sums = hn::Zero(d64);
  size_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const auto v = hn::LoadU(d8, in + i);
    sums = hn::Add(sums, hn::SumsOf8(v));
    if (staged) hn::StoreU(hn::Xor(v, mask), d8, staged + i);
  }
  int32_t sum = static_cast<int32_t>(hn::GetLane(hn::SumOfLanes(d64, sums)));
  for (; i < k; ++i) {
    sum += in[i];
    if (staged) staged[i] = in[i] ^ flip;
  }
  return sum;
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
  // Rows whose bytes the instruction can read as they are (the unsigned form, k a multiple of
  // 4) are not copied; their sums are needed only where the weights were offset.
  const bool in_place = flip == 0 && kc == k;
  if (in_place) group = kQRelaxedGroupRows;
  for (size_t row0 = 0; row0 < m; row0 += group) {
    const size_t rows = HWY_MIN(group, m - row0);
    const uint8_t* x_rows = in_place ? a + row0 * a_stride : staged;
    const size_t x_stride = in_place ? a_stride : kc;
    for (size_t r = 0; r < rows; ++r) {
      uint8_t* x = in_place ? nullptr : staged + r * kc;
      sums[r] = in_place && h.row_sum_factor == 0 ? 0 : QRelaxedRowSum(a + (row0 + r) * a_stride, k, flip, x);
      if (x) memset(x + k, 0, kc - k);
    }
    const uint8_t* panel = panels;
    for (size_t col = 0; col < n; col += kQGemmPanel, panel += panel_bytes) {
      const size_t cols = HWY_MIN(static_cast<size_t>(kQGemmPanel), n - col);
      uint8_t* out = c + row0 * c_stride + col;
      if (cols == kQGemmPanel) {
        QRelaxedPanel(x_rows, x_stride, rows, kc, sums, panel, out, c_stride, h);
        continue;
      }
      QRelaxedPanel(x_rows, x_stride, rows, kc, sums, panel, short_panel, kQGemmPanel, h);
      for (size_t r = 0; r < rows; ++r) memcpy(out + r * c_stride, short_panel + r * kQGemmPanel, cols);
    }
  }
}
#endif  // !MNV2_RELAXED_KERNEL_MODULE
#endif  // HWY_TARGET != HWY_SCALAR

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();
#endif  // MNV2_RELAXED_QGEMM

#endif  // MNV2_KERNELS_QGEMM_RELAXED_INL_H_
