// Resize: Pillow's two-pass bilinear (triangle filter) resampling for 8-bit RGB.
//
// Each pass maps in_size samples to out_size samples. Output sample i is centred at
// (i + 0.5) * scale in input coordinates (scale = in/out); when downscaling the triangle
// is stretched by the scale so every input sample contributes (antialiasing). Weights
// are normalized to sum to 1, converted to fixed point with kPrecisionBits fraction
// bits, and each pass rounds and clamps its result to uint8, exactly as Pillow does;
// the floating-point expressions are written in Pillow's order so the weights, and so
// the output bytes, are identical.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "image/image.h"

namespace mnv2 {
namespace image {
namespace {

// 32 - 8 - 2 as in Pillow: 8 bits for the value, 2 bits of headroom.
constexpr int kPrecisionBits = 32 - 8 - 2;

// The taps of one pass: output sample i reads `count[i]` inputs from `first[i]` with
// weights coeffs[offset[i] ...].
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<size_t> offset;
  std::vector<int32_t> coeffs;
  int max_count = 0;
};

double Triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

Taps ComputeTaps(int in_size, int out_size) {
  Taps taps;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.offset.resize(out_size);
  // Pillow takes the source extent as a float box (in1 - in0) before widening to double.
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filter_scale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filter_scale;  // the triangle's support is 1
  const double inv_filter_scale = 1.0 / filter_scale;
  taps.coeffs.reserve(static_cast<size_t>(out_size) * (static_cast<size_t>(2 * support) + 2));
  std::vector<double> weights;
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // Pillow rounds the window ends by truncating x + 0.5.
    int lo = static_cast<int>(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = std::max(hi - lo, 0);
    weights.resize(n);
    double sum = 0.0;
    for (int x = 0; x < n; ++x) {
      const double w = Triangle((x + lo - center + 0.5) * inv_filter_scale);
      weights[x] = w;
      sum += w;
    }
    taps.first[i] = lo;
    taps.count[i] = n;
    taps.offset[i] = taps.coeffs.size();
    taps.max_count = std::max(taps.max_count, n);
    for (int x = 0; x < n; ++x) {
      const double k = sum != 0.0 ? weights[x] / sum : weights[x];
      const double fixed = k * (1 << kPrecisionBits);
      taps.coeffs.push_back(static_cast<int32_t>(k < 0 ? fixed - 0.5 : fixed + 0.5));
    }
  }
  return taps;
}

// Pillow's clip8: drop the fraction bits (arithmetic shift), clamp to 0..255.
template <typename Acc>
inline uint8_t Clip8(Acc v) {
  const Acc shifted = v >> kPrecisionBits;
  return static_cast<uint8_t>(shifted < 0 ? 0 : shifted > 255 ? 255 : shifted);
}

// The accumulators start at one half (rounding). With triangle weights, which are
// non-negative and sum to 2^22 plus at most half a unit per tap, a sum stays below
// 2^21 + 255 * (2^22 + taps / 2): int32_t holds it for up to ~8.4 million taps, i.e.
// any source side up to 4 million pixels. Longer sides (possible only with custom
// Limits) use int64_t, which gives the same results whenever int32_t cannot overflow.
template <typename Acc>
void HorizontalPass(const uint8_t* src, size_t src_stride, int rows, const Taps& taps,
                    int out_width, uint8_t* dst) {
  const size_t dst_stride = static_cast<size_t>(out_width) * 3;
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in = src + static_cast<size_t>(y) * src_stride;
    uint8_t* out = dst + static_cast<size_t>(y) * dst_stride;
    for (int x = 0; x < out_width; ++x) {
      const uint8_t* p = in + static_cast<size_t>(taps.first[x]) * 3;
      const int32_t* k = taps.coeffs.data() + taps.offset[x];
      const int n = taps.count[x];
      Acc r = Acc{1} << (kPrecisionBits - 1), g = r, b = r;
      for (int t = 0; t < n; ++t, p += 3) {
        r += static_cast<Acc>(p[0]) * k[t];
        g += static_cast<Acc>(p[1]) * k[t];
        b += static_cast<Acc>(p[2]) * k[t];
      }
      out[3 * x + 0] = Clip8(r);
      out[3 * x + 1] = Clip8(g);
      out[3 * x + 2] = Clip8(b);
    }
  }
}

// Rows of `src` are relative to `row_base` (the first source row the taps use). Sums a
// whole output row at a time over its input rows, which gives the same integers as
// Pillow's per-pixel loop (integer addition is exact) with sequential memory access.
template <typename Acc>
void VerticalPass(const uint8_t* src, size_t src_stride, int row_base, const Taps& taps,
                  int out_height, size_t row_bytes, uint8_t* dst) {
  std::vector<Acc> acc(row_bytes);
  for (int y = 0; y < out_height; ++y) {
    std::fill(acc.begin(), acc.end(), Acc{1} << (kPrecisionBits - 1));
    const int32_t* k = taps.coeffs.data() + taps.offset[y];
    for (int t = 0; t < taps.count[y]; ++t) {
      const uint8_t* in = src + static_cast<size_t>(taps.first[y] - row_base + t) * src_stride;
      const Acc w = k[t];
      for (size_t i = 0; i < row_bytes; ++i) acc[i] += static_cast<Acc>(in[i]) * w;
    }
    uint8_t* out = dst + static_cast<size_t>(y) * row_bytes;
    for (size_t i = 0; i < row_bytes; ++i) out[i] = Clip8(acc[i]);
  }
}

// Resizes the in_w x in_h region at `src` (rows `src_stride` bytes apart).
template <typename Acc>
Image ResampleRegion(const uint8_t* src, size_t src_stride, int in_w, int in_h, int out_w,
                     int out_h) {
  Image out;
  out.width = out_w;
  out.height = out_h;
  const size_t out_row = static_cast<size_t>(out_w) * 3;
  out.rgb.resize(out_row * static_cast<size_t>(out_h));

  // Like Pillow, skip a pass whose size does not change (it would be an identity).
  const bool horizontal = out_w != in_w;
  const bool vertical = out_h != in_h;
  if (!horizontal && !vertical) {
    for (int y = 0; y < in_h; ++y) {
      std::memcpy(out.rgb.data() + static_cast<size_t>(y) * out_row,
                  src + static_cast<size_t>(y) * src_stride, out_row);
    }
    return out;
  }
  if (!vertical) {
    HorizontalPass<Acc>(src, src_stride, in_h, ComputeTaps(in_w, out_w), out_w, out.rgb.data());
    return out;
  }
  const Taps vtaps = ComputeTaps(in_h, out_h);
  if (!horizontal) {
    VerticalPass<Acc>(src, src_stride, 0, vtaps, out_h, out_row, out.rgb.data());
    return out;
  }
  // The horizontal pass only needs the source rows the vertical taps read.
  const int row_first = vtaps.first.front();
  const int row_last = vtaps.first.back() + vtaps.count.back();
  std::vector<uint8_t> temp(out_row * static_cast<size_t>(row_last - row_first));
  HorizontalPass<Acc>(src + static_cast<size_t>(row_first) * src_stride, src_stride,
                      row_last - row_first, ComputeTaps(in_w, out_w), out_w, temp.data());
  VerticalPass<Acc>(temp.data(), out_row, row_first, vtaps, out_h, out_row, out.rgb.data());
  return out;
}

constexpr int kMaxInt32Side = 4'000'000;

}  // namespace

Box CenterCropBox(int width, int height, int out_width, int out_height) {
  int w = width, h = height;
  // Largest region of aspect out_width:out_height, rounded to whole pixels (products
  // of two ints fit in int64_t, doubled plus an int too).
  const int64_t lhs = static_cast<int64_t>(width) * out_height;
  const int64_t rhs = static_cast<int64_t>(height) * out_width;
  if (lhs > rhs) {  // source is wider: keep full height
    const int64_t cw = (2 * rhs + out_height) / (2 * static_cast<int64_t>(out_height));
    w = static_cast<int>(std::min<int64_t>(std::max<int64_t>(cw, 1), width));
  } else if (lhs < rhs) {  // source is taller: keep full width
    const int64_t ch = (2 * lhs + out_width) / (2 * static_cast<int64_t>(out_width));
    h = static_cast<int>(std::min<int64_t>(std::max<int64_t>(ch, 1), height));
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

Image Resize(const Image& src, int out_width, int out_height, Fit fit) {
  if (out_width <= 0 || out_height <= 0 || src.width <= 0 || src.height <= 0) return {};
  const uint64_t src_bytes =
      static_cast<uint64_t>(src.width) * static_cast<uint64_t>(src.height) * 3;
  if (src.rgb.size() != src_bytes) return {};
  const uint64_t out_bytes =
      static_cast<uint64_t>(out_width) * static_cast<uint64_t>(out_height) * 3;
  if (out_bytes > static_cast<uint64_t>(PTRDIFF_MAX) || out_bytes > SIZE_MAX) return {};

  const Box box = fit == Fit::kCenterCrop ? CenterCropBox(src.width, src.height, out_width, out_height)
                                         : Box{0, 0, src.width, src.height};
  const int x0 = box.x, y0 = box.y, w = box.width, h = box.height;
  const size_t stride = static_cast<size_t>(src.width) * 3;
  const uint8_t* origin =
      src.rgb.data() + static_cast<size_t>(y0) * stride + static_cast<size_t>(x0) * 3;
  if (w <= kMaxInt32Side && h <= kMaxInt32Side) {
    return ResampleRegion<int32_t>(origin, stride, w, h, out_width, out_height);
  }
  return ResampleRegion<int64_t>(origin, stride, w, h, out_width, out_height);
}

}  // namespace image
}  // namespace mnv2
