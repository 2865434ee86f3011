// Per-layer microbenchmark of the kernels (npm run bench:layers; not part of the tests): every 1x1
// convolution and depthwise 3x3 of MobileNetV2 1.0/224, timed with the integer kernels (QGemm,
// QDepthwiseConv3x3) and with the float32 ones (Gemm, DepthwiseConv3x3) on the same shapes,
// band by band as the engines call them. Prints each layer's best time, GMAC/s and int8/float32
// ratio, then the totals per kind.
//
// It calls the kernels alone (no model, no engine), on synthetic data: bytes with a third of
// zeros, weights in [-127, 127], per-channel requantization multipliers of the sizes the
// ImageNet models have (outputs to [0, 255] after ReLU6, zero point 128 for the projections). The float GEMM is
// the dense one: the engine's projections skip their zeros (GemmSkippingZeros), which this does
// not time, since how much they skip depends on the photo.
//   cmake --build build-wasm-simd --target mnv2_bench_layers   (or build/, natively)
//   node --no-experimental-fetch build-wasm-simd/mnv2_bench_layers.js [REPEATS]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "engine/bands.h"
#include "kernels/kernels.h"
#include "kernels/quantized_kernels.h"

namespace {

using namespace mnv2::kernels;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

enum class Kind { kExpand, kDepthwise, kProject };
const char* KindName(Kind k) { return k == Kind::kExpand ? "expand" : k == Kind::kDepthwise ? "depthwise" : "project"; }

struct Layer {
  Kind kind;
  int h, w;          // input
  int k, n;          // 1x1: input and output channels; depthwise: channels (k == n)
  int stride;        // depthwise
};

// MobileNetV2 1.0/224's blocks (t, c, n, s) after the 112x112x32 stem, then the last 1x1.
std::vector<Layer> MobileNetV2Layers() {
  const int blocks[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                           {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::vector<Layer> layers;
  int c = 32, size = 112;
  for (const auto& b : blocks) {
    for (int i = 0; i < b[2]; ++i) {
      const int stride = i == 0 ? b[3] : 1, wide = c * b[0];
      if (b[0] != 1) layers.push_back({Kind::kExpand, size, size, c, wide, 1});
      layers.push_back({Kind::kDepthwise, size, size, wide, wide, stride});
      size = (size + stride - 1) / stride;
      layers.push_back({Kind::kProject, size, size, wide, b[1], 1});
      c = b[1];
    }
  }
  layers.push_back({Kind::kExpand, size, size, c, 1280, 1});
  return layers;
}

// Best of `repeats` timed calls of fn after as many untimed ones (V8 optimizes a function
// only once it has been called enough).
double Best(const std::function<void()>& fn, int repeats) {
  for (int i = 0; i < repeats; ++i) fn();
  double best = INFINITY;
  for (int i = 0; i < repeats; ++i) {
    const double t0 = Now();
    fn();
    best = std::min(best, Now() - t0);
  }
  return best;
}

struct Timing {
  double q = 0, f = 0, macs = 0;
};

Timing TimeLayer(const Layer& l, int repeats, std::mt19937& rng) {
  const bool depthwise = l.kind == Kind::kDepthwise;
  const int out_h = depthwise ? (l.h + l.stride - 1) / l.stride : l.h;
  const int out_w = depthwise ? (l.w + l.stride - 1) / l.stride : l.w;
  const size_t in_pixels = size_t(l.h) * l.w, out_pixels = size_t(out_h) * out_w;
  const bool relu = l.kind != Kind::kProject;
  std::vector<uint8_t> a(in_pixels * l.k);
  for (auto& x : a) x = rng() % 3 == 0 ? 0 : rng() % 256;
  const std::vector<float> af(a.begin(), a.end());
  const int taps = depthwise ? 9 : l.k;
  std::vector<int16_t> w(size_t(taps) * l.n);  // [n][k], or [3][3][channels]
  for (auto& x : w) x = static_cast<int16_t>(int(rng() % 255) - 127);
  const std::vector<float> wf(w.begin(), w.end());
  std::vector<int32_t> bias(l.n);
  for (auto& b : bias) b = int(rng() % 2001) - 1000;
  const std::vector<float> bf(bias.begin(), bias.end());
  // The ImageNet models' effective scales (input scale x weight scale / output scale): 1e-2 to
  // 3e-1 where ReLU6 follows, 1e-3 to 5e-3 in the projections.
  const double scale_lo = relu ? 1e-2 : 1e-3, scale_range = relu ? 30 : 5;
  std::vector<QuantizedMultiplier> mult(l.n);
  for (auto& m : mult) m = QuantizeMultiplier(scale_lo * std::pow(scale_range, (rng() % 1000) / 1000.0));
  QOutput out;
  if (!relu) out.zero_point = 128;
  const float lo = relu ? 0.f : -INFINITY, hi = relu ? 6.f : INFINITY;
  std::vector<uint8_t> cq(out_pixels * l.n);
  std::vector<float> cf(out_pixels * l.n);
  std::function<void()> runq, runf;
  std::vector<uint8_t> packed;
  std::vector<float> packedf;
  DepthwiseShape s{l.h, l.w, l.n, out_h, out_w, l.stride, l.stride == 1 ? 1 : 0, l.stride == 1 ? 1 : 0};
  if (depthwise) {
    packed.resize(PackedQDepthwiseBytes(l.n));
    PackQDepthwise(w.data(), bias.data(), mult.data(), l.n, 0, out, packed.data());
    runq = [&] { QDepthwiseConv3x3(s, a.data(), packed.data(), cq.data(), 0, out_h); };
    runf = [&] { DepthwiseConv3x3(s, af.data(), wf.data(), bf.data(), cf.data(), 0, out_h, lo, hi); };
  } else {
    packed.resize(PackedQGemmBytes(l.k, l.n));
    PackQGemm(w.data(), bias.data(), mult.data(), l.k, l.n, 0, out, packed.data());
    packedf.resize(PackedGemmWeightsFloats(l.k, l.n));
    PackGemmWeights(wf.data(), bf.data(), l.k, l.n, packedf.data());
    // The engines' bands: whole rows, at least kMinBandPixels pixels.
    mnv2::model::ConvGeometry g;
    g.out_h = l.h;
    g.out_w = l.w;
    const int band = l.w * mnv2::engine::BandRows(g);
    const int m = static_cast<int>(in_pixels);
    runq = [&, band, m] {
      for (int r = 0; r < m; r += band)
        QGemm(a.data() + size_t(r) * l.k, l.k, std::min(band, m - r), l.k, packed.data(), l.n,
              cq.data() + size_t(r) * l.n, l.n);
    };
    runf = [&, band, m] {
      for (int r = 0; r < m; r += band)
        Gemm(af.data() + size_t(r) * l.k, l.k, std::min(band, m - r), l.k, packedf.data(), l.n,
             cf.data() + size_t(r) * l.n, l.n, lo, hi);
    };
  }
  Timing t;
  t.q = Best(runq, repeats);
  t.f = Best(runf, repeats);
  t.macs = double(out_pixels) * l.n * (depthwise ? 9 : l.k);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  std::printf("MobileNetV2 1.0/224 layers, kernels alone (%s), best of %d calls after %d untimed\n", TargetName(),
              repeats, repeats);
  std::printf("%-9s %7s %5s %5s %2s %9s %6s %9s %6s %6s\n", "layer", "pixels", "in", "out", "s", "int8 us", "GMAC/s",
              "fp32 us", "GMAC/s", "q/f");
  std::mt19937 rng(1);
  Timing total[3];
  for (const Layer& l : MobileNetV2Layers()) {
    const Timing t = TimeLayer(l, repeats, rng);
    Timing& sum = total[static_cast<int>(l.kind)];
    sum.q += t.q;
    sum.f += t.f;
    sum.macs += t.macs;
    std::printf("%-9s %7d %5d %5d %2d %9.1f %6.1f %9.1f %6.1f %6.2f\n", KindName(l.kind), l.h * l.w, l.k, l.n,
                l.stride, t.q * 1e6, t.macs / t.q * 1e-9, t.f * 1e6, t.macs / t.f * 1e-9, t.q / t.f);
  }
  Timing all;
  for (int k = 0; k < 3; ++k) {
    const Timing& t = total[k];
    all.q += t.q;
    all.f += t.f;
    all.macs += t.macs;
    std::printf("total %-9s %6.1f M multiply-adds: int8 %6.3f ms (%5.1f GMAC/s), fp32 %6.3f ms (%5.1f GMAC/s), q/f %.2f\n",
                KindName(static_cast<Kind>(k)), t.macs * 1e-6, t.q * 1e3, t.macs / t.q * 1e-9, t.f * 1e3,
                t.macs / t.f * 1e-9, t.q / t.f);
  }
  std::printf("total all       %6.1f M multiply-adds: int8 %6.3f ms (%5.1f GMAC/s), fp32 %6.3f ms (%5.1f GMAC/s), q/f %.2f\n",
              all.macs * 1e-6, all.q * 1e3, all.macs / all.q * 1e-9, all.f * 1e3, all.macs / all.f * 1e-9,
              all.q / all.f);
  return 0;
}
