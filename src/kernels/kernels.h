// Float32 NHWC kernels. They know tensors and shapes, never models.
//
// Each function dispatches at run time to the best Highway target this CPU has
// (natively) or is the single static target (WebAssembly). Every kernel has a
// scalar twin in kernels/reference.h that the tests compare against.
//
// Output clamping is XNNPACK's "minmax": pass (-inf, +inf) for no activation,
// (0, +inf) for ReLU and (0, 6) for ReLU6.
#ifndef MNV2_KERNELS_KERNELS_H_
#define MNV2_KERNELS_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace mnv2 {
namespace kernels {

// ---------------------------------------------------------------------------
// GEMM for 1x1 convolutions and fully connected layers:
//   C[m][n] = clamp(bias[n] + sum_k A[m][k] * W[n][k])
// W is packed once at load time into panels of kGemmPanel output channels:
//   for each panel p: bias[kGemmPanel], then for each k: W[p*kGemmPanel + j][k], j < kGemmPanel
// (zero padded where n is not a multiple of kGemmPanel).
constexpr int kGemmPanel = 8;

size_t PackedGemmWeightsFloats(int k, int n);
// weights: [n][k] row-major (TFLite's OHWI for a 1x1 conv, or FC's [out][in]); bias may be null.
void PackGemmWeights(const float* weights, const float* bias, int k, int n, float* packed);
// a: m rows of k floats, row stride a_stride; c: m rows of n floats, row stride c_stride.
// Reads exactly k floats per row of a and writes exactly n per row of c; c must
// not overlap a or packed. Parallel callers may split the m rows.
void Gemm(const float* a, size_t a_stride, int m, int k, const float* packed, int n, float* c,
          size_t c_stride, float out_min, float out_max);

// The same product for an A with many exact zeros (a ReLU's output), faster: for each
// register tile of rows it keeps the columns of A where some row is nonzero, and multiplies
// those alone. The sums are Gemm's, in the same order, for finite weights (a skipped
// column would only have added +0 or -0; an infinite or NaN weight would have made a NaN).
// a: m contiguous rows of k floats, preceded by GemmSkippingZerosRoom(k) writable floats;
// both are overwritten. columns: scratch of GemmSkippingZerosColumns(m, k) uint32s.
size_t GemmSkippingZerosRoom(int k);
size_t GemmSkippingZerosColumns(int m, int k);
void GemmSkippingZeros(float* a, int m, int k, const float* packed, int n, float* c, size_t c_stride, float out_min,
                       float out_max, uint32_t* columns);

// ---------------------------------------------------------------------------
// Depthwise 3x3 convolution (depth multiplier 1), stride 1 or 2, zero padding
// given as the number of padded rows/columns before the first input pixel, and
// dilation d >= 1 in both directions (TFLite's dilation_h == dilation_w; atrous):
// tap (ky, kx) of output pixel (oy, ox) reads input row oy * stride - pad_top + ky * d
// and column ox * stride - pad_left + kx * d, so the window spans 2 * d + 1 pixels.
//   weights: [3][3][channels] (TFLite's [1][3][3][C]); bias: [channels]
// Computes output rows [out_row_begin, out_row_end) only, so callers may split work.
// bias is required here; out must not overlap in, weights or bias.
struct DepthwiseShape {
  int in_h, in_w, channels;
  int out_h, out_w;
  int stride;
  int pad_top, pad_left;
  int dilation = 1;
};
void DepthwiseConv3x3(const DepthwiseShape& s, const float* in, const float* weights,
                      const float* bias, float* out, int out_row_begin, int out_row_end,
                      float out_min, float out_max);
// One output row from the three input rows its window covers (input rows
// oy * stride - pad_top + k * dilation, k < 3), each `in_w * channels` floats; rows[k] is
// null where that row lies in the padding. Lets callers keep input rows in a ring buffer.
// Applies the dilation along the row itself (columns kx * dilation apart).
// Uses in_w, channels, out_w, stride, pad_left and dilation of `s`.
void DepthwiseConv3x3Row(const DepthwiseShape& s, const float* const rows[3], const float* weights,
                         const float* bias, float* out_row, float out_min, float out_max);

// ---------------------------------------------------------------------------
// Direct KxK convolution for layers with few input channels (the stem: 3x3,
// stride 2, 3 input channels). Weights are packed once at load time:
//   bias[oc_padded], then [kh][kw][in_c][oc_padded], oc_padded = round up(out_c, kGemmPanel)
struct ConvShape {
  int in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int kernel_h, kernel_w;
  int stride;
  int pad_top, pad_left;
};
size_t PackedConvWeightsFloats(const ConvShape& s);
// weights: [out_c][kh][kw][in_c] (TFLite's OHWI); bias may be null.
void PackConvWeights(const ConvShape& s, const float* weights, const float* bias, float* packed);
// Any kernel size, stride and padding; out must not overlap in or packed.
void ConvDirect(const ConvShape& s, const float* in, const float* packed, float* out,
                int out_row_begin, int out_row_end, float out_min, float out_max);
// Output row `oy` alone, written to out_row (out_w * out_c floats).
void ConvDirectRow(const ConvShape& s, const float* in, const float* packed, int oy, float* out_row,
                   float out_min, float out_max);

// ---------------------------------------------------------------------------
// Elementwise and reductions.
// out[i] = clamp(a[i] + b[i]); out may alias a or b.
void Add(const float* a, const float* b, size_t n, float* out, float out_min, float out_max);
// out[c] = mean over `pixels` rows of in[p][c].
void GlobalAveragePool(const float* in, size_t pixels, int channels, float* out);
// out = softmax(beta * in); out may alias in.
void Softmax(const float* in, int n, float beta, float* out);

// ---------------------------------------------------------------------------
// One vector against many rows (nearest neighbours, a dense head and its gradient).
// out[r] = dot(x, rows + r * stride) over n floats, for r < count.
void DotRows(const float* x, const float* rows, size_t n, size_t count, size_t stride, float* out);
// rows[r * stride + i] += coeffs[r] * x[i] for i < n, r < count; rows must not overlap x or coeffs.
void MulAddRows(const float* coeffs, const float* x, size_t n, size_t count, size_t stride, float* rows);
// out = x / max(sqrt(sum of x[i]^2), 1e-6) over n floats: TFLite's L2_NORMALIZATION (an exported
// learned head starts with it). out may be x.
void L2Normalize(const float* x, size_t n, float* out);

// The Highway target the kernels dispatch to on this machine, e.g. "AVX2" or "WASM".
const char* TargetName();

}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_KERNELS_KERNELS_H_
