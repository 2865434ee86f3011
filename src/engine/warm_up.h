// Warming the kernels up while a model loads, for both engines (WebAssembly only).
//
// V8 runs a WebAssembly function in its baseline tier (Liftoff) until the function has used
// up its tiering budget, then compiles it again with its optimizing tier (TurboFan) on a
// background thread; the calls made once that compile is done run the optimized code. The
// first inference used to be what spent the kernels' budgets, so it ran them in the baseline
// tier until their compiles came back (3-14 ms each): 21 ms in Node for an int8 inference
// that takes 9 ms from the second on. Each engine instead runs the kernels of its first two
// blocks (the 1x1 GEMMs and both depthwise strides) kWarmUpRounds times on a few pixels of
// zeros as soon as those blocks are planned: V8 then compiles them while the larger blocks'
// weights are packed, and the first inference finds them optimized. Natively (compiled ahead
// of time) one round, which takes microseconds and keeps this code under the sanitizers and
// fuzzers.
#ifndef MNV2_ENGINE_WARM_UP_H_
#define MNV2_ENGINE_WARM_UP_H_

#include <algorithm>
#include <cstddef>
#include <vector>

#include "engine/shapes.h"
#include "kernels/kernels.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

#if defined(__EMSCRIPTEN__)
// Enough for Node's V8 to optimize each kernel: 1-3 ms of baseline-tier calls in the int8 engine.
constexpr int kWarmUpRounds = 100;
#else
constexpr int kWarmUpRounds = 1;
#endif

// The blocks whose kernels warm up, and the input pixels (columns of one row) they run on.
constexpr size_t kWarmUpBlocks = 2;
constexpr int kWarmUpPixels = 16;

// Depthwise layer `g` narrowed to one row of kWarmUpPixels input columns.
inline kernels::DepthwiseShape WarmUpShape(const model::ConvGeometry& g) {
  kernels::DepthwiseShape s = ToDepthwiseShape(g);
  s.in_w = kWarmUpPixels;
  s.out_w = (kWarmUpPixels - 1) / g.stride + 1;
  return s;
}

// The stem narrowed to its first output row, from kernel_h input rows of kWarmUpPixels columns.
inline kernels::ConvShape WarmUpShape(kernels::ConvShape stem) {
  stem.in_h = stem.kernel_h;
  stem.out_h = 1;
  stem.in_w = kWarmUpPixels;
  stem.out_w = (kWarmUpPixels - 1) / stem.stride + 1;
  return stem;
}

// Elements per pixel that hold any input or output of the warm-up (the stem's `depth` inputs
// per output pixel, `stem.in_h` rows of its input; every layer of `blocks`): buffers of
// kWarmUpPixels times as many serve them all.
template <class Block>
size_t WarmUpWidth(const kernels::ConvShape& stem, int depth, const std::vector<Block>& blocks) {
  int widest = std::max({stem.in_h * stem.in_c, depth, stem.out_c});
  for (const Block& b : blocks) {
    widest = std::max({widest, b.expand.g.in_c, b.expand.g.out_c, b.depthwise.g.in_c, b.project.g.in_c,
                       b.project.g.out_c});
  }
  return static_cast<size_t>(widest);
}

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_WARM_UP_H_
