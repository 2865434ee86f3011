// Runs a MobileNetV2-family Network: plans once (packed weights, one memory
// arena), then classifies many inputs with no allocation per call.
//
// Inverted residual blocks run fused, band by band, as the MobileNetV2 paper
// suggests: a few input rows are expanded (1x1) into a small ring buffer, filtered
// (depthwise 3x3) and projected (1x1) straight into the block's output, so the
// wide expanded tensor never exists whole. The stem feeds the first block the
// same way when that block has no expansion.
#ifndef MNV2_ENGINE_ENGINE_H_
#define MNV2_ENGINE_ENGINE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "engine/bands.h"
#include "engine/float_classifier.h"
#include "engine/pointwise.h"
#include "engine/segmentation.h"
#include "engine/workers.h"
#include "image/image.h"
#include "kernels/upsample.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

struct Prediction {
  int index = 0;
  float score = 0.0f;
  float logit = 0.0f;  // the class's pre-softmax logit (its score when the model has no softmax)
};

// The k best of classes [first, n), best first: by score, equal scores by logit (a quantized
// model's probabilities come in steps of 1/256, so most tie at 0), then by lower index.
std::vector<Prediction> TopScores(const float* scores, const float* logits, size_t n, int k, int first = 0);

struct DepthwisePlan {
  model::ConvGeometry g;
  float out_min = 0, out_max = 0;
  std::vector<float> weights, bias;
};

// Where a block's depthwise input rows come from.
enum class RowSource {
  kExpand,  // the 1x1 expansion of the block input, computed into the ring
  kStem,    // the stem convolution of the image, computed into the ring
  kInput,   // the block input itself (a block without expansion)
  // The 1x1 expansion of the whole block input, computed by all threads before the
  // depthwise (QuantizedEngine, small blocks with several threads: no row expanded twice).
  kExpanded,
};

// One inverted residual block: [expand] -> depthwise -> project [+ input].
struct InvertedResidualPlan {
  RowSource source = RowSource::kExpand;
  PointwisePlan expand;
  DepthwisePlan depthwise;
  PointwisePlan project;
  bool residual = false;
  // The depthwise ends in a ReLU, whose zeros the projection skips (kernels::GemmSkippingZeros).
  bool project_skips_zeros = false;
  int band_rows = 1;  // output rows per step
  int ring_rows = 0;  // depthwise input rows kept in the ring (RingRows; 0: read in place)
  // Places in the arena, in floats: the block's input and output, its ring of depthwise
  // input rows and its band of depthwise output rows (the projection's input; after the
  // room GemmSkippingZeros needs).
  size_t in_offset = 0, out_offset = 0, ring_offset = 0, band_offset = 0;
};

// A segmentation network's head (model::SegmentationHead) in float32, its buffers in
// Engine::head_arena_.
struct SegmentationPlan {
  SegmentationLayout layout;
  PointwisePlan pool_conv, map_conv;
  std::vector<PointwisePlan> convs;
};

class Engine {
 public:
  // threads > 1: every block's output rows are shared among that many threads (each with its
  // own ring and band buffers; Workers::Clamp bounds the count). The results do not depend on it.
  // A network read without its float weights is planned from its layers' stored integers,
  // with the same results.
  static Result<std::unique_ptr<Engine>> Create(const model::Network& network, int threads = 1);

  // The threads the next Run uses (Workers::running: under Emscripten, fewer until all have started).
  int threads() const { return workers_->running(); }

  const model::InputSpec& input_spec() const { return input_spec_; }
  int num_classes() const { return classifier_.num_classes(); }
  int feature_size() const { return static_cast<int>(features_.size()); }

  // Converts an RGB image of any size to the input tensor: resized with `fit`, then mapped
  // through the input's quantization (real = scale * (pixel - zero_point)).
  void SetImage(const image::Image& img, image::Fit fit = image::Fit::kStretch);
  // Raw input tensor [height][width][3] as reals; fill it directly instead of SetImage.
  float* input() { return input_.data(); }

  void Run();

  model::Task task() const { return task_; }
  // As QuantizedEngine::Segment, from float logits.
  void Segment(const std::vector<kernels::ResizeTap>& ys, const std::vector<kernels::ResizeTap>& xs, uint8_t* mask);
  int logits_height() const { return seg_.layout.height(); }
  int logits_width() const { return seg_.layout.width; }

  // Results of the last Run().
  const float* features() const { return features_.data(); }  // pooled, before the classifier
  const float* scores() const { return scores_.data(); }       // probabilities (or logits without softmax)
  const float* logits() const { return logits_.data(); }       // the classifier's output, before the softmax
  // The k best classes from `first` on (TopScores).
  std::vector<Prediction> Top(int k, int first = 0) const {
    return TopScores(scores_.data(), logits_.data(), scores_.size(), k, first);
  }

  // Peak activation memory of this plan in bytes (arena and scratch, not weights or the input image),
  // and what running layer by layer, each tensor whole, would need.
  size_t ActivationBytes() const {
    return (arena_.size() + head_arena_.size()) * sizeof(float) + columns_.size() * sizeof(uint32_t);
  }
  // (element_bytes: 4 for float32 tensors, 1 for 8-bit ones.)
  static size_t LayerByLayerActivationBytes(const model::Network& network, size_t element_bytes = sizeof(float));

 private:
  Engine() = default;
  void PlanMemory(const model::Network& network);
  void PlanSegmentation(const model::Network& network);
  void RunSegmentationShare(int t);
  // Thread t's share of the network: its rows of every block, with a barrier after each.
  void RunShare(int t);
  // Block b on the rows thread t claims.
  void RunBlock(const InvertedResidualPlan& b, const float* in, float* out, Workers::Claims& rows, int t);
  // The kernels of the stem and of the blocks planned so far, on zeros, or ones where zeros
  // would be skipped (engine/warm_up.h).
  void WarmUp() const;
  void ProduceRows(const InvertedResidualPlan& b, const float* in, int first, int last, int t);
  const float* RingRow(const InvertedResidualPlan& b, const float* in, int row, int t) const;

  model::Task task_ = model::Task::kClassification;
  SegmentationPlan seg_;
  std::vector<float> head_arena_;
  std::vector<std::vector<float>> upsample_scratch_;  // one per thread
  model::InputSpec input_spec_;
  // The stem: a direct convolution with packed weights.
  model::ConvGeometry stem_g_;
  float stem_min_ = 0, stem_max_ = 0;
  std::vector<float> stem_packed_;
  bool stem_fused_ = false;  // computed band by band inside block 0
  size_t stem_offset_ = 0;   // where the stem writes when it is not fused
  std::vector<InvertedResidualPlan> blocks_;
  PointwisePlan head_;  // none (packed empty) in MobileNetV1
  size_t head_in_offset_ = 0;
  size_t pooled_offset_ = 0;  // the map the pooling averages: the head's output, or the last block's
  int pooled_pixels_ = 0;
  FloatClassifier classifier_;  // from the pooled features to the scores

  std::vector<float> input_;  // the image as the model's input tensor
  std::vector<float> arena_;  // every activation and block scratch buffer, placed by PlanMemory
  size_t scratch_stride_ = 0;  // floats between two threads' ring and band buffers
  // Each thread's column lists for GemmSkippingZeros, columns_stride_ apart.
  std::vector<uint32_t> columns_;
  size_t columns_stride_ = 0;
  std::unique_ptr<Workers> workers_;
  std::vector<float> features_, logits_, scores_;
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_ENGINE_H_
