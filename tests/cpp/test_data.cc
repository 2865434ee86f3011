#include "test_data.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

namespace mnv2 {
namespace testing {

std::string SharedPath(const std::string& relative) {
  const char* env = std::getenv("MNV2_SHARED_DIR");
  std::string dir = env && *env ? env : MNV2_SHARED_DIR;
  return dir + "/" + relative;
}

std::string FixturesDir() {
  std::string dir = MNV2_FIXTURES_DIR;
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::vector<uint8_t> ReadFileOrFail(const std::string& path) {
  std::vector<uint8_t> bytes;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    ADD_FAILURE() << "cannot open " << path;
    return bytes;
  }
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  std::fclose(f);
  return bytes;
}

void WriteFileOrFail(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << "cannot write " << path;
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

}  // namespace testing
}  // namespace mnv2
