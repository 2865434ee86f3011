// Integer NHWC kernels with TFLite's quantized arithmetic. They know tensors,
// zero points and fixed-point multipliers, never models.
//
// Activations are uint8 with a zero point. An int8 tensor is carried as uint8
// (value + 128, zero point + 128): every formula below depends on q - zero_point
// only, and the clamps move with the values, so the results are the same bytes
// shifted by 128.
//
// Accumulation is int32, biases are int32 and every rescaling is TFLite's
// MultiplyByQuantizedMultiplier (gemmlowp's SaturatingRoundingDoublingHighMul,
// then RoundingDivideByPOT): no floating point runs at inference, so every
// target (native, WebAssembly SIMD, WebAssembly without SIMD) returns the same
// bytes. kernels/qreference.h has the scalar twins the tests compare against.
#ifndef MNV2_KERNELS_QUANTIZED_KERNELS_H_
#define MNV2_KERNELS_QUANTIZED_KERNELS_H_

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace mnv2 {
namespace kernels {

// ---------------------------------------------------------------------------
// Fixed-point rescaling, as TFLite defines it.

// real ~= multiplier * 2^(shift - 31); multiplier in [2^30, 2^31) (or 0 for a zero scale),
// shift > 0 multiplies by 2^shift first, shift < 0 divides by 2^-shift after (rounding).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
};
// TFLite's QuantizeMultiplier (frexp, round half away from zero, shifts below -31 become 0).
QuantizedMultiplier QuantizeMultiplier(double real);
// TFLite's MultiplyByQuantizedMultiplier with gemmlowp's double rounding. `x * 2^shift`
// wraps like TFLite's int32 product when it overflows.
int32_t MultiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m);

// The uint8 output stage of a layer: clamp(zero_point + rescaled accumulator, min, max).
struct QOutput {
  int32_t zero_point = 0;
  int32_t min = 0, max = 255;
};
// TFLite's CalculateActivationRangeQuantized on the uint8 carrier: the real clamp [lo, hi]
// (-inf/+inf where none) mapped through scale and zero point, within [0, 255].
QOutput QuantizedActivationRange(float scale, int32_t zero_point, float lo, float hi);

// ---------------------------------------------------------------------------
// GEMM for quantized 1x1 convolutions, fully connected layers and (after QIm2ColRow)
// small KxK convolutions:
//   acc[m][j] = bias[j] + sum_k (A[m][k] - input_zero_point) * W[j][k]
//   C[m][j]   = clamp(out.zero_point + MultiplyByQuantizedMultiplier(acc, mult[j]), out.min, out.max)
// W holds the stored weights minus their zero point (int16, so uint8 and int8 weights
// alike). Packed once into panels of kQGemmPanel output channels with the input zero point
// folded into the bias; k runs in pairs for i32x4.dot_i16x8_s.
constexpr int kQGemmPanel = 8;
size_t PackedQGemmBytes(int k, int n);
// weights: [n][k]; bias may be null (zeros); mult: [n]. Requires k * 255 * 255 < 2^31.
void PackQGemm(const int16_t* weights, const int32_t* bias, const QuantizedMultiplier* mult, int k, int n,
               int32_t input_zero_point, const QOutput& out, uint8_t* packed);
// a: m rows of k bytes, row stride a_stride; c: m rows of n bytes, row stride c_stride.
// Reads exactly k bytes per row of a, writes exactly n per row of c; c must not overlap a.
void QGemm(const uint8_t* a, size_t a_stride, int m, int k, const uint8_t* packed, int n, uint8_t* c,
           size_t c_stride);

// A KxK convolution as a GEMM: output row `oy` as out_w rows of QIm2ColDepth(s) bytes, each the
// kh x kw x in_c window (OHWI order) of one output pixel; taps in the padding hold `pad_value`
// (the input zero point, so they add nothing) and the row is zero-filled up to a multiple of 8.
// Pack the weights with the same depth, zero-padded.
int QIm2ColDepth(const ConvShape& s);
void QIm2ColRow(const ConvShape& s, const uint8_t* in, int oy, uint8_t pad_value, uint8_t* rows);

// ---------------------------------------------------------------------------
// Depthwise 3x3 (depth multiplier 1), stride 1 or 2, any dilation (DepthwiseShape):
// TFLite's DepthwiseConv with the padding taps skipped (which equals padding with the
// input zero point).
size_t PackedQDepthwiseBytes(int channels);
// weights: [3][3][channels] minus their zero point; bias may be null; mult: [channels].
void PackQDepthwise(const int16_t* weights, const int32_t* bias, const QuantizedMultiplier* mult, int channels,
                    int32_t input_zero_point, const QOutput& out, uint8_t* packed);
// One output row from the three input rows its window covers (input rows
// oy * stride - pad_top + k * dilation; null where padding), as DepthwiseConv3x3Row: the
// dilation along the row is applied here. out_row must not overlap the rows or packed.
void QDepthwiseConv3x3Row(const DepthwiseShape& s, const uint8_t* const rows[3], const uint8_t* packed,
                          uint8_t* out_row);
// Output rows [out_row_begin, out_row_end) of a whole input.
void QDepthwiseConv3x3(const DepthwiseShape& s, const uint8_t* in, const uint8_t* packed, uint8_t* out,
                       int out_row_begin, int out_row_end);

// ---------------------------------------------------------------------------
// Elementwise ops and reductions.

// TFLite's quantized ADD (left shift 20, each input rescaled to twice the larger input
// scale, then the sum to the output scale).
struct QAddParams {
  int32_t a_zero_point = 0, b_zero_point = 0;
  QuantizedMultiplier a_mult, b_mult, out_mult;
  QOutput out;
  // Each input rescaled, per byte value: MultiplyByQuantizedMultiplier((q - zero point) * 2^20,
  // mult). Filled by PrepareQAdd; QAdd reads them.
  int32_t a_rescaled[256] = {}, b_rescaled[256] = {};
};
QAddParams PrepareQAdd(float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point, float out_scale,
                       const QOutput& out);
// out may alias a or b.
void QAdd(const uint8_t* a, const uint8_t* b, size_t n, const QAddParams& p, uint8_t* out);

// TFLite's QUANTIZE between two quantized types (Requantize):
//   out = clamp(out.zero_point + MultiplyByQuantizedMultiplier(in - input_zero_point, mult)).
struct QRequantParams {
  int32_t input_zero_point = 0;
  QuantizedMultiplier mult;
  QOutput out;
};
QRequantParams PrepareQRequant(float in_scale, int32_t in_zero_point, float out_scale, int32_t out_zero_point);
// True when the op changes no byte (same scale, same zero point).
bool IsIdentity(const QRequantParams& p);
// out may alias in.
void QRequantize(const uint8_t* in, size_t n, const QRequantParams& p, uint8_t* out);

// Global average over `pixels` rows of `channels` bytes, as TFLite computes
//   kAveragePool:     AVERAGE_POOL_2D on uint8 (no rescaling): (sum + pixels / 2) / pixels,
//   kAveragePoolInt8: the same on int8, rounding half away from zero around the int8 zero,
//   kMean:            MEAN on int8 (reference_integer_ops::Mean): the summed differences to
//                     the input zero point rescaled by in_scale / out_scale, then divided by
//                     pixels rounding half away from zero,
//   kMeanUint8:       MEAN on uint8 (reference_ops::Mean): the sum rescaled by
//                     in_scale / (pixels * out_scale), plus a rounded zero-point offset.
struct QPoolParams {
  enum class Kind { kAveragePool, kAveragePoolInt8, kMean, kMeanUint8 } kind = Kind::kAveragePool;
  int32_t input_zero_point = 0;
  QuantizedMultiplier mult;  // kMean, kMeanUint8
  int32_t offset = 0;        // kMeanUint8
  QOutput out;
};
QPoolParams PrepareQAveragePool(bool int8, const QOutput& out);
// Zero points on the uint8 carrier; `pixels` is the number of values averaged.
QPoolParams PrepareQMean(float in_scale, int32_t in_zero_point, float out_scale, int32_t out_zero_point, bool int8,
                         size_t pixels);
// out must not overlap in.
void QGlobalAveragePool(const uint8_t* in, size_t pixels, int channels, const QPoolParams& p, uint8_t* out);

// TFLite's reference quantized softmax: gemmlowp fixed-point exp of the rescaled differences
// to the row maximum, a fixed-point reciprocal of their sum, output scale 1/256
// (zero point 0 for uint8, -128 for int8: both give the same carrier bytes).
struct QSoftmaxParams {
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  int32_t diff_min = 0;
  // The fixed-point exp of every difference an 8-bit input can have: exp[d] for in - max = -d
  // (0 below diff_min). Made once, instead of twice per class and call.
  int32_t exp[256] = {};
};
QSoftmaxParams PrepareQSoftmax(float beta, float in_scale);
// out must not overlap in.
void QSoftmax(const uint8_t* in, int n, const QSoftmaxParams& p, uint8_t* out);

}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_KERNELS_QUANTIZED_KERNELS_H_
