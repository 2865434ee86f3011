// GEMM on packed weight panels (see kernels.h for the packed layout):
//   C[m][n] = clamp(bias[n] + sum_k A[m][k] * W[n][k])
// and GemmSkippingZeros, the same for an A whose zeros are worth skipping: after a
// ReLU6, 47-48% of the depthwise convolutions' outputs in MobileNetV2 are zero, and
// 33-36% of the projections' multiply-adds meet a zero in all four rows of a tile
// (measured on four photos of ../shared/images, float32).
//
// The micro-kernel computes kRows (<= kGemmRows) rows x one panel of
// kGemmPanel = 8 columns with all accumulators in registers. In the SIMD and no-SIMD
// WebAssembly modules it is a separate HWY_NOINLINE function per tile size, which
// binaryen inlines into Gemm (or GemmSkippingZeros), its only caller. (Whole panels of the
// relaxed module run in its kernel module, on f32x4.relaxed_madd, and natively the same
// code: GemmWholePanel and GemmGatheredTiles below.) That is
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
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/relaxed.h"

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

// Where a tile reads its rows of A and its weights, step by step along k: Start(weights)
// with the panel's first row of weights, then per step Value(r), row r's value, and
// Weights(), the step's 8 weights; Next() moves on.
// Dense: all k columns of kRows rows, row stride a_stride, the panel's rows in order. `w`
// moves on by itself rather than being computed from `step`: computed, the WebAssembly
// loop took two more shifts and adds per step (read in the module's disassembly).
template <size_t kRows>
struct DenseColumns {
  const float* HWY_RESTRICT rows[kRows];
  const float* HWY_RESTRICT w = nullptr;
  size_t step = 0;
  DenseColumns(const float* HWY_RESTRICT a, size_t a_stride) {
    for (size_t r = 0; r < kRows; ++r) rows[r] = a + r * a_stride;
  }
  HWY_INLINE void Start(const float* HWY_RESTRICT weights) { w = weights; }
  HWY_INLINE float Value(size_t r) const { return rows[r][step]; }
  HWY_INLINE const float* Weights() const { return w; }
  HWY_INLINE void Next() {
    ++step;
    w += kGemmPanel;
  }
};
// Gathered by GatherNonzeroColumns: the kRows values of each kept column side by side,
// and where the column's weights are in the panel.
template <size_t kRows>
struct GatheredColumns {
  const float* HWY_RESTRICT values;
  const uint32_t* HWY_RESTRICT offsets;
  const float* HWY_RESTRICT w = nullptr;
  HWY_INLINE void Start(const float* HWY_RESTRICT weights) { w = weights; }
  HWY_INLINE float Value(size_t r) const { return values[r]; }
  HWY_INLINE const float* Weights() const { return w + *offsets; }
  HWY_INLINE void Next() {
    values += kRows;
    ++offsets;
  }
};

// The accumulators of kRows rows of A times one packed panel (bias[8], then a row of 8
// weights per column of A), over `steps` columns of A as `columns` gives them.
template <size_t kRows, class Columns>
HWY_INLINE void GemmAccumulate(const Columns& columns, size_t steps, const float* HWY_RESTRICT panel,
                               hn::Vec<PanelTag> (&acc)[kRows][kPanelVecs]) {
  static_assert(kRows >= 1 && kRows <= kGemmRows, "rows");
  const PanelTag d;
  using V = hn::Vec<PanelTag>;
  constexpr size_t N = kPanelLanes;
  for (size_t v = 0; v < kPanelVecs; ++v) {
    const V b = hn::LoadU(d, panel + v * N);
    for (size_t r = 0; r < kRows; ++r) acc[r][v] = b;
  }
  Columns src = columns;  // a local copy, which the compiler keeps in registers
  src.Start(panel + kGemmPanel);
  for (size_t step = 0; step < steps; ++step, src.Next()) {
    const float* HWY_RESTRICT w = src.Weights();
    V wv[kPanelVecs];
    for (size_t v = 0; v < kPanelVecs; ++v) wv[v] = hn::LoadU(d, w + v * N);
    for (size_t r = 0; r < kRows; ++r) {
      const V x = hn::Set(d, src.Value(r));
      for (size_t v = 0; v < kPanelVecs; ++v) acc[r][v] = MulAddF(x, wv[v], acc[r][v]);
    }
  }
}

// All kGemmPanel columns of kRows rows of C, clamped.
template <size_t kRows>
HWY_INLINE void GemmStoreWhole(const hn::Vec<PanelTag> (&acc)[kRows][kPanelVecs], float* HWY_RESTRICT c,
                               size_t c_stride, float out_min, float out_max) {
  const PanelTag d;
  const auto lo = hn::Set(d, out_min), hi = hn::Set(d, out_max);
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t v = 0; v < kPanelVecs; ++v) {
      hn::StoreU(hn::Clamp(acc[r][v], lo, hi), d, c + r * c_stride + v * kPanelLanes);
    }
  }
}

// kRows rows of A times one packed panel, over `steps` columns of A as `columns` gives them.
// Writes the first `cols` (1..8) columns of kRows rows of C.
template <size_t kRows, class Columns>
HWY_NOINLINE void GemmTile(const Columns& columns, size_t steps, const float* HWY_RESTRICT panel,
                           float* HWY_RESTRICT c, size_t c_stride, size_t cols, float out_min, float out_max) {
  const PanelTag d;
  using V = hn::Vec<PanelTag>;
  constexpr size_t N = kPanelLanes;
  V acc[kRows][kPanelVecs];
  GemmAccumulate<kRows>(columns, steps, panel, acc);
  if (HWY_LIKELY(cols == static_cast<size_t>(kGemmPanel))) {
    return GemmStoreWhole<kRows>(acc, c, c_stride, out_min, out_max);
  }
  const V lo = hn::Set(d, out_min);
  const V hi = hn::Set(d, out_max);
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

// One tile of kRows rows: with kWhole a whole panel, inline and without GemmTile's buffer for a
// partial panel (the relaxed kernel module has no stack of its own); else GemmTile.
template <size_t kRows, bool kWhole, class Columns>
HWY_INLINE void RunTile(const Columns& columns, size_t steps, const float* HWY_RESTRICT panel, float* HWY_RESTRICT c,
                        size_t c_stride, size_t cols, float out_min, float out_max) {
  if constexpr (kWhole) {
    (void)cols;
    hn::Vec<PanelTag> acc[kRows][kPanelVecs];
    GemmAccumulate<kRows>(columns, steps, panel, acc);
    GemmStoreWhole<kRows>(acc, c, c_stride, out_min, out_max);
  } else {
    GemmTile<kRows>(columns, steps, panel, c, c_stride, cols, out_min, out_max);
  }
}

// The last rows (fewer than kGemmRows) of a panel: one tile of exactly `rows` rows.
template <bool kWhole, size_t kRows = kGemmRows - 1>
HWY_INLINE void GemmLastRows(size_t rows, const float* HWY_RESTRICT a, size_t a_stride, size_t k,
                             const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride, size_t cols,
                             float out_min, float out_max) {
  if constexpr (kRows >= 1) {
    if (rows == kRows) {
      return RunTile<kRows, kWhole>(DenseColumns<kRows>(a, a_stride), k, panel, c, c_stride, cols, out_min, out_max);
    }
    GemmLastRows<kWhole, kRows - 1>(rows, a, a_stride, k, panel, c, c_stride, cols, out_min, out_max);
  }
}

// All m rows of A times one panel (its first `cols` columns), in tiles of kGemmRows rows and
// one of the rows left.
template <bool kWhole>
HWY_INLINE void GemmRows(const float* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                         const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride, size_t cols,
                         float out_min, float out_max) {
  size_t row = 0;
  for (; row + kGemmRows <= m; row += kGemmRows) {
    RunTile<kGemmRows, kWhole>(DenseColumns<kGemmRows>(a + row * a_stride, a_stride), k, panel, c + row * c_stride,
                               c_stride, cols, out_min, out_max);
  }
  GemmLastRows<kWhole>(m - row, a + row * a_stride, a_stride, k, panel, c + row * c_stride, c_stride, cols, out_min,
                       out_max);
}

// GemmSkippingZeros' gathered tiles (below) times one panel.
template <bool kWhole>
HWY_INLINE void GemmGathered(const float* HWY_RESTRICT gathered, const uint32_t* HWY_RESTRICT offsets,
                             const uint32_t* HWY_RESTRICT kept, size_t tiles, size_t k, const float* HWY_RESTRICT panel,
                             float* HWY_RESTRICT c, size_t c_stride, size_t cols, float out_min, float out_max) {
  for (size_t t = 0; t < tiles; ++t) {
    const GatheredColumns<kGemmRows> tile{gathered + t * kGemmRows * k, offsets + t * k, nullptr};
    RunTile<kGemmRows, kWhole>(tile, kept[t], panel, c + t * kGemmRows * c_stride, c_stride, cols, out_min, out_max);
  }
}

// The relaxed build's float GEMM (the kernel module's gemm_panel and gemm_gathered, relaxed.h):
// whole panels, every row of them, dense or as GemmSkippingZeros gathered its tiles; so that
// every output of such a panel has the same multiply-adds whatever the rows' split among
// threads and bands.
HWY_INLINE void GemmWholePanel(const float* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                               const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride, float out_min,
                               float out_max) {
  GemmRows<true>(a, a_stride, m, k, panel, c, c_stride, kGemmPanel, out_min, out_max);
}

HWY_INLINE void GemmGatheredTiles(const float* HWY_RESTRICT gathered, const uint32_t* HWY_RESTRICT offsets,
                                  const uint32_t* HWY_RESTRICT kept, size_t tiles, size_t k,
                                  const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride,
                                  float out_min, float out_max) {
  GemmGathered<true>(gathered, offsets, kept, tiles, k, panel, c, c_stride, kGemmPanel, out_min, out_max);
}

// Whole panels go to the two above: from the kernel module in the relaxed WebAssembly build,
// compiled in natively (so that the native tests run the kernel module's code); the other
// WebAssembly builds keep a tile function per tile size, which binaryen inlines.
#if defined(MNV2_RELAXED_IMPORTS) || !defined(__EMSCRIPTEN__)
#define MNV2_GEMM_WHOLE_PANELS 1
HWY_INLINE void WholePanel(const float* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                           const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride, float out_min,
                           float out_max) {
#if defined(MNV2_RELAXED_IMPORTS)
  mnv2_relaxed_gemm_panel(a, a_stride, m, k, panel, c, c_stride, out_min, out_max);
#else
  GemmWholePanel(a, a_stride, m, k, panel, c, c_stride, out_min, out_max);
#endif
}

HWY_INLINE void WholeGatheredTiles(const float* HWY_RESTRICT gathered, const uint32_t* HWY_RESTRICT offsets,
                                   const uint32_t* HWY_RESTRICT kept, size_t tiles, size_t k,
                                   const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride,
                                   float out_min, float out_max) {
#if defined(MNV2_RELAXED_IMPORTS)
  mnv2_relaxed_gemm_gathered(gathered, offsets, kept, tiles, k, panel, c, c_stride, out_min, out_max);
#else
  GemmGatheredTiles(gathered, offsets, kept, tiles, k, panel, c, c_stride, out_min, out_max);
#endif
}
#endif

// One panel of kGemmPanel output columns for all m rows: the panel (k + 1 rows of
// weights) stays in L1 while the rows of A stream past it, which suits our shapes:
// bands of few rows against wide weight matrices late in the network.
HWY_INLINE void GemmPanel(const float* HWY_RESTRICT a, size_t a_stride, size_t m, size_t k,
                          const float* HWY_RESTRICT panel, float* HWY_RESTRICT c, size_t c_stride,
                          size_t cols, float out_min, float out_max) {
#if defined(MNV2_GEMM_WHOLE_PANELS)
  if (cols == static_cast<size_t>(kGemmPanel)) {
    return WholePanel(a, a_stride, m, k, panel, c, c_stride, out_min, out_max);
  }
#endif
  GemmRows<false>(a, a_stride, m, k, panel, c, c_stride, cols, out_min, out_max);
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

// ---------------------------------------------------------------------------
// GemmSkippingZeros (see kernels.h): each whole tile of kGemmRows rows of A is first
// gathered, as its nonzero columns, into the place of the tile before it (the first
// into the room before A); then the tiles are multiplied panel by panel, as in Gemm.

size_t GemmSkippingZerosRoom(int k) { return k <= 0 ? 0 : kGemmRows * static_cast<size_t>(k); }

size_t GemmSkippingZerosColumns(int m, int k) {
  if (m <= 0 || k < 0) return 0;
  return static_cast<size_t>(m) / kGemmRows * (static_cast<size_t>(k) + 1);
}

// Where GatherNonzeroColumns writes. Every column's kRows values are written at `values`;
// Keep(col, 1) then records the column's weights' offset and moves on, Keep(col, 0) leaves
// the next column to write over it.
template <size_t kRows>
struct ColumnWriter {
  float* HWY_RESTRICT values;
  uint32_t* HWY_RESTRICT offsets;
  size_t kept = 0;
  HWY_INLINE void Keep(size_t col, size_t keep) {
    offsets[kept] = static_cast<uint32_t>(col * kGemmPanel);
    kept += keep;
    values += keep * kRows;
  }
};

// The columns of a tile's kRows rows (row stride k) where some row is not +0.0f: their
// values, kRows side by side, to `values`, and their weights' offsets in a panel to
// `offsets`. Returns how many. `values` (room for k * kRows floats) may end where the tile
// starts.
template <size_t kRows>
HWY_NOINLINE size_t GatherNonzeroColumns(const float* HWY_RESTRICT tile, size_t k, float* HWY_RESTRICT values,
                                         uint32_t* HWY_RESTRICT offsets) {
  const float* HWY_RESTRICT rows[kRows];
  for (size_t r = 0; r < kRows; ++r) rows[r] = tile + r * k;
  ColumnWriter<kRows> out{values, offsets};
  size_t col = 0;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (kRows == 4) {
    // Four columns at a time: a 4x4 transpose turns the rows' vectors into the columns'.
    const hn::FixedTag<float, 4> d;
    const hn::RebindToUnsigned<decltype(d)> du;
    const hn::Repartition<uint64_t, decltype(d)> d64;
    for (; col + 4 <= k; col += 4) {
      const auto r0 = hn::LoadU(d, rows[0] + col), r1 = hn::LoadU(d, rows[1] + col);
      const auto r2 = hn::LoadU(d, rows[2] + col), r3 = hn::LoadU(d, rows[3] + col);
      const auto bits = hn::Or(hn::Or(hn::BitCast(du, r0), hn::BitCast(du, r1)),
                               hn::Or(hn::BitCast(du, r2), hn::BitCast(du, r3)));
      const auto keep = hn::VecFromMask(du, hn::Ne(bits, hn::Zero(du)));
      const auto t01 = hn::BitCast(d64, hn::InterleaveLower(d, r0, r1));  // r0[0] r1[0] r0[1] r1[1]
      const auto t23 = hn::BitCast(d64, hn::InterleaveLower(d, r2, r3));
      const auto u01 = hn::BitCast(d64, hn::InterleaveUpper(d, r0, r1));  // r0[2] r1[2] r0[3] r1[3]
      const auto u23 = hn::BitCast(d64, hn::InterleaveUpper(d, r2, r3));
      hn::StoreU(hn::BitCast(d, hn::InterleaveLower(d64, t01, t23)), d, out.values);
      out.Keep(col, hn::ExtractLane(keep, 0) & 1);
      hn::StoreU(hn::BitCast(d, hn::InterleaveUpper(d64, t01, t23)), d, out.values);
      out.Keep(col + 1, hn::ExtractLane(keep, 1) & 1);
      hn::StoreU(hn::BitCast(d, hn::InterleaveLower(d64, u01, u23)), d, out.values);
      out.Keep(col + 2, hn::ExtractLane(keep, 2) & 1);
      hn::StoreU(hn::BitCast(d, hn::InterleaveUpper(d64, u01, u23)), d, out.values);
      out.Keep(col + 3, hn::ExtractLane(keep, 3) & 1);
    }
  }
#endif
  for (; col < k; ++col) {
    uint32_t any = 0;
    for (size_t r = 0; r < kRows; ++r) {
      uint32_t bits;
      memcpy(&bits, rows[r] + col, sizeof(bits));
      any |= bits;
      out.values[r] = rows[r][col];
    }
    out.Keep(col, any != 0);
  }
  return out.kept;
}

HWY_NOINLINE void GemmSkippingZeros(float* a, int m, int k, const float* HWY_RESTRICT packed, int n,
                                    float* HWY_RESTRICT c, size_t c_stride, float out_min, float out_max,
                                    uint32_t* HWY_RESTRICT columns) {
  if (m <= 0 || n <= 0 || k < 0) return;
  const size_t mm = static_cast<size_t>(m), kk = static_cast<size_t>(k);
  // Whole tiles only: the last rows (fewer than a tile) are multiplied as they are.
  const size_t tiles = mm / kGemmRows, tile_floats = kGemmRows * kk;
  float* gathered = a - tile_floats;
  // columns: each tile's count of kept columns, then each tile's k weight offsets.
  uint32_t* HWY_RESTRICT kept = columns;
  uint32_t* HWY_RESTRICT offsets = columns + tiles;
  for (size_t t = 0; t < tiles; ++t) {
    kept[t] = static_cast<uint32_t>(
        GatherNonzeroColumns<kGemmRows>(a + t * tile_floats, kk, gathered + t * tile_floats, offsets + t * kk));
  }
  const size_t nn = static_cast<size_t>(n), row = tiles * kGemmRows;
  const size_t panel_floats = static_cast<size_t>(kGemmPanel) * (kk + 1);
  for (size_t col = 0; col < nn; col += kGemmPanel, packed += panel_floats) {
    const size_t cols = HWY_MIN(static_cast<size_t>(kGemmPanel), nn - col);
#if defined(MNV2_GEMM_WHOLE_PANELS)
    if (cols == static_cast<size_t>(kGemmPanel)) {
      WholeGatheredTiles(gathered, offsets, kept, tiles, kk, packed, c + col, c_stride, out_min, out_max);
      WholePanel(a + row * kk, kk, mm - row, kk, packed, c + row * c_stride + col, c_stride, out_min, out_max);
      continue;
    }
#endif
    GemmGathered<false>(gathered, offsets, kept, tiles, kk, packed, c + col, c_stride, cols, out_min, out_max);
    GemmLastRows<false>(mm - row, a + row * kk, kk, kk, packed, c + row * c_stride + col, c_stride, cols, out_min,
                        out_max);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_GEMM_INL_H_
