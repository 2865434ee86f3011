// Which Highway target the dispatch picks: compiled for every target like the
// kernels, so the answer is the one HWY_DYNAMIC_DISPATCH really uses.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/target.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace mnv2 {
namespace kernels {
namespace HWY_NAMESPACE {
const char* TargetName() { return hwy::TargetName(HWY_TARGET); }
}  // namespace HWY_NAMESPACE
}  // namespace kernels
}  // namespace mnv2
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mnv2 {
namespace kernels {
HWY_EXPORT(TargetName);
const char* TargetName() {
#if defined(MNV2_RELAXED_BUILD)
  return "WASM_RELAXED";  // HWY_WASM, and the relaxed kernels of relaxed.h
#else
  return HWY_DYNAMIC_DISPATCH(TargetName)();
#endif
}
}  // namespace kernels
}  // namespace mnv2
#endif
