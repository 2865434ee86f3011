// Target-independent parts of quantized_kernels.h: TFLite's fixed-point helpers, the
// parameters of each op, and the packing of weights and requantization constants
// (layouts in qpacked.h).

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/qpacked.h"
#include "kernels/relaxed.h"
#include "kernels/quantized_kernels.h"

namespace mnv2 {
namespace kernels {
namespace {

// The largest right shift over the channels that multiply at all: every channel is lifted to it.
int PlanShift(const QuantizedMultiplier* m, int n) {
  int rs = 0;
  for (int c = 0; c < n; ++c) {
    if (m[c].multiplier != 0) rs = std::max(rs, -m[c].shift);
  }
  return rs;
}

}  // namespace

bool QChannelForm(QuantizedMultiplier m, int64_t bound, int layer_rs, bool saturating, QChannelVector* out) {
  const int rs = std::max(0, -m.shift), ls = std::max(0, m.shift);
  const int d = layer_rs - rs;
  const uint64_t u_max = static_cast<uint64_t>(std::min<int64_t>(std::max<int64_t>(bound, 0), int64_t{1} << 31));
  *out = QChannelVector();
  if (m.multiplier <= 0) {
    // The product is 0: only the rounding constant remains, and it rounds to 0.
    out->pre = 1;
    out->round = (uint64_t{1} << 30) << (d > 0 && d < 32 ? d : 0);
    return m.multiplier == 0 && d >= 0 && d < 32;
  }
  if (d < 0 || d + ls >= 32 || rs > 31) return false;
  // TFLite multiplies by 2^ls in int32; the magnitude form is exact while that does not wrap.
  if (ls > 0 && (u_max << ls) > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
  uint64_t clamp = u_max;
  if (saturating) {
    // From |acc| >= 2^(39 + rs - ls) / mult on, |result| >= 256: the output saturates.
    const int e = 39 + rs - ls;
    if (e - 31 < 32) {
      const uint64_t limit = ((uint64_t{1} << e) + static_cast<uint64_t>(m.multiplier) - 1) /
                             static_cast<uint64_t>(m.multiplier);
      clamp = std::min(clamp, limit);
    }
  }
  const uint64_t pre = uint64_t{1} << (ls + d);
  if (clamp * pre > 0xffffffffull) return false;
  out->clamp = static_cast<uint32_t>(clamp);
  out->pre = static_cast<uint32_t>(pre);
  out->corr = 1u << d;
  out->mult = static_cast<uint32_t>(m.multiplier);
  // 2^30 rounds the doubling high multiply; 2^(30 + rs) the division by 2^rs.
  out->round = ((uint64_t{1} << 30) + (rs >= 1 ? uint64_t{1} << (30 + rs) : 0)) << d;
  return true;
}

bool QChannelReluForm(QuantizedMultiplier m, int64_t bound, int32_t zero_point, double* fscale, double* foffset) {
  *fscale = *foffset = 0;
  if (m.multiplier < 0 || m.shift > 0) return false;
  const int rs = -m.shift;
  if (rs > 12 || zero_point < 0 || zero_point > 255) return false;
  const int S = 31 + rs;
  *fscale = std::ldexp(static_cast<double>(m.multiplier), -S);
  // zero_point + R / 2^S - 1/2 + 2^-(S+1), R = 2^30 + 2^(30 + rs) (2^30 when rs = 0); every
  // term is a power of two no finer than 2^-(S+1) and the sum stays below 2^9: exact.
  const double half_or_zero = rs >= 1 ? 0.5 : 0.0;
  *foffset = zero_point + (std::ldexp(1.0, 30 - S) + half_or_zero - 0.5 + std::ldexp(1.0, -S - 1));
  // The integer lands in the low 32 bits: |acc * fscale + foffset| < 2^31 for every acc that
  // can occur.
  const double largest = static_cast<double>(std::max<int64_t>(bound, 0)) * *fscale + 512.0;
  return largest < 2147483648.0;
}

namespace {

// Writes the channel parameters of qpacked.h for `count` channels (n of them real, the rest
// zero) at `base`. Returns whether the integer vector form is exact for all of them, and
// clears h->relu unless they all have the ReLU form too.
bool WriteChannelParams(const int32_t* bias, const QuantizedMultiplier* mult, const int64_t* bound, int n,
                        int count, int layer_rs, uint8_t* base, QPackedHeader* h) {
  const size_t cnt = static_cast<size_t>(count);
  std::memset(base, 0, QChannelParamsBytes(cnt));
  uint64_t* round = reinterpret_cast<uint64_t*>(base);
  double* fscale = reinterpret_cast<double*>(base + 8 * cnt);
  double* foffset = fscale + cnt;
  uint32_t* u = reinterpret_cast<uint32_t*>(base + 3 * 8 * cnt);
  int32_t* b = reinterpret_cast<int32_t*>(u);
  bool vector = true;
  for (int c = 0; c < n; ++c) {
    QChannelVector r;
    vector = QChannelForm(mult[c], bound[c], layer_rs, true, &r) && vector;
    if (h->relu && !QChannelReluForm(mult[c], bound[c], h->zero_point, &fscale[c], &foffset[c])) h->relu = 0;
    h->scaled |= r.pre != 1 ? 1 : 0;
    round[c] = r.round;
    b[c] = bias ? bias[c] : 0;
    u[cnt + c] = r.mult;
    u[2 * cnt + c] = r.clamp;
    u[3 * cnt + c] = r.pre;
    u[4 * cnt + c] = r.corr;
    std::memcpy(&u[5 * cnt + c], &mult[c].multiplier, 4);
    std::memcpy(&u[6 * cnt + c], &mult[c].shift, 4);
  }
  return vector;
}

// The header for a layer whose output is `out`: `relu` until WriteChannelParams finds a
// channel without the ReLU form.
QPackedHeader MakeHeader(const QOutput& out, int layer_rs, int32_t input_zero_point) {
  QPackedHeader h;
  std::memset(&h, 0, sizeof(h));
  h.zero_point = out.zero_point;
  h.min = out.min;
  h.max = out.max;
  h.shift = 31 + layer_rs;
  h.vector = 1;
  h.input_zero_point = input_zero_point;
  h.relu = out.min >= out.zero_point ? 1 : 0;
  return h;
}

int32_t MaxInputDeviation(int32_t zero_point) { return std::max(zero_point, 255 - zero_point); }

}  // namespace

QuantizedMultiplier QuantizeMultiplier(double real) {
  QuantizedMultiplier m;
  if (real == 0.0 || std::isnan(real)) return m;
  if (std::isinf(real)) {  // a scale ratio that overflowed: saturate like any huge one below
    m.multiplier = std::numeric_limits<int32_t>::max();
    m.shift = 30;
    return m;
  }
  int shift = 0;
  const double q = std::frexp(real, &shift);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  // The other end, from scales no real model has (an untrusted file's): saturate rather than
  // shift an int32 by 32 bits or more.
  if (shift > 30) {
    shift = 30;
    q_fixed = std::numeric_limits<int32_t>::max();
  }
  m.multiplier = static_cast<int32_t>(q_fixed);
  m.shift = shift;
  return m;
}

int32_t MultiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  const int left_shift = m.shift > 0 ? m.shift : 0;
  const int right_shift = m.shift > 0 ? 0 : -m.shift;
  // TFLite's x * (1 << left_shift), wrapping instead of undefined on overflow.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted, m.multiplier), right_shift);
}

QOutput QuantizedActivationRange(float scale, int32_t zero_point, float lo, float hi) {
  QOutput out;
  out.zero_point = zero_point;
  // TFLite divides in float (QuantizeValue); the rounding and sum in double and clamped first:
  // a tiny scale from an untrusted file puts f / scale far outside int (or at infinity).
  auto quantize = [&](float f) {
    const double q = zero_point + std::round(static_cast<double>(f / scale));
    return static_cast<int32_t>(std::clamp(q, -1.0, 256.0));
  };
  out.min = std::isinf(lo) ? 0 : std::max<int32_t>(0, quantize(lo));
  out.max = std::isinf(hi) ? 255 : std::min<int32_t>(255, quantize(hi));
  return out;
}

// ---------------------------------------------------------------------------

size_t PackedQGemmBytes(int k, int n) {
  const size_t panels = n > 0 ? (static_cast<size_t>(n) + kQGemmPanel - 1) / kQGemmPanel : 0;
  return sizeof(QPackedHeader) + panels * QGemmPanelBytes(k);
}

namespace {

// The relaxed layout's row_sum_factor d for weights in [lo, hi]: every a = w - d must fit int8,
// which needs a span of at most 256 values (8-bit weights). False where none exists.
bool RelaxedWeightOffset(int32_t lo, int32_t hi, int32_t* d) {
  *d = lo >= -128 && hi <= 127 ? 0 : hi - 127;  // int8 weights; else w - 128 for uint8 minus their zero point
  return lo - *d >= -128;
}

}  // namespace

void PackQGemm(const int16_t* weights, const int32_t* bias, const QuantizedMultiplier* mult, int k, int n,
               int32_t input_zero_point, const QOutput& out, uint8_t* packed) {
  const size_t kk = k > 0 ? static_cast<size_t>(k) : 0;
  const size_t nn = n > 0 ? static_cast<size_t>(n) : 0;
  std::memset(packed, 0, PackedQGemmBytes(k, n));
  const int layer_rs = PlanShift(mult, n);
  QPackedHeader h = MakeHeader(out, layer_rs, input_zero_point);
  const int32_t deviation = MaxInputDeviation(input_zero_point);
  int32_t lo = 0, hi = 0;
  for (size_t i = 0; i < nn * kk; ++i) {
    lo = std::min<int32_t>(lo, weights[i]);
    hi = std::max<int32_t>(hi, weights[i]);
  }
  // The relaxed layout where this engine's relaxed dot product serves (relaxed.h) and the
  // layer's requantization is the vector one (decided by the first pass, in the int16 layout).
  const RelaxedDot mode = RelaxedDotMode();
  int32_t offset = 0;
  const bool fits = RelaxedWeightOffset(lo, hi, &offset);
  for (int pass = 0; pass < 2; ++pass) {
    const bool relaxed = pass == 1;
    if (relaxed) {
      if (mode == RelaxedDot::kNone || !fits || !h.vector || QRelaxedDepth(k) > kQRelaxedStageBytes) break;
      std::memset(packed, 0, PackedQGemmBytes(k, n));
      h = MakeHeader(out, layer_rs, input_zero_point);
      h.relaxed = static_cast<int32_t>(mode);
      h.input_xor = mode == RelaxedDot::kSigned ? 0x80 : 0;
      h.row_sum_factor = offset;
    }
    const size_t panel_bytes = relaxed ? QRelaxedPanelBytes(k) : QGemmPanelBytes(k);
    uint8_t* panel = packed + sizeof(QPackedHeader);
    for (size_t p = 0; p < nn; p += kQGemmPanel, panel += panel_bytes) {
      const int cols = static_cast<int>(std::min<size_t>(kQGemmPanel, nn - p));
      int32_t folded[kQGemmPanel];
      int64_t bound[kQGemmPanel];
      uint8_t* w = panel + QChannelParamsBytes(kQGemmPanel);
      for (int j = 0; j < cols; ++j) {
        const int16_t* row = weights + (p + j) * kk;
        int64_t sum = 0, abs_sum = 0, relaxed_sum = 0;
        for (size_t i = 0; i < kk; ++i) {
          sum += row[i];
          abs_sum += std::abs(row[i]);
          if (relaxed) {
            // w = a + offset: sum w x = sum a x + offset * sum x (the kernel adds the last term).
            const int32_t a = row[i] - offset;
            relaxed_sum += a;
            reinterpret_cast<int8_t*>(w)[QRelaxedWeightIndex(i, static_cast<size_t>(j))] = static_cast<int8_t>(a);
          } else {
            reinterpret_cast<int16_t*>(w)[QGemmWeightIndex(i, static_cast<size_t>(j))] = row[i];
          }
        }
        const int64_t b = bias ? bias[p + j] : 0;
        // The kernel multiplies raw inputs: sum (a - zp) * w = sum a * w - zp * sum w. In the
        // signed form, the relaxed kernel's inputs are x - 128: it adds 128 * sum a back.
        folded[j] = static_cast<int32_t>(b - input_zero_point * sum + (h.input_xor ? 128 * relaxed_sum : 0));
        bound[j] = std::abs(b) + deviation * abs_sum;
      }
      h.vector &= WriteChannelParams(folded, mult + p, bound, cols, kQGemmPanel, layer_rs, panel, &h) ? 1 : 0;
    }
    h.vector |= h.relu;  // the ReLU form serves every channel
  }
  std::memcpy(packed, &h, sizeof(h));
}

int QIm2ColDepth(const ConvShape& s) {
  const int depth = std::max(s.kernel_h, 0) * std::max(s.kernel_w, 0) * std::max(s.in_c, 0);
  return (depth + 7) / 8 * 8;
}

void QIm2ColRow(const ConvShape& s, const uint8_t* in, int oy, uint8_t pad_value, uint8_t* rows) {
  // The shape in locals: as far as the compiler knows, the byte stores below may change it.
  const int in_h = s.in_h, in_w = s.in_w, kernel_h = s.kernel_h, kernel_w = s.kernel_w, out_w = s.out_w;
  const int stride = s.stride, pad_left = s.pad_left;
  const size_t depth = static_cast<size_t>(QIm2ColDepth(s));
  const size_t in_c = static_cast<size_t>(s.in_c);
  const size_t run = static_cast<size_t>(kernel_w) * in_c;  // one kernel row of taps
  const size_t in_row = static_cast<size_t>(in_w) * in_c;
  const int iy0 = oy * stride - s.pad_top;
  // The 3x3 RGB stem's windows inside the image: three copies of 9 bytes, each a constant-size
  // memcpy (two moves).
  const bool stem = run == 9 && kernel_h == 3 && iy0 >= 0 && iy0 + 3 <= in_h;
  const uint8_t* top = stem ? in + static_cast<size_t>(iy0) * in_row : in;
  for (int ox = 0; ox < out_w; ++ox) {
    uint8_t* dst = rows + static_cast<size_t>(ox) * depth;
    // The zero tail (under 8 bytes) as one 8-byte store at the slot's end, before the taps
    // that overwrite the rest of it.
    if (depth >= 8) std::memset(dst + depth - 8, 0, 8);
    const int ix0 = ox * stride - pad_left;
    const bool inside_x = ix0 >= 0 && ix0 + kernel_w <= in_w;
    if (stem && inside_x) {
      const uint8_t* src = top + static_cast<size_t>(ix0) * in_c;
      std::memcpy(dst, src, 9);
      std::memcpy(dst + 9, src + in_row, 9);
      std::memcpy(dst + 18, src + 2 * in_row, 9);
      continue;
    }
    for (int ky = 0; ky < kernel_h; ++ky, dst += run) {
      const int iy = iy0 + ky;
      if (iy < 0 || iy >= in_h) {
        for (size_t i = 0; i < run; ++i) dst[i] = pad_value;
        continue;
      }
      const uint8_t* row = in + static_cast<size_t>(iy) * in_row;
      if (inside_x) {
        // A few bytes: a plain loop beats a memcpy call.
        const uint8_t* src = row + static_cast<size_t>(ix0) * in_c;
        for (size_t i = 0; i < run; ++i) dst[i] = src[i];
        continue;
      }
      for (int kx = 0; kx < kernel_w; ++kx) {
        const int ix = ix0 + kx;
        const bool inside = ix >= 0 && ix < in_w;
        for (size_t c = 0; c < in_c; ++c) dst[kx * in_c + c] = inside ? row[static_cast<size_t>(ix) * in_c + c] : pad_value;
      }
    }
  }
}

// ---------------------------------------------------------------------------

size_t PackedQDepthwiseBytes(int channels) {
  // The relaxed copy, where the engine's relaxed dot product serves.
  if (RelaxedDotMode() == RelaxedDot::kNone) return QDepthwiseInt16Bytes(channels);
  return QDepthwiseRelaxedOffset(channels) + QDepthwiseRelaxedBytes(channels);
}

namespace {

// The relaxed copy of a depthwise layer (qpacked.h) for the form `mode`; false where some
// channel's nine weights span more than 256 values or its bias would not fit.
bool PackQDepthwiseRelaxed(const int16_t* weights, const int32_t* folded, int channels, RelaxedDot mode,
                           uint8_t* packed) {
  const size_t C = static_cast<size_t>(channels);
  int8_t* quads = reinterpret_cast<int8_t*>(packed + QDepthwiseRelaxedOffset(channels));
  int8_t* offsets = quads + 3 * 4 * C;
  uint8_t* bias = reinterpret_cast<uint8_t*>(offsets + 4 * C);
  for (size_t c = 0; c < C; ++c) {
    int32_t lo = 0, hi = 0;
    for (int t = 0; t < 9; ++t) {
      lo = std::min<int32_t>(lo, weights[t * C + c]);
      hi = std::max<int32_t>(hi, weights[t * C + c]);
    }
    const int32_t d = lo < -128 ? lo + 128 : hi > 127 ? hi - 127 : 0;
    if (d < -128 || d > 127 || lo - d < -128 || hi - d > 127) return false;
    int64_t sum = 0;
    for (int t = 0; t < 9; ++t) {
      const int32_t a = weights[t * C + c] - d;
      quads[((t % 3) * C + c) * 4 + t / 3] = static_cast<int8_t>(a);
      sum += a;
    }
    for (int i = 0; i < 3; ++i) offsets[c * 4 + i] = static_cast<int8_t>(d);
    // The signed form reads each input as x - 128: sum (a + d) x = sum a (x - 128) + d sum (x - 128)
    // + 128 sum a + 9 * 128 d.
    const int64_t b = folded[c] + (mode == RelaxedDot::kSigned ? 128 * sum + 9 * 128 * d : 0);
    if (b < std::numeric_limits<int32_t>::min() || b > std::numeric_limits<int32_t>::max()) return false;
    const int32_t b32 = static_cast<int32_t>(b);
    std::memcpy(bias + c * sizeof(b32), &b32, sizeof(b32));
  }
  return true;
}

}  // namespace

void PackQDepthwise(const int16_t* weights, const int32_t* bias, const QuantizedMultiplier* mult, int channels,
                    int32_t input_zero_point, const QOutput& out, uint8_t* packed) {
  std::memset(packed, 0, PackedQDepthwiseBytes(channels));
  if (channels <= 0) return;
  const size_t C = static_cast<size_t>(channels);
  const int layer_rs = PlanShift(mult, channels);
  QPackedHeader h = MakeHeader(out, layer_rs, input_zero_point);
  const int32_t deviation = MaxInputDeviation(input_zero_point);
  std::vector<int32_t> folded(C);
  std::vector<int64_t> bound(C);
  for (size_t c = 0; c < C; ++c) {
    int64_t sum = 0, abs_sum = 0;
    for (int t = 0; t < 9; ++t) {
      sum += weights[t * C + c];
      abs_sum += std::abs(weights[t * C + c]);
    }
    const int64_t b = bias ? bias[c] : 0;
    folded[c] = static_cast<int32_t>(b - input_zero_point * sum);
    bound[c] = std::abs(b) + deviation * abs_sum;
  }
  h.vector = WriteChannelParams(folded.data(), mult, bound.data(), channels, channels, layer_rs,
                                packed + sizeof(QPackedHeader), &h) ? 1 : 0;
  h.vector |= h.relu;  // the ReLU form serves every channel
  std::memcpy(packed, &h, sizeof(h));
  int16_t* pairs = reinterpret_cast<int16_t*>(packed + QDepthwiseParamsBytes(channels));
  for (int p = 0; p < kQDwPairs; ++p) {
    for (size_t c = 0; c < C; ++c) {
      for (int i = 0; i < 2; ++i) {
        const int t = kQDwPairTaps[p][i];
        pairs[(p * C + c) * 2 + i] = t < 0 ? 0 : weights[t * C + c];
      }
    }
  }
  std::memcpy(pairs + kQDwPairs * 2 * C, weights, 9 * C * sizeof(int16_t));
  // The relaxed copy for ReLU layers (their interior kernel has only the ReLU form), where the
  // engine's relaxed dot product serves.
  const RelaxedDot mode = RelaxedDotMode();
  if (mode != RelaxedDot::kNone && h.relu && PackQDepthwiseRelaxed(weights, folded.data(), channels, mode, packed)) {
    h.relaxed = static_cast<int32_t>(mode);
    h.input_xor = mode == RelaxedDot::kSigned ? 0x80 : 0;
    std::memcpy(packed, &h, sizeof(h));
  }
}

// ---------------------------------------------------------------------------

QAddParams PrepareQAdd(float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point, float out_scale,
                       const QOutput& out) {
  // TFLite's add.cc (8-bit general path).
  constexpr int kLeftShift = 20;
  const double twice_max_input_scale = 2 * static_cast<double>(std::max(a_scale, b_scale));
  QAddParams p;
  p.a_zero_point = a_zero_point;
  p.b_zero_point = b_zero_point;
  p.a_mult = QuantizeMultiplier(a_scale / twice_max_input_scale);
  p.b_mult = QuantizeMultiplier(b_scale / twice_max_input_scale);
  p.out_mult = QuantizeMultiplier(twice_max_input_scale / ((1 << kLeftShift) * out_scale));
  p.out = out;
  for (int q = 0; q < 256; ++q) {
    p.a_rescaled[q] = MultiplyByQuantizedMultiplier((q - a_zero_point) * (1 << kLeftShift), p.a_mult);
    p.b_rescaled[q] = MultiplyByQuantizedMultiplier((q - b_zero_point) * (1 << kLeftShift), p.b_mult);
  }
  return p;
}

QRequantParams PrepareQRequant(float in_scale, int32_t in_zero_point, float out_scale, int32_t out_zero_point) {
  QRequantParams p;
  p.input_zero_point = in_zero_point;
  p.mult = QuantizeMultiplier(static_cast<double>(in_scale) / static_cast<double>(out_scale));
  p.out.zero_point = out_zero_point;
  return p;
}

bool IsIdentity(const QRequantParams& p) {
  return p.mult.multiplier == (1 << 30) && p.mult.shift == 1 && p.input_zero_point == p.out.zero_point &&
         p.out.min == 0 && p.out.max == 255;
}

QPoolParams PrepareQAveragePool(bool int8, const QOutput& out) {
  QPoolParams p;
  p.kind = int8 ? QPoolParams::Kind::kAveragePoolInt8 : QPoolParams::Kind::kAveragePool;
  p.out = out;
  return p;
}

QPoolParams PrepareQMean(float in_scale, int32_t in_zero_point, float out_scale, int32_t out_zero_point, bool int8,
                         size_t pixels) {
  QPoolParams p;
  p.input_zero_point = in_zero_point;
  p.out.zero_point = out_zero_point;
  if (int8) {
    p.kind = QPoolParams::Kind::kMean;
    p.mult = QuantizeMultiplier(static_cast<double>(in_scale) / static_cast<double>(out_scale));
    return p;
  }
  p.kind = QPoolParams::Kind::kMeanUint8;
  float offset = static_cast<float>(in_zero_point) * in_scale / out_scale;
  // Scales from an untrusted file can make it huge, infinite or NaN (0 * inf): keep it convertible.
  offset = std::isnan(offset) ? 0.0f : std::clamp(offset, -65536.0f, 65536.0f);
  offset = offset > 0 ? offset + 0.5f : offset - 0.5f;
  p.offset = out_zero_point - static_cast<int32_t>(offset);
  p.mult = QuantizeMultiplier(static_cast<double>(in_scale / (static_cast<float>(pixels) * out_scale)));
  return p;
}

// ---------------------------------------------------------------------------
// Scalar kernels on the packed buffers (qpacked.h).

void QGemmScalar(const uint8_t* a, size_t a_stride, int m, int k, const uint8_t* packed, int n, uint8_t* c,
                 size_t c_stride) {
  if (m <= 0 || n <= 0 || k < 0) return;
  QPackedHeader h;
  std::memcpy(&h, packed, sizeof(h));
#if defined(MNV2_RELAXED_QGEMM)
  const bool relaxed = h.relaxed != 0;
#else
  constexpr bool relaxed = false;  // never packed in this build
#endif
  const uint8_t* panel = packed + sizeof(QPackedHeader);
  for (int p = 0; p < n; p += kQGemmPanel, panel += relaxed ? QRelaxedPanelBytes(k) : QGemmPanelBytes(k)) {
    const QChannelParams cp = QChannelParamsAt(panel, kQGemmPanel);
    const uint8_t* w = panel + QChannelParamsBytes(kQGemmPanel);
    for (int j = 0; j < kQGemmPanel && p + j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        const uint8_t* row = a + static_cast<size_t>(i) * a_stride;
        int32_t acc = cp.bias[j], sum = 0;
        for (int kk = 0; kk < k; ++kk) {
          if (relaxed) {
            // The relaxed kernel's arithmetic (qgemm_relaxed-inl.h), in the form packed for.
            const uint8_t x = row[kk] ^ static_cast<uint8_t>(h.input_xor);
            const int32_t xv = h.relaxed == static_cast<int32_t>(RelaxedDot::kSigned) ? static_cast<int8_t>(x) : x;
            acc += reinterpret_cast<const int8_t*>(w)[QRelaxedWeightIndex(kk, j)] * xv;
            sum += row[kk];
          } else {
            acc += row[kk] * reinterpret_cast<const int16_t*>(w)[QGemmWeightIndex(kk, j)];
          }
        }
        acc += h.row_sum_factor * sum;
        c[static_cast<size_t>(i) * c_stride + p + j] = QRequantScalar(acc, cp.tfl_mult[j], cp.tfl_shift[j], h);
      }
    }
  }
}

void QDepthwiseRowScalar(const DepthwiseShape& s, const uint8_t* const rows[3], const uint8_t* packed,
                         uint8_t* out_row, int ox_begin, int ox_end) {
  QPackedHeader h;
  std::memcpy(&h, packed, sizeof(h));
  const QDepthwisePacked p = QDepthwiseAt(packed, s.channels);
  const size_t C = static_cast<size_t>(s.channels);
  for (int ox = ox_begin; ox < ox_end; ++ox) {
    for (size_t c = 0; c < C; ++c) {
      // Padding reads the input zero point, which the folded bias cancels.
      int32_t acc = p.params.bias[c];
      for (int ky = 0; ky < 3; ++ky) {
        for (int kx = 0; kx < 3; ++kx) {
          const int ix = ox * s.stride - s.pad_left + kx * s.dilation;
          const int32_t x = rows[ky] != nullptr && ix >= 0 && ix < s.in_w
                                ? rows[ky][static_cast<size_t>(ix) * C + c]
                                : h.input_zero_point;
          acc += x * p.taps[static_cast<size_t>(ky * 3 + kx) * C + c];
        }
      }
      out_row[static_cast<size_t>(ox) * C + c] = QRequantScalar(acc, p.params.tfl_mult[c], p.params.tfl_shift[c], h);
    }
  }
}

}  // namespace kernels
}  // namespace mnv2
