// The kernels' shapes of a layer's geometry, and the alignment of the arenas, for both engines.
#ifndef MNV2_ENGINE_SHAPES_H_
#define MNV2_ENGINE_SHAPES_H_

#include <cstddef>

#include "kernels/kernels.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

// `count` elements of T rounded up to whole 64-byte lines: the arenas' offsets stay 64-byte
// aligned (a cache line; an AVX-512 vector).
template <class T>
constexpr size_t AlignToLine(size_t count) {
  constexpr size_t per_line = 64 / sizeof(T);
  return (count + per_line - 1) / per_line * per_line;
}

inline kernels::ConvShape ToConvShape(const model::ConvGeometry& g) {
  return {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w, g.stride, g.pad_top, g.pad_left};
}

inline kernels::DepthwiseShape ToDepthwiseShape(const model::ConvGeometry& g) {
  return {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.stride, g.pad_top, g.pad_left, g.dilation};
}

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_SHAPES_H_
