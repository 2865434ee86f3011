// Helpers shared by the image layer's .cc files; not part of its API.
#ifndef MNV2_IMAGE_INTERNAL_H_
#define MNV2_IMAGE_INTERNAL_H_

#include "common/status.h"
#include "image/image.h"

namespace mnv2 {
namespace image {
namespace internal {

// Ok if a width x height RGB image is within `limits` and its buffer is addressable;
// kImageTooLarge (or kImageDecode for non-positive sizes, which only a corrupt header
// can produce) otherwise. `what` names the source in messages, e.g. "PNG image".
Status CheckDimensions(int64_t width, int64_t height, const Limits& limits, const char* what);

}  // namespace internal
}  // namespace image
}  // namespace mnv2

#endif  // MNV2_IMAGE_INTERNAL_H_
