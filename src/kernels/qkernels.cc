// Dispatching entry points of quantized_kernels.h, compiled once per Highway target
// like kernels.cc; the per-target kernels live in the q*-inl.h files. Packing and the
// fixed-point helpers are target independent (qpacking.cc, qsoftmax.cc).

#include <stddef.h>
#include <stdint.h>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/qkernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/qdepthwise-inl.h"
#include "kernels/qelementwise-inl.h"
#include "kernels/qgemm-inl.h"

#if HWY_ONCE

#include <algorithm>

#include "kernels/quantized_kernels.h"

namespace mnv2 {
namespace kernels {

HWY_EXPORT(QGemm);
HWY_EXPORT(QDepthwiseConv3x3Row);
HWY_EXPORT(QAdd);
HWY_EXPORT(QRequantize);
HWY_EXPORT(QGlobalAveragePool);

void QGemm(const uint8_t* a, size_t a_stride, int m, int k, const uint8_t* packed, int n, uint8_t* c,
           size_t c_stride) {
  HWY_DYNAMIC_DISPATCH(QGemm)(a, a_stride, m, k, packed, n, c, c_stride);
}

void QDepthwiseConv3x3Row(const DepthwiseShape& s, const uint8_t* const rows[3], const uint8_t* packed,
                          uint8_t* out_row) {
  HWY_DYNAMIC_DISPATCH(QDepthwiseConv3x3Row)(s, rows, packed, out_row);
}

void QDepthwiseConv3x3(const DepthwiseShape& s, const uint8_t* in, const uint8_t* packed, uint8_t* out,
                       int out_row_begin, int out_row_end) {
  const size_t in_row = static_cast<size_t>(s.in_w) * s.channels;
  const size_t out_row = static_cast<size_t>(s.out_w) * s.channels;
  for (int oy = std::max(out_row_begin, 0); oy < std::min(out_row_end, s.out_h); ++oy) {
    const uint8_t* rows[3];
    for (int k = 0; k < 3; ++k) {
      const int iy = oy * s.stride - s.pad_top + k * s.dilation;
      rows[k] = iy >= 0 && iy < s.in_h ? in + static_cast<size_t>(iy) * in_row : nullptr;
    }
    QDepthwiseConv3x3Row(s, rows, packed, out + static_cast<size_t>(oy) * out_row);
  }
}

void QAdd(const uint8_t* a, const uint8_t* b, size_t n, const QAddParams& p, uint8_t* out) {
  HWY_DYNAMIC_DISPATCH(QAdd)(a, b, n, p, out);
}

void QRequantize(const uint8_t* in, size_t n, const QRequantParams& p, uint8_t* out) {
  HWY_DYNAMIC_DISPATCH(QRequantize)(in, n, p, out);
}

void QGlobalAveragePool(const uint8_t* in, size_t pixels, int channels, const QPoolParams& p, uint8_t* out) {
  HWY_DYNAMIC_DISPATCH(QGlobalAveragePool)(in, pixels, channels, p, out);
}

}  // namespace kernels
}  // namespace mnv2

#endif  // HWY_ONCE
