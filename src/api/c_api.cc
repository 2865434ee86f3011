#include "api/c_api.h"

#include <malloc.h>

#include <limits>
#include <memory>
#include <string>

#include "common/thread_local.h"
#include "engine/planned.h"
#include "image/image.h"
#include "kernels/kernels.h"
#include "learner/learner.h"
#include "model/builder.h"
#include "model/labels.h"
#include "model/tfjs.h"
#include "model/tflite_export.h"

// What the API reports about a model; the Network itself (float weights) is freed once the
// engine has packed them.
struct ModelSummary {
  int num_classes = 0, feature_size = 0, input_height = 0, input_width = 0;
  float alpha = 0;
  bool quantized = false;
  std::string weight_type;
  double multiply_adds = 0, parameters = 0;
  const char* family = "";
};

// The model on one of the two engines (engine/planned.h), and what the API keeps with it.
struct Mnv2Model {
  ModelSummary summary;
  mnv2::engine::PlannedModel planned;
  std::vector<std::string> labels;
  mnv2::image::Limits image_limits;
};

// A learner and what the API keeps with it: the last scores and tie-breaks, the last export.
struct Mnv2Learner {
  explicit Mnv2Learner(int feature_size) : learner(feature_size) {}
  mnv2::learner::Learner learner;
  std::vector<float> scores, tie_breaks;
  float loss = 0.0f;
  std::vector<uint8_t> exported;
};

namespace {

// Per thread, like errno.
MNV2_THREAD_LOCAL mnv2::Status last_error;
// Threads of the engines made by the next loads (mnv2_set_threads).
int load_threads = 1;

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
  m->planned.SetImage(*img, fit == 1 ? mnv2::image::Fit::kCenterCrop : mnv2::image::Fit::kStretch);
  m->planned.Run();
  return Succeed();
}

// A limit passed from C or JavaScript: <= 0 (or NaN) keeps `fallback`, huge values saturate.
template <typename T>
T LimitValue(double v, T fallback) {
  if (!(v > 0)) return fallback;
  const double max = static_cast<double>(std::numeric_limits<T>::max());
  return v >= max ? std::numeric_limits<T>::max() : static_cast<T>(v);
}

mnv2::model::Limits ModelLimits(double max_model_bytes, double max_memory_bytes) {
  mnv2::model::Limits limits;
  limits.max_model_bytes = LimitValue(max_model_bytes, limits.max_model_bytes);
  limits.max_memory_bytes = LimitValue(max_memory_bytes, limits.max_memory_bytes);
  return limits;
}

// The C API's precision numbers (MNV2_PRECISION_*) as the engine's; false for others.
bool ToPrecision(int precision, mnv2::engine::Precision* out) {
  switch (precision) {
    case MNV2_PRECISION_AUTO: *out = mnv2::engine::Precision::kAuto; return true;
    case MNV2_PRECISION_FP32: *out = mnv2::engine::Precision::kFp32; return true;
    case MNV2_PRECISION_INT8: *out = mnv2::engine::Precision::kInt8; return true;
    default:
      Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument,
                        "precision must be auto (0), fp32 (1) or int8 (2), not " + std::to_string(precision)));
      return false;
  }
}

// Plans a loaded network; null (and the error) when loading or planning failed.
Mnv2Model* FromNetwork(const mnv2::Result<mnv2::model::Network>& net, mnv2::engine::Precision precision) {
  if (!net.ok()) {
    Fail(net.status());
    return nullptr;
  }
  const mnv2::model::Network& n = *net;
  ModelSummary summary{n.num_classes(), n.feature_size(), n.input.height, n.input.width, n.alpha(),
                       n.quantized,     n.weight_type,    static_cast<double>(n.MultiplyAdds()),
                       static_cast<double>(n.Parameters()), mnv2::model::FamilyName(n.family())};
  mnv2::Result<mnv2::engine::PlannedModel> planned = mnv2::engine::PlannedModel::Plan(n, precision, load_threads);
  if (!planned.ok()) {
    Fail(planned.status());
    return nullptr;
  }
  auto m = std::make_unique<Mnv2Model>();
  m->summary = std::move(summary);
  m->planned = std::move(*planned);
  m->labels = n.labels;  // the file's own, until mnv2_set_labels
  Succeed();
  return m.release();
}

int CheckModel(const Mnv2Model* m) {
  return m ? 0 : Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "no model (null handle)"));
}

int CheckLearner(const Mnv2Learner* l, const void* arg = "") {
  if (!l) return Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "no learner (null handle)"));
  return arg ? 0 : Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "a required argument is null"));
}

// The head an export carries: the trained one, else the imprinted one.
int Export(Mnv2Learner* l, const mnv2::Result<mnv2::model::Network>& net) {
  if (!net.ok()) return Fail(net.status());
  mnv2::learner::Learner& learner = l->learner;
  mnv2::Result<mnv2::learner::Head> head =
      learner.HeadOf(learner.trained() ? mnv2::learner::Method::kSoftmax : mnv2::learner::Method::kImprinting);
  if (!head.ok()) return Fail(head.status());
  std::vector<std::string> labels;
  for (int i = 0; i < learner.num_labels(); ++i) labels.push_back(learner.label(i));
  mnv2::model::DenseHead dense{learner.feature_size(), learner.num_labels(), std::move(head->weights),
                               std::move(head->bias)};
  mnv2::Result<std::vector<uint8_t>> bytes = mnv2::model::ExportTflite(*net, dense, labels);
  if (!bytes.ok()) return Fail(bytes.status());
  l->exported = std::move(*bytes);
  return Succeed();
}

}  // namespace

extern "C" {

Mnv2Model* mnv2_load(const uint8_t* data, size_t size) { return mnv2_load_with(data, size, MNV2_PRECISION_AUTO, 0, 0); }

Mnv2Model* mnv2_load_with(const uint8_t* data, size_t size, int precision, double max_model_bytes,
                          double max_memory_bytes) {
  mnv2::engine::Precision p;
  if (!ToPrecision(precision, &p)) return nullptr;
  const mnv2::model::Limits limits = ModelLimits(max_model_bytes, max_memory_bytes);
  return FromNetwork(mnv2::model::LoadTflite(data, size, limits, mnv2::engine::PlannedModel::ReadOptions()), p);
}

Mnv2Model* mnv2_load_limited(const uint8_t* data, size_t size, double max_model_bytes, double max_memory_bytes) {
  return mnv2_load_with(data, size, MNV2_PRECISION_AUTO, max_model_bytes, max_memory_bytes);
}

Mnv2Model* mnv2_load_tfjs(const char* model_json, size_t json_size, const uint8_t* weights, size_t weights_size,
                          float input_min, float input_max, double max_model_bytes, double max_memory_bytes) {
  return FromNetwork(mnv2::model::LoadTfjs(model_json, json_size, weights, weights_size,
                                           mnv2::model::InputRange{input_min, input_max},
                                           ModelLimits(max_model_bytes, max_memory_bytes)),
                     mnv2::engine::Precision::kAuto);
}

void mnv2_free(Mnv2Model* model) { delete model; }

int mnv2_classify_encoded(Mnv2Model* model, const uint8_t* data, size_t size, int fit) {
  if (int e = CheckModel(model)) return e;
  return Classify(model, mnv2::image::Decode(data, size, model->image_limits), fit);
}

int mnv2_classify_pixels(Mnv2Model* model, const uint8_t* data, int width, int height, int channels,
                         size_t stride, int fit) {
  if (int e = CheckModel(model)) return e;
  return Classify(model, mnv2::image::FromPixels(data, width, height, channels, stride, model->image_limits), fit);
}

const float* mnv2_scores(const Mnv2Model* model) { return model ? model->planned.scores() : nullptr; }
const float* mnv2_features(const Mnv2Model* model) { return model ? model->planned.features() : nullptr; }
int mnv2_top_k(const Mnv2Model* model, int k, int32_t* indices) {
  if (!model || !indices) return 0;
  const std::vector<mnv2::engine::Prediction> top =
      model->planned.Top(k, mnv2::model::FirstRankedClass(model->summary.num_classes, model->labels));
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
double mnv2_parameters(const Mnv2Model* model) { return model ? model->summary.parameters : 0.0; }
const char* mnv2_family(const Mnv2Model* model) { return model ? model->summary.family : ""; }
const char* mnv2_precision(const Mnv2Model* model) { return model && model->planned.integer() ? "int8" : "fp32"; }
int mnv2_set_threads(int threads) {
  load_threads = mnv2::engine::Workers::Clamp(threads);
  return load_threads;
}
int mnv2_threads(const Mnv2Model* model) {
  if (!model) return 0;
  return model->planned.threads();
}
const char* mnv2_simd_target(void) { return mnv2::kernels::TargetName(); }

int mnv2_last_error_code(void) { return static_cast<int>(last_error.code()); }
const char* mnv2_last_error_name(void) { return mnv2::ErrorCodeName(last_error.code()); }
const char* mnv2_last_error_message(void) { return last_error.message().c_str(); }

int mnv2_set_image_limits(Mnv2Model* model, double max_image_bytes, double max_image_pixels) {
  if (int e = CheckModel(model)) return e;
  const mnv2::image::Limits defaults;
  model->image_limits.max_bytes = LimitValue(max_image_bytes, defaults.max_bytes);
  model->image_limits.max_pixels = LimitValue(max_image_pixels, defaults.max_pixels);
  return Succeed();
}

double mnv2_limit(const Mnv2Model* model, int which) {
  const mnv2::model::Limits model_defaults;
  const mnv2::image::Limits image = model ? model->image_limits : mnv2::image::Limits();
  switch (which) {
    case MNV2_LIMIT_MODEL_BYTES: return static_cast<double>(model_defaults.max_model_bytes);
    case MNV2_LIMIT_MEMORY_BYTES: return static_cast<double>(model_defaults.max_memory_bytes);
    case MNV2_LIMIT_IMAGE_BYTES: return static_cast<double>(image.max_bytes);
    case MNV2_LIMIT_IMAGE_PIXELS: return static_cast<double>(image.max_pixels);
    case MNV2_LIMIT_IMAGE_SIDE: return static_cast<double>(image.max_side);
  }
  return 0.0;
}

Mnv2Learner* mnv2_learner_create(int feature_size) {
  if (feature_size < 1) {
    Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "feature_size must be positive, not " + std::to_string(feature_size)));
    return nullptr;
  }
  Succeed();
  return new Mnv2Learner(feature_size);
}

void mnv2_learner_free(Mnv2Learner* learner) { delete learner; }

int mnv2_learner_add(Mnv2Learner* learner, const float* embedding, const char* label) {
  if (CheckLearner(learner, embedding) || CheckLearner(learner, label)) return -1;
  mnv2::Result<int> count = learner->learner.AddExample(embedding, label);
  if (!count.ok()) {
    Fail(count.status());
    return -1;
  }
  Succeed();
  return *count;
}

int mnv2_learner_add_label(Mnv2Learner* learner, const char* label) {
  if (int e = CheckLearner(learner, label)) return e;
  mnv2::Status s = learner->learner.AddLabel(label);
  return s.ok() ? Succeed() : Fail(s);
}

int mnv2_learner_classify(Mnv2Learner* learner, const float* embedding, int method, int k) {
  if (int e = CheckLearner(learner, embedding)) return e;
  if (method < MNV2_METHOD_KNN || method > MNV2_METHOD_IMPRINT) {
    return Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "unknown method " + std::to_string(method)));
  }
  const size_t n = static_cast<size_t>(learner->learner.num_labels());
  std::vector<float> scores(n), tie_breaks(n);
  const mnv2::Status s = learner->learner.Classify(embedding, static_cast<mnv2::learner::Method>(method), k,
                                                   scores.data(), tie_breaks.data());
  if (!s.ok()) return Fail(s);
  learner->scores = std::move(scores);
  learner->tie_breaks = std::move(tie_breaks);
  return Succeed();
}

const float* mnv2_learner_scores(const Mnv2Learner* learner) { return learner ? learner->scores.data() : nullptr; }

int mnv2_learner_top_k(const Mnv2Learner* learner, int k, int32_t* indices) {
  if (!learner || !indices) return 0;
  const std::vector<mnv2::engine::Prediction> top =
      mnv2::engine::TopScores(learner->scores.data(), learner->tie_breaks.data(), learner->scores.size(), k);
  for (size_t i = 0; i < top.size(); ++i) indices[i] = top[i].index;
  return static_cast<int>(top.size());
}

int mnv2_learner_train_begin(Mnv2Learner* learner, int epochs, float learning_rate, float l2, int batch_size,
                             uint32_t seed) {
  if (int e = CheckLearner(learner)) return e;
  mnv2::learner::TrainOptions o;
  o.epochs = epochs;
  o.learning_rate = learning_rate;
  o.l2 = l2;
  o.batch_size = batch_size;
  o.seed = seed;
  const mnv2::Status s = learner->learner.BeginTraining(o);
  return s.ok() ? Succeed() : Fail(s);
}

int mnv2_learner_train_epoch(Mnv2Learner* learner) {
  if (int e = CheckLearner(learner)) return e;
  mnv2::Result<float> loss = learner->learner.TrainEpoch();
  if (!loss.ok()) return Fail(loss.status());
  learner->loss = *loss;
  return Succeed();
}

float mnv2_learner_loss(const Mnv2Learner* learner) { return learner ? learner->loss : 0.0f; }
int mnv2_learner_trained(const Mnv2Learner* learner) { return learner && learner->learner.trained() ? 1 : 0; }

const float* mnv2_learner_head_weights(const Mnv2Learner* learner) {
  return learner && learner->learner.trained() ? learner->learner.head().weights.data() : nullptr;
}

const float* mnv2_learner_head_bias(const Mnv2Learner* learner) {
  return learner && learner->learner.trained() ? learner->learner.head().bias.data() : nullptr;
}

int mnv2_learner_set_head(Mnv2Learner* learner, const float* weights, const float* bias) {
  if (int e = CheckLearner(learner, weights)) return e;
  if (int e = CheckLearner(learner, bias)) return e;
  const size_t classes = static_cast<size_t>(learner->learner.num_labels());
  const size_t features = static_cast<size_t>(learner->learner.feature_size());
  const mnv2::Status s = learner->learner.SetHead(std::vector<float>(weights, weights + classes * features),
                                                  std::vector<float>(bias, bias + classes));
  return s.ok() ? Succeed() : Fail(s);
}

int mnv2_learner_export_tflite(Mnv2Learner* learner, const uint8_t* data, size_t size) {
  if (int e = CheckLearner(learner, data)) return e;
  return Export(learner, mnv2::model::LoadTflite(data, size, mnv2::model::Limits(),
                                                 mnv2::engine::PlannedModel::ReadOptions()));
}

int mnv2_learner_export_tfjs(Mnv2Learner* learner, const char* model_json, size_t json_size, const uint8_t* weights,
                             size_t weights_size, float input_min, float input_max) {
  if (int e = CheckLearner(learner, model_json)) return e;
  return Export(learner, mnv2::model::LoadTfjs(model_json, json_size, weights, weights_size,
                                               mnv2::model::InputRange{input_min, input_max}, mnv2::model::Limits()));
}

const uint8_t* mnv2_learner_export_data(const Mnv2Learner* learner) {
  return learner ? learner->exported.data() : nullptr;
}
size_t mnv2_learner_export_size(const Mnv2Learner* learner) { return learner ? learner->exported.size() : 0; }

size_t mnv2_heap_bytes(void) {
#if defined(__EMSCRIPTEN__)
  return mallinfo().uordblks;
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}

}  // extern "C"
