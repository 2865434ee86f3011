#include "kernels/upsample.h"

#include <algorithm>
#include <vector>

namespace mnv2 {
namespace kernels {

void ResizeTaps(int in, int out, bool align_corners, bool half_pixel_centers, ResizeTap* taps) {
  // reference_ops::ResizeBilinearInteger: the scale rounded to 1/1024ths, then each coordinate.
  int32_t scale_10 = ((1 << 10) * in + out / 2) / out;
  if (align_corners && out > 1) scale_10 = ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  for (int o = 0; o < out; ++o) {
    const int32_t scaled = half_pixel_centers ? o * scale_10 + scale_10 / 2 - (1 << 9) : o * scale_10;
    // (Division truncates toward zero, as TFLite's does; the clamp to in - 1 of i0 is ours: it keeps
    // a rounded scale from reading past the last sample.)
    const int32_t i0 = std::min(std::max(scaled / (1 << 10), 0), in - 1);
    const int32_t i1 = std::min((scaled + (1 << 10) - 1) / (1 << 10), in - 1);
    taps[o] = {i0, std::max(i1, 0), scaled - (1 << 10) * i0};
  }
}

namespace {

// The largest value's first index among n.
template <class T>
inline int ArgMax(const T* v, int n) {
  int best = 0;
  for (int c = 1; c < n; ++c) {
    if (v[c] > v[best]) best = c;
  }
  return best;
}

// Each logit cell's class, as bytes at `out` (h * w).
template <class T>
void CellClasses(const T* logits, int h, int w, int classes, uint8_t* out) {
  for (size_t i = 0; i < static_cast<size_t>(h) * w; ++i) {
    out[i] = static_cast<uint8_t>(ArgMax(logits + i * classes, classes));
  }
}

// Runs fn(ox) for the output pixels of a row whose four cells disagree, after setting the others
// to their cells' class; a pixel outside (i0 < 0) gets class 0.
template <class Fn>
void ForEachMixedPixel(const uint8_t* cells, int w, const ResizeTap& ty, const ResizeTap* xs, int out_w, uint8_t* out,
                       Fn&& fn) {
  const uint8_t* top = cells + static_cast<size_t>(ty.i0) * w;
  const uint8_t* bottom = cells + static_cast<size_t>(ty.i1) * w;
  for (int ox = 0; ox < out_w; ++ox) {
    const ResizeTap tx = xs[ox];
    if (tx.i0 < 0) {
      out[ox] = 0;
      continue;
    }
    const uint8_t k = top[tx.i0];
    if (top[tx.i1] == k && bottom[tx.i0] == k && bottom[tx.i1] == k) {
      out[ox] = k;
    } else {
      fn(ox);
    }
  }
}

}  // namespace

size_t UpsampleScratch(int h, int w, int classes) {
  // The blended rows (int32 or float), then the cells' classes as bytes.
  return static_cast<size_t>(w) * classes + (static_cast<size_t>(h) * w + 3) / 4;
}

namespace {

// Both kernels: T the logits, V the blended values (scratch). blend(a, b, n, wa, wb, out) blends n
// values of two rows (or two columns) with weights wa, wb in 1/1024ths; pixel(v, n) turns a pixel's
// blended values in place into what is compared.
template <class T, class V, class Blend, class Pixel>
void UpsampleArgmaxRows(const T* logits, int h, int w, int classes, const ResizeTap* ys, const ResizeTap* xs, int out_w,
                        int row_begin, int row_end, V* scratch, uint8_t* mask, size_t mask_stride, Blend&& blend,
                        Pixel&& pixel) {
  const size_t row = static_cast<size_t>(w) * classes;
  uint8_t* cells = reinterpret_cast<uint8_t*>(scratch + row);
  CellClasses(logits, h, w, classes, cells);
  V value[256];
  for (int oy = row_begin; oy < row_end; ++oy) {
    uint8_t* out = mask + static_cast<size_t>(oy) * mask_stride;
    const ResizeTap ty = ys[oy];
    if (ty.i0 < 0) {
      std::fill(out, out + out_w, 0);
      continue;
    }
    bool blended = false;  // the two rows blended into scratch (when a pixel needs them)
    ForEachMixedPixel(cells, w, ty, xs, out_w, out, [&](int ox) {
      if (!blended) {
        blend(logits + static_cast<size_t>(ty.i0) * row, logits + static_cast<size_t>(ty.i1) * row, row,
              (1 << 10) - ty.frac, ty.frac, scratch);
        blended = true;
      }
      const ResizeTap tx = xs[ox];
      blend(scratch + static_cast<size_t>(tx.i0) * classes, scratch + static_cast<size_t>(tx.i1) * classes,
            static_cast<size_t>(classes), (1 << 10) - tx.frac, tx.frac, value);
      pixel(value, classes);
      out[ox] = static_cast<uint8_t>(ArgMax(value, classes));
    });
  }
}

}  // namespace

void QUpsampleArgmax(const uint8_t* logits, int h, int w, int classes, const ResizeTap* ys, const ResizeTap* xs,
                     int out_w, int row_begin, int row_end, int32_t* scratch, uint8_t* mask, size_t mask_stride) {
  // Rows in 1/1024ths, then pixels in 1/2^20ths, rounded to the 8-bit value (the sum is not negative).
  UpsampleArgmaxRows(
      logits, h, w, classes, ys, xs, out_w, row_begin, row_end, scratch, mask, mask_stride,
      [](const auto* a, const auto* b, size_t n, int32_t wa, int32_t wb, int32_t* out) {
        for (size_t i = 0; i < n; ++i) out[i] = a[i] * wa + b[i] * wb;
      },
      [](int32_t* v, int n) {
        for (int c = 0; c < n; ++c) v[c] = (v[c] + (1 << 19)) >> 20;
      });
}

void UpsampleArgmax(const float* logits, int h, int w, int classes, const ResizeTap* ys, const ResizeTap* xs,
                    int out_w, int row_begin, int row_end, float* scratch, uint8_t* mask, size_t mask_stride) {
  UpsampleArgmaxRows(
      logits, h, w, classes, ys, xs, out_w, row_begin, row_end, scratch, mask, mask_stride,
      [](const float* a, const float* b, size_t n, int32_t wa, int32_t wb, float* out) {
        const float fa = static_cast<float>(wa) / 1024.0f, fb = static_cast<float>(wb) / 1024.0f;
        for (size_t i = 0; i < n; ++i) {
          const float x = a[i] * fa;  // (two statements: no fused multiply-add, the same bits everywhere)
          out[i] = x + b[i] * fb;
        }
      },
      [](float*, int) {});
}

void QUpsampleArgmaxReference(const uint8_t* logits, int h, int w, int classes, const ResizeTap* ys,
                              const ResizeTap* xs, int out_h, int out_w, uint8_t* mask) {
  (void)h;
  std::vector<uint8_t> resized(static_cast<size_t>(out_h) * out_w * classes);
  auto at = [&](int y, int x, int c) {
    return static_cast<int64_t>(logits[(static_cast<size_t>(y) * w + x) * classes + c]);
  };
  for (int oy = 0; oy < out_h; ++oy) {
    for (int ox = 0; ox < out_w; ++ox) {
      const ResizeTap ty = ys[oy], tx = xs[ox];
      uint8_t* v = &resized[(static_cast<size_t>(oy) * out_w + ox) * classes];
      if (ty.i0 < 0 || tx.i0 < 0) {
        mask[static_cast<size_t>(oy) * out_w + ox] = 0;
        continue;
      }
      for (int c = 0; c < classes; ++c) {
        // TFLite's four terms in 1/2^20ths, then (sum + 2^19) / 2^20.
        const int64_t dy = ty.frac, dx = tx.frac;
        const int64_t sum = at(ty.i0, tx.i0, c) * (1024 - dy) * (1024 - dx) + at(ty.i1, tx.i0, c) * dy * (1024 - dx) +
                            at(ty.i0, tx.i1, c) * (1024 - dy) * dx + at(ty.i1, tx.i1, c) * dy * dx;
        v[c] = static_cast<uint8_t>((sum + (1 << 19)) / (1 << 20));
      }
      mask[static_cast<size_t>(oy) * out_w + ox] = static_cast<uint8_t>(ArgMax(v, classes));
    }
  }
}

}  // namespace kernels
}  // namespace mnv2
