// Shapes shared by the kernel test suites: the channel counts of the whole
// MobileNetV2 family, and convolution shapes with TF "SAME" or symmetric padding.
#ifndef MNV2_TESTS_KERNEL_SHAPES_H_
#define MNV2_TESTS_KERNEL_SHAPES_H_

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

// The window spans 2 * dilation + 1 pixels each way.
inline DepthwiseShape MakeDepthwiseShape(int in_h, int in_w, int channels, int stride, int pad_top,
                                  int pad_left, bool same, int dilation = 1) {
  DepthwiseShape s;
  s.in_h = in_h;
  s.in_w = in_w;
  s.channels = channels;
  s.stride = stride;
  s.pad_top = pad_top;
  s.pad_left = pad_left;
  s.dilation = dilation;
  const int extent = 2 * dilation + 1;
  if (same) {  // TF "SAME" output size; any extra padding is at the bottom/right.
    s.out_h = (in_h + stride - 1) / stride;
    s.out_w = (in_w + stride - 1) / stride;
  } else {  // Symmetric padding (at least one output, even where the window is wider).
    s.out_h = std::max(1, (in_h + 2 * pad_top - extent) / stride + 1);
    s.out_w = std::max(1, (in_w + 2 * pad_left - extent) / stride + 1);
  }
  return s;
}

inline std::string ToString(const DepthwiseShape& s) {
  std::ostringstream os;
  os << "in " << s.in_h << "x" << s.in_w << "x" << s.channels << " out " << s.out_h << "x"
     << s.out_w << " stride " << s.stride << " pad " << s.pad_top << "," << s.pad_left;
  if (s.dilation != 1) os << " dilation " << s.dilation;
  return os.str();
}

// ---------------------------------------------------------------------------
// Space-to-batch: a stride-1 depthwise convolution with dilation d, restricted to the
// outputs (a + d * j, b + d * i) of one phase (a, b), is an undilated stride-1 convolution
// of the input pixels (row0 + d * m, col0 + d * n) whose taps all share that phase. An
// independent check of the dilated kernels through the undilated ones.
// The dilated shapes both depthwise kernels are checked on (DeepLab's atrous layers): dilation 2
// and 3, strides 1 and 2, heights 1-9 and widths 1-33 (maps narrower than the 2 * dilation + 1
// window included), VALID, SAME-like (pad = dilation), SAME-sized with one-sided padding and
// symmetric padding. fn(shape, variant): `variant` counts the shapes from 1, and picks the channels
// among channels[9].
template <class Fn>
void ForEachDilatedShape(const int (&channels)[9], Fn&& fn) {
  const int kHeights[] = {1, 2, 4, 5, 7, 9};
  const int kWidths[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17, 33};
  int variant = 0;
  for (int dilation : {2, 3}) {
    for (int stride = 1; stride <= 2; ++stride) {
      for (int in_h : kHeights) {
        for (int in_w : kWidths) {
          const int pads[4][3] = {{0, 0, 0}, {dilation, dilation, 1}, {dilation, 0, 1}, {0, dilation, 0}};
          for (const auto& pad : pads) {
            ++variant;
            if (!fn(MakeDepthwiseShape(in_h, in_w, channels[variant % 9], stride, pad[0], pad[1], pad[2] != 0,
                                       dilation),
                    variant)) {
              return;
            }
          }
        }
      }
    }
  }
}

// Dilated layers whose every output phase the phase tests rebuild from undilated runs.
struct DilatedPhaseCase {
  int in_h, in_w, channels, dilation, pad;
  bool same;
};
inline const std::vector<DilatedPhaseCase>& DilatedPhaseCases() {
  static const std::vector<DilatedPhaseCase> cases = {
      {33, 33, 24, 2, 2, true}, {9, 13, 13, 2, 2, true}, {7, 8, 8, 3, 3, true}, {10, 11, 7, 2, 0, false},
      {11, 10, 1, 3, 0, false}, {8, 9, 17, 2, 1, true},  {5, 4, 32, 2, 2, true}, {3, 5, 16, 3, 3, true}};
  return cases;
}

struct DilationPhase {
  DepthwiseShape sub;      // undilated, stride 1
  int row0 = 0, col0 = 0;  // the sub-image's first input row and column
  int a = 0, b = 0;        // its first output row and column
};

// s: stride 1. sub.out_h or sub.out_w is 0 where the phase has no output.
inline DilationPhase MakeDilationPhase(const DepthwiseShape& s, int a, int b) {
  const int d = s.dilation;
  struct Axis {
    int first, in, out, pad;
  };
  auto axis = [d](int in, int out, int pad, int phase) {
    Axis x;
    x.first = ((phase - pad) % d + d) % d;  // input index of tap 0 of output `phase`, mod d
    x.in = in > x.first ? (in - x.first + d - 1) / d : 0;
    x.out = out > phase ? (out - phase + d - 1) / d : 0;
    x.pad = (x.first - phase + pad) / d;  // exact: first = phase - pad (mod d)
    return x;
  };
  const Axis y = axis(s.in_h, s.out_h, s.pad_top, a), x = axis(s.in_w, s.out_w, s.pad_left, b);
  DilationPhase p;
  p.sub = DepthwiseShape{y.in, x.in, s.channels, y.out, x.out, 1, y.pad, x.pad, 1};
  p.row0 = y.first;
  p.col0 = x.first;
  p.a = a;
  p.b = b;
  return p;
}

// The phase's input pixels, NHWC.
template <class T>
std::vector<T> PhaseInput(const DepthwiseShape& s, const DilationPhase& p, const std::vector<T>& in) {
  const size_t C = static_cast<size_t>(s.channels);
  std::vector<T> sub(static_cast<size_t>(p.sub.in_h) * p.sub.in_w * C);
  for (int m = 0; m < p.sub.in_h; ++m) {
    for (int n = 0; n < p.sub.in_w; ++n) {
      const size_t from = (static_cast<size_t>(p.row0 + s.dilation * m) * s.in_w + p.col0 + s.dilation * n) * C;
      std::copy_n(in.begin() + from, C, sub.begin() + (static_cast<size_t>(m) * p.sub.in_w + n) * C);
    }
  }
  return sub;
}

// Writes the phase's outputs (p.sub.out_h x p.sub.out_w pixels) into their places of `out`.
template <class T>
void ScatterPhaseOutput(const DepthwiseShape& s, const DilationPhase& p, const std::vector<T>& sub,
                        std::vector<T>* out) {
  const size_t C = static_cast<size_t>(s.channels);
  for (int j = 0; j < p.sub.out_h; ++j) {
    for (int i = 0; i < p.sub.out_w; ++i) {
      const size_t to = (static_cast<size_t>(p.a + s.dilation * j) * s.out_w + p.b + s.dilation * i) * C;
      std::copy_n(sub.begin() + (static_cast<size_t>(j) * p.sub.out_w + i) * C, C, out->begin() + to);
    }
  }
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
