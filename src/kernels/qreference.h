// Scalar reference twins of quantized_kernels.h, for tests (and as readable
// documentation of the semantics): TFLite's reference integer kernels written
// out over UNPACKED weights in TFLite layouts, on the uint8 carrier. Slow; never
// use them for inference.
#ifndef MNV2_KERNELS_QREFERENCE_H_
#define MNV2_KERNELS_QREFERENCE_H_

#include <cstddef>
#include <cstdint>

#include "kernels/quantized_kernels.h"

namespace mnv2 {
namespace kernels {
namespace qreference {

// Any kernel size, stride and padding (padding taps skipped, as TFLite does).
// weights: [out_c][kh][kw][in_c] minus their zero point; bias may be null; mult: [out_c].
void Conv(const ConvShape& s, const uint8_t* in, int32_t input_zero_point, const int16_t* weights,
          const int32_t* bias, const QuantizedMultiplier* mult, const QOutput& out, uint8_t* output);

// c[i][j] from rows of a (stride a_stride) and weights [n][k]: a 1x1 convolution.
void Gemm(const uint8_t* a, size_t a_stride, int m, int k, int32_t input_zero_point, const int16_t* weights,
          const int32_t* bias, const QuantizedMultiplier* mult, int n, const QOutput& out, uint8_t* c,
          size_t c_stride);

// All output rows, any stride, padding and dilation (padding taps skipped).
// weights: [3][3][channels] minus their zero point.
void DepthwiseConv3x3(const DepthwiseShape& s, const uint8_t* in, int32_t input_zero_point, const int16_t* weights,
                      const int32_t* bias, const QuantizedMultiplier* mult, const QOutput& out, uint8_t* output);

void Add(const uint8_t* a, const uint8_t* b, size_t n, const QAddParams& p, uint8_t* out);
void Requantize(const uint8_t* in, size_t n, const QRequantParams& p, uint8_t* out);
void GlobalAveragePool(const uint8_t* in, size_t pixels, int channels, const QPoolParams& p, uint8_t* out);

}  // namespace qreference
}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_KERNELS_QREFERENCE_H_
