// model::Limits: untrusted models are refused before they allocate more than the limits, and
// inputs the fuzzers found (tests/fuzz) stay fixed.
#include <gtest/gtest.h>

#include <chrono>

#include "model/builder.h"
#include "model_checks.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using testing::SyntheticSpec;

using testing::LoadStatus;

TEST(ModelLimits, TinySyntheticModelLoads) {
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(testing::TinyUint8Spec());
  Result<model::Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ(net->blocks.size(), 3u);
  EXPECT_TRUE(net->blocks[2].residual);
  EXPECT_EQ(net->feature_size(), 16);
}

TEST(ModelLimits, FileSize) {
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(testing::TinyUint8Spec());
  model::Limits limits;
  limits.max_model_bytes = bytes.size() - 1;
  const Status s = LoadStatus(bytes, limits);
  EXPECT_EQ(s.code(), ErrorCode::kModelTooLarge);
  EXPECT_NE(s.message().find(std::to_string(bytes.size()) + " bytes"), std::string::npos) << s.message();
  limits.max_model_bytes = bytes.size();
  EXPECT_TRUE(LoadStatus(bytes, limits).ok());
}

TEST(ModelLimits, Memory) {
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(testing::TinyUint8Spec());
  model::Limits limits;
  limits.max_memory_bytes = 4096;
  const Status s = LoadStatus(bytes, limits);
  EXPECT_EQ(s.code(), ErrorCode::kModelTooLarge);
  EXPECT_NE(s.message().find("memory"), std::string::npos) << s.message();
  limits.max_memory_bytes = 1u << 20;
  EXPECT_TRUE(LoadStatus(bytes, limits).ok()) << LoadStatus(bytes, limits).ToString();
}

// A small file whose 2048x2048 input and wide first blocks would need gigabytes of
// activations: refused by the default limits, quickly (nothing large is allocated).
TEST(ModelLimits, HugeActivationsAreRefusedBeforeAllocation) {
  SyntheticSpec spec = testing::TinyUint8Spec();
  spec.alpha = 1.0f;
  spec.resolution = model::kMaxInputSide;
  spec.blocks = 2;
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(spec);
  ASSERT_LT(bytes.size(), 100000u);
  const auto start = std::chrono::steady_clock::now();
  const Status s = LoadStatus(bytes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.code(), ErrorCode::kModelTooLarge) << s.ToString();
  EXPECT_LT(seconds, 1.0);
}

// Found by inspection, the kind of input the model fuzzer makes: a rank-8 tensor of 2^24-long
// dimensions made the element count overflow int64 (undefined behavior; UBSan aborts).
TEST(ModelLimits, ElementCountDoesNotOverflow) {
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  g.tensors[g.outputs[0]].shape = std::vector<int32_t>(8, 1 << 24);
  const Status s = LoadStatus(testing::WriteTflite(g));
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedModel) << s.ToString();
}

// A classifier whose weights claim 2^24 x 16 elements (a gigabyte of floats) in a buffer of a
// few bytes: refused for what the file holds, before anything is allocated for them.
TEST(ModelLimits, WeightsClaimingMoreThanTheFile) {
  SyntheticSpec spec = testing::TinyUint8Spec();
  spec.fc_classifier = true;
  spec.softmax = false;
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(spec);
  const testing::OpDef& fc = g.ops.back();
  ASSERT_EQ(fc.code, 9);
  g.tensors[fc.inputs[1]].shape[0] = 1 << 24;
  g.tensors[fc.inputs[2]].shape[0] = 1 << 24;
  g.tensors[fc.outputs[0]].shape[1] = 1 << 24;
  const Status s = LoadStatus(testing::WriteTflite(g));
  EXPECT_EQ(s.code(), ErrorCode::kModelFormat) << s.ToString();
  EXPECT_NE(s.message().find("holds"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace mnv2
