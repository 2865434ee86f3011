// Writes a network's backbone with a learned head as a complete .tflite file, which TFLite's
// runtime runs and LoadTflite reads back with the same scores.
#ifndef MNV2_MODEL_TFLITE_EXPORT_H_
#define MNV2_MODEL_TFLITE_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/dense_head.h"
#include "model/network.h"

namespace mnv2 {
namespace model {

// The graph: the backbone as `backbone` holds it up to its pooled features (stem, blocks, head
// convolution; what followed the pooling, classifier and hidden dense layers, is replaced; float32
// weights, or a quantized network's stored integers with their scales and zero points), global
// average pooling, [DEQUANTIZE after a quantized backbone,] L2_NORMALIZATION, FULLY_CONNECTED
// (head) and SOFTMAX, all in float32; the output is [1, classes] float32. `labels` (one per
// class, or none) are stored in the file's metadata (kLabelsMetadata). kInvalidArgument for a
// head that does not fit the backbone, non-finite weights, labels that are not one line each,
// or a backbone that TFLite cannot express (padding other than
// SAME or VALID; a float input mapped other than to [-1, 1] or through an integer zero point).
Result<std::vector<uint8_t>> ExportTflite(const Network& backbone, const DenseHead& head,
                                          const std::vector<std::string>& labels);

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_TFLITE_EXPORT_H_
