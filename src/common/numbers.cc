#include "common/numbers.h"

#include <stdint.h>
#include <string.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace mnv2 {

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "nan";
  std::string s = std::signbit(v) ? "-" : "";
  v = std::fabs(v);
  if (std::isinf(v)) return s + "inf";
  if (v == 0) return s + "0";
  // v = m * 10^exp with 1 <= m < 10 (decimal scaling in double: exact enough for 6 digits).
  int exp = 0;
  double m = v;
  while (m >= 10) m /= 10, ++exp;
  while (m < 1) m *= 10, --exp;
  int64_t digits = std::llround(m * 1e5);  // 6 significant digits
  if (digits >= 1000000) digits /= 10, ++exp;
  std::string d = std::to_string(digits);
  while (d.size() > 1 && d.back() == '0') d.pop_back();
  const int n = static_cast<int>(d.size());
  if (exp < -4 || exp >= 6) {
    s += d.substr(0, 1);
    if (n > 1) s += "." + d.substr(1);
    const int e = std::abs(exp);
    return s + (exp < 0 ? "e-" : "e+") + (e < 10 ? "0" : "") + std::to_string(e);
  }
  if (exp < 0) return s + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + d;
  if (n <= exp + 1) return s + d + std::string(static_cast<size_t>(exp + 1 - n), '0');
  return s + d.substr(0, static_cast<size_t>(exp + 1)) + "." + d.substr(static_cast<size_t>(exp + 1));
}

namespace {

// A nonnegative integer of up to 4096 bits, enough for every comparison ParseDecimal makes
// (at most about 2950 bits with kMaxDecimalChars digits; see CompareToHalfway).
class BigInt {
 public:
  explicit BigInt(uint64_t v = 0) {
    for (; v != 0; v >>= 32) limb_[size_++] = static_cast<uint32_t>(v);
  }

  // *this = *this * m + a.
  void MulAdd(uint32_t m, uint32_t a) {
    uint64_t carry = a;
    for (int i = 0; i < size_; ++i) {
      const uint64_t t = uint64_t{limb_[i]} * m + carry;
      limb_[i] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    if (carry != 0) Push(static_cast<uint32_t>(carry));
  }

  void MulPow5(int e) {
    for (; e >= 13; e -= 13) MulAdd(1220703125u, 0);  // 5^13, the largest power below 2^32
    uint32_t p = 1;
    while (e-- > 0) p *= 5;
    MulAdd(p, 0);
  }

  void ShiftLeft(int bits) {
    if (size_ == 0 || bits == 0) return;
    const int words = bits / 32, b = bits % 32;
    if (size_ + words + 1 > kLimbs) {
      overflow_ = true;
      return;
    }
    limb_[size_ + words] = b ? limb_[size_ - 1] >> (32 - b) : 0;
    for (int i = size_ - 1; i > 0; --i) limb_[i + words] = b ? (limb_[i] << b) | (limb_[i - 1] >> (32 - b)) : limb_[i];
    limb_[words] = limb_[0] << b;
    for (int i = 0; i < words; ++i) limb_[i] = 0;
    size_ += words + 1;
    while (size_ > 0 && limb_[size_ - 1] == 0) --size_;
  }

  bool overflow() const { return overflow_; }

  friend int Compare(const BigInt& a, const BigInt& b) {
    if (a.size_ != b.size_) return a.size_ < b.size_ ? -1 : 1;
    for (int i = a.size_ - 1; i >= 0; --i) {
      if (a.limb_[i] != b.limb_[i]) return a.limb_[i] < b.limb_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  static constexpr int kLimbs = 128;

  void Push(uint32_t v) {
    if (size_ == kLimbs) {
      overflow_ = true;
      return;
    }
    limb_[size_++] = v;
  }

  uint32_t limb_[kLimbs];
  int size_ = 0;
  bool overflow_ = false;
};

// A positive finite double's bits as m * 2^k (m < 2^53; subnormals have k = -1074).
void Decompose(uint64_t bits, uint64_t* m, int* k) {
  const int biased = static_cast<int>(bits >> 52);
  const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
  *m = biased == 0 ? fraction : fraction | (uint64_t{1} << 52);
  *k = (biased == 0 ? 1 : biased) - 1075;
}

// The sign of D * 10^e minus the midpoint between the double with `bits` and the next one
// up, (2m + 1) * 2^(k - 1), compared exactly as integers. With D below 10^256 and the
// value in double range, the largest side is (2m + 1) * 5^579 * 2^1549: about 2950 bits.
int CompareToHalfway(const BigInt& d, int e, uint64_t bits, bool* overflow) {
  uint64_t m;
  int k;
  Decompose(bits, &m, &k);
  BigInt a = d, b(2 * m + 1);
  int a2 = 0, b2 = k - 1;  // the powers of two of each side
  if (e >= 0) {
    a.MulPow5(e);
    a2 += e;
  } else {
    b.MulPow5(-e);
    b2 -= e;
  }
  if (a2 > b2) a.ShiftLeft(a2 - b2);
  if (b2 > a2) b.ShiftLeft(b2 - a2);
  *overflow = a.overflow() || b.overflow();
  return Compare(a, b);
}

uint64_t Bits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof(u));
  return u;
}

double FromBits(uint64_t u) {
  double x;
  memcpy(&x, &u, sizeof(x));
  return x;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool ParseDecimal(std::string_view text, double* out) {
  if (text.size() > kMaxDecimalChars) return false;
  size_t i = 0;
  const size_t n = text.size();
  const bool negative = i < n && text[i] == '-';
  if (negative) ++i;
  // value = D * 10^exp10, D the significant digits (no leading or trailing zeros).
  char digits[kMaxDecimalChars];
  int count = 0, exp10 = 0;
  const size_t int_start = i;
  for (; i < n && IsDigit(text[i]); ++i) {
    if (count > 0 || text[i] != '0') digits[count++] = text[i];
  }
  if (i == int_start) return false;
  if (i < n && text[i] == '.') {
    const size_t frac_start = ++i;
    for (; i < n && IsDigit(text[i]); ++i) {
      if (count > 0 || text[i] != '0') digits[count++] = text[i];
      --exp10;
    }
    if (i == frac_start) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    const bool exp_negative = i < n && text[i] == '-';
    if (i < n && (text[i] == '-' || text[i] == '+')) ++i;
    const size_t exp_start = i;
    int e = 0;
    for (; i < n && IsDigit(text[i]); ++i) e = std::min(e * 10 + (text[i] - '0'), 100000);
    if (i == exp_start) return false;
    exp10 += exp_negative ? -e : e;
  }
  if (i != n) return false;
  while (count > 0 && digits[count - 1] == '0') --count, ++exp10;

  const double sign = negative ? -1.0 : 1.0;
  // Below 10^-324 the value is under half the smallest subnormal (2^-1075): it rounds to 0.
  if (count == 0 || count + exp10 < -324) {
    *out = sign * 0.0;
    return true;
  }
  if (count + exp10 > 310) return false;  // at least 10^309
  // Exact: D < 2^53 and 10^|exp10| are doubles, and one IEEE operation rounds correctly.
  if (count <= 15 && exp10 >= -22 && exp10 <= 22) {
    uint64_t d = 0;
    for (int j = 0; j < count; ++j) d = d * 10 + static_cast<uint64_t>(digits[j] - '0');
    const double x = static_cast<double>(d);
    *out = sign * (exp10 >= 0 ? x * kPow10[exp10] : x / kPow10[-exp10]);
    return true;
  }
  // Otherwise an estimate within a few units in the last place (the first 19 digits scaled
  // by powers of ten), corrected one step at a time by exact comparisons with the
  // midpoints between neighbouring doubles.
  const int head = std::min(count, 19);
  uint64_t w = 0;
  for (int j = 0; j < head; ++j) w = w * 10 + static_cast<uint64_t>(digits[j] - '0');
  int e2 = exp10 + (count - head);
  double x = static_cast<double>(w);
  for (; e2 > 22; e2 -= 22) x *= 1e22;
  for (; e2 < -22; e2 += 22) x /= 1e22;
  x = e2 >= 0 ? x * kPow10[e2] : x / kPow10[-e2];
  constexpr double kMax = std::numeric_limits<double>::max();
  uint64_t bits = Bits(std::min(x, kMax));
  const uint64_t kInfinity = Bits(std::numeric_limits<double>::infinity());

  BigInt d;
  for (int j = 0; j < count; ++j) d.MulAdd(10, static_cast<uint32_t>(digits[j] - '0'));
  for (;;) {
    bool overflow = false;
    // Up while the value is past the midpoint above (or on it, with an odd mantissa).
    const int up = CompareToHalfway(d, exp10, bits, &overflow);
    if (overflow) return false;
    if (up > 0 || (up == 0 && (bits & 1))) {
      if (++bits == kInfinity) return false;
      continue;
    }
    if (bits == 0) break;
    // Down while it is before the midpoint below (or on it, with an odd mantissa).
    const int down = CompareToHalfway(d, exp10, bits - 1, &overflow);
    if (overflow) return false;
    if (down < 0 || (down == 0 && (bits & 1))) {
      --bits;
      continue;
    }
    break;
  }
  *out = sign * FromBits(bits);
  return true;
}

}  // namespace mnv2
