// The engine end to end: against a scalar reference on synthetic networks of the
// whole family, and against an independent TFLite runtime on real models and photos.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "engine/engine.h"
#include "engine/planned.h"
#include "image/image.h"
#include "json.h"
#include "kernels/reference.h"
#include "model/builder.h"
#include "model/labels.h"
#include "reference_network.h"
#include "test_data.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using model::ConvGeometry;
using model::Network;
using testing::ReadFileOrFail;
using testing::SharedPath;

// The network computed layer by layer with the scalar reference kernels and unpacked weights.
std::vector<float> ReferenceScores(const Network& net, const std::vector<float>& input, std::vector<float>* features) {
  const std::vector<float> x = testing::ReferenceBackbone(net, input);
  const std::vector<float> h = net.has_head ? testing::RefConv(net.head, x) : x;
  features->assign(net.feature_size(), 0.0f);
  const ConvGeometry& pooled = net.pooled_geometry();
  kernels::reference::GlobalAveragePool(h.data(), static_cast<size_t>(pooled.out_h) * pooled.out_w,
                                        net.feature_size(), features->data());
  std::vector<float> scores(net.num_classes());
  float lo, hi;
  model::ActivationRange(net.classifier.activation, &lo, &hi);
  kernels::reference::Gemm(features->data(), net.feature_size(), 1, net.feature_size(), net.classifier.weights.data(),
                           net.classifier.bias.data(), net.num_classes(), scores.data(), net.num_classes(), lo, hi);
  if (net.softmax) kernels::reference::Softmax(scores.data(), net.num_classes(), net.softmax_beta, scores.data());
  return scores;
}

class EngineFamily : public ::testing::TestWithParam<testing::SyntheticSpec> {};

TEST_P(EngineFamily, MatchesScalarReference) {
  const testing::SyntheticSpec& c = GetParam();
  testing::SyntheticSpec spec = c;
  spec.seed = static_cast<uint32_t>(c.resolution * 31 + c.classes);
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(spec);
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_FLOAT_EQ(net->alpha(), c.alpha);  // recovered from the channel counts
  Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*net);
  ASSERT_TRUE(e.ok()) << e.status().ToString();

  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> input(static_cast<size_t>(c.resolution) * c.resolution * 3);
  for (float& v : input) v = u(rng);
  std::copy(input.begin(), input.end(), (*e)->input());
  // Run twice: the second run must not depend on state left by the first.
  (*e)->Run();
  (*e)->Run();

  std::vector<float> ref_features;
  const std::vector<float> ref = ReferenceScores(*net, input, &ref_features);
  double scale = 0;
  for (float f : ref_features) scale = std::max(scale, std::fabs(static_cast<double>(f)));
  ASSERT_GT(scale, 1e-3) << "degenerate synthetic network";
  for (int i = 0; i < net->feature_size(); ++i) {
    ASSERT_NEAR((*e)->features()[i], ref_features[i], 1e-3 * scale + 1e-4) << "feature " << i;
  }
  for (int i = 0; i < net->num_classes(); ++i) {
    ASSERT_NEAR((*e)->scores()[i], ref[i], c.softmax ? 1e-4 : 1e-3 * (1 + std::fabs(ref[i]))) << "class " << i;
  }
  const std::vector<engine::Prediction> top = (*e)->Top(3);
  ASSERT_EQ(top.size(), std::min<size_t>(3, c.classes));
  // Every block's rows shared among 2, 3 and 5 threads: the same bytes as one thread.
  for (int threads : {2, 3, 5}) {
    Result<std::unique_ptr<engine::Engine>> te = engine::Engine::Create(*net, threads);
    ASSERT_TRUE(te.ok()) << te.status().ToString();
    ASSERT_EQ((*te)->threads(), engine::Workers::Clamp(threads));  // 1 in a WebAssembly build without threads
    std::copy(input.begin(), input.end(), (*te)->input());
    (*te)->Run();
    (*te)->Run();
    for (int i = 0; i < net->feature_size(); ++i) {
      ASSERT_EQ((*te)->features()[i], (*e)->features()[i]) << threads << " threads, feature " << i;
    }
    for (int i = 0; i < net->num_classes(); ++i) {
      ASSERT_EQ((*te)->scores()[i], (*e)->scores()[i]) << threads << " threads, class " << i;
    }
  }
  for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].score, top[i].score);
  // Read without its float weights (a quantized network's layers keep their stored integers,
  // from which the engine makes them): the same bytes.
  Result<Network> lean = model::LoadTflite(bytes.data(), bytes.size(), {}, engine::PlannedModel::ReadOptions());
  ASSERT_TRUE(lean.ok()) << lean.status().ToString();
  EXPECT_EQ(lean->stem.weights.empty(), lean->quant.available);
  Result<std::unique_ptr<engine::Engine>> le = engine::Engine::Create(*lean);
  ASSERT_TRUE(le.ok()) << le.status().ToString();
  std::copy(input.begin(), input.end(), (*le)->input());
  (*le)->Run();
  for (int i = 0; i < net->feature_size(); ++i) ASSERT_EQ((*le)->features()[i], (*e)->features()[i]) << "lean, feature " << i;
  for (int i = 0; i < net->num_classes(); ++i) ASSERT_EQ((*le)->scores()[i], (*e)->scores()[i]) << "lean, class " << i;
}

using testing::WeightType;
// alpha, resolution, classes, weights, FULLY_CONNECTED classifier, MEAN pooling, QUANTIZE edges, softmax[, v1].
using Spec = testing::SyntheticSpec;
INSTANTIATE_TEST_SUITE_P(Family, EngineFamily,
                         ::testing::Values(Spec{0.35f, 96, 5, WeightType::kFloat32, false, false, false, true},
                                           Spec{0.5f, 128, 1000, WeightType::kFloat16, true, true, false, true},
                                           Spec{0.75f, 160, 1001, WeightType::kUInt8, false, false, false, true},
                                           Spec{1.0f, 112, 965, WeightType::kInt8PerChannel, false, true, false, false},
                                           Spec{1.3f, 64, 10, WeightType::kFloat32, true, false, false, true},
                                           Spec{1.4f, 100, 7, WeightType::kInt8PerChannel, true, true, false, true},
                                           Spec{1.0f, 33, 3, WeightType::kFloat32, false, false, false, false},
                                           // MobileNetV1 (the last field: v1).
                                           Spec{0.25f, 128, 1001, WeightType::kFloat32, false, false, false, true, true},
                                           Spec{0.5f, 160, 10, WeightType::kUInt8, true, true, false, true, true},
                                           Spec{0.75f, 96, 5, WeightType::kInt8PerChannel, false, false, false, false, true},
                                           Spec{1.0f, 41, 3, WeightType::kFloat16, false, true, false, true, true}));

// ---------------------------------------------------------------------------
// Real models and photos, against reference_top5.json from an independent TFLite runtime.

struct RealModel {
  const char* file;
  double tolerance;  // on the top-1 probability
};

class RealModelTest : public ::testing::TestWithParam<RealModel> {};

std::unique_ptr<engine::Engine> LoadEngine(const std::string& file) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/" + file));
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  EXPECT_TRUE(net.ok()) << net.status().ToString();
  if (!net.ok()) return nullptr;
  Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*net);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

TEST_P(RealModelTest, Top1MatchesReferenceOnEveryPhoto) {
  const RealModel& m = GetParam();
  std::unique_ptr<engine::Engine> e = LoadEngine(m.file);
  ASSERT_NE(e, nullptr);
  const std::vector<uint8_t> json = ReadFileOrFail(SharedPath("images/reference_top5.json"));
  const testing::Json refs = testing::ParseJson(std::string(json.begin(), json.end()))[m.file];
  ASSERT_GE(refs.size(), 10u);
  for (const auto& [photo, top5] : refs.object) {
    SCOPED_TRACE(photo);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/" + photo));
    Result<image::Image> img = image::Decode(bytes.data(), bytes.size());
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    e->SetImage(*img);
    e->Run();
    const engine::Prediction top = e->Top(1)[0];
    const int ref_index = static_cast<int>(top5[0][0].number);
    const double ref_score = top5[0][2].number;
    EXPECT_EQ(top.index, ref_index) << "expected " << top5[0][1].string;
    EXPECT_NEAR(top.score, ref_score, m.tolerance);
    std::printf("  %-28s top-1 %4d  p=%.4f  (reference %4d  p=%.4f)\n", photo.c_str(), top.index, top.score,
                ref_index, ref_score);
  }
}

TEST_P(RealModelTest, RawInputsMatchReferenceTop1) {
  const RealModel& m = GetParam();
  std::unique_ptr<engine::Engine> e = LoadEngine(m.file);
  ASSERT_NE(e, nullptr);
  const std::vector<uint8_t> json = ReadFileOrFail(SharedPath("images/reference_raw_outputs.json"));
  const testing::Json ref = testing::ParseJson(std::string(json.begin(), json.end()))[m.file];
  for (const char* raw : {"bird.rgb", "sunflower.rgb"}) {
    SCOPED_TRACE(raw);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("images/") + raw));
    Result<image::Image> img = image::FromPixels(bytes.data(), 224, 224, 3, 224 * 3);
    ASSERT_TRUE(img.ok());
    e->SetImage(*img);
    e->Run();
    const testing::Json& out = ref[raw];
    ASSERT_EQ(out.size(), static_cast<size_t>(e->num_classes()));
    size_t best = 0;
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].number > out[best].number) best = i;
    }
    EXPECT_EQ(e->Top(1)[0].index, static_cast<int>(best));
    // The reference is quantized to 1/256 steps; the float path should land close.
    EXPECT_NEAR(e->scores()[best], out[best].number / 256.0, m.tolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, RealModelTest,
                         ::testing::Values(RealModel{"mobilenet_v2_1.0_224_quant.tflite", 0.10},
                                           RealModel{"tf2_mobilenet_v2_1.0_224_ptq.tflite", 0.15}),
                         [](const auto& info) { return std::string(info.index == 0 ? "Uint8" : "Int8"); });

TEST(RealModel, FusedBlocksKeepActivationMemorySmall) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"));
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok());
  Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*net);
  ASSERT_TRUE(e.ok());
  const size_t fused = (*e)->ActivationBytes(), layered = engine::Engine::LayerByLayerActivationBytes(*net);
  std::printf("  peak activation memory: %zu bytes fused, %zu bytes layer by layer\n", fused, layered);
  EXPECT_LE(fused, 1250000u);
  EXPECT_GT(layered, 5000000u);
}

// MobileNetV1 at three of the paper's (alpha, resolution) points, in float32 (the int8 engine:
// engine_quantized_test.cc): the family, the top-1 of the independent runtime on every photo
// where its two best scores differ by more than 2/256 and on the raw inputs, and the fused
// plan's activation memory against layer by layer.
class RealModelV1 : public ::testing::TestWithParam<const char*> {};

TEST_P(RealModelV1, FloatEngineAgreesWithTheReference) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("models/") + GetParam()));
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ(net->family(), model::Family::kMobileNetV1);
  EXPECT_FALSE(net->has_head);
  EXPECT_EQ(net->blocks.size(), 13u);
  Result<std::unique_ptr<engine::Engine>> created = engine::Engine::Create(*net);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  engine::Engine& e = **created;
  const int size = net->input.height;
  EXPECT_EQ(e.feature_size(), static_cast<int>(1024 * net->alpha()));

  const std::vector<uint8_t> top5_json = ReadFileOrFail(SharedPath("images/reference_top5_v1.json"));
  const testing::Json refs = testing::ParseJson(std::string(top5_json.begin(), top5_json.end()))[GetParam()];
  ASSERT_GE(refs.size(), 10u);
  int clear = 0;
  for (const auto& [photo, top5] : refs.object) {
    if (top5[0][2].number - top5[1][2].number <= 2.0 / 256 + 1e-6) continue;
    ++clear;
    SCOPED_TRACE(photo);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/" + photo));
    Result<image::Image> img = image::Decode(bytes.data(), bytes.size());
    ASSERT_TRUE(img.ok());
    e.SetImage(*img);
    e.Run();
    const engine::Prediction top = e.Top(1)[0];
    std::printf("  %-28s top-1 %4d  p=%.4f  (reference %4d  p=%.4f)\n", photo.c_str(), top.index, top.score,
                static_cast<int>(top5[0][0].number), top5[0][2].number);
    EXPECT_EQ(top.index, static_cast<int>(top5[0][0].number)) << "expected " << top5[0][1].string;
  }
  EXPECT_GE(clear, 8);

  const std::vector<uint8_t> raw_json = ReadFileOrFail(SharedPath("images/reference_raw_outputs_v1.json"));
  const testing::Json raw_refs = testing::ParseJson(std::string(raw_json.begin(), raw_json.end()))[GetParam()];
  for (const std::string photo : {"bird", "sunflower"}) {
    const std::string raw = photo + "_" + std::to_string(size) + ".rgb";
    SCOPED_TRACE(raw);
    const std::vector<uint8_t> rgb = ReadFileOrFail(SharedPath("images/" + raw));
    Result<image::Image> img = image::FromPixels(rgb.data(), size, size, 3, static_cast<size_t>(size) * 3);
    ASSERT_TRUE(img.ok());
    e.SetImage(*img);
    e.Run();
    const testing::Json& out = raw_refs[raw];
    size_t best = 0;
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].number > out[best].number) best = i;
    }
    EXPECT_EQ(e.Top(1)[0].index, static_cast<int>(best));
    // Float32 on the dequantized weights, without the quantized network's rounding of every
    // layer: at alpha 0.25, 0.10 away on bird_128.rgb (measured 2026-12-05).
    EXPECT_NEAR(e.scores()[best], out[best].number / 256.0, 0.15);
  }

  const size_t fused = e.ActivationBytes(), layered = engine::Engine::LayerByLayerActivationBytes(*net);
  std::printf("  %s: peak activation memory %zu bytes fused, %zu bytes layer by layer\n", GetParam(), fused, layered);
  EXPECT_LT(fused, layered);
}

INSTANTIATE_TEST_SUITE_P(Models, RealModelV1,
                         ::testing::Values("mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v1_0.5_160_quant.tflite",
                                           "mobilenet_v1_0.75_192_quant.tflite"));

TEST(RealModel, ThreadsGiveTheSameScores) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"));
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok());
  const std::vector<uint8_t> photo = ReadFileOrFail(SharedPath("images/cat.bmp"));
  Result<image::Image> img = image::Decode(photo.data(), photo.size());
  ASSERT_TRUE(img.ok());
  std::vector<float> one;
  for (int threads : {1, 2, 4}) {
    Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*net, threads);
    ASSERT_TRUE(e.ok());
    (*e)->SetImage(*img);
    for (int run = 0; run < 3; ++run) {
      (*e)->Run();
      std::vector<float> scores((*e)->scores(), (*e)->scores() + (*e)->num_classes());
      if (one.empty()) one = scores;
      ASSERT_EQ(scores, one) << threads << " threads, run " << run;
    }
  }
}

// Both real models read without their float weights: the float engine makes them from the
// stored integers (per tensor for uint8; per channel for int8, along the first dimension of
// the convolutions and the last of the depthwise ones) and gives the very same scores.
TEST(RealModel, FloatWeightsMadeFromTheStoredIntegersGiveTheSameScores) {
  const std::vector<uint8_t> photo = ReadFileOrFail(SharedPath("images/cat.bmp"));
  Result<image::Image> img = image::Decode(photo.data(), photo.size());
  ASSERT_TRUE(img.ok());
  for (const char* file : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("models/") + file));
    Result<Network> full = model::LoadTflite(bytes.data(), bytes.size());
    Result<Network> lean = model::LoadTflite(bytes.data(), bytes.size(), {}, engine::PlannedModel::ReadOptions());
    ASSERT_TRUE(full.ok() && lean.ok());
    ASSERT_TRUE(lean->stem.weights.empty() && lean->classifier.weights.empty());
    std::vector<float> scores[2];
    int i = 0;
    for (const Network* net : {&*full, &*lean}) {
      Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*net);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      (*e)->SetImage(*img);
      (*e)->Run();
      scores[i++].assign((*e)->scores(), (*e)->scores() + (*e)->num_classes());
    }
    EXPECT_EQ(scores[0], scores[1]);
    EXPECT_EQ(std::max_element(scores[1].begin(), scores[1].end()) - scores[1].begin(), 286);  // Egyptian cat
    // A layer with neither kind of weights is refused, not read past.
    Network broken = std::move(*lean);
    broken.blocks[5].project.q.weights.pop_back();
    Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(broken);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find("neither its float weights nor its stored integers"), std::string::npos);
  }
}

TEST(RealModel, BirdModelClassifiesTheChickadee) {
  std::unique_ptr<engine::Engine> e = LoadEngine("mobilenet_v2_1.0_224_inat_bird_quant.tflite");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->num_classes(), 965);
  const std::vector<uint8_t> text = ReadFileOrFail(SharedPath("models/inat_bird_labels.txt"));
  Result<std::vector<std::string>> labels = model::ParseLabels(std::string(text.begin(), text.end()), 965);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/bird.bmp"));
  Result<image::Image> img = image::Decode(bytes.data(), bytes.size());
  ASSERT_TRUE(img.ok());
  e->SetImage(*img);
  e->Run();
  const double sum = std::accumulate(e->scores(), e->scores() + 965, 0.0);
  EXPECT_NEAR(sum, 1.0, 1e-4);
  const engine::Prediction top = e->Top(1)[0];
  std::printf("  bird.bmp -> %s (%.3f)\n", (*labels)[top.index].c_str(), top.score);
  // The photo shows a chickadee (Poecile); the bird model names species.
  EXPECT_NE((*labels)[top.index].find("Poecile"), std::string::npos) << (*labels)[top.index];
}

}  // namespace
}  // namespace mnv2
