// The segmentation benchmark (npm run bench:segment): this package's model.segment() (int8, 1 and
// 2 threads) against TFLite's own web runtime (@tensorflow/tfjs-tflite, runner.infer()) on the two
// DeepLabv3 files of ../shared/models, the same 513x513 photo, in Node or (--browser) in headless
// Chromium; see bench/README.md ("Segmentation").
//   node bench/segment.mjs [--browser] [--warmup N] [--runs N] [--models 1.0,0.5]
// Prints the report (Markdown tables), then one line of JSON with every figure.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eachArg } from './lib/args.mjs';
import { REPO, importOurs, wasmSizes, withTflite } from './lib/node-io.mjs';
import {
  LABELS, MODELS, PHOTO, REFERENCE_MASK, compareMasks, decodeBmp, runSegmentBench, segmentOptions, segmentReport,
} from './lib/segment.mjs';

const SHARED = process.env.MNV2_SHARED_DIR ?? path.join(REPO, '..', 'shared');
const log = (s) => process.stderr.write(`bench: ${s}\n`);

const argv = {};
let browser = false;
eachArg(process.argv.slice(2), (arg, value) => {
  if (arg === '--browser') browser = true;
  else if (['--warmup', '--runs', '--models'].includes(arg)) argv[arg.slice(2)] = value();
  else return false;
  return true;
});
const options = segmentOptions((k) => argv[k]);
const models = MODELS.filter((m) => options.models.includes(m.file));

const photo = decodeBmp(new Uint8Array(await readFile(path.join(SHARED, 'images', PHOTO))));
const reference = decodeBmp(new Uint8Array(await readFile(path.join(SHARED, 'images', REFERENCE_MASK))));
if (photo.channels !== 3 || reference.channels !== 1) throw new Error(`${PHOTO} must be 24-bit, ${REFERENCE_MASK} 8-bit`);
const labels = (await readFile(path.join(SHARED, 'models', LABELS), 'utf8')).split('\n').slice(0, 21);
const loadavgAtStart = os.loadavg();

let result;
let runtime;
let cores = os.cpus().length;
if (!browser) {
  const { load } = await importOurs();
  const withBytes = [];
  for (const m of models) withBytes.push({ ...m, bytes: new Uint8Array(await readFile(path.join(SHARED, 'models', m.file))) });
  let build = null; // the glue tfjs-tflite loaded (known at its first load only)
  const loadTflite = (bytes, threads) => withTflite(async ({ tflite, version, build: loaded }) => {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const model = await tflite.loadTFLiteModel(buffer, { numThreads: threads });
    build ??= loaded();
    return { model, version, build };
  });
  // tfjs-tflite runs one thread in Node (see withTflite).
  result = await runSegmentBench({
    load, loadTflite, models: withBytes, pixels: { data: photo.data, width: photo.width, height: photo.height },
    oursThreads: [1, 2], tfliteThreads: [1], options, log,
  });
  runtime = `node ${process.version}`;
} else {
  const { runPage } = await import('./lib/chromium.mjs');
  const query = new URLSearchParams({ warmup: options.warmup, runs: options.runs, models: options.models.join(',') });
  ({ result, runtime, cores } = await runPage({
    server: { samplesDir: path.join(SHARED, 'images'), modelsDir: path.join(SHARED, 'models') },
    page: `/bench/browser/segment.html?${query}`, key: 'segmentResult',
  }));
  // The page hands ours' masks back as base64 (compared with the reference mask below).
  for (const m of result.models) m.mask = new Uint8Array(Buffer.from(m.mask, 'base64'));
}

for (const m of result.models) {
  m.reference = compareMasks(m.mask, reference.data);
  delete m.mask;
}
const full = {
  bench: 'mobilenetv2-wasm segmentation: model.segment() against @tensorflow/tfjs-tflite runner.infer() on DeepLabv3',
  env: { runtime, cpu: os.cpus()[0]?.model ?? '?', cores, platform: `${os.platform()} ${os.arch()}`, loadavgAtStart, loadavgAtEnd: os.loadavg() },
  input: { photo: PHOTO, width: photo.width, height: photo.height, referenceMask: REFERENCE_MASK },
  ...result,
  wasm: await wasmSizes(['ours8', 'ours8x2', 'tflite1'], { browser }),
};
for (const line of segmentReport(full, { labels })) console.log(line);
console.log(JSON.stringify(full));
process.exit(0);
