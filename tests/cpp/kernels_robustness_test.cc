// Kernel set-up on parameters from untrusted files (found by tests/fuzz).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "kernels/qreference.h"
#include "kernels/quantized_kernels.h"

namespace mnv2 {
namespace kernels {
namespace {

// Pipeline fuzzer: a uint8 model whose activation scale is 1e-37 made 6 / scale overflow the
// conversion to int (undefined behavior; INT_MIN on x86, so the clamp range came out empty).
TEST(KernelsRobustness, ActivationRangeWithTinyScale) {
  const QOutput relu6 = QuantizedActivationRange(1e-37f, 0, 0.0f, 6.0f);
  EXPECT_EQ(relu6.min, 0);
  EXPECT_EQ(relu6.max, 255);
  const QOutput none = QuantizedActivationRange(std::numeric_limits<float>::min(), 255, -1e30f, 1e30f);
  EXPECT_EQ(none.min, 0);
  EXPECT_EQ(none.max, 255);
}

// Pipeline fuzzer: the same kind of scale made a requantization multiplier of 2^115, and the
// scalar requantization shifted an int32 left by 115 bits (undefined behavior).
TEST(KernelsRobustness, HugeMultiplierSaturates) {
  const QuantizedMultiplier m = QuantizeMultiplier(std::ldexp(1.0, 115));
  EXPECT_EQ(m.shift, 30);
  EXPECT_EQ(m.multiplier, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(MultiplyByQuantizedMultiplier(0, m), 0);
  EXPECT_GT(MultiplyByQuantizedMultiplier(1, m), 1 << 29);
}

// Pipeline fuzzer: a global pool whose output scale is a denormal made the uint8 mean's zero
// point offset infinite (or NaN, 0 * inf) before its conversion to int.
TEST(KernelsRobustness, MeanOffsetWithExtremeScales) {
  for (int32_t in_zero_point : {0, 255}) {
    for (float out_scale : {1e-45f, 1e-30f}) {
      const QPoolParams p = PrepareQMean(1.0f, in_zero_point, out_scale, 0, false, 49);
      EXPECT_LE(std::abs(p.offset), 65537) << in_zero_point << " " << out_scale;
    }
  }
}

// Pipeline fuzzer: with a saturated multiplier (a denormal output scale) the int8 mean came
// out at -2^31 + 1, and rounding it (minus half the pixel count) overflowed int32. The kernel
// must stay defined there and agree with the scalar reference.
TEST(KernelsRobustness, MeanOfASaturatedProduct) {
  for (bool int8 : {true, false}) {
    QPoolParams p = PrepareQMean(1.0f, 200, 1e-40f, 0, int8, 16);
    p.out = QuantizedActivationRange(1.0f, 128, -1e30f, 1e30f);
    std::vector<uint8_t> in(16 * 3);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i % 3 == 0 ? 0 : 255);
    uint8_t out[3], expected[3];
    QGlobalAveragePool(in.data(), 16, 3, p, out);
    qreference::GlobalAveragePool(in.data(), 16, 3, p, expected);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out[c], expected[c]) << "int8 " << int8 << ", channel " << c;
  }
}

}  // namespace
}  // namespace kernels
}  // namespace mnv2
