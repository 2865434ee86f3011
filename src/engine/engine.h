// Runs a MobileNetV2-family Network: plans once (packed weights, one memory
// arena), then classifies many inputs with no allocation per call.
#ifndef MNV2_ENGINE_ENGINE_H_
#define MNV2_ENGINE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "image/image.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

struct Prediction {
  int index = 0;
  float score = 0.0f;
};

// The weights of one 1x1 convolution, packed for kernels::Gemm.
struct PointwisePlan {
  model::ConvGeometry g;
  float out_min = 0, out_max = 0;
  std::vector<float> packed;
};

struct DepthwisePlan {
  model::ConvGeometry g;
  float out_min = 0, out_max = 0;
  std::vector<float> weights, bias;
};

// One inverted residual block: [expand] -> depthwise -> project [+ input].
struct InvertedResidualPlan {
  bool has_expand = false;
  PointwisePlan expand;
  DepthwisePlan depthwise;
  PointwisePlan project;
  bool residual = false;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(const model::Network& network);

  const model::InputSpec& input_spec() const { return input_spec_; }
  int num_classes() const { return classifier_.g.out_c; }
  int feature_size() const { return head_.g.out_c; }

  // Converts an RGB image of any size to the input tensor: resized with `fit`, then mapped
  // through the input's quantization (real = scale * (pixel - zero_point)).
  void SetImage(const image::Image& img, image::Fit fit = image::Fit::kStretch);
  // Raw input tensor [height][width][3] as reals; fill it directly instead of SetImage.
  float* input() { return input_.data(); }

  void Run();

  // Results of the last Run().
  const float* features() const { return features_.data(); }  // pooled, before the classifier
  const float* scores() const { return scores_.data(); }       // probabilities (or logits without softmax)
  std::vector<Prediction> Top(int k) const;

 private:
  Engine() = default;
  void RunPointwise(const PointwisePlan& p, const float* in, float* out) const;

  model::InputSpec input_spec_;
  // Stem: a direct convolution with packed weights.
  model::ConvGeometry stem_g_;
  float stem_min_ = 0, stem_max_ = 0;
  std::vector<float> stem_packed_;
  std::vector<InvertedResidualPlan> blocks_;
  PointwisePlan head_;
  PointwisePlan classifier_;  // a 1x1 "convolution" over the pooled 1x1 map
  bool softmax_ = true;
  float softmax_beta_ = 1.0f;

  // The arena: block input/output ping-pong plus the expanded and filtered tensors.
  std::vector<float> input_, act_a_, act_b_, expanded_, filtered_;
  std::vector<float> features_, scores_;
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_ENGINE_H_
