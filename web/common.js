// What the package's modules share: the error type, and yielding to the event loop.

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
