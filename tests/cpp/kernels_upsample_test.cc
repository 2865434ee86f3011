// The resize taps and the fused upsample-argmax against the whole-tensor reference and
// hand-computed cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/upsample.h"

namespace mnv2 {
namespace kernels {
namespace {

std::vector<ResizeTap> Taps(int in, int out, bool align_corners, bool half_pixel_centers) {
  std::vector<ResizeTap> t(out);
  ResizeTaps(in, out, align_corners, half_pixel_centers, t.data());
  return t;
}

TEST(ResizeTaps, AlignCornersHitsBothEnds) {
  // DeepLab's 33 -> 513 with align_corners: output 16k is input k exactly, 1/16 steps between.
  const std::vector<ResizeTap> t = Taps(33, 513, true, false);
  for (int o = 0; o < 513; ++o) {
    EXPECT_EQ(t[o].i0, o / 16) << o;
    EXPECT_EQ(t[o].frac, (o % 16) * 64) << o;
    EXPECT_EQ(t[o].i1, std::min(o / 16 + (o % 16 ? 1 : 0), 32)) << o;
  }
}

TEST(ResizeTaps, SameSizeIsTheIdentity) {
  for (bool align : {false, true}) {
    for (bool half : {false, true}) {
      if (align && half) continue;
      const std::vector<ResizeTap> t = Taps(33, 33, align, half);
      for (int o = 0; o < 33; ++o) {
        const int32_t weight_of = t[o].i0 == o ? 1024 - t[o].frac : 0;
        EXPECT_EQ(weight_of + (t[o].i1 == o ? t[o].frac : 0), 1024) << o << " align " << align << " half " << half;
      }
    }
  }
}

TEST(ResizeTaps, HalfPixelCentersAndPlainScaleStayInside) {
  for (int in : {1, 2, 5, 33}) {
    for (int out : {1, 3, 64, 513, 1000}) {
      for (bool half : {false, true}) {
        const std::vector<ResizeTap> t = Taps(in, out, false, half);
        for (int o = 0; o < out; ++o) {
          ASSERT_TRUE(t[o].i0 >= 0 && t[o].i0 < in && t[o].i1 >= 0 && t[o].i1 < in) << in << "->" << out << " at " << o;
        }
      }
    }
  }
  // 2 -> 4 with half-pixel centers: sample centers at 0.25 of the way, clamped at the edges.
  const std::vector<ResizeTap> t = Taps(2, 4, false, true);
  EXPECT_EQ(t[1].i0, 0);
  EXPECT_EQ(t[1].i1, 1);
  EXPECT_EQ(t[1].frac, 256);
  EXPECT_EQ(t[2].frac, 768);
}

// Random logits with a few structured regions, so that every class wins somewhere.
std::vector<uint8_t> Logits(int h, int w, int classes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(static_cast<size_t>(h) * w * classes);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < classes; ++c) {
        const int bump = (x + y) % classes == c ? 60 : 0;
        const int value = std::min<int>(255, static_cast<int>(rng() % 180) + bump);
        v[(static_cast<size_t>(y) * w + x) * classes + c] = static_cast<uint8_t>(value);
      }
    }
  }
  return v;
}

TEST(UpsampleArgmax, FusedEqualsTheWholeTensorReference) {
  struct Case {
    int h, w, classes, out_h, out_w;
    bool align, half;
  };
  for (const Case& c : {Case{33, 33, 21, 129, 129, true, false}, Case{5, 7, 3, 40, 23, false, true},
                        Case{4, 4, 2, 4, 4, false, false}, Case{1, 1, 5, 9, 6, true, false},
                        Case{9, 3, 256, 17, 31, false, false}, Case{6, 6, 1, 11, 11, true, false}}) {
    const std::vector<uint8_t> logits = Logits(c.h, c.w, c.classes, 3);
    std::vector<ResizeTap> ys = Taps(c.h, c.out_h, c.align, c.half);
    std::vector<ResizeTap> xs = Taps(c.w, c.out_w, c.align, c.half);
    // Some rows and columns outside what was resized (a crop box): class 0 there.
    ys[0].i0 = -1;
    xs.back().i0 = -1;
    std::vector<uint8_t> want(static_cast<size_t>(c.out_h) * c.out_w), got(want.size(), 99);
    QUpsampleArgmaxReference(logits.data(), c.h, c.w, c.classes, ys.data(), xs.data(), c.out_h, c.out_w, want.data());
    std::vector<int32_t> scratch(UpsampleScratch(c.h, c.w, c.classes));
    // In two calls, as threads share the rows.
    const int half = c.out_h / 2;
    QUpsampleArgmax(logits.data(), c.h, c.w, c.classes, ys.data(), xs.data(), c.out_w, 0, half, scratch.data(),
                    got.data(), c.out_w);
    QUpsampleArgmax(logits.data(), c.h, c.w, c.classes, ys.data(), xs.data(), c.out_w, half, c.out_h, scratch.data(),
                    got.data(), c.out_w);
    EXPECT_EQ(got, want) << c.h << "x" << c.w << "x" << c.classes << " -> " << c.out_h << "x" << c.out_w;
    for (int x = 0; x < c.out_w; ++x) EXPECT_EQ(got[x], 0) << "row outside";
    if (c.classes > 2 && c.h * c.w > 1) {
      std::vector<bool> seen(c.classes);
      for (uint8_t v : got) seen[v] = true;
      EXPECT_GE(std::count(seen.begin() + 1, seen.end(), true), 2) << "several classes win";
    }
  }
}

TEST(UpsampleArgmax, HandComputed) {
  // 1x2 map, 2 classes: class 0 falls from 200 to 0, class 1 rises from 0 to 100; resized to 1x5
  // with aligned corners the crossing (200 (1 - t) = 100 t at t = 2/3) lies between outputs 2 and 3.
  const uint8_t logits[4] = {200, 0, 0, 100};
  const std::vector<ResizeTap> ys = Taps(1, 1, true, false), xs = Taps(2, 5, true, false);
  uint8_t q[5], f[5];
  std::vector<int32_t> scratch(UpsampleScratch(1, 2, 2));
  QUpsampleArgmax(logits, 1, 2, 2, ys.data(), xs.data(), 5, 0, 1, scratch.data(), q, 5);
  const float real[4] = {200, 0, 0, 100};
  std::vector<float> fscratch(UpsampleScratch(1, 2, 2));
  UpsampleArgmax(real, 1, 2, 2, ys.data(), xs.data(), 5, 0, 1, fscratch.data(), f, 5);
  const uint8_t want[5] = {0, 0, 0, 1, 1};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(q[i], want[i]) << i;
    EXPECT_EQ(f[i], want[i]) << i;
  }
  // A tie after rounding goes to the first class: 0.5 * 200 + 0.5 * 0 = 100 = 0.5 * 0 + 0.5 * 200.
  const uint8_t tie[4] = {200, 0, 0, 200};
  const std::vector<ResizeTap> mid = Taps(2, 3, true, false);
  uint8_t t[3];
  QUpsampleArgmax(tie, 1, 2, 2, ys.data(), mid.data(), 3, 0, 1, scratch.data(), t, 3);
  EXPECT_EQ(t[0], 0);
  EXPECT_EQ(t[1], 0);
  EXPECT_EQ(t[2], 1);
}

TEST(UpsampleArgmax, FloatMatchesADoubleReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.0f, 3.0f);
  const int h = 9, w = 11, classes = 7, out_h = 50, out_w = 61;
  std::vector<float> logits(static_cast<size_t>(h) * w * classes);
  for (float& v : logits) v = n(rng);
  const std::vector<ResizeTap> ys = Taps(h, out_h, false, true), xs = Taps(w, out_w, false, true);
  std::vector<float> scratch(UpsampleScratch(h, w, classes));
  std::vector<uint8_t> got(static_cast<size_t>(out_h) * out_w);
  UpsampleArgmax(logits.data(), h, w, classes, ys.data(), xs.data(), out_w, 0, out_h, scratch.data(), got.data(),
                 out_w);
  int differences = 0;
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      const double fy = ys[y].frac / 1024.0, fx = xs[x].frac / 1024.0;
      auto at = [&](int r, int col, int c) {
        return static_cast<double>(logits[(static_cast<size_t>(r) * w + col) * classes + c]);
      };
      int best = 0;
      double best_v = -1e30;
      for (int c = 0; c < classes; ++c) {
        const double v = (1 - fy) * ((1 - fx) * at(ys[y].i0, xs[x].i0, c) + fx * at(ys[y].i0, xs[x].i1, c)) +
                         fy * ((1 - fx) * at(ys[y].i1, xs[x].i0, c) + fx * at(ys[y].i1, xs[x].i1, c));
        if (v > best_v) best_v = v, best = c;
      }
      differences += got[static_cast<size_t>(y) * out_w + x] != best;
    }
  }
  EXPECT_LE(differences, 2) << "only exact near-ties may differ";
}

}  // namespace
}  // namespace kernels
}  // namespace mnv2
