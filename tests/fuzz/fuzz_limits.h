// The limits the fuzzers run under: small enough that one input runs in milliseconds and
// fits libFuzzer's memory limit, so that what they find is a bug, not a big input.
#ifndef MNV2_TESTS_FUZZ_FUZZ_LIMITS_H_
#define MNV2_TESTS_FUZZ_FUZZ_LIMITS_H_

#include "image/image.h"
#include "model/builder.h"

namespace mnv2 {
namespace fuzz {

// Enough for the real 1.0/224 models (about 40 MB), whose planning the model fuzzer reaches.
inline model::Limits ModelLimits() {
  model::Limits limits;
  limits.max_memory_bytes = 64u << 20;
  return limits;
}

// The pipeline fuzzer runs every model it loads: tiny ones only, or a run could take seconds.
inline model::Limits PipelineModelLimits() {
  model::Limits limits;
  limits.max_model_bytes = 1u << 20;
  limits.max_memory_bytes = 4u << 20;
  return limits;
}

// 256x256: decoding time grows with the declared pixels (stb_image pads short JPEG data), and
// bigger images reach no code that smaller ones do not.
inline image::Limits ImageLimits() {
  image::Limits limits;
  limits.max_pixels = 1 << 16;
  return limits;
}

}  // namespace fuzz
}  // namespace mnv2

#endif  // MNV2_TESTS_FUZZ_FUZZ_LIMITS_H_
