// Whole-pipeline inputs the fuzzers (tests/fuzz) found, rebuilt in code: each must load and
// classify, or fail with a code, and run clean under ASan/UBSan.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "api/c_api.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

// Pipeline fuzzer: a depthwise output scale of 1e-37 (kernels_robustness_test.cc has the cause).
TEST(CApiRobustness, TinyActivationScale) {
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  bool patched = false;
  for (const testing::OpDef& op : g.ops) {
    if (op.code == 4) {
      g.tensors[op.outputs[0]].scale = {1e-37f};
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  const std::vector<uint8_t> bytes = testing::WriteTflite(g);
  Mnv2Model* m = mnv2_load(bytes.data(), bytes.size());
  ASSERT_NE(m, nullptr) << mnv2_last_error_message();
  std::vector<uint8_t> rgb(16 * 16 * 3, 77);
  EXPECT_EQ(mnv2_classify_pixels(m, rgb.data(), 16, 16, 3, 16 * 3, 0), 0) << mnv2_last_error_message();
  for (int i = 0; i < mnv2_num_classes(m); ++i) EXPECT_TRUE(std::isfinite(mnv2_scores(m)[i]));
  mnv2_free(m);
}

// Pipeline fuzzer: a depthwise bias of -2147477849 overflowed the int32 sums of the integer
// path (undefined behavior); such a layer now runs on the float path.
TEST(CApiRobustness, BiasNearInt32Limit) {
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  int patched = 0;
  for (const testing::OpDef& op : g.ops) {
    if (op.code == 4 || op.code == 3) {
      std::vector<uint8_t>& bias = g.tensors[op.inputs[2]].data;
      ASSERT_GE(bias.size(), 4u);
      const int32_t extreme = patched++ % 2 ? 2147483000 : -2147477849;
      std::memcpy(bias.data(), &extreme, 4);
    }
  }
  const std::vector<uint8_t> bytes = testing::WriteTflite(g);
  Mnv2Model* m = mnv2_load(bytes.data(), bytes.size());
  ASSERT_NE(m, nullptr) << mnv2_last_error_message();
  std::vector<uint8_t> rgb(16 * 16 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 37);
  EXPECT_EQ(mnv2_classify_pixels(m, rgb.data(), 16, 16, 3, 16 * 3, 0), 0) << mnv2_last_error_message();
  mnv2_free(m);
}

}  // namespace
}  // namespace mnv2
