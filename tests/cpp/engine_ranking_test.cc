// Top-k lists: equal scores ranked by the pre-softmax logits, and the background class of the
// 1001-class ImageNet models never ranked. A quantized model's probabilities come in steps of
// 1/256, so below a confident first class most scores are exactly 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/planned.h"
#include "image/image.h"
#include "json.h"
#include "model/builder.h"
#include "model/labels.h"
#include "test_data.h"

namespace mnv2 {
namespace {

using testing::ReadFileOrFail;
using testing::SharedPath;

std::vector<int> Indices(const std::vector<engine::Prediction>& top) {
  std::vector<int> out;
  for (const engine::Prediction& p : top) out.push_back(p.index);
  return out;
}

TEST(TopScores, EqualScoresRankByLogitThenIndex) {
  const float scores[] = {0.5f, 0.0f, 0.0f, 0.5f, 0.0f, 0.0f};
  const float logits[] = {2.0f, -3.0f, -1.0f, 2.5f, -1.0f, -7.0f};
  EXPECT_EQ(Indices(engine::TopScores(scores, logits, 6, 6)), (std::vector<int>{3, 0, 2, 4, 1, 5}));
  EXPECT_EQ(Indices(engine::TopScores(scores, logits, 6, 3, 1)), (std::vector<int>{3, 2, 4}));
  // k is clamped to the classes ranked; an empty ranking is empty.
  EXPECT_EQ(engine::TopScores(scores, logits, 6, 10, 4).size(), 2u);
  EXPECT_TRUE(engine::TopScores(scores, logits, 6, 3, 6).empty());
  EXPECT_TRUE(engine::TopScores(scores, logits, 6, 0).empty());
}

TEST(FirstRankedClass, SkipsOnlyTheBackgroundOfA1001ClassModel) {
  std::vector<std::string> imagenet(1001, "x");
  imagenet[0] = "background";
  EXPECT_EQ(model::FirstRankedClass(1001, imagenet), 1);
  EXPECT_EQ(model::FirstRankedClass(1001, {}), 1);
  imagenet[0] = "tench";
  EXPECT_EQ(model::FirstRankedClass(1001, imagenet), 0);
  // The iNat bird model's "background" (its last class) is a trained class: no bird.
  std::vector<std::string> birds(965, "bird");
  birds[964] = "background";
  EXPECT_EQ(model::FirstRankedClass(965, birds), 0);
  EXPECT_EQ(model::FirstRankedClass(1000, {}), 0);
}

// Every photo of ../shared/images that the independent runtime classified, on both real
// ImageNet models, in both precisions.
class RealModelRanking : public ::testing::TestWithParam<const char*> {};

TEST_P(RealModelRanking, EveryPositionOfTheTop10MeansSomethingOnEveryPhoto) {
  const std::vector<uint8_t> model_bytes = ReadFileOrFail(SharedPath(std::string("models/") + GetParam()));
  const std::vector<uint8_t> label_text = ReadFileOrFail(SharedPath("models/imagenet_labels.txt"));
  Result<model::Network> net = model::LoadTflite(model_bytes.data(), model_bytes.size());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  Result<std::vector<std::string>> labels =
      model::ParseLabels(std::string(label_text.begin(), label_text.end()), net->num_classes());
  ASSERT_TRUE(labels.ok());
  const int first = model::FirstRankedClass(net->num_classes(), *labels);
  ASSERT_EQ(first, 1);
  Result<engine::PlannedModel> int8 = engine::PlannedModel::Plan(*net, engine::Precision::kInt8, 1);
  Result<engine::PlannedModel> fp32 = engine::PlannedModel::Plan(*net, engine::Precision::kFp32, 1);
  ASSERT_TRUE(int8.ok() && fp32.ok());
  ASSERT_TRUE(int8->integer());

  const std::vector<uint8_t> json = ReadFileOrFail(SharedPath("images/reference_top5.json"));
  const testing::Json refs = testing::ParseJson(std::string(json.begin(), json.end()))[GetParam()];
  ASSERT_GE(refs.size(), 10u);
  std::set<std::vector<int>> tails;
  int tied_positions = 0;
  for (const auto& [photo, top5] : refs.object) {
    SCOPED_TRACE(photo);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/" + photo));
    Result<image::Image> img = image::Decode(bytes.data(), bytes.size());
    ASSERT_TRUE(img.ok());
    for (engine::PlannedModel* m : {&*int8, &*fp32}) {
      m->SetImage(*img, image::Fit::kStretch);
      m->Run();
    }
    const std::vector<engine::Prediction> top = int8->Top(10, first);
    ASSERT_EQ(top.size(), 10u);
    // The float32 engine on the same weights has (almost) no ties: its 25 best classes.
    const std::vector<int> float_top = Indices(fp32->Top(25, first));
    std::printf("  %-28s", photo.c_str());
    for (size_t i = 0; i < top.size(); ++i) {
      const engine::Prediction& p = top[i];
      std::printf(" %d(%.3f)", p.index, p.score);
      EXPECT_NE(p.index, 0) << "background ranked";
      EXPECT_EQ(p.score, int8->scores()[p.index]);
      EXPECT_EQ(p.logit, int8->logits()[p.index]);
      if (i > 0) {
        const engine::Prediction& q = top[i - 1];
        ASSERT_GE(q.score, p.score);
        if (q.score == p.score) {
          ++tied_positions;
          EXPECT_GE(q.logit, p.logit) << "position " << i;
        }
      }
      // What the integer engine ranks, the float engine ranks near the top too: the tail is
      // the model's own next guesses, not the classes of lowest index.
      EXPECT_NE(std::find(float_top.begin(), float_top.end(), p.index), float_top.end())
          << "position " << i << ": class " << p.index << " (" << (*labels)[p.index] << ")";
    }
    std::printf("\n");
    const std::vector<int> ranked = Indices(top);
    tails.insert(std::vector<int>(ranked.begin() + 1, ranked.end()));
  }
  // Ties were there to break, and no two photos share a tail.
  EXPECT_GT(tied_positions, 0);
  EXPECT_EQ(tails.size(), refs.size());
}

INSTANTIATE_TEST_SUITE_P(Models, RealModelRanking,
                         ::testing::Values("mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"),
                         [](const auto& info) { return std::string(info.index == 0 ? "Uint8" : "Int8"); });

}  // namespace
}  // namespace mnv2
