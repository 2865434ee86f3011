// Fuzzes the whole C API pipeline the WebAssembly module runs: load a model, classify (or
// segment, for a segmentation model) an image (encoded, then the same bytes as raw pixels), read
// the results. One input holds both (pipeline_input.h).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "api/api_errors.h"
#include "api/c_api.h"
#include "common/status.h"
#include "fuzz_limits.h"
#include "pipeline_input.h"

namespace {

void ReadResults(const Mnv2Model* m) {
  int32_t top[5];
  const int n = mnv2_top_k(m, 5, top);
  const int classes = mnv2_num_classes(m);
  if (n != (classes < 5 ? classes : 5)) std::abort();
  for (int i = 0; i < n; ++i) {
    if (top[i] < 0 || top[i] >= classes) std::abort();
    (void)mnv2_label(m, top[i]);
  }
  volatile float sink = 0;
  for (int i = 0; i < classes; ++i) sink = sink + mnv2_scores(m)[i];
  for (int i = 0; i < mnv2_feature_size(m); ++i) sink = sink + mnv2_features(m)[i];
}

// A segment's mask: the image's size, every class one of the model's; the overlay its size.
void ReadMask(const Mnv2Model* m, int width, int height, bool overlay) {
  if (mnv2_mask_width(m) != width || mnv2_mask_height(m) != height) std::abort();
  const uint8_t* mask = mnv2_mask(m);
  for (size_t i = 0; i < static_cast<size_t>(width) * height; ++i) {
    if (mask[i] >= mnv2_num_classes(m)) std::abort();
  }
  if ((mnv2_overlay(m) != nullptr) != overlay) std::abort();
}

// Classifies or segments, as the model's task asks; the other call must fail with E_WRONG_TASK.
int Run(Mnv2Model* m, const uint8_t* data, size_t size, int fit, int width, int height) {
  const bool segments = mnv2_task(m) == 1;
  const bool pixels = width > 0;
  const int wrong = pixels ? (segments ? mnv2_classify_pixels(m, data, width, height, 3, width * 3, fit)
                                       : mnv2_segment_pixels(m, data, width, height, 3, width * 3, fit, -1))
                           : (segments ? mnv2_classify_encoded(m, data, size, fit)
                                       : mnv2_segment_encoded(m, data, size, fit, -1));
  if (wrong != static_cast<int>(mnv2::ErrorCode::kWrongTask)) std::abort();
  if (!segments) {
    return pixels ? mnv2_classify_pixels(m, data, width, height, 3, static_cast<size_t>(width) * 3, fit)
                  : mnv2_classify_encoded(m, data, size, fit);
  }
  const float overlay = fit ? 0.5f : -1.0f;
  return pixels ? mnv2_segment_pixels(m, data, width, height, 3, static_cast<size_t>(width) * 3, fit, overlay)
                : mnv2_segment_encoded(m, data, size, fit, overlay);
}

// The results of a successful Run.
void ReadAny(const Mnv2Model* m, int width, int height, int fit) {
  if (mnv2_task(m) == 1) {
    ReadMask(m, width, height, fit != 0);
  } else {
    ReadResults(m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const mnv2::fuzz::PipelineInput in = mnv2::fuzz::SplitPipelineInput(data, size);
  const mnv2::model::Limits model_limits = mnv2::fuzz::PipelineModelLimits();
  Mnv2Model* m = mnv2_load_limited(in.model, in.model_size, static_cast<double>(model_limits.max_model_bytes),
                                   static_cast<double>(model_limits.max_memory_bytes));
  if (m == nullptr) {
    if (std::strlen(mnv2_last_error_message()) == 0 || mnv2_last_error_code() == 0) std::abort();
    return 0;
  }
  const mnv2::image::Limits image_limits = mnv2::fuzz::ImageLimits();
  mnv2_set_image_limits(m, static_cast<double>(image_limits.max_bytes), static_cast<double>(image_limits.max_pixels));
  const int fit = static_cast<int>(in.image_size & 1);
  if (Run(m, in.image, in.image_size, fit, 0, 0) == 0) {
    if (mnv2_task(m) == 1) {
      ReadMask(m, mnv2_mask_width(m), mnv2_mask_height(m), fit != 0);
    } else {
      ReadResults(m);
    }
  } else if (std::strlen(mnv2_last_error_message()) == 0) {
    std::abort();
  }
  if (in.image_size >= 2) {
    const int width = 1 + in.image[0] % 64, height = 1 + in.image[1] % 64;
    const size_t row = static_cast<size_t>(width) * 3;
    if (static_cast<size_t>(height) * row <= in.image_size - 2) {
      if (Run(m, in.image + 2, in.image_size - 2, fit, width, height) != 0) std::abort();
      ReadAny(m, width, height, fit);
    }
  }
  mnv2_free(m);
  return 0;
}
