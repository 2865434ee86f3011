// Fuzzes the image path: Decode (stb_image behind our checks), FromPixels, Resize (both
// fits, to sizes that vary with the input) and Normalize.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_limits.h"
#include "image/image.h"

namespace {

void ResizeAndNormalize(const mnv2::image::Image& img, size_t seed) {
  using mnv2::image::Fit;
  // Small outputs keep runs fast; upscaling and downscaling both happen.
  const int sizes[][2] = {{static_cast<int>(1 + seed % 61), static_cast<int>(1 + seed / 61 % 53)},
                          {static_cast<int>(1 + seed / 3233 % 17), static_cast<int>(1 + seed % 19)}};
  for (const auto& s : sizes) {
    for (Fit fit : {Fit::kStretch, Fit::kCenterCrop}) {
      const mnv2::image::Image out = mnv2::image::Resize(img, s[0], s[1], fit);
      if (out.width != s[0] || out.height != s[1] || out.rgb.size() != static_cast<size_t>(s[0]) * s[1] * 3) {
        std::abort();  // a valid image always resizes
      }
      std::vector<float> input(out.rgb.size());
      mnv2::image::Normalize(out, 1.0f / 128, 128.0f, input.data());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mnv2;
  const image::Limits limits = fuzz::ImageLimits();
  Result<image::Image> img = image::Decode(data, size, limits);
  if (img.ok()) {
    ResizeAndNormalize(*img, size);
  } else if (img.status().message().empty()) {
    std::abort();
  }
  // The same bytes as raw pixels: 4 header bytes choose the geometry.
  if (size >= 4) {
    const int width = 1 + data[0], height = 1 + data[1], channels = data[2] & 1 ? 4 : 3;
    const size_t stride = static_cast<size_t>(width) * channels + data[3] % 8;
    const size_t needed = (height - 1) * stride + static_cast<size_t>(width) * channels;
    if (needed <= size - 4) {
      Result<image::Image> px = image::FromPixels(data + 4, width, height, channels, stride, limits);
      if (!px.ok()) std::abort();  // in-bounds pixels within the limits always convert
      ResizeAndNormalize(*px, size);
    }
  }
  return 0;
}
