// Shapes shared by the kernel test suites: the channel counts of the whole
// MobileNetV2 family, and convolution shapes with TF "SAME" or symmetric padding.
#ifndef MNV2_TESTS_KERNEL_SHAPES_H_
#define MNV2_TESTS_KERNEL_SHAPES_H_

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "kernels/kernels.h"

namespace mnv2 {
namespace kernels {
namespace testing_shapes {

// ---------------------------------------------------------------------------
// MobileNetV2 channel counts for every width multiplier.

inline int MakeDivisible(double v, int divisor = 8) {
  int nv = std::max(divisor, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

constexpr double kAlphas[] = {0.35, 0.5, 0.75, 1.0, 1.3, 1.4};

struct MobileNetShapes {
  std::set<std::pair<int, int>> gemm_kn;             // 1x1 convs: (in, out)
  std::set<std::pair<int, int>> depthwise_c_stride;  // (channels, stride)
  std::set<int> stem_out;                            // stem conv output channels
  std::set<int> head;                                // last conv = pooled channels
};

inline const MobileNetShapes& AllMobileNetShapes() {
  static const MobileNetShapes shapes = [] {
    MobileNetShapes s;
    struct Block {
      int t, c, n, stride;
    };
    const Block blocks[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                            {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    for (double alpha : kAlphas) {
      int in = MakeDivisible(32 * alpha);
      s.stem_out.insert(in);
      for (const Block& b : blocks) {
        const int out = MakeDivisible(b.c * alpha);
        for (int i = 0; i < b.n; ++i) {
          const int expanded = in * b.t;
          if (b.t != 1) s.gemm_kn.insert({in, expanded});
          s.depthwise_c_stride.insert({expanded, i == 0 ? b.stride : 1});
          s.gemm_kn.insert({expanded, out});
          in = out;
        }
      }
      const int last = alpha > 1.0 ? MakeDivisible(1280 * alpha) : 1280;
      s.gemm_kn.insert({in, last});
      s.head.insert(last);
    }
    return s;
  }();
  return shapes;
}

inline DepthwiseShape MakeDepthwiseShape(int in_h, int in_w, int channels, int stride, int pad_top,
                                  int pad_left, bool same) {
  DepthwiseShape s;
  s.in_h = in_h;
  s.in_w = in_w;
  s.channels = channels;
  s.stride = stride;
  s.pad_top = pad_top;
  s.pad_left = pad_left;
  if (same) {  // TF "SAME" output size; any extra padding is at the bottom/right.
    s.out_h = (in_h + stride - 1) / stride;
    s.out_w = (in_w + stride - 1) / stride;
  } else {  // Symmetric padding.
    s.out_h = std::max(1, (in_h + 2 * pad_top - 3) / stride + 1);
    s.out_w = std::max(1, (in_w + 2 * pad_left - 3) / stride + 1);
  }
  return s;
}

inline std::string ToString(const DepthwiseShape& s) {
  std::ostringstream os;
  os << "in " << s.in_h << "x" << s.in_w << "x" << s.channels << " out " << s.out_h << "x"
     << s.out_w << " stride " << s.stride << " pad " << s.pad_top << "," << s.pad_left;
  return os.str();
}

inline ConvShape MakeConvShape(int in_h, int in_w, int in_c, int out_c, int kernel, int stride, int pad,
                        bool same) {
  ConvShape s;
  s.in_h = in_h;
  s.in_w = in_w;
  s.in_c = in_c;
  s.out_c = out_c;
  s.kernel_h = kernel;
  s.kernel_w = kernel;
  s.stride = stride;
  s.pad_top = pad;
  s.pad_left = pad;
  if (same) {
    s.out_h = (in_h + stride - 1) / stride;
    s.out_w = (in_w + stride - 1) / stride;
  } else {
    s.out_h = std::max(1, (in_h + 2 * pad - kernel) / stride + 1);
    s.out_w = std::max(1, (in_w + 2 * pad - kernel) / stride + 1);
  }
  return s;
}

inline std::string ToString(const ConvShape& s) {
  std::ostringstream os;
  os << "in " << s.in_h << "x" << s.in_w << "x" << s.in_c << " out " << s.out_h << "x" << s.out_w
     << "x" << s.out_c << " kernel " << s.kernel_h << "x" << s.kernel_w << " stride " << s.stride
     << " pad " << s.pad_top << "," << s.pad_left;
  return os.str();
}

}  // namespace testing_shapes
}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_TESTS_KERNEL_SHAPES_H_
