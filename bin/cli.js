#!/usr/bin/env node
// mobilenetv2-wasm classify [--model M] [--labels L] [--top K] [--json] [--crop] [--raw WxH] [--precision P] [--threads N] IMAGE...
// mobilenetv2-wasm segment --model M [--labels L] [--out DIR] [--json] [--crop] [--opacity A] IMAGE...
// mobilenetv2-wasm info [--model M] [--json] [--precision P]
// mobilenetv2-wasm train --out OUT.tflite [--out-json OUT.json] [--model M] [--epochs N] ... LABEL=FOLDER...
// The same flags and output as the native `mnv2` tool, running the WebAssembly build.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { MAX_THREADS } from '../web/core.js';
import { load, Mnv2Error } from '../web/node.js';
import { encodePng } from './png.js';

const USAGE = `usage: mobilenetv2-wasm classify [--model M.tflite] [--labels L.txt] [--top K] [--json] [--crop] [--raw WxH]
                                 [--precision int8|fp32] [--threads N] [--no-simd] IMAGE...
       mobilenetv2-wasm segment --model M.tflite [--labels L.txt] [--out DIR] [--json] [--crop] [--opacity A]
                                [--precision int8|fp32] [--threads N] [--no-simd] IMAGE...
       mobilenetv2-wasm info [--model M.tflite] [--json] [--precision int8|fp32]
       mobilenetv2-wasm train --out OUT.tflite [--out-json OUT.json] [--model M.tflite] [--epochs N]
                              [--learning-rate R] [--l2 D] [--batch-size B] [--seed S] [--crop] LABEL=FOLDER...

classify  prints the top K (default 5) classes of each image (JPEG, PNG, BMP, GIF) and the inference time.
segment   (a segmentation model, e.g. DeepLabv3) writes for each image, into --out DIR (default .),
          NAME.mask.png (8-bit gray, each pixel its class index, the photo's size) and NAME.overlay.png
          (the photo with the classes colored, PASCAL VOC colors, --opacity A, default 0.6), and prints
          the classes present with their share of the image (--json: one JSON object per image).
info      prints what the model is: family, width multiplier, input size, classes, multiply-adds, parameters.
train     learns new classes from folders of images (one per label: cat=photos/cats) on the model's
          embeddings, trains a softmax head and writes the model with that head as a .tflite (labels
          inside: classify --model OUT.tflite reads them).
  --model M    a MobileNetV1 or MobileNetV2 .tflite model (default: the bundled ImageNet model)
  --labels L   label file, one class name per line
  --json       one JSON object per image and line: {"image", "top": [{index, label, score}], "ms"} (info: model.info)
  --crop       center-crop to the model's aspect ratio instead of resizing the whole image
  --raw WxH    the images are raw interleaved RGB bytes of W x H pixels
  --precision P  int8: integer arithmetic (the default for quantized models), fp32: float32
  --threads N  threads sharing each inference (default: the cores, at most 4; 1 without SIMD)
  --no-simd    run the build without WebAssembly SIMD
  --out F      train: the .tflite to write;  --out-json F: also the classifier as JSON (examples and head)
  --epochs N, --learning-rate R, --l2 D, --batch-size B, --seed S   train: as classifier.train() (50, 0.1, 1e-4, 16, 1)
`;

const COMMANDS = ['classify', 'segment', 'info', 'train'];
const TRAIN_FLAGS = { '--epochs': 'epochs', '--learning-rate': 'learningRate', '--l2': 'l2', '--batch-size': 'batchSize', '--seed': 'seed' };
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif']);

function parse(argv) {
  const a = { top: 5, json: false, crop: false, simd: 'auto', images: [], train: {}, opacity: 0.6 };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
    return argv[i + 1];
  };
  if (!COMMANDS.includes(argv[0])) throw new Error(argv[0] ? `unknown command '${argv[0]}'` : 'no command');
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
    else if (arg === '--out') a.out = value(i++, arg);
    else if (arg === '--opacity') {
      a.opacity = Number(value(i++, arg));
      if (!(a.opacity >= 0 && a.opacity <= 1)) throw new Error('--opacity needs a number from 0 to 1');
    }
    else if (arg === '--out-json') a.outJson = value(i++, arg);
    else if (arg in TRAIN_FLAGS) {
      const v = Number(value(i++, arg));
      if (!Number.isFinite(v)) throw new Error(`${arg} needs a number`);
      a.train[TRAIN_FLAGS[arg]] = v;
    }
    else if (arg === '--threads') {
      a.threads = Number(value(i++, arg));
      if (!Number.isInteger(a.threads) || a.threads < 1 || a.threads > MAX_THREADS) throw new Error(`--threads needs a number from 1 to ${MAX_THREADS}`);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else a.images.push(arg);
  }
  if (a.command === 'info' && a.images.length) throw new Error('info takes no image');
  if ((a.command === 'classify' || a.command === 'segment') && !a.images.length) throw new Error('no image given');
  if (a.command === 'train') {
    if (!a.out) throw new Error('train needs --out FILE.tflite');
    a.folders = a.images.map((arg) => {
      const eq = arg.indexOf('=');
      if (eq < 1 || eq === arg.length - 1) throw new Error(`train takes LABEL=FOLDER arguments, not '${arg}'`);
      return { label: arg.slice(0, eq), folder: arg.slice(eq + 1) };
    });
    if (a.folders.length < 2) throw new Error('train needs folders of at least two labels');
  }
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

function printInfo(model, json) {
  const { info } = model;
  if (json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return;
  }
  const rows = [
    ['task', info.task],
    ['family', info.family],
    ['alpha', info.alpha],
    ['input', `${info.inputSize.width}x${info.inputSize.height}`],
    ['classes', info.numClasses],
    ['features', info.featureSize],
    ['weights', info.weightType],
    ['multiply-adds', `${(info.multiplyAdds / 1e6).toFixed(1)} M`],
    ['parameters', `${(info.parameters / 1e6).toFixed(2)} M`],
    ['activations', `${(model.memoryUsage().activationBytes / 1e6).toFixed(2)} MB (layer by layer: ${(model.memoryUsage().layerByLayerBytes / 1e6).toFixed(2)} MB)`],
    ['precision', info.precision],
    ['build', `${info.simd ? 'WebAssembly SIMD' : 'WebAssembly'} (target ${info.target}), ${info.threads} thread${info.threads > 1 ? 's' : ''}`],
  ];
  for (const [name, value] of rows) process.stdout.write(`${name.padEnd(14)}${value}\n`);
}

// The image files of a folder, by name.
async function imagesIn(folder) {
  let names;
  try {
    names = await readdir(folder);
  } catch (e) {
    throw new Mnv2Error('E_IO', `cannot read the folder ${folder}: ${e.code === 'ENOENT' ? 'no such folder' : e.message}`);
  }
  const images = names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  if (!images.length) throw new Mnv2Error('E_INVALID_ARGUMENT', `no images (${[...IMAGE_EXTENSIONS].join(' ')}) in ${folder}`);
  return images.map((n) => join(folder, n));
}

async function train(model, args) {
  const classifier = model.createClassifier();
  for (const { label, folder } of args.folders) {
    const start = performance.now();
    let count = 0;
    for (const image of await imagesIn(folder)) {
      try {
        count = await classifier.addExample(image, label, { crop: args.crop });
      } catch (e) {
        throw new Mnv2Error(e.code, `${image}: ${e.message}`);
      }
    }
    process.stdout.write(`${label.padEnd(16)}${String(count).padStart(5)} examples  (${(performance.now() - start).toFixed(0)} ms)\n`);
  }
  const result = await classifier.train({
    ...args.train,
    onProgress: ({ epoch, epochs, loss }) => {
      if (epoch === 1 || epoch === epochs || epoch % 10 === 0) process.stdout.write(`epoch ${String(epoch).padStart(4)}/${epochs}  loss ${loss.toFixed(4)}\n`);
    },
  });
  process.stdout.write(`trained ${result.epochs} epochs in ${result.ms.toFixed(0)} ms, loss ${result.loss.toFixed(4)}\n`);
  const bytes = await classifier.exportTflite();
  await writeFile(args.out, bytes);
  process.stdout.write(`wrote ${args.out} (${bytes.length} bytes)\n`);
  if (args.outJson) {
    await writeFile(args.outJson, JSON.stringify(classifier.toJSON()));
    process.stdout.write(`wrote ${args.outJson}\n`);
  }
}

// The file name of an image without folders and extension: NAME of photos/NAME.jpg.
const stem = (path) => basename(path, extname(path));

async function segment(model, input, image, args) {
  const start = performance.now();
  const r = await model.segment(input, { crop: args.crop, overlay: args.opacity });
  const ms = performance.now() - start;
  const folder = args.out ?? '.';
  await mkdir(folder, { recursive: true });
  const base = join(folder, stem(image));
  await writeFile(`${base}.mask.png`, encodePng(r.mask, r.width, r.height, 1));
  await writeFile(`${base}.overlay.png`, encodePng(r.overlay, r.width, r.height, 3));
  const classes = [...r.classes].sort((a, b) => a.index - b.index);
  if (args.json) {
    const line = { image, width: r.width, height: r.height,
      classes: classes.map((c) => ({ index: c.index, label: c.label, pixels: c.pixels, share: fmt(c.share) })),
      mask: `${base}.mask.png`, overlay: `${base}.overlay.png`, ms: Number(ms.toFixed(2)) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } else {
    process.stdout.write(`${image}  ${r.width}x${r.height}  (${ms.toFixed(2)} ms)  -> ${base}.mask.png, ${base}.overlay.png\n`);
    for (const c of classes) {
      process.stdout.write(`  ${(100 * c.share).toFixed(1).padStart(5)}%  ${String(c.index).padStart(3)}  ${c.label ?? ''}\n`);
    }
  }
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
    printInfo(model, args.json);
    model.dispose();
    return 0;
  }
  if (args.command === 'train') {
    try {
      await train(model, args);
      return 0;
    } catch (e) {
      process.stderr.write(`mobilenetv2-wasm: train: ${e.code ?? 'ERROR'}: ${e.message}\n`);
      return 1;
    } finally {
      model.dispose();
    }
  }
  let failures = 0;
  for (const image of args.images) {
    try {
      let input = image;
      if (args.raw) {
        input = { data: await readRaw(image, args.raw), ...args.raw };
      }
      if (args.command === 'segment') {
        await segment(model, input, image, args);
        continue;
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
