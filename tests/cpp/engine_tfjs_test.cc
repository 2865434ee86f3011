// TF.js models in the engine: dense heads with hidden layers, and the real nsfwjs models
// against TensorFlow.js itself.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/engine.h"
#include "model/builder.h"
#include "model/tfjs.h"
#include "test_data.h"
#include "tfjs_writer.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using model::Network;

TEST(TfjsEngine, RunsHiddenDenseLayers) {
  testing::SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 48;
  spec.classes = 5;
  spec.blocks = 5;
  const Network source = testing::SyntheticNetwork(spec);
  for (const std::vector<int>& sizes : {std::vector<int>{}, {24}, {33, 16}, {9, 40, 7}}) {
    SCOPED_TRACE(sizes.size());
    Network net = source;
    testing::AddDenseHead(&net, sizes, 5);
    const testing::TfjsFiles f = testing::WriteLayersModel(net);
    Result<Network> loaded = model::LoadTfjs(f.json.data(), f.json.size(), f.weights.data(), f.weights.size());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*loaded);
    ASSERT_TRUE(e.ok());
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    float* in = (*e)->input();
    for (int i = 0; i < spec.resolution * spec.resolution * 3; ++i) in[i] = u(rng);
    (*e)->Run();

    // The head in double precision from the engine's pooled features.
    std::vector<double> x((*e)->features(), (*e)->features() + loaded->feature_size());
    auto dense = [](const model::Classifier& d, const std::vector<double>& in) {
      std::vector<double> out(d.classes);
      for (int o = 0; o < d.classes; ++o) {
        double sum = d.bias[o];
        for (int i = 0; i < d.features; ++i) sum += static_cast<double>(d.weights[static_cast<size_t>(o) * d.features + i]) * in[i];
        out[o] = d.activation == model::Activation::kRelu ? std::max(sum, 0.0) : sum;
      }
      return out;
    };
    for (const model::Classifier& d : loaded->hidden) x = dense(d, x);
    x = dense(loaded->classifier, x);
    double max = x[0], total = 0;
    for (double v : x) max = std::max(max, v);
    for (double& v : x) total += (v = std::exp(v - max));
    for (int c = 0; c < loaded->num_classes(); ++c) EXPECT_NEAR((*e)->scores()[c], x[c] / total, 1e-5) << c;
  }
}

// Probabilities TensorFlow.js 4.22 (tfjs-layers / tfjs-converter, CPU backend) gives for the
// raw 224x224 photos with pixels divided by 255, as nsfwjs feeds them.
struct Reference {
  const char* model;
  std::vector<std::string> shards;
  const char* image;
  float probabilities[5];  // Drawing, Hentai, Neutral, Porn, Sexy
};

const Reference kReferences[] = {
    {"mobilenet_v2", {"group1-shard1of1"}, "bird.rgb", {0.02997511f, 0.001869862f, 0.9547347f, 0.01007553f, 0.003344783f}},
    {"mobilenet_v2", {"group1-shard1of1"}, "sunflower.rgb", {0.1305039f, 0.00004386043f, 0.8665866f, 0.00001037286f, 0.002855198f}},
    {"mobilenet_v2_mid", {"group1-shard1of2", "group1-shard2of2"}, "bird.rgb",
     {0.8910153f, 0.0006823349f, 0.1082652f, 0.00001622070f, 0.00002088310f}},
    {"mobilenet_v2_mid", {"group1-shard1of2", "group1-shard2of2"}, "sunflower.rgb",
     {0.3626716f, 0.002655868f, 0.6346526f, 0.000002084984f, 0.00001793438f}},
};

TEST(TfjsEngine, NsfwjsModelsMatchTensorFlowJs) {
  for (const Reference& r : kReferences) {
    SCOPED_TRACE(std::string(r.model) + " " + r.image);
    const std::string dir = testing::FixturesDir() + "/nsfwjs/" + r.model;
    FILE* probe = std::fopen((dir + "/model.json").c_str(), "rb");
    if (!probe) GTEST_SKIP() << "nsfwjs is not installed (npm ci), or its models were not decoded";
    std::fclose(probe);
    const std::vector<uint8_t> json = testing::ReadFileOrFail(dir + "/model.json");
    std::vector<uint8_t> weights;
    for (const std::string& s : r.shards) {
      const std::vector<uint8_t> shard = testing::ReadFileOrFail(dir + "/" + s);
      weights.insert(weights.end(), shard.begin(), shard.end());
    }
    Result<Network> net = model::LoadTfjs(reinterpret_cast<const char*>(json.data()), json.size(), weights.data(),
                                          weights.size(), {0, 1});
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    Result<std::unique_ptr<engine::Engine>> e = engine::Engine::Create(*net);
    ASSERT_TRUE(e.ok());
    const std::vector<uint8_t> pixels = testing::ReadFileOrFail(testing::SharedPath(std::string("images/") + r.image));
    ASSERT_EQ(pixels.size(), 224u * 224 * 3);
    for (size_t i = 0; i < pixels.size(); ++i) (*e)->input()[i] = net->input.scale * (pixels[i] - net->input.zero_point);
    (*e)->Run();
    for (int c = 0; c < 5; ++c) EXPECT_NEAR((*e)->scores()[c], r.probabilities[c], 1e-4) << c;
  }
}

}  // namespace
}  // namespace mnv2
