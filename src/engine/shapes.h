// The kernels' shapes of a layer's geometry, for both engines.
#ifndef MNV2_ENGINE_SHAPES_H_
#define MNV2_ENGINE_SHAPES_H_

#include "kernels/kernels.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

inline kernels::ConvShape ToConvShape(const model::ConvGeometry& g) {
  return {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w, g.stride, g.pad_top, g.pad_left};
}

inline kernels::DepthwiseShape ToDepthwiseShape(const model::ConvGeometry& g) {
  return {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.stride, g.pad_top, g.pad_left, g.dilation};
}

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_SHAPES_H_
