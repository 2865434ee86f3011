// Writes TF.js models for tests: a Network's layers and weights as a Keras "layers" model or
// a TF "graph-model", in the shapes tensorflowjs_converter gives them, plus the Network the
// loader must read back from them.
#ifndef MNV2_TESTS_TFJS_WRITER_H_
#define MNV2_TESTS_TFJS_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace testing {

enum class TfjsQuantization { kNone, kUint8, kUint16, kFloat16 };

struct TfjsWriteOptions {
  TfjsQuantization quantization = TfjsQuantization::kNone;
  // Pooling: AveragePooling2D + Flatten (layers) or AvgPool + Squeeze (graph), as nsfwjs has,
  // instead of GlobalAveragePooling2D (layers) or Mean (graph).
  bool avg_pool = false;
  // Layers: Keras' ZeroPadding2D + 'valid' before stride-2 convolutions (keras.applications'
  // MobileNetV2) instead of 'same'. Graph: Pad nodes + VALID instead of SAME.
  bool pad_layers = true;
  // Graph: Conv2D / DepthwiseConv2dNative / MatMul then BiasAdd and Relu6 nodes instead of the
  // converter's fused ops.
  bool unfused = false;
  // Graph: Mul and Sub nodes mapping [0, 1] to [-1, 1] after the input, as TF Hub graphs have.
  bool normalize_in_graph = true;
  // Layers: random batch norms (epsilon 1e-3) instead of ones that fold to the weights as they
  // are; the expected network has them folded as the loader must, in double precision.
  bool random_batch_norm = false;
  uint32_t seed = 1;
  // Split the weights into shards of this many bytes (the converter's 4 MB by default).
  size_t shard_bytes = 4u << 20;
};

struct TfjsFiles {
  std::string json;
  std::vector<std::vector<uint8_t>> shards;
  std::vector<uint8_t> weights;  // the shards concatenated
  // `net` as the loader must read it: the weights after the quantization round trip.
  model::Network expected;
};

// `net` must be a MobileNetV2 as the TFLite builder makes them (SAME padding).
TfjsFiles WriteLayersModel(const model::Network& net, const TfjsWriteOptions& options = {});
TfjsFiles WriteGraphModel(const model::Network& net, const TfjsWriteOptions& options = {});

// The network of SyntheticMobileNetV2(spec) as the TFLite builder reads it: the source of the
// TF.js models the tests write.
model::Network SyntheticNetwork(const SyntheticSpec& spec);

// Puts `sizes` dense layers (ReLU, random weights) between the pooling and a new classifier
// over the last of them.
void AddDenseHead(model::Network* net, const std::vector<int>& sizes, uint32_t seed);

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_TFJS_WRITER_H_
