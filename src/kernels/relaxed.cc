// The relaxed dot product's form (relaxed.h): probed once in the relaxed WebAssembly build,
// set by tests natively, kNone otherwise.
#include "kernels/relaxed.h"

#include <atomic>

namespace mnv2 {
namespace kernels {
#if defined(MNV2_RELAXED_QGEMM)
namespace {

// -1 until probed.
std::atomic<int32_t> g_mode{-1};

}  // namespace
#endif

RelaxedDot ClassifyRelaxedDot(int32_t (*dot)(int32_t a, int32_t b)) {
  // Four lanes of 4 products each. 0xFF is 255 read unsigned, -1 read signed; a saturating form
  // caps each pair of products at 32767 (127 * 255 * 2 = 64770 does not fit).
  const int32_t small = dot(1, 1), one = dot(1, 0xFF), high = dot(127, 0xFF), low = dot(-128, 0xFF);
  if (small != 4) return RelaxedDot::kNone;
  if (one == 4 * 255 && high == 4 * 127 * 255 && low == 4 * -128 * 255) return RelaxedDot::kUnsigned;
  if (one == -4 && high == 4 * -127 && low == 4 * 128) return RelaxedDot::kSigned;
  return RelaxedDot::kNone;
}

#if defined(MNV2_RELAXED_QGEMM)
RelaxedDot RelaxedDotMode() {
  int32_t mode = g_mode.load(std::memory_order_relaxed);
  if (mode < 0) {
#if defined(MNV2_RELAXED_IMPORTS)
    mode = static_cast<int32_t>(ClassifyRelaxedDot(&mnv2_relaxed_dot_probe));
#else
    mode = static_cast<int32_t>(RelaxedDot::kNone);
#endif
    g_mode.store(mode, std::memory_order_relaxed);
  }
  return static_cast<RelaxedDot>(mode);
}
#endif

const char* RelaxedDotName(RelaxedDot mode) {
  switch (mode) {
    case RelaxedDot::kUnsigned:
      return "unsigned";
    case RelaxedDot::kSigned:
      return "signed";
    default:
      return "none";
  }
}

void SetRelaxedDotModeForTesting(RelaxedDot mode) {
#if defined(MNV2_RELAXED_QGEMM) && !defined(__EMSCRIPTEN__)
  g_mode.store(static_cast<int32_t>(mode), std::memory_order_relaxed);
#else
  (void)mode;
#endif
}

}  // namespace kernels
}  // namespace mnv2
