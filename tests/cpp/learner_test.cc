// The learner of new classes: its bookkeeping, each method on hand-made embeddings, training
// against a double-precision twin, and on real photos (../shared/images/imprinting) through
// the real models.
#include "learner/learner.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/planned.h"
#include "gtest/gtest.h"
#include "image/image.h"
#include "model/builder.h"
#include "test_data.h"

namespace mnv2 {
namespace learner {
namespace {

constexpr Method kMethods[] = {Method::kNearestNeighbors, Method::kImprinting, Method::kSoftmax};
const char* MethodName(Method m) {
  return m == Method::kNearestNeighbors ? "knn" : m == Method::kImprinting ? "imprinting" : "softmax";
}

// Clusters around a random centre per label, in `dims` dimensions.
struct Clusters {
  std::vector<std::vector<float>> centres;
  std::mt19937 rng{7};
  Clusters(int labels, int dims) {
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (int l = 0; l < labels; ++l) {
      centres.emplace_back(dims);
      for (float& x : centres.back()) x = n(rng);
    }
  }
  std::vector<float> Sample(int label, float noise) {
    std::normal_distribution<float> n(0.0f, noise);
    std::vector<float> x = centres[label];
    for (float& v : x) v = std::max(0.0f, v + 3.0f + n(rng));  // pooled ReLU6 features are >= 0
    return x;
  }
};

int Best(const std::vector<float>& scores) {
  return static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

TEST(LearnerTest, LabelsAndCounts) {
  Learner l(4);
  const float a[4] = {1, 0, 0, 0}, b[4] = {0, 1, 0, 0};
  EXPECT_EQ(*l.AddExample(a, "cat"), 1);
  EXPECT_EQ(*l.AddExample(b, "dog"), 1);
  EXPECT_EQ(*l.AddExample(a, "cat"), 2);
  ASSERT_EQ(l.num_labels(), 2);
  EXPECT_EQ(l.labels(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(l.num_examples(), 3);
  EXPECT_EQ(l.example_label(1), 1);
  // Stored normalized.
  const float c[4] = {3, 4, 0, 0};
  EXPECT_EQ(*l.AddExample(c, "dog"), 2);
  EXPECT_FLOAT_EQ(l.example(3)[0], 0.6f);
  EXPECT_FLOAT_EQ(l.example(3)[1], 0.8f);
  // A label without examples: added once, in order.
  ASSERT_TRUE(l.AddLabel("owl").ok());
  ASSERT_TRUE(l.AddLabel("cat").ok());
  EXPECT_EQ(l.labels(), (std::vector<std::string>{"cat", "dog", "owl"}));
  EXPECT_EQ(l.AddLabel("").code(), ErrorCode::kInvalidArgument);
}

TEST(LearnerTest, Errors) {
  Learner l(3);
  const float x[3] = {1, 2, 3}, nan[3] = {1, NAN, 3};
  std::vector<float> scores(4), ties(4);
  EXPECT_EQ(l.AddExample(x, "").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.AddExample(x, "two\nlines").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.AddExample(nan, "a").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.num_labels(), 0);
  for (Method m : kMethods) EXPECT_EQ(l.Classify(x, m, 3, scores.data(), ties.data()).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(l.AddExample(x, "a").ok());
  // One class is not a classifier.
  EXPECT_EQ(l.Classify(x, Method::kNearestNeighbors, 3, scores.data(), ties.data()).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.BeginTraining(TrainOptions()).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(l.AddExample(x, "b").ok());
  EXPECT_TRUE(l.Classify(x, Method::kNearestNeighbors, 3, scores.data(), ties.data()).ok());
  EXPECT_EQ(l.Classify(x, Method::kNearestNeighbors, 0, scores.data(), ties.data()).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.Classify(nan, Method::kImprinting, 3, scores.data(), ties.data()).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.Classify(x, Method::kSoftmax, 3, scores.data(), ties.data()).code(), ErrorCode::kInvalidArgument);
  for (TrainOptions bad : {TrainOptions{0}, TrainOptions{5, 0.0f}, TrainOptions{5, NAN}, TrainOptions{5, 0.1f, -1.0f},
                           TrainOptions{5, 0.1f, INFINITY}, TrainOptions{5, 0.1f, 0.0f, 0}}) {
    EXPECT_EQ(l.BeginTraining(bad).code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(l.TrainEpoch().status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.SetHead({1, 2}, {0, 0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.SetHead(std::vector<float>(6, NAN), {0, 0}).code(), ErrorCode::kInvalidArgument);
  // Still usable.
  EXPECT_TRUE(l.Classify(x, Method::kImprinting, 3, scores.data(), ties.data()).ok());
}

TEST(LearnerTest, NearestNeighborsVote) {
  Learner l(2);
  const float e[][2] = {{1, 0}, {0.9f, 0.1f}, {-1, 0}, {0, 1}, {0.1f, 1}, {0.2f, 1}};
  const char* labels[] = {"x", "x", "x", "y", "y", "y"};
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(l.AddExample(e[i], labels[i]).ok());
  std::vector<float> scores(2), ties(2);
  const float q[2] = {1, 0.05f};
  ASSERT_TRUE(l.Classify(q, Method::kNearestNeighbors, 3, scores.data(), ties.data()).ok());
  // Neighbours: the first two x, then the nearest y.
  EXPECT_FLOAT_EQ(scores[0], 2.0f / 3);
  EXPECT_FLOAT_EQ(scores[1], 1.0f / 3);
  EXPECT_GT(ties[0], ties[1]);
  // k is capped at the fewest examples of a label (3 here), so that each label can win.
  ASSERT_TRUE(l.Classify(q, Method::kNearestNeighbors, 50, scores.data(), ties.data()).ok());
  EXPECT_FLOAT_EQ(scores[0], 2.0f / 3);
  // With one example of y, one neighbour votes.
  Learner lone_y(2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(lone_y.AddExample(e[i], "x").ok());
  const float lone[2] = {0.2f, 1};
  ASSERT_TRUE(lone_y.AddExample(lone, "y").ok());
  ASSERT_TRUE(lone_y.Classify(q, Method::kNearestNeighbors, 3, scores.data(), ties.data()).ok());
  EXPECT_FLOAT_EQ(scores[0], 1.0f);
  EXPECT_FLOAT_EQ(scores[1], 0.0f);
  ASSERT_TRUE(lone_y.Classify(lone, Method::kNearestNeighbors, 3, scores.data(), ties.data()).ok());
  EXPECT_FLOAT_EQ(scores[1], 1.0f);
}

TEST(LearnerTest, ImprintingIsScaledCosineWithMeans) {
  Learner l(2);
  const float a[2] = {1, 0}, b[2] = {0, 2}, c[2] = {1, 1};
  ASSERT_TRUE(l.AddExample(a, "a").ok());
  ASSERT_TRUE(l.AddExample(b, "b").ok());
  ASSERT_TRUE(l.AddExample(c, "b").ok());
  std::vector<float> scores(2), logits(2);
  const float q[2] = {2, 1};
  ASSERT_TRUE(l.Classify(q, Method::kImprinting, 1, scores.data(), logits.data()).ok());
  // Mean of b: (0, 1) + (0.707, 0.707), normalized.
  const double mb[2] = {0.70710678 / 2, (1 + 0.70710678) / 2};
  const double nb = std::hypot(mb[0], mb[1]);
  const double qn[2] = {2 / std::sqrt(5.0), 1 / std::sqrt(5.0)};
  EXPECT_NEAR(logits[0], kImprintScale * qn[0], 1e-5);
  EXPECT_NEAR(logits[1], kImprintScale * (qn[0] * mb[0] + qn[1] * mb[1]) / nb, 1e-5);
  EXPECT_NEAR(scores[0] + scores[1], 1.0, 1e-6);
  EXPECT_NEAR(scores[0], 1.0 / (1.0 + std::exp(static_cast<double>(logits[1]) - logits[0])), 1e-6);
}

// Full-batch training (the order of examples then does not matter) against a plain
// double-precision implementation of the same SGD with momentum and weight decay.
TEST(LearnerTest, TrainingMatchesDoubleTwin) {
  const int F = 37, C = 3, n = 23;
  Clusters clusters(C, F);
  Learner l(F);
  for (int i = 0; i < n; ++i) ASSERT_TRUE(l.AddExample(clusters.Sample(i % C, 1.0f).data(), std::to_string(i % C)).ok());
  TrainOptions o;
  o.epochs = 4;
  o.batch_size = n;
  o.learning_rate = 0.3f;
  o.l2 = 0.01f;
  ASSERT_TRUE(l.BeginTraining(o).ok());
  Result<const Head*> start = l.HeadOf(Method::kImprinting);
  ASSERT_TRUE(start.ok());
  std::vector<double> w((*start)->weights.begin(), (*start)->weights.end()), b(C, 0.0), vw(w.size()), vb(C);
  for (int e = 0; e < o.epochs; ++e) {
    std::vector<double> gw(w.size()), gb(C);
    double loss = 0;
    for (int i = 0; i < n; ++i) {
      const float* x = l.example(i);
      std::vector<double> z(C);
      double max = -1e300, sum = 0;
      for (int c = 0; c < C; ++c) {
        z[c] = b[c];
        for (int f = 0; f < F; ++f) z[c] += w[c * F + f] * x[f];
        max = std::max(max, z[c]);
      }
      for (int c = 0; c < C; ++c) sum += std::exp(z[c] - max);
      for (int c = 0; c < C; ++c) {
        const double p = std::exp(z[c] - max) / sum;
        const double g = (p - (c == l.example_label(i))) / n;
        if (c == l.example_label(i)) loss -= std::log(p);
        gb[c] += g;
        for (int f = 0; f < F; ++f) gw[c * F + f] += g * x[f];
      }
    }
    for (size_t j = 0; j < w.size(); ++j) {
      vw[j] = 0.9 * vw[j] - o.learning_rate * (gw[j] + o.l2 * w[j]);
      w[j] += vw[j];
    }
    for (int c = 0; c < C; ++c) {
      vb[c] = 0.9 * vb[c] - o.learning_rate * gb[c];
      b[c] += vb[c];
    }
    Result<float> got = l.TrainEpoch();
    ASSERT_TRUE(got.ok());
    EXPECT_NEAR(*got, loss / n, 1e-4);
  }
  EXPECT_EQ(l.TrainEpoch().status().code(), ErrorCode::kInvalidArgument);  // all epochs done
  Result<const Head*> trained = l.HeadOf(Method::kSoftmax);
  ASSERT_TRUE(trained.ok());
  const Head* head = *trained;
  for (size_t j = 0; j < w.size(); ++j) ASSERT_NEAR(head->weights[j], w[j], 1e-4) << j;
  for (int c = 0; c < C; ++c) EXPECT_NEAR(head->bias[c], b[c], 1e-5);
}

// Mini-batches: the seed fixes the order, so the same options give the same head.
TEST(LearnerTest, TrainingIsDeterministicForASeed) {
  const int F = 20, C = 3;
  Clusters clusters(C, F);
  Learner l(F);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(l.AddExample(clusters.Sample(i % C, 2.0f).data(), std::to_string(i % C)).ok());
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 4;
  auto train = [&](uint32_t seed) {
    o.seed = seed;
    EXPECT_TRUE(l.BeginTraining(o).ok());
    for (int e = 0; e < o.epochs; ++e) EXPECT_TRUE(l.TrainEpoch().ok());
    return (*l.HeadOf(Method::kSoftmax))->weights;
  };
  const std::vector<float> first = train(1);
  EXPECT_EQ(train(1), first);
  EXPECT_NE(train(2), first);
}

// Full-batch gradient descent from the imprinted head lowers the loss, and training reaches a
// head that separates noisy clusters.
TEST(LearnerTest, TrainingLearnsClusters) {
  const int F = 64, C = 5;
  Clusters clusters(C, F);
  Learner l(F);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(l.AddExample(clusters.Sample(i % C, 3.0f).data(), "c" + std::to_string(i % C)).ok());
  TrainOptions o;
  o.epochs = 30;
  ASSERT_TRUE(l.BeginTraining(o).ok());
  float first = 0, last = 0;
  for (int e = 0; e < o.epochs; ++e) {
    Result<float> loss = l.TrainEpoch();
    ASSERT_TRUE(loss.ok());
    (e == 0 ? first : last) = *loss;
  }
  EXPECT_LT(last, first * 0.5f);
  // On its own examples the trained head does better than the imprinted one it started from
  // (nearest class means, already near the best for round clusters); on new samples it stays good.
  std::vector<float> scores(C), ties(C);
  int fit[2] = {0, 0}, held_out = 0;
  for (int i = 0; i < l.num_examples(); ++i) {
    for (Method m : {Method::kImprinting, Method::kSoftmax}) {
      ASSERT_TRUE(l.Classify(l.example(i), m, 3, scores.data(), ties.data()).ok());
      fit[m == Method::kSoftmax] += Best(scores) == l.example_label(i);
    }
  }
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(l.Classify(clusters.Sample(i % C, 3.0f).data(), Method::kSoftmax, 3, scores.data(), ties.data()).ok());
    held_out += Best(scores) == i % C;
  }
  EXPECT_GT(fit[1], fit[0]);
  EXPECT_GE(held_out, 400);
  // A new example drops the trained head.
  ASSERT_TRUE(l.AddExample(clusters.Sample(0, 1.0f).data(), "c0").ok());
  EXPECT_FALSE(l.trained());
}

// The check: with the training photos of ../shared/images/imprinting alone, every method
// classifies every test photo correctly, on the real models.
class LearnerRealPhotosTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LearnerRealPhotosTest, EveryMethodClassifiesEveryTestPhoto) {
  const std::vector<uint8_t> bytes = testing::ReadFileOrFail(testing::SharedPath(std::string("models/") + GetParam()));
  Result<model::Network> net = model::LoadTflite(bytes.data(), bytes.size(), model::Limits(),
                                                 engine::PlannedModel::ReadOptions());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  Result<engine::PlannedModel> planned = engine::PlannedModel::Plan(*net, engine::Precision::kAuto, 1);
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  auto embed = [&](const std::string& name) {
    const std::vector<uint8_t> b = testing::ReadFileOrFail(testing::SharedPath("images/imprinting/" + name + ".bmp"));
    Result<image::Image> img = image::Decode(b.data(), b.size());
    EXPECT_TRUE(img.ok());
    planned->SetImage(*img, image::Fit::kStretch);
    planned->Run();
    return std::vector<float>(planned->features(), planned->features() + net->feature_size());
  };
  Learner l(net->feature_size());
  for (const char* train : {"cat_train_0", "dog_train_0", "hotdog_train_0", "hotdog_train_1"}) {
    const std::string name = train;
    ASSERT_TRUE(l.AddExample(embed(name).data(), name.substr(0, name.find('_'))).ok());
  }
  ASSERT_TRUE(l.BeginTraining(TrainOptions()).ok());
  // While it trains there is no softmax head; after the last epoch there is.
  ASSERT_TRUE(l.TrainEpoch().ok());
  EXPECT_FALSE(l.trained());
  for (int e = 1; e < TrainOptions().epochs; ++e) ASSERT_TRUE(l.TrainEpoch().ok());
  EXPECT_TRUE(l.trained());
  std::vector<float> scores(3), ties(3);
  for (const char* label : {"cat", "dog", "hotdog"}) {
    const std::vector<float> x = embed(std::string(label) + "_test_0");
    for (Method m : kMethods) {
      SCOPED_TRACE(std::string(label) + " " + MethodName(m));
      ASSERT_TRUE(l.Classify(x.data(), m, 1, scores.data(), ties.data()).ok());
      EXPECT_EQ(l.label(Best(scores)), label);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, LearnerRealPhotosTest,
                         ::testing::Values("mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
                                           "mobilenet_v1_0.5_160_quant.tflite"));

}  // namespace
}  // namespace learner
}  // namespace mnv2
