// Pictures of a class mask: PASCAL VOC's colors, an overlay on the photo, PNG files.
#include <cstring>

#include "image/image.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x)
#define STBI_WRITE_NO_STDIO
#include "stb_image_write.h"

namespace mnv2 {
namespace image {

void ClassColor(int index, uint8_t rgb[3]) {
  // PASCAL VOC's colormap: the bits of the index spread over the three channels, high bits first.
  rgb[0] = rgb[1] = rgb[2] = 0;
  int c = index;
  for (int shift = 7; shift >= 0 && c > 0; --shift, c >>= 3) {
    rgb[0] |= static_cast<uint8_t>((c & 1) << shift);
    rgb[1] |= static_cast<uint8_t>(((c >> 1) & 1) << shift);
    rgb[2] |= static_cast<uint8_t>(((c >> 2) & 1) << shift);
  }
}

Image Overlay(const Image& photo, const uint8_t* mask, float opacity) {
  Image out = photo;
  const int a = static_cast<int>(opacity * 256.0f + 0.5f);
  const int alpha = a < 0 ? 0 : a > 256 ? 256 : a;
  const size_t pixels = static_cast<size_t>(photo.width) * photo.height;
  uint8_t colors[256][3];
  for (int c = 0; c < 256; ++c) ClassColor(c, colors[c]);
  for (size_t i = 0; i < pixels && i * 3 + 2 < out.rgb.size(); ++i) {
    if (mask[i] == 0) continue;  // the background stays as it is
    for (int k = 0; k < 3; ++k) {
      uint8_t& p = out.rgb[i * 3 + k];
      p = static_cast<uint8_t>((p * (256 - alpha) + colors[mask[i]][k] * alpha + 128) >> 8);
    }
  }
  return out;
}

std::vector<uint8_t> EncodePng(const uint8_t* pixels, int width, int height, int channels) {
  std::vector<uint8_t> out;
  stbi_write_png_to_func(
      [](void* context, void* data, int size) {
        auto* bytes = static_cast<std::vector<uint8_t>*>(context);
        bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
      },
      &out, width, height, channels, pixels, width * channels);
  return out;
}

}  // namespace image
}  // namespace mnv2
