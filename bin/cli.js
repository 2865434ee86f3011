#!/usr/bin/env node
// mobilenetv2-wasm classify [--model M] [--labels L] [--top K] [--json] [--crop] [--raw WxH] [--precision P] [--threads N] IMAGE...
// mobilenetv2-wasm info [--model M] [--json] [--precision P]
// The same flags and output as the native `mnv2` tool, running the WebAssembly build.
import { readFile } from 'node:fs/promises';
import { MAX_THREADS } from '../web/core.js';
import { load, Mnv2Error } from '../web/node.js';

const USAGE = `usage: mobilenetv2-wasm classify [--model M.tflite] [--labels L.txt] [--top K] [--json] [--crop] [--raw WxH]
                                 [--precision int8|fp32] [--threads N] [--no-simd] IMAGE...
       mobilenetv2-wasm info [--model M.tflite] [--json] [--precision int8|fp32]

classify  prints the top K (default 5) classes of each image (JPEG, PNG, BMP, GIF) and the inference time.
info      prints what the model is: family, width multiplier, input size, classes, multiply-adds, parameters.
  --model M    a MobileNetV1 or MobileNetV2 .tflite model (default: the bundled ImageNet model)
  --labels L   label file, one class name per line
  --json       one JSON object per image and line: {"image", "top": [{index, label, score}], "ms"} (info: model.info)
  --crop       center-crop to the model's aspect ratio instead of resizing the whole image
  --raw WxH    the images are raw interleaved RGB bytes of W x H pixels
  --precision P  int8: integer arithmetic (the default for quantized models), fp32: float32
  --threads N  threads sharing each inference (default: the cores, at most 4; 1 without SIMD)
  --no-simd    run the build without WebAssembly SIMD
`;

function parse(argv) {
  const a = { top: 5, json: false, crop: false, simd: 'auto', images: [] };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
    return argv[i + 1];
  };
  if (argv[0] !== 'classify' && argv[0] !== 'info') throw new Error(argv[0] ? `unknown command '${argv[0]}'` : 'no command');
  a.command = argv[0];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--model') a.model = value(i++, arg);
    else if (arg === '--labels') a.labels = value(i++, arg);
    else if (arg === '--top') {
      a.top = Number(value(i++, arg));
      if (!Number.isInteger(a.top) || a.top < 1) throw new Error('--top needs a positive number');
    } else if (arg === '--raw') {
      const m = /^(\d+)x(\d+)$/.exec(value(i++, arg));
      if (!m || +m[1] < 1 || +m[2] < 1) throw new Error('--raw needs WxH, e.g. 224x224');
      a.raw = { width: +m[1], height: +m[2] };
    } else if (arg === '--precision') {
      a.precision = value(i++, arg);
      if (a.precision !== 'int8' && a.precision !== 'fp32') throw new Error('--precision needs int8 or fp32');
    } else if (arg === '--json') a.json = true;
    else if (arg === '--crop') a.crop = true;
    else if (arg === '--no-simd') a.simd = false;
    else if (arg === '--threads') {
      a.threads = Number(value(i++, arg));
      if (!Number.isInteger(a.threads) || a.threads < 1 || a.threads > MAX_THREADS) throw new Error(`--threads needs a number from 1 to ${MAX_THREADS}`);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else a.images.push(arg);
  }
  if (a.command === 'info' && a.images.length) throw new Error('info takes no image');
  if (a.command === 'classify' && !a.images.length) throw new Error('no image given');
  return a;
}

const fmt = (x) => Number(x.toFixed(4));

// --raw files hold RGB only (as for the native tool): a size that happens to fit RGBA is an error too.
async function readRaw(path, { width, height }) {
  let data;
  try {
    data = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Mnv2Error('E_IO', `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  if (data.length !== width * height * 3) {
    throw new Mnv2Error('E_INVALID_ARGUMENT', `raw image holds ${data.length} bytes, not ${width}x${height}x3`);
  }
  return data;
}

function printInfo(info, json) {
  if (json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return;
  }
  const rows = [
    ['family', info.family],
    ['alpha', info.alpha],
    ['input', `${info.inputSize.width}x${info.inputSize.height}`],
    ['classes', info.numClasses],
    ['features', info.featureSize],
    ['weights', info.weightType],
    ['multiply-adds', `${(info.multiplyAdds / 1e6).toFixed(1)} M`],
    ['parameters', `${(info.parameters / 1e6).toFixed(2)} M`],
    ['precision', info.precision],
    ['build', `${info.simd ? 'WebAssembly SIMD' : 'WebAssembly'} (target ${info.target}), ${info.threads} thread${info.threads > 1 ? 's' : ''}`],
  ];
  for (const [name, value] of rows) process.stdout.write(`${name.padEnd(14)}${value}\n`);
}

async function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`mobilenetv2-wasm: ${e.message}\n${USAGE}`);
    return 2;
  }
  let model;
  try {
    model = await load({ model: args.model, labels: args.labels, simd: args.simd, precision: args.precision, threads: args.threads });
  } catch (e) {
    process.stderr.write(`mobilenetv2-wasm: ${args.model ?? 'default model'}: ${e.code ?? 'ERROR'}: ${e.message}\n`);
    return 1;
  }
  if (args.command === 'info') {
    printInfo(model.info, args.json);
    model.dispose();
    return 0;
  }
  let failures = 0;
  for (const image of args.images) {
    try {
      let input = image;
      if (args.raw) {
        input = { data: await readRaw(image, args.raw), ...args.raw };
      }
      const start = performance.now();
      const top = await model.classify(input, { topk: args.top, crop: args.crop });
      const ms = performance.now() - start;
      if (args.json) {
        const line = { image, top: top.map((p) => ({ index: p.index, label: p.label, score: fmt(p.score) })), ms: Number(ms.toFixed(2)) };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      } else {
        process.stdout.write(`${image}  (${ms.toFixed(2)} ms)\n`);
        for (const p of top) process.stdout.write(`  ${p.score.toFixed(4)}  ${String(p.index).padStart(4)}  ${p.label ?? ''}\n`);
      }
    } catch (e) {
      process.stderr.write(`mobilenetv2-wasm: ${image}: ${e.code ?? 'ERROR'}: ${e.message}\n`);
      failures++;
    }
  }
  model.dispose();
  return failures ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
