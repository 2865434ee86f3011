// engine/bands.h: bands cover every output row once, and the ring of a block's depthwise input
// rows holds each band's whole window at once, whatever row a thread's share starts at, over
// every geometry of MobileNetV2 and of small inputs, strides, paddings and band heights.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "engine/bands.h"

namespace mnv2 {
namespace {

using model::ConvGeometry;

// A 3x3 depthwise geometry over in_h rows, 'SAME' (TF's padding: the extra row at the bottom)
// or 'VALID'.
ConvGeometry Depthwise3x3(int in_h, int stride, bool same) {
  ConvGeometry g;
  g.in_h = g.in_w = in_h;
  g.in_c = g.out_c = 8;
  g.kernel_h = g.kernel_w = 3;
  g.stride = stride;
  g.out_h = g.out_w = same ? (in_h + stride - 1) / stride : (in_h - 3) / stride + 1;
  const int pad = same ? std::max(0, (g.out_h - 1) * stride + 3 - in_h) : 0;
  g.pad_top = g.pad_left = pad / 2;
  return g;
}

// Runs the bands of g from output row oy_begin on as the engines do (engine.cc RunBlock and
// ProduceRows) and checks the windows and the ring.
void CheckBands(const ConvGeometry& g, int band_rows, int oy_begin) {
  SCOPED_TRACE("in_h " + std::to_string(g.in_h) + " stride " + std::to_string(g.stride) + " pad_top " +
               std::to_string(g.pad_top) + " band_rows " + std::to_string(band_rows) + " from row " +
               std::to_string(oy_begin));
  const int slots = engine::RingRows(g, band_rows);
  ASSERT_GE(slots, 1);
  ASSERT_LE(slots, g.in_h);
  int produced = 0;
  for (int oy0 = oy_begin; oy0 < g.out_h; oy0 += band_rows) {
    const int oy1 = std::min(oy0 + band_rows, g.out_h);
    int lo, hi;
    engine::WindowRows(g, oy0, oy1, &lo, &hi);
    // The rows the band's outputs read, inside the input.
    for (int oy = oy0; oy < oy1; ++oy) {
      for (int ky = 0; ky < 3; ++ky) {
        const int iy = oy * g.stride - g.pad_top + ky;
        if (iy >= 0 && iy < g.in_h) {
          EXPECT_TRUE(iy >= lo && iy < hi) << "row " << iy << " of output row " << oy;
        }
      }
    }
    // The window's rows are all in the ring at once: distinct slots.
    std::set<int> taken;
    for (int row = lo; row < hi; ++row) taken.insert(row % slots);
    EXPECT_EQ(static_cast<int>(taken.size()), hi - lo) << "band at " << oy0;
    // Rows are produced in order, each once.
    EXPECT_LE(std::max(lo, produced), hi);
    produced = std::max(produced, hi);
  }
}

TEST(Bands, MobileNetV2Blocks) {
  // Depthwise inputs of MobileNetV2 at 224, 160 and 96 pixels, with the engines' band heights.
  for (int in_h : {112, 56, 28, 14, 7, 80, 40, 20, 10, 5, 48, 24, 12, 6, 3}) {
    for (int stride : {1, 2}) {
      const ConvGeometry g = Depthwise3x3(in_h, stride, true);
      const int band_rows = engine::BandRows(g);
      EXPECT_GE(band_rows * g.out_w, std::min(engine::kMinBandPixels, g.out_h * g.out_w));
      for (int oy_begin = 0; oy_begin < g.out_h; ++oy_begin) CheckBands(g, band_rows, oy_begin);
    }
  }
}

TEST(Bands, EveryGeometry) {
  for (int in_h = 1; in_h <= 40; ++in_h) {
    for (int stride : {1, 2}) {
      for (bool same : {true, false}) {
        if (!same && in_h < 3) continue;
        const ConvGeometry g = Depthwise3x3(in_h, stride, same);
        for (int band_rows = 1; band_rows <= 9; ++band_rows) {
          for (int oy_begin = 0; oy_begin < g.out_h; ++oy_begin) CheckBands(g, band_rows, oy_begin);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

}  // namespace
}  // namespace mnv2
