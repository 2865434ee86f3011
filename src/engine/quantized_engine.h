// Runs a quantized MobileNetV2-family Network in integer arithmetic, as TFLite's
// reference kernels define it: 8-bit activations, int32 accumulators and biases,
// fixed-point requantization. Same plan-once, run-many structure as Engine, and the
// same fused inverted residual blocks: a few rows are expanded into an 8-bit ring
// buffer, filtered and projected band by band (with threads, the blocks from 28x28 on hold
// their whole expansion instead: see RowSource::kExpanded).
//
// Activations are carried as uint8 throughout (an int8 tensor as value + 128; see
// kernels/quantized_kernels.h), so uint8 per-tensor and int8 per-channel models run
// the same kernels.
#ifndef MNV2_ENGINE_QUANTIZED_ENGINE_H_
#define MNV2_ENGINE_QUANTIZED_ENGINE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "engine/bands.h"
#include "engine/float_classifier.h"
#include "engine/segmentation.h"
#include "engine/workers.h"
#include "image/image.h"
#include "kernels/quantized_kernels.h"
#include "kernels/upsample.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

// A quantized 1x1 convolution (or the stem as a GEMM over its im2col rows), packed for QGemm.
struct QPointwisePlan {
  model::ConvGeometry g;
  int depth = 0;  // k of the GEMM
  std::vector<uint8_t> packed;
};

struct QDepthwisePlan {
  model::ConvGeometry g;
  std::vector<uint8_t> packed;
};

struct QInvertedResidualPlan {
  RowSource source = RowSource::kExpand;
  QPointwisePlan expand;
  QDepthwisePlan depthwise;
  QPointwisePlan project;
  bool residual = false;
  kernels::QAddParams add;
  int band_rows = 1;  // output rows per step
  int ring_rows = 0;  // depthwise input rows kept in the ring (RingRows; 0: read in place)
  int expanded_slot = 0;  // kExpanded: which of the two whole-expansion buffers (alternating)
  size_t in_offset = 0, out_offset = 0;  // the block's input and output in the arena
};

// A segmentation network's head (model::SegmentationHead) in integers; its buffers in the arena.
struct QSegmentationPlan {
  SegmentationLayout layout;
  kernels::QPoolParams pool;
  QPointwisePlan pool_conv, map_conv;
  std::vector<kernels::QRequantParams> pool_requantize, map_requantize;  // to the concatenation's scale
  std::vector<QPointwisePlan> convs;
};

class QuantizedEngine {
 public:
  // Fails with kUnsupportedModel when the network has no complete integer description
  // (network.quant.available) or needs what the integer kernels do not do.
  // threads > 1: every block's output rows are shared among that many threads, as in Engine.
  static Result<std::unique_ptr<QuantizedEngine>> Create(const model::Network& network, int threads = 1);

  // The threads the next Run uses (Workers::running: under Emscripten, fewer until all have started).
  int threads() const { return workers_->running(); }

  const model::InputSpec& input_spec() const { return input_spec_; }
  int num_classes() const { return static_cast<int>(scores_.size()); }
  int feature_size() const { return static_cast<int>(features_.size()); }

  // Resizes an RGB image to the input tensor (its bytes are the pixels: a uint8 input stores
  // them, an int8 input stores pixel - 128, the same carrier bytes).
  void SetImage(const image::Image& img, image::Fit fit = image::Fit::kStretch);
  // Raw input bytes [height][width][3]; fill them directly instead of SetImage.
  uint8_t* input() { return input_.data(); }

  void Run();

  model::Task task() const { return task_; }
  // Segmentation: the class of every pixel of the last Run's logits resized by the taps (rows ys,
  // columns xs; kernels::ResizeTaps): ys.size() rows of xs.size() bytes, threads sharing the rows.
  void Segment(const std::vector<kernels::ResizeTap>& ys, const std::vector<kernels::ResizeTap>& xs, uint8_t* mask);
  // The logits' map of a segmentation network: height, width and classes.
  int logits_height() const { return seg_.layout.height(); }
  int logits_width() const { return seg_.layout.width; }
  // The last Run's logits [height][width][classes] on the uint8 carrier, before the resize.
  const uint8_t* logits_map() const { return arena_.data() + seg_.layout.logits_offset; }

  // Results of the last Run(): the model's quantized output (uint8 carrier; none after a float
  // classifier) and its real values.
  const uint8_t* output() const { return output_.data(); }
  const float* scores() const { return scores_.data(); }      // probabilities (or logits without softmax)
  const float* features() const { return features_.data(); }  // pooled, before the classifier
  const float* logits() const { return logits_.data(); }      // the classifier's output, before the softmax
  // The k best classes from `first` on (TopScores).
  std::vector<Prediction> Top(int k, int first = 0) const {
    return TopScores(scores_.data(), logits_.data(), scores_.size(), k, first);
  }

  // Activation and scratch memory of this plan in bytes (not weights or the input image).
  size_t ActivationBytes() const { return arena_.size(); }

 private:
  QuantizedEngine() = default;
  // Thread t's share: its rows of the stem (unless fused), of every block and of the head.
  void RunShare(int t);
  // Block b on the rows thread t claims.
  void RunBlock(const QInvertedResidualPlan& b, const uint8_t* in, uint8_t* out, Workers::Claims& rows, int t);
  void ProduceRows(const QInvertedResidualPlan& b, const uint8_t* in, int first, int last, int t);
  const uint8_t* RingRow(const QInvertedResidualPlan& b, const uint8_t* in, int row, int t) const;
  // kExpanded: where the block's whole expansion is in the arena; ExpandWhole computes pixels
  // [first_pixel, first_pixel + pixels) of it from the block input `in`.
  size_t ExpandedOffset(const QInvertedResidualPlan& b) const;
  void ExpandWhole(const QInvertedResidualPlan& b, const uint8_t* in, int first_pixel, int pixels);
  void StemRow(int row, uint8_t* out, int t);
  Status PlanClassifier(const model::Network& net);
  Status PlanSegmentation(const model::Network& net, size_t offset);
  // Thread t's share of the segmentation head (engine/segmentation.h).
  void RunSegmentationShare(int t);
  // The kernels of the stem and of the blocks planned so far, on zeros (engine/warm_up.h).
  void WarmUp() const;

  model::Task task_ = model::Task::kClassification;
  QSegmentationPlan seg_;
  std::vector<std::vector<int32_t>> upsample_scratch_;  // one per thread
  model::InputSpec input_spec_;
  std::vector<kernels::QRequantParams> input_requantize_;  // QUANTIZE ops after the input
  kernels::ConvShape stem_shape_{};
  QPointwisePlan stem_;
  uint8_t stem_pad_ = 0;     // the stem input's zero point: what its padding reads
  bool stem_fused_ = false;  // computed band by band inside block 0
  std::vector<QInvertedResidualPlan> blocks_;
  QPointwisePlan head_;  // none (packed empty) in MobileNetV1
  int pooled_pixels_ = 0;
  kernels::QPoolParams pool_;
  QPointwisePlan classifier_;
  // The float classifier that follows the pooled features instead (QuantizedGraph::float_classifier).
  std::unique_ptr<FloatClassifier> float_classifier_;
  bool softmax_ = false;
  kernels::QSoftmaxParams softmax_params_;
  std::vector<kernels::QRequantParams> output_requantize_;  // QUANTIZE ops at the end
  // Real values of the output, the pooled features and the softmax's input: scale * (carrier - zero point).
  float output_scale_ = 1.0f, feature_scale_ = 1.0f, logits_scale_ = 1.0f;
  int32_t output_zero_point_ = 0, feature_zero_point_ = 0, logits_zero_point_ = 0;

  std::vector<uint8_t> input_;   // the image as the input tensor
  std::vector<uint8_t> arena_;   // activations and scratch, placed below
  // Thread t's ring, band and im2col rows are at ring_offset_ etc. + t * scratch_stride_.
  size_t ring_offset_ = 0, band_offset_ = 0, im2col_offset_ = 0, scratch_stride_ = 0, head_offset_ = 0,
         pooled_offset_ = 0, logits_offset_ = 0, map_offset_ = 0, requant_offset_ = 0, expanded_offset_ = 0, expanded_bytes_ = 0;
  std::unique_ptr<Workers> workers_;
  std::vector<uint8_t> output_;
  std::vector<float> scores_, logits_, features_;
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_QUANTIZED_ENGINE_H_
