# The WebAssembly modules the npm package loads: an ES module factory plus its .wasm, exporting
# the C API of src/api/c_api.h. The SIMD build directories (threaded or not) also build the
# relaxed SIMD module of the same sources (MNV2_WASM_RELAXED; below), which recompiles only the
# kernels.
if(MNV2_WASM_THREADS)
  set(MNV2_MODULE_NAME mnv2-simd-mt)
  set(MNV2_RELAXED_MODULE_NAME mnv2-relaxed-mt)
elseif(MNV2_WASM_SIMD)
  set(MNV2_MODULE_NAME mnv2-simd)
  set(MNV2_RELAXED_MODULE_NAME mnv2-relaxed)
else()
  set(MNV2_MODULE_NAME mnv2-nosimd)
endif()
set(MNV2_EXPORTS _malloc _free
  _mnv2_load _mnv2_load_tfjs _mnv2_free _mnv2_classify_encoded _mnv2_classify_pixels _mnv2_scores _mnv2_features
  _mnv2_top_k _mnv2_set_labels _mnv2_label _mnv2_num_labels _mnv2_num_classes _mnv2_feature_size _mnv2_input_height _mnv2_input_width _mnv2_alpha _mnv2_quantized
  _mnv2_weight_type _mnv2_multiply_adds _mnv2_parameters _mnv2_family _mnv2_simd_target _mnv2_relaxed_dot
  _mnv2_last_error_code _mnv2_last_error_name _mnv2_last_error_message
  _mnv2_load_limited _mnv2_set_image_limits _mnv2_limit _mnv2_heap_bytes
  _mnv2_load_with _mnv2_precision _mnv2_set_threads _mnv2_threads
  _mnv2_segment_encoded _mnv2_segment_pixels _mnv2_mask _mnv2_mask_width _mnv2_mask_height _mnv2_overlay
  _mnv2_class_color _mnv2_task _mnv2_activation_bytes _mnv2_layer_by_layer_bytes)

# A module target `target` named `name` (OUTPUT_NAME) on the kernels library `kernels`, exporting
# the functions `exports` (a list).
function(mnv2_package_module target name kernels exports)
  string(REPLACE ";" "," exports "${exports}")
  add_executable(${target} src/api/c_api.cc src/api/api_errors.cc)
  # `kernels` first: its symbols take precedence over those of mnv2_kernels, which mnv2_engine
  # brings along (the two libraries define the same symbols).
  target_link_libraries(${target} PRIVATE ${kernels} mnv2_engine)
  target_compile_options(${target} PRIVATE ${MNV2_WASM_SIZE_OPT})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name} SUFFIX ".mjs")
  target_link_options(${target} PRIVATE
    -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createMnv2Module
    # The JS layer hands the module its wasm bytes itself, in every environment.
    -sENVIRONMENT=web,worker
    # Linked for size (binaryen -Oz, its passes repeated until the module stops shrinking:
    # --converge, 342-534 bytes less, no change in speed, 4 s more of CPU); emmalloc: the engine
    # allocates once per model, and dlmalloc's speed on many small blocks is 8 kB the module
    # does not need.
    -Oz -sBINARYEN_EXTRA_PASSES=--converge -sMALLOC=emmalloc
    -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=40MB -sMAXIMUM_MEMORY=2GB
    # Out of memory is an error the C API reports, not an abort.
    -sABORTING_MALLOC=0
    -sFILESYSTEM=0 -sEXIT_RUNTIME=0
    -sEXPORTED_FUNCTIONS=${exports}
    -sEXPORTED_RUNTIME_METHODS=UTF8ToString)
  if(MNV2_WASM_THREADS)
    # The threaded module: its workers (NAME.worker.js) are started when the module is
    # created, as many as the JS layer asks for (Module.mnv2Workers: the engine's threads - 1),
    # so that the engine's threads never need a Worker created later. The module does not wait
    # for them to load (PTHREAD_POOL_DELAY_LOAD): the engine runs on the threads started so far
    # (src/engine/workers.h), one at first, all once their workers have loaded. Node is one of
    # its environments (there the workers are worker_threads); wasm/threads-glue.mjs then gives
    # the ES module the `require` and `__dirname` that Emscripten's Node code expects.
    target_link_options(${target} PRIVATE
      -sENVIRONMENT=web,worker,node -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
      -sPTHREAD_POOL_SIZE=Module.mnv2Workers -sPTHREAD_POOL_DELAY_LOAD=1)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${NODE_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/wasm/threads-glue.mjs ${CMAKE_CURRENT_BINARY_DIR}/${name}.mjs
      VERBATIM)
  endif()
endfunction()

mnv2_package_module(mnv2_module ${MNV2_MODULE_NAME} mnv2_kernels "${MNV2_EXPORTS}")

if(MNV2_WASM_RELAXED)
  # The relaxed SIMD module (src/kernels/relaxed.h): the kernels compiled again with
  # MNV2_RELAXED_BUILD (their int8 GEMM imports the relaxed kernels), the other layers shared
  # with the SIMD module.
  get_target_property(kernel_sources mnv2_kernels SOURCES)
  add_library(mnv2_kernels_relaxed STATIC ${kernel_sources})
  target_include_directories(mnv2_kernels_relaxed PUBLIC src)
  target_include_directories(mnv2_kernels_relaxed SYSTEM PUBLIC ${HWY_INCLUDE_DIR})
  target_link_libraries(mnv2_kernels_relaxed PUBLIC mnv2_common)
  target_compile_definitions(mnv2_kernels_relaxed PRIVATE MNV2_RELAXED_BUILD)
  # It reads .tflite files only. TF.js models run in float32, whose kernels are the SIMD module's,
  # and the JS layer loads them there (web/core.js); without mnv2_load_tfjs the linker leaves the
  # TF.js reader out.
  set(relaxed_exports ${MNV2_EXPORTS})
  list(REMOVE_ITEM relaxed_exports _mnv2_load_tfjs)
  mnv2_package_module(mnv2_relaxed_module ${MNV2_RELAXED_MODULE_NAME} mnv2_kernels_relaxed "${relaxed_exports}")
  target_compile_definitions(mnv2_relaxed_module PRIVATE MNV2_RELAXED_BUILD)

  # Its kernel module: compiled by clang 19 through Emscripten's driver (its headers and flags;
  # compiling runs no binaryen), linked by wasm-ld 19 into a module that imports the main
  # module's memory as main.mnv2_memory, then merged into the main module
  # (scripts/merge-relaxed.mjs, with npm's binaryen: the relaxed opcodes are newer than Debian's
  # binaryen 108, which Emscripten's own link steps run).
  find_program(WASM_LD_19 wasm-ld-19 REQUIRED)
  find_program(CLANG_19 clang++-19 REQUIRED)
  set(relaxed_flags -std=c++17 -O3 -msimd128 -mrelaxed-simd -mbulk-memory -mnontrapping-fptoint -fno-rtti
      -DHWY_COMPILE_ONLY_STATIC -DMNV2_RELAXED_BUILD -DMNV2_RELAXED_KERNEL_MODULE
      -I${CMAKE_CURRENT_SOURCE_DIR}/src -isystem ${HWY_INCLUDE_DIR})
  set(relaxed_link --no-entry --import-memory=main,mnv2_memory -z stack-size=0 --initial-memory=65536)
  if(MNV2_WASM_THREADS)
    list(APPEND relaxed_flags -pthread)
    list(APPEND relaxed_link --shared-memory --max-memory=2147483648)
  endif()
  set(relaxed_kernels ${CMAKE_CURRENT_BINARY_DIR}/${MNV2_RELAXED_MODULE_NAME}-kernels.wasm)
  add_custom_command(OUTPUT ${relaxed_kernels}
    COMMAND ${CMAKE_COMMAND} -E env EM_CLANG_ADD_VERSION=19 EM_LLVM_ADD_VERSION=19
            ${CMAKE_CXX_COMPILER} -c ${relaxed_flags} ${CMAKE_CURRENT_SOURCE_DIR}/wasm/relaxed_kernels.cc
            -o ${CMAKE_CURRENT_BINARY_DIR}/relaxed_kernels.o
    COMMAND ${WASM_LD_19} ${relaxed_link} ${CMAKE_CURRENT_BINARY_DIR}/relaxed_kernels.o -o ${relaxed_kernels}
    DEPENDS wasm/relaxed_kernels.cc src/kernels/qgemm_relaxed-inl.h src/kernels/qdepthwise_relaxed-inl.h src/kernels/requant-inl.h
            src/kernels/gemm-inl.h src/kernels/simd-inl.h src/kernels/qpacked.h src/kernels/relaxed.h
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
    VERBATIM)
  add_custom_target(mnv2_relaxed_kernels DEPENDS ${relaxed_kernels})
  add_dependencies(mnv2_relaxed_module mnv2_relaxed_kernels)
  # Import names as written, so that the merge finds the kernels' imports: Emscripten minifies
  # them at -Oz unless the link uses library_exports.js (an internal setting otherwise).
  target_link_options(mnv2_relaxed_module PRIVATE --js-library ${CMAKE_CURRENT_SOURCE_DIR}/wasm/relaxed-imports.js
    -lexports.js)
  add_custom_command(TARGET mnv2_relaxed_module POST_BUILD
    COMMAND ${NODE_EXECUTABLE} --experimental-wasm-relaxed-simd ${CMAKE_CURRENT_SOURCE_DIR}/scripts/merge-relaxed.mjs
            ${CMAKE_CURRENT_BINARY_DIR}/${MNV2_RELAXED_MODULE_NAME}.wasm ${relaxed_kernels}
    VERBATIM)
endif()

# The learner module (mnv2-learner-simd, mnv2-learner-nosimd): the user's own classes and the
# export of a model with a learned head (src/api/learner_api.h). A module of its own, which the
# JS layer loads only when a page creates a classifier: pages that only classify download none
# of it. Single-threaded; linked like the module above.
if(NOT MNV2_WASM_THREADS)
  if(MNV2_WASM_SIMD)
    set(MNV2_LEARNER_MODULE_NAME mnv2-learner-simd)
  else()
    set(MNV2_LEARNER_MODULE_NAME mnv2-learner-nosimd)
  endif()
  set(MNV2_LEARNER_EXPORTS _malloc _free _mnv2_last_error_name _mnv2_last_error_message
    _mnv2_learner_create _mnv2_learner_free _mnv2_learner_add _mnv2_learner_add_label _mnv2_learner_classify
    _mnv2_learner_scores _mnv2_learner_top_k _mnv2_learner_train_begin _mnv2_learner_train_epoch _mnv2_learner_loss
    _mnv2_learner_head_weights _mnv2_learner_head_bias _mnv2_learner_set_head _mnv2_learner_export_tflite
    _mnv2_learner_export_tfjs _mnv2_learner_export_data _mnv2_learner_export_size)
  string(REPLACE ";" "," MNV2_LEARNER_EXPORTS "${MNV2_LEARNER_EXPORTS}")
  add_executable(mnv2_learner_module src/api/learner_api.cc src/api/api_errors.cc)
  target_link_libraries(mnv2_learner_module PRIVATE mnv2_learner mnv2_engine)
  target_compile_options(mnv2_learner_module PRIVATE ${MNV2_WASM_SIZE_OPT})
  set_target_properties(mnv2_learner_module PROPERTIES OUTPUT_NAME ${MNV2_LEARNER_MODULE_NAME} SUFFIX ".mjs")
  target_link_options(mnv2_learner_module PRIVATE
    -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createMnv2LearnerModule -sENVIRONMENT=web,worker
    -Oz -sBINARYEN_EXTRA_PASSES=--converge -sMALLOC=emmalloc
    -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=2GB -sABORTING_MALLOC=0
    -sFILESYSTEM=0 -sEXIT_RUNTIME=0
    -sEXPORTED_FUNCTIONS=${MNV2_LEARNER_EXPORTS}
    -sEXPORTED_RUNTIME_METHODS=UTF8ToString)
endif()
