// The relaxed build's kernel module (src/kernels/relaxed.h): the functions of the engine that
// use relaxed SIMD instructions, which Emscripten 3.1.6's clang 14 cannot emit and its
// binaryen 108 cannot read. Compiled by clang 19 (-mrelaxed-simd), linked by wasm-ld 19 into a
// module that imports the main module's memory (wasm/module.cmake), then merged into the main
// module by scripts/merge-relaxed.mjs, which resolves the main module's imports of these
// functions to direct calls.
//
// Nothing here may use the stack, globals or data: this module's own stack pointer and data
// would not be the main module's (the merge script checks).
#include <stddef.h>
#include <stdint.h>

#include "hwy/highway.h"
#include "kernels/gemm-inl.h"
#include "kernels/qdepthwise_relaxed-inl.h"
#include "kernels/qgemm_relaxed-inl.h"
#include "kernels/relaxed.h"

namespace hn = hwy::HWY_NAMESPACE;
namespace k = mnv2::kernels::HWY_NAMESPACE;

extern "C" int32_t mnv2_relaxed_dot_probe(int32_t a, int32_t b) {
  const hn::Full128<int8_t> d8;
  const auto x = hn::Set(d8, static_cast<int8_t>(a)), y = hn::Set(d8, static_cast<int8_t>(b));
  return hn::GetLane(k::DotQuads(hn::Zero(k::DI32()), x, y, 0));
}

extern "C" void mnv2_relaxed_qgemm_tiles(const uint8_t* x_rows, size_t x_stride, size_t rows, size_t kc,
                                         const int32_t* row_sums, const uint8_t* panel, uint8_t* c,
                                         size_t c_stride, const mnv2::kernels::QPackedHeader* h) {
  k::QRelaxedTiles(x_rows, x_stride, rows, kc, row_sums, panel, c, c_stride, *h);
}

extern "C" void mnv2_relaxed_qdw_interior(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t tap_step,
                                          size_t pixel_step, size_t count, size_t channels, const uint8_t* packed,
                                          uint8_t* out) {
  k::QDwRelaxedInterior(r0, r1, r2, tap_step, pixel_step, count, channels, packed, out);
}

extern "C" void mnv2_relaxed_gemm_panel(const float* a, size_t a_stride, size_t m, size_t k, const float* panel,
                                        float* c, size_t c_stride, float out_min, float out_max) {
  k::GemmWholePanel(a, a_stride, m, k, panel, c, c_stride, out_min, out_max);
}

extern "C" void mnv2_relaxed_gemm_gathered(const float* gathered, const uint32_t* offsets, const uint32_t* kept,
                                           size_t tiles, size_t k, const float* panel, float* c, size_t c_stride,
                                           float out_min, float out_max) {
  k::GemmGatheredTiles(gathered, offsets, kept, tiles, k, panel, c, c_stride, out_min, out_max);
}
