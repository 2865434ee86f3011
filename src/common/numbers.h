#ifndef MNV2_COMMON_NUMBERS_H_
#define MNV2_COMMON_NUMBERS_H_

#include <stddef.h>

#include <string>
#include <string_view>

namespace mnv2 {

// Real numbers to and from decimal text without printf and strtod: their float code, and
// the 128-bit long double arithmetic it brings along, would add some 20 kB to the
// WebAssembly module for a few error messages and the numbers of a model.json.

// A number for an error message, like printf's "%g": 6 significant digits, trailing zeros
// dropped, the exponent form below 1e-4 and from 1e6 on (0.0078125, 1e-07, 6, -inf, nan).
std::string FormatNumber(double v);

// The longest decimal text ParseDecimal reads.
constexpr size_t kMaxDecimalChars = 256;

// The double nearest to a decimal number, ties to even (as strtod rounds): `text` is
// [-]digits[.digits][(e|E)[+|-]digits], leading zeros allowed (JSON's numbers are a subset).
// False if the text is not such a number, is longer than kMaxDecimalChars, or its value is
// beyond the largest double (it would round to infinity).
bool ParseDecimal(std::string_view text, double* out);

}  // namespace mnv2

#endif  // MNV2_COMMON_NUMBERS_H_
