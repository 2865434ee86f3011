// IEEE 754 half precision, as .tflite files and TF.js weight shards store it.
#ifndef MNV2_MODEL_FLOAT16_H_
#define MNV2_MODEL_FLOAT16_H_

#include <cmath>
#include <cstdint>

namespace mnv2 {
namespace model {

// Exact: every half is a float.
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float value;
  if (exponent == 0) {
    value = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    value = mantissa ? NAN : INFINITY;
  } else {
    value = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  }
  return sign ? -value : value;
}

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_FLOAT16_H_
