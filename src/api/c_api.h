/* The C API of the engine: what the WebAssembly module exports to JavaScript.
 * Every call that can fail returns 0 or an error code (an ErrorCode value); the
 * code's stable name and a readable message are then available from
 * mnv2_last_error_name() / mnv2_last_error_message() until the next call. */
#ifndef MNV2_API_C_API_H_
#define MNV2_API_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct Mnv2Model Mnv2Model;

/* Parses and plans a .tflite model; the bytes may be freed afterwards. NULL on error. */
Mnv2Model* mnv2_load(const uint8_t* data, size_t size);
void mnv2_free(Mnv2Model* model);

/* fit: 0 = resize the whole image, 1 = center crop. */
int mnv2_classify_encoded(Mnv2Model* model, const uint8_t* data, size_t size, int fit);
/* Raw pixels: channels 3 (RGB) or 4 (RGBA), stride in bytes between rows. */
int mnv2_classify_pixels(Mnv2Model* model, const uint8_t* data, int width, int height, int channels,
                         size_t stride, int fit);

/* Results of the last successful classify: num_classes scores, feature_size features. */
const float* mnv2_scores(const Mnv2Model* model);
const float* mnv2_features(const Mnv2Model* model);

/* Writes the indices of the k best classes of the last classify, best first, into
 * `indices` (room for k); returns how many were written. */
int mnv2_top_k(const Mnv2Model* model, int k, int32_t* indices);

/* Label file text (one class per line); 0 or an error code when it does not fit the model. */
int mnv2_set_labels(Mnv2Model* model, const char* text, size_t size);
/* The label of class `index`, or "" when there are no labels. */
const char* mnv2_label(const Mnv2Model* model, int index);

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

/* The SIMD target the kernels run on, e.g. "WASM", "EMU128", "AVX2". */
const char* mnv2_simd_target(void);

int mnv2_last_error_code(void);
const char* mnv2_last_error_name(void);
const char* mnv2_last_error_message(void);

#ifdef __cplusplus
}
#endif

#endif /* MNV2_API_C_API_H_ */
