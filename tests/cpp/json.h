// A minimal JSON reader for test fixtures (reference outputs); not for untrusted input.
#ifndef MNV2_TESTS_JSON_H_
#define MNV2_TESTS_JSON_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mnv2 {
namespace testing {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;  // in file order

  const Json& operator[](const std::string& key) const;
  const Json& operator[](size_t i) const { return array.at(i); }
  size_t size() const { return type == Type::kArray ? array.size() : object.size(); }
};

// Parses `text`; throws std::runtime_error on malformed JSON.
Json ParseJson(const std::string& text);

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_JSON_H_
