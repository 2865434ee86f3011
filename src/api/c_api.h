/* The C API of the engine: what the WebAssembly module exports to JavaScript.
 * Every call that can fail returns 0 or an error code (an ErrorCode value); the
 * code's stable name and a readable message are then available from
 * mnv2_last_error_name() / mnv2_last_error_message() until the next call. */
#ifndef MNV2_API_C_API_H_
#define MNV2_API_C_API_H_

#include <stddef.h>
#include <stdint.h>

#include "api/api_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct Mnv2Model Mnv2Model;

/* Parses and plans a .tflite model; the bytes may be freed afterwards. NULL on error.
 * Same as mnv2_load_with(data, size, MNV2_PRECISION_AUTO, 0, 0). */
Mnv2Model* mnv2_load(const uint8_t* data, size_t size);

/* The arithmetic a model runs in. AUTO: integer (TFLite's quantized kernels) for a model
 * whose tensors are all 8-bit quantized, or whose quantized backbone ends in a float32 head (an
 * exported learned head: its pooled features are dequantized), float32 otherwise. INT8 fails with
 * E_UNSUPPORTED_MODEL on a model the integer path cannot run. FP32 dequantizes the weights. */
#define MNV2_PRECISION_AUTO 0
#define MNV2_PRECISION_FP32 1
#define MNV2_PRECISION_INT8 2
/* mnv2_load with a precision, and limits as for mnv2_load_limited (0 keeps a default). */
Mnv2Model* mnv2_load_with(const uint8_t* data, size_t size, int precision, double max_model_bytes,
                          double max_memory_bytes);
/* "int8" or "fp32": what the model runs in. */
const char* mnv2_precision(const Mnv2Model* model);
/* How many threads the engines of later loads use (default 1): every block's rows are shared
 * among them, with the same results. Clamped to what the build has (1 without threads, at most
 * 8); returns the count in force. A module with threads must have that many - 1 spare workers. */
int mnv2_set_threads(int threads);
/* The threads a model's engine runs on now. In WebAssembly a thread starts once its worker has
 * loaded the module (the module's own thread must return to its event loop meanwhile): until
 * then inferences run on the threads started so far (at least one), with the same results. */
int mnv2_threads(const Mnv2Model* model);
/* mnv2_load with limits for untrusted models (0 keeps a default; see model::Limits): the file
 * size, and the memory its weights and activations need. Beyond them: E_MODEL_TOO_LARGE.
 * Precision AUTO. */
Mnv2Model* mnv2_load_limited(const uint8_t* data, size_t size, double max_model_bytes, double max_memory_bytes);
/* A TensorFlow.js model (layers or graph format): the model.json text, and the bytes of every
 * weight shard of its weightsManifest concatenated in manifest order. [input_min, input_max]
 * is the range pixels 0..255 are mapped to before the model (and its own normalization, if
 * any); input_min == input_max picks the default of model::InputRange (Keras' [-1, 1] for a
 * model without normalization). Limits as for mnv2_load_limited (0 keeps a default). */
Mnv2Model* mnv2_load_tfjs(const char* model_json, size_t json_size, const uint8_t* weights, size_t weights_size,
                          float input_min, float input_max, double max_model_bytes, double max_memory_bytes);
void mnv2_free(Mnv2Model* model);

/* fit: 0 = resize the whole image, 1 = center crop. */
int mnv2_classify_encoded(Mnv2Model* model, const uint8_t* data, size_t size, int fit);
/* Raw pixels: channels 3 (RGB) or 4 (RGBA), stride in bytes between rows. */
int mnv2_classify_pixels(Mnv2Model* model, const uint8_t* data, int width, int height, int channels,
                         size_t stride, int fit);

/* Results of the last successful classify: num_classes scores, feature_size features. */
const float* mnv2_scores(const Mnv2Model* model);
const float* mnv2_features(const Mnv2Model* model);

/* Segmentation models (mnv2_task 1: DeepLabv3): the class of every pixel of the image, at the
 * image's own size (the model's logits resized to it; with fit 1 to the center crop, class 0
 * outside it). The classify calls fail on them with E_WRONG_TASK, these on classifiers. */
int mnv2_segment_encoded(Mnv2Model* model, const uint8_t* data, size_t size, int fit, float overlay);
int mnv2_segment_pixels(Mnv2Model* model, const uint8_t* data, int width, int height, int channels,
                        size_t stride, int fit, float overlay);
/* The last segment's mask: mask_height rows of mask_width class indices. */
const uint8_t* mnv2_mask(const Mnv2Model* model);
int mnv2_mask_width(const Mnv2Model* model);
int mnv2_mask_height(const Mnv2Model* model);
/* With overlay >= 0 (an opacity, up to 1), the segment calls also blend the image with the mask's
 * classes other than 0 in their colors: mnv2_overlay is then mask_height rows of mask_width RGB
 * pixels (null without). */
const uint8_t* mnv2_overlay(const Mnv2Model* model);
/* The color of class `index` in PASCAL VOC's colormap, as 0xRRGGBB. */
int mnv2_class_color(int index);
/* 0: classification, 1: segmentation. */
int mnv2_task(const Mnv2Model* model);
/* Bytes of activations and scratch the model's plan holds, and what running it layer by layer
 * (each tensor whole) would need. */
double mnv2_activation_bytes(const Mnv2Model* model);
double mnv2_layer_by_layer_bytes(const Mnv2Model* model);

/* Writes the indices of the k best classes of the last classify, best first, into
 * `indices` (room for k); returns how many were written. Equal scores rank by the pre-softmax
 * logits, then by index; class 0 of a 1001-class ImageNet model (background) is never ranked. */
int mnv2_top_k(const Mnv2Model* model, int k, int32_t* indices);

/* Label file text (one class per line); 0 or an error code when it does not fit the model.
 * Replaces the labels a model file holds (an exported model's), which a model starts with. */
int mnv2_set_labels(Mnv2Model* model, const char* text, size_t size);
/* The label of class `index`, or "" when there are no labels. */
const char* mnv2_label(const Mnv2Model* model, int index);
/* How many labels the model has: mnv2_set_labels' or its file's own, else 0. */
int mnv2_num_labels(const Mnv2Model* model);

int mnv2_num_classes(const Mnv2Model* model);
int mnv2_feature_size(const Mnv2Model* model);
int mnv2_input_height(const Mnv2Model* model);
int mnv2_input_width(const Mnv2Model* model);
float mnv2_alpha(const Mnv2Model* model);
/* 1 when the file stores integer weights. */
int mnv2_quantized(const Mnv2Model* model);
/* "float32", "float16", "uint8" or "int8". */
const char* mnv2_weight_type(const Mnv2Model* model);
double mnv2_multiply_adds(const Mnv2Model* model);
/* Weights and biases of the network. */
double mnv2_parameters(const Mnv2Model* model);
/* "mobilenet_v1" or "mobilenet_v2". */
const char* mnv2_family(const Mnv2Model* model);

/* The SIMD target the kernels run on, e.g. "WASM", "WASM_RELAXED", "EMU128", "AVX2". */
const char* mnv2_simd_target(void);

/* The relaxed dot product's form the int8 kernels use (kernels/relaxed.h): "unsigned" or
   "signed"; "none" where they use none (other builds, or an engine whose form would not be
   exact). */
const char* mnv2_relaxed_dot(void);

/* Limits on the images a model classifies (0 keeps a default; see image::Limits): encoded
 * size in bytes and width * height. Beyond them classify fails with E_IMAGE_TOO_LARGE before
 * decoding or copying. */
int mnv2_set_image_limits(Mnv2Model* model, double max_image_bytes, double max_image_pixels);
/* The limit in force for `model` (or the default, for NULL or the model limits). */
enum {
  MNV2_LIMIT_MODEL_BYTES = 0,
  MNV2_LIMIT_MEMORY_BYTES = 1,
  MNV2_LIMIT_IMAGE_BYTES = 2,
  MNV2_LIMIT_IMAGE_PIXELS = 3,
  MNV2_LIMIT_IMAGE_SIDE = 4
};
double mnv2_limit(const Mnv2Model* model, int which);
/* Bytes currently allocated with malloc in this module (0 where the C library cannot tell):
 * for leak checks. */
size_t mnv2_heap_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* MNV2_API_C_API_H_ */
