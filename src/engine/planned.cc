#include "engine/planned.h"

#include <utility>

namespace mnv2 {
namespace engine {

model::BuildOptions PlannedModel::ReadOptions(Precision precision) {
  model::BuildOptions options;
  options.integer_only = precision != Precision::kFp32;
  return options;
}

Result<PlannedModel> PlannedModel::Plan(const model::Network& net, Precision precision, int threads,
                                        const std::function<Result<model::Network>()>& reread) {
  PlannedModel m;
  if (precision == Precision::kInt8 || (precision == Precision::kAuto && net.quant.available)) {
    Result<std::unique_ptr<QuantizedEngine>> q = QuantizedEngine::Create(net, threads);
    if (q.ok()) {
      m.integer_ = std::move(*q);
      return m;
    }
    if (precision == Precision::kInt8) return q.status();
  }
  auto plan_float = [&](const model::Network& with_weights) -> Result<PlannedModel> {
    Result<std::unique_ptr<Engine>> f = Engine::Create(with_weights, threads);
    if (!f.ok()) return f.status();
    m.float_ = std::move(*f);
    return std::move(m);
  };
  if (net.float_weights || !reread) return plan_float(net);  // (Engine::Create refuses a network without)
  const Result<model::Network> full = reread();
  if (!full.ok()) return full.status();
  return plan_float(*full);
}

}  // namespace engine
}  // namespace mnv2
