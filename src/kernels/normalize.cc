// kernels::L2Normalize. Scalar, and compiled for size in WebAssembly: it runs once per
// inference or example, on about a thousand floats, and a vector version would be bytes in every
// module for no measurable time.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace mnv2 {
namespace kernels {

void L2Normalize(const float* x, size_t n, float* out) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += x[i] * x[i];
  const float norm = std::max(std::sqrt(sum), 1e-6f);
  for (size_t i = 0; i < n; ++i) out[i] = x[i] / norm;
}

}  // namespace kernels
}  // namespace mnv2
