// The demo server (scripts/serve.js): headers, MIME types, the /samples/ route, and that no
// request reaches a file outside the served folders. Plain HTTP, no browser.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { references, start } from './helpers.js';

let server;
let tmp;
let rooted;

before(async () => {
  server = await start({ port: 0 });
  // A root with a symbolic link leading out of it, and a secret next to it.
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mnv2-serve-'));
  mkdirSync(path.join(tmp, 'root'));
  writeFileSync(path.join(tmp, 'secret.txt'), 'secret');
  writeFileSync(path.join(tmp, 'root', 'index.html'), '<!doctype html><title>app</title>');
  symlinkSync(path.join(tmp, 'secret.txt'), path.join(tmp, 'root', 'link.txt'));
  rooted = await start({ port: 0, root: path.join(tmp, 'root'), samplesDir: null });
});

after(async () => {
  await server?.close();
  await rooted?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A request with the path sent exactly as written (fetch would normalize '..'). */
function get(base, rawPath, method = 'GET') {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('COOP/COEP on every response, and the right MIME types', async () => {
  const expected = {
    '/web/demo/': 'text/html; charset=utf-8',
    '/web/demo/demo.js': 'text/javascript; charset=utf-8',
    '/web/demo/demo.css': 'text/css; charset=utf-8',
    '/dist/mnv2-simd.mjs': 'text/javascript; charset=utf-8',
    '/dist/mnv2-simd.wasm': 'application/wasm',
    '/models/imagenet_labels.txt': 'text/plain; charset=utf-8',
    '/models/mobilenet_v2_1.0_224_quant.tflite': 'application/octet-stream',
    '/samples/cat.bmp': 'image/bmp',
    '/samples/parrot.jpg': 'image/jpeg',
    '/samples/index.json': 'application/json; charset=utf-8',
  };
  for (const [url, type] of Object.entries(expected)) {
    const r = await get(server.url, url);
    assert.equal(r.status, 200, url);
    assert.equal(r.headers['content-type'], type, url);
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', url);
    assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', url);
    assert.equal(Number(r.headers['content-length']), r.body.length, url);
  }
  const notFound = await get(server.url, '/nope.js');
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers['cross-origin-embedder-policy'], 'require-corp');
  const head = await get(server.url, '/dist/mnv2-simd.wasm', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal((await get(server.url, '/web/demo/', 'POST')).status, 405);
});

test('/ leads to the demo; a folder without its slash is redirected', async () => {
  const root = await get(server.url, '/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.location, '/web/demo/');
  const folder = await get(server.url, '/web/demo');
  assert.equal(folder.status, 301);
  assert.equal(folder.headers.location, '/web/demo/');
});

test('/samples/ lists and serves the encoded photos of the shared folder, nothing else', async () => {
  const list = JSON.parse((await get(server.url, '/samples/index.json')).body);
  for (const photo of references()) assert.ok(list.images.includes(photo.name), photo.name);
  assert.ok(list.images.every((n) => /\.(bmp|jpe?g|png|gif)$/i.test(n)), String(list.images));
  assert.deepEqual(JSON.parse((await get(server.url, '/samples/')).body), list);
  for (const name of ['bird.rgb', 'reference_top5.json', 'COPYRIGHT', 'missing.jpg', 'sub/cat.bmp']) {
    assert.equal((await get(server.url, `/samples/${name}`)).status, 404, name);
  }
});

test('/sample-models/ lists and serves the models and label files of the shared folder, nothing else', async () => {
  const list = JSON.parse((await get(server.url, '/sample-models/index.json')).body);
  for (const name of ['mobilenet_v2_1.0_224_quant.tflite', 'mobilenet_v1_0.25_128_quant.tflite']) assert.ok(list.models.includes(name), name);
  assert.ok(list.models.every((n) => n.endsWith('.tflite')), String(list.models));
  assert.ok(list.labels.includes('imagenet_labels.txt'), String(list.labels));
  const model = await get(server.url, '/sample-models/mobilenet_v1_0.25_128_quant.tflite');
  assert.equal(model.status, 200);
  assert.equal(model.body.subarray(4, 8).toString(), 'TFL3');
  for (const name of ['README.md', 'LICENSE', '../images/cat.bmp', '..%2fimages%2fcat.bmp', 'sub/x.tflite']) {
    assert.equal((await get(server.url, `/sample-models/${name}`)).status, 404, name);
  }
  // The reference masks are not sample photos.
  const photos = JSON.parse((await get(server.url, '/samples/index.json')).body).images;
  assert.ok(!photos.some((n) => n.includes('_mask')), String(photos));
});

test('no way out of the served folders', async () => {
  // Files outside the repository (the shared folder next to it, /etc), dot-files, raw samples.
  const attempts = [
    '/../shared/images/COPYRIGHT', '/web/../../shared/images/COPYRIGHT', '/%2e%2e/shared/images/COPYRIGHT',
    '/web/%2e%2e/%2e%2e/shared/images/COPYRIGHT', '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/web/%2e%2e%2f%2e%2e%2fetc/passwd',
    '/samples/../../shared/images/COPYRIGHT', '/samples/..%2fCOPYRIGHT', '/samples/%2e%2e%2f%2e%2e%2fmain%2fpackage.json',
    '/samples/COPYRIGHT', '/samples/.%2e/images/cat.bmp', '/..%5cshared%5cimages%5cCOPYRIGHT', '/web%5c..%5c..%5cshared',
    '/.git/config', '/.git/HEAD', '/.ci/run', '/web/.%2e/.git/config', '/web/demo/%00index.html', '//etc/passwd',
    '/%2fetc%2fpasswd', '/%c0%ae%c0%ae/etc/passwd', '/%E0%A4%A', '/..', '/%2e%2e',
  ];
  for (const attempt of attempts) {
    const r = await get(server.url, attempt);
    const home = r.status === 302 && r.headers.location === '/web/demo/'; // '/..' is '/'
    assert.ok(r.status === 404 || r.status === 400 || home, `${attempt}: ${r.status}`);
    assert.ok(!/root:|Open Images|\[core\]/.test(r.body.toString()), attempt);
  }
  // '..' that stays inside the root is harmless and resolved like a browser would.
  assert.equal((await get(server.url, '/web/../package.json')).status, 200);

  // A symbolic link leading outside the root is not followed; no /samples/ when disabled.
  assert.equal((await get(rooted.url, '/index.html')).status, 200);
  assert.equal((await get(rooted.url, '/')).status, 200);
  assert.equal((await get(rooted.url, '/link.txt')).status, 404);
  assert.equal((await get(rooted.url, '/../secret.txt')).status, 404);
  assert.equal((await get(rooted.url, '/samples/cat.bmp')).status, 404);
});
