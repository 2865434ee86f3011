// TensorFlow.js models: a model.json (Keras "layers" format, or "graph-model" format of TF
// ops) plus its binary weight shards, read into the same validated Network as a .tflite file.
// Batch normalization, bias additions and activations are folded into the convolutions and
// dense layers they follow; quantized weights (uint8, uint16, float16) are dequantized.
#ifndef MNV2_MODEL_TFJS_H_
#define MNV2_MODEL_TFJS_H_

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "model/builder.h"
#include "model/network.h"

namespace mnv2 {
namespace model {

// The range the model's input expects pixels 0..255 to be mapped to, which a TF.js file does
// not say. min == max (the default) picks the convention of the model's kind:
//  - no normalization in the model: [-1, 1], Keras' MobileNetV2 preprocess_input;
//  - a model that normalizes its input itself (Mul/Sub/Add nodes, a Rescaling layer): [0, 1]
//    (TF Hub's image convention), or [0, 255] when it scales by less than 0.1 (raw pixels).
// The model's own normalization, if any, is applied after this mapping.
struct InputRange {
  float min = 0.0f, max = 0.0f;
};

// `model_json`: the model.json text. `weights`: every shard of its weightsManifest,
// concatenated in manifest order. Both may be freed afterwards. Limits apply as for
// LoadTflite: max_model_bytes to the JSON and the weights together.
Result<Network> LoadTfjs(const char* model_json, size_t json_size, const uint8_t* weights, size_t weights_size,
                         const InputRange& range = {}, const Limits& limits = {});

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_TFJS_H_
