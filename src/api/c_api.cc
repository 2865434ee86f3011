#include "api/c_api.h"

#include <malloc.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>

#include "engine/planned.h"
#include "image/image.h"
#include "kernels/kernels.h"
#include "kernels/relaxed.h"
#include "model/builder.h"
#include "model/labels.h"
#include "model/tfjs.h"

// What the API reports about a model; the Network itself (float weights) is freed once the
// engine has packed them.
struct ModelSummary {
  int num_classes = 0, feature_size = 0, input_height = 0, input_width = 0;
  float alpha = 0;
  bool quantized = false;
  std::string weight_type;
  double multiply_adds = 0, parameters = 0;
  const char* family = "";
  mnv2::model::Task task = mnv2::model::Task::kClassification;
  double layer_by_layer_bytes = 0;
};

// The model on one of the two engines (engine/planned.h), and what the API keeps with it.
struct Mnv2Model {
  ModelSummary summary;
  mnv2::engine::PlannedModel planned;
  std::vector<std::string> labels;
  mnv2::image::Limits image_limits;
  std::vector<uint8_t> mask;  // the last segment's, and (if asked) its overlay
  int mask_width = 0, mask_height = 0;
  mnv2::image::Image overlay;
};

namespace {

using mnv2::api::Fail;
using mnv2::api::Succeed;

// Threads of the engines made by the next loads (mnv2_set_threads).
int load_threads = 1;

// The error of calling the other task's function.
int WrongTask(const Mnv2Model* m) {
  const bool segments = m->summary.task == mnv2::model::Task::kSegmentation;
  return Fail(mnv2::Status(
      mnv2::ErrorCode::kWrongTask,
      segments ? "this model segments images (info.task 'segmentation'): call segment, not classify"
               : "this model classifies images (info.task 'classification'): call classify, not segment"));
}

int Classify(Mnv2Model* m, const mnv2::Result<mnv2::image::Image>& img, int fit) {
  if (m->summary.task != mnv2::model::Task::kClassification) return WrongTask(m);
  if (!img.ok()) return Fail(img.status());
  m->planned.SetImage(*img, fit == 1 ? mnv2::image::Fit::kCenterCrop : mnv2::image::Fit::kStretch);
  m->planned.Run();
  return Succeed();
}

int Segment(Mnv2Model* m, const mnv2::Result<mnv2::image::Image>& img, int fit, float overlay) {
  if (m->summary.task != mnv2::model::Task::kSegmentation) return WrongTask(m);
  if (!img.ok()) return Fail(img.status());
  const mnv2::image::Fit f = fit == 1 ? mnv2::image::Fit::kCenterCrop : mnv2::image::Fit::kStretch;
  m->planned.SetImage(*img, f);
  m->planned.Run();
  m->mask.resize(static_cast<size_t>(img->width) * img->height);
  m->mask_width = img->width;
  m->mask_height = img->height;
  m->planned.Segment(img->width, img->height, f, m->mask.data());
  m->overlay =
      overlay >= 0 ? mnv2::image::Overlay(*img, m->mask.data(), std::min(overlay, 1.0f)) : mnv2::image::Image();
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
Mnv2Model* FromNetwork(mnv2::Result<mnv2::model::Network>&& net, mnv2::engine::Precision precision) {
  if (!net.ok()) {
    Fail(net.status());
    return nullptr;
  }
  const mnv2::model::Network& n = *net;
  ModelSummary summary{n.num_classes(), n.feature_size(), n.input.height, n.input.width, n.alpha(),
                       n.quantized,     n.weight_type,    static_cast<double>(n.MultiplyAdds()),
                       static_cast<double>(n.Parameters()), mnv2::model::FamilyName(n.family()), n.task};
  mnv2::Result<mnv2::engine::PlannedModel> planned = mnv2::engine::PlannedModel::Plan(n, precision, load_threads);
  if (!planned.ok()) {
    Fail(planned.status());
    return nullptr;
  }
  summary.layer_by_layer_bytes =
      static_cast<double>(mnv2::engine::Engine::LayerByLayerActivationBytes(n, planned->integer() ? 1 : sizeof(float)));
  auto m = std::make_unique<Mnv2Model>();
  m->summary = std::move(summary);
  m->planned = std::move(*planned);
  m->labels = std::move(net->labels);  // the file's own, until mnv2_set_labels
  Succeed();
  return m.release();
}

int CheckModel(const Mnv2Model* m) {
  return m ? 0 : Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "no model (null handle)"));
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

int mnv2_segment_encoded(Mnv2Model* model, const uint8_t* data, size_t size, int fit, float overlay) {
  if (int e = CheckModel(model)) return e;
  return Segment(model, mnv2::image::Decode(data, size, model->image_limits), fit, overlay);
}

int mnv2_segment_pixels(Mnv2Model* model, const uint8_t* data, int width, int height, int channels, size_t stride,
                        int fit, float overlay) {
  if (int e = CheckModel(model)) return e;
  return Segment(model, mnv2::image::FromPixels(data, width, height, channels, stride, model->image_limits), fit,
                 overlay);
}

const uint8_t* mnv2_mask(const Mnv2Model* model) { return model ? model->mask.data() : nullptr; }
int mnv2_mask_width(const Mnv2Model* model) { return model ? model->mask_width : 0; }
int mnv2_mask_height(const Mnv2Model* model) { return model ? model->mask_height : 0; }
const uint8_t* mnv2_overlay(const Mnv2Model* model) {
  return model && !model->overlay.rgb.empty() ? model->overlay.rgb.data() : nullptr;
}

int mnv2_class_color(int index) {
  uint8_t rgb[3];
  mnv2::image::ClassColor(index, rgb);
  return rgb[0] << 16 | rgb[1] << 8 | rgb[2];
}

int mnv2_task(const Mnv2Model* model) {
  return model && model->summary.task == mnv2::model::Task::kSegmentation ? 1 : 0;
}
double mnv2_activation_bytes(const Mnv2Model* model) {
  return model ? static_cast<double>(model->planned.ActivationBytes()) : 0.0;
}
double mnv2_layer_by_layer_bytes(const Mnv2Model* model) { return model ? model->summary.layer_by_layer_bytes : 0.0; }

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

int mnv2_num_labels(const Mnv2Model* model) { return model ? static_cast<int>(model->labels.size()) : 0; }

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

const char* mnv2_relaxed_dot(void) { return mnv2::kernels::RelaxedDotName(mnv2::kernels::RelaxedDotMode()); }

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
