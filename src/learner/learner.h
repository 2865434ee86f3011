// New classes learned from a model's embeddings (its pooled features), in the page, in
// seconds. Examples are kept L2-normalized (kernels::L2Normalize); a query is scored three ways:
//   nearest neighbours  the k most cosine-similar examples vote (@tensorflow-models/knn-classifier),
//                       k at most the fewest examples of a label, so that every label can win;
//   imprinting          softmax(s * cosine with each label's normalized mean), s = kImprintScale:
//                       instant, and the starting point of the trained head (Qi et al. 2018);
//   softmax             a trained head, softmax(W x / |x| + b): multinomial logistic regression
//                       by mini-batch SGD with momentum, deterministic for a seed.
// The learner knows nothing of models or images: it is given features and label names.
#ifndef MNV2_LEARNER_LEARNER_H_
#define MNV2_LEARNER_LEARNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/dense_head.h"

namespace mnv2 {
namespace learner {

enum class Method { kNearestNeighbors = 0, kSoftmax = 1, kImprinting = 2 };

// The scale of imprinted weights: cosines in [-1, 1] become logits in [-s, s].
constexpr float kImprintScale = 10.0f;

struct TrainOptions {
  int epochs = 50;
  float learning_rate = 0.1f;
  float l2 = 1e-4f;  // weight decay of W (not b)
  int batch_size = 16;
  uint32_t seed = 1;
};
// kInvalidArgument for epochs < 1, batch_size < 1, a learning rate that is not positive and
// finite, a negative or non-finite l2.
Status CheckTrainOptions(const TrainOptions& options);

// The heads of the imprinting and softmax methods, as an exported .tflite carries them.
using Head = model::DenseHead;

class Learner {
 public:
  explicit Learner(int feature_size) : features_(feature_size) {}

  int feature_size() const { return features_; }
  int num_labels() const { return static_cast<int>(labels_.size()); }
  const std::string& label(int i) const { return labels_[i]; }
  const std::vector<std::string>& labels() const { return labels_; }
  int num_examples() const { return static_cast<int>(example_labels_.size()); }
  // Example i, normalized, and its label's index.
  const float* example(int i) const { return examples_.data() + static_cast<size_t>(i) * features_; }
  int example_label(int i) const { return example_labels_[i]; }

  // Adds one example (feature_size finite floats) under `label` (a new label goes last);
  // returns how many examples the label has now. Drops a trained head.
  Result<int> AddExample(const float* features, const std::string& label);
  // Adds a label with no examples (a head read back without its examples).
  Status AddLabel(const std::string& label);

  // scores[num_labels()] for `features`, and tie_breaks[num_labels()] to rank equal scores by
  // (the best similarity with a label's examples, or the logits). k: the neighbours that vote.
  Status Classify(const float* features, Method method, int k, float* scores, float* tie_breaks);

  // Training: Begin starts from the imprinted head (needs two labels with examples), then each
  // Epoch runs one pass over the examples in a seeded shuffled order and returns its mean
  // cross-entropy. One call per epoch lets a caller report progress and stay responsive.
  Status BeginTraining(const TrainOptions& options);
  Result<float> TrainEpoch();
  // A head trained to the last epoch, or set; not while training runs.
  bool trained() const { return !head_.weights.empty() && !training_; }
  const Head& head() const { return head_; }  // the trained (or set) head; empty without one

  // The head a method scores with: the trained (or set) one for kSoftmax, the imprinted one for
  // kImprinting. Fails when there is none. Valid until the learner changes.
  Result<const Head*> HeadOf(Method method);
  // A trained head read back (weights [num_labels][feature_size], bias [num_labels]), finite.
  Status SetHead(const std::vector<float>& weights, const std::vector<float>& bias);

 private:
  // The index of `label`, added last when new (a valid one: not empty, one line).
  Result<int> LabelIndex(const std::string& label);
  Status NeedClasses(const char* what) const;
  const Head& Imprinted();
  void Changed();

  int features_;
  std::vector<std::string> labels_;
  std::vector<int> counts_;
  std::vector<float> examples_;  // [num_examples][features], normalized
  std::vector<int> example_labels_;
  Head head_;                     // trained or set; empty otherwise
  Head imprinted_;                // cached; empty when stale
  // Training state.
  TrainOptions options_;
  bool training_ = false;
  int epoch_ = 0;
  uint64_t rng_ = 0;
  Head velocity_;
  std::vector<float> scratch_;
  std::vector<int> order_;
};

}  // namespace learner
}  // namespace mnv2

#endif  // MNV2_LEARNER_LEARNER_H_
