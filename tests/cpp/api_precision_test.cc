// The C API's precision choice: integer arithmetic by default for quantized models,
// float32 on request, errors for what cannot be.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "api/c_api.h"
#include "test_data.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using testing::ReadFileOrFail;
using testing::SharedPath;

std::vector<uint8_t> Model(const char* file) { return ReadFileOrFail(SharedPath(std::string("models/") + file)); }

int ClassifyCat(Mnv2Model* m) {
  const std::vector<uint8_t> cat = ReadFileOrFail(SharedPath("images/cat.bmp"));
  EXPECT_EQ(mnv2_classify_encoded(m, cat.data(), cat.size(), 0), 0) << mnv2_last_error_message();
  int32_t top = -1;
  EXPECT_EQ(mnv2_top_k(m, 1, &top), 1);
  return top;
}

TEST(CApiPrecision, QuantizedModelsRunInInt8ByDefault) {
  for (const char* file : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> bytes = Model(file);
    Mnv2Model* automatic = mnv2_load(bytes.data(), bytes.size());
    Mnv2Model* int8 = mnv2_load_with(bytes.data(), bytes.size(), MNV2_PRECISION_INT8, 0, 0);
    Mnv2Model* fp32 = mnv2_load_with(bytes.data(), bytes.size(), MNV2_PRECISION_FP32, 0, 0);
    ASSERT_TRUE(automatic && int8 && fp32) << mnv2_last_error_message();
    EXPECT_STREQ(mnv2_precision(automatic), "int8");
    EXPECT_STREQ(mnv2_precision(int8), "int8");
    EXPECT_STREQ(mnv2_precision(fp32), "fp32");
    EXPECT_EQ(mnv2_quantized(fp32), 1);
    EXPECT_EQ(ClassifyCat(int8), 286);
    EXPECT_EQ(ClassifyCat(fp32), 286);
    EXPECT_EQ(ClassifyCat(automatic), 286);
    // The integer path's probabilities are the 8-bit output's steps of 1/256.
    for (int i = 0; i < mnv2_num_classes(int8); ++i) {
      const float steps = mnv2_scores(int8)[i] * 256;
      ASSERT_EQ(steps, std::round(steps)) << i;
      ASSERT_EQ(mnv2_scores(int8)[i], mnv2_scores(automatic)[i]) << i;
    }
    EXPECT_NEAR(mnv2_scores(int8)[286], mnv2_scores(fp32)[286], 0.05);
    EXPECT_EQ(mnv2_feature_size(int8), 1280);
    mnv2_free(automatic);
    mnv2_free(int8);
    mnv2_free(fp32);
  }
}

TEST(CApiPrecision, FloatModelsRunInFp32AndRefuseInt8) {
  testing::SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 64;
  spec.classes = 5;
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(spec);
  Mnv2Model* automatic = mnv2_load(bytes.data(), bytes.size());
  ASSERT_NE(automatic, nullptr) << mnv2_last_error_message();
  EXPECT_STREQ(mnv2_precision(automatic), "fp32");
  mnv2_free(automatic);
  EXPECT_EQ(mnv2_load_with(bytes.data(), bytes.size(), MNV2_PRECISION_INT8, 0, 0), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_UNSUPPORTED_MODEL");
  EXPECT_NE(std::string(mnv2_last_error_message()).find("integer"), std::string::npos) << mnv2_last_error_message();
}

// A quantized model the integer engine refuses only when planning (its SOFTMAX output is not
// TFLite's 1/256 steps): read without float weights, it runs by default on the float engine,
// which makes them from the stored integers, exactly as when float32 is asked for.
TEST(CApiPrecision, FallsBackToFloat32) {
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  testing::TensorDef& out = g.tensors[g.outputs[0]];
  ASSERT_EQ(out.scale.size(), 1u);
  out.scale[0] = 1.0f / 128;
  const std::vector<uint8_t> bytes = testing::WriteTflite(g);
  EXPECT_EQ(mnv2_load_with(bytes.data(), bytes.size(), MNV2_PRECISION_INT8, 0, 0), nullptr);
  EXPECT_NE(std::string(mnv2_last_error_message()).find("SOFTMAX output"), std::string::npos) << mnv2_last_error_message();
  Mnv2Model* automatic = mnv2_load(bytes.data(), bytes.size());
  Mnv2Model* fp32 = mnv2_load_with(bytes.data(), bytes.size(), MNV2_PRECISION_FP32, 0, 0);
  ASSERT_TRUE(automatic && fp32) << mnv2_last_error_message();
  EXPECT_STREQ(mnv2_precision(automatic), "fp32");
  std::vector<uint8_t> pixels(16 * 16 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37 % 251);
  for (Mnv2Model* m : {automatic, fp32}) {
    ASSERT_EQ(mnv2_classify_pixels(m, pixels.data(), 16, 16, 3, 48, 0), 0) << mnv2_last_error_message();
  }
  float sum = 0;
  for (int i = 0; i < mnv2_num_classes(fp32); ++i) {
    EXPECT_EQ(mnv2_scores(automatic)[i], mnv2_scores(fp32)[i]) << i;
    sum += mnv2_scores(fp32)[i];
  }
  EXPECT_NEAR(sum, 1.0f, 1e-5f);
  mnv2_free(automatic);
  mnv2_free(fp32);
}

TEST(CApiPrecision, RejectsUnknownPrecisions) {
  const std::vector<uint8_t> bytes = Model("mobilenet_v2_1.0_224_quant.tflite");
  EXPECT_EQ(mnv2_load_with(bytes.data(), bytes.size(), 3, 0, 0), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_INVALID_ARGUMENT");
  EXPECT_EQ(mnv2_load_with(bytes.data(), bytes.size(), -1, 0, 0), nullptr);
  EXPECT_STREQ(mnv2_precision(nullptr), "fp32");
}

}  // namespace
}  // namespace mnv2
