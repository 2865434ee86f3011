// WebAssembly SIMD multiply-add peak: N independent f32x4 chains acc = acc * m + c, all in
// registers. WebAssembly SIMD (without relaxed-simd) has no fused multiply-add, so one
// multiply-add is an f32x4.mul plus an f32x4.add: the same instructions the engine's
// Highway kernels (HWY_WASM MulAdd) execute. Each call performs iters * CHAINS * 4 multiply-adds.
//   em++ -O3 -msimd128 --no-entry -sSTANDALONE_WASM -o peak.wasm peak.cc   (bench/prepare.sh)
// The recurrence cannot be simplified without fast-math, and m < 1 keeps the values finite
// and away from denormals.
//
// The integer peak, for the int8 engine: N independent chains acc = i32x4.add(
// i32x4.dot_i16x8_s(acc, m), c), the instructions of its GEMM's inner loop (Highway's
// ReorderWidenMulAccumulate on int16). One dot is 8 multiply-adds, so each call of dot_N
// performs iters * N * 8. Integer arithmetic wraps, so any m and c will do.
//
// With relaxed SIMD (-mrelaxed-simd: clang 19, relaxed-peak.wasm), the relaxed peaks too: chains of
// f32x4.relaxed_madd (`rmadd_N`, 4 multiply-adds each) and of i32x4.relaxed_dot_i8x16_i7x16_add_s
// (`rdot_N`, 16 each; the second operand's bytes in [0, 127], where every engine's result is the same).
#include <wasm_simd128.h>

#define CHAIN_DECL(i) v128_t a##i = wasm_f32x4_splat(seed + 0.01f * i);
#define CHAIN_STEP(i) a##i = wasm_f32x4_add(wasm_f32x4_mul(a##i, m), c);
#define CHAIN_SUM(i) s = wasm_f32x4_add(s, a##i);

#define REP4(X) X(0) X(1) X(2) X(3)
#define REP6(X) REP4(X) X(4) X(5)
#define REP8(X) REP6(X) X(6) X(7)
#define REP10(X) REP8(X) X(8) X(9)
#define REP12(X) REP10(X) X(10) X(11)
#define REP14(X) REP12(X) X(12) X(13)

#define PEAK_FUNCTION(CHAINS)                                                   \
  __attribute__((export_name("muladd_" #CHAINS))) float muladd_##CHAINS(      \
      int iters, float seed, float mul, float add) {                            \
    const v128_t m = wasm_f32x4_splat(mul), c = wasm_f32x4_splat(add);          \
    REP##CHAINS(CHAIN_DECL)                                                     \
    for (int i = 0; i < iters; ++i) {                                           \
      REP##CHAINS(CHAIN_STEP)                                                   \
    }                                                                           \
    v128_t s = wasm_f32x4_splat(0.0f);                                          \
    REP##CHAINS(CHAIN_SUM)                                                      \
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);     \
  }

#define DOT_DECL(i) v128_t a##i = wasm_i32x4_splat(seed + i);
#define DOT_STEP(i) a##i = wasm_i32x4_add(wasm_i32x4_dot_i16x8(a##i, m), c);
#define DOT_SUM(i) s = wasm_i32x4_add(s, a##i);

#define DOT_FUNCTION(CHAINS)                                                               \
  __attribute__((export_name("dot_" #CHAINS))) int dot_##CHAINS(int iters, int seed, int mul, \
                                                                int add) {                 \
    const v128_t m = wasm_i16x8_splat(static_cast<int16_t>(mul)), c = wasm_i32x4_splat(add); \
    REP##CHAINS(DOT_DECL)                                                                  \
    for (int i = 0; i < iters; ++i) {                                                      \
      REP##CHAINS(DOT_STEP)                                                                \
    }                                                                                      \
    v128_t s = wasm_i32x4_splat(0);                                                        \
    REP##CHAINS(DOT_SUM)                                                                   \
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);                 \
  }

#ifdef __wasm_relaxed_simd__
#define RMADD_STEP(i) a##i = wasm_f32x4_relaxed_madd(a##i, m, c);
#define RMADD_FUNCTION(CHAINS)                                                 \
  __attribute__((export_name("rmadd_" #CHAINS))) float rmadd_##CHAINS(        \
      int iters, float seed, float mul, float add) {                            \
    const v128_t m = wasm_f32x4_splat(mul), c = wasm_f32x4_splat(add);          \
    REP##CHAINS(CHAIN_DECL)                                                     \
    for (int i = 0; i < iters; ++i) {                                           \
      REP##CHAINS(RMADD_STEP)                                                   \
    }                                                                           \
    v128_t s = wasm_f32x4_splat(0.0f);                                          \
    REP##CHAINS(CHAIN_SUM)                                                      \
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);     \
  }
#define RDOT_STEP(i) a##i = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(m, k, a##i);
#define RDOT_FUNCTION(CHAINS)                                                                \
  __attribute__((export_name("rdot_" #CHAINS))) int rdot_##CHAINS(int iters, int seed, int mul, \
                                                                  int add) {                 \
    const v128_t m = wasm_i8x16_splat(static_cast<int8_t>(mul)), k = wasm_i8x16_splat(add & 127); \
    REP##CHAINS(DOT_DECL)                                                                    \
    for (int i = 0; i < iters; ++i) {                                                        \
      REP##CHAINS(RDOT_STEP)                                                                 \
    }                                                                                        \
    v128_t s = wasm_i32x4_splat(0);                                                          \
    REP##CHAINS(DOT_SUM)                                                                     \
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);                   \
  }
extern "C" {
RMADD_FUNCTION(4)
RMADD_FUNCTION(8)
RMADD_FUNCTION(12)
RMADD_FUNCTION(14)
RDOT_FUNCTION(4)
RDOT_FUNCTION(8)
RDOT_FUNCTION(12)
RDOT_FUNCTION(14)
}
#else
extern "C" {
PEAK_FUNCTION(4)
PEAK_FUNCTION(6)
PEAK_FUNCTION(8)
PEAK_FUNCTION(10)
PEAK_FUNCTION(12)
PEAK_FUNCTION(14)
DOT_FUNCTION(4)
DOT_FUNCTION(6)
DOT_FUNCTION(8)
DOT_FUNCTION(10)
DOT_FUNCTION(12)
DOT_FUNCTION(14)
}
#endif  // __wasm_relaxed_simd__
