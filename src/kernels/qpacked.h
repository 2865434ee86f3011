// Internal to the kernels: the layout of the packed buffers of quantized_kernels.h,
// written by qpacking.cc and read by the -inl.h kernels.
//
// The vector kernels requantize with one 32x32->64-bit multiply per value and no
// per-lane shift (WebAssembly has none): for acc of sign s and magnitude u,
//   r = s * ((min(u, clamp) * pre * mult + round - (acc < 0) * corr) >> shift)
// which equals TFLite's RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^ls,
// mult), rs) exactly: the two roundings fold into one (floor(floor(a) / b) = floor(a / b)),
// `pre` = 2^(ls + d) lifts every channel to the layer's common shift 31 + max(rs), and
// `clamp` only caps values whose result saturates the uint8 output anyway (or that no
// input can reach). Channels where that does not fit 64 bits make `vector` 0, and the
// kernels then requantize that layer with the scalar MultiplyByQuantizedMultiplier.
//
// ReLU layers (the output's minimum at or above its zero point) take a shorter exact form
// in double precision. For acc >= 0 the folded form above is floor((acc * mult + R) / 2^S)
// with S = 31 + rs and R = 2^30 + 2^(30 + rs) (2^30 when rs = 0); every acc < 0 gives the
// minimum. So, with fscale = mult / 2^S and foffset = zero_point + R / 2^S - 1/2 + 2^-(S+1),
//   out = clamp(round_to_nearest_even(acc * fscale + foffset), min, max)
// where acc * fscale and the sum are exact in a double while the result can be unsaturated
// (rs <= 12), the value sits on a 2^-S grid so the shifted rounding has no ties and gives
// the floor, and adding 1.5 * 2^52 does that rounding and leaves the integer in the low 32
// bits: a convert, a multiply and two adds per pair of values.
#ifndef MNV2_KERNELS_QPACKED_H_
#define MNV2_KERNELS_QPACKED_H_

#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/quantized_kernels.h"

namespace mnv2 {
namespace kernels {

// gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31), ties toward +inf.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// gemmlowp's RoundingDivideByPOT: x / 2^exponent, ties away from zero. In 64 bits so that
// exponents past 31 (which TFLite's softmax would refuse for a near-uniform row of over
// 512 classes) stay defined: the result is then 0 (or -1 for INT32_MIN at 32).
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = x & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int32_t>((static_cast<int64_t>(x) >> exponent) + (remainder > threshold ? 1 : 0));
}

// The first bytes of every packed buffer.
struct QPackedHeader {
  int32_t zero_point, min, max;  // the output stage
  int32_t shift;                 // 31 + the largest right shift of the layer
  int32_t vector;                // 1: the vector requantization is exact for every channel
  int32_t input_zero_point;
  int32_t scaled;  // some channel has pre != 1 (the kernels skip the min and multiply otherwise)
  // The output's minimum is at or above its zero point (a ReLU or ReLU6) and every channel
  // has the double-precision form (fscale, foffset): the kernels requantize with it.
  int32_t relu;
  // QGemm's weight layout (kernels/relaxed.h): 0, int16 pairs for i32x4.dot_i16x8_s (below);
  // otherwise the RelaxedDot the layer was packed for, int8 quads for the relaxed dot product
  // (qgemm_relaxed-inl.h), whose staged inputs are XORed with input_xor (0 or 0x80) and whose
  // accumulators add row_sum_factor times the sum of their row's inputs. QDepthwise: 0, or the
  // RelaxedDot of its relaxed copy (below), whose inputs are XORed with input_xor.
  int32_t relaxed;
  int32_t input_xor;
  int32_t row_sum_factor;
  int32_t reserved;
};
static_assert(sizeof(QPackedHeader) == 48, "header size");

// Per-channel parameters, structure of arrays over `count` channels starting at `base`
// (8-byte aligned): round (u64), fscale, foffset (double), then bias, mult, clamp, pre, corr,
// tfl_mult, tfl_shift (32-bit).
struct QChannelParams {
  const uint64_t* round;
  const double* fscale;
  const double* foffset;
  const int32_t* bias;
  const uint32_t* mult;
  const uint32_t* clamp;
  const uint32_t* pre;
  const uint32_t* corr;
  const int32_t* tfl_mult;
  const int32_t* tfl_shift;
};
inline size_t QChannelParamsBytes(size_t count) { return count * (3 * 8 + 7 * 4) + (count & 1) * 4; }
inline QChannelParams QChannelParamsAt(const uint8_t* base, size_t count) {
  QChannelParams p;
  p.round = reinterpret_cast<const uint64_t*>(base);
  p.fscale = reinterpret_cast<const double*>(base + 8 * count);
  p.foffset = p.fscale + count;
  const uint32_t* u = reinterpret_cast<const uint32_t*>(base + 3 * 8 * count);
  p.bias = reinterpret_cast<const int32_t*>(u);
  p.mult = u + count;
  p.clamp = u + 2 * count;
  p.pre = u + 3 * count;
  p.corr = u + 4 * count;
  p.tfl_mult = reinterpret_cast<const int32_t*>(u + 5 * count);
  p.tfl_shift = reinterpret_cast<const int32_t*>(u + 6 * count);
  return p;
}

// One QGemm panel: the parameters of kQGemmPanel channels, then for each chunk of 8
// along k, for each of its 4 pairs (k, k + 1): kQGemmPanel x 2 weights (int16; the pair's
// two weights of channel 0, then of channel 1, ...), zero-padded past k.
inline size_t QGemmChunks(int k) { return k > 0 ? (static_cast<size_t>(k) + 7) / 8 : 0; }
inline size_t QGemmPanelBytes(int k) {
  return QChannelParamsBytes(kQGemmPanel) + QGemmChunks(k) * kQGemmPanel * 8 * sizeof(int16_t);
}
// Where the weight of channel j (within its panel) for input i sits in the panel's weights.
inline size_t QGemmWeightIndex(size_t i, size_t j) {
  return (i / 8) * kQGemmPanel * 8 + (i % 8 / 2) * kQGemmPanel * 2 + j * 2 + i % 2;
}

// A relaxed QGemm panel: the same parameters, then for each quad of k (4 inputs) the
// kQGemmPanel channels' 4 int8 weights (channel 0's four, then channel 1's, ...: two vectors
// of four channels), zero-padded past k. The inputs are staged kc = QRelaxedDepth(k) bytes
// a row, at most kQRelaxedStageBytes at a time.
inline size_t QRelaxedDepth(int k) { return k > 0 ? (static_cast<size_t>(k) + 3) / 4 * 4 : 0; }
inline size_t QRelaxedPanelBytes(int k) { return QChannelParamsBytes(kQGemmPanel) + QRelaxedDepth(k) * kQGemmPanel; }
inline size_t QRelaxedWeightIndex(size_t i, size_t j) { return (i / 4) * kQGemmPanel * 4 + j * 4 + i % 4; }
constexpr size_t kQRelaxedStageBytes = 32768;

// QDepthwise: the channel parameters for `channels` (the bias folded with the input zero
// point: padding taps then read the zero point and add nothing), then the weights twice:
// as five tap pairs interleaved per channel for i32x4.dot_i16x8_s (taps (0,3), (1,4),
// (2,5), (6,7), (8,-)), each 2 * channels int16, and plain [9][channels].
//
// Where the engine's relaxed dot product serves (relaxed.h) a third copy follows, from the next
// multiple of 16 bytes (QDepthwiseRelaxed), for the interior kernel of qdepthwise_relaxed-inl.h
// (QPackedHeader::relaxed then names the form; ReLU layers only): per window column kx, per
// channel, the quad (a[0][kx], a[1][kx], a[2][kx], 0) of int8 weights a = w - d, where d is the
// channel's offset (0 where its nine weights fit int8; uint8 weights minus their zero point span
// up to 255 values); then per channel the quad (d, d, d, 0), whose dot product with a column's
// inputs adds d times their sum back; then the bias the kernel starts from (the folded one, plus
// in the signed form, whose inputs are read as x - 128, 128 times the nine weights a + d).
constexpr int kQDwPairs = 5;
constexpr int kQDwPairTaps[kQDwPairs][2] = {{0, 3}, {1, 4}, {2, 5}, {6, 7}, {8, -1}};
struct QDepthwisePacked {
  QChannelParams params;
  const int16_t* pairs;  // [kQDwPairs][channels][2]
  const int16_t* taps;   // [9][channels]
};
// The relaxed copy (read only where the header's relaxed is set).
struct QDepthwiseRelaxed {
  const int8_t* quads;    // [3][channels][4]
  const int8_t* offsets;  // [channels][4]
  const int32_t* bias;    // [channels]
};
inline size_t QDepthwiseParamsBytes(int channels) {
  const size_t c = channels > 0 ? static_cast<size_t>(channels) : 0;
  return sizeof(QPackedHeader) + QChannelParamsBytes(c);
}
// The parameters and the two int16 copies of the weights; where the relaxed copy starts, and its size.
inline size_t QDepthwiseInt16Bytes(int channels) {
  const size_t c = channels > 0 ? static_cast<size_t>(channels) : 0;
  return QDepthwiseParamsBytes(channels) + (kQDwPairs * 2 + 9) * c * sizeof(int16_t);
}
inline size_t QDepthwiseRelaxedOffset(int channels) { return (QDepthwiseInt16Bytes(channels) + 15) / 16 * 16; }
inline size_t QDepthwiseRelaxedBytes(int channels) {
  return (channels > 0 ? static_cast<size_t>(channels) : 0) * (3 * 4 + 4 + sizeof(int32_t));
}
inline QDepthwisePacked QDepthwiseAt(const uint8_t* packed, int channels) {
  const size_t c = static_cast<size_t>(channels);
  QDepthwisePacked p;
  p.params = QChannelParamsAt(packed + sizeof(QPackedHeader), c);
  p.pairs = reinterpret_cast<const int16_t*>(packed + QDepthwiseParamsBytes(channels));
  p.taps = p.pairs + kQDwPairs * 2 * c;
  return p;
}
inline QDepthwiseRelaxed QDepthwiseRelaxedAt(const uint8_t* packed, int channels) {
  const size_t c = static_cast<size_t>(channels);
  QDepthwiseRelaxed r;
  r.quads = reinterpret_cast<const int8_t*>(packed + QDepthwiseRelaxedOffset(channels));
  r.offsets = r.quads + 3 * 4 * c;
  r.bias = reinterpret_cast<const int32_t*>(r.offsets + 4 * c);
  return r;
}

// The vector kernels' groups of 8 channels (at least 8): multiples of 8, the last one re-based
// to channels - 8 (the overlap is computed twice, the same bytes).
inline size_t QDwGroupStart(size_t group, size_t channels) {
  return group * 8 < channels - 8 ? group * 8 : channels - 8;
}

// The vector form of one multiplier (see the formula above) for a layer whose largest
// right shift is layer_rs; false where it is not exact. bound: the largest |x| to expect;
// saturating: the result is clamped to 8 bits afterwards.
struct QChannelVector {
  uint64_t round = 0;
  uint32_t mult = 0, clamp = 0, pre = 0, corr = 0;
};
bool QChannelForm(QuantizedMultiplier m, int64_t bound, int layer_rs, bool saturating, QChannelVector* out);
// The double-precision form of a ReLU layer's channel (see above); false where it is not exact.
bool QChannelReluForm(QuantizedMultiplier m, int64_t bound, int32_t zero_point, double* fscale, double* foffset);

// Scalar versions of the kernels on the same packed buffers: HWY_SCALAR runs them, and
// the vector kernels fall back to them where `vector` is 0.
void QGemmScalar(const uint8_t* a, size_t a_stride, int m, int k, const uint8_t* packed, int n, uint8_t* c,
                 size_t c_stride);
void QDepthwiseRowScalar(const DepthwiseShape& s, const uint8_t* const rows[3], const uint8_t* packed,
                         uint8_t* out_row, int ox_begin, int ox_end);

// The scalar output stage (the fallback of the vector kernels, and their tails).
inline uint8_t QRequantScalar(int32_t acc, int32_t tfl_mult, int32_t tfl_shift, const QPackedHeader& h) {
  int32_t v = MultiplyByQuantizedMultiplier(acc, {tfl_mult, tfl_shift}) + h.zero_point;
  v = v < h.min ? h.min : v;
  v = v > h.max ? h.max : v;
  return static_cast<uint8_t>(v);
}

}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_KERNELS_QPACKED_H_
