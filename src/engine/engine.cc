#include "engine/engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "kernels/kernels.h"

namespace mnv2 {
namespace engine {
namespace {

using model::Activation;
using model::ConvGeometry;

size_t OutputFloats(const ConvGeometry& g) { return static_cast<size_t>(g.out_h) * g.out_w * g.out_c; }
size_t InputFloats(const ConvGeometry& g) { return static_cast<size_t>(g.in_h) * g.in_w * g.in_c; }

PointwisePlan PlanPointwise(const ConvGeometry& g, Activation act, const std::vector<float>& weights,
                            const std::vector<float>& bias) {
  PointwisePlan p;
  p.g = g;
  model::ActivationRange(act, &p.out_min, &p.out_max);
  p.packed.resize(kernels::PackedGemmWeightsFloats(g.in_c, g.out_c));
  kernels::PackGemmWeights(weights.data(), bias.data(), g.in_c, g.out_c, p.packed.data());
  return p;
}

kernels::ConvShape ToConvShape(const ConvGeometry& g) {
  return {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w, g.stride, g.pad_top, g.pad_left};
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const model::Network& net) {
  std::unique_ptr<Engine> e(new Engine());
  e->input_spec_ = net.input;

  e->stem_g_ = net.stem.g;
  model::ActivationRange(net.stem.activation, &e->stem_min_, &e->stem_max_);
  const kernels::ConvShape stem_shape = ToConvShape(net.stem.g);
  e->stem_packed_.resize(kernels::PackedConvWeightsFloats(stem_shape));
  kernels::PackConvWeights(stem_shape, net.stem.weights.data(), net.stem.bias.data(), e->stem_packed_.data());

  size_t max_act = OutputFloats(net.stem.g), max_expanded = 0, max_filtered = 0;
  for (const model::InvertedResidual& b : net.blocks) {
    InvertedResidualPlan plan;
    plan.has_expand = b.has_expand;
    if (b.has_expand) {
      plan.expand = PlanPointwise(b.expand.g, b.expand.activation, b.expand.weights, b.expand.bias);
      max_expanded = std::max(max_expanded, OutputFloats(b.expand.g));
    }
    plan.depthwise.g = b.depthwise.g;
    model::ActivationRange(b.depthwise.activation, &plan.depthwise.out_min, &plan.depthwise.out_max);
    plan.depthwise.weights = b.depthwise.weights;
    plan.depthwise.bias = b.depthwise.bias;
    max_filtered = std::max(max_filtered, OutputFloats(b.depthwise.g));
    plan.project = PlanPointwise(b.project.g, b.project.activation, b.project.weights, b.project.bias);
    plan.residual = b.residual;
    max_act = std::max(max_act, OutputFloats(b.project.g));
    e->blocks_.push_back(std::move(plan));
  }
  e->head_ = PlanPointwise(net.head.g, net.head.activation, net.head.weights, net.head.bias);
  max_act = std::max(max_act, OutputFloats(net.head.g));

  ConvGeometry cg;
  cg.in_h = cg.in_w = cg.out_h = cg.out_w = 1;
  cg.in_c = net.classifier.features;
  cg.out_c = net.classifier.classes;
  e->classifier_ = PlanPointwise(cg, net.classifier.activation, net.classifier.weights, net.classifier.bias);
  e->softmax_ = net.softmax;
  e->softmax_beta_ = net.softmax_beta;

  e->input_.assign(InputFloats(net.stem.g), 0.0f);
  e->act_a_.assign(max_act, 0.0f);
  e->act_b_.assign(max_act, 0.0f);
  e->expanded_.assign(max_expanded, 0.0f);
  e->filtered_.assign(max_filtered, 0.0f);
  e->features_.assign(net.head.g.out_c, 0.0f);
  e->scores_.assign(net.classifier.classes, 0.0f);
  return e;
}

void Engine::SetImage(const image::Image& img, image::Fit fit) {
  const int h = input_spec_.height, w = input_spec_.width;
  if (img.width == w && img.height == h) {
    image::Normalize(img, input_spec_.scale, input_spec_.zero_point, input_.data());
  } else {
    image::Normalize(image::Resize(img, w, h, fit), input_spec_.scale, input_spec_.zero_point, input_.data());
  }
}

void Engine::RunPointwise(const PointwisePlan& p, const float* in, float* out) const {
  const int pixels = p.g.in_h * p.g.in_w;
  kernels::Gemm(in, p.g.in_c, pixels, p.g.in_c, p.packed.data(), p.g.out_c, out, p.g.out_c, p.out_min, p.out_max);
}

void Engine::Run() {
  kernels::ConvDirect(ToConvShape(stem_g_), input_.data(), stem_packed_.data(), act_a_.data(), 0, stem_g_.out_h,
                      stem_min_, stem_max_);
  float* x = act_a_.data();  // block input
  float* y = act_b_.data();  // block output
  for (const InvertedResidualPlan& b : blocks_) {
    const float* dw_in = x;
    if (b.has_expand) {
      RunPointwise(b.expand, x, expanded_.data());
      dw_in = expanded_.data();
    }
    const ConvGeometry& g = b.depthwise.g;
    const kernels::DepthwiseShape ds{g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.stride, g.pad_top, g.pad_left};
    kernels::DepthwiseConv3x3(ds, dw_in, b.depthwise.weights.data(), b.depthwise.bias.data(), filtered_.data(), 0,
                              g.out_h, b.depthwise.out_min, b.depthwise.out_max);
    RunPointwise(b.project, filtered_.data(), y);
    if (b.residual) {
      kernels::Add(y, x, OutputFloats(b.project.g), y, -std::numeric_limits<float>::infinity(),
                   std::numeric_limits<float>::infinity());
    }
    std::swap(x, y);
  }
  RunPointwise(head_, x, y);
  kernels::GlobalAveragePool(y, static_cast<size_t>(head_.g.out_h) * head_.g.out_w, head_.g.out_c, features_.data());
  RunPointwise(classifier_, features_.data(), scores_.data());
  if (softmax_) kernels::Softmax(scores_.data(), num_classes(), softmax_beta_, scores_.data());
}

std::vector<Prediction> Engine::Top(int k) const {
  std::vector<Prediction> all(scores_.size());
  for (size_t i = 0; i < scores_.size(); ++i) all[i] = {static_cast<int>(i), scores_[i]};
  k = std::max(0, std::min<int>(k, static_cast<int>(all.size())));
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const Prediction& a, const Prediction& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  all.resize(k);
  return all;
}

}  // namespace engine
}  // namespace mnv2
