// The few run-time functions of libhwy that a WebAssembly build needs. Debian ships
// libhwy only as a native library, and a WebAssembly module has exactly one target
// (chosen at compile time: HWY_WASM with -msimd128, HWY_EMU128 without), so target
// selection reduces to that one static target.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "hwy/base.h"
#include "hwy/targets.h"

namespace hwy {

HWY_NORETURN void Abort(const char* file, int line, const char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  std::fprintf(stderr, "Abort at %s:%d: %s\n", file, line, message);
  std::abort();
}

int64_t SupportedTargets() { return HWY_STATIC_TARGET; }
void DisableTargets(int64_t) {}
void SetSupportedTargetsForTest(int64_t) {}

}  // namespace hwy
