// Fuzzes the TFLite reader, the graph builder and the engine's planning: any bytes must
// load or fail with a Status, never crash, read out of bounds or allocate past the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/engine.h"
#include "fuzz_limits.h"
#include "model/builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mnv2;
  Result<model::Network> net = model::LoadTflite(data, size, fuzz::ModelLimits());
  if (!net.ok()) {
    if (net.status().message().empty()) std::abort();  // every error says why
    return 0;
  }
  Result<std::unique_ptr<engine::Engine>> engine = engine::Engine::Create(*net);
  if (!engine.ok() && engine.status().message().empty()) std::abort();
  return 0;
}
