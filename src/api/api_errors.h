/* The last error of a C API call (c_api.h, learner_api.h), per thread like errno: its code (an
 * ErrorCode value, 0 after a success), the code's stable name ("E_MODEL_FORMAT") and a message. */
#ifndef MNV2_API_API_ERRORS_H_
#define MNV2_API_API_ERRORS_H_

#ifdef __cplusplus
extern "C" {
#endif

int mnv2_last_error_code(void);
const char* mnv2_last_error_name(void);
const char* mnv2_last_error_message(void);

#ifdef __cplusplus
}

#include "common/status.h"

namespace mnv2 {
namespace api {

// Records `s` as the last error and returns its code.
int Fail(const Status& s);
// Records success and returns 0.
int Succeed();

}  // namespace api
}  // namespace mnv2
#endif

#endif /* MNV2_API_API_ERRORS_H_ */
