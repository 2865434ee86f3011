// engine/bands.h: bands cover every output row of a thread's claims once, in the claims'
// direction, and the ring of a block's depthwise input rows holds each band's whole window when
// it runs, each row produced once, wherever the threads' rows meet and whichever way a thread's
// claims go, over every geometry of MobileNetV2 and of small inputs, strides, paddings and band
// heights.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

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

// Claims as Workers::Claims gives them: a list of row ranges, all down or all up.
class ListedClaims {
 public:
  ListedClaims(std::vector<std::pair<int, int>> claims, bool down) : claims_(std::move(claims)), down_(down) {}
  bool Next(int* begin, int* end) {
    if (next_ == claims_.size()) return false;
    *begin = claims_[next_].first;
    *end = claims_[next_].second;
    ++next_;
    return true;
  }
  bool down() const { return down_; }

 private:
  std::vector<std::pair<int, int>> claims_;
  bool down_;
  size_t next_ = 0;
};

// Rows [from, to) as a thread claims them going down (from `from`) or up (from `to`), in claims
// of sizes cycling through 1 .. 2 * band_rows + 1 rows, so that bands split at every offset.
ListedClaims Claimed(int from, int to, int band_rows, bool down) {
  std::vector<std::pair<int, int>> claims;
  int size = 1;
  for (int top = from, bottom = to; top < bottom; size = size % (2 * band_rows + 1) + 1) {
    const int take = std::min(size, bottom - top);
    if (down) {
      claims.emplace_back(top, top + take);
      top += take;
    } else {
      claims.emplace_back(bottom - take, bottom);
      bottom -= take;
    }
  }
  return ListedClaims(std::move(claims), down);
}

// Runs the bands of g over output rows [from, to), claimed going down or up, as the engines do
// (engine.cc RunBlock and ProduceRows), and checks the windows and the ring's slots.
void CheckBands(const ConvGeometry& g, int band_rows, int from, int to, bool down) {
  SCOPED_TRACE("in_h " + std::to_string(g.in_h) + " stride " + std::to_string(g.stride) + " pad_top " +
               std::to_string(g.pad_top) + " band_rows " + std::to_string(band_rows) + " rows " +
               std::to_string(from) + " to " + std::to_string(to) + (down ? " down" : " up"));
  const int slots = engine::RingRows(g, band_rows);
  ASSERT_GE(slots, 1);
  ASSERT_LE(slots, g.in_h);
  std::vector<int> slot_row(slots, -1);   // the input row each slot holds
  std::vector<int> produced(g.in_h, 0);  // times each input row was produced
  std::vector<int> done(g.out_h, 0);     // times each output row was in a band
  engine::RingWindow window;
  ListedClaims claims = Claimed(from, to, band_rows, down);
  int previous = down ? -1 : g.out_h;
  engine::ForEachBand(claims, band_rows, [&](int oy0, int oy1) {
    ASSERT_LT(oy0, oy1);
    ASSERT_LE(oy1 - oy0, band_rows);
    // Bands go one way.
    if (down) {
      EXPECT_GT(oy0, previous);
    } else {
      EXPECT_LT(oy1 - 1, previous);
    }
    previous = down ? oy1 - 1 : oy0;
    for (int oy = oy0; oy < oy1; ++oy) ++done[oy];
    int lo, hi, first, last;
    engine::WindowRows(g, oy0, oy1, &lo, &hi);
    window.Need(lo, hi, down, &first, &last);
    ASSERT_LE(first, last);
    for (int row = first; row < last; ++row) {
      ++produced[row];
      slot_row[row % slots] = row;
    }
    // The rows the band's outputs read: inside the window, and in the ring now.
    for (int oy = oy0; oy < oy1; ++oy) {
      for (int ky = 0; ky < 3; ++ky) {
        const int iy = oy * g.stride - g.pad_top + ky;
        if (iy >= 0 && iy < g.in_h) {
          EXPECT_TRUE(iy >= lo && iy < hi) << "row " << iy << " of output row " << oy;
          EXPECT_EQ(slot_row[iy % slots], iy) << "row " << iy << " of output row " << oy;
        }
      }
    }
  });
  for (int oy = 0; oy < g.out_h; ++oy) EXPECT_EQ(done[oy], oy >= from && oy < to ? 1 : 0) << "output row " << oy;
  // Each input row is produced once.
  for (int row = 0; row < g.in_h; ++row) EXPECT_LE(produced[row], 1) << "input row " << row;
}

// Every split of the rows between two threads, the first going down from the top, the second
// up from the bottom (Workers::Claims).
void CheckSplits(const ConvGeometry& g, int band_rows) {
  for (int meet = 0; meet <= g.out_h; ++meet) {
    CheckBands(g, band_rows, 0, meet, true);
    CheckBands(g, band_rows, meet, g.out_h, false);
    // A thread's share that starts inside the rows (Workers::Share's, or a later pair's segment).
    CheckBands(g, band_rows, meet, g.out_h, true);
    CheckBands(g, band_rows, 0, meet, false);
  }
}

TEST(Bands, MobileNetV2Blocks) {
  // Depthwise inputs of MobileNetV2 at 224, 160 and 96 pixels, with the engines' band heights.
  for (int in_h : {112, 56, 28, 14, 7, 80, 40, 20, 10, 5, 48, 24, 12, 6, 3}) {
    for (int stride : {1, 2}) {
      const ConvGeometry g = Depthwise3x3(in_h, stride, true);
      const int band_rows = engine::BandRows(g);
      EXPECT_GE(band_rows * g.out_w, std::min(engine::kMinBandPixels, g.out_h * g.out_w));
      CheckSplits(g, band_rows);
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
          CheckSplits(g, band_rows);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

}  // namespace
}  // namespace mnv2
