// A trap inside the WebAssembly module (an allocation failing in C++, a bug) never reaches the
// caller as an Emscripten abort: the call rejects with a code, the model reloads into a fresh
// module and classifies again. The traps are injected: WebAssembly.instantiate is wrapped (this
// file runs in its own process) so the module's exports can be made to fail on demand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertMnv2Error, imageBytes, load } from './helpers.js';

const realInstantiate = WebAssembly.instantiate;
let inject = null;  // { arity, error }: the next export call with that many arguments throws `error`
let instances = 0;
let onInstantiate = null;  // called once when the next module is made
WebAssembly.instantiate = async (...args) => {
  const instance = await realInstantiate(...args);
  instances++;
  const hook = onInstantiate;
  onInstantiate = null;
  hook?.();
  const exports = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    exports[name] = typeof value !== 'function' ? value : (...a) => {
      // Export names are minified; mnv2_classify_encoded is the one call with 4 arguments.
      if (inject && a.length === inject.arity) {
        const { error } = inject;
        inject = null;
        throw error;
      }
      return value(...a);
    };
  }
  return { exports };
};

const cat = imageBytes('cat.bmp');

for (const [what, error, code] of [
  ['an uncaught C++ exception (std::bad_alloc: Emscripten throws its pointer)', 5242880, 'E_OUT_OF_MEMORY'],
  ['an abort', new WebAssembly.RuntimeError('Aborted(OOM)'), 'E_OUT_OF_MEMORY'],
  ['a trap', new WebAssembly.RuntimeError('memory access out of bounds'), 'E_INTERNAL'],
]) {
  test(`${what} in classify: ${code}, then the model works again in a new module`, async () => {
    const model = await load();
    try {
      const expected = await model.classify(cat);
      const before = instances;
      inject = { arity: 4, error };
      await assertMnv2Error(model.classify(cat), code);
      assert.equal(instances, before + 1, 'the model was reloaded into a new module');
      assert.deepEqual(await model.classify(cat), expected);
      assert.deepEqual(await model.embed(cat).then((f) => f.length), 1280);
    } finally {
      model.dispose();
    }
  });
}

test('calls queued behind the trapping one run on the reloaded model', async () => {
  const model = await load();
  try {
    const expected = await model.classify(cat);
    inject = { arity: 4, error: new WebAssembly.RuntimeError('unreachable') };
    const calls = [model.classify(cat), model.classify(cat), model.classify(cat)];
    const [first, second, third] = await Promise.allSettled(calls);
    assert.equal(first.reason.code, 'E_INTERNAL');
    assert.deepEqual(second.value, expected);
    assert.deepEqual(third.value, expected);
  } finally {
    model.dispose();
  }
});

test('dispose() while the model reloads: the call rejects, later ones with E_DISPOSED', async () => {
  const model = await load();
  inject = { arity: 4, error: new WebAssembly.RuntimeError('unreachable') };
  onInstantiate = () => model.dispose();
  const failing = model.classify(cat);
  const queued = model.classify(cat);
  await assertMnv2Error(failing, 'E_INTERNAL');
  await assertMnv2Error(queued, 'E_DISPOSED');
  await assertMnv2Error(model.classify(cat), 'E_DISPOSED');
  assert.deepEqual(model.memoryUsage(), { wasmMemory: 0, allocated: 0, activationBytes: 0, layerByLayerBytes: 0 });
});
