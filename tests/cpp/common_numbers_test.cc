// ParseDecimal against the C library's strtod (correctly rounded on glibc and in
// Emscripten's musl) and FormatNumber against the texts printf's "%g" makes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/numbers.h"
#include "gtest/gtest.h"

namespace mnv2 {
namespace {

uint64_t Bits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof(u));
  return u;
}

// ParseDecimal agrees with strtod on `text`, a number in ParseDecimal's grammar: the same
// bits, or false where strtod overflows to infinity.
void ExpectAsStrtod(const std::string& text) {
  const double expected = strtod(text.c_str(), nullptr);
  double got = 0;
  const bool ok = ParseDecimal(text, &got);
  if (std::isinf(expected)) {
    EXPECT_FALSE(ok) << text;
    return;
  }
  ASSERT_TRUE(ok) << text;
  EXPECT_EQ(Bits(got), Bits(expected)) << text << ": " << got << " != " << expected;
}

TEST(ParseDecimal, HardCases) {
  for (const char* text : {
           "0", "-0", "0.0", "-0.000e-5", "1", "-1", "0.1", "0.3", "1e23", "8.589973e9", "9007199254740993",
           "9007199254740992.5", "123456789012345678901234567890", "0.000000000000000000000000000001",
           "2.2250738585072011e-308",   // just below the smallest normal
           "2.2250738585072014e-308",   // the smallest normal
           "4.9406564584124654e-324",   // the smallest subnormal
           "2.4703282292062327e-324",   // under half of it: 0
           "2.4703282292062328e-324",   // over half of it: the smallest subnormal
           "1.7976931348623157e308",    // the largest double
           "1.7976931348623158e308",    // rounds down to it
           "1.7976931348623159e308",    // rounds to infinity
           "1e-400", "1e400", "1e-324", "1e308", "1e309", "00012.5000", "3.14159E+0", "1E-7", "1e-0", "6",
           "0.0078125", "0.00392156862745098", "0.0039215686274509803921568627451", "1e00000000000000000000001",
           "7.0e-10", "5e-324", "1.5e-323"}) {
    ExpectAsStrtod(text);
  }
}

TEST(ParseDecimal, RejectsWhatIsNotANumber) {
  double x = 42;
  for (const char* text : {"", "-", ".5", "1.", "1e", "1e+", "e5", "abc", "1.2.3", "--1", "+1", "1 ", " 1", "0x10",
                           "1e5.5", "nan", "inf", "-inf", "1,5"}) {
    EXPECT_FALSE(ParseDecimal(text, &x)) << text;
  }
  EXPECT_FALSE(ParseDecimal(std::string(kMaxDecimalChars + 1, '1'), &x));
  EXPECT_TRUE(ParseDecimal("0." + std::string(kMaxDecimalChars - 3, '0') + "1", &x));
  EXPECT_EQ(x, 1e-254);
}

// Random texts: 1 to 40 digits, a decimal point anywhere or none, exponents across (and
// past) the range of doubles.
TEST(ParseDecimal, AgreesWithStrtodOnRandomNumbers) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 200000; ++iter) {
    std::string text = rng() % 2 ? "-" : "";
    const int digits = 1 + static_cast<int>(rng() % 40);
    const int point = static_cast<int>(rng() % (digits + 1));
    std::string mantissa;
    for (int i = 0; i < digits; ++i) mantissa += static_cast<char>('0' + rng() % 10);
    if (point > 0 && point < digits) mantissa.insert(static_cast<size_t>(point), ".");
    text += mantissa;
    if (rng() % 4 != 0) text += "e" + std::to_string(static_cast<int>(rng() % 700) - 360);
    ExpectAsStrtod(text);
    if (HasFailure()) return;
  }
}

// The exact decimal text of (2m + 1) * 2^e: the big integer (2m + 1) * 2^e, or for e < 0
// (2m + 1) * 5^-e with the decimal point -e digits from the right.
std::string ExactDecimal(uint64_t odd, int e) {
  std::vector<uint32_t> limbs;  // base 10^9, little-endian
  for (uint64_t v = odd; v != 0; v /= 1000000000) limbs.push_back(static_cast<uint32_t>(v % 1000000000));
  const auto mul = [&limbs](uint32_t f) {
    uint64_t carry = 0;
    for (uint32_t& l : limbs) {
      const uint64_t t = uint64_t{l} * f + carry;
      l = static_cast<uint32_t>(t % 1000000000);
      carry = t / 1000000000;
    }
    if (carry != 0) limbs.push_back(static_cast<uint32_t>(carry));
  };
  for (int i = 0; i < std::abs(e); ++i) mul(e < 0 ? 5 : 2);
  std::string digits = std::to_string(limbs.back());
  for (size_t i = limbs.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(limbs[i]);
    digits += std::string(9 - part.size(), '0') + part;
  }
  return e < 0 ? digits + "e-" + std::to_string(-e) : digits;
}

// The exact midpoints between neighbouring doubles, where rounding ties to even, and the
// numbers one unit in their last digit either side.
TEST(ParseDecimal, RoundsMidpointsToEven) {
  std::mt19937_64 rng(11);
  int tested = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    // Doubles from about 1e-76 to 1e60: midpoints of at most ~200 digits.
    const uint64_t m = (rng() >> 11) | (uint64_t{1} << 52);
    const int k = static_cast<int>(rng() % 400) - 305;  // the double is m * 2^k
    std::string text = ExactDecimal(2 * m + 1, k - 1);
    if (text.size() > kMaxDecimalChars) continue;
    ExpectAsStrtod(text);
    // One unit more and less in the last digit (not midpoints: round to the nearer double).
    const size_t last = text.find('e') == std::string::npos ? text.size() - 1 : text.find('e') - 1;
    std::string up = text, down = text;
    if (up[last] != '9' && down[last] != '0') {
      ++up[last];
      --down[last];
      ExpectAsStrtod(up);
      ExpectAsStrtod(down);
    }
    ++tested;
    if (HasFailure()) return;
  }
  EXPECT_GT(tested, 10000);
}

TEST(FormatNumber, LikePrintfG) {
  for (double v : {0.0, -0.0, 1.0, 6.0, -1.5, 0.0078125, 0.00392156862745098, 1e-7, 123456.0, 1234567.0, 1e6, 999999.0,
                   0.0001, 0.00001, 1e-5 * 0.99, 3.14159265, 2.5e20, -7.25e-12, 100.0, 1e100, 5e-324}) {
    char expected[64];
    snprintf(expected, sizeof(expected), "%g", v);
    EXPECT_EQ(FormatNumber(v), expected) << v;
  }
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(FormatNumber(INFINITY), "inf");
  EXPECT_EQ(FormatNumber(-INFINITY), "-inf");
}

}  // namespace
}  // namespace mnv2
