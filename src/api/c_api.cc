#include "api/c_api.h"

#include <memory>
#include <string>

#include "common/thread_local.h"
#include "engine/engine.h"
#include "image/image.h"
#include "kernels/kernels.h"
#include "model/builder.h"
#include "model/labels.h"

// What the API reports about a model; the Network itself (float weights) is freed once the
// engine has packed them.
struct ModelSummary {
  int num_classes = 0, feature_size = 0, input_height = 0, input_width = 0;
  float alpha = 0;
  bool quantized = false;
  std::string weight_type;
  double multiply_adds = 0;
};

struct Mnv2Model {
  ModelSummary summary;
  std::unique_ptr<mnv2::engine::Engine> engine;
  std::vector<std::string> labels;
};

namespace {

// Per thread, like errno.
MNV2_THREAD_LOCAL mnv2::Status last_error;

int Fail(const mnv2::Status& s) {
  last_error = s;
  return static_cast<int>(s.code());
}

int Succeed() {
  last_error = mnv2::Status::Ok();
  return 0;
}

int Classify(Mnv2Model* m, const mnv2::Result<mnv2::image::Image>& img, int fit) {
  if (!img.ok()) return Fail(img.status());
  m->engine->SetImage(*img, fit == 1 ? mnv2::image::Fit::kCenterCrop : mnv2::image::Fit::kStretch);
  m->engine->Run();
  return Succeed();
}

int CheckModel(const Mnv2Model* m) {
  return m ? 0 : Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "no model (null handle)"));
}

}  // namespace

extern "C" {

Mnv2Model* mnv2_load(const uint8_t* data, size_t size) {
  mnv2::Result<mnv2::model::Network> net = mnv2::model::LoadTflite(data, size);
  if (!net.ok()) {
    Fail(net.status());
    return nullptr;
  }
  mnv2::Result<std::unique_ptr<mnv2::engine::Engine>> engine = mnv2::engine::Engine::Create(*net);
  if (!engine.ok()) {
    Fail(engine.status());
    return nullptr;
  }
  const mnv2::model::Network& n = *net;
  ModelSummary summary{n.num_classes(), n.feature_size(), n.input.height, n.input.width, n.alpha(),
                       n.quantized,     n.weight_type,    static_cast<double>(n.MultiplyAdds())};
  auto* m = new Mnv2Model{std::move(summary), std::move(*engine)};
  Succeed();
  return m;
}

void mnv2_free(Mnv2Model* model) { delete model; }

int mnv2_classify_encoded(Mnv2Model* model, const uint8_t* data, size_t size, int fit) {
  if (int e = CheckModel(model)) return e;
  return Classify(model, mnv2::image::Decode(data, size), fit);
}

int mnv2_classify_pixels(Mnv2Model* model, const uint8_t* data, int width, int height, int channels,
                         size_t stride, int fit) {
  if (int e = CheckModel(model)) return e;
  return Classify(model, mnv2::image::FromPixels(data, width, height, channels, stride), fit);
}

const float* mnv2_scores(const Mnv2Model* model) { return model ? model->engine->scores() : nullptr; }
const float* mnv2_features(const Mnv2Model* model) { return model ? model->engine->features() : nullptr; }
int mnv2_top_k(const Mnv2Model* model, int k, int32_t* indices) {
  if (!model || !indices) return 0;
  const std::vector<mnv2::engine::Prediction> top = model->engine->Top(k);
  for (size_t i = 0; i < top.size(); ++i) indices[i] = top[i].index;
  return static_cast<int>(top.size());
}

int mnv2_set_labels(Mnv2Model* model, const char* text, size_t size) {
  if (int e = CheckModel(model)) return e;
  mnv2::Result<std::vector<std::string>> labels =
      mnv2::model::ParseLabels(std::string(text ? text : "", text ? size : 0), model->summary.num_classes);
  if (!labels.ok()) return Fail(labels.status());
  model->labels = std::move(*labels);
  return Succeed();
}

const char* mnv2_label(const Mnv2Model* model, int index) {
  if (!model || index < 0 || static_cast<size_t>(index) >= model->labels.size()) return "";
  return model->labels[index].c_str();
}

int mnv2_num_classes(const Mnv2Model* model) { return model ? model->summary.num_classes : 0; }
int mnv2_feature_size(const Mnv2Model* model) { return model ? model->summary.feature_size : 0; }
int mnv2_input_height(const Mnv2Model* model) { return model ? model->summary.input_height : 0; }
int mnv2_input_width(const Mnv2Model* model) { return model ? model->summary.input_width : 0; }
float mnv2_alpha(const Mnv2Model* model) { return model ? model->summary.alpha : 0.0f; }
int mnv2_quantized(const Mnv2Model* model) { return model && model->summary.quantized ? 1 : 0; }
const char* mnv2_weight_type(const Mnv2Model* model) { return model ? model->summary.weight_type.c_str() : ""; }
double mnv2_multiply_adds(const Mnv2Model* model) { return model ? model->summary.multiply_adds : 0.0; }
const char* mnv2_simd_target(void) { return mnv2::kernels::TargetName(); }

int mnv2_last_error_code(void) { return static_cast<int>(last_error.code()); }
const char* mnv2_last_error_name(void) { return mnv2::ErrorCodeName(last_error.code()); }
const char* mnv2_last_error_message(void) { return last_error.message().c_str(); }

}  // extern "C"
