#include "engine/float_classifier.h"

#include <algorithm>

#include "kernels/kernels.h"

namespace mnv2 {
namespace engine {

FloatClassifier::FloatClassifier(const model::Network& net)
    : normalize_(net.normalize_features), softmax_(net.softmax), softmax_beta_(net.softmax_beta) {
  if (normalize_) normalized_.resize(net.feature_size());
  size_t widest = 0;
  for (const model::Classifier& d : net.hidden) {
    hidden_.push_back(PlanDense(d));
    widest = std::max<size_t>(widest, d.classes);
  }
  hidden_out_.resize(2 * widest);
  classifier_ = PlanDense(net.classifier);
}

void FloatClassifier::Run(const float* features, float* logits, float* scores) {
  const float* x = features;
  if (normalize_) {
    kernels::L2Normalize(x, normalized_.size(), normalized_.data());
    x = normalized_.data();
  }
  for (size_t i = 0; i < hidden_.size(); ++i) {
    const PointwisePlan& d = hidden_[i];
    float* y = hidden_out_.data() + (i % 2) * (hidden_out_.size() / 2);
    kernels::Gemm(x, d.g.in_c, 1, d.g.in_c, d.packed.data(), d.g.out_c, y, d.g.out_c, d.out_min, d.out_max);
    x = y;
  }
  const PointwisePlan& c = classifier_;
  kernels::Gemm(x, c.g.in_c, 1, c.g.in_c, c.packed.data(), c.g.out_c, logits, c.g.out_c, c.out_min, c.out_max);
  if (softmax_) {
    kernels::Softmax(logits, c.g.out_c, softmax_beta_, scores);
  } else {
    std::copy(logits, logits + c.g.out_c, scores);
  }
}

}  // namespace engine
}  // namespace mnv2
