// The C API's limits: load with limits, per-model image limits, the values in force.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "api/c_api.h"
#include "test_data.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

std::vector<uint8_t> TinyModel() { return testing::SyntheticMobileNetV2(testing::TinyUint8Spec()); }

TEST(CApiLimits, Defaults) {
  EXPECT_EQ(mnv2_limit(nullptr, MNV2_LIMIT_MODEL_BYTES), 128.0 * (1 << 20));
  EXPECT_EQ(mnv2_limit(nullptr, MNV2_LIMIT_MEMORY_BYTES), 512.0 * (1 << 20));
  EXPECT_EQ(mnv2_limit(nullptr, MNV2_LIMIT_IMAGE_BYTES), 64.0 * (1 << 20));
  EXPECT_EQ(mnv2_limit(nullptr, MNV2_LIMIT_IMAGE_PIXELS), 40e6);
  EXPECT_EQ(mnv2_limit(nullptr, MNV2_LIMIT_IMAGE_SIDE), 16384.0);
  EXPECT_EQ(mnv2_limit(nullptr, 99), 0.0);
}

TEST(CApiLimits, ModelLimits) {
  const std::vector<uint8_t> bytes = TinyModel();
  EXPECT_EQ(mnv2_load_limited(bytes.data(), bytes.size(), static_cast<double>(bytes.size() - 1), 0), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_MODEL_TOO_LARGE");
  EXPECT_EQ(mnv2_load_limited(bytes.data(), bytes.size(), 0, 1000), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_MODEL_TOO_LARGE");
  EXPECT_NE(std::string(mnv2_last_error_message()).find("memory"), std::string::npos) << mnv2_last_error_message();
  // 0, negative and NaN keep the defaults; huge values mean no limit.
  for (double v : {0.0, -1.0, std::nan(""), 1e300}) {
    Mnv2Model* m = mnv2_load_limited(bytes.data(), bytes.size(), v, v);
    ASSERT_NE(m, nullptr) << v << ": " << mnv2_last_error_message();
    mnv2_free(m);
  }
}

TEST(CApiLimits, ImageLimits) {
  const std::vector<uint8_t> bytes = TinyModel();
  Mnv2Model* m = mnv2_load(bytes.data(), bytes.size());
  ASSERT_NE(m, nullptr) << mnv2_last_error_message();
  std::vector<uint8_t> rgb(20 * 10 * 3, 100);
  ASSERT_EQ(mnv2_classify_pixels(m, rgb.data(), 20, 10, 3, 60, 0), 0);
  ASSERT_EQ(mnv2_set_image_limits(m, 50, 199), 0);
  EXPECT_EQ(mnv2_limit(m, MNV2_LIMIT_IMAGE_BYTES), 50.0);
  EXPECT_EQ(mnv2_limit(m, MNV2_LIMIT_IMAGE_PIXELS), 199.0);
  EXPECT_NE(mnv2_classify_pixels(m, rgb.data(), 20, 10, 3, 60, 0), 0);
  EXPECT_STREQ(mnv2_last_error_name(), "E_IMAGE_TOO_LARGE");
  const std::vector<uint8_t> photo = testing::ReadFileOrFail(testing::SharedPath("images/owl.jpg"));
  EXPECT_NE(mnv2_classify_encoded(m, photo.data(), photo.size(), 0), 0);
  EXPECT_STREQ(mnv2_last_error_name(), "E_IMAGE_TOO_LARGE");
  ASSERT_EQ(mnv2_set_image_limits(m, 0, 0), 0);  // back to the defaults
  EXPECT_EQ(mnv2_classify_pixels(m, rgb.data(), 20, 10, 3, 60, 0), 0);
  EXPECT_EQ(mnv2_classify_encoded(m, photo.data(), photo.size(), 0), 0) << mnv2_last_error_message();
  EXPECT_NE(mnv2_set_image_limits(nullptr, 1, 1), 0);
  mnv2_free(m);
}

}  // namespace
}  // namespace mnv2
