// Fuzzes the whole C API pipeline the WebAssembly module runs: load a model, classify an
// image (encoded, then the same bytes as raw pixels), read the results. One input holds
// both (pipeline_input.h).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "api/c_api.h"
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
  if (mnv2_classify_encoded(m, in.image, in.image_size, fit) == 0) {
    ReadResults(m);
  } else if (std::strlen(mnv2_last_error_message()) == 0) {
    std::abort();
  }
  if (in.image_size >= 2) {
    const int width = 1 + in.image[0] % 64, height = 1 + in.image[1] % 64;
    const size_t row = static_cast<size_t>(width) * 3;
    if (static_cast<size_t>(height) * row <= in.image_size - 2) {
      if (mnv2_classify_pixels(m, in.image + 2, width, height, 3, row, fit) != 0) std::abort();
      ReadResults(m);
    }
  }
  mnv2_free(m);
  return 0;
}
