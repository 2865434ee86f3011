// Per-thread state. A WebAssembly module built without threads has one thread, and with
// bulk memory enabled wasm-ld refuses thread-local storage unless atomics are on too.
#ifndef MNV2_COMMON_THREAD_LOCAL_H_
#define MNV2_COMMON_THREAD_LOCAL_H_

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define MNV2_SINGLE_THREADED 1
#define MNV2_THREAD_LOCAL
#else
#define MNV2_SINGLE_THREADED 0
#define MNV2_THREAD_LOCAL thread_local
#endif

#endif  // MNV2_COMMON_THREAD_LOCAL_H_
