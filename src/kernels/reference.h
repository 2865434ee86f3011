// Scalar reference twins of kernels.h, for tests (and as readable
// documentation of the semantics). Plain loops over UNPACKED weights in
// TFLite layouts, accumulating in double. Slow; never use them for inference.
#ifndef MNV2_KERNELS_REFERENCE_H_
#define MNV2_KERNELS_REFERENCE_H_

#include <cstddef>

#include "kernels/kernels.h"

namespace mnv2 {
namespace kernels {
namespace reference {

// c[i][j] = clamp(bias[j] + sum_k a[i][k] * weights[j][k]); weights: [n][k];
// bias may be null.
void Gemm(const float* a, size_t a_stride, int m, int k, const float* weights, const float* bias,
          int n, float* c, size_t c_stride, float out_min, float out_max);

// All output rows, any stride, padding and dilation. weights: [3][3][channels];
// bias: [channels] (may be null).
void DepthwiseConv3x3(const DepthwiseShape& s, const float* in, const float* weights,
                      const float* bias, float* out, float out_min, float out_max);

// All output rows, any kernel size and stride. weights: [out_c][kh][kw][in_c]
// (OHWI); bias may be null.
void Conv(const ConvShape& s, const float* in, const float* weights, const float* bias, float* out,
          float out_min, float out_max);

void Add(const float* a, const float* b, size_t n, float* out, float out_min, float out_max);
void GlobalAveragePool(const float* in, size_t pixels, int channels, float* out);
// In double with std::exp.
void Softmax(const float* in, int n, float beta, float* out);
void DotRows(const float* x, const float* rows, size_t n, size_t count, size_t stride, float* out);
void MulAddRows(const float* coeffs, const float* x, size_t n, size_t count, size_t stride, float* rows);
void L2Normalize(const float* x, size_t n, float* out);

}  // namespace reference
}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_KERNELS_REFERENCE_H_
