#include "json.h"

#include <cstdlib>
#include <stdexcept>

namespace mnv2 {
namespace testing {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Json Value() {
    Skip();
    if (i_ >= s_.size()) Fail("unexpected end");
    Json j;
    const char c = s_[i_];
    if (c == '{') {
      j.type = Json::Type::kObject;
      ++i_;
      Skip();
      if (Peek('}')) return j;
      do {
        Skip();
        std::string key = String();
        Skip();
        Expect(':');
        j.object.emplace_back(std::move(key), Value());
        Skip();
      } while (Accept(','));
      Expect('}');
    } else if (c == '[') {
      j.type = Json::Type::kArray;
      ++i_;
      Skip();
      if (Peek(']')) return j;
      do {
        j.array.push_back(Value());
        Skip();
      } while (Accept(','));
      Expect(']');
    } else if (c == '"') {
      j.type = Json::Type::kString;
      j.string = String();
    } else if (s_.compare(i_, 4, "true") == 0 || s_.compare(i_, 5, "false") == 0) {
      j.type = Json::Type::kBool;
      j.boolean = s_[i_] == 't';
      i_ += j.boolean ? 4 : 5;
    } else if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else {
      char* end = nullptr;
      j.type = Json::Type::kNumber;
      j.number = std::strtod(s_.c_str() + i_, &end);
      if (end == s_.c_str() + i_) Fail("bad value");
      i_ = static_cast<size_t>(end - s_.c_str());
    }
    return j;
  }

 private:
  [[noreturn]] void Fail(const char* what) { throw std::runtime_error(std::string("JSON: ") + what + " at " + std::to_string(i_)); }
  void Skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool Accept(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Peek(char c) { return Accept(c); }
  void Expect(char c) {
    if (!Accept(c)) Fail("unexpected character");
  }
  std::string String() {
    Expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\' && i_ < s_.size()) {
        c = s_[i_++];
        switch (c) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const unsigned code = std::stoul(s_.substr(i_, 4), nullptr, 16);
            i_ += 4;
            if (code < 0x80) {
              out += static_cast<char>(code);
            } else if (code < 0x800) {
              out += static_cast<char>(0xc0 | (code >> 6));
              out += static_cast<char>(0x80 | (code & 0x3f));
            } else {
              out += static_cast<char>(0xe0 | (code >> 12));
              out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
              out += static_cast<char>(0x80 | (code & 0x3f));
            }
            break;
          }
          default: out += c;
        }
      } else {
        out += c;
      }
    }
    Expect('"');
    return out;
  }

  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

const Json& Json::operator[](const std::string& key) const {
  for (const auto& kv : object) {
    if (kv.first == key) return kv.second;
  }
  throw std::runtime_error("JSON: no key " + key);
}

Json ParseJson(const std::string& text) { return Parser(text).Value(); }

}  // namespace testing
}  // namespace mnv2
