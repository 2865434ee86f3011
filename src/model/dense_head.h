// A dense classifier over L2-normalized embeddings (a network's pooled features), as a
// learner trains it and ExportTflite (model/tflite_export.h) writes it after a backbone:
//   scores = softmax(weights · L2Normalize(x) + bias)
// Header only: code that knows no engine or model file can include it.
#ifndef MNV2_MODEL_DENSE_HEAD_H_
#define MNV2_MODEL_DENSE_HEAD_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace mnv2 {
namespace model {

struct DenseHead {
  int features = 0, classes = 0;
  std::vector<float> weights;  // [classes][features]
  std::vector<float> bias;     // [classes]
};

// out = x / max(sqrt(sum x²), 1e-6), summed and divided in float32 in order: TFLite's
// L2_NORMALIZATION (tensorflow/lite/kernels/internal/reference/l2normalization.h). out may be x.
inline void L2Normalize(const float* x, int n, float* out) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += x[i] * x[i];
  const float norm = std::max(std::sqrt(sum), 1e-6f);
  for (int i = 0; i < n; ++i) out[i] = x[i] / norm;
}

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_DENSE_HEAD_H_
