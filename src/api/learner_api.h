/* The C API of the learner module (mnv2-learner-*.wasm): new classes learned from a model's
 * embeddings (src/learner/learner.h), and the export of a model with a learned head. A module of
 * its own, loaded by the JS layer only when a page creates a classifier, so that the classifying
 * module stays small. Errors as in c_api.h: 0 or an error code (or -1 where a count is returned),
 * then mnv2_last_error_name() / mnv2_last_error_message(). */
#ifndef MNV2_API_LEARNER_API_H_
#define MNV2_API_LEARNER_API_H_

#include <stddef.h>
#include <stdint.h>

#include "api/api_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A learner holds labeled embeddings of feature_size floats and scores new ones by nearest
 * neighbours, by imprinting or with a trained softmax head. A call that fails leaves it as it was. */
typedef struct Mnv2Learner Mnv2Learner;
#define MNV2_METHOD_KNN 0
#define MNV2_METHOD_SOFTMAX 1
#define MNV2_METHOD_IMPRINT 2
Mnv2Learner* mnv2_learner_create(int feature_size);
void mnv2_learner_free(Mnv2Learner* learner);
/* Adds an embedding (a model's mnv2_features) under `label` (UTF-8, one line, not empty);
 * returns how many examples the label has now, or -1. Drops a trained head. */
int mnv2_learner_add(Mnv2Learner* learner, const float* embedding, const char* label);
/* A label without examples (a trained head read back alone). */
int mnv2_learner_add_label(Mnv2Learner* learner, const char* label);
/* Scores an embedding with a method (MNV2_METHOD_*; k: the neighbours that vote for KNN);
 * the scores of every label are then at mnv2_learner_scores. */
int mnv2_learner_classify(Mnv2Learner* learner, const float* embedding, int method, int k);
const float* mnv2_learner_scores(const Mnv2Learner* learner);
/* The k best labels of the last classify, best first (ties by similarity or logit, then order). */
int mnv2_learner_top_k(const Mnv2Learner* learner, int k, int32_t* indices);
/* Training the softmax head: begin (from the imprinted head), then one call per epoch, each
 * leaving its mean cross-entropy at mnv2_learner_loss. Deterministic for a seed. */
int mnv2_learner_train_begin(Mnv2Learner* learner, int epochs, float learning_rate, float l2, int batch_size,
                             uint32_t seed);
int mnv2_learner_train_epoch(Mnv2Learner* learner);
float mnv2_learner_loss(const Mnv2Learner* learner);
/* 1 when the learner has a trained (or set) softmax head. */
int mnv2_learner_trained(const Mnv2Learner* learner);
/* The trained head: weights [num_labels][feature_size] and bias [num_labels]; NULL without one. */
const float* mnv2_learner_head_weights(const Mnv2Learner* learner);
const float* mnv2_learner_head_bias(const Mnv2Learner* learner);
/* Sets the softmax head (sizes as above, from the labels already added). */
int mnv2_learner_set_head(Mnv2Learner* learner, const float* weights, const float* bias);
/* A complete .tflite: the model in `data` (a .tflite file, as mnv2_load reads it) with its
 * classifier replaced by the learner's head (the trained one, else the imprinted one) and the
 * learner's labels in its metadata. The bytes stay at mnv2_learner_export_data until the next
 * export or mnv2_learner_free. */
int mnv2_learner_export_tflite(Mnv2Learner* learner, const uint8_t* data, size_t size);
/* The same from a TF.js model (arguments as for mnv2_load_tfjs). */
int mnv2_learner_export_tfjs(Mnv2Learner* learner, const char* model_json, size_t json_size, const uint8_t* weights,
                             size_t weights_size, float input_min, float input_max);
const uint8_t* mnv2_learner_export_data(const Mnv2Learner* learner);
size_t mnv2_learner_export_size(const Mnv2Learner* learner);

#ifdef __cplusplus
}
#endif

#endif /* MNV2_API_LEARNER_API_H_ */
