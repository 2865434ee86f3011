// Dispatching entry points of kernels.h. This file is compiled once per
// Highway target (foreach_target.h re-includes it); the per-target kernels
// live in the *-inl.h files. Native builds dispatch at run time to the best
// target of this CPU; single-target builds (WebAssembly, or
// HWY_COMPILE_ONLY_STATIC) call the static target directly.
//
// Weight packing is target independent and lives in packing.cc.

#include <stddef.h>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/conv-inl.h"
#include "kernels/depthwise-inl.h"
#include "kernels/elementwise-inl.h"
#include "kernels/gemm-inl.h"
#include "kernels/rows-inl.h"

#if HWY_ONCE

#include <algorithm>

#include "kernels/kernels.h"

namespace mnv2 {
namespace kernels {

HWY_EXPORT(Gemm);
HWY_EXPORT(GemmSkippingZerosRoom);
HWY_EXPORT(GemmSkippingZerosColumns);
HWY_EXPORT(GemmSkippingZeros);
HWY_EXPORT(DepthwiseConv3x3Row);
HWY_EXPORT(ConvDirectRow);
HWY_EXPORT(Add);
HWY_EXPORT(GlobalAveragePool);
HWY_EXPORT(Softmax);
HWY_EXPORT(DotRows);
HWY_EXPORT(MulAddRows);

void Gemm(const float* a, size_t a_stride, int m, int k, const float* packed, int n, float* c,
          size_t c_stride, float out_min, float out_max) {
  HWY_DYNAMIC_DISPATCH(Gemm)(a, a_stride, m, k, packed, n, c, c_stride, out_min, out_max);
}

size_t GemmSkippingZerosRoom(int k) { return HWY_DYNAMIC_DISPATCH(GemmSkippingZerosRoom)(k); }
size_t GemmSkippingZerosColumns(int m, int k) { return HWY_DYNAMIC_DISPATCH(GemmSkippingZerosColumns)(m, k); }

void GemmSkippingZeros(float* a, int m, int k, const float* packed, int n, float* c, size_t c_stride, float out_min,
                       float out_max, uint32_t* columns) {
  HWY_DYNAMIC_DISPATCH(GemmSkippingZeros)(a, m, k, packed, n, c, c_stride, out_min, out_max, columns);
}

void DepthwiseConv3x3Row(const DepthwiseShape& s, const float* const rows[3], const float* weights,
                         const float* bias, float* out_row, float out_min, float out_max) {
  HWY_DYNAMIC_DISPATCH(DepthwiseConv3x3Row)(s, rows, weights, bias, out_row, out_min, out_max);
}

void DepthwiseConv3x3(const DepthwiseShape& s, const float* in, const float* weights,
                      const float* bias, float* out, int out_row_begin, int out_row_end,
                      float out_min, float out_max) {
  const size_t in_row = static_cast<size_t>(s.in_w) * s.channels;
  const size_t out_row = static_cast<size_t>(s.out_w) * s.channels;
  for (int oy = std::max(out_row_begin, 0); oy < std::min(out_row_end, s.out_h); ++oy) {
    const float* rows[3];
    for (int k = 0; k < 3; ++k) {
      const int iy = oy * s.stride - s.pad_top + k * s.dilation;
      rows[k] = iy >= 0 && iy < s.in_h ? in + static_cast<size_t>(iy) * in_row : nullptr;
    }
    DepthwiseConv3x3Row(s, rows, weights, bias, out + static_cast<size_t>(oy) * out_row, out_min, out_max);
  }
}

void ConvDirectRow(const ConvShape& s, const float* in, const float* packed, int oy, float* out_row,
                   float out_min, float out_max) {
  HWY_DYNAMIC_DISPATCH(ConvDirectRow)(s, in, packed, oy, out_row, out_min, out_max);
}

void ConvDirect(const ConvShape& s, const float* in, const float* packed, float* out,
                int out_row_begin, int out_row_end, float out_min, float out_max) {
  const size_t out_row = static_cast<size_t>(s.out_w) * s.out_c;
  for (int oy = std::max(out_row_begin, 0); oy < std::min(out_row_end, s.out_h); ++oy) {
    ConvDirectRow(s, in, packed, oy, out + static_cast<size_t>(oy) * out_row, out_min, out_max);
  }
}

void Add(const float* a, const float* b, size_t n, float* out, float out_min, float out_max) {
  HWY_DYNAMIC_DISPATCH(Add)(a, b, n, out, out_min, out_max);
}

void GlobalAveragePool(const float* in, size_t pixels, int channels, float* out) {
  HWY_DYNAMIC_DISPATCH(GlobalAveragePool)(in, pixels, channels, out);
}

void Softmax(const float* in, int n, float beta, float* out) {
  HWY_DYNAMIC_DISPATCH(Softmax)(in, n, beta, out);
}

void DotRows(const float* x, const float* rows, size_t n, size_t count, size_t stride, float* out) {
  HWY_DYNAMIC_DISPATCH(DotRows)(x, rows, n, count, stride, out);
}

void MulAddRows(const float* coeffs, const float* x, size_t n, size_t count, size_t stride, float* rows) {
  HWY_DYNAMIC_DISPATCH(MulAddRows)(coeffs, x, n, count, stride, rows);
}


}  // namespace kernels
}  // namespace mnv2

#endif  // HWY_ONCE
