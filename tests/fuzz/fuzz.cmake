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
add_executable(mnv2_fuzz_seeds tests/fuzz/make_seeds.cc tests/cpp/tflite_writer.cc)
target_include_directories(mnv2_fuzz_seeds PRIVATE tests/cpp)
target_include_directories(mnv2_fuzz_seeds SYSTEM PRIVATE ${STB_INCLUDE_DIR})
target_link_libraries(mnv2_fuzz_seeds PRIVATE mnv2_image mnv2_model)
# stb_image_write (only used to make seeds) shifts negative values; not the code under test.
set_source_files_properties(tests/fuzz/make_seeds.cc PROPERTIES COMPILE_OPTIONS -fno-sanitize=undefined)
