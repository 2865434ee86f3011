// GEMM on packed weight panels (see kernels.h for the packed layout):
//   C[m][n] = clamp(bias[n] + sum_k A[m][k] * W[n][k])
//
// The micro-kernel computes kRows (<= kGemmRows) rows x one panel of
// kGemmPanel = 8 columns with all accumulators in registers. It is a separate
// HWY_NOINLINE function called once per tile, for the native build; in the
// WebAssembly module binaryen inlines it into Gemm, its only caller. That is
// fine for V8, which tiers a function up once it has used up its tiering
// budget: the engines spend it while the model loads (engine/warm_up.h), and
// the first inference finds Gemm optimized. (Keeping the int8 tiles apart
// with an indirect call measured slower, on the first inference and after it.)
//
// Rows per tile (kGemmRows below): 4 in WebAssembly SIMD, where 8 accumulators, 2 weight
// vectors, the 4 rows' broadcasts (V8's optimizing compiler loads all of an iteration's
// before the first multiply) and one product fill the 15 SIMD registers V8 allocates on
// x86-64. 6 rows spilled 4 accumulators and 2 broadcasts to the machine stack on every step
// along k (see qgemm-inl.h for what such spills cost); 4 rows measured 4% faster on the
// network. Elsewhere 6 (12 accumulators): native compilers schedule loads next to their
// use, and the WebAssembly build without SIMD ran 4% slower with 4.

// Target-independent includes.
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"

#if defined(MNV2_KERNELS_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_GEMM_INL_H_
#undef MNV2_KERNELS_GEMM_INL_H_
#else
#define MNV2_KERNELS_GEMM_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rows per tile (see above).
#if HWY_TARGET == HWY_WASM
constexpr size_t kGemmRows = 4;
#else
constexpr size_t kGemmRows = 6;
#endif

// kRows rows of A (each k floats, row stride a_stride) times one packed panel
// (bias[8], then k rows of 8 weights). Writes the first `cols` (1..8) columns
// of kRows rows of C. Reads exactly k floats per row of A.
template <size_t kRows>
HWY_NOINLINE void GemmTile(const float* HWY_RESTRICT a, size_t a_stride, size_t k,
                           const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride,
                           size_t cols, float out_min, float out_max) {
  static_assert(kRows >= 1 && kRows <= kGemmRows, "rows");
  const PanelTag d;
  using V = hn::Vec<PanelTag>;
  constexpr size_t N = kPanelLanes;

  V acc[kRows][kPanelVecs];
  for (size_t v = 0; v < kPanelVecs; ++v) {
    const V b = hn::LoadU(d, panel + v * N);
    for (size_t r = 0; r < kRows; ++r) acc[r][v] = b;
  }

  const float* HWY_RESTRICT rows[kRows];
  for (size_t r = 0; r < kRows; ++r) rows[r] = a + r * a_stride;

  const float* HWY_RESTRICT w = panel + kGemmPanel;
  for (size_t kk = 0; kk < k; ++kk, w += kGemmPanel) {
    V wv[kPanelVecs];
    for (size_t v = 0; v < kPanelVecs; ++v) wv[v] = hn::LoadU(d, w + v * N);
    for (size_t r = 0; r < kRows; ++r) {
      const V x = hn::Set(d, rows[r][kk]);
      for (size_t v = 0; v < kPanelVecs; ++v) acc[r][v] = hn::MulAdd(x, wv[v], acc[r][v]);
    }
  }

  const V lo = hn::Set(d, out_min);
  const V hi = hn::Set(d, out_max);
  if (HWY_LIKELY(cols == static_cast<size_t>(kGemmPanel))) {
    for (size_t r = 0; r < kRows; ++r) {
      for (size_t v = 0; v < kPanelVecs; ++v) {
        hn::StoreU(hn::Clamp(acc[r][v], lo, hi), d, c + r * c_stride + v * N);
      }
    }
    return;
  }
  // Last, partial panel: only the first `cols` columns exist in c. Going
  // through a buffer keeps every accumulator index a compile-time constant
  // (dynamic indexing would force the array out of registers/wasm locals).
  HWY_ALIGN float buf[kRows * kGemmPanel];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t v = 0; v < kPanelVecs; ++v) {
      hn::Store(hn::Clamp(acc[r][v], lo, hi), d, buf + r * kGemmPanel + v * N);
    }
  }
  for (size_t r = 0; r < kRows; ++r) {
    memcpy(c + r * c_stride, buf + r * kGemmPanel, cols * sizeof(float));
  }
}

// The last rows (fewer than kGemmRows) of a panel: one tile of exactly `rows` rows.
template <size_t kRows>
HWY_INLINE void GemmLastRows(size_t rows, const float* HWY_RESTRICT a, size_t a_stride, size_t k,
                             const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride, size_t cols,
                             float out_min, float out_max) {
  if constexpr (kRows >= 1) {
    if (rows == kRows) return GemmTile<kRows>(a, a_stride, k, panel, c, c_stride, cols, out_min, out_max);
    GemmLastRows<kRows - 1>(rows, a, a_stride, k, panel, c, c_stride, cols, out_min, out_max);
  }
}

// One panel of kGemmPanel output columns for all m rows: the panel (k + 1 rows of
// weights) stays in L1 while the rows of A stream past it, which suits our shapes:
// bands of few rows against wide weight matrices late in the network.
HWY_INLINE void GemmPanel(const float* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                          const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride,
                          size_t cols, float out_min, float out_max) {
  size_t row = 0;
  for (; row + kGemmRows <= m; row += kGemmRows) {
    GemmTile<kGemmRows>(a + row * a_stride, a_stride, k, panel, c + row * c_stride, c_stride, cols,
                        out_min, out_max);
  }
  GemmLastRows<kGemmRows - 1>(m - row, a + row * a_stride, a_stride, k, panel, c + row * c_stride, c_stride, cols,
                              out_min, out_max);
}

HWY_NOINLINE void Gemm(const float* HWY_RESTRICT a, size_t a_stride, int m, int k,
                       const float* HWY_RESTRICT packed, int n, float* HWY_RESTRICT c,
                       size_t c_stride, float out_min, float out_max) {
  if (m <= 0 || n <= 0 || k < 0) return;
  const size_t nn = static_cast<size_t>(n);
  const size_t panel_floats = static_cast<size_t>(kGemmPanel) * (static_cast<size_t>(k) + 1);
  for (size_t col = 0; col < nn; col += kGemmPanel, packed += panel_floats) {
    GemmPanel(a, a_stride, static_cast<size_t>(m), static_cast<size_t>(k), packed, c + col, c_stride,
              HWY_MIN(static_cast<size_t>(kGemmPanel), nn - col), out_min, out_max);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_GEMM_INL_H_
