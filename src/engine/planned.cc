#include "engine/planned.h"

#include <utility>

namespace mnv2 {
namespace engine {

model::BuildOptions PlannedModel::ReadOptions() {
  model::BuildOptions options;
  options.skip_float_weights = true;
  return options;
}

Result<PlannedModel> PlannedModel::Plan(const model::Network& net, Precision precision, int threads) {
  PlannedModel m;
  m.upsample_ = net.segmentation.upsample;
  if (precision == Precision::kInt8 || (precision == Precision::kAuto && net.quant.available)) {
    Result<std::unique_ptr<QuantizedEngine>> q = QuantizedEngine::Create(net, threads);
    if (q.ok()) {
      m.integer_ = std::move(*q);
      return m;
    }
    if (precision == Precision::kInt8) return q.status();
  }
  Result<std::unique_ptr<Engine>> f = Engine::Create(net, threads);
  if (!f.ok()) return f.status();
  m.float_ = std::move(*f);
  return m;
}

namespace {

// The taps of one axis of a mask `size` long whose [begin, begin + extent) the model saw.
std::vector<kernels::ResizeTap> AxisTaps(int logits, int size, int begin, int extent, const model::ResizeMode& mode) {
  std::vector<kernels::ResizeTap> taps(static_cast<size_t>(size));
  kernels::ResizeTaps(logits, extent, mode.align_corners, mode.half_pixel_centers, taps.data() + begin);
  return taps;
}

}  // namespace

void PlannedModel::Segment(int width, int height, image::Fit fit, uint8_t* mask) {
  if (width != taps_width_ || height != taps_height_ || fit != taps_fit_ || ys_.empty()) {
    const model::InputSpec& in = integer_ ? integer_->input_spec() : float_->input_spec();
    const image::Box box = fit == image::Fit::kCenterCrop ? image::CenterCropBox(width, height, in.width, in.height)
                                                          : image::Box{0, 0, width, height};
    const int logits_h = integer_ ? integer_->logits_height() : float_->logits_height();
    const int logits_w = integer_ ? integer_->logits_width() : float_->logits_width();
    ys_ = AxisTaps(logits_h, height, box.y, box.height, upsample_);
    xs_ = AxisTaps(logits_w, width, box.x, box.width, upsample_);
    taps_width_ = width;
    taps_height_ = height;
    taps_fit_ = fit;
  }
  if (integer_) {
    integer_->Segment(ys_, xs_, mask);
  } else {
    float_->Segment(ys_, xs_, mask);
  }
}

}  // namespace engine
}  // namespace mnv2
