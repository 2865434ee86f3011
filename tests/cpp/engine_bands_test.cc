// engine/bands.h: the ring of a block's depthwise input rows holds every band's window, and
// after the first band each band's new rows are one run of slots (one expansion GEMM call),
// over every geometry of MobileNetV2 and of small inputs, strides, paddings and band heights.
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

// Runs the bands of g as the engines do (engine.cc RunBlock and ProduceRows) and checks the ring.
void CheckRing(const ConvGeometry& g, int band_rows) {
  SCOPED_TRACE("in_h " + std::to_string(g.in_h) + " stride " + std::to_string(g.stride) + " pad_top " +
               std::to_string(g.pad_top) + " band_rows " + std::to_string(band_rows));
  const engine::RingLayout ring = engine::PlanRing(g, band_rows);
  ASSERT_GE(ring.rows, 1);
  ASSERT_LE(ring.rows, g.in_h);
  ASSERT_GE(ring.shift, 0);
  int produced = 0;
  for (int oy0 = 0; oy0 < g.out_h; oy0 += band_rows) {
    const int oy1 = std::min(oy0 + band_rows, g.out_h);
    int lo, hi;
    engine::WindowRows(g, oy0, oy1, &lo, &hi);
    // The window's rows are all in the ring at once: distinct slots.
    std::set<int> slots;
    for (int row = lo; row < hi; ++row) slots.insert(ring.Slot(row));
    EXPECT_EQ(static_cast<int>(slots.size()), hi - lo) << "band at " << oy0;
    // The new rows: one run of slots, except the first band's (which may wrap once).
    const int first = std::max(lo, produced);
    if (first < hi && oy0 > 0) {
      EXPECT_LE(ring.Slot(first) + (hi - first), ring.rows) << "band at " << oy0 << ": rows " << first << "-" << hi;
    }
    produced = std::max(produced, hi);
  }
  EXPECT_EQ(produced, std::min(g.in_h, (g.out_h - 1) * g.stride - g.pad_top + 3));
}

TEST(Bands, MobileNetV2Blocks) {
  // Depthwise inputs of MobileNetV2 at 224 (and 160, 96), with the engines' band heights.
  for (int in_h : {112, 56, 28, 14, 7, 80, 40, 20, 10, 5, 48, 24, 12, 6, 3}) {
    for (int stride : {1, 2}) {
      const ConvGeometry g = Depthwise3x3(in_h, stride, true);
      CheckRing(g, engine::BandRows(g));
      // Whole rows of the ring: the band's window and no more than a band's step past it.
      const engine::RingLayout ring = engine::PlanRing(g, engine::BandRows(g));
      EXPECT_LT(ring.rows, (engine::BandRows(g) - 1) * stride + 3 + 2 * engine::BandRows(g) * stride);
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
          CheckRing(g, band_rows);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

}  // namespace
}  // namespace mnv2
