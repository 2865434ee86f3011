# libFuzzer targets (MNV2_FUZZ=ON, clang only): scripts/fuzz.sh configures build-fuzz with
# this and runs them. Everything is built with ASan + UBSan and fuzzer coverage.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "MNV2_FUZZ needs clang (e.g. CXX=clang++-14)")
endif()

foreach(fuzzer model image pipeline)
  add_executable(mnv2_${fuzzer}_fuzzer tests/fuzz/${fuzzer}_fuzzer.cc)
  target_link_libraries(mnv2_${fuzzer}_fuzzer PRIVATE mnv2_api)
  target_link_options(mnv2_${fuzzer}_fuzzer PRIVATE -fsanitize=fuzzer)
endforeach()

# Seed corpora, generated at run time (tests/fuzz/make_seeds.cc).
# With the test suites in this build (the test command's), the model writer comes compiled with
# their data (mnv2_test_data) rather than compiled a second time.
add_executable(mnv2_fuzz_seeds tests/fuzz/make_seeds.cc)
if(MNV2_BUILD_TESTS)
  target_link_libraries(mnv2_fuzz_seeds PRIVATE mnv2_test_data)
else()
  target_sources(mnv2_fuzz_seeds PRIVATE tests/cpp/tflite_writer.cc)
  target_include_directories(mnv2_fuzz_seeds PRIVATE tests/cpp)
endif()
target_include_directories(mnv2_fuzz_seeds SYSTEM PRIVATE ${STB_INCLUDE_DIR})
target_link_libraries(mnv2_fuzz_seeds PRIVATE mnv2_image mnv2_model)
# stb_image_write (only used to make seeds) shifts negative values; not the code under test.
set_source_files_properties(tests/fuzz/make_seeds.cc PROPERTIES COMPILE_OPTIONS -fno-sanitize=undefined)
