// Per-target requantization of int32 accumulators (see qpacked.h for the formula and
// why it equals TFLite's MultiplyByQuantizedMultiplier), and the narrowing to bytes.
// Four lanes at a time on every target but HWY_SCALAR, whose kernels stay scalar.
//
// Include after "hwy/highway.h" (or foreach_target.h); re-included per target.

// Target-independent includes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <type_traits>

#include "kernels/qpacked.h"

// A loop the compiler must not unroll (qgemm-inl.h says why).
#ifndef MNV2_NO_UNROLL
#if defined(__clang__)
#define MNV2_NO_UNROLL _Pragma("clang loop unroll(disable)")
#elif defined(__GNUC__)
#define MNV2_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define MNV2_NO_UNROLL
#endif
#endif

#if defined(MNV2_KERNELS_REQUANT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_REQUANT_INL_H_
#undef MNV2_KERNELS_REQUANT_INL_H_
#else
#define MNV2_KERNELS_REQUANT_INL_H_
#endif

#include "hwy/highway.h"

#if HWY_TARGET == HWY_WASM
#include <wasm_simd128.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
// Fixed 128-bit vectors on every target: the packed layouts do not depend on the
// target (AVX2 and AVX-512 run them at SSE width).
using DI16 = hn::Full128<int16_t>;
using DI32 = hn::Full128<int32_t>;
using DU32 = hn::Full128<uint32_t>;
using DU64 = hn::Full128<uint64_t>;
using DF64 = hn::Full128<double>;
using VI32 = hn::Vec<DI32>;

// sum + the products of a's and b's int16 pairs: lane j adds a[2j] b[2j] + a[2j + 1] b[2j + 1]
// (i32x4.dot_i16x8_s and an add on WebAssembly, pmaddwd natively; a target that keeps the odd
// products apart adds them to `odd`, which RearrangeToOddPlusEven folds in at the end).
// Without SIMD (HWY_EMU128) in plain int32 arithmetic on the lanes: Highway's emulation
// sign-extends every lane with two shifts and keeps a second sum, which made the int8
// network take twice as long as float32 in the WebAssembly module without SIMD.
HWY_INLINE VI32 DotPairs(VI32 sum, hn::Vec<DI16> a, hn::Vec<DI16> b, VI32& odd) {
#if HWY_TARGET == HWY_EMU128
  (void)odd;
  for (size_t j = 0; j < 4; ++j) sum.raw[j] += a.raw[2 * j] * b.raw[2 * j] + a.raw[2 * j + 1] * b.raw[2 * j + 1];
  return sum;
#else
  return hn::ReorderWidenMulAccumulate(DI32(), a, b, sum, odd);
#endif
}

// The 32 bits at p in every 32-bit lane, as a vector of D: the GEMMs' splat of a row's pair of
// int16 or quad of bytes. A splatting load (vbroadcastss under V8 with AVX): no shuffle.
template <class D>
HWY_INLINE hn::Vec<D> LoadSplat32(D d, const void* HWY_RESTRICT p) {
#if HWY_TARGET == HWY_WASM
  (void)d;
  return hn::Vec<D>{wasm_v128_load32_splat(p)};
#else
  int32_t bits;
  memcpy(&bits, p, sizeof(bits));
  return hn::BitCast(d, hn::Set(DI32(), bits));
#endif
}

// The requantization constants of four channels (lanes).
struct Requant4 {
  hn::Vec<DU32> mult, clamp, pre, corr;
  hn::Vec<DU64> round_a, round_b;  // lanes as the products come out (see MulLanes)
  hn::Vec<DF64> fscale_a, fscale_b, foffset_a, foffset_b;  // the ReLU form: lanes (0, 1), (2, 3)
};

HWY_INLINE Requant4 LoadRequant4(const QChannelParams& p, size_t c) {
  const DU32 du32;
  const DU64 du64;
  Requant4 r;
  r.mult = hn::LoadU(du32, p.mult + c);
  r.clamp = hn::LoadU(du32, p.clamp + c);
  r.pre = hn::LoadU(du32, p.pre + c);
  r.corr = hn::LoadU(du32, p.corr + c);
  const DF64 df64;
  r.fscale_a = hn::LoadU(df64, p.fscale + c);
  r.fscale_b = hn::LoadU(df64, p.fscale + c + 2);
  r.foffset_a = hn::LoadU(df64, p.foffset + c);
  r.foffset_b = hn::LoadU(df64, p.foffset + c + 2);
  const auto r01 = hn::LoadU(du64, p.round + c);
  const auto r23 = hn::LoadU(du64, p.round + c + 2);
#if HWY_TARGET == HWY_WASM
  r.round_a = r01;
  r.round_b = r23;
#else
  r.round_a = hn::InterleaveLower(du64, r01, r23);  // lanes 0, 2
  r.round_b = hn::InterleaveUpper(du64, r01, r23);  // lanes 1, 3
#endif
  return r;
}

#if HWY_TARGET == HWY_WASM
// The value, unknown to the optimizer from here on: clang 14 hoists loop-invariant splats
// and extensions out of loops and then fails to select the WebAssembly instruction that
// needed them in the same block (see MulLanes and ShiftedProduct4).
// (clang 19, which compiles the relaxed build's kernel module, does neither, and its backend
// cannot split a 128-bit value through the asm's register constraint.)
template <typename T>
HWY_INLINE T OpaqueWasm(T v) {
#if __clang_major__ < 19
  __asm__ volatile("" : "+r"(v));
#endif
  return v;
}
#endif

// Full 64-bit products of u32 lanes, in two halves: WebAssembly's extmul gives lanes
// (0, 1) and (2, 3); elsewhere MulEven gives lanes (0, 2) and then (1, 3).
HWY_INLINE void MulLanes(hn::Vec<DU32> a, hn::Vec<DU32> b, hn::Vec<DU64>* x, hn::Vec<DU64>* y) {
#if HWY_TARGET == HWY_WASM
  // clang 14 hoists the widening of a loop-invariant `b` out of the kernels' loops, after
  // which it no longer matches extmul: each product became two extend and an i64x2.mul,
  // which V8 emulates on x86. An empty asm makes `b` a new value at every use (OpaqueWasm).
  const v128_t m = OpaqueWasm(b.raw);
  *x = hn::Vec<DU64>{wasm_u64x2_extmul_low_u32x4(a.raw, m)};
  *y = hn::Vec<DU64>{wasm_u64x2_extmul_high_u32x4(a.raw, m)};
#else
  *x = hn::MulEven(a, b);
  *y = hn::MulEven(hn::Shuffle2301(a), hn::Shuffle2301(b));
#endif
}

// Widens u32 lanes to the same two halves as MulLanes.
HWY_INLINE void WidenLanes(hn::Vec<DU32> a, hn::Vec<DU64>* x, hn::Vec<DU64>* y) {
  const DU64 du64;
#if HWY_TARGET == HWY_WASM
  *x = hn::PromoteTo(du64, hn::LowerHalf(a));
  *y = hn::PromoteTo(du64, hn::UpperHalf(hn::Half<DU32>(), a));
#else
  const auto wide = hn::BitCast(du64, a);
  *x = hn::And(wide, hn::Set(du64, 0xffffffffull));
  *y = hn::ShiftRight<32>(wide);
#endif
}

// The low 32 bits of the two halves, back in lane order.
HWY_INLINE hn::Vec<DU32> NarrowLanes(hn::Vec<DU64> x, hn::Vec<DU64> y) {
  const DU32 du32;
#if HWY_TARGET == HWY_WASM
  return hn::ConcatEven(du32, hn::BitCast(du32, y), hn::BitCast(du32, x));
#else
  return hn::OddEven(hn::BitCast(du32, hn::ShiftLeft<32>(y)), hn::BitCast(du32, x));
#endif
}

// (u * mult + round - corr) >> shift for four magnitudes u (already clamped and scaled).
HWY_INLINE hn::Vec<DU32> ShiftedProduct4(hn::Vec<DU32> u, const Requant4& r, hn::Vec<DU32> corr, int shift) {
  hn::Vec<DU64> x, y;
  MulLanes(u, r.mult, &x, &y);
  x = hn::Add(x, r.round_a);
  y = hn::Add(y, r.round_b);
  hn::Vec<DU64> cx, cy;
  WidenLanes(corr, &cx, &cy);
  x = hn::Sub(x, cx);
  y = hn::Sub(y, cy);
#if HWY_TARGET == HWY_WASM
  // A shift amount whose splat was hoisted turned each i64x2.shr_u into two extract_lane,
  // two i64.shr_u and two replace_lane.
  shift = OpaqueWasm(shift);
#endif
  return NarrowLanes(hn::ShiftRightSame(x, shift), hn::ShiftRightSame(y, shift));
}

// MultiplyByQuantizedMultiplier of four accumulators (no zero point, no clamp). Layers
// whose channels all have pre == 1 skip the clamp and multiply (kScaled false).
template <bool kScaled = true>
HWY_INLINE VI32 MultiplyQuantized4(VI32 acc, const Requant4& r, int shift) {
  const DI32 di32;
  const DU32 du32;
  const auto sign = hn::ShiftRight<31>(acc);  // -1 where negative
  auto u = hn::BitCast(du32, hn::Abs(acc));
  if (kScaled) u = hn::Mul(hn::Min(u, r.clamp), r.pre);
  const auto corr = hn::And(hn::BitCast(du32, sign), r.corr);
  const auto magnitude = hn::BitCast(di32, ShiftedProduct4(u, r, corr, shift));
  return hn::Sub(hn::Xor(magnitude, sign), sign);
}

// The ReLU form of qpacked.h for four accumulators: zero point included, not yet clamped.
HWY_INLINE VI32 ReluForm4(VI32 acc, const Requant4& r) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52: rounds to an integer in the low bits
#if HWY_TARGET == HWY_WASM
  // (Highway 1.0.3 has no double arithmetic on WebAssembly.)
  const v128_t magic = wasm_f64x2_splat(kMagic);
  const v128_t lo = wasm_f64x2_convert_low_i32x4(acc.raw);
  const v128_t hi = wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(acc.raw, acc.raw, 2, 3, 2, 3));
#if defined(__wasm_relaxed_simd__)
  // (The relaxed build's kernel module.) acc * fscale + foffset is exact in a double wherever the
  // output is not saturated (qpacked.h), so a fused and an unfused multiply-add give the same value:
  // relaxed_madd is deterministic here, and one instruction where the engine fuses it.
  const v128_t a = wasm_f64x2_add(wasm_f64x2_relaxed_madd(lo, r.fscale_a.raw, r.foffset_a.raw), magic);
  const v128_t b = wasm_f64x2_add(wasm_f64x2_relaxed_madd(hi, r.fscale_b.raw, r.foffset_b.raw), magic);
#else
  const v128_t a = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(lo, r.fscale_a.raw), r.foffset_a.raw), magic);
  const v128_t b = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(hi, r.fscale_b.raw), r.foffset_b.raw), magic);
#endif
  return VI32{wasm_i32x4_shuffle(a, b, 0, 2, 4, 6)};
#else
  const DF64 df64;
  const DU32 du32;
  const hn::Full64<int32_t> dh;
  const auto magic = hn::Set(df64, kMagic);
  const auto a = hn::Add(hn::Add(hn::Mul(hn::PromoteTo(df64, hn::LowerHalf(dh, acc)), r.fscale_a), r.foffset_a), magic);
  const auto b = hn::Add(hn::Add(hn::Mul(hn::PromoteTo(df64, hn::UpperHalf(dh, acc)), r.fscale_b), r.foffset_b), magic);
  return hn::BitCast(DI32(), hn::ConcatEven(du32, hn::BitCast(du32, b), hn::BitCast(du32, a)));
#endif
}

// The output stage before the clamp: zero point added, as int32 lanes (StoreBytes8 and
// StoreBytes4 narrow them with saturation and clamp the bytes, eight or four at a time).
// kRelu (the header's relu): the ReLU form, which has the zero point in its offset and
// needs no kScaled.
template <bool kScaled = true, bool kRelu = false>
HWY_INLINE VI32 OutputStage4(VI32 acc, const Requant4& r, const QPackedHeader& h) {
  if (kRelu) return ReluForm4(acc, r);
  return hn::Add(MultiplyQuantized4<kScaled>(acc, r, h.shift), hn::Set(DI32(), h.zero_point));
}

// Inlines a lambda into its caller (the output stages' accumulators stay in registers).
#ifndef MNV2_INLINE_LAMBDA
#define MNV2_INLINE_LAMBDA __attribute__((always_inline))
#endif

// fn(kScaled, kRelu) for the layer's requantization variant (the header's scaled and relu), as
// std::bool_constant arguments: where a kernel compiles its output stage once per variant
// (three: the ReLU form ignores kScaled).
template <class Fn>
HWY_INLINE decltype(auto) WithOutputVariant(const QPackedHeader& h, Fn&& fn) {
  using T = std::true_type;
  using F = std::false_type;
  if (h.relu) return fn(F(), T());
  return h.scaled ? fn(T(), F()) : fn(F(), F());
}

// OutputStage4 with the layer's variant chosen at run time, for code that is not hot
// enough to be compiled four times.
HWY_INLINE VI32 OutputStage4Any(VI32 acc, const Requant4& r, const QPackedHeader& h) {
  return WithOutputVariant(h, [&](auto scaled, auto relu) MNV2_INLINE_LAMBDA {
    return OutputStage4<decltype(scaled)::value, decltype(relu)::value>(acc, r, h);
  });
}

// Eight int32 lanes of OutputStage4 to eight bytes of the output: saturated to [0, 255]
// by the narrowing, then clamped to the layer's [min, max].
HWY_INLINE void StoreBytes8(VI32 lo, VI32 hi, const QPackedHeader& h, uint8_t* HWY_RESTRICT out) {
  const hn::Full64<uint8_t> du8;
#if HWY_TARGET == HWY_WASM
  // One i16x8.narrow_i32x4_s of both halves, whose lanes it keeps in order (a narrowing per
  // half and a shuffle to join them otherwise).
  const auto w = hn::ReorderDemote2To(DI16(), lo, hi);
#else
  const hn::Full64<int16_t> di16h;
  const auto w = hn::Combine(DI16(), hn::DemoteTo(di16h, hi), hn::DemoteTo(di16h, lo));
#endif
  const auto bytes = hn::DemoteTo(du8, w);
  const auto lo8 = hn::Set(du8, static_cast<uint8_t>(h.min)), hi8 = hn::Set(du8, static_cast<uint8_t>(h.max));
  hn::StoreU(hn::Min(hn::Max(bytes, lo8), hi8), du8, out);
}

// Four int32 lanes of OutputStage4 to the first `count` (<= 4) of four bytes, as StoreBytes8.
HWY_INLINE void StoreBytes4(VI32 v, const QPackedHeader& h, uint8_t* HWY_RESTRICT out, size_t count) {
  const hn::Full32<uint8_t> du8;
  const auto lo8 = hn::Set(du8, static_cast<uint8_t>(h.min)), hi8 = hn::Set(du8, static_cast<uint8_t>(h.max));
  const auto bytes = hn::Min(hn::Max(hn::DemoteTo(du8, v), lo8), hi8);
  if (count == 4) {
    hn::StoreU(bytes, du8, out);
    return;
  }
  uint8_t buf[4];
  hn::StoreU(bytes, du8, buf);
  for (size_t i = 0; i < count; ++i) out[i] = buf[i];
}
#endif  // HWY_TARGET != HWY_SCALAR

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_REQUANT_INL_H_
