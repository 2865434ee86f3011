// The image layer: decode untrusted image bytes to RGB, resize like Pillow, and
// turn pixels into model input.
//
// Everything here is deterministic and platform independent (integer resampling,
// no SIMD-dependent rounding), so native and WebAssembly builds agree bit for bit.
#ifndef MNV2_IMAGE_IMAGE_H_
#define MNV2_IMAGE_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace mnv2 {
namespace image {

// 8-bit RGB, interleaved, row-major, no padding: rgb.size() == width * height * 3.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// What Decode / FromPixels accept. Anything beyond is rejected with kImageTooLarge
// before any pixel buffer is allocated.
struct Limits {
  size_t max_bytes = 64u << 20;     // encoded input size (Decode only)
  int64_t max_pixels = 40'000'000;  // width * height
  int max_side = 16384;             // max(width, height)
};

// Decodes JPEG (baseline/progressive), PNG, BMP or GIF (first frame) with stb_image and
// converts to RGB the way PIL's convert('RGB') does: gray is replicated, alpha (and a
// palette's transparency) is dropped, never composited. EXIF orientation is not applied
// (PIL does not either). Pixels equal PIL's for PNG, BMP and GIF; JPEG differs by a few
// levels (stb_image's IDCT and upsampling vs libjpeg's). One deliberate difference:
// 16-bit grayscale PNG keeps the high byte, where PIL clips the 16-bit value to 255.
//
// Hostile input: the header is checked against `limits` before decoding; decoding then
// runs under a memory budget proportional to the declared size, so a small header over
// a decompression bomb fails instead of exhausting memory. Truncated files are rejected
// as PIL rejects them (stb_image alone would pad BMP and GIF with zeros), and two inputs
// that stb_image 2.27 mishandles are refused up front: JPEG Huffman tables with more
// than 256 codes (buffer overflow) and a PNG whose first IDAT chunk is empty.
// Errors: kImageDecode (empty, unknown format, corrupt or truncated data; the message
// includes stb_image's reason), kImageTooLarge (limits or memory budget exceeded),
// kInvalidArgument (null data with a nonzero size).
Result<Image> Decode(const uint8_t* data, size_t size, const Limits& limits = {});

// Copies raw pixels: `channels` is 3 (RGB) or 4 (RGBA; alpha dropped), `stride` is the
// distance in bytes between rows (>= width * channels); the caller's buffer must hold
// (height - 1) * stride + width * channels bytes. Errors: kInvalidArgument (null data,
// non-positive size, bad channels or stride), kImageTooLarge (limits; max_bytes does not
// apply to raw pixels).
Result<Image> FromPixels(const uint8_t* data, int width, int height, int channels, size_t stride,
                         const Limits& limits = {});

enum class Fit {
  kStretch,     // resize the whole image to the target size (aspect ratio not kept)
  kCenterCrop,  // crop the largest centered region with the target's aspect ratio
                // (whole pixels, rounded), then resize it
};

// The region [x, x + width) x [y, y + height) of an image that Fit::kCenterCrop resizes.
struct Box {
  int x = 0, y = 0, width = 0, height = 0;
};
// The largest centered region of an image width x height with the aspect ratio out_width :
// out_height, rounded to whole pixels (all sizes positive).
Box CenterCropBox(int width, int height, int out_width, int out_height);

// Resizes like Pillow's Image.resize(size, Image.BILINEAR) on an RGB image: separable
// triangle filter whose support widens by the scale factor when downscaling
// (antialiasing), weights normalized and converted to 22-bit fixed point, a horizontal
// then a vertical 8-bit pass, each rounded and clamped. Bit-exact with Pillow for
// kStretch; kCenterCrop equals PIL's img.crop(box).resize(size, BILINEAR) with the box
// described above. Returns an empty Image if out_width or out_height is not positive,
// if src is empty or inconsistent (rgb.size() != width * height * 3), or if the output
// would not fit in memory addressable by size_t.
Image Resize(const Image& src, int out_width, int out_height, Fit fit = Fit::kStretch);

// Model input: out[i] = scale * (float(img.rgb[i]) - zero_point) for every byte of the
// image (HWC order). `out` must hold width * height * 3 floats; nothing is written past
// min(img.rgb.size(), width * height * 3).
void Normalize(const Image& img, float scale, float zero_point, float* out);

// Segmentation masks (one class index per pixel).
// The color of class `index` in PASCAL VOC's colormap (0: black).
void ClassColor(int index, uint8_t rgb[3]);
// The photo with every pixel of a class other than 0 blended with its color: opacity 0..1.
// mask: photo.width * photo.height class indices.
Image Overlay(const Image& photo, const uint8_t* mask, float opacity);
// A PNG file of width x height pixels of 1 (gray) or 3 (RGB) bytes, rows packed; empty on failure.
std::vector<uint8_t> EncodePng(const uint8_t* pixels, int width, int height, int channels);

}  // namespace image
}  // namespace mnv2

#endif  // MNV2_IMAGE_IMAGE_H_
