#!/usr/bin/env node
// Merges the relaxed build's kernel module (wasm/relaxed_kernels.cc) into its main module, in place:
//   node scripts/merge-relaxed.mjs MAIN.wasm KERNELS.wasm
// (MNV2_MERGE_NAMES=1 keeps the function names, for a profiling build linked with --profiling-funcs.)
// The main module (Emscripten's link) imports the kernels from the module "mnv2_relaxed"; the kernel
// module imports the main module's memory as main.mnv2_memory. npm's binaryen (wasm-merge) resolves
// both into direct references, and the result imports and exports exactly what the main module's
// Emscripten glue expects. Binaryen 108 (Debian's, which Emscripten 3.1.6 runs) cannot read the
// relaxed opcodes; binaryen 132 can.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import binaryen from 'binaryen';

const [mainPath, kernelsPath] = process.argv.slice(2);
if (!mainPath || !kernelsPath) {
  console.error('usage: merge-relaxed.mjs MAIN.wasm KERNELS.wasm');
  process.exit(2);
}

// What the engines that run the module support (and nothing newer: binaryen's defaults would
// write encodings they cannot read).
const F = binaryen.Features;
const FEATURES = F.MVP | F.Atomics | F.MutableGlobals | F.NontrappingFPToInt | F.SIMD128 | F.BulkMemory | F.SignExt |
  F.RelaxedSIMD | F.BulkMemoryOpt;
const FEATURE_FLAGS = ['--enable-threads', '--enable-mutable-globals', '--enable-nontrapping-float-to-int',
  '--enable-simd', '--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-sign-ext', '--enable-relaxed-simd'];

// The kernel module's functions (src/kernels/relaxed.h).
const KERNEL_EXPORTS = ['dot_probe', 'qgemm_tiles', 'qdw_interior', 'gemm_panel', 'gemm_gathered'];

const NAMES = process.env.MNV2_MERGE_NAMES === '1';
binaryen.setDebugInfo(NAMES);

function read(file) {
  const module = binaryen.readBinary(readFileSync(file));
  module.setFeatures(FEATURES);
  return module;
}

function fail(message) {
  console.error(`merge-relaxed: ${message}`);
  process.exit(1);
}

// The module's imports, in a fixed order (the merge may reorder them; the glue reads them by name).
function imports(bytes) {
  return WebAssembly.Module.imports(new WebAssembly.Module(bytes))
    .map((i) => `${i.module}.${i.name}:${i.kind}`).sort();
}

// The kernel module must not use a stack, globals or data of its own: they would not be the main
// module's (relaxed_kernels.cc).
const kernels = read(kernelsPath);
const kernelText = kernels.emitText();
if (/global\.(get|set)/.test(kernelText) || kernels.getNumDataSegments() > 0) {
  fail(`${kernelsPath} uses globals or data (a stack frame?): its functions must not`);
}
kernels.dispose();

// The main module's memory, exported under the name the kernel module imports.
const main = read(mainPath);
let memory = null;
for (let i = 0; i < main.getNumExports(); ++i) {
  const info = binaryen.getExportInfo(main.getExportByIndex(i));
  if (info.kind === binaryen.ExternalMemory) memory = info.value;
}
// An imported memory (the threaded build): binaryen names it mimport$0.
memory ??= 'mimport$0';
try {
  main.getMemoryInfo(memory);
} catch {
  fail(`${mainPath}: no memory named ${memory}`);
}
main.addMemoryExport(memory, 'mnv2_memory');
const dir = mkdtempSync(path.join(os.tmpdir(), 'mnv2-merge-'));
try {
  const exported = path.join(dir, 'main.wasm');
  const merged = path.join(dir, 'merged.wasm');
  writeFileSync(exported, main.emitBinary());
  main.dispose();
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('binaryen/package.json')), 'bin');
  execFileSync(process.execPath, [path.join(bin, 'wasm-merge'), exported, 'main', kernelsPath, 'mnv2_relaxed',
    ...FEATURE_FLAGS, ...(NAMES ? ['-g'] : []), '-o', merged], { stdio: 'inherit' });

  // Only the main module's own exports are left.
  const result = read(merged);
  for (const name of ['mnv2_memory', ...KERNEL_EXPORTS]) result.removeExport(name);
  if (!result.validate()) fail('the merged module does not validate');
  const bytes = result.emitBinary();
  result.dispose();
  const before = imports(readFileSync(mainPath));
  const kernelImports = before.filter((i) => i.startsWith('mnv2_relaxed.'));
  if (kernelImports.length !== KERNEL_EXPORTS.length) {
    fail(`${mainPath} imports ${JSON.stringify(kernelImports)} from mnv2_relaxed, not ${KERNEL_EXPORTS} (minified import names?)`);
  }
  if (JSON.stringify(imports(bytes)) !== JSON.stringify(before.filter((i) => !i.startsWith('mnv2_relaxed.')))) {
    fail('the merged module does not import what the main module imports, less the kernels');
  }
  writeFileSync(mainPath, bytes);
  console.log(`merge-relaxed: ${path.basename(kernelsPath)} merged into ${path.basename(mainPath)} (${bytes.length} bytes)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
