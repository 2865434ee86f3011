// Compares every kernel of kernels.h with its scalar twin in reference.h over
// awkward shapes and all MobileNetV2 channel counts. Every test body runs once
// per Highway target that is compiled in and supported by this CPU (the
// dispatching functions then pick that target).

#include "kernels/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "kernels/reference.h"
#include "kernel_shapes.h"

namespace mnv2 {
namespace kernels {
namespace {

using testing_shapes::AllMobileNetShapes;
using testing_shapes::MakeConvShape;
using testing_shapes::MakeDepthwiseShape;
using testing_shapes::ToString;

constexpr float kInf = std::numeric_limits<float>::infinity();
// Written where a kernel must not write; checked afterwards.
constexpr float kFloatCanary = 12345.0f;

struct Activation {
  float lo, hi;
  const char* name;
};
const Activation kActivations[] = {
    {-kInf, kInf, "none"}, {0.0f, kInf, "relu"}, {0.0f, 6.0f, "relu6"}};

std::vector<float> RandomVector(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Tolerance for a sum of `terms` products of values in [-1, 1] (float
// accumulation, possibly FMA, against a double reference).
float DotTolerance(size_t terms, float ref) {
  return 1e-5f * std::sqrt(static_cast<float>(terms) + 1.0f) * std::max(1.0f, std::fabs(ref));
}

// Compares got[i] with want[i] for i < n (NaN never matches), reporting the
// first few mismatches.
template <class Tol>
::testing::AssertionResult AllNear(const float* got, const float* want, size_t n, Tol tol,
                                   const std::string& what) {
  size_t bad = 0;
  std::ostringstream msg;
  for (size_t i = 0; i < n; ++i) {
    const float t = tol(want[i]);
    if (!(std::fabs(got[i] - want[i]) <= t)) {
      if (bad < 5) {
        msg << "\n  [" << i << "] got " << got[i] << " want " << want[i] << " (tol " << t << ")";
      }
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << n << " differ" << msg.str();
}

// ---------------------------------------------------------------------------
// Test helpers per kernel.

// Runs Gemm and reference::Gemm on random data and compares; also checks that
// nothing outside the m x n window of c (row stride c_stride) was written.
void CheckGemm(int m, int k, int n, size_t a_stride, size_t c_stride, const Activation& act,
               bool with_bias, std::mt19937& rng) {
  std::ostringstream what;
  what << "Gemm m=" << m << " k=" << k << " n=" << n << " a_stride=" << a_stride
       << " c_stride=" << c_stride << " " << act.name << (with_bias ? "" : " no-bias");
  SCOPED_TRACE(what.str());
  // Exact sizes so that ASan catches reads past the last row of a.
  const size_t a_size = m == 0 ? 0 : (m - 1) * a_stride + k;
  const size_t c_size = m == 0 ? 0 : (m - 1) * c_stride + n;
  const std::vector<float> a = RandomVector(a_size, rng);
  const std::vector<float> w = RandomVector(static_cast<size_t>(n) * k, rng);
  const std::vector<float> bias = RandomVector(n, rng);
  const float* bias_ptr = with_bias ? bias.data() : nullptr;

  std::vector<float> packed(PackedGemmWeightsFloats(k, n));
  PackGemmWeights(w.data(), bias_ptr, k, n, packed.data());

  std::vector<float> got(c_size, kFloatCanary);
  std::vector<float> want(c_size, kFloatCanary);
  Gemm(a.data(), a_stride, m, k, packed.data(), n, got.data(), c_stride, act.lo, act.hi);
  reference::Gemm(a.data(), a_stride, m, k, w.data(), bias_ptr, n, want.data(), c_stride, act.lo,
                  act.hi);
  // Gaps between rows hold kFloatCanary in both.
  ASSERT_TRUE(AllNear(
      got.data(), want.data(), c_size, [k](float ref) { return DotTolerance(k, ref); },
      what.str()));
}

// Where the A of CheckGemmSkippingZeros has zeros.
enum class Zeros {
  kNone,          // nowhere
  kScattered,     // a ReLU of uniform values: half of them, anywhere
  kWholeColumns,  // two columns in three zero in every row, the others scattered
  kAll,           // everywhere
  kNegative,      // -0.0f in every third column (nonzero bits), +0.0f elsewhere
};
constexpr Zeros kAllZeros[] = {Zeros::kNone, Zeros::kScattered, Zeros::kWholeColumns, Zeros::kAll,
                               Zeros::kNegative};

std::vector<float> MatrixWithZeros(int m, int k, Zeros zeros, std::mt19937& rng) {
  std::vector<float> a = RandomVector(static_cast<size_t>(m) * k, rng, zeros == Zeros::kNone ? 0.1f : -1.0f);
  for (int i = 0; i < m; ++i) {
    for (int col = 0; col < k; ++col) {
      float& x = a[static_cast<size_t>(i) * k + col];
      switch (zeros) {
        case Zeros::kNone: break;
        case Zeros::kScattered: x = std::max(x, 0.0f); break;
        case Zeros::kWholeColumns: x = col % 3 == 0 ? std::max(x, 0.0f) : 0.0f; break;
        case Zeros::kAll: x = 0.0f; break;
        case Zeros::kNegative: x = col % 3 == 0 ? -0.0f : 0.0f; break;
      }
    }
  }
  return a;
}

// Runs GemmSkippingZeros and checks that it computes what Gemm does on the same A (equal
// floats: a skipped column adds nothing), agrees with the reference, writes nothing outside
// the m x n window of c and nothing before its room or past A (exact sizes, for ASan).
void CheckGemmSkippingZeros(int m, int k, int n, size_t c_stride, Zeros zeros, const Activation& act,
                            std::mt19937& rng) {
  std::ostringstream what;
  what << "GemmSkippingZeros m=" << m << " k=" << k << " n=" << n << " c_stride=" << c_stride << " zeros "
       << static_cast<int>(zeros) << " " << act.name;
  SCOPED_TRACE(what.str());
  const std::vector<float> a = MatrixWithZeros(m, k, zeros, rng);
  const std::vector<float> w = RandomVector(static_cast<size_t>(n) * k, rng);
  const std::vector<float> bias = RandomVector(n, rng);
  std::vector<float> packed(PackedGemmWeightsFloats(k, n));
  PackGemmWeights(w.data(), bias.data(), k, n, packed.data());
  const size_t c_size = m == 0 ? 0 : (m - 1) * c_stride + n;

  std::vector<float> want(c_size, kFloatCanary);
  Gemm(a.data(), k, m, k, packed.data(), n, want.data(), c_stride, act.lo, act.hi);
  const size_t room = GemmSkippingZerosRoom(k);
  std::vector<float> buffer(room + a.size(), kFloatCanary);
  std::copy(a.begin(), a.end(), buffer.begin() + room);
  std::vector<uint32_t> columns(GemmSkippingZerosColumns(m, k));
  std::vector<float> got(c_size, kFloatCanary);
  GemmSkippingZeros(buffer.data() + room, m, k, packed.data(), n, got.data(), c_stride, act.lo, act.hi,
                    columns.data());
  size_t differ = 0;
  for (size_t i = 0; i < c_size; ++i) {
    if (!(got[i] == want[i])) {
      if (differ++ < 5) ADD_FAILURE() << "[" << i << "] got " << got[i] << ", Gemm " << want[i];
    }
  }
  ASSERT_EQ(differ, 0u);
  std::vector<float> ref(c_size, kFloatCanary);
  reference::Gemm(a.data(), k, m, k, w.data(), bias.data(), n, ref.data(), c_stride, act.lo, act.hi);
  ASSERT_TRUE(AllNear(
      got.data(), ref.data(), c_size, [k](float r) { return DotTolerance(k, r); }, what.str()));
}

// Computes the output in two row ranges split at `split` (and checks both
// against the reference), then computes only rows [split, out_h) into a fresh
// buffer and checks rows before `split` were not touched.
void CheckDepthwise(const DepthwiseShape& s, int split, const Activation& act, std::mt19937& rng) {
  const std::string what =
      "DepthwiseConv3x3 " + ToString(s) + " split " + std::to_string(split) + " " + act.name;
  SCOPED_TRACE(what);
  const size_t C = s.channels;
  const std::vector<float> in = RandomVector(static_cast<size_t>(s.in_h) * s.in_w * C, rng);
  const std::vector<float> w = RandomVector(9 * C, rng);
  const std::vector<float> bias = RandomVector(C, rng);
  const size_t out_size = static_cast<size_t>(s.out_h) * s.out_w * C;
  std::vector<float> want(out_size);
  reference::DepthwiseConv3x3(s, in.data(), w.data(), bias.data(), want.data(), act.lo, act.hi);

  std::vector<float> got(out_size, kFloatCanary);
  DepthwiseConv3x3(s, in.data(), w.data(), bias.data(), got.data(), 0, split, act.lo, act.hi);
  DepthwiseConv3x3(s, in.data(), w.data(), bias.data(), got.data(), split, s.out_h, act.lo, act.hi);
  ASSERT_TRUE(AllNear(
      got.data(), want.data(), out_size, [](float ref) { return DotTolerance(9, ref); }, what));

  // Only the second part: rows before split keep the canary.
  std::vector<float> part(out_size, kFloatCanary);
  DepthwiseConv3x3(s, in.data(), w.data(), bias.data(), part.data(), split, s.out_h, act.lo,
                   act.hi);
  const size_t split_at = static_cast<size_t>(split) * s.out_w * C;
  for (size_t i = 0; i < split_at; ++i) {
    ASSERT_EQ(part[i], kFloatCanary) << what << ": wrote row " << i / (s.out_w * C) << " < split";
  }
  ASSERT_TRUE(AllNear(
      part.data() + split_at, want.data() + split_at, out_size - split_at,
      [](float ref) { return DotTolerance(9, ref); }, what + " (part)"));
}

void CheckConv(const ConvShape& s, int split, const Activation& act, bool with_bias,
               std::mt19937& rng) {
  const std::string what = "ConvDirect " + ToString(s) + " split " + std::to_string(split) + " " +
                           act.name + (with_bias ? "" : " no-bias");
  SCOPED_TRACE(what);
  const std::vector<float> in = RandomVector(static_cast<size_t>(s.in_h) * s.in_w * s.in_c, rng);
  const std::vector<float> w =
      RandomVector(static_cast<size_t>(s.out_c) * s.kernel_h * s.kernel_w * s.in_c, rng);
  const std::vector<float> bias = RandomVector(s.out_c, rng);
  const float* bias_ptr = with_bias ? bias.data() : nullptr;
  std::vector<float> packed(PackedConvWeightsFloats(s));
  PackConvWeights(s, w.data(), bias_ptr, packed.data());

  const size_t out_size = static_cast<size_t>(s.out_h) * s.out_w * s.out_c;
  std::vector<float> want(out_size);
  reference::Conv(s, in.data(), w.data(), bias_ptr, want.data(), act.lo, act.hi);
  std::vector<float> got(out_size, kFloatCanary);
  ConvDirect(s, in.data(), packed.data(), got.data(), split, s.out_h, act.lo, act.hi);
  const size_t split_at = static_cast<size_t>(split) * s.out_w * s.out_c;
  for (size_t i = 0; i < split_at; ++i) {
    ASSERT_EQ(got[i], kFloatCanary) << what << ": wrote before split";
  }
  ConvDirect(s, in.data(), packed.data(), got.data(), 0, split, act.lo, act.hi);
  const size_t terms = static_cast<size_t>(s.kernel_h) * s.kernel_w * s.in_c;
  ASSERT_TRUE(AllNear(
      got.data(), want.data(), out_size, [terms](float ref) { return DotTolerance(terms, ref); },
      what));
}

// ---------------------------------------------------------------------------

// Pins the reference semantics (padding, stride, layouts) on hand-computed
// values; everything else is compared against the reference.
TEST(KernelsReferenceTest, HandComputed) {
  // 3x3 single-channel input 1..9; all-ones 3x3 kernel, bias 0.5.
  const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  const float half = 0.5f;
  DepthwiseShape dw{3, 3, 1, 3, 3, 1, 1, 1};  // stride 1, pad 1: sums of 3x3 neighborhoods
  float out[9];
  reference::DepthwiseConv3x3(dw, in, ones, &half, out, -kInf, kInf);
  const float sums[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(out[i], sums[i] + 0.5f) << i;
  dw = DepthwiseShape{3, 3, 1, 2, 2, 2, 0, 0};  // stride 2, pad 0: windows at (0,0),(0,2),...
  reference::DepthwiseConv3x3(dw, in, ones, &half, out, 0.0f, 6.0f);
  EXPECT_EQ(out[0], 6.0f);  // 45.5 clamped
  EXPECT_EQ(out[1], 6.0f);  // 3 + 6 + 9 + 0.5 = 18.5 clamped
  dw = DepthwiseShape{3, 3, 1, 2, 2, 2, 0, 0};
  reference::DepthwiseConv3x3(dw, in, ones, &half, out, -kInf, kInf);
  EXPECT_EQ(out[1], 18.5f);
  EXPECT_EQ(out[2], 7 + 8 + 9 + 0.5f);
  EXPECT_EQ(out[3], 9.5f);
  // Same as a 3x3 conv with 1 input and 2 output channels (OHWI), second
  // output channel weighted 2x.
  ConvShape cs = MakeConvShape(3, 3, 1, 2, 3, 1, 1, true);
  float w2[18];
  for (int i = 0; i < 9; ++i) w2[i] = 1.0f, w2[9 + i] = 2.0f;
  const float bias2[2] = {0.5f, 0.0f};
  float out2[18];
  reference::Conv(cs, in, w2, bias2, out2, -kInf, kInf);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(out2[2 * i], sums[i] + 0.5f) << i;
    EXPECT_EQ(out2[2 * i + 1], 2 * sums[i]) << i;
  }
  // Gemm: [1 2] x W^T with W = [[1 0] [0 1] [1 1]], bias [0 0 -10], ReLU.
  const float a[2] = {1, 2}, w[6] = {1, 0, 0, 1, 1, 1}, b[3] = {0, 0, -10};
  float c[3];
  reference::Gemm(a, 2, 1, 2, w, b, 3, c, 3, 0.0f, kInf);
  EXPECT_EQ(c[0], 1.0f);
  EXPECT_EQ(c[1], 2.0f);
  EXPECT_EQ(c[2], 0.0f);
  float sm[2];
  const float logits[2] = {0.0f, std::log(3.0f)};
  reference::Softmax(logits, 2, 1.0f, sm);
  EXPECT_NEAR(sm[0], 0.25f, 1e-7);
  EXPECT_NEAR(sm[1], 0.75f, 1e-7);
  const float pix[4] = {1, 10, 3, 20};  // 2 pixels x 2 channels
  float gap[2];
  reference::GlobalAveragePool(pix, 2, 2, gap);
  EXPECT_EQ(gap[0], 2.0f);
  EXPECT_EQ(gap[1], 15.0f);
}

class KernelsTest : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(KernelsTest);

// Every float of the packed panels is written (the buffer starts at -1): a partial last panel
// and a missing bias are zero-padded, full panels take their values only.
TEST_P(KernelsTest, PackGemmWeightsLayout) {
  const int k = 2;
  for (int n : {9, 16}) {
    SCOPED_TRACE(n);
    std::vector<float> w(n * k), bias(n);
    for (int o = 0; o < n; ++o) {
      bias[o] = 1000.0f + o;
      for (int i = 0; i < k; ++i) w[o * k + i] = 10.0f * o + i;
    }
    ASSERT_EQ(PackedGemmWeightsFloats(k, n), 2u * 8u * (1u + k));
    std::vector<float> packed(PackedGemmWeightsFloats(k, n), -1.0f);
    PackGemmWeights(w.data(), bias.data(), k, n, packed.data());
    for (int p = 0; p < 2; ++p) {
      const float* panel = packed.data() + p * 8 * (1 + k);
      for (int j = 0; j < 8; ++j) {
        const int o = p * 8 + j;
        EXPECT_EQ(panel[j], o < n ? bias[o] : 0.0f) << "bias " << o;
        for (int i = 0; i < k; ++i) {
          EXPECT_EQ(panel[8 * (1 + i) + j], o < n ? w[o * k + i] : 0.0f) << o << "," << i;
        }
      }
    }
    std::fill(packed.begin(), packed.end(), -1.0f);
    PackGemmWeights(w.data(), nullptr, k, n, packed.data());
    for (int j = 0; j < 8; ++j) EXPECT_EQ(packed[j], 0.0f);
    EXPECT_EQ(packed[8], w[0]);
    // Exercise dispatch so that TearDown sees an initialized target.
    float a[2] = {1.0f, 2.0f}, c[16];
    Gemm(a, 2, 1, k, packed.data(), n, c, 16, -kInf, kInf);
    EXPECT_EQ(c[8], 80.0f + 2.0f * 81.0f);
  }
}

TEST_P(KernelsTest, PackConvWeightsLayout) {
  const ConvShape s = MakeConvShape(3, 3, 2, 9, 3, 1, 1, false);
  const size_t taps = 3 * 3 * 2;
  std::vector<float> w(9 * taps), bias(9);
  for (size_t o = 0; o < 9; ++o) {
    bias[o] = 1000.0f + o;
    for (size_t t = 0; t < taps; ++t) w[o * taps + t] = 100.0f * o + t;
  }
  ASSERT_EQ(PackedConvWeightsFloats(s), 16u * (1 + taps));
  std::vector<float> packed(PackedConvWeightsFloats(s), -1.0f);
  PackConvWeights(s, w.data(), bias.data(), packed.data());
  for (size_t o = 0; o < 16; ++o) {
    EXPECT_EQ(packed[o], o < 9 ? bias[o] : 0.0f);
    for (size_t t = 0; t < taps; ++t) {
      EXPECT_EQ(packed[16 + t * 16 + o], o < 9 ? w[o * taps + t] : 0.0f) << o << "," << t;
    }
  }
  std::vector<float> in(3 * 3 * 2, 0.0f), out(3 * 3 * 9);
  ConvDirect(s, in.data(), packed.data(), out.data(), 0, 3, -kInf, kInf);
  EXPECT_EQ(out[3 * 3 * 9 - 1], 1008.0f);
}

TEST_P(KernelsTest, GemmSmallShapes) {
  std::mt19937 rng(1);
  const int kDims[] = {1, 3, 7, 8, 9, 17, 24, 33};
  int variant = 0;
  for (int m = 1; m <= 13; ++m) {
    for (int k : kDims) {
      for (int n : kDims) {
        ++variant;
        CheckGemm(m, k, n, k, n, kActivations[variant % 3], variant % 5 != 0, rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(KernelsTest, GemmStridesAndEdges) {
  std::mt19937 rng(2);
  // Row strides larger than k / n; canaries between rows must survive.
  for (int m : {1, 5, 6, 7, 13, 20}) {
    for (const Activation& act : kActivations) {
      CheckGemm(m, 17, 19, 17 + 5, 19 + 3, act, true, rng);
      CheckGemm(m, 8, 8, 12, 16, act, true, rng);
      CheckGemm(m, 33, 5, 40, 9, act, false, rng);
      if (HasFatalFailure()) return;
    }
  }
  // k = 0: bias only.
  CheckGemm(7, 0, 11, 1, 11, kActivations[0], true, rng);
  // m = 0 and n = 0 do nothing.
  std::vector<float> packed(PackedGemmWeightsFloats(4, 3), 1.0f);
  float c[4] = {kFloatCanary, kFloatCanary, kFloatCanary, kFloatCanary};
  const float a[4] = {1, 2, 3, 4};
  Gemm(a, 4, 0, 4, packed.data(), 3, c, 3, -kInf, kInf);
  Gemm(a, 4, 1, 4, packed.data(), 0, c, 3, -kInf, kInf);
  for (float x : c) EXPECT_EQ(x, kFloatCanary);
  // A larger one with many row blocks and panels.
  CheckGemm(100, 64, 100, 64, 100, kActivations[2], true, rng);
}

TEST_P(KernelsTest, GemmMobileNetV2Channels) {
  std::mt19937 rng(3);
  int variant = 0;
  for (const auto& kn : AllMobileNetShapes().gemm_kn) {
    const int k = kn.first, n = kn.second;
    // 13 rows: two full row blocks and a remainder of 1; 8 for the big ones.
    const int m = static_cast<size_t>(k) * n > 200000 ? 8 : 13;
    ++variant;
    CheckGemm(m, k, n, k, n, kActivations[variant % 3], true, rng);
    if (HasFatalFailure()) return;
  }
  // Classifier: one row, 1001 classes.
  for (int head : AllMobileNetShapes().head) {
    CheckGemm(1, head, 1001, head, 1001, kActivations[0], true, rng);
    if (HasFatalFailure()) return;
  }
}

TEST_P(KernelsTest, GemmSkippingZerosMatchesGemm) {
  std::mt19937 rng(11);
  int variant = 0;
  for (int m = 1; m <= 13; ++m) {
    for (int k : {1, 3, 4, 5, 8, 17, 32}) {
      for (int n : {1, 8, 9, 20}) {
        for (Zeros zeros : kAllZeros) {
          ++variant;
          CheckGemmSkippingZeros(m, k, n, n + variant % 3, zeros, kActivations[variant % 3], rng);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
  // Many tiles and panels.
  for (Zeros zeros : kAllZeros) CheckGemmSkippingZeros(100, 64, 100, 100, zeros, kActivations[2], rng);
  // k = 0: bias only. m = 0 and n = 0: nothing.
  CheckGemmSkippingZeros(7, 0, 11, 11, Zeros::kNone, kActivations[0], rng);
  CheckGemmSkippingZeros(0, 5, 3, 3, Zeros::kScattered, kActivations[0], rng);
  CheckGemmSkippingZeros(6, 5, 0, 3, Zeros::kScattered, kActivations[0], rng);
  if (HasFatalFailure()) return;
  // The projections of MobileNetV2: a band of 56 pixels (49 on the 7x7 maps) of the
  // depthwise's ReLU6 output; the two band heights and zero patterns take turns over the shapes.
  for (const auto& kn : AllMobileNetShapes().gemm_kn) {
    ++variant;
    const int m = variant % 4 < 2 ? 49 : 56;
    const Zeros zeros = variant % 2 ? Zeros::kScattered : Zeros::kWholeColumns;
    CheckGemmSkippingZeros(m, kn.first, kn.second, kn.second, zeros, kActivations[variant % 3], rng);
    if (HasFatalFailure()) return;
  }
}

TEST_P(KernelsTest, DepthwiseSmallShapes) {
  std::mt19937 rng(4);
  const int kSizes[] = {1, 2, 3, 5, 7, 14, 15};
  const int kChannels[] = {1, 3, 4, 5, 8, 13, 16, 17, 24, 33};
  int variant = 0;
  for (int in_h : kSizes) {
    for (int in_w : kSizes) {
      for (int stride = 1; stride <= 2; ++stride) {
        for (int pad = 0; pad < 4; ++pad) {
          const int pad_top = pad & 1, pad_left = pad >> 1;
          for (bool same : {false, true}) {
            // Cycle through channel counts rather than testing all of them
            // for every spatial shape (all are covered many times).
            ++variant;
            const int channels = kChannels[variant % 10];
            const DepthwiseShape s =
                MakeDepthwiseShape(in_h, in_w, channels, stride, pad_top, pad_left, same);
            CheckDepthwise(s, s.out_h / 2, kActivations[variant % 3], rng);
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
  // All channel counts on a few shapes, splits at every row.
  for (int channels : kChannels) {
    for (int stride = 1; stride <= 2; ++stride) {
      const DepthwiseShape s = MakeDepthwiseShape(7, 5, channels, stride, 1, 1, true);
      for (int split = 0; split <= s.out_h; ++split) {
        CheckDepthwise(s, split, kActivations[(channels + split) % 3], rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(KernelsTest, DepthwiseMobileNetV2Channels) {
  std::mt19937 rng(5);
  int variant = 0;
  for (const auto& cs : AllMobileNetShapes().depthwise_c_stride) {
    const int channels = cs.first, stride = cs.second;
    ++variant;
    // Odd and even sizes; SAME padding as TFLite (pad 0 for even stride 2).
    for (int size : {7, 8}) {
      const int pad = stride == 1 ? 1 : (size % 2 == 0 ? 0 : 1);
      const DepthwiseShape s = MakeDepthwiseShape(size, size + 2, channels, stride, pad, pad, true);
      CheckDepthwise(s, (s.out_h + 1) / 2, kActivations[variant % 3], rng);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(KernelsTest, DepthwiseLarge) {
  std::mt19937 rng(6);
  CheckDepthwise(MakeDepthwiseShape(112, 112, 32, 1, 1, 1, true), 37, kActivations[2], rng);
  CheckDepthwise(MakeDepthwiseShape(112, 112, 96, 2, 0, 0, true), 28, kActivations[2], rng);
  CheckDepthwise(MakeDepthwiseShape(15, 15, 1344, 1, 1, 1, true), 8, kActivations[1], rng);
}

// Dilation 2 and 3 (DeepLab's atrous depthwise layers): strides 1 and 2, VALID (pad 0),
// SAME-like (pad = dilation) and one-sided padding, maps narrower than the window
// (2 * dilation + 1 pixels) up to 33 wide.
TEST_P(KernelsTest, DepthwiseDilatedShapes) {
  std::mt19937 rng(8);
  const int kChannels[] = {1, 7, 8, 13, 24, 3, 4, 17, 33};
  testing_shapes::ForEachDilatedShape(kChannels, [&](const DepthwiseShape& s, int variant) {
    CheckDepthwise(s, s.out_h / 2, kActivations[variant % 3], rng);
    return !HasFatalFailure();
  });
  if (HasFatalFailure()) return;
  // DeepLabv3's channel counts on its 33x33 maps (and a stride-2 variant), splits included.
  for (int channels : {320, 384, 576, 960}) {
    for (int stride = 1; stride <= 2; ++stride) {
      const DepthwiseShape s = MakeDepthwiseShape(33, 33, channels, stride, 2, 2, true, 2);
      CheckDepthwise(s, channels % 7 + 3, kActivations[(channels + stride) % 3], rng);
      if (HasFatalFailure()) return;
    }
  }
  CheckDepthwise(MakeDepthwiseShape(12, 33, 960, 1, 3, 3, true, 3), 5, kActivations[2], rng);
}

// Independent of the reference's dilation: the dilated kernel equals, on each phase
// (a, b) of its output, the undilated kernel on the input pixels of that phase
// (space-to-batch; tests/cpp/kernel_shapes.h). The undilated outputs come from the
// reference with dilation 1, and the dilated reference must agree too.
TEST_P(KernelsTest, DepthwiseDilatedEqualsUndilatedPhases) {
  std::mt19937 rng(9);
  for (const testing_shapes::DilatedPhaseCase& c : testing_shapes::DilatedPhaseCases()) {
    const DepthwiseShape s = MakeDepthwiseShape(c.in_h, c.in_w, c.channels, 1, c.pad, c.pad, c.same, c.dilation);
    const std::string what = "phases of " + ToString(s);
    SCOPED_TRACE(what);
    const size_t C = static_cast<size_t>(s.channels);
    const std::vector<float> in = RandomVector(static_cast<size_t>(s.in_h) * s.in_w * C, rng);
    const std::vector<float> w = RandomVector(9 * C, rng);
    const std::vector<float> bias = RandomVector(C, rng);
    const size_t out_size = static_cast<size_t>(s.out_h) * s.out_w * C;
    std::vector<float> want(out_size, kFloatCanary);
    for (int a = 0; a < s.dilation; ++a) {
      for (int b = 0; b < s.dilation; ++b) {
        const testing_shapes::DilationPhase p = testing_shapes::MakeDilationPhase(s, a, b);
        if (p.sub.out_h == 0 || p.sub.out_w == 0) continue;
        ASSERT_EQ(p.sub.dilation, 1);
        const std::vector<float> sub_in = testing_shapes::PhaseInput(s, p, in);
        std::vector<float> sub_out(static_cast<size_t>(p.sub.out_h) * p.sub.out_w * C);
        reference::DepthwiseConv3x3(p.sub, sub_in.data(), w.data(), bias.data(), sub_out.data(), -kInf, kInf);
        testing_shapes::ScatterPhaseOutput(s, p, sub_out, &want);
      }
    }
    for (float v : want) ASSERT_NE(v, kFloatCanary) << "an output in no phase";
    std::vector<float> got(out_size, kFloatCanary);
    DepthwiseConv3x3(s, in.data(), w.data(), bias.data(), got.data(), 0, s.out_h, -kInf, kInf);
    ASSERT_TRUE(AllNear(
        got.data(), want.data(), out_size, [](float ref) { return DotTolerance(9, ref); }, what));
    std::vector<float> ref(out_size, kFloatCanary);
    reference::DepthwiseConv3x3(s, in.data(), w.data(), bias.data(), ref.data(), -kInf, kInf);
    ASSERT_TRUE(AllNear(
        ref.data(), want.data(), out_size, [](float r) { return 0.0f * r; }, what + " (reference)"));
  }
}

// Dilation 2 by hand: input 5x5 of 1..25 (row-major), all-ones weights, bias 0.5.
TEST_P(KernelsTest, DepthwiseDilatedHandComputed) {
  float in[25];
  for (int i = 0; i < 25; ++i) in[i] = static_cast<float>(i + 1);
  const float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  const float half = 0.5f;
  // Stride 1, pad 2: output (oy, ox) sums rows oy - 2, oy, oy + 2 and the same columns.
  DepthwiseShape dw{5, 5, 1, 5, 5, 1, 2, 2, 2};
  float out[25], ref[25];
  DepthwiseConv3x3(dw, in, ones, &half, out, 0, 5, -kInf, kInf);
  reference::DepthwiseConv3x3(dw, in, ones, &half, ref, -kInf, kInf);
  EXPECT_EQ(out[0], 1 + 3 + 11 + 13 + 0.5f);                         // rows 0, 2; columns 0, 2
  EXPECT_EQ(out[6], 7 + 9 + 17 + 19 + 0.5f);                         // rows 1, 3; columns 1, 3
  EXPECT_EQ(out[12], 1 + 3 + 5 + 11 + 13 + 15 + 21 + 23 + 25 + 0.5f);  // rows and columns 0, 2, 4
  EXPECT_EQ(out[13], 2 + 4 + 12 + 14 + 22 + 24 + 0.5f);              // columns 1, 3
  EXPECT_EQ(out[24], 13 + 15 + 23 + 25 + 0.5f);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(out[i], ref[i]) << i;
  // Stride 2, no padding: the one 5x5 window, and 3 channels weighted 1, 2, 0.
  float in3[75], w3[27], bias3[3] = {0.5f, 0.0f, -1.0f}, out3[3];
  for (int i = 0; i < 75; ++i) in3[i] = static_cast<float>(i / 3 + 1);
  for (int i = 0; i < 27; ++i) w3[i] = static_cast<float>(i % 3 == 0 ? 1 : i % 3 == 1 ? 2 : 0);
  dw = DepthwiseShape{5, 5, 3, 1, 1, 2, 0, 0, 2};
  DepthwiseConv3x3(dw, in3, w3, bias3, out3, 0, 1, -kInf, kInf);
  EXPECT_EQ(out3[0], 117.5f);
  EXPECT_EQ(out3[1], 234.0f);
  EXPECT_EQ(out3[2], -1.0f);
}

TEST_P(KernelsTest, ConvDirectShapes) {
  std::mt19937 rng(7);
  const int kSizes[] = {1, 2, 3, 5, 7, 14, 15};
  const int kOutC[] = {1, 3, 8, 9, 16, 17, 24, 31, 32, 33, 40, 48, 72};
  int variant = 0;
  for (int in_h : kSizes) {
    for (int in_w : {1, 4, 7}) {
      for (int kernel : {1, 2, 3, 5}) {
        for (int stride = 1; stride <= 2; ++stride) {
          ++variant;
          const int in_c = 1 + variant % 5;
          const int out_c = kOutC[variant % 13];
          const int pad = variant % 3 == 0 ? 0 : (variant % 3 == 1 ? 1 : kernel / 2);
          ConvShape s = MakeConvShape(in_h, in_w, in_c, out_c, kernel, stride, pad, variant % 2);
          s.pad_left = (variant / 2) % 2;  // differs from pad_top half of the time
          const int split = variant % (s.out_h + 1);
          CheckConv(s, split, kActivations[variant % 3], variant % 7 != 0, rng);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(KernelsTest, ConvDirectMobileNetV2Stem) {
  std::mt19937 rng(8);
  for (int out_c : AllMobileNetShapes().stem_out) {
    for (int size : {15, 16}) {  // pad 1 for odd inputs, 0 for even (TF SAME)
      const ConvShape s = MakeConvShape(size, size + 1, 3, out_c, 3, 2, size % 2, true);
      CheckConv(s, s.out_h / 2, kActivations[2], true, rng);
      if (HasFatalFailure()) return;
    }
  }
  // Full-size stem at alpha 1.0.
  CheckConv(MakeConvShape(224, 224, 3, 32, 3, 2, 0, true), 50, kActivations[2], true, rng);
}

TEST_P(KernelsTest, Add) {
  std::mt19937 rng(9);
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 70; ++n) sizes.push_back(n);
  for (size_t n : {255, 256, 1000, 1001, 112 * 112 * 24 + 3}) sizes.push_back(n);
  int variant = 0;
  for (size_t n : sizes) {
    for (int mode = 0; mode < 4; ++mode) {  // separate, out=a, out=b, out=a=b
      ++variant;
      const Activation& act = kActivations[variant % 3];
      SCOPED_TRACE("Add n=" + std::to_string(n) + " mode " + std::to_string(mode) + " " + act.name);
      std::vector<float> a = RandomVector(n, rng, -4.0f, 4.0f);
      std::vector<float> b = RandomVector(n, rng, -4.0f, 4.0f);
      if (mode == 3) b = a;
      std::vector<float> want(n);
      reference::Add(a.data(), b.data(), n, want.data(), act.lo, act.hi);
      std::vector<float> out(n, kFloatCanary);
      switch (mode) {
        case 0:
          Add(a.data(), b.data(), n, out.data(), act.lo, act.hi);
          break;
        case 1:
          Add(a.data(), b.data(), n, a.data(), act.lo, act.hi);
          out = a;
          break;
        case 2:
          Add(a.data(), b.data(), n, b.data(), act.lo, act.hi);
          out = b;
          break;
        default:
          Add(a.data(), a.data(), n, a.data(), act.lo, act.hi);
          out = a;
          break;
      }
      ASSERT_TRUE(AllNear(
          out.data(), want.data(), n, [](float) { return 0.0f; }, "Add"));
    }
  }
}

TEST_P(KernelsTest, GlobalAveragePool) {
  std::mt19937 rng(10);
  std::vector<int> channels;
  for (int c = 1; c <= 40; ++c) channels.push_back(c);
  for (int c : AllMobileNetShapes().head) channels.push_back(c);
  for (size_t pixels : {0, 1, 2, 3, 7, 49, 50}) {
    for (int c : channels) {
      SCOPED_TRACE("GlobalAveragePool pixels=" + std::to_string(pixels) +
                   " channels=" + std::to_string(c));
      const std::vector<float> in = RandomVector(pixels * c, rng, -3.0f, 6.0f);
      std::vector<float> want(c), got(c, kFloatCanary);
      reference::GlobalAveragePool(in.data(), pixels, c, want.data());
      GlobalAveragePool(in.data(), pixels, c, got.data());
      ASSERT_TRUE(AllNear(
          got.data(), want.data(), c,
          [](float ref) { return 1e-5f * std::max(1.0f, std::fabs(ref)); }, "GlobalAveragePool"));
    }
  }
}

TEST_P(KernelsTest, Softmax) {
  std::mt19937 rng(11);
  std::vector<int> sizes;
  for (int n = 1; n <= 40; ++n) sizes.push_back(n);
  for (int n : {1000, 1001}) sizes.push_back(n);
  for (int n : sizes) {
    for (float beta : {1.0f, 0.5f, 2.0f, -1.0f}) {
      for (bool in_place : {false, true}) {
        SCOPED_TRACE("Softmax n=" + std::to_string(n) + " beta=" + std::to_string(beta) +
                     (in_place ? " in place" : ""));
        std::vector<float> in = RandomVector(n, rng, -10.0f, 10.0f);
        std::vector<float> want(n);
        reference::Softmax(in.data(), n, beta, want.data());
        std::vector<float> got(n, kFloatCanary);
        if (in_place) {
          got = in;
          Softmax(got.data(), n, beta, got.data());
        } else {
          Softmax(in.data(), n, beta, got.data());
        }
        ASSERT_TRUE(AllNear(
            got.data(), want.data(), n, [](float ref) { return 1e-5f * ref + 1e-9f; }, "Softmax"));
        double sum = 0.0;
        for (float x : got) sum += x;
        EXPECT_NEAR(sum, 1.0, 1e-5);
      }
    }
  }
  // Large logits must not overflow.
  std::vector<float> big = {1000.0f, 999.0f, -1000.0f};
  std::vector<float> want(3), got(3);
  reference::Softmax(big.data(), 3, 1.0f, want.data());
  Softmax(big.data(), 3, 1.0f, got.data());
  EXPECT_TRUE(AllNear(
      got.data(), want.data(), 3, [](float ref) { return 1e-5f * ref + 1e-9f; }, "Softmax big"));
}

// Nearest-neighbour and dense-head shapes: every count of rows around the 4-row blocks, feature
// sizes around the vector width and those of the family, rows with padding between them.
TEST_P(KernelsTest, DotRowsAndMulAddRows) {
  std::mt19937 rng(12);
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 20; ++n) sizes.push_back(n);
  for (size_t n : {256, 1024, 1280, 1281}) sizes.push_back(n);
  for (size_t n : sizes) {
    for (size_t count = 0; count <= 9; ++count) {
      for (size_t pad : {0, 3}) {
        const size_t stride = n + pad;
        SCOPED_TRACE("n=" + std::to_string(n) + " count=" + std::to_string(count) + " stride=" + std::to_string(stride));
        // Exact sizes so that ASan catches reads past the last row.
        const size_t size = count == 0 ? 0 : (count - 1) * stride + n;
        const std::vector<float> x = RandomVector(n, rng);
        std::vector<float> rows = RandomVector(size, rng);
        std::vector<float> want(count + 1, kFloatCanary), got(count + 1, kFloatCanary);
        reference::DotRows(x.data(), rows.data(), n, count, stride, want.data());
        DotRows(x.data(), rows.data(), n, count, stride, got.data());
        ASSERT_TRUE(AllNear(got.data(), want.data(), count + 1, [n](float ref) { return DotTolerance(n, ref); }, "DotRows"));
        std::vector<float> coeffs = RandomVector(count, rng);
        if (count > 1) coeffs[1] = 0.0f;
        std::vector<float> updated = rows;
        reference::MulAddRows(coeffs.data(), x.data(), n, count, stride, rows.data());
        MulAddRows(coeffs.data(), x.data(), n, count, stride, updated.data());
        ASSERT_TRUE(AllNear(updated.data(), rows.data(), size, [](float ref) { return 1e-6f * std::max(1.0f, std::fabs(ref)); },
                            "MulAddRows"));
      }
    }
  }
}

// Scalar (no per-target dispatch): one plain test.
TEST(KernelsScalarTest, L2Normalize) {
  std::mt19937 rng(13);
  for (size_t n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1024, 1280, 1281}) {
    for (bool in_place : {false, true}) {
      SCOPED_TRACE("n=" + std::to_string(n) + (in_place ? " in place" : ""));
      std::vector<float> x = RandomVector(n, rng, 0.0f, 6.0f);
      std::vector<float> want(n + 1, kFloatCanary), got(n + 1, kFloatCanary);
      reference::L2Normalize(x.data(), n, want.data());
      if (in_place) {
        L2Normalize(x.data(), n, x.data());
        std::copy(x.begin(), x.end(), got.begin());
      } else {
        L2Normalize(x.data(), n, got.data());
      }
      ASSERT_TRUE(AllNear(got.data(), want.data(), n + 1, [](float ref) { return 1e-6f * std::max(1.0f, std::fabs(ref)); },
                          "L2Normalize"));
    }
  }
  // Below the epsilon the norm is 1e-6, as in TFLite: zeros stay zeros, tiny values are scaled up.
  std::vector<float> zeros(5, 0.0f), tiny = {1e-8f, 0.0f};
  L2Normalize(zeros.data(), zeros.size(), zeros.data());
  for (float z : zeros) EXPECT_EQ(z, 0.0f);
  L2Normalize(tiny.data(), tiny.size(), tiny.data());
  EXPECT_NEAR(tiny[0], 0.01f, 1e-6f);
}

}  // namespace
}  // namespace kernels
}  // namespace mnv2
