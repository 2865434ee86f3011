// Direct KxK convolution for few input channels (the MobileNetV2 stem), NHWC,
// vectorized over output channels of the packed weights
//   bias[oc_padded], then [kh][kw][in_c][oc_padded]   (see kernels.h).
//
// For each output pixel and block of up to kConvBlockPanels panels of
// kGemmPanel output channels, the accumulators stay in registers while the
// valid taps are walked; each input value is broadcast once per block. Taps
// of one kernel row are contiguous in both the input row and the packed
// weights, so the kx and in_c loops fuse into one.

// Target-independent includes.
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"

#if defined(MNV2_KERNELS_CONV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MNV2_KERNELS_CONV_INL_H_
#undef MNV2_KERNELS_CONV_INL_H_
#else
#define MNV2_KERNELS_CONV_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Output channel panels computed together. In WebAssembly SIMD 2 (16 channels: 4
// accumulators): V8's optimizing compiler loads all of a tap's weight vectors before the
// first multiply, and 4 panels (8 accumulators, 8 weights, the broadcast) spilled an
// accumulator and a weight vector to the machine stack on every tap, whose store and reload
// then lay on the accumulator's dependency chain: the stem ran at 40% of the multiply-add
// peak. Elsewhere 4 (32 channels: 4 AVX2 or 8 SSE accumulators).
#if HWY_TARGET == HWY_WASM
constexpr size_t kConvBlockPanels = 2;
#else
constexpr size_t kConvBlockPanels = 4;
#endif

// One output row, output channels [oc0, oc0 + kPanels * kGemmPanel) clipped to
// out_c. oc0 is a multiple of kGemmPanel.
template <size_t kPanels>
HWY_NOINLINE void ConvRow(const ConvShape& s, const float* HWY_RESTRICT in,
                          const float* HWY_RESTRICT packed, size_t oc0, int oy,
                          float* HWY_RESTRICT out_row, float out_min, float out_max) {
  const PanelTag d;
  using V = hn::Vec<PanelTag>;
  constexpr size_t N = kPanelLanes;
  constexpr size_t kVecs = kPanels * kPanelVecs;

  const size_t in_c = static_cast<size_t>(s.in_c);
  const size_t out_c = static_cast<size_t>(s.out_c);
  const size_t ocp = (out_c + kGemmPanel - 1) / kGemmPanel * kGemmPanel;
  const float* HWY_RESTRICT bias = packed + oc0;
  const float* HWY_RESTRICT weights = packed + ocp + oc0;
  const size_t valid = HWY_MIN(kPanels * kGemmPanel, out_c - oc0);

  const V lo = hn::Set(d, out_min);
  const V hi = hn::Set(d, out_max);

  const int iy0 = oy * s.stride - s.pad_top;
  const int ky_begin = HWY_MAX(0, -iy0);
  const int ky_end = HWY_MIN(s.kernel_h, s.in_h - iy0);

  for (int ox = 0; ox < s.out_w; ++ox) {
    const int ix0 = ox * s.stride - s.pad_left;
    const int kx_begin = HWY_MAX(0, -ix0);
    const int kx_end = HWY_MIN(s.kernel_w, s.in_w - ix0);

    V acc[kVecs];
    for (size_t j = 0; j < kVecs; ++j) acc[j] = hn::LoadU(d, bias + j * N);

    if (kx_begin < kx_end) {
      // (kx, ic) pairs of one kernel row are contiguous in input and weights.
      const size_t run = static_cast<size_t>(kx_end - kx_begin) * in_c;
      for (int ky = ky_begin; ky < ky_end; ++ky) {
        const float* HWY_RESTRICT x =
            in + (static_cast<size_t>(iy0 + ky) * s.in_w + (ix0 + kx_begin)) * in_c;
        const float* HWY_RESTRICT w =
            weights + (static_cast<size_t>(ky) * s.kernel_w + kx_begin) * in_c * ocp;
        for (size_t i = 0; i < run; ++i, w += ocp) {
          const V xv = hn::Set(d, x[i]);
          for (size_t j = 0; j < kVecs; ++j) {
            acc[j] = hn::MulAdd(xv, hn::LoadU(d, w + j * N), acc[j]);
          }
        }
      }
    }

    float* HWY_RESTRICT out = out_row + static_cast<size_t>(ox) * out_c + oc0;
    if (HWY_LIKELY(valid == kPanels * kGemmPanel)) {
      for (size_t j = 0; j < kVecs; ++j) hn::StoreU(hn::Clamp(acc[j], lo, hi), d, out + j * N);
    } else {
      // Last, partial panel; the buffer keeps accumulator indices constant.
      HWY_ALIGN float buf[kVecs * N];
      for (size_t j = 0; j < kVecs; ++j) hn::Store(hn::Clamp(acc[j], lo, hi), d, buf + j * N);
      memcpy(out, buf, valid * sizeof(float));
    }
  }
}

// The last panels of a row (fewer than kConvBlockPanels): one block of exactly `panels`.
template <size_t kPanels>
HWY_INLINE void ConvLastPanels(size_t panels, const ConvShape& s, const float* HWY_RESTRICT in,
                               const float* HWY_RESTRICT packed, size_t oc0, int oy, float* HWY_RESTRICT out_row,
                               float out_min, float out_max) {
  if constexpr (kPanels >= 1) {
    if (panels == kPanels) return ConvRow<kPanels>(s, in, packed, oc0, oy, out_row, out_min, out_max);
    ConvLastPanels<kPanels - 1>(panels, s, in, packed, oc0, oy, out_row, out_min, out_max);
  }
}

// See kernels.h: output row `oy`, all channels, into out_row. out must not overlap in or
// packed.
HWY_NOINLINE void ConvDirectRow(const ConvShape& s, const float* HWY_RESTRICT in,
                                const float* HWY_RESTRICT packed, int oy, float* HWY_RESTRICT out_row,
                                float out_min, float out_max) {
  if (oy < 0 || oy >= s.out_h || s.out_c <= 0 || s.out_w <= 0) return;
  const size_t panels = (static_cast<size_t>(s.out_c) + kGemmPanel - 1) / kGemmPanel;
  size_t p = 0;
  for (; p + kConvBlockPanels <= panels; p += kConvBlockPanels) {
    ConvRow<kConvBlockPanels>(s, in, packed, p * kGemmPanel, oy, out_row, out_min, out_max);
  }
  ConvLastPanels<kConvBlockPanels - 1>(panels - p, s, in, packed, p * kGemmPanel, oy, out_row, out_min, out_max);
}

}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#endif  // MNV2_KERNELS_CONV_INL_H_
