// Fuzzes the TFLite reader, the graph builder and the engines' planning: any bytes must
// load or fail with a Status, never crash, read out of bounds or allocate past the limits.
// Each input is read twice, in full and as the C API reads it (without the float weights of
// 8-bit layers, which the float engine then makes from the stored integers): both readings
// must accept and refuse the same files, and the float engine must plan either both or neither.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/engine.h"
#include "engine/planned.h"
#include "engine/quantized_engine.h"
#include "fuzz_limits.h"
#include "model/builder.h"

namespace {

template <class T>
void ExpectReason(const mnv2::Result<T>& r) {
  if (!r.ok() && r.status().message().empty()) std::abort();  // every error says why
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mnv2;
  Result<model::Network> net = model::LoadTflite(data, size, fuzz::ModelLimits());
  Result<model::Network> lean = model::LoadTflite(data, size, fuzz::ModelLimits(), engine::PlannedModel::ReadOptions());
  ExpectReason(net);
  ExpectReason(lean);
  if (net.ok() != lean.ok()) std::abort();
  if (!net.ok()) return 0;
  Result<std::unique_ptr<engine::Engine>> full_engine = engine::Engine::Create(*net);
  Result<std::unique_ptr<engine::Engine>> lean_engine = engine::Engine::Create(*lean);
  ExpectReason(full_engine);
  ExpectReason(lean_engine);
  if (full_engine.ok() != lean_engine.ok()) std::abort();
  if (lean->quant.available) ExpectReason(engine::QuantizedEngine::Create(*lean));
  return 0;
}
