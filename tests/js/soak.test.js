// Leak check: the same photo classified N times (MNV2_SOAK, default 300; the full run is 2000)
// and a model loaded and disposed 20 times (50 in the full run). After warm-up, the module's
// memory, what its malloc has handed out and the JS heap (after a full GC) must stay flat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { imageBytes, load } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const runs = Number(process.env.MNV2_SOAK ?? 300);
const loads = runs >= 2000 ? 50 : 20;
const photo = imageBytes('cat.bmp');
const MB = 2 ** 20;

function jsHeap() {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}

test(`classifying one photo ${runs} times: WebAssembly and JS memory stay flat`, { timeout: 30 * 60e3 }, async (t) => {
  const model = await load();
  try {
    const expected = await model.classify(photo);
    for (let i = 0; i < 20; i++) await model.classify(photo);
    const wasm0 = model.memoryUsage();
    const js0 = jsHeap();
    for (let i = 0; i < runs; i++) {
      const top = await model.classify(photo);
      if (i % 100 === 0) assert.deepEqual(top, expected);
    }
    const wasm1 = model.memoryUsage();
    const js1 = jsHeap();
    t.diagnostic(`after ${runs} runs: wasm memory ${wasm0.wasmMemory} -> ${wasm1.wasmMemory} bytes, malloc'd ${wasm0.allocated} -> ${wasm1.allocated}, JS heap ${(js0.heapUsed / MB).toFixed(2)} -> ${(js1.heapUsed / MB).toFixed(2)} MB`);
    assert.equal(wasm1.wasmMemory, wasm0.wasmMemory);
    assert.equal(wasm1.allocated, wasm0.allocated);
    assert.ok(js1.heapUsed - js0.heapUsed < 2 * MB, `JS heap grew by ${js1.heapUsed - js0.heapUsed} bytes`);
    assert.ok(js1.arrayBuffers - js0.arrayBuffers < 2 * MB, `array buffers grew by ${js1.arrayBuffers - js0.arrayBuffers} bytes`);
  } finally {
    model.dispose();
  }
});

test(`loading and disposing a model ${loads} times: the JS heap stays flat`, { timeout: 30 * 60e3 }, async (t) => {
  for (let i = 0; i < 3; i++) (await load()).dispose();
  const js0 = jsHeap();
  for (let i = 0; i < loads; i++) {
    const model = await load();
    if (i % 10 === 0) assert.equal((await model.classify(photo))[0].label, 'Egyptian cat');
    model.dispose();
  }
  const js1 = jsHeap();
  t.diagnostic(`after ${loads} loads: JS heap ${(js0.heapUsed / MB).toFixed(2)} -> ${(js1.heapUsed / MB).toFixed(2)} MB, array buffers ${(js0.arrayBuffers / MB).toFixed(2)} -> ${(js1.arrayBuffers / MB).toFixed(2)} MB`);
  assert.ok(js1.heapUsed - js0.heapUsed < 4 * MB, `JS heap grew by ${js1.heapUsed - js0.heapUsed} bytes`);
  assert.ok(js1.arrayBuffers - js0.arrayBuffers < 16 * MB, `array buffers grew by ${js1.arrayBuffers - js0.arrayBuffers} bytes`);
});
