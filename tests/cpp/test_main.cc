// The test programs' main: GoogleTest's, plus --mnv2_shard=I/N, which runs the I-th of N shares
// of the tests (GoogleTest's own sharding). ctest runs a program's shards side by side
// (CMakeLists.txt). The flag stands in for GoogleTest's GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS
// variables, which do not reach a WebAssembly test program under Node: its environment is
// Emscripten's, not the process's.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const char kFlag[] = "--mnv2_shard=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, sizeof(kFlag) - 1) != 0) continue;
    const std::string value = argv[i] + sizeof(kFlag) - 1;
    const size_t slash = value.find('/');
    const int index = std::atoi(value.substr(0, slash).c_str());
    const int total = slash == std::string::npos ? 0 : std::atoi(value.substr(slash + 1).c_str());
    if (total < 1 || index < 0 || index >= total) {
      std::fprintf(stderr, "%s: --mnv2_shard=I/N needs 0 <= I < N, not %s\n", argv[0], value.c_str());
      return 2;
    }
    setenv("GTEST_SHARD_INDEX", std::to_string(index).c_str(), 1);
    setenv("GTEST_TOTAL_SHARDS", std::to_string(total).c_str(), 1);
  }
  return RUN_ALL_TESTS();
}
