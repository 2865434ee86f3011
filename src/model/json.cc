#include "model/json.h"

#include <algorithm>
#include <string_view>

#include "common/numbers.h"

namespace mnv2 {
namespace model {

const JsonValue* JsonValue::Find(const std::string& key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const JsonValue& member : items_) {
    if (member.key_ == key) return &member;
  }
  return nullptr;
}

// Recursive descent; depth is bounded by the limits, so the recursion is too.
class JsonParser {
 public:
  JsonParser(const char* text, size_t size, const JsonLimits& limits)
      : s_(text), n_(size), limits_(limits) {}

  Result<JsonValue> Parse() {
    if (n_ > limits_.max_bytes) {
      return Status(ErrorCode::kModelTooLarge, "the JSON text is " + std::to_string(n_) + " bytes; the limit is " +
                                                   std::to_string(limits_.max_bytes));
    }
    if (n_ >= 3 && static_cast<unsigned char>(s_[0]) == 0xEF && static_cast<unsigned char>(s_[1]) == 0xBB &&
        static_cast<unsigned char>(s_[2]) == 0xBF) {
      i_ = 3;
    }
    JsonValue root;
    SkipSpace();
    if (i_ == n_) return Fail("the text is empty");
    if (!Value(&root, 0)) return error_;
    SkipSpace();
    if (i_ != n_) return Fail("unexpected text after the JSON value");
    return root;
  }

 private:
  bool Value(JsonValue* v, int depth) {
    if (++values_ > limits_.max_values) {
      return TooLarge("more than " + std::to_string(limits_.max_values) + " values");
    }
    if (i_ == n_) return Error("unexpected end of the text");
    switch (s_[i_]) {
      case '{': return Object(v, depth + 1);
      case '[': return Array(v, depth + 1);
      case '"':
        v->type_ = JsonValue::Type::kString;
        return String(&v->text_);
      case 't': return Literal("true", v, JsonValue::Type::kBool, true);
      case 'f': return Literal("false", v, JsonValue::Type::kBool, false);
      case 'n': return Literal("null", v, JsonValue::Type::kNull, false);
      default: return Number(v);
    }
  }

  bool Object(JsonValue* v, int depth) {
    if (depth > limits_.max_depth) return TooLarge("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    v->type_ = JsonValue::Type::kObject;
    ++i_;
    SkipSpace();
    if (Accept('}')) return true;
    for (;;) {
      SkipSpace();
      if (i_ == n_ || s_[i_] != '"') return Error("expected a member name in double quotes");
      v->items_.emplace_back();
      JsonValue& member = v->items_.back();
      if (!String(&member.key_)) return false;
      SkipSpace();
      if (!Accept(':')) return Error("expected ':' after a member name");
      SkipSpace();
      if (!Value(&member, depth)) return false;
      SkipSpace();
      if (Accept('}')) break;
      if (!Accept(',')) return Error("expected ',' or '}' in an object");
    }
    // Duplicate names would make lookups depend on which one a reader picks.
    std::vector<const std::string*> keys;
    keys.reserve(v->items_.size());
    for (const JsonValue& m : v->items_) keys.push_back(&m.key_);
    std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t k = 1; k < keys.size(); ++k) {
      if (*keys[k] == *keys[k - 1]) return Error("duplicate member name \"" + Printable(*keys[k]) + "\" in an object");
    }
    return true;
  }

  bool Array(JsonValue* v, int depth) {
    if (depth > limits_.max_depth) return TooLarge("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    v->type_ = JsonValue::Type::kArray;
    ++i_;
    SkipSpace();
    if (Accept(']')) return true;
    for (;;) {
      SkipSpace();
      v->items_.emplace_back();
      if (!Value(&v->items_.back(), depth)) return false;
      SkipSpace();
      if (Accept(']')) return true;
      if (!Accept(',')) return Error("expected ',' or ']' in an array");
    }
  }

  bool Literal(const char* word, JsonValue* v, JsonValue::Type type, bool value) {
    const size_t len = std::char_traits<char>::length(word);
    if (n_ - i_ < len || std::char_traits<char>::compare(s_ + i_, word, len) != 0) return Error("unexpected character");
    i_ += len;
    v->type_ = type;
    v->boolean_ = value;
    return true;
  }

  bool Number(JsonValue* v) {
    const size_t start = i_;
    Accept('-');
    if (Accept('0')) {
    } else if (!Digits()) {
      const bool non_finite = i_ < n_ && (s_[i_] == 'N' || s_[i_] == 'I');
      i_ = start;
      return Error(non_finite ? "NaN and Infinity are not JSON" : "unexpected character");
    }
    if (Accept('.') && !Digits()) return Error("expected a digit after the decimal point");
    if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (!Accept('+')) Accept('-');
      if (!Digits()) return Error("expected a digit in the exponent");
    }
    if (i_ - start > kMaxDecimalChars) {
      return Error("a number longer than " + std::to_string(kMaxDecimalChars) + " characters");
    }
    const std::string_view text(s_ + start, i_ - start);
    double x;
    if (!ParseDecimal(text, &x)) {
      i_ = start;
      return Error("the number " + std::string(text) + " is too large for a double");
    }
    v->type_ = JsonValue::Type::kNumber;
    v->number_ = x;
    return true;
  }

  bool Digits() {
    const size_t start = i_;
    while (i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  bool String(std::string* out) {
    ++i_;  // the opening quote
    for (;;) {
      if (i_ == n_) return Error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return Error("control character in a string (it must be escaped)");
      if (c == '\\') {
        if (!Escape(out)) return false;
      } else if (c < 0x80) {
        out->push_back(static_cast<char>(c));
        ++i_;
      } else if (!Utf8Sequence(out)) {
        return false;
      }
    }
  }

  bool Escape(std::string* out) {
    if (n_ - i_ < 2) return Error("unterminated string");
    const char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case '"': out->push_back('"'); return true;
      case '\\': out->push_back('\\'); return true;
      case '/': out->push_back('/'); return true;
      case 'b': out->push_back('\b'); return true;
      case 'f': out->push_back('\f'); return true;
      case 'n': out->push_back('\n'); return true;
      case 'r': out->push_back('\r'); return true;
      case 't': out->push_back('\t'); return true;
      case 'u': break;
      default: i_ -= 2; return Error("invalid escape sequence in a string");
    }
    uint32_t cp = 0;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("a low surrogate \\u escape without a high one");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (n_ - i_ < 2 || s_[i_] != '\\' || s_[i_ + 1] != 'u') return Error("a high surrogate \\u escape without a low one");
      i_ += 2;
      if (!Hex4(&low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) return Error("a high surrogate \\u escape without a low one");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(cp, out);
    return true;
  }

  bool Hex4(uint32_t* cp) {
    if (n_ - i_ < 4) return Error("a \\u escape needs four hex digits");
    *cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_ + k];
      const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (d < 0) return Error("a \\u escape needs four hex digits");
      *cp = *cp * 16 + static_cast<uint32_t>(d);
    }
    i_ += 4;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // One multi-byte UTF-8 character (RFC 3629): no overlong forms, surrogates or code points
  // beyond U+10FFFF.
  bool Utf8Sequence(std::string* out) {
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return Error("invalid UTF-8 in a string");
    }
    if (n_ - i_ < static_cast<size_t>(len)) return Error("invalid UTF-8 in a string");
    for (int k = 1; k < len; ++k) {
      const unsigned char b = static_cast<unsigned char>(s_[i_ + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return Error("invalid UTF-8 in a string");
    }
    out->append(s_ + i_, len);
    i_ += len;
    return true;
  }

  void SkipSpace() {
    while (i_ < n_ && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Accept(char c) {
    if (i_ < n_ && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  // A string for an error message: at most 40 bytes, control characters replaced.
  static std::string Printable(const std::string& s) {
    std::string out = s.substr(0, 40);
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return s.size() > 40 ? out + "..." : out;
  }

  bool Error(const std::string& what) {
    size_t line = 1, column = 1;
    for (size_t k = 0; k < i_ && k < n_; ++k) {
      if (s_[k] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = Status(ErrorCode::kModelFormat, "malformed JSON at line " + std::to_string(line) + ", column " +
                                                 std::to_string(column) + ": " + what);
    return false;
  }
  bool TooLarge(const std::string& what) {
    error_ = Status(ErrorCode::kModelTooLarge, "the JSON text has " + what + " (the limit for a model file)");
    return false;
  }
  Status Fail(const std::string& what) {
    Error(what);
    return error_;
  }

  const char* s_;
  size_t n_;
  const JsonLimits& limits_;
  size_t i_ = 0;
  size_t values_ = 0;
  Status error_;
};

Result<JsonValue> ParseJson(const char* text, size_t size, const JsonLimits& limits) {
  if (text == nullptr && size > 0) return Status(ErrorCode::kInvalidArgument, "no JSON text (null pointer)");
  return JsonParser(text ? text : "", size, limits).Parse();
}

}  // namespace model
}  // namespace mnv2
