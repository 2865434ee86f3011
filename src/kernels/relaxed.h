// The int8 GEMM and depthwise convolutions' interiors on WebAssembly's relaxed dot product
// (i32x4.relaxed_dot_i8x16_i7x16_add_s): 16 multiply-adds of int8 weights and input bytes per
// instruction, accumulated into int32 lanes, against 8 for i32x4.dot_i16x8_s and its add on
// inputs first widened to int16. And the float GEMM's whole panels on f32x4.relaxed_madd
// (gemm-inl.h), one instruction per 4 multiply-adds where the engine fuses it (a fused
// multiply-add rounds once: the last bits of a sum may differ from the SIMD build's).
//
// The instruction's result is implementation-defined when a byte of its second operand (the
// inputs here) has its high bit set. Three forms are known, and each engine has one:
//   kUnsigned  those bytes read as unsigned, the products summed exactly (V8 on x86 with
//              AVX-VNNI: vpdpbusd; Chromium here);
//   kSigned    read as signed, summed exactly (Arm's sdot);
//   otherwise  e.g. unsigned with each pair of products saturated to int16 (pmaddubsw: Firefox
//              on x86), where 8-bit inputs can overflow: those engines keep the int16 kernel.
// The form is probed once, at the first packing, and the layer is packed for it
// (qpacked.h: QPackedHeader::relaxed): the results stay byte-identical to the int16 kernel
// and to TFLite's reference arithmetic whatever the engine.
//
// Where the kernel comes from:
//   - the relaxed WebAssembly build (MNV2_RELAXED_BUILD): the main module, compiled by
//     Emscripten's clang 14, imports it from a small module compiled by clang 19 with
//     -mrelaxed-simd (wasm/relaxed_kernels.cc), which scripts/merge-relaxed.mjs merges into it;
//   - natively: compiled in, with an exact emulation of either form, so that the tests run the
//     same kernel and packing (SetRelaxedDotModeForTesting); production native code keeps the
//     int16 kernel (RelaxedDotMode() is kNone);
//   - the other WebAssembly builds: absent.
#ifndef MNV2_KERNELS_RELAXED_H_
#define MNV2_KERNELS_RELAXED_H_

#include <stddef.h>
#include <stdint.h>

#if !defined(__EMSCRIPTEN__) || defined(MNV2_RELAXED_BUILD)
#define MNV2_RELAXED_QGEMM 1
#endif
#if defined(__EMSCRIPTEN__) && defined(MNV2_RELAXED_BUILD) && !defined(MNV2_RELAXED_KERNEL_MODULE)
#define MNV2_RELAXED_IMPORTS 1
#endif

namespace mnv2 {
namespace kernels {

struct QPackedHeader;

enum class RelaxedDot : int32_t { kNone = 0, kUnsigned = 1, kSigned = 2 };

// The form this engine's relaxed dot product has (kNone: no relaxed kernel in this build, or a
// form the kernel cannot use); probed once.
#if defined(MNV2_RELAXED_QGEMM)
RelaxedDot RelaxedDotMode();
#else
// (A constant: the other WebAssembly builds leave out the relaxed packing.)
inline RelaxedDot RelaxedDotMode() { return RelaxedDot::kNone; }
#endif
// "unsigned", "signed" or "none".
const char* RelaxedDotName(RelaxedDot mode);
// Natively: the form the emulated kernel has from now on (kNone: the int16 kernel again).
void SetRelaxedDotModeForTesting(RelaxedDot mode);
// The form from the instruction's lane 0 for splatted bytes a (first operand) and b.
RelaxedDot ClassifyRelaxedDot(int32_t (*dot)(int32_t a, int32_t b));

}  // namespace kernels
}  // namespace mnv2

#if defined(MNV2_RELAXED_IMPORTS) || defined(MNV2_RELAXED_KERNEL_MODULE)
// The kernel module's functions (wasm/relaxed_kernels.cc), as the main module imports them.
#if defined(MNV2_RELAXED_IMPORTS)
#define MNV2_RELAXED_FUNCTION(name) __attribute__((import_module("mnv2_relaxed"), import_name(#name)))
#else
#define MNV2_RELAXED_FUNCTION(name) __attribute__((export_name(#name)))
#endif
extern "C" {
// Lane 0 of the relaxed dot product of splatted bytes a and b.
MNV2_RELAXED_FUNCTION(dot_probe) int32_t mnv2_relaxed_dot_probe(int32_t a, int32_t b);
// QRelaxedTiles (qgemm_relaxed-inl.h): `rows` rows of kc bytes, x_stride apart, times one panel
// of 8 channels, written 8 bytes a row.
MNV2_RELAXED_FUNCTION(qgemm_tiles)
void mnv2_relaxed_qgemm_tiles(const uint8_t* x_rows, size_t x_stride, size_t rows, size_t kc, const int32_t* row_sums,
                              const uint8_t* panel, uint8_t* c, size_t c_stride,
                              const mnv2::kernels::QPackedHeader* h);
// QDwRelaxedInterior (qdepthwise_relaxed-inl.h): `count` interior pixels of a depthwise row.
MNV2_RELAXED_FUNCTION(qdw_interior)
void mnv2_relaxed_qdw_interior(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t tap_step,
                               size_t pixel_step, size_t count, size_t channels, const uint8_t* packed,
                               uint8_t* out);
// The float GEMM's whole panels on f32x4.relaxed_madd (gemm-inl.h): GemmWholePanel, m rows of a
// times one panel of 8 columns, and GemmGatheredTiles, GemmSkippingZeros' gathered tiles.
MNV2_RELAXED_FUNCTION(gemm_panel)
void mnv2_relaxed_gemm_panel(const float* a, size_t a_stride, size_t m, size_t k, const float* panel, float* c,
                             size_t c_stride, float out_min, float out_max);
MNV2_RELAXED_FUNCTION(gemm_gathered)
void mnv2_relaxed_gemm_gathered(const float* gathered, const uint32_t* offsets, const uint32_t* kept, size_t tiles,
                                size_t k, const float* panel, float* c, size_t c_stride, float out_min,
                                float out_max);
}
#endif

#endif  // MNV2_KERNELS_RELAXED_H_
