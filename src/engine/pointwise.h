// Float32 1x1 convolutions and dense layers, packed for kernels::Gemm from a layer's float
// weights or, for a network read without them, from its stored integers.
#ifndef MNV2_ENGINE_POINTWISE_H_
#define MNV2_ENGINE_POINTWISE_H_

#include <cstddef>
#include <vector>

#include "model/network.h"

namespace mnv2 {
namespace engine {

// A layer's float weights: the network's, or (a network read without them) made from the
// layer's stored integers (model::DequantizeWeights), which the plans pack straight away.
struct LayerWeights {
  const std::vector<float>& floats;
  const model::LayerQuantization& q;
  bool channels_last;  // depthwise layout

  // Whether there are `count` weights to plan from.
  bool Has(size_t count) const { return floats.empty() ? model::HasIntegerWeights(q, count) : floats.size() == count; }
  // Elements [begin, end): in the network's floats, or made into `buffer`.
  const float* Range(size_t begin, size_t end, std::vector<float>* buffer) const {
    if (!floats.empty()) return floats.data() + begin;
    buffer->resize(end - begin);
    model::DequantizeWeights(q, channels_last, begin, end, buffer->data());
    return buffer->data();
  }
};
inline LayerWeights WeightsOf(const model::Conv2D& c) { return {c.weights, c.q, false}; }
inline LayerWeights WeightsOf(const model::DepthwiseConv2D& d) { return {d.weights, d.q, true}; }
inline LayerWeights WeightsOf(const model::Classifier& d) { return {d.weights, d.q, false}; }

// The weights of one 1x1 convolution, packed for kernels::Gemm.
struct PointwisePlan {
  model::ConvGeometry g;
  float out_min = 0, out_max = 0;
  std::vector<float> packed;
};

PointwisePlan PlanPointwise(const model::ConvGeometry& g, model::Activation act, const LayerWeights& weights,
                            const std::vector<float>& bias);
// A fully connected layer: a 1x1 "convolution" over a 1x1 map.
PointwisePlan PlanDense(const model::Classifier& d);

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_POINTWISE_H_
