#include "kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mnv2 {
namespace kernels {
namespace reference {
namespace {

float Clamp(double v, float lo, float hi) {
  // Same order as the kernels: max with lo first, then min with hi.
  return std::min(std::max(static_cast<float>(v), lo), hi);
}

}  // namespace

void Gemm(const float* a, size_t a_stride, int m, int k, const float* weights, const float* bias,
          int n, float* c, size_t c_stride, float out_min, float out_max) {
  for (int i = 0; i < m; ++i) {
    const float* row = a + static_cast<size_t>(i) * a_stride;
    for (int j = 0; j < n; ++j) {
      const float* w = weights + static_cast<size_t>(j) * k;
      double sum = bias != nullptr ? bias[j] : 0.0;
      for (int kk = 0; kk < k; ++kk) sum += static_cast<double>(row[kk]) * w[kk];
      c[static_cast<size_t>(i) * c_stride + j] = Clamp(sum, out_min, out_max);
    }
  }
}

void DepthwiseConv3x3(const DepthwiseShape& s, const float* in, const float* weights,
                      const float* bias, float* out, float out_min, float out_max) {
  const size_t C = static_cast<size_t>(s.channels);
  for (int oy = 0; oy < s.out_h; ++oy) {
    for (int ox = 0; ox < s.out_w; ++ox) {
      for (size_t c = 0; c < C; ++c) {
        double sum = bias != nullptr ? bias[c] : 0.0;
        for (int ky = 0; ky < 3; ++ky) {
          const int iy = oy * s.stride - s.pad_top + ky * s.dilation;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int ix = ox * s.stride - s.pad_left + kx * s.dilation;
            if (ix < 0 || ix >= s.in_w) continue;
            sum += static_cast<double>(in[(static_cast<size_t>(iy) * s.in_w + ix) * C + c]) *
                   weights[static_cast<size_t>(ky * 3 + kx) * C + c];
          }
        }
        out[(static_cast<size_t>(oy) * s.out_w + ox) * C + c] = Clamp(sum, out_min, out_max);
      }
    }
  }
}

void Conv(const ConvShape& s, const float* in, const float* weights, const float* bias, float* out,
          float out_min, float out_max) {
  const size_t in_c = static_cast<size_t>(s.in_c);
  const size_t out_c = static_cast<size_t>(s.out_c);
  for (int oy = 0; oy < s.out_h; ++oy) {
    for (int ox = 0; ox < s.out_w; ++ox) {
      for (size_t o = 0; o < out_c; ++o) {
        double sum = bias != nullptr ? bias[o] : 0.0;
        for (int ky = 0; ky < s.kernel_h; ++ky) {
          const int iy = oy * s.stride - s.pad_top + ky;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int kx = 0; kx < s.kernel_w; ++kx) {
            const int ix = ox * s.stride - s.pad_left + kx;
            if (ix < 0 || ix >= s.in_w) continue;
            const float* x = in + (static_cast<size_t>(iy) * s.in_w + ix) * in_c;
            const float* w =
                weights + ((o * s.kernel_h + ky) * static_cast<size_t>(s.kernel_w) + kx) * in_c;
            for (size_t i = 0; i < in_c; ++i) sum += static_cast<double>(x[i]) * w[i];
          }
        }
        out[(static_cast<size_t>(oy) * s.out_w + ox) * out_c + o] = Clamp(sum, out_min, out_max);
      }
    }
  }
}

void Add(const float* a, const float* b, size_t n, float* out, float out_min, float out_max) {
  for (size_t i = 0; i < n; ++i) out[i] = Clamp(a[i] + b[i], out_min, out_max);
}

void GlobalAveragePool(const float* in, size_t pixels, int channels, float* out) {
  const size_t C = channels > 0 ? static_cast<size_t>(channels) : 0;
  for (size_t c = 0; c < C; ++c) {
    double sum = 0.0;
    for (size_t p = 0; p < pixels; ++p) sum += in[p * C + c];
    out[c] = pixels == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(pixels));
  }
}

void Softmax(const float* in, int n, float beta, float* out) {
  if (n <= 0) return;
  std::vector<double> e(static_cast<size_t>(n));
  double max = -INFINITY;
  for (int i = 0; i < n; ++i) max = std::max(max, static_cast<double>(beta) * in[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    e[i] = std::exp(static_cast<double>(beta) * in[i] - max);
    sum += e[i];
  }
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(e[i] / sum);
}

void DotRows(const float* x, const float* rows, size_t n, size_t count, size_t stride, float* out) {
  for (size_t r = 0; r < count; ++r) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * rows[r * stride + i];
    out[r] = static_cast<float>(sum);
  }
}

void MulAddRows(const float* coeffs, const float* x, size_t n, size_t count, size_t stride, float* rows) {
  for (size_t r = 0; r < count; ++r) {
    for (size_t i = 0; i < n; ++i) {
      rows[r * stride + i] = static_cast<float>(rows[r * stride + i] + static_cast<double>(coeffs[r]) * x[i]);
    }
  }
}

void L2Normalize(const float* x, size_t n, float* out) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const double norm = std::max(std::sqrt(sum), 1e-6);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] / norm);
}

}  // namespace reference
}  // namespace kernels
}  // namespace mnv2
