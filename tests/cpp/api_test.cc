// The C API the WebAssembly module exports: results, errors and their codes.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "api/c_api.h"
#include "test_data.h"

namespace mnv2 {
namespace {

using testing::ReadFileOrFail;
using testing::SharedPath;

class CApi : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"));
    model_ = mnv2_load(bytes.data(), bytes.size());
    ASSERT_NE(model_, nullptr) << mnv2_last_error_message();
  }
  void TearDown() override { mnv2_free(model_); }
  int ClassifyFile(const char* photo) {
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("images/") + photo));
    return mnv2_classify_encoded(model_, bytes.data(), bytes.size(), 0);
  }
  int Top1() {
    int32_t index = -1;
    EXPECT_EQ(mnv2_top_k(model_, 1, &index), 1);
    return index;
  }
  Mnv2Model* model_ = nullptr;
};

TEST_F(CApi, DescribesTheModel) {
  EXPECT_EQ(mnv2_num_classes(model_), 1001);
  EXPECT_EQ(mnv2_feature_size(model_), 1280);
  EXPECT_EQ(mnv2_input_width(model_), 224);
  EXPECT_EQ(mnv2_input_height(model_), 224);
  EXPECT_FLOAT_EQ(mnv2_alpha(model_), 1.0f);
  EXPECT_EQ(mnv2_quantized(model_), 1);
  EXPECT_STREQ(mnv2_weight_type(model_), "uint8");
  EXPECT_NEAR(mnv2_multiply_adds(model_) / 1e6, 300, 10);
  EXPECT_GT(std::strlen(mnv2_simd_target()), 0u);
}

TEST_F(CApi, ClassifiesEncodedAndRawPixels) {
  ASSERT_EQ(ClassifyFile("cat.bmp"), 0) << mnv2_last_error_message();
  EXPECT_EQ(Top1(), 286);
  const std::vector<uint8_t> rgb = ReadFileOrFail(SharedPath("images/bird.rgb"));
  ASSERT_EQ(mnv2_classify_pixels(model_, rgb.data(), 224, 224, 3, 224 * 3, 0), 0);
  EXPECT_EQ(Top1(), 20);
  // The same pixels as RGBA give the same scores.
  std::vector<float> rgb_scores(mnv2_scores(model_), mnv2_scores(model_) + 1001);
  std::vector<uint8_t> rgba;
  for (size_t i = 0; i < rgb.size(); i += 3) rgba.insert(rgba.end(), {rgb[i], rgb[i + 1], rgb[i + 2], 255});
  ASSERT_EQ(mnv2_classify_pixels(model_, rgba.data(), 224, 224, 4, 224 * 4, 0), 0);
  for (int i = 0; i < 1001; ++i) ASSERT_EQ(mnv2_scores(model_)[i], rgb_scores[i]);
}

TEST_F(CApi, Labels) {
  EXPECT_STREQ(mnv2_label(model_, 286), "");
  const std::vector<uint8_t> text = ReadFileOrFail(SharedPath("models/imagenet_labels.txt"));
  ASSERT_EQ(mnv2_set_labels(model_, reinterpret_cast<const char*>(text.data()), text.size()), 0);
  EXPECT_STREQ(mnv2_label(model_, 286), "Egyptian cat");
  EXPECT_STREQ(mnv2_label(model_, 5000), "");
  const char bad[] = "a\nb\n";
  EXPECT_NE(mnv2_set_labels(model_, bad, sizeof(bad) - 1), 0);
  EXPECT_STREQ(mnv2_last_error_name(), "E_INVALID_ARGUMENT");
  EXPECT_STREQ(mnv2_label(model_, 286), "Egyptian cat");  // the old labels stay
}

TEST_F(CApi, ErrorsHaveCodesAndTheModelStaysUsable) {
  const uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_NE(mnv2_classify_encoded(model_, junk, sizeof(junk), 0), 0);
  EXPECT_STREQ(mnv2_last_error_name(), "E_IMAGE_DECODE");
  EXPECT_GT(std::strlen(mnv2_last_error_message()), 10u);
  EXPECT_NE(mnv2_classify_encoded(model_, nullptr, 0, 0), 0);
  EXPECT_NE(mnv2_classify_pixels(model_, junk, 0, 5, 3, 0, 0), 0);
  EXPECT_NE(mnv2_classify_pixels(model_, junk, 2, 2, 5, 10, 0), 0);
  EXPECT_NE(mnv2_classify_encoded(nullptr, junk, sizeof(junk), 0), 0);
  EXPECT_STREQ(mnv2_last_error_name(), "E_INVALID_ARGUMENT");
  ASSERT_EQ(ClassifyFile("parrot.jpg"), 0);
  EXPECT_EQ(Top1(), 89);
  EXPECT_STREQ(mnv2_last_error_name(), "OK");
}

TEST(CApiLoad, RejectsBadModels) {
  EXPECT_EQ(mnv2_load(nullptr, 0), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_MODEL_FORMAT");
  const std::vector<uint8_t> jpeg = ReadFileOrFail(SharedPath("images/owl.jpg"));
  EXPECT_EQ(mnv2_load(jpeg.data(), jpeg.size()), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_MODEL_FORMAT");
  EXPECT_NE(std::string(mnv2_last_error_message()).find("identifier"), std::string::npos) << mnv2_last_error_message();
  mnv2_free(nullptr);
}

}  // namespace
}  // namespace mnv2
