#include "api/learner_api.h"

#include <string>
#include <vector>

#include "engine/planned.h"
#include "learner/learner.h"
#include "model/builder.h"
#include "model/tfjs.h"
#include "model/tflite_export.h"

// A learner and what the API keeps with it: the last scores and tie-breaks, the last export.
struct Mnv2Learner {
  explicit Mnv2Learner(int feature_size) : learner(feature_size) {}
  mnv2::learner::Learner learner;
  std::vector<float> scores, tie_breaks;
  float loss = 0.0f;
  std::vector<uint8_t> exported;
};

namespace {

using mnv2::api::Fail;
using mnv2::api::Succeed;

int CheckLearner(const Mnv2Learner* l, const void* arg = "") {
  if (!l) return Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "no learner (null handle)"));
  return arg ? 0 : Fail(mnv2::Status(mnv2::ErrorCode::kInvalidArgument, "a required argument is null"));
}

// The head an export carries: the trained one, else the imprinted one.
int Export(Mnv2Learner* l, const mnv2::Result<mnv2::model::Network>& net) {
  if (!net.ok()) return Fail(net.status());
  mnv2::learner::Learner& learner = l->learner;
  mnv2::Result<const mnv2::learner::Head*> head =
      learner.HeadOf(learner.trained() ? mnv2::learner::Method::kSoftmax : mnv2::learner::Method::kImprinting);
  if (!head.ok()) return Fail(head.status());
  mnv2::Result<std::vector<uint8_t>> bytes = mnv2::model::ExportTflite(*net, **head, learner.labels());
  if (!bytes.ok()) return Fail(bytes.status());
  l->exported = std::move(*bytes);
  return Succeed();
}

}  // namespace

extern "C" {

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
  learner->scores.resize(n);
  learner->tie_breaks.resize(n);
  const mnv2::Status s = learner->learner.Classify(embedding, static_cast<mnv2::learner::Method>(method), k,
                                                   learner->scores.data(), learner->tie_breaks.data());
  if (!s.ok()) return Fail(s);
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

}  // extern "C"
