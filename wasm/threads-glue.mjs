// Post-build step of the threaded WebAssembly module (wasm/module.cmake): Emscripten 3.1.6's
// glue for Node, inside an ES module, calls require() and reads __dirname, which only
// CommonJS has. This prepends both, made with top-level await and only under Node, so the
// same file still runs unchanged in browsers and workers.
//   node wasm/threads-glue.mjs build-dir/mnv2-simd-mt.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const MARK = '// mobilenetv2-wasm: Node prelude';
const PRELUDE = `${MARK}
const __mnv2Node = typeof process == 'object' && typeof process.versions == 'object' && typeof process.versions.node == 'string';
const require = __mnv2Node ? (await import('node:module')).createRequire(import.meta.url) : undefined;
const __dirname = __mnv2Node ? (await import('node:url')).fileURLToPath(new URL('.', import.meta.url)) : '';
`;
let glue = readFileSync(file, 'utf8');
if (!glue.startsWith(MARK)) {
  for (const needed of ['require(', '__dirname', 'worker_threads']) {
    if (!glue.includes(needed)) throw new Error(`${file}: no ${needed} in the glue; is this the threaded Node build?`);
  }
  glue = PRELUDE + glue;
  writeFileSync(file, glue);
}
