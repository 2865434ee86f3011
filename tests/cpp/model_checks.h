// Checks the model tests share: a .tflite file's load status, and two layers' geometry compared.
#ifndef MNV2_TESTS_MODEL_CHECKS_H_
#define MNV2_TESTS_MODEL_CHECKS_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/builder.h"

namespace mnv2 {
namespace testing {

inline Status LoadStatus(const std::vector<uint8_t>& bytes, const model::Limits& limits = {}) {
  return model::LoadTflite(bytes.data(), bytes.size(), limits).status();
}

inline void ExpectSameGeometry(const model::ConvGeometry& a, const model::ConvGeometry& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.in_h, b.in_h);
  EXPECT_EQ(a.in_w, b.in_w);
  EXPECT_EQ(a.in_c, b.in_c);
  EXPECT_EQ(a.out_h, b.out_h);
  EXPECT_EQ(a.out_w, b.out_w);
  EXPECT_EQ(a.out_c, b.out_c);
  EXPECT_EQ(a.kernel_h, b.kernel_h);
  EXPECT_EQ(a.kernel_w, b.kernel_w);
  EXPECT_EQ(a.stride, b.stride);
  EXPECT_EQ(a.dilation, b.dilation);
  EXPECT_EQ(a.pad_top, b.pad_top);
  EXPECT_EQ(a.pad_left, b.pad_left);
}

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_MODEL_CHECKS_H_
