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

// What an untrusted model may ask for; beyond it loading fails with kModelTooLarge before the
// memory is allocated. MobileNetV2 1.4/224 in float32 is a 25 MB file and needs about 60 MB.
struct Limits {
  size_t max_model_bytes = 128u << 20;   // the .tflite file
  size_t max_memory_bytes = 512u << 20;  // float weights twice (as read and as packed by the
                                         // engine) plus twice the largest layer's input and
                                         // output: a bound on what loading and running allocate
};

// What to read besides the structure. Float weights are megabytes, and dequantizing them was
// the longest part of a cold load; a quantized model's engines can do without them: with
// skip_float_weights, a network that the integer path can run keeps each layer's weights as
// the file stores them (LayerQuantization) and its float weights are checked (shape, size)
// but left empty. The float engine then makes them from the stored integers as it packs
// them. Any other network (float weights, or a graph the integer path cannot run) is read in
// full, the graph read again if weights were already skipped.
struct BuildOptions {
  bool skip_float_weights = false;
};

Result<Network> BuildNetwork(const Graph& graph, const Limits& limits = {}, const BuildOptions& options = {});
// ReadTflite + BuildNetwork. The bytes may be freed afterwards.
Result<Network> LoadTflite(const uint8_t* data, size_t size, const Limits& limits = {},
                           const BuildOptions& options = {});

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_BUILDER_H_
