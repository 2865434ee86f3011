#include "api/api_errors.h"

#include "common/thread_local.h"

namespace mnv2 {
namespace api {
namespace {

MNV2_THREAD_LOCAL Status last_error;

}  // namespace

int Fail(const Status& s) {
  last_error = s;
  return static_cast<int>(s.code());
}

int Succeed() {
  last_error = Status::Ok();
  return 0;
}

}  // namespace api
}  // namespace mnv2

extern "C" {

int mnv2_last_error_code(void) { return static_cast<int>(mnv2::api::last_error.code()); }
const char* mnv2_last_error_name(void) { return mnv2::ErrorCodeName(mnv2::api::last_error.code()); }
const char* mnv2_last_error_message(void) { return mnv2::api::last_error.message().c_str(); }

}  // extern "C"
