// The learner module's C API (api/learner_api.h) as the JS layer drives it: embeddings of the real
// imprinting photos from the classifying API, every method, training an epoch at a time, the head
// read back and set again, errors that leave the learner usable, and the .tflite export loaded
// through mnv2_load with the learner's own scores.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "api/c_api.h"
#include "api/learner_api.h"
#include "test_data.h"

namespace mnv2 {
namespace {

using testing::ReadFileOrFail;
using testing::SharedPath;

std::vector<float> Embed(Mnv2Model* m, const std::string& photo) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/imprinting/" + photo + ".bmp"));
  EXPECT_EQ(mnv2_classify_encoded(m, bytes.data(), bytes.size(), 0), 0) << mnv2_last_error_message();
  return std::vector<float>(mnv2_features(m), mnv2_features(m) + mnv2_feature_size(m));
}

// The best label of the last classify.
std::string Top(const Mnv2Learner* l) {
  int32_t best = -1;
  EXPECT_EQ(mnv2_learner_top_k(l, 1, &best), 1);
  static const char* kLabels[] = {"cat", "dog", "hotdog"};
  return best >= 0 && best < 3 ? kLabels[best] : "?";
}

TEST(CApiLearner, TeachesExportsAndReadsBack) {
  const std::vector<uint8_t> file = ReadFileOrFail(SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"));
  Mnv2Model* model = mnv2_load(file.data(), file.size());
  ASSERT_NE(model, nullptr) << mnv2_last_error_message();
  const int features = mnv2_feature_size(model);
  EXPECT_EQ(mnv2_num_labels(model), 0);  // a file without labels

  EXPECT_EQ(mnv2_learner_create(0), nullptr);
  EXPECT_STREQ(mnv2_last_error_name(), "E_INVALID_ARGUMENT");
  Mnv2Learner* l = mnv2_learner_create(features);
  ASSERT_NE(l, nullptr);
  const std::vector<float> cat = Embed(model, "cat_train_0");
  EXPECT_EQ(mnv2_learner_add(l, cat.data(), ""), -1);
  EXPECT_STREQ(mnv2_last_error_name(), "E_INVALID_ARGUMENT");
  EXPECT_EQ(mnv2_learner_add(l, nullptr, "cat"), -1);
  EXPECT_EQ(mnv2_learner_add(l, cat.data(), "cat"), 1);
  EXPECT_NE(mnv2_learner_classify(l, cat.data(), MNV2_METHOD_KNN, 3), 0);  // one label
  EXPECT_EQ(mnv2_learner_add(l, Embed(model, "dog_train_0").data(), "dog"), 1);
  EXPECT_EQ(mnv2_learner_add(l, Embed(model, "hotdog_train_0").data(), "hotdog"), 1);
  EXPECT_EQ(mnv2_learner_add(l, Embed(model, "hotdog_train_1").data(), "hotdog"), 2);

  const char* tests[] = {"cat", "dog", "hotdog"};
  std::vector<std::vector<float>> queries;
  for (const char* label : tests) queries.push_back(Embed(model, std::string(label) + "_test_0"));
  for (int method : {MNV2_METHOD_KNN, MNV2_METHOD_IMPRINT}) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(mnv2_learner_classify(l, queries[i].data(), method, 3), 0) << mnv2_last_error_message();
      EXPECT_EQ(Top(l), tests[i]) << "method " << method;
    }
  }
  EXPECT_NE(mnv2_learner_classify(l, cat.data(), MNV2_METHOD_SOFTMAX, 3), 0);  // not trained
  EXPECT_NE(mnv2_learner_classify(l, cat.data(), 7, 3), 0);
  EXPECT_EQ(mnv2_learner_trained(l), 0);
  EXPECT_EQ(mnv2_learner_head_weights(l), nullptr);

  EXPECT_NE(mnv2_learner_train_begin(l, 0, 0.1f, 1e-4f, 16, 1), 0);
  EXPECT_NE(mnv2_learner_train_begin(l, 5, NAN, 1e-4f, 16, 1), 0);
  ASSERT_EQ(mnv2_learner_train_begin(l, 5, 0.1f, 1e-4f, 16, 1), 0);
  for (int e = 0; e < 5; ++e) ASSERT_EQ(mnv2_learner_train_epoch(l), 0) << mnv2_last_error_message();
  EXPECT_NE(mnv2_learner_train_epoch(l), 0);  // all epochs done
  EXPECT_TRUE(std::isfinite(mnv2_learner_loss(l)));
  ASSERT_EQ(mnv2_learner_trained(l), 1);
  std::vector<float> weights(mnv2_learner_head_weights(l), mnv2_learner_head_weights(l) + 3 * features);
  std::vector<float> bias(mnv2_learner_head_bias(l), mnv2_learner_head_bias(l) + 3);
  std::vector<std::vector<float>> scores;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(mnv2_learner_classify(l, queries[i].data(), MNV2_METHOD_SOFTMAX, 3), 0);
    EXPECT_EQ(Top(l), tests[i]);
    scores.emplace_back(mnv2_learner_scores(l), mnv2_learner_scores(l) + 3);
  }

  // The head set on a learner that has only the labels (a head read back without its examples).
  Mnv2Learner* head_only = mnv2_learner_create(features);
  for (const char* label : tests) ASSERT_EQ(mnv2_learner_add_label(head_only, label), 0);
  ASSERT_EQ(mnv2_learner_set_head(head_only, weights.data(), bias.data()), 0) << mnv2_last_error_message();
  ASSERT_EQ(mnv2_learner_classify(head_only, queries[1].data(), MNV2_METHOD_SOFTMAX, 3), 0);
  EXPECT_NEAR(mnv2_learner_scores(head_only)[1], scores[1][1], 1e-6);
  EXPECT_NE(mnv2_learner_classify(head_only, queries[1].data(), MNV2_METHOD_KNN, 3), 0);  // no examples
  mnv2_learner_free(head_only);

  // The export runs through mnv2_load with the learner's scores and labels.
  EXPECT_NE(mnv2_learner_export_tflite(l, file.data(), 100), 0);
  EXPECT_STREQ(mnv2_last_error_name(), "E_MODEL_FORMAT");
  ASSERT_EQ(mnv2_learner_export_tflite(l, file.data(), file.size()), 0) << mnv2_last_error_message();
  const std::vector<uint8_t> exported(mnv2_learner_export_data(l), mnv2_learner_export_data(l) + mnv2_learner_export_size(l));
  Mnv2Model* back = mnv2_load(exported.data(), exported.size());
  ASSERT_NE(back, nullptr) << mnv2_last_error_message();
  EXPECT_EQ(mnv2_num_classes(back), 3);
  EXPECT_STREQ(mnv2_precision(back), "int8");
  for (int i = 0; i < 3; ++i) {
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/imprinting/" + std::string(tests[i]) + "_test_0.bmp"));
    ASSERT_EQ(mnv2_classify_encoded(back, bytes.data(), bytes.size(), 0), 0);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(mnv2_scores(back)[c], scores[i][c], 1e-5) << tests[i] << " class " << c;
    EXPECT_STREQ(mnv2_label(back, i), tests[i]);
    EXPECT_EQ(mnv2_num_labels(back), 3);
  }
  mnv2_free(back);
  mnv2_learner_free(l);
  mnv2_free(model);
}

}  // namespace
}  // namespace mnv2
