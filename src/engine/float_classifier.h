// The float32 layers after the global pooling: [the L2 normalization of the features,] the
// hidden dense layers of a Keras head, the classifier and the softmax. The float engine ends
// with them, and so does the integer engine when a quantized backbone has a float classifier
// (model::QuantizedGraph::float_classifier: an exported learned head).
#ifndef MNV2_ENGINE_FLOAT_CLASSIFIER_H_
#define MNV2_ENGINE_FLOAT_CLASSIFIER_H_

#include <vector>

#include "engine/pointwise.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

class FloatClassifier {
 public:
  FloatClassifier() = default;
  // Needs every layer's float weights or stored integers (LayerWeights).
  explicit FloatClassifier(const model::Network& net);

  int num_classes() const { return classifier_.g.out_c; }
  // features: the pooled features; logits and scores: num_classes() floats each (the scores are
  // the logits when there is no softmax).
  void Run(const float* features, float* logits, float* scores);

 private:
  bool normalize_ = false;
  std::vector<float> normalized_;
  std::vector<PointwisePlan> hidden_;
  std::vector<float> hidden_out_;  // their outputs, alternating between its two halves
  PointwisePlan classifier_;
  bool softmax_ = true;
  float softmax_beta_ = 1.0f;
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_FLOAT_CLASSIFIER_H_
