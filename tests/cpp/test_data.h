// Where the tests find real data (../shared, read-only) and write fixtures (git-ignored).
#ifndef MNV2_TESTS_TEST_DATA_H_
#define MNV2_TESTS_TEST_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mnv2 {
namespace testing {

// Path of a file under ../shared, e.g. SharedPath("models/imagenet_labels.txt").
std::string SharedPath(const std::string& relative);
// Directory for fixtures generated at test time (created on demand).
std::string FixturesDir();
// Whole file, or fails the current test (and returns empty) if it cannot be read.
std::vector<uint8_t> ReadFileOrFail(const std::string& path);
void WriteFileOrFail(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace testing
}  // namespace mnv2

#endif  // MNV2_TESTS_TEST_DATA_H_
