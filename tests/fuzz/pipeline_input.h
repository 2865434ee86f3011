// The pipeline fuzzer's input: a model and an image in one byte string,
//   [model size: 4 bytes, little endian][model bytes][image bytes]
// (a size past the end means "all the rest is the model").
#ifndef MNV2_TESTS_FUZZ_PIPELINE_INPUT_H_
#define MNV2_TESTS_FUZZ_PIPELINE_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mnv2 {
namespace fuzz {

struct PipelineInput {
  const uint8_t* model = nullptr;
  size_t model_size = 0;
  const uint8_t* image = nullptr;
  size_t image_size = 0;
};

inline PipelineInput SplitPipelineInput(const uint8_t* data, size_t size) {
  PipelineInput in;
  if (size < 4) return in;
  size_t n = data[0] | data[1] << 8 | data[2] << 16 | static_cast<size_t>(data[3]) << 24;
  if (n > size - 4) n = size - 4;
  in.model = data + 4;
  in.model_size = n;
  in.image = data + 4 + n;
  in.image_size = size - 4 - n;
  return in;
}

inline std::vector<uint8_t> JoinPipelineInput(const std::vector<uint8_t>& model, const std::vector<uint8_t>& image) {
  const size_t n = model.size();
  std::vector<uint8_t> out = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n >> 16),
                              static_cast<uint8_t>(n >> 24)};
  out.insert(out.end(), model.begin(), model.end());
  out.insert(out.end(), image.begin(), image.end());
  return out;
}

}  // namespace fuzz
}  // namespace mnv2

#endif  // MNV2_TESTS_FUZZ_PIPELINE_INPUT_H_
