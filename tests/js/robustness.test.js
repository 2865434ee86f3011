// Untrusted models and images through the JS API: limits checked before anything is copied
// into the module, malformed files built at test time from the real ones in ../shared, and
// memory that a failed call grew handed back. (Traps: trap.test.js; leaks: soak.test.js.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { encodePng, pngChunk } from '../../bin/png.js';
import { flatbuffer, withMulOperators } from './flatbuffer.js';
import { assertMnv2Error, imageBytes, load, Mnv2Error, sharedModel } from './helpers.js';

const cat = imageBytes('cat.bmp');
const owl = imageBytes('owl.jpg');
const tflite = new Uint8Array(readFileSync(sharedModel('mobilenet_v2_1.0_224_quant.tflite')));

// --- Images made here --------------------------------------------------------------------

/** An 8-bit RGB PNG of `width` x `height`; without `pixels`, only the header (no IDAT). */
function png(width, height, pixels) {
  if (pixels) return new Uint8Array(encodePng(pixels, width, height, 3));  // the CLI's encoder (bin/png.js)
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return new Uint8Array(Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr),
    pngChunk('IEND', Buffer.alloc(0))]));
}
/** A 24-bit BMP of `width` x `height` whose pixel data holds `rows` rows (all, by default). */
function bmp(width, height, rows = height) {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * rows, 0x80);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(54 + stride * height, 2);
  out.writeUInt32LE(0, 6);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(0, 30);
  out.writeUInt32LE(stride * height, 34);
  return new Uint8Array(out);
}
function noise(length, seed = 1) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = seed >>> 24;
  }
  return out;
}

const KNOWN_CODES = new Set(['E_MODEL_FORMAT', 'E_UNSUPPORTED_OP', 'E_UNSUPPORTED_MODEL', 'E_MODEL_TOO_LARGE']);

describe('malformed models from the real one', () => {
  test('every operator code patched to MUL (18): E_UNSUPPORTED_OP naming MUL', async () => {
    const bytes = withMulOperators(tflite.slice());
    await assert.rejects(load({ model: bytes }), (e) => e.code === 'E_UNSUPPORTED_OP' && /MUL/.test(e.message));
  });

  for (const [what, dim, code] of [
    ['an input 2^31-1 pixels high', 0x7fffffff, 'E_MODEL_FORMAT'],
    ['a negative input height', -224, 'E_MODEL_FORMAT'],
    ['a 1,000,000-pixel-high input', 1_000_000, 'E_UNSUPPORTED_MODEL'],
  ]) {
    test(`absurd dimensions, ${what}: ${code}`, async () => {
      const bytes = tflite.slice();
      const fb = flatbuffer(bytes);
      const input = fb.view.getInt32(fb.vector(fb.subgraph, 1).at(0), true);
      const tensor = fb.tables(fb.subgraph, 0)[input];
      fb.view.setInt32(fb.vector(tensor, 0).at(1), dim, true);
      await assertMnv2Error(load({ model: bytes }), code);
    });
  }

  test('vector lengths and offsets of the graph set to huge or pointing outside: E_MODEL_FORMAT', async () => {
    const fb = flatbuffer(tflite);
    const positions = [
      0,                                                   // the root offset
      fb.field(fb.root, 2), fb.field(fb.root, 4),          // offsets to subgraphs, buffers
      fb.field(fb.subgraph, 0), fb.field(fb.subgraph, 3),  // offsets to tensors, operators
    ];
    for (const pos of positions) {
      for (const value of [0xffffffff, 0x7ffffff0, tflite.length]) {
        const bytes = tflite.slice();
        new DataView(bytes.buffer).setUint32(pos, value, true);
        await assertMnv2Error(load({ model: bytes }), 'E_MODEL_FORMAT');
      }
    }
    // The lengths of the tensor, operator and buffer vectors.
    for (const [table, id] of [[fb.subgraph, 0], [fb.subgraph, 3], [fb.root, 4]]) {
      const at = fb.vector(table, id).at(-1);
      const bytes = tflite.slice();
      new DataView(bytes.buffer).setUint32(at, 0x40000000, true);
      await assertMnv2Error(load({ model: bytes }), 'E_MODEL_FORMAT');
    }
  });

  test('200 random corruptions of the graph description: each loads or rejects with a model error', async () => {
    // The tables sit after the weights, in the last part of the file.
    const tail = tflite.length - 40000;
    const random = noise(200 * 8, 7);
    for (let trial = 0; trial < 200; trial++) {
      const bytes = tflite.slice();
      for (let k = 0; k < 1 + (trial % 4); k++) {
        const r = random.subarray(trial * 8 + 2 * k, trial * 8 + 2 * k + 2);
        bytes[tail + (((r[0] << 8) | r[1]) * 40000 >>> 16)] = random[(trial * 8 + 7 + k) % random.length];
      }
      try {
        (await load({ model: bytes })).dispose();
      } catch (e) {
        assert.ok(e instanceof Mnv2Error && KNOWN_CODES.has(e.code), `trial ${trial}: ${e.code}: ${e.message}`);
      }
    }
  });
});

describe('limits', () => {
  test('load({ limits }) checks its option', async () => {
    await assertMnv2Error(load({ limits: 5 }), 'E_INPUT_TYPE');
    await assertMnv2Error(load({ limits: { maxPixels: 5 } }), 'E_INPUT_TYPE');
    await assertMnv2Error(load({ limits: { maxImageBytes: -1 } }), 'E_INPUT_TYPE');
    await assertMnv2Error(load({ limits: { maxImageBytes: '5' } }), 'E_INPUT_TYPE');
  });

  test('info.limits: the defaults, or what load() was given', async () => {
    const model = await load({ limits: { maxImagePixels: 1e6 } });
    assert.deepEqual(model.info.limits, {
      maxModelBytes: 128 * 2 ** 20, maxMemoryBytes: 512 * 2 ** 20, maxImageBytes: 64 * 2 ** 20, maxImagePixels: 1e6,
    });
    model.dispose();
  });

  test('a model over maxModelBytes: E_MODEL_TOO_LARGE', async () => {
    await assertMnv2Error(load({ model: tflite, limits: { maxModelBytes: tflite.length - 1 } }), 'E_MODEL_TOO_LARGE');
  });

  test('a model needing more than maxMemoryBytes: E_MODEL_TOO_LARGE, said by the engine', async () => {
    await assert.rejects(load({ model: tflite, limits: { maxMemoryBytes: 8 << 20 } }),
      (e) => e.code === 'E_MODEL_TOO_LARGE' && /memory/.test(e.message));
  });

  describe('on images', () => {
    let model;
    let expected;
    before(async () => {
      model = await load({ limits: { maxImageBytes: 200_000, maxImagePixels: 512 * 384 } });
      expected = await model.classify(owl);
    });
    after(() => model.dispose());

    const cases = [
      ['image bytes over maxImageBytes', () => cat],
      ['raw pixels over maxImagePixels', () => ({ data: new Uint8Array(512 * 385 * 3), width: 512, height: 385 })],
      ['raw pixels 20000x1, longer than a side may be', () => ({ data: new Uint8Array(20000 * 4), width: 20000, height: 1 })],
      ['a BMP header over maxImagePixels', () => bmp(600, 400, 0)],
    ];
    for (const [what, make] of cases) {
      test(`${what}: E_IMAGE_TOO_LARGE before the module's memory grows`, async () => {
        const memory = model.memoryUsage().wasmMemory;
        await assertMnv2Error(model.classify(make()), 'E_IMAGE_TOO_LARGE');
        assert.equal(model.memoryUsage().wasmMemory, memory);
        assert.deepEqual(await model.classify(owl), expected);
      });
    }

    test('a huge raw image is refused without being copied', async () => {
      const big = { data: new Uint8Array(12000 * 12000 * 3), width: 12000, height: 12000 };
      const memory = model.memoryUsage().wasmMemory;
      await assertMnv2Error(model.classify(big), 'E_IMAGE_TOO_LARGE');
      assert.ok(model.memoryUsage().wasmMemory < big.data.length);
      assert.equal(model.memoryUsage().wasmMemory, memory);
    });
  });
});

describe('odd images', () => {
  let model;
  let expected;
  before(async () => {
    model = await load();
    expected = await model.classify(cat);
  });
  after(() => model.dispose());

  for (const [what, make] of [['PNG', () => png(10000, 10000)], ['BMP', () => bmp(10000, 10000, 0)]]) {
    test(`a 10000x10000 ${what} header: E_IMAGE_TOO_LARGE at once`, async () => {
      const start = performance.now();
      await assertMnv2Error(model.classify(make()), 'E_IMAGE_TOO_LARGE');
      assert.ok(performance.now() - start < 500, `took ${performance.now() - start} ms`);
    });
  }

  test('with the pixel limit raised, a truncated 10000x10000 BMP is E_IMAGE_DECODE, still at once', async () => {
    const big = await load({ limits: { maxImagePixels: 1e8 } });
    const start = performance.now();
    await assertMnv2Error(big.classify(bmp(10000, 10000, 2)), 'E_IMAGE_DECODE');
    assert.ok(performance.now() - start < 500);
    big.dispose();
  });

  for (const [what, make] of [
    ['1x1 BMP', () => bmp(1, 1)],
    ['1x1 PNG', () => png(1, 1, new Uint8Array([200, 30, 30]))],
    ['1x1 raw RGB pixels', () => ({ data: new Uint8Array([200, 30, 30]), width: 1, height: 1 })],
  ]) {
    test(`a ${what} classifies`, async () => {
      const top = await model.classify(make());
      assert.equal(top.length, 5);
      assert.ok(top.every(({ score }) => Number.isFinite(score)));
    });
  }

  test('a PNG made here classifies; cut anywhere before the end of its pixels, E_IMAGE_DECODE', async () => {
    const image = png(64, 48, noise(64 * 48 * 3));
    assert.equal((await model.classify(image)).length, 5);
    for (const length of [8, 16, 33, 40, 60, image.length >> 1, image.length - 40]) {
      await assertMnv2Error(model.classify(image.subarray(0, length)), 'E_IMAGE_DECODE');
    }
    assert.deepEqual(await model.classify(cat), expected);
  });

  test('a call that fails after growing the memory hands the memory back, and the model still works', async () => {
    // owl.jpg declaring 3000x3000 pixels, cut after 2000 bytes of its scan, then a broken Huffman
    // table: stb_image allocates for the whole image before it finds the error.
    const marker = (bytes, codes) => {
      for (let p = 2; p < bytes.length; p += 2 + ((bytes[p + 2] << 8) | bytes[p + 3])) if (codes.includes(bytes[p + 1])) return p;
      throw new Error('no marker');
    };
    const sof = marker(owl, [0xc0, 0xc2]);
    const bad = new Uint8Array([...owl.subarray(0, marker(owl, [0xda]) + 2000), 0xff, 0xc4, 0x00, 0x03, 0xff, 0xff, 0xd9]);
    new DataView(bad.buffer).setUint16(sof + 5, 3000);
    new DataView(bad.buffer).setUint16(sof + 7, 3000);
    const fresh = await load();
    try {
      const memory = fresh.memoryUsage().wasmMemory;
      await assertMnv2Error(fresh.classify(bad), 'E_IMAGE_DECODE');
      assert.equal(fresh.memoryUsage().wasmMemory, memory);
      assert.deepEqual(await fresh.classify(cat), expected);
    } finally {
      fresh.dispose();
    }
  });
});
