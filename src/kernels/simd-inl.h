// Per-target helpers shared by the kernel -inl.h files: the GEMM panel tag and
// partial (tail) loads/stores that never touch memory past `count` floats.
//
// Include after "hwy/highway.h" (or foreach_target.h); re-included per target.

// Target-independent includes.
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"

#if defined(MNV2_KERNELS_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_SIMD_INL_H_
#undef MNV2_KERNELS_SIMD_INL_H_
#else
#define MNV2_KERNELS_SIMD_INL_H_
#endif

#include "hwy/highway.h"

#if HWY_TARGET == HWY_WASM && defined(__wasm_relaxed_simd__)
#include <wasm_simd128.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One GEMM panel row (kGemmPanel = 8 floats) is kPanelVecs vectors of
// kPanelLanes lanes: 1 x 8 on AVX2/AVX-512, 2 x 4 on SSE4/WASM/NEON, 8 x 1 on
// HWY_SCALAR.
#if HWY_HAVE_SCALABLE
// SVE/RVV vectors are at least 128 bits, so a 4-lane cap is always exact.
using PanelTag = hn::CappedTag<float, 4>;
constexpr size_t kPanelLanes = 4;
#else
using PanelTag = hn::CappedTag<float, kGemmPanel>;
constexpr size_t kPanelLanes = hn::MaxLanes(PanelTag());
#endif
static_assert(kGemmPanel % kPanelLanes == 0, "panel must be whole vectors");
constexpr size_t kPanelVecs = kGemmPanel / kPanelLanes;

// acc + x * w. In the relaxed build's kernel module one f32x4.relaxed_madd, fused or not as the
// engine has it (so the last bits of a sum may differ from the SIMD build's); Highway's MulAdd
// elsewhere (two instructions in WebAssembly, fused natively where the CPU has FMA).
template <class V>
HWY_INLINE V MulAddF(V x, V w, V acc) {
#if HWY_TARGET == HWY_WASM && defined(__wasm_relaxed_simd__)
  return V{wasm_f32x4_relaxed_madd(x.raw, w.raw, acc.raw)};
#else
  return hn::MulAdd(x, w, acc);
#endif
}

// Loads the first `count` (< Lanes(d)) floats of p, other lanes zero. Never
// reads p[count] or beyond.
template <class D>
HWY_INLINE hn::Vec<D> LoadPartial(D d, const float* HWY_RESTRICT p, size_t count) {
#if HWY_MEM_OPS_MIGHT_FAULT
  // SSE4/WASM MaskedLoad loads the whole vector; go through a stack buffer.
  HWY_ALIGN float buf[hn::MaxLanes(D())] = {};
  memcpy(buf, p, count * sizeof(float));
  return hn::Load(d, buf);
#else
  return hn::MaskedLoad(hn::FirstN(d, count), d, p);
#endif
}

// Stores the first `count` (< Lanes(d)) lanes of v to p; never writes p[count].
template <class D>
HWY_INLINE void StorePartial(D d, hn::Vec<D> v, float* HWY_RESTRICT p, size_t count) {
#if HWY_MEM_OPS_MIGHT_FAULT
  HWY_ALIGN float buf[hn::MaxLanes(D())];
  hn::Store(v, d, buf);
  memcpy(p, buf, count * sizeof(float));
#else
  hn::BlendedStore(v, hn::FirstN(d, count), d, p);
#endif
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_SIMD_INL_H_
