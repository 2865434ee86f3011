// Calls that must stay calls in the WebAssembly module.
//
// Emscripten's link-time optimizer (binaryen) inlines every function that has a single
// caller, whatever its size, so the code that runs once per model (parsing, planning,
// packing) ends up in a few functions of tens of kilobytes. V8 runs a function in its
// baseline tier (Liftoff) until the function has used its tiering budget, which the loops
// draw on by the size of their bodies, and then compiles it again with its optimizing tier
// (TurboFan) on a background thread: a loop over the tensors, the channels or the weights
// inside such a function had V8 spend up to 25 ms per function compiling code that would
// never run again, on the same two cores as the load, and delayed the compiles that the
// first inference was waiting for. A loop's body called through OutOfLine stays a function
// of its own, whose tiering costs what its own size does.
#ifndef MNV2_COMMON_OUT_OF_LINE_H_
#define MNV2_COMMON_OUT_OF_LINE_H_

namespace mnv2 {

// `fn`, which the optimizers can no longer see through: calls through the result are
// indirect calls that are never inlined. Natively, `fn` itself.
template <class Fn>
inline Fn* OutOfLine(Fn* fn) {
#if defined(__EMSCRIPTEN__)
  __asm__ volatile("" : "+r"(fn));
#endif
  return fn;
}

}  // namespace mnv2

#endif  // MNV2_COMMON_OUT_OF_LINE_H_
