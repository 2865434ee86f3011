// What the package's modules share: the error type, yielding to the event loop, and the
// WebAssembly modules' memory and errors.

/** An error with a stable `code` (E_MODEL_FORMAT, E_INPUT_TYPE, E_DISPOSED, ...). */
export class Mnv2Error extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'Mnv2Error';
    this.code = code;
  }
}

// Resolves after the event loop has run the tasks already waiting (a macrotask; promise
// callbacks alone never let it): the messages of a threaded module's workers, which the
// module's thread handles to start the engine's threads; and a page's rendering.
export function nextTask() {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

// A value's kind, for error messages.
export function describe(x) {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'object';
}

// Copies bytes into a module's memory for the duration of fn(ptr, size).
export function withBytes(m, bytes, fn) {
  const ptr = m._malloc(Math.max(1, bytes.length));
  if (!ptr) throw new Mnv2Error('E_OUT_OF_MEMORY', `cannot allocate ${bytes.length} bytes of WebAssembly memory`);
  try {
    m.HEAPU8.set(bytes, ptr);
    return fn(ptr, bytes.length);
  } finally {
    m._free(ptr);
  }
}

// The last error a module's C API call reported (src/api/api_errors.h).
export function moduleError(m) {
  return new Mnv2Error(m.UTF8ToString(m._mnv2_last_error_name()), m.UTF8ToString(m._mnv2_last_error_message()));
}
