// Models exported with a learned head (model::ExportTflite), loaded through the C API: the
// features of the model they came from, the head's scores computed here in double precision,
// the labels the file holds, and the precision AUTO picks (int8 for a quantized backbone).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "api/c_api.h"
#include "engine/planned.h"
#include "model/builder.h"
#include "model/tflite_export.h"
#include "test_data.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using testing::ReadFileOrFail;
using testing::SharedPath;
using testing::WeightType;

model::DenseHead RandomHead(int features, int classes) {
  std::mt19937 rng(static_cast<uint32_t>(features * 31 + classes));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  model::DenseHead h{features, classes, std::vector<float>(static_cast<size_t>(features) * classes),
                     std::vector<float>(classes)};
  for (float& w : h.weights) w = 6 * u(rng);
  for (float& b : h.bias) b = u(rng);
  return h;
}

// softmax(W x / max(|x|, 1e-6) + b), in double.
std::vector<double> HeadScores(const model::DenseHead& h, const float* x) {
  double sum = 0;
  for (int i = 0; i < h.features; ++i) sum += static_cast<double>(x[i]) * x[i];
  const double norm = std::max(std::sqrt(sum), 1e-6);
  std::vector<double> logits(h.classes);
  for (int c = 0; c < h.classes; ++c) {
    double z = h.bias[c];
    for (int i = 0; i < h.features; ++i) z += h.weights[static_cast<size_t>(c) * h.features + i] * (x[i] / norm);
    logits[c] = z;
  }
  const double top = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (double& z : logits) total += (z = std::exp(z - top));
  for (double& z : logits) z /= total;
  return logits;
}

std::vector<float> CatFeatures(Mnv2Model* m) {
  const std::vector<uint8_t> cat = ReadFileOrFail(SharedPath("images/cat.bmp"));
  EXPECT_EQ(mnv2_classify_encoded(m, cat.data(), cat.size(), 0), 0) << mnv2_last_error_message();
  return std::vector<float>(mnv2_features(m), mnv2_features(m) + mnv2_feature_size(m));
}

// Exports `bytes`' network with a random head of `classes` and checks the export on the cat photo.
void ExpectExportScores(const std::vector<uint8_t>& bytes, const char* precision, int classes) {
  Mnv2Model* original = mnv2_load(bytes.data(), bytes.size());
  ASSERT_TRUE(original) << mnv2_last_error_message();
  EXPECT_STREQ(mnv2_precision(original), precision);
  const std::vector<float> features = CatFeatures(original);

  Result<model::Network> net =
      model::LoadTflite(bytes.data(), bytes.size(), {}, engine::PlannedModel::ReadOptions());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  const model::DenseHead head = RandomHead(net->feature_size(), classes);
  std::vector<std::string> labels;
  for (int i = 0; i < classes; ++i) labels.push_back("learned " + std::to_string(i));
  Result<std::vector<uint8_t>> file = model::ExportTflite(*net, head, labels);
  ASSERT_TRUE(file.ok()) << file.status().ToString();

  Mnv2Model* exported = mnv2_load(file->data(), file->size());
  ASSERT_TRUE(exported) << mnv2_last_error_message();
  EXPECT_STREQ(mnv2_precision(exported), precision);
  EXPECT_EQ(mnv2_num_classes(exported), classes);
  EXPECT_EQ(mnv2_quantized(exported), mnv2_quantized(original));
  EXPECT_EQ(CatFeatures(exported), features);
  const std::vector<double> want = HeadScores(head, features.data());
  double best = -1;
  int best_index = -1;
  for (int c = 0; c < classes; ++c) {
    EXPECT_NEAR(mnv2_scores(exported)[c], want[c], 1e-5) << "class " << c;
    if (want[c] > best) best = want[best_index = c];
    EXPECT_STREQ(mnv2_label(exported, c), labels[c].c_str());
  }
  int32_t top = -1;
  EXPECT_EQ(mnv2_top_k(exported, 1, &top), 1);
  EXPECT_EQ(top, best_index);

  // In float32 too: the backbone's features are the original's in float32.
  Mnv2Model* original_fp32 = mnv2_load_with(bytes.data(), bytes.size(), MNV2_PRECISION_FP32, 0, 0);
  Mnv2Model* exported_fp32 = mnv2_load_with(file->data(), file->size(), MNV2_PRECISION_FP32, 0, 0);
  ASSERT_TRUE(original_fp32 && exported_fp32) << mnv2_last_error_message();
  const std::vector<float> features_fp32 = CatFeatures(original_fp32);
  EXPECT_EQ(CatFeatures(exported_fp32), features_fp32);
  const std::vector<double> want_fp32 = HeadScores(head, features_fp32.data());
  for (int c = 0; c < classes; ++c) EXPECT_NEAR(mnv2_scores(exported_fp32)[c], want_fp32[c], 1e-5) << "class " << c;

  mnv2_free(original);
  mnv2_free(exported);
  mnv2_free(original_fp32);
  mnv2_free(exported_fp32);
}

TEST(CApiExport, RealModels) {
  for (const char* file : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
                           "mobilenet_v1_0.25_128_quant.tflite"}) {
    SCOPED_TRACE(file);
    ExpectExportScores(ReadFileOrFail(SharedPath(std::string("models/") + file)), "int8", 4);
  }
}

TEST(CApiExport, SyntheticModelsOfEveryWeightType) {
  for (WeightType w : {WeightType::kFloat32, WeightType::kFloat16, WeightType::kUInt8, WeightType::kInt8PerChannel}) {
    for (bool v1 : {false, true}) {
      testing::SyntheticSpec spec;
      spec.v1 = v1;
      spec.alpha = v1 ? 0.25f : 0.35f;
      spec.resolution = 64;
      spec.classes = 10;
      spec.weights = w;
      spec.quantize_edges = w == WeightType::kInt8PerChannel;
      spec.mean_pool = w == WeightType::kInt8PerChannel && !v1;
      SCOPED_TRACE("weights " + std::to_string(static_cast<int>(w)) + (v1 ? " v1" : " v2"));
      const bool quantized = w == WeightType::kUInt8 || w == WeightType::kInt8PerChannel;
      ExpectExportScores(testing::SyntheticMobileNetV2(spec), quantized ? "int8" : "fp32", v1 ? 1 : 7);
    }
  }
}

// The file's labels are the model's until mnv2_set_labels replaces them.
TEST(CApiExport, SetLabelsOverridesTheFilesLabels) {
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(testing::TinyUint8Spec());
  Result<model::Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  Result<std::vector<uint8_t>> file =
      model::ExportTflite(*net, RandomHead(net->feature_size(), 3), {"cat", "dog", "hot dog"});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  Mnv2Model* m = mnv2_load(file->data(), file->size());
  ASSERT_TRUE(m) << mnv2_last_error_message();
  EXPECT_STREQ(mnv2_label(m, 2), "hot dog");
  const std::string text = "x\ny\nz\n";
  ASSERT_EQ(mnv2_set_labels(m, text.data(), text.size()), 0) << mnv2_last_error_message();
  EXPECT_STREQ(mnv2_label(m, 2), "z");
  mnv2_free(m);
}

}  // namespace
}  // namespace mnv2
