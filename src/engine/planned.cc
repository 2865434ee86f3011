#include "engine/planned.h"

#include <utility>

namespace mnv2 {
namespace engine {

model::BuildOptions PlannedModel::ReadOptions() {
  model::BuildOptions options;
  options.skip_float_weights = true;
  return options;
}

Result<PlannedModel> PlannedModel::Plan(const model::Network& net, Precision precision, int threads) {
  PlannedModel m;
  if (precision == Precision::kInt8 || (precision == Precision::kAuto && net.quant.available)) {
    Result<std::unique_ptr<QuantizedEngine>> q = QuantizedEngine::Create(net, threads);
    if (q.ok()) {
      m.integer_ = std::move(*q);
      return m;
    }
    if (precision == Precision::kInt8) return q.status();
  }
  Result<std::unique_ptr<Engine>> f = Engine::Create(net, threads);
  if (!f.ok()) return f.status();
  m.float_ = std::move(*f);
  return m;
}

}  // namespace engine
}  // namespace mnv2
