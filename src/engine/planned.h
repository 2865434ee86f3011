// A model planned on one of the two engines: the integer engine for quantized models (unless
// float32 is asked for), the float32 engine otherwise. The C API and the native CLI run their
// models through it, so both choose the same way.
#ifndef MNV2_ENGINE_PLANNED_H_
#define MNV2_ENGINE_PLANNED_H_

#include <memory>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "engine/quantized_engine.h"
#include "image/image.h"
#include "model/builder.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

enum class Precision { kAuto, kFp32, kInt8 };

class PlannedModel {
 public:
  // How to read a model for Plan: without its float weights where its layers' stored
  // integers are enough (whichever engine then runs it).
  static model::BuildOptions ReadOptions();

  // The integer engine for kInt8 (its error if it cannot run `net`) and for kAuto where it
  // can; the float engine otherwise.
  static Result<PlannedModel> Plan(const model::Network& net, Precision precision, int threads);

  bool integer() const { return integer_ != nullptr; }
  int threads() const { return integer_ ? integer_->threads() : float_->threads(); }
  void SetImage(const image::Image& img, image::Fit fit) {
    if (integer_) {
      integer_->SetImage(img, fit);
    } else {
      float_->SetImage(img, fit);
    }
  }
  void Run() {
    if (integer_) {
      integer_->Run();
    } else {
      float_->Run();
    }
  }
  size_t ActivationBytes() const { return integer_ ? integer_->ActivationBytes() : float_->ActivationBytes(); }
  model::Task task() const { return integer_ ? integer_->task() : float_->task(); }
  // Segmentation: the class of every pixel of an image width x height that the last Run read
  // (SetImage with `fit`): the logits resized to the image (to the crop box with
  // kCenterCrop; class 0 outside it), as the model's own resize does to its input size.
  // mask: width * height bytes.
  void Segment(int width, int height, image::Fit fit, uint8_t* mask);

  const float* scores() const { return integer_ ? integer_->scores() : float_->scores(); }
  const float* features() const { return integer_ ? integer_->features() : float_->features(); }
  const float* logits() const { return integer_ ? integer_->logits() : float_->logits(); }
  std::vector<Prediction> Top(int k, int first = 0) const {
    return integer_ ? integer_->Top(k, first) : float_->Top(k, first);
  }

 private:
  std::unique_ptr<QuantizedEngine> integer_;
  std::unique_ptr<Engine> float_;
  model::ResizeMode upsample_;  // the segmentation network's
  // The taps of the last Segment's mask, kept for the next of the same size and fit (a webcam's frames).
  std::vector<kernels::ResizeTap> ys_, xs_;
  int taps_width_ = 0, taps_height_ = 0;
  image::Fit taps_fit_ = image::Fit::kStretch;
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_PLANNED_H_
