// Errors are values: a stable code plus a message a person can read.
#ifndef MNV2_COMMON_STATUS_H_
#define MNV2_COMMON_STATUS_H_

#include <string>
#include <utility>

namespace mnv2 {

enum class ErrorCode {
  kOk = 0,
  kModelFormat,       // the model file is malformed (bad magic, offsets, lengths)
  kUnsupportedOp,     // a well-formed model uses an operator we do not run
  kUnsupportedModel,  // well-formed ops, but not a MobileNetV2-style network
  kImageDecode,       // the image bytes cannot be decoded
  kImageTooLarge,     // the image exceeds the configured limits
  kInvalidArgument,   // a caller passed something that makes no sense
  kIo,                // a file could not be read
  kModelTooLarge,     // the model file, or the memory its tensors need, exceeds the limits
  kOutOfMemory,       // an allocation failed
  kWrongTask,         // classify on a segmentation model, or segment on a classifier
};

// Stable identifier, e.g. "E_MODEL_FORMAT"; the JS layer exposes it as Error.code.
const char* ErrorCodeName(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "E_MODEL_FORMAT: <message>"
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace mnv2

#define MNV2_RETURN_IF_ERROR(expr)         \
  do {                                     \
    ::mnv2::Status mnv2_status_ = (expr);  \
    if (!mnv2_status_.ok()) return mnv2_status_; \
  } while (0)

#endif  // MNV2_COMMON_STATUS_H_
