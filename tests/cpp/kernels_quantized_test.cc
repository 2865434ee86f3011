// Compares every kernel of quantized_kernels.h with its scalar twin in qreference.h,
// byte for byte, over awkward shapes, all MobileNetV2 channel counts and random
// quantization parameters (uint8 per-tensor and int8 per-channel style), once per
// Highway target compiled in and supported by this CPU. The fixed-point helpers are
// pinned against gemmlowp's definitions written out literally here.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "kernel_shapes.h"
#include "kernels/qpacked.h"
#include "kernels/qreference.h"
#include "kernels/quantized_kernels.h"
#include "kernels/relaxed.h"

namespace mnv2 {
namespace kernels {
namespace {

using testing_shapes::AllMobileNetShapes;
using testing_shapes::MakeConvShape;
using testing_shapes::MakeDepthwiseShape;
using testing_shapes::ToString;

constexpr uint8_t kByteCanary = 0xA5;

// gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, as published.
int32_t GemmlowpSrdhm(int32_t a, int32_t b) {
  bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  std::int64_t a_64(a);
  std::int64_t b_64(b);
  std::int64_t ab_64 = a_64 * b_64;
  std::int32_t nudge = ab_64 >= 0 ? (1 << 30) : (1 - (1 << 30));
  std::int32_t ab_x2_high32 = static_cast<std::int32_t>((ab_64 + nudge) / (1ll << 31));
  return overflow ? std::numeric_limits<std::int32_t>::max() : ab_x2_high32;
}
int32_t GemmlowpRdbpot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((1ll << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + ((x < 0) ? 1 : 0);
  return (x >> exponent) + ((remainder > threshold) ? 1 : 0);
}
int32_t TfliteMbqm(int32_t x, int32_t m, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return GemmlowpRdbpot(GemmlowpSrdhm(x * (1 << left_shift), m), right_shift);
}

// A multiplier as the converter makes them: a real scale in [lo, hi) (log-uniform).
QuantizedMultiplier RandomMultiplier(std::mt19937& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return QuantizeMultiplier(std::exp(u(rng)));
}

// Weights minus their zero point: uint8 per tensor (|w| <= 255) or int8 symmetric (<= 127).
std::vector<int16_t> RandomWeights(size_t n, bool int8, std::mt19937& rng) {
  std::vector<int16_t> w(n);
  if (int8) {
    std::uniform_int_distribution<int> d(-127, 127);
    for (int16_t& x : w) x = static_cast<int16_t>(d(rng));
  } else {
    // Stored values spread around their zero point, as trained weights are.
    const int zero_point = std::uniform_int_distribution<int>(60, 195)(rng);
    std::uniform_int_distribution<int> d(zero_point - 60, zero_point + 60);
    for (int16_t& x : w) x = static_cast<int16_t>(d(rng) - zero_point);
  }
  return w;
}

std::vector<uint8_t> RandomBytes(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<uint8_t> v(n);
  for (uint8_t& x : v) x = static_cast<uint8_t>(d(rng));
  return v;
}

std::vector<int32_t> RandomBias(size_t n, int32_t range, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> d(-range, range);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = d(rng);
  return v;
}

// Output stages: plain, ReLU-like (min at the zero point) and a narrow ReLU6-like range.
QOutput RandomOutput(std::mt19937& rng, int variant) {
  std::uniform_int_distribution<int> d(0, 255);
  QOutput out;
  out.zero_point = d(rng);
  if (variant % 3 == 1) out.min = out.zero_point;
  if (variant % 3 == 2) {
    out.min = std::min(out.zero_point, 200);
    out.max = std::min(255, out.min + 40);
  }
  return out;
}

// Per-channel multipliers: one for the whole tensor (uint8 style) or one per channel,
// typical scales mostly, some tiny (large right shifts) and some above 1 (left shifts).
// `terms`: products per accumulator, so that typical outputs spread over the 8 bits.
std::vector<QuantizedMultiplier> RandomMultipliers(size_t n, bool per_channel, std::mt19937& rng, int variant,
                                                   int terms) {
  const double typical = 100.0 / (std::sqrt(terms + 1.0) * 80.0 * 80.0);
  auto draw = [&](size_t i) {
    if (variant % 7 == 3 && i % 5 == 1) return RandomMultiplier(rng, 1e-8, 1e-6);
    if (variant % 7 == 5 && i % 3 == 0) return RandomMultiplier(rng, 1.0, 4.0);
    return RandomMultiplier(rng, typical / 8, std::min(typical * 8, 0.9));
  };
  std::vector<QuantizedMultiplier> m(n);
  if (!per_channel) {
    const QuantizedMultiplier one = draw(0);
    std::fill(m.begin(), m.end(), one);
  } else {
    for (size_t i = 0; i < n; ++i) m[i] = draw(i);
  }
  return m;
}

// Packed buffers of typical layers must take the vector requantization (qpacked.h);
// only the tiny and the above-one multipliers of some variants may need the scalar one.
void ExpectVectorPath(const std::vector<uint8_t>& packed, int variant) {
  QPackedHeader h;
  std::memcpy(&h, packed.data(), sizeof(h));
  if (variant % 7 != 3 && variant % 7 != 5) {
    EXPECT_EQ(h.vector, 1) << "variant " << variant;
  }
}

// Outputs that all sit on the clamp would prove little.
void ExpectSpread(const std::vector<uint8_t>& out, const QOutput& o) {
  if (out.size() < 1000 || o.max - o.min < 100) return;
  size_t inside = 0;
  for (uint8_t v : out) inside += v > o.min && v < o.max;
  EXPECT_GT(inside, out.size() / 10) << "nearly all outputs saturate";
}

::testing::AssertionResult SameBytes(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want,
                                     const std::string& what) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << what << ": sizes differ";
  size_t bad = 0;
  std::ostringstream msg;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      if (bad < 5) msg << "\n  [" << i << "] got " << int(got[i]) << " want " << int(want[i]);
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << got.size() << " differ" << msg.str();
}

// ---------------------------------------------------------------------------

// The QGemm layouts this build can run: the int16 one, and natively the relaxed one in both
// forms of the relaxed dot product (relaxed.h: the kernel with the instruction emulated).
std::vector<RelaxedDot> QGemmForms() {
#if defined(MNV2_RELAXED_QGEMM) && !defined(__EMSCRIPTEN__)
  return {RelaxedDot::kNone, RelaxedDot::kUnsigned, RelaxedDot::kSigned};
#else
  return {RelaxedDotMode()};
#endif
}

// Packs with the form `mode` and checks that the relaxed layout was chosen where it serves.
void PackQGemmFor(RelaxedDot mode, const int16_t* w, const int32_t* bias, const QuantizedMultiplier* mult, int k,
                  int n, int32_t zero_point, const QOutput& out, std::vector<uint8_t>* packed) {
  SetRelaxedDotModeForTesting(mode);
  packed->assign(PackedQGemmBytes(k, n), 0);
  PackQGemm(w, bias, mult, k, n, zero_point, out, packed->data());
  SetRelaxedDotModeForTesting(RelaxedDot::kNone);
  QPackedHeader h;
  std::memcpy(&h, packed->data(), sizeof(h));
  // 8-bit weights (at most 256 values, 0 among them; wider ones are no real model's) fit int8 quads.
  const auto span = std::minmax_element(w, w + static_cast<size_t>(k) * n);
  const bool eight_bit = k > 0 && std::max<int>(*span.second, 0) - std::min<int>(*span.first, 0) <= 255;
  if (h.vector && eight_bit) {
    EXPECT_EQ(h.relaxed, static_cast<int32_t>(mode)) << "layout";
  }
}

void CheckQGemm(int m, int k, int n, size_t a_stride, size_t c_stride, bool int8, int variant, std::mt19937& rng) {
  std::ostringstream what;
  what << "QGemm m=" << m << " k=" << k << " n=" << n << " a_stride=" << a_stride << " c_stride=" << c_stride
       << (int8 ? " int8" : " uint8") << " variant " << variant;
  SCOPED_TRACE(what.str());
  const size_t a_size = m == 0 ? 0 : (m - 1) * a_stride + k;
  const size_t c_size = m == 0 ? 0 : (m - 1) * c_stride + n;
  const std::vector<uint8_t> a = RandomBytes(a_size, rng);
  const std::vector<int16_t> w = RandomWeights(static_cast<size_t>(n) * k, int8, rng);
  const std::vector<int32_t> bias = RandomBias(n, variant % 4 == 0 ? 1 << 24 : 1 << 14, rng);
  const std::vector<QuantizedMultiplier> mult = RandomMultipliers(n, int8, rng, variant, k);
  const QOutput out = RandomOutput(rng, variant);
  const int32_t zero_point = std::uniform_int_distribution<int>(0, 255)(rng);
  const int32_t* bias_ptr = variant % 5 == 4 ? nullptr : bias.data();
  std::vector<uint8_t> want(c_size, kByteCanary);
  qreference::Gemm(a.data(), a_stride, m, k, zero_point, w.data(), bias_ptr, mult.data(), n, out, want.data(),
                   c_stride);

  for (RelaxedDot mode : QGemmForms()) {
    const std::string form = what.str() + " relaxed " + RelaxedDotName(mode);
    std::vector<uint8_t> packed;
    PackQGemmFor(mode, w.data(), bias_ptr, mult.data(), k, n, zero_point, out, &packed);
    if (k > 0) ExpectVectorPath(packed, variant);
    std::vector<uint8_t> got(c_size, kByteCanary);
    QGemm(a.data(), a_stride, m, k, packed.data(), n, got.data(), c_stride);
    ASSERT_TRUE(SameBytes(got, want, form));
    if (mode != RelaxedDot::kNone) {  // the scalar kernel reads the relaxed layout too
      std::vector<uint8_t> scalar(c_size, kByteCanary);
      QGemmScalar(a.data(), a_stride, m, k, packed.data(), n, scalar.data(), c_stride);
      ASSERT_TRUE(SameBytes(scalar, want, form + " scalar"));
    }
  }
  const bool typical = variant % 7 != 3 && variant % 7 != 5 && variant % 4 != 0 && bias_ptr != nullptr;
  if (typical && k > 0 && a_stride == static_cast<size_t>(k) && c_stride == static_cast<size_t>(n)) {
    ExpectSpread(want, out);
  }
}

// A random quantized depthwise layer of shape s, its input, and the layer packed.
struct QDepthwiseLayer {
  std::vector<uint8_t> in;
  std::vector<int16_t> w;
  std::vector<int32_t> bias;
  std::vector<QuantizedMultiplier> mult;
  QOutput out;
  int32_t zero_point = 0;
  std::vector<uint8_t> packed;
  // TFLite's reference on `input` (the layer's input or a phase of it) for shape s.
  void Reference(const DepthwiseShape& s, const uint8_t* input, uint8_t* result) const {
    qreference::DepthwiseConv3x3(s, input, zero_point, w.data(), bias.data(), mult.data(), out, result);
  }
};

// Packs the layer for the form `mode` (QGemmForms) and checks that the relaxed copy was chosen
// where it serves: ReLU layers whose channels' weights each span at most 256 values, none
// 255 (whose offset, 128, would not fit int8).
std::vector<uint8_t> PackQDepthwiseFor(RelaxedDot mode, const QDepthwiseLayer& l, int channels) {
  SetRelaxedDotModeForTesting(mode);
  std::vector<uint8_t> packed(PackedQDepthwiseBytes(channels));
  PackQDepthwise(l.w.data(), l.bias.data(), l.mult.data(), channels, l.zero_point, l.out, packed.data());
  SetRelaxedDotModeForTesting(RelaxedDot::kNone);
  QPackedHeader h;
  std::memcpy(&h, packed.data(), sizeof(h));
  const size_t C = static_cast<size_t>(channels);
  bool eight_bit = true;
  for (size_t c = 0; c < C; ++c) {
    int lo = 0, hi = 0;
    for (int t = 0; t < 9; ++t) lo = std::min<int>(lo, l.w[t * C + c]), hi = std::max<int>(hi, l.w[t * C + c]);
    eight_bit &= hi - lo <= 255 && hi < 255;
  }
  EXPECT_EQ(h.relaxed, h.relu && eight_bit ? static_cast<int32_t>(mode) : 0) << "layout";
  return packed;
}

// A uint8 depthwise layer's weights as real ones are: stored values spread around their zero
// point, and in some channels out to 0 and 255, so that those channels' weights (minus the
// zero point) do not fit int8 (the relaxed copy's offsets). [9][channels].
std::vector<int16_t> WideWeights(size_t channels, std::mt19937& rng) {
  const int zero_point = std::uniform_int_distribution<int>(90, 165)(rng);
  std::normal_distribution<double> d(zero_point, 35);
  std::vector<int16_t> w(9 * channels);
  for (int16_t& x : w) x = static_cast<int16_t>(std::clamp(static_cast<int>(std::lround(d(rng))), 0, 255) - zero_point);
  for (size_t c = 0; c < channels; c += 3) {
    w[(c % 9) * channels + c] = static_cast<int16_t>(-zero_point);
    w[((c + 4) % 9) * channels + c] = static_cast<int16_t>(255 - zero_point);
  }
  return w;
}

// int8 or uint8 weights (RandomWeights; WideWeights for the uint8 variants with a ReLU), packed
// without the relaxed copy.
QDepthwiseLayer RandomQDepthwise(const DepthwiseShape& s, bool int8, int variant, std::mt19937& rng) {
  const size_t C = static_cast<size_t>(s.channels);
  QDepthwiseLayer l;
  l.in = RandomBytes(static_cast<size_t>(s.in_h) * s.in_w * C, rng);
  l.w = !int8 && variant % 3 == 1 ? WideWeights(C, rng) : RandomWeights(9 * C, int8, rng);
  l.bias = RandomBias(C, 1 << 12, rng);
  l.mult = RandomMultipliers(C, int8, rng, variant, 9);
  l.out = RandomOutput(rng, variant);
  l.zero_point = std::uniform_int_distribution<int>(0, 255)(rng);
  l.packed.resize(PackedQDepthwiseBytes(s.channels));
  PackQDepthwise(l.w.data(), l.bias.data(), l.mult.data(), s.channels, l.zero_point, l.out, l.packed.data());
  return l;
}

void CheckQDepthwise(const DepthwiseShape& s, int split, bool int8, int variant, std::mt19937& rng) {
  const std::string what = "QDepthwiseConv3x3 " + ToString(s) + " split " + std::to_string(split) +
                           (int8 ? " int8" : " uint8") + " variant " + std::to_string(variant);
  SCOPED_TRACE(what);
  const size_t C = static_cast<size_t>(s.channels);
  const QDepthwiseLayer l = RandomQDepthwise(s, int8, variant, rng);
  const std::vector<uint8_t>& in = l.in;
  ExpectVectorPath(l.packed, variant);

  const size_t out_size = static_cast<size_t>(s.out_h) * s.out_w * C;
  std::vector<uint8_t> want(out_size);
  l.Reference(s, in.data(), want.data());
  for (RelaxedDot mode : QGemmForms()) {
    const std::string form = what + " relaxed " + RelaxedDotName(mode);
    const std::vector<uint8_t> packed = PackQDepthwiseFor(mode, l, s.channels);
    std::vector<uint8_t> got(out_size, kByteCanary);
    QDepthwiseConv3x3(s, in.data(), packed.data(), got.data(), split, s.out_h);
    const size_t split_at = static_cast<size_t>(split) * s.out_w * C;
    for (size_t i = 0; i < split_at; ++i) ASSERT_EQ(got[i], kByteCanary) << form << ": wrote before split";
    QDepthwiseConv3x3(s, in.data(), packed.data(), got.data(), 0, split);
    ASSERT_TRUE(SameBytes(got, want, form));
    if (variant % 7 != 3 && variant % 7 != 5) ExpectSpread(got, l.out);
  }
}

// A KxK convolution as QIm2ColRow + QGemm against the direct reference.
void CheckQConv(const ConvShape& s, bool int8, int variant, std::mt19937& rng) {
  const std::string what = "QConv " + ToString(s) + (int8 ? " int8" : " uint8") + " variant " + std::to_string(variant);
  SCOPED_TRACE(what);
  const size_t taps = static_cast<size_t>(s.kernel_h) * s.kernel_w * s.in_c;
  const std::vector<uint8_t> in = RandomBytes(static_cast<size_t>(s.in_h) * s.in_w * s.in_c, rng);
  const std::vector<int16_t> w = RandomWeights(static_cast<size_t>(s.out_c) * taps, int8, rng);
  const std::vector<int32_t> bias = RandomBias(s.out_c, 1 << 12, rng);
  const std::vector<QuantizedMultiplier> mult = RandomMultipliers(s.out_c, int8, rng, variant, static_cast<int>(taps));
  const QOutput out = RandomOutput(rng, variant);
  const int32_t zero_point = std::uniform_int_distribution<int>(0, 255)(rng);

  const int depth = QIm2ColDepth(s);
  ASSERT_EQ(depth % 8, 0);
  ASSERT_GE(static_cast<size_t>(depth), taps);
  std::vector<int16_t> padded(static_cast<size_t>(s.out_c) * depth, 0);
  for (int o = 0; o < s.out_c; ++o) std::copy_n(w.data() + o * taps, taps, padded.data() + static_cast<size_t>(o) * depth);
  std::vector<uint8_t> packed(PackedQGemmBytes(depth, s.out_c));
  PackQGemm(padded.data(), bias.data(), mult.data(), depth, s.out_c, zero_point, out, packed.data());

  const size_t row_bytes = static_cast<size_t>(s.out_w) * s.out_c;
  std::vector<uint8_t> got(static_cast<size_t>(s.out_h) * row_bytes), want(got.size());
  std::vector<uint8_t> cols(static_cast<size_t>(s.out_w) * depth);
  for (int oy = 0; oy < s.out_h; ++oy) {
    QIm2ColRow(s, in.data(), oy, static_cast<uint8_t>(zero_point), cols.data());
    QGemm(cols.data(), depth, s.out_w, depth, packed.data(), s.out_c, got.data() + oy * row_bytes, s.out_c);
  }
  qreference::Conv(s, in.data(), zero_point, w.data(), bias.data(), mult.data(), out, want.data());
  ASSERT_TRUE(SameBytes(got, want, what));
}

// ---------------------------------------------------------------------------
// Target-independent helpers.

TEST(QuantizedHelpersTest, QuantizeMultiplierMatchesTflite) {
  auto expect = [](double real, int32_t m, int shift) {
    const QuantizedMultiplier q = QuantizeMultiplier(real);
    EXPECT_EQ(q.multiplier, m) << real;
    EXPECT_EQ(q.shift, shift) << real;
  };
  expect(1.0, 1 << 30, 1);
  expect(0.5, 1 << 30, 0);
  expect(0.75, 1610612736, 0);
  expect(0.0, 0, 0);
  expect(1e-12, 0, 0);           // shift below -31
  expect(0.99999999999, 1 << 30, 1);  // rounds up to 2^31, renormalized
  expect(3.0, 1610612736, 2);
}

TEST(QuantizedHelpersTest, MultiplyByQuantizedMultiplierMatchesGemmlowp) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  std::uniform_int_distribution<int32_t> small(-(1 << 20), 1 << 20);
  const int32_t edges[] = {0, 1, -1, 2, -2, 3, -3, 255, -255, 1 << 30, -(1 << 30), (1 << 30) + 1,
                           std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min() + 1};
  for (int i = 0; i < 200000; ++i) {
    QuantizedMultiplier m = RandomMultiplier(rng, 1e-9, 0.99);
    if (i % 11 == 0) m.multiplier = 1 << 30;  // exact halves: every tie
    if (i % 13 == 0) m.multiplier = 3 << 29;
    const int32_t x = i < 14 * 50 ? edges[i % 14] : (i % 2 ? any(rng) : small(rng));
    ASSERT_EQ(MultiplyByQuantizedMultiplier(x, m), TfliteMbqm(x, m.multiplier, m.shift))
        << x << " * " << m.multiplier << " shift " << m.shift;
  }
  // Left shifts that do not overflow.
  for (int i = 0; i < 20000; ++i) {
    const QuantizedMultiplier m = RandomMultiplier(rng, 1.0, 16.0);
    const int32_t x = small(rng) >> 4;
    ASSERT_EQ(MultiplyByQuantizedMultiplier(x, m), TfliteMbqm(x, m.multiplier, m.shift));
  }
}

TEST(QuantizedHelpersTest, ActivationRange) {
  const QOutput relu6 = QuantizedActivationRange(6.0f / 255, 0, 0.0f, 6.0f);
  EXPECT_EQ(relu6.min, 0);
  EXPECT_EQ(relu6.max, 255);
  const QOutput narrow = QuantizedActivationRange(0.05f, 100, 0.0f, 6.0f);
  EXPECT_EQ(narrow.min, 100);
  EXPECT_EQ(narrow.max, 220);
  const QOutput none = QuantizedActivationRange(0.05f, 100, -INFINITY, INFINITY);
  EXPECT_EQ(none.min, 0);
  EXPECT_EQ(none.max, 255);
}

TEST(QuantizedHelpersTest, SoftmaxFollowsTheFloatSoftmax) {
  std::mt19937 rng(22);
  for (int n : {1, 2, 3, 10, 965, 1001}) {
    for (float scale : {0.02f, 0.0988925f, 0.25f}) {
      const std::vector<uint8_t> in = RandomBytes(n, rng);
      std::vector<uint8_t> out(n, kByteCanary);
      QSoftmax(in.data(), n, PrepareQSoftmax(1.0f, scale), out.data());
      double max = *std::max_element(in.begin(), in.end()), sum = 0;
      for (uint8_t v : in) sum += std::exp(scale * (v - max));
      int total = 0;
      for (int i = 0; i < n; ++i) {
        const double want = 256.0 * std::exp(scale * (in[i] - max)) / sum;
        ASSERT_LE(std::fabs(out[i] - std::min(want, 255.0)), 1.0) << "n=" << n << " scale=" << scale << " [" << i << "]";
        total += out[i];
      }
      EXPECT_NEAR(total, std::min(256, 255 * n), n / 2 + 2);
    }
  }
  // One dominant logit gets all the probability the 8-bit output can hold.
  std::vector<uint8_t> in(1001, 0), out(1001);
  in[7] = 255;
  QSoftmax(in.data(), 1001, PrepareQSoftmax(1.0f, 0.1f), out.data());
  EXPECT_EQ(out[7], 255);
  EXPECT_EQ(out[0], 0);
}

// ---------------------------------------------------------------------------
// Every target.

class QuantizedKernelsTest : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(QuantizedKernelsTest);

TEST_P(QuantizedKernelsTest, QGemmSmallShapes) {
  std::mt19937 rng(31);
  const int kDims[] = {1, 3, 4, 5, 7, 8, 9, 16, 17, 33};
  int variant = 0;
  for (int m = 1; m <= 8; ++m) {
    for (int k : kDims) {
      for (int n : kDims) {
        ++variant;
        CheckQGemm(m, k, n, k, n, variant % 2 == 0, variant, rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(QuantizedKernelsTest, QGemmStridesAndEdges) {
  std::mt19937 rng(32);
  int variant = 0;
  for (int m : {1, 2, 3, 4, 7, 13}) {
    for (bool int8 : {false, true}) {
      ++variant;
      CheckQGemm(m, 17, 19, 17 + 5, 19 + 3, int8, variant, rng);
      CheckQGemm(m, 8, 8, 12, 16, int8, variant + 1, rng);
      CheckQGemm(m, 33, 5, 40, 9, int8, variant + 2, rng);
      if (HasFatalFailure()) return;
    }
  }
  // k = 0: bias only.
  CheckQGemm(7, 0, 11, 1, 11, true, 1, rng);
  // Accumulators over the full int32 range the packing allows (k = 1280, extreme inputs).
  for (int variant2 = 0; variant2 < 7; ++variant2) CheckQGemm(5, 1280, 12, 1280, 12, variant2 % 2, variant2, rng);
}

TEST_P(QuantizedKernelsTest, QGemmStagesRowsInGroups) {
  // Rows are staged a group at a time (32 KiB of int16): many groups of whole tiles (k = 24),
  // groups of 3 and of 1 row (k = 4100, 9000), and past one row per stage (k = 16400) the
  // scalar kernel.
  std::mt19937 rng(36);
  int variant = 0;
  for (int k : {24, 4100, 9000, 16400}) {
    for (int m : {1, 5, 700}) {
      if (static_cast<size_t>(m) * k > 2000000) continue;
      ++variant;
      CheckQGemm(m, k, 9, k, 9, variant % 2 == 0, variant, rng);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(QuantizedKernelsTest, QGemmRequantizesEveryAccumulatorExactly) {
  // k = 1 and huge biases: the accumulators sweep a wide range, and multipliers with many
  // trailing zero bits make every rounding tie happen.
  std::mt19937 rng(33);
  for (int trial = 0; trial < 400; ++trial) {
    const int n = 1 + trial % 9;
    std::vector<int16_t> w(n);
    std::vector<int32_t> bias(n);
    std::vector<QuantizedMultiplier> mult(n);
    for (int j = 0; j < n; ++j) {
      w[j] = static_cast<int16_t>(std::uniform_int_distribution<int>(-255, 255)(rng));
      bias[j] = std::uniform_int_distribution<int32_t>(-(1 << (trial % 26)), 1 << (trial % 26))(rng);
      mult[j] = RandomMultiplier(rng, 1e-7, 0.9);
      if (trial % 3 == 0) mult[j].multiplier &= ~((1 << (16 + trial % 14)) - 1);
      if (mult[j].multiplier < (1 << 30)) mult[j].multiplier = 1 << 30;
    }
    // Plain, ReLU-like and ReLU6-like output stages (each a different requantization path).
    const QOutput out = RandomOutput(rng, trial);
    const int32_t zero_point = std::uniform_int_distribution<int>(0, 255)(rng);
    const std::vector<uint8_t> a = RandomBytes(64, rng);
    std::vector<uint8_t> want(64 * n);
    qreference::Gemm(a.data(), 1, 64, 1, zero_point, w.data(), bias.data(), mult.data(), n, out, want.data(), n);
    for (RelaxedDot mode : QGemmForms()) {
      std::vector<uint8_t> packed, got(64 * n);
      PackQGemmFor(mode, w.data(), bias.data(), mult.data(), 1, n, zero_point, out, &packed);
      QGemm(a.data(), 1, 64, 1, packed.data(), n, got.data(), n);
      ASSERT_TRUE(SameBytes(got, want, "trial " + std::to_string(trial) + " relaxed " + RelaxedDotName(mode)));
    }
  }
}

TEST_P(QuantizedKernelsTest, QGemmReluFormIsExactOnEveryAccumulator) {
  // ReLU layers requantize in double precision (qpacked.h). Every accumulator from below zero
  // to past saturation, for right shifts 0..12 and multipliers whose trailing zero bits put
  // results exactly on an integer (where a rounding without the form's 2^-(S+1) would go to
  // the even neighbour): k = 1, weight 1, input zero point 0, so acc = bias + a.
  std::vector<uint8_t> a(256);
  for (int i = 0; i < 256; ++i) a[i] = static_cast<uint8_t>(i);
  const std::vector<int16_t> w(8, 1);
  std::mt19937 rng(37);
  for (int rs : {0, 1, 2, 5, 9, 12}) {
    for (int32_t multiplier : {1 << 30, 3 << 29, 0x5a000000, 0x7fffffff, 0x4321abcd}) {
      QOutput out;
      out.zero_point = std::uniform_int_distribution<int>(0, 200)(rng);
      out.min = out.zero_point;
      out.max = multiplier % 2 ? 255 : out.zero_point + 40;
      const std::vector<QuantizedMultiplier> mult(8, QuantizedMultiplier{multiplier, -rs});
      // Past the last unsaturated accumulator: (max - zero point + 1) / (multiplier / 2^(31 + rs)).
      const int64_t end = static_cast<int64_t>(std::ldexp(out.max - out.zero_point + 2.0, 31 + rs) / multiplier);
      for (int64_t base = -2048; base < end; base += 2048) {
        std::vector<int32_t> bias(8);
        for (int j = 0; j < 8; ++j) bias[j] = static_cast<int32_t>(base + 256 * j);
        std::vector<uint8_t> want(256 * 8);
        qreference::Gemm(a.data(), 1, 256, 1, 0, w.data(), bias.data(), mult.data(), 8, out, want.data(), 8);
        for (RelaxedDot mode : QGemmForms()) {
          std::vector<uint8_t> packed, got(256 * 8);
          PackQGemmFor(mode, w.data(), bias.data(), mult.data(), 1, 8, 0, out, &packed);
          QPackedHeader h;
          std::memcpy(&h, packed.data(), sizeof(h));
          ASSERT_EQ(h.relu, 1) << "rs " << rs;
          QGemm(a.data(), 1, 256, 1, packed.data(), 8, got.data(), 8);
          ASSERT_TRUE(SameBytes(got, want, "rs " + std::to_string(rs) + " multiplier " + std::to_string(multiplier) +
                                               " accumulators from " + std::to_string(base) + " relaxed " +
                                               RelaxedDotName(mode)));
        }
      }
    }
  }
}

TEST_P(QuantizedKernelsTest, QGemmMobileNetV2Channels) {
  std::mt19937 rng(34);
  int variant = 0;
  for (const auto& kn : AllMobileNetShapes().gemm_kn) {
    ++variant;
    const int m = static_cast<size_t>(kn.first) * kn.second > 200000 ? 4 : 7;
    CheckQGemm(m, kn.first, kn.second, kn.first, kn.second, variant % 2 == 0, variant, rng);
    if (HasFatalFailure()) return;
  }
  for (int head : AllMobileNetShapes().head) {
    CheckQGemm(1, head, 1001, head, 1001, head % 2 == 0, 2, rng);
    if (HasFatalFailure()) return;
  }
}

TEST_P(QuantizedKernelsTest, QDepthwiseSmallShapes) {
  std::mt19937 rng(35);
  const int kSizes[] = {1, 2, 3, 5, 7, 14, 15};
  const int kChannels[] = {1, 3, 4, 5, 8, 9, 13, 16, 17, 24, 33};
  int variant = 0;
  for (int in_h : kSizes) {
    for (int in_w : kSizes) {
      for (int stride = 1; stride <= 2; ++stride) {
        for (int pad = 0; pad < 4; ++pad) {
          for (bool same : {false, true}) {
            ++variant;
            const DepthwiseShape s =
                MakeDepthwiseShape(in_h, in_w, kChannels[variant % 11], stride, pad & 1, pad >> 1, same);
            CheckQDepthwise(s, s.out_h / 2, variant % 2 == 0, variant, rng);
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

TEST_P(QuantizedKernelsTest, QDepthwiseMobileNetV2Channels) {
  std::mt19937 rng(36);
  int variant = 0;
  for (const auto& cs : AllMobileNetShapes().depthwise_c_stride) {
    ++variant;
    for (int size : {7, 8}) {
      const int pad = cs.second == 1 ? 1 : (size % 2 == 0 ? 0 : 1);
      const DepthwiseShape s = MakeDepthwiseShape(size, size + 2, cs.first, cs.second, pad, pad, true);
      CheckQDepthwise(s, (s.out_h + 1) / 2, variant % 2 == 0, variant, rng);
      if (HasFatalFailure()) return;
    }
  }
  CheckQDepthwise(MakeDepthwiseShape(112, 112, 32, 1, 1, 1, true), 37, false, 1, rng);
  CheckQDepthwise(MakeDepthwiseShape(112, 112, 96, 2, 0, 0, true), 28, true, 2, rng);
}

// Dilation 2 and 3 (DeepLab's atrous depthwise layers): strides 1 and 2, VALID (pad 0),
// SAME-like (pad = dilation) and one-sided padding, maps narrower than the window
// (2 * dilation + 1 pixels) up to 33 wide; every output variant (ReLU included, whose
// stride-1 layers otherwise take the sliding kernel).
TEST_P(QuantizedKernelsTest, QDepthwiseDilatedShapes) {
  std::mt19937 rng(37);
  const int kChannels[] = {1, 7, 8, 13, 24, 9, 16, 17, 33};
  testing_shapes::ForEachDilatedShape(kChannels, [&](const DepthwiseShape& s, int variant) {
    CheckQDepthwise(s, s.out_h / 2, variant % 2 == 0, variant, rng);
    return !HasFatalFailure();
  });
  if (HasFatalFailure()) return;
  int variant = 0;
  // DeepLabv3's channel counts on its 33x33 maps (and a stride-2 variant): rows of more than
  // 16 kB, whose padded rows take the border kernel throughout.
  for (int channels : {320, 384, 576, 960}) {
    for (int stride = 1; stride <= 2; ++stride) {
      ++variant;
      const DepthwiseShape s = MakeDepthwiseShape(33, 33, channels, stride, 2, 2, true, 2);
      CheckQDepthwise(s, channels % 7 + 3, variant % 2 == 0, variant, rng);
      if (HasFatalFailure()) return;
    }
  }
  CheckQDepthwise(MakeDepthwiseShape(12, 33, 960, 1, 3, 3, true, 3), 5, true, 1, rng);
  CheckQDepthwise(MakeDepthwiseShape(12, 17, 96, 1, 3, 3, true, 3), 5, false, 4, rng);
}

// Independent of the reference's dilation: on each phase (a, b) of its output, the dilated
// kernel equals the undilated reference on the input pixels of that phase (space-to-batch;
// tests/cpp/kernel_shapes.h), byte for byte; so does the dilated reference.
TEST_P(QuantizedKernelsTest, QDepthwiseDilatedEqualsUndilatedPhases) {
  std::mt19937 rng(38);
  // The shared cases, and DeepLab's widest layer.
  std::vector<testing_shapes::DilatedPhaseCase> cases = testing_shapes::DilatedPhaseCases();
  cases.push_back({33, 33, 960, 2, 2, true});
  int variant = 0;
  for (const testing_shapes::DilatedPhaseCase& c : cases) {
    for (bool int8 : {false, true}) {
      ++variant;
      const DepthwiseShape s = MakeDepthwiseShape(c.in_h, c.in_w, c.channels, 1, c.pad, c.pad, c.same, c.dilation);
      const std::string what = "phases of " + ToString(s) + " variant " + std::to_string(variant);
      SCOPED_TRACE(what);
      const size_t C = static_cast<size_t>(s.channels);
      const QDepthwiseLayer l = RandomQDepthwise(s, int8, variant, rng);
      const std::vector<uint8_t>& in = l.in;
      const std::vector<uint8_t>& packed = l.packed;

      const size_t out_size = static_cast<size_t>(s.out_h) * s.out_w * C;
      std::vector<uint8_t> want(out_size, kByteCanary);
      std::vector<bool> covered(static_cast<size_t>(s.out_h) * s.out_w, false);
      for (int a = 0; a < s.dilation; ++a) {
        for (int b = 0; b < s.dilation; ++b) {
          const testing_shapes::DilationPhase p = testing_shapes::MakeDilationPhase(s, a, b);
          if (p.sub.out_h == 0 || p.sub.out_w == 0) continue;
          ASSERT_EQ(p.sub.dilation, 1);
          const std::vector<uint8_t> sub_in = testing_shapes::PhaseInput(s, p, in);
          std::vector<uint8_t> sub_out(static_cast<size_t>(p.sub.out_h) * p.sub.out_w * C);
          l.Reference(p.sub, sub_in.data(), sub_out.data());
          testing_shapes::ScatterPhaseOutput(s, p, sub_out, &want);
          for (int j = 0; j < p.sub.out_h; ++j) {
            for (int i = 0; i < p.sub.out_w; ++i) covered[(a + s.dilation * j) * s.out_w + b + s.dilation * i] = true;
          }
        }
      }
      for (size_t i = 0; i < covered.size(); ++i) ASSERT_TRUE(covered[i]) << "output pixel " << i << " in no phase";
      std::vector<uint8_t> got(out_size, kByteCanary);
      QDepthwiseConv3x3(s, in.data(), packed.data(), got.data(), 0, s.out_h);
      ASSERT_TRUE(SameBytes(got, want, what));
      std::vector<uint8_t> ref(out_size, kByteCanary);
      l.Reference(s, in.data(), ref.data());
      ASSERT_TRUE(SameBytes(ref, want, what + " (reference)"));
      if (variant % 7 != 3 && variant % 7 != 5) ExpectSpread(got, l.out);
    }
  }
}

// Dilation 2 by hand: 5x5 pixels of 8 channels, every channel 1..25 (row-major) with input
// zero point 1 (so 5 * row + column above it), all-ones weights, no bias, scale 1, output
// zero point 0: each output is the sum of 5 * row + column over its taps inside the input.
// Output (2, 2) (rows and columns 0, 2, 4: 108) takes the interior kernel, the others the
// border one.
TEST_P(QuantizedKernelsTest, QDepthwiseDilatedHandComputed) {
  constexpr int kC = 8;
  std::vector<uint8_t> in(25 * kC);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i / kC + 1);
  const std::vector<int16_t> w(9 * kC, 1);
  const std::vector<QuantizedMultiplier> mult(kC, QuantizeMultiplier(1.0));
  const QOutput out;  // zero point 0, [0, 255]
  std::vector<uint8_t> packed(PackedQDepthwiseBytes(kC));
  PackQDepthwise(w.data(), nullptr, mult.data(), kC, 1, out, packed.data());
  const DepthwiseShape s{5, 5, kC, 5, 5, 1, 2, 2, 2};
  std::vector<uint8_t> got(25 * kC, kByteCanary);
  QDepthwiseConv3x3(s, in.data(), packed.data(), got.data(), 0, 5);
  const int want[25] = {24, 28, 42,  28, 32,   // rows 0, 2: (0, 0) is 0 + 2 + 10 + 12
                        44, 48, 72,  48, 52,   // rows 1, 3
                        66, 72, 108, 72, 78,   // rows 0, 2, 4
                        44, 48, 72,  48, 52,   // rows 1, 3
                        64, 68, 102, 68, 72};  // rows 2, 4
  for (int p = 0; p < 25; ++p) {
    for (int c = 0; c < kC; ++c) EXPECT_EQ(got[p * kC + c], want[p]) << "pixel " << p << " channel " << c;
  }
}

TEST_P(QuantizedKernelsTest, QConvThroughIm2Col) {
  std::mt19937 rng(37);
  int variant = 0;
  for (int in_h : {1, 2, 5, 7, 15}) {
    for (int in_w : {1, 4, 7}) {
      for (int kernel : {1, 2, 3, 5}) {
        for (int stride = 1; stride <= 2; ++stride) {
          ++variant;
          const int pad = variant % 3 == 0 ? 0 : (variant % 3 == 1 ? 1 : kernel / 2);
          ConvShape s = MakeConvShape(in_h, in_w, 1 + variant % 5, 1 + (variant * 7) % 40, kernel, stride, pad,
                                      variant % 2);
          s.pad_left = (variant / 2) % 2;
          CheckQConv(s, variant % 2 == 0, variant, rng);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
  for (int out_c : AllMobileNetShapes().stem_out) {
    CheckQConv(MakeConvShape(16, 17, 3, out_c, 3, 2, 0, true), out_c % 2 == 0, out_c, rng);
    if (HasFatalFailure()) return;
  }
  CheckQConv(MakeConvShape(224, 224, 3, 32, 3, 2, 0, true), true, 3, rng);
}

TEST_P(QuantizedKernelsTest, QAdd) {
  std::mt19937 rng(38);
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 40; ++n) sizes.push_back(n);
  for (size_t n : {255, 256, 1001, 28 * 28 * 32 + 3}) sizes.push_back(n);
  int variant = 0;
  for (size_t n : sizes) {
    for (int mode = 0; mode < 3; ++mode) {  // separate, out = a, out = b
      ++variant;
      std::uniform_real_distribution<float> scale(0.05f, 0.5f);
      std::uniform_int_distribution<int> zp(0, 255);
      QOutput out;
      out.zero_point = zp(rng);
      if (variant % 4 == 1) out.min = out.zero_point;
      const QAddParams p = PrepareQAdd(scale(rng), zp(rng), scale(rng), zp(rng), scale(rng), out);
      std::vector<uint8_t> a = RandomBytes(n, rng), b = RandomBytes(n, rng);
      std::vector<uint8_t> want(n), got(n, kByteCanary);
      qreference::Add(a.data(), b.data(), n, p, want.data());
      if (mode == 0) {
        QAdd(a.data(), b.data(), n, p, got.data());
      } else if (mode == 1) {
        QAdd(a.data(), b.data(), n, p, a.data());
        got = a;
      } else {
        QAdd(a.data(), b.data(), n, p, b.data());
        got = b;
      }
      ASSERT_TRUE(SameBytes(got, want, "QAdd n=" + std::to_string(n) + " mode " + std::to_string(mode)));
    }
  }
}

TEST_P(QuantizedKernelsTest, QRequantize) {
  std::mt19937 rng(39);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = trial % 50 + (trial % 7 == 0 ? 1000 : 0);
    std::uniform_int_distribution<int> zp(0, 255);
    std::uniform_real_distribution<float> scale(0.001f, 0.1f);
    const float in_scale = scale(rng);
    // Same scale (the uint8 <-> int8 QUANTIZE ops of int8 models), or a real rescale.
    const float out_scale = trial % 3 == 0 ? in_scale : scale(rng);
    const QRequantParams p = PrepareQRequant(in_scale, zp(rng), out_scale, trial % 5 == 0 ? 128 : zp(rng));
    const std::vector<uint8_t> in = RandomBytes(n, rng);
    std::vector<uint8_t> want(n), got(n, kByteCanary);
    qreference::Requantize(in.data(), n, p, want.data());
    QRequantize(in.data(), n, p, got.data());
    ASSERT_TRUE(SameBytes(got, want, "QRequantize trial " + std::to_string(trial)));
    QRequantize(in.data(), n, p, const_cast<uint8_t*>(in.data()));
    ASSERT_TRUE(SameBytes(in, want, "QRequantize in place, trial " + std::to_string(trial)));
  }
  const QRequantParams same = PrepareQRequant(0.0078125f, 128, 0.0078125f, 128);
  EXPECT_TRUE(IsIdentity(same));
  EXPECT_FALSE(IsIdentity(PrepareQRequant(0.0078125f, 128, 0.0078125f, 127)));
}

TEST_P(QuantizedKernelsTest, QGlobalAveragePool) {
  std::mt19937 rng(40);
  std::vector<int> channels;
  for (int c = 1; c <= 20; ++c) channels.push_back(c);
  for (int c : AllMobileNetShapes().head) channels.push_back(c);
  int variant = 0;
  for (size_t pixels : {0, 1, 2, 3, 7, 49, 50}) {
    for (int c : channels) {
      ++variant;
      std::uniform_int_distribution<int> zp(0, 255);
      QPoolParams p;
      switch (variant % 4) {
        case 0: p = PrepareQAveragePool(false, QOutput()); break;
        case 1: p = PrepareQAveragePool(true, QOutput()); break;
        case 2: p = PrepareQMean(0.0235294f, zp(rng), 0.0190778f, zp(rng), true, pixels); break;
        default: p = PrepareQMean(0.03f, zp(rng), 0.02f, zp(rng), false, pixels ? pixels : 1); break;
      }
      const std::vector<uint8_t> in = RandomBytes(pixels * c, rng);
      std::vector<uint8_t> want(c), got(c, kByteCanary);
      qreference::GlobalAveragePool(in.data(), pixels, c, p, want.data());
      QGlobalAveragePool(in.data(), pixels, c, p, got.data());
      ASSERT_TRUE(SameBytes(got, want, "pool pixels=" + std::to_string(pixels) + " channels=" + std::to_string(c) +
                                           " kind " + std::to_string(variant % 4)));
    }
  }
  // Rounding of the plain average: (sum + n/2) / n, and int8 halves away from zero.
  const uint8_t two[2] = {1, 2};
  uint8_t out = 0;
  QGlobalAveragePool(two, 2, 1, PrepareQAveragePool(false, QOutput()), &out);
  EXPECT_EQ(out, 2);
  const uint8_t neg[2] = {126, 127};  // int8 -2 and -1: mean -1.5 -> -2
  QGlobalAveragePool(neg, 2, 1, PrepareQAveragePool(true, QOutput()), &out);
  EXPECT_EQ(out, 126);
}

}  // namespace
}  // namespace kernels
}  // namespace mnv2
