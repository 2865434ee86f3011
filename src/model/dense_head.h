// A dense classifier over L2-normalized embeddings (a network's pooled features), as a
// learner trains it and ExportTflite (model/tflite_export.h) writes it after a backbone:
//   scores = softmax(weights · L2Normalize(x) + bias)   (kernels::L2Normalize)
// Header only: code that knows no engine or model file can include it.
#ifndef MNV2_MODEL_DENSE_HEAD_H_
#define MNV2_MODEL_DENSE_HEAD_H_

#include <vector>

namespace mnv2 {
namespace model {

struct DenseHead {
  int features = 0, classes = 0;
  std::vector<float> weights;  // [classes][features]
  std::vector<float> bias;     // [classes]
};

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_DENSE_HEAD_H_
