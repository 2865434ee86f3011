// Turns a parsed TFLite graph into a validated MobileNetV2-family Network,
// rejecting anything else with an error that names the operator or tensor.
#ifndef MNV2_MODEL_BUILDER_H_
#define MNV2_MODEL_BUILDER_H_

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "model/network.h"
#include "model/tflite.h"

namespace mnv2 {
namespace model {

// Largest input side accepted; larger models would need gigabytes of activations.
constexpr int kMaxInputSide = 2048;

Result<Network> BuildNetwork(const Graph& graph);
// ReadTflite + BuildNetwork. The bytes may be freed afterwards.
Result<Network> LoadTflite(const uint8_t* data, size_t size);

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_BUILDER_H_
