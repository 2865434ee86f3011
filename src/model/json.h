// A JSON reader for untrusted text (TF.js model.json files): the strict RFC 8259 grammar,
// valid UTF-8 only, and limits on size, nesting and value count, so hostile input fails with
// an error naming the line and column instead of exhausting the stack or memory.
#ifndef MNV2_MODEL_JSON_H_
#define MNV2_MODEL_JSON_H_

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace mnv2 {
namespace model {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool boolean() const { return boolean_; }
  double number() const { return number_; }      // always finite
  const std::string& string() const { return text_; }  // valid UTF-8
  // Array elements, or object members in document order (each with its key()).
  const std::vector<JsonValue>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  const JsonValue& operator[](size_t i) const { return items_[i]; }
  // The member's name, for the items of an object.
  const std::string& key() const { return key_; }
  // The member named `key`; null when there is none or this is not an object.
  const JsonValue* Find(const std::string& key) const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool boolean_ = false;
  double number_ = 0;
  std::string text_, key_;
  std::vector<JsonValue> items_;
};

// A value costs about 100 bytes in memory, so the value count bounds what parsing allocates.
struct JsonLimits {
  size_t max_bytes = 16u << 20;
  int max_depth = 64;
  size_t max_values = 1u << 19;
};

// Parses one JSON document (a leading UTF-8 byte order mark is skipped). Fails with
// kModelFormat ("malformed JSON at line L, column C: ...") on anything that is not JSON:
// trailing text, control characters or invalid UTF-8 in strings, lone surrogates, duplicate
// keys, numbers too large for a double, NaN/Infinity; and with kModelTooLarge beyond `limits`.
Result<JsonValue> ParseJson(const char* text, size_t size, const JsonLimits& limits = {});

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_JSON_H_
