// TFLite's reference quantized softmax (8-bit in, 8-bit out with scale 1/256), with
// the gemmlowp fixed-point functions it uses written out for int32 scalars. A single
// row of at most a few thousand classes: scalar on every target.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/qpacked.h"
#include "kernels/quantized_kernels.h"

namespace mnv2 {
namespace kernels {
namespace {

// SaturatingRoundingMultiplyByPOT<exponent>.
int32_t MultiplyByPOT(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return RoundingDivideByPOT(x, -exponent);
  const int32_t threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// A fixed-point value with `integer_bits` integer bits: real = raw / 2^(31 - integer_bits).
int32_t Mul(int32_t a, int32_t b) { return SaturatingRoundingDoublingHighMul(a, b); }

int32_t RoundingHalfSum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + b;
  return static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// exp(a) for a in [-1/4, 0), 0 integer bits.
int32_t ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int32_t a) {
  const int32_t constant_term = 1895147668;     // exp(-1/8)
  const int32_t constant_1_over_3 = 715827883;  // 1/3
  const int32_t x = a + (1 << 28);              // a + 1/8
  const int32_t x2 = Mul(x, x);
  const int32_t x3 = Mul(x2, x);
  const int32_t x4 = Mul(x2, x2);
  const int32_t x4_over_4 = MultiplyByPOT(x4, -2);
  const int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 =
      MultiplyByPOT(Mul(x4_over_4 + x3, constant_1_over_3) + x2, -1);
  return constant_term + Mul(constant_term, x + x4_over_24_plus_x3_over_6_plus_x2_over_2);
}

// exp(a) for a < 0 with kIntegerBits integer bits; the result has 0 integer bits.
template <int kIntegerBits>
int32_t ExpOnNegativeValues(int32_t a) {
  constexpr int kFractionalBits = 31 - kIntegerBits;
  const int32_t one_quarter = int32_t{1} << (kFractionalBits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  // Rescale<0> of the Q(kIntegerBits) value.
  int32_t result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(MultiplyByPOT(a_mod_quarter_minus_one_quarter, kIntegerBits));
  const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
  struct Step {
    int exponent;
    int32_t multiplier;  // exp(-2^exponent), 0 integer bits
  };
  constexpr Step kSteps[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
                             {2, 39332535},    {3, 720401},      {4, 242}};
  for (const Step& s : kSteps) {
    if (kIntegerBits > s.exponent) {
      const int shift = kFractionalBits + s.exponent;
      if (remainder & (int32_t{1} << shift)) result = Mul(result, s.multiplier);
    }
  }
  if (kIntegerBits > 5) {
    const int32_t clamp = -(int32_t{1} << (36 - kIntegerBits));  // -32
    if (a < clamp) result = 0;
  }
  if (a == 0) result = std::numeric_limits<int32_t>::max();  // One()
  return result;
}

// 1 / (1 + a) for a in (0, 1), 0 integer bits in and out (Newton-Raphson in Q2.29).
int32_t OneOverOnePlusXForXIn01(int32_t a) {
  const int32_t half_denominator = RoundingHalfSum(a, std::numeric_limits<int32_t>::max());
  const int32_t constant_48_over_17 = 1515870810;
  const int32_t constant_neg_32_over_17 = -1010580540;
  const int32_t one_q2 = 1 << 29;
  // F0 * F2 -> F2.
  int32_t x = constant_48_over_17 + Mul(half_denominator, constant_neg_32_over_17);
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = Mul(half_denominator, x);  // F2
    const int32_t one_minus_half_denominator_times_x = one_q2 - half_denominator_times_x;
    // F2 * F2 -> F4, Rescale<2>: multiply by 2^2 saturating.
    x = x + MultiplyByPOT(Mul(x, one_minus_half_denominator_times_x), 2);
  }
  // Rescale<0>(ExactMulByPot<-1>(x)): an F1 value to F0, multiply by 2^1 saturating.
  return MultiplyByPOT(x, 1);
}

int CountLeadingZeros(uint32_t x) {
  if (x == 0) return 32;
  int n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

}  // namespace

QSoftmaxParams PrepareQSoftmax(float beta, float in_scale) {
  // TFLite's PreprocessSoftmaxScaling and CalculateInputRadius, 5 integer bits.
  constexpr int kScaledDiffIntegerBits = 5;
  const double max_real_multiplier = static_cast<double>((int64_t{1} << 31) - 1);
  const double real = std::min(static_cast<double>(beta) * static_cast<double>(in_scale) *
                                   static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                               max_real_multiplier);
  const QuantizedMultiplier m = QuantizeMultiplier(real);
  QSoftmaxParams p;
  p.input_multiplier = m.multiplier;
  // The multiplier exceeds 1 for any sane input scale (the engine checks).
  p.input_left_shift = std::max(m.shift, 0);
  const double max_input_rescaled = 1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
                                    static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)) /
                                    static_cast<double>(int64_t{1} << p.input_left_shift);
  p.diff_min = -static_cast<int32_t>(std::floor(max_input_rescaled));
  for (int32_t d = 0; d < 256; ++d) {
    // MultiplyByQuantizedMultiplierGreaterThanOne of the difference -d, then its exp.
    const int32_t diff = -d;
    const int32_t scaled =
        Mul(static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift), p.input_multiplier);
    p.exp[d] = diff >= p.diff_min ? ExpOnNegativeValues<kScaledDiffIntegerBits>(scaled) : 0;
  }
  return p;
}

void QSoftmax(const uint8_t* in, int n, const QSoftmaxParams& p, uint8_t* out) {
  if (n <= 0) return;
  constexpr int kAccumulationIntegerBits = 12;
  const uint8_t max_in_row = *std::max_element(in, in + n);
  int32_t sum_of_exps = 0;  // kAccumulationIntegerBits integer bits
  for (int c = 0; c < n; ++c) {
    sum_of_exps += MultiplyByPOT(p.exp[max_in_row - in[c]], -kAccumulationIntegerBits);  // Rescale<12> from F0
  }
  // GetReciprocal.
  const int headroom_plus_one = CountLeadingZeros(static_cast<uint32_t>(sum_of_exps));
  const int num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(sum_of_exps) << headroom_plus_one) - (uint32_t{1} << 31));
  const int32_t shifted_scale = OneOverOnePlusXForXIn01(shifted_sum_minus_one);
  const int exponent = num_bits_over_unit + 31 - 8;
  for (int c = 0; c < n; ++c) {
    const int d = max_in_row - in[c];
    if (-d >= p.diff_min) {
      const int32_t v = RoundingDivideByPOT(Mul(shifted_scale, p.exp[d]), exponent);
      out[c] = static_cast<uint8_t>(std::min(std::max(v, 0), 255));
    } else {
      out[c] = 0;
    }
  }
}

}  // namespace kernels
}  // namespace mnv2
