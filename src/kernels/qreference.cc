#include "kernels/qreference.h"

#include <algorithm>

namespace mnv2 {
namespace kernels {
namespace qreference {
namespace {

uint8_t OutputStage(int32_t acc, QuantizedMultiplier m, const QOutput& out) {
  const int64_t v = static_cast<int64_t>(MultiplyByQuantizedMultiplier(acc, m)) + out.zero_point;
  return static_cast<uint8_t>(std::min<int64_t>(std::max<int64_t>(v, out.min), out.max));
}

}  // namespace

void Conv(const ConvShape& s, const uint8_t* in, int32_t input_zero_point, const int16_t* weights,
          const int32_t* bias, const QuantizedMultiplier* mult, const QOutput& out, uint8_t* output) {
  const size_t in_c = static_cast<size_t>(s.in_c);
  for (int oy = 0; oy < s.out_h; ++oy) {
    for (int ox = 0; ox < s.out_w; ++ox) {
      for (int o = 0; o < s.out_c; ++o) {
        int32_t acc = bias ? bias[o] : 0;
        for (int ky = 0; ky < s.kernel_h; ++ky) {
          const int iy = oy * s.stride - s.pad_top + ky;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int kx = 0; kx < s.kernel_w; ++kx) {
            const int ix = ox * s.stride - s.pad_left + kx;
            if (ix < 0 || ix >= s.in_w) continue;
            const uint8_t* x = in + (static_cast<size_t>(iy) * s.in_w + ix) * in_c;
            const int16_t* w = weights + ((static_cast<size_t>(o) * s.kernel_h + ky) * s.kernel_w + kx) * in_c;
            for (size_t i = 0; i < in_c; ++i) acc += (x[i] - input_zero_point) * w[i];
          }
        }
        output[(static_cast<size_t>(oy) * s.out_w + ox) * s.out_c + o] = OutputStage(acc, mult[o], out);
      }
    }
  }
}

void Gemm(const uint8_t* a, size_t a_stride, int m, int k, int32_t input_zero_point, const int16_t* weights,
          const int32_t* bias, const QuantizedMultiplier* mult, int n, const QOutput& out, uint8_t* c,
          size_t c_stride) {
  for (int i = 0; i < m; ++i) {
    const uint8_t* row = a + static_cast<size_t>(i) * a_stride;
    for (int j = 0; j < n; ++j) {
      const int16_t* w = weights + static_cast<size_t>(j) * k;
      int32_t acc = bias ? bias[j] : 0;
      for (int kk = 0; kk < k; ++kk) acc += (row[kk] - input_zero_point) * w[kk];
      c[static_cast<size_t>(i) * c_stride + j] = OutputStage(acc, mult[j], out);
    }
  }
}

void DepthwiseConv3x3(const DepthwiseShape& s, const uint8_t* in, int32_t input_zero_point, const int16_t* weights,
                      const int32_t* bias, const QuantizedMultiplier* mult, const QOutput& out, uint8_t* output) {
  const size_t C = static_cast<size_t>(s.channels);
  for (int oy = 0; oy < s.out_h; ++oy) {
    for (int ox = 0; ox < s.out_w; ++ox) {
      for (size_t c = 0; c < C; ++c) {
        int32_t acc = bias ? bias[c] : 0;
        for (int ky = 0; ky < 3; ++ky) {
          const int iy = oy * s.stride - s.pad_top + ky * s.dilation;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int ix = ox * s.stride - s.pad_left + kx * s.dilation;
            if (ix < 0 || ix >= s.in_w) continue;
            acc += (in[(static_cast<size_t>(iy) * s.in_w + ix) * C + c] - input_zero_point) *
                   weights[static_cast<size_t>(ky * 3 + kx) * C + c];
          }
        }
        output[(static_cast<size_t>(oy) * s.out_w + ox) * C + c] = OutputStage(acc, mult[c], out);
      }
    }
  }
}

void Add(const uint8_t* a, const uint8_t* b, size_t n, const QAddParams& p, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    // TFLite's AddElementwise: left shift 20, each input rescaled, the sum rescaled.
    const int32_t x = (a[i] - p.a_zero_point) * (1 << 20);
    const int32_t y = (b[i] - p.b_zero_point) * (1 << 20);
    const int32_t sum = MultiplyByQuantizedMultiplier(x, p.a_mult) + MultiplyByQuantizedMultiplier(y, p.b_mult);
    out[i] = OutputStage(sum, p.out_mult, p.out);
  }
}

void Requantize(const uint8_t* in, size_t n, const QRequantParams& p, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = OutputStage(in[i] - p.input_zero_point, p.mult, p.out);
}

void GlobalAveragePool(const uint8_t* in, size_t pixels, int channels, const QPoolParams& p, uint8_t* out) {
  const size_t C = channels > 0 ? static_cast<size_t>(channels) : 0;
  const int32_t count = static_cast<int32_t>(pixels);
  for (size_t c = 0; c < C; ++c) {
    int32_t sum = 0;
    for (size_t i = 0; i < pixels; ++i) sum += in[i * C + c];
    int32_t v = 0;
    switch (p.kind) {
      case QPoolParams::Kind::kAveragePool:
        v = count ? (sum + count / 2) / count : 0;
        break;
      case QPoolParams::Kind::kAveragePoolInt8: {
        const int32_t acc = sum - 128 * count;  // the int8 values
        v = (count ? (acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count) : 0) + 128;
        break;
      }
      case QPoolParams::Kind::kMean: {
        int32_t acc = MultiplyByQuantizedMultiplier(sum - p.input_zero_point * count, p.mult);
        acc = count ? (acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count) : 0;
        v = acc + p.out.zero_point;
        break;
      }
      case QPoolParams::Kind::kMeanUint8:
        v = MultiplyByQuantizedMultiplier(sum, p.mult) + p.offset;
        break;
    }
    out[c] = static_cast<uint8_t>(std::min(std::max(v, p.out.min), p.out.max));
  }
}

}  // namespace qreference
}  // namespace kernels
}  // namespace mnv2
