#include "common/status.h"

namespace mnv2 {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kModelFormat: return "E_MODEL_FORMAT";
    case ErrorCode::kUnsupportedOp: return "E_UNSUPPORTED_OP";
    case ErrorCode::kUnsupportedModel: return "E_UNSUPPORTED_MODEL";
    case ErrorCode::kImageDecode: return "E_IMAGE_DECODE";
    case ErrorCode::kImageTooLarge: return "E_IMAGE_TOO_LARGE";
    case ErrorCode::kInvalidArgument: return "E_INVALID_ARGUMENT";
    case ErrorCode::kIo: return "E_IO";
    case ErrorCode::kModelTooLarge: return "E_MODEL_TOO_LARGE";
    case ErrorCode::kOutOfMemory: return "E_OUT_OF_MEMORY";
    case ErrorCode::kWrongTask: return "E_WRONG_TASK";
  }
  return "E_UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace mnv2
