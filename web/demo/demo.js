// The demo page: uses the package exactly as an application would, through its public
// browser entry point. URL parameters: ?simd=0 forces the build without WebAssembly SIMD,
// ?worker=1 runs the model in a Web Worker (worker.js) instead of on the page's thread,
// ?model=FILE loads FILE from the demo server's /sample-models/ (../shared/models) instead of the
// bundled model. #teach opens Teach mode (teach.js: classes of your own, learned in the page).
// A segmentation model (info.task 'segmentation': DeepLabv3) turns Classify mode into Segment mode:
// the same inputs, the classes of the pixels drawn over the photo, a legend, no top 5 and no Teach.
import { load, maskToImageData, simdSupported } from '../browser.js';
import { dropped, dropTarget, enterTeach, leaveTeach, pasted, setupTeach, withDecoded } from './teach.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const off = (v) => v === '0' || v === 'false' || v === 'off';
const on = (v) => v === '1' || v === 'true' || v === 'on' || v === '';
const forceNoSimd = params.has('simd') && off(params.get('simd'));
const inWorker = params.has('worker') && on(params.get('worker'));
const TOPK = 5;
const SAMPLES = new URL('/samples/', location.href);
const SAMPLE_MODELS = new URL('/sample-models/', location.href);
const modelFile = /^[\w.-]+\.tflite$/.test(params.get('model') ?? '') ? params.get('model') : null;

// The label file of a model of /sample-models/, by the names of ../shared/models.
function labelsFor(file, labels) {
  const wanted = /inat_bird/.test(file) ? 'inat_bird_labels.txt' : /deeplab|pascal/.test(file)
    ? 'pascal_voc_segmentation_labels.txt' : 'imagenet_labels.txt';
  return labels.includes(wanted) ? new URL(wanted, SAMPLE_MODELS).href : undefined;
}

// The models the demo server offers ({ models, labels }; none on other servers).
const sampleModels = fetch(new URL('index.json', SAMPLE_MODELS))
  .then((r) => (r.ok ? r.json() : { models: [], labels: [] }))
  .catch(() => ({ models: [], labels: [] }));

// ---------------------------------------------------------------------------------------------
// The model, with the same interface on the page's thread and in a Web Worker: classify(image)
// -> { top, ms } on a classifier, segment(image) -> { result, ms } on a segmentation model.

function pageEngine() {
  let base = null; // the model loaded at the start, which Teach mode learns on
  let model = null; // the model classifying: base, or a .tflite opened since
  return {
    where: 'main thread',
    async load(options) {
      const next = await load(options);
      if (model && model !== base) model.dispose();
      model = next;
      base ??= next;
      return model.info;
    },
    baseModel: () => base,
    // A threaded model starts on one thread; the others join as their workers load.
    threads: () => model?.info.threads,
    async classify(image) {
      const t0 = performance.now();
      const top = await model.classify(image, { topk: TOPK });
      return { top, ms: performance.now() - t0 };
    },
    async segment(image) {
      const t0 = performance.now();
      const result = await model.segment(image);
      return { result, ms: performance.now() - t0 };
    },
  };
}

function workerEngine() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let nextId = 1;
  let onProgress = null;
  worker.onmessage = ({ data }) => {
    if (data.type === 'progress') return onProgress?.(data);
    const call = pending.get(data.id);
    pending.delete(data.id);
    if (data.ok) call?.resolve(data);
    else call?.reject(Object.assign(new Error(data.error.message), { code: data.error.code }));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const error = Object.assign(new Error(event.message || 'the Web Worker could not start'), { code: 'E_WORKER' });
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  const call = (message, transfer = []) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...message, id }, transfer);
  });
  // Page elements cannot be sent to a worker; their pixels can, as an ImageBitmap (transferred).
  const send = async (type, image, extra = {}) => {
    if (image instanceof HTMLVideoElement || image instanceof HTMLImageElement || image instanceof HTMLCanvasElement) {
      image = await createImageBitmap(image);
    }
    const transfer = image instanceof ImageBitmap ? [image] : [];
    return call({ type, image, ...extra }, transfer);
  };
  return {
    where: 'Web Worker',
    async load(options) {
      onProgress = options.onProgress;
      // A model's bytes (a .tflite opened) are transferred, not copied.
      const transfer = options.model instanceof ArrayBuffer ? [options.model] : [];
      return (await call({ type: 'load', simd: options.simd, model: options.model, labels: options.labels }, transfer)).info;
    },
    async classify(image) {
      const { top, ms } = await send('classify', image, { topk: TOPK });
      return { top, ms };
    },
    async segment(image) {
      const { result, ms } = await send('segment', image);
      return { result, ms };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Words for people.

// The package's errors carry a string code; the browser's (DOMException) a name.
const codeOf = (error) => (typeof error?.code === 'string' ? error.code : error?.name ?? 'Error');

function explain(error, what) {
  const code = codeOf(error);
  switch (code) {
    case 'E_MODEL_FORMAT':
      if (what) return [`“${what}” is not a file this page can read.`, 'Choose a .json or .tflite file saved in Teach mode.'];
      return ['The model file is damaged.', 'Reload the page; if this persists, the server has a bad copy.'];
    case 'E_INVALID_ARGUMENT':
      if (what) return [`“${what}” does not fit this model.`, 'It was saved on another model: pick that model, then load it again.'];
      return ['The classifier could not do that.', 'The details are below.'];
    case 'E_IMAGE_DECODE':
      return [`${what ? `“${what}” is` : 'This is'} not an image that can be read.`,
        'Try a photo in JPEG, PNG, BMP, GIF or WebP format.'];
    case 'E_IMAGE_TOO_LARGE':
      return [`${what ? `“${what}” is` : 'This image is'} too large to classify.`, 'Try a smaller photo.'];
    case 'E_FETCH':
      return ['The model could not be downloaded.', 'Check your network connection, then reload the page.'];
    case 'E_UNSUPPORTED_MODEL':
    case 'E_UNSUPPORTED_OP':
      return [`${what ? `“${what}” is` : 'This model is'} not a model this page runs (MobileNetV1 and MobileNetV2 classifiers, DeepLabv3 segmentation on MobileNetV2).`,
        'Pick another model.'];
    case 'E_WRONG_TASK':
      return ['Teach mode needs a classifier, and this model segments photos.', 'Pick a classification model (MobileNet) in the Model menu to teach it your classes.'];
    case 'E_UNSUPPORTED':
      return ['This browser cannot run the classifier.', 'Try an up-to-date Chrome, Edge, Firefox or Safari.'];
    case 'E_OUT_OF_MEMORY':
      return ['The classifier ran out of memory.', 'Try a smaller image, or reload the page.'];
    case 'E_WORKER':
      return ['The Web Worker could not run the classifier.', 'Reload the page without ?worker=1 to run it on the page instead.'];
    case 'E_SAMPLE':
      return ['The sample photo could not be downloaded.', 'Check that the demo server is still running.'];
    case 'NotAllowedError':
    case 'SecurityError':
      return ['The webcam is blocked.', 'Allow camera access for this page in your browser’s settings, then try again.'];
    case 'NotFoundError':
    case 'OverconstrainedError':
      return ['No webcam was found.', 'Connect a camera, or choose a photo instead.'];
    case 'NotReadableError':
    case 'AbortError':
      return ['The webcam could not be started.', 'It may be in use by another application.'];
    case 'E_NO_CAMERA_API':
      return ['This browser cannot use a webcam here.', 'The webcam needs a secure page (https:// or localhost).'];
    default:
      return ['Something went wrong.', 'Reload the page to try again.'];
  }
}

function showError(error, what) {
  const [title, advice] = explain(error, what);
  $('error-title').textContent = title;
  const detail = $('error-detail');
  detail.replaceChildren(advice);
  if (error?.message) {
    const technical = document.createElement('small');
    technical.textContent = `${codeOf(error)}: ${error.message}`;
    detail.append(technical);
  }
  $('error').dataset.code = codeOf(error);
  $('error').hidden = false;
  $('error').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function hideError() {
  $('error').hidden = true;
}

function setStatus(state, text, progress) {
  $('status').dataset.state = state;
  $('status-text').textContent = text;
  const bar = $('progress');
  bar.hidden = progress === undefined;
  if (progress === null) bar.removeAttribute('value');
  else if (progress !== undefined) bar.value = progress;
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------
// Loading.

if (typeof WebAssembly === 'undefined') {
  setStatus('error', 'This browser cannot run WebAssembly.');
}
const canSimd = typeof WebAssembly !== 'undefined' && simdSupported();
const engine = inWorker ? workerEngine() : pageEngine();

$('simd').checked = canSimd && !forceNoSimd;
$('simd').disabled = !canSimd;
if (!canSimd) $('simd').parentElement.title = 'This browser does not support WebAssembly SIMD';
$('worker').checked = inWorker;
sampleModels.then(({ models }) => {
  for (const file of models) $('model').append(new Option(file, file, false, file === modelFile));
});

// Switching the model, the variant or the thread reloads the page with the new URL parameters,
// once the gallery's thumbnails (loaded eagerly) have loaded and decoded, or after 2 s. Firefox
// once logged "Image corrupt or truncated" 7 times, as many as the gallery's BMP files, on the
// page reloaded right after it opened (inferred cause: the reload cut their loading or decoding;
// not reproduced in 33 tries).
$('settings').addEventListener('change', async () => {
  const thumbnails = [...$('gallery').querySelectorAll('img')].map((img) => img.decode().catch(() => {}));
  await Promise.race([Promise.all(thumbnails), new Promise((resolve) => setTimeout(resolve, 2000))]);
  const next = new URLSearchParams(location.search);
  if ($('simd').checked) next.delete('simd');
  else next.set('simd', '0');
  if ($('worker').checked) next.set('worker', '1');
  else next.delete('worker');
  if ($('model').value) next.set('model', $('model').value);
  else next.delete('model');
  location.search = next.toString();
});

let openedFile = null; // the name of a .tflite opened from Teach mode, once there is one
let task = 'classification'; // the model's info.task: 'classification' or 'segmentation'
const segmenting = () => task === 'segmentation';

function showVariant(info) {
  const family = info.family === 'mobilenet_v1' ? 'MobileNetV1' : 'MobileNetV2';
  const chips = [
    ...(openedFile ? [[`${openedFile} · ${info.numClasses} classes`, 'good']] : []),
    [info.target === 'WASM_RELAXED' ? 'WebAssembly relaxed SIMD' : info.simd ? 'WebAssembly SIMD' : 'no SIMD', info.simd ? 'good' : 'warn'],
    [`target ${info.target}`],
    [`${info.threads} thread${info.threads === 1 ? '' : 's'}`],
    [engine.where],
    ...(info.task === 'segmentation' ? [[`segmentation · ${info.numClasses} classes`, 'good']] : []),
    [`${info.task === 'segmentation' ? `DeepLabv3 · ${family}` : family} α ${info.alpha} · ${info.inputSize.width}×${info.inputSize.height}`, 'muted'],
    [`${(info.multiplyAdds / 1e6).toFixed(0)} M multiply-adds · ${info.weightType}`, 'muted'],
  ];
  $('variant').replaceChildren(...chips.map(([text, kind]) => {
    const li = document.createElement('li');
    li.className = `chip ${kind ?? ''}`;
    li.textContent = text;
    return li;
  }));
  Object.assign($('variant').dataset, {
    state: 'ready', simd: String(info.simd), target: info.target, threads: String(info.threads), where: engine.where,
    family: info.family, alpha: String(info.alpha), size: String(info.inputSize.width), multiplyAdds: String(info.multiplyAdds),
    numClasses: String(info.numClasses), file: openedFile ?? '', task: info.task,
  });
}

// Classify mode (a classifier: top 5, Teach) or Segment mode (a segmentation model: the mask over
// the photo, a legend, an opacity slider; Teach, which learns on a classifier's features, is off).
function showTask(info) {
  task = info.task === 'segmentation' ? 'segmentation' : 'classification';
  const seg = segmenting();
  document.body.dataset.task = task;
  $('classify-result').hidden = seg;
  $('segment-result').hidden = !seg;
  $('task-note').hidden = !seg;
  $('tab-classify').textContent = seg ? 'Segment' : 'Classify';
  $('tab-teach').disabled = seg;
  $('tab-teach').title = seg ? 'Teach mode needs a classifier: pick one in the Model menu' : '';
  if (seg) $('tab-teach').setAttribute('aria-describedby', 'task-note');
  else $('tab-teach').removeAttribute('aria-describedby');
  if (seg && teaching()) selectMode('classify');
  clearResults();
}

// Shows the threads as they join (info.threads is read when asked), for ten seconds at most.
let threadsTimer = null;
function watchThreads(info) {
  if (!engine.threads) return;
  clearInterval(threadsTimer); // a model loaded before is not watched any more
  let shown = info.threads;
  const started = performance.now();
  threadsTimer = setInterval(() => {
    const now = engine.threads();
    if (now !== shown) {
      shown = now;
      showVariant(info);
    }
    if (performance.now() - started > 10000) clearInterval(threadsTimer);
  }, 50);
}

// What load() is given: the build, and the model picked (if not the bundled one).
async function modelOptions() {
  const options = { simd: forceNoSimd ? false : 'auto' };
  if (modelFile) {
    options.model = new URL(modelFile, SAMPLE_MODELS).href;
    options.labels = labelsFor(modelFile, (await sampleModels).labels);
  }
  return options;
}

const ready = (async () => {
  setStatus('loading', 'Loading the model…', null);
  const t0 = performance.now();
  const info = await engine.load({
    ...(await modelOptions()),
    onProgress: ({ loaded, total }) => {
      if (total) setStatus('loading', `Downloading the model… ${mb(loaded)} of ${mb(total)}`, loaded / total);
      else setStatus('loading', `Downloading the model… ${mb(loaded)}`, null);
    },
  });
  showVariant(info);
  showTask(info);
  watchThreads(info);
  setStatus('ready', `Ready: model loaded in ${Math.round(performance.now() - t0)} ms. Choose a photo.`);
  return info;
})();
ready.catch((e) => {
  setStatus('error', 'The model is not loaded.');
  $('variant').dataset.state = 'error';
  $('variant').replaceChildren(Object.assign(document.createElement('li'), { className: 'chip warn', textContent: 'not loaded' }));
  showError(e);
});

// ---------------------------------------------------------------------------------------------
// Results.

const times = [];
let runs = 0;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const ms = (t) => (t < 10 ? `${t.toFixed(1)} ms` : `${Math.round(t)} ms`);

/** One line of a ranking (the top 5 here, and Teach mode's predictions): name, score, bar. */
function rankingItem(text, score, data = {}) {
  const name = text.split(', ')[0];
  const li = document.createElement('li');
  Object.assign(li.dataset, data, { score: String(score) });
  const row = document.createElement('div');
  row.className = 'row';
  const labelEl = document.createElement('span');
  labelEl.className = 'label';
  labelEl.title = text;
  const nameEl = Object.assign(document.createElement('span'), { className: 'name', textContent: name });
  const akaEl = Object.assign(document.createElement('span'), { className: 'aka', textContent: text.slice(name.length) });
  labelEl.append(nameEl, akaEl);
  const pct = Object.assign(document.createElement('span'), { className: 'pct', textContent: `${(score * 100).toFixed(1)}%` });
  row.append(labelEl, pct);
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`;
  bar.append(fill);
  li.append(row, bar);
  return li;
}

// The latency of one run, the median of the last 100, and the count; `list` (the top 5 or the
// legend) carries the count too, for the tests to wait on.
function countRun(t, list) {
  times.push(t);
  if (times.length > 100) times.shift();
  runs += 1;
  $('latency').textContent = ms(t);
  $('median').textContent = `${ms(median(times))}`;
  $('median').title = `median of the last ${times.length} inference${times.length === 1 ? '' : 's'}`;
  $('runs').textContent = String(runs);
  list.dataset.runs = String(runs);
}

function showPredictions({ top, ms: t }) {
  const items = top.map(({ index, label, score }) => rankingItem(label ?? `class ${index}`, score, { index: String(index) }));
  $('predictions').replaceChildren(...items);
  countRun(t, $('predictions'));
}

function clearPredictions(text) {
  $('predictions').replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: text }));
}

// Segmentation: the last result, kept to redraw the overlay at another opacity without running
// the model again.
let segmentation = null;
const opacity = () => Number($('opacity').value);
const pct = (share) => `${(share * 100).toFixed(share < 0.001 ? 2 : 1)}%`;

/** The mask of `segmentation` as a colored layer on the canvas over the photo, at its size. */
function drawOverlay() {
  const canvas = $('overlay');
  if (!segmentation) {
    canvas.hidden = true;
    return;
  }
  const { width, height } = segmentation;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d').putImageData(maskToImageData(segmentation, { opacity: opacity() }), 0, 0);
  canvas.hidden = false;
}

/** The classes found, most pixels first (the background, left uncolored, last): swatch, name, share. */
function showLegend(result) {
  const named = (index) => result.labels?.[index] ?? `class ${index}`;
  const ordered = [...result.classes.filter((c) => c.index !== 0), ...result.classes.filter((c) => c.index === 0)];
  const items = ordered.map(({ index, pixels, share, color }) => {
    const li = document.createElement('li');
    const background = index === 0;
    if (background) li.className = 'background';
    Object.assign(li.dataset, { index: String(index), share: String(share), pixels: String(pixels), color: color.join(',') });
    const swatch = Object.assign(document.createElement('span'), { className: 'swatch' });
    if (!background) swatch.style.background = `rgb(${color.join(' ')})`;
    swatch.setAttribute('aria-hidden', 'true');
    const label = Object.assign(document.createElement('span'), { className: 'label', textContent: named(index) });
    if (background) label.title = 'left uncolored';
    const share_ = Object.assign(document.createElement('span'), { className: 'pct', textContent: pct(share) });
    li.append(swatch, label, share_);
    return li;
  });
  if (!result.classes.some((c) => c.index !== 0)) {
    items.unshift(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'None of the model’s classes found.' }));
  }
  $('legend').replaceChildren(...items);
}

function showSegmentation({ result, ms: t }) {
  segmentation = result;
  drawOverlay();
  showLegend(result);
  countRun(t, $('legend'));
}

function clearLegend(text) {
  segmentation = null;
  drawOverlay();
  $('legend').replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: text }));
}

/** Empties the result of the mode shown (after an error, or a new model). */
function clearResults(text) {
  if (segmenting()) clearLegend(text ?? 'No image segmented yet.');
  else clearPredictions(text ?? 'No image classified yet.');
}

// The overlay's opacity: redrawn from the last mask, the model does not run again.
$('opacity').addEventListener('input', () => {
  $('opacity-value').textContent = `${Math.round(opacity() * 100)}%`;
  drawOverlay();
});

// What the model in use makes of an image: a top 5, or a segmentation; shown by show().
const run = (image) => (segmenting() ? engine.segment(image) : engine.classify(image));
const show = (outcome) => (segmenting() ? showSegmentation(outcome) : showPredictions(outcome));

let imageUrl = null;
function showImage(blob, caption) {
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = blob ? URL.createObjectURL(blob) : null;
  const img = $('image');
  if (imageUrl) img.src = imageUrl;
  else img.removeAttribute('src');
  img.alt = caption ?? '';
  img.hidden = !blob;
  $('video').hidden = true;
  $('overlay').hidden = true; // until the mask of this image is drawn
  $('preview').dataset.empty = String(!blob);
  $('caption').textContent = caption ?? 'Pick a photo, drop one here, start the webcam or try a sample below.';
  $('caption').className = blob ? '' : 'placeholder';
}

// ---------------------------------------------------------------------------------------------
// Inputs. Only the most recent request updates the page.

let current = 0;

function markSample(name) {
  for (const b of $('gallery').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.name === name));
}

async function runBlob(blob, name) {
  const mine = ++current;
  stopCamera();
  hideError();
  try {
    await ready;
  } catch (e) {
    showError(e);
    return;
  }
  if (mine !== current) return;
  const [doing, done] = segmenting() ? ['Segmenting', 'Segmented'] : ['Classifying', 'Classified'];
  setStatus('busy', `${doing} ${name}…`, null);
  let result;
  try {
    result = await withDecoded(blob, run);
  } catch (e) {
    if (mine !== current) return;
    showImage(null);
    clearResults('No result.');
    setStatus('ready', 'Ready. Choose another photo.');
    showError(e, name);
    return;
  }
  if (mine !== current) return;
  showImage(blob, name);
  show(result);
  setStatus('ready', `${done} ${name}.`);
  // On a phone the result may be off screen (below the buttons, above the gallery).
  document.querySelector('.result').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

$('file').addEventListener('change', () => {
  const file = $('file').files[0];
  $('file').value = ''; // the same file can be chosen again
  if (file) {
    markSample(null);
    runBlob(file, file.name);
  }
});

// Drag and drop, and paste: in Classify mode anywhere on the page classifies the photo; in Teach
// mode a class's card takes it as examples, anywhere else tests the classes with it.
const teaching = () => !$('teach-panel').hidden;

function highlightDrop(el) {
  for (const other of document.querySelectorAll('.dragging')) if (other !== el) other.classList.remove('dragging');
  el?.classList.add('dragging');
}

for (const type of ['dragenter', 'dragover']) {
  document.addEventListener(type, (e) => {
    e.preventDefault();
    highlightDrop(teaching() ? dropTarget(e.target) : $('drop'));
  });
}
for (const type of ['dragleave', 'drop']) {
  document.addEventListener(type, (e) => {
    e.preventDefault();
    if (type === 'drop' || e.relatedTarget === null) highlightDrop(null);
  });
}
document.addEventListener('drop', (e) => {
  const files = [...(e.dataTransfer?.files ?? [])];
  if (files.length === 0) return;
  if (teaching()) {
    dropped(e.target, files);
  } else {
    markSample(null);
    runBlob(files[0], files[0].name);
  }
});
document.addEventListener('paste', (e) => {
  const file = [...(e.clipboardData?.files ?? [])][0];
  if (!file) return;
  if (teaching()) {
    pasted(file);
  } else {
    markSample(null);
    runBlob(file, file.name || 'pasted image');
  }
});

// The sample gallery: the photos the demo server offers at /samples/ (absent on other servers).
async function showGallery() {
  let names = [];
  try {
    const response = await fetch(new URL('index.json', SAMPLES));
    if (response.ok) names = (await response.json()).images ?? [];
  } catch {
    // no gallery
  }
  if (names.length === 0) {
    $('gallery-note').textContent = 'No sample photos on this server (npm run demo serves them).';
    $('gallery-note').hidden = false;
    return;
  }
  $('gallery').replaceChildren(...names.map((name) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.name = name;
    button.setAttribute('aria-pressed', 'false');
    const img = Object.assign(document.createElement('img'), { src: new URL(name, SAMPLES).href, alt: '', decoding: 'async' });
    const caption = Object.assign(document.createElement('span'), { textContent: name.replace(/\.[^.]+$/, '').replaceAll('_', ' ') });
    button.append(img, caption);
    button.addEventListener('click', async () => {
      markSample(name);
      let blob;
      try {
        const response = await fetch(new URL(name, SAMPLES));
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
        blob = await response.blob();
      } catch (e) {
        showError(Object.assign(new Error(`could not download ${name}: ${e.message}`), { code: 'E_SAMPLE' }));
        return;
      }
      runBlob(blob, name);
    });
    li.append(button);
    return li;
  }));
}
showGallery();

// The webcam: classifies frame after frame until stopped.
let stream = null;
const cameraButton = $('camera');
if (!navigator.mediaDevices?.getUserMedia) {
  cameraButton.disabled = true;
  $('camera-note').textContent = explain({ code: 'E_NO_CAMERA_API' }).join(' ');
  $('camera-note').hidden = false;
}

function stopCamera() {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
  stream = null;
  $('video').srcObject = null;
  if (segmentation) {
    segmentation = null; // the last frame's mask goes with the frame
    drawOverlay();
  }
  cameraButton.textContent = 'Start webcam';
  cameraButton.classList.remove('live');
}

async function startCamera() {
  const mine = ++current;
  hideError();
  try {
    await ready;
  } catch (e) {
    showError(e);
    return;
  }
  markSample(null);
  setStatus('busy', 'Starting the webcam…', null);
  let s;
  try {
    s = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'environment', width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (e) {
    setStatus('ready', 'Ready. Choose a photo.');
    showError(e);
    return;
  }
  if (mine !== current) {
    for (const track of s.getTracks()) track.stop();
    return;
  }
  stream = s;
  const video = $('video');
  video.srcObject = stream;
  try {
    await video.play();
  } catch {
    // autoplay refusals: the frames still arrive once the video has data
  }
  showImage(null, 'Webcam');
  $('image').hidden = true;
  video.hidden = false;
  $('preview').dataset.empty = 'false';
  $('caption').textContent = 'Live from the webcam';
  $('caption').className = '';
  cameraButton.textContent = 'Stop webcam';
  cameraButton.classList.add('live');
  setStatus('busy', `${segmenting() ? 'Segmenting' : 'Classifying'} the webcam, frame after frame.`);
  // One frame at a time: the next is taken once the last one's result is shown.
  while (stream === s && mine === current) {
    if (video.readyState >= 2 && video.videoWidth > 0) {
      let result;
      try {
        result = await run(video);
      } catch (e) {
        if (mine === current) {
          stopCamera();
          showError(e);
        }
        break;
      }
      if (stream !== s || mine !== current) break;
      show(result);
    }
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  if (mine === current) setStatus('ready', 'Ready. Choose a photo.');
}

cameraButton.addEventListener('click', () => {
  if (stream) {
    current += 1;
    stopCamera();
    setStatus('ready', 'Ready. Choose a photo.');
  } else {
    startCamera();
  }
});

$('error-close').addEventListener('click', hideError);

// ---------------------------------------------------------------------------------------------
// Modes: Classify and Teach, as tabs (arrow keys move between them); #teach in the URL.

const TABS = [['classify', 'tab-classify', 'classify-panel'], ['teach', 'tab-teach', 'teach-panel']];

function selectMode(mode, { focus = false } = {}) {
  if (mode === 'teach' && segmenting()) { // Teach mode learns on a classifier only
    mode = 'classify';
    if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
  }
  if (teaching() === (mode === 'teach') && document.body.dataset.mode) return;
  for (const [name, tab, panel] of TABS) {
    const on = name === mode;
    $(tab).setAttribute('aria-selected', String(on));
    $(tab).tabIndex = on ? 0 : -1;
    $(panel).hidden = !on;
    if (on && focus) $(tab).focus();
  }
  document.body.dataset.mode = mode;
  history.replaceState(null, '', `${location.pathname}${location.search}${mode === 'teach' ? '#teach' : ''}`);
  if (mode === 'teach') {
    current += 1; // the webcam and any classification in flight stop updating the page
    stopCamera();
    enterTeach();
  } else {
    leaveTeach();
  }
}

for (const [name, tab] of TABS) {
  $(tab).addEventListener('click', () => selectMode(name));
  $(tab).addEventListener('keydown', (e) => {
    const i = TABS.findIndex(([n]) => n === name);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    selectMode(TABS[(next + TABS.length) % TABS.length][0], { focus: true });
  });
}
addEventListener('hashchange', () => selectMode(location.hash === '#teach' ? 'teach' : 'classify'));

// The model Teach mode learns on: the one loaded at the start; with ?worker=1, whose model lives
// in the worker, out of the page's reach, the same model loaded again on the page's thread.
let teachModel = null;
function teachingModel() {
  teachModel ??= (async () => {
    await ready;
    if (segmenting()) {
      throw Object.assign(new Error('this model segments images; Teach mode learns on the features of a classifier'), { code: 'E_WRONG_TASK' });
    }
    const own = engine.baseModel?.();
    if (own) return own;
    setStatus('loading', 'Loading the model for Teach mode on the page…', null);
    const model = await load(await modelOptions());
    setStatus('ready', 'Ready to teach.');
    return model;
  })();
  teachModel.catch(() => {
    teachModel = null;
  });
  return teachModel;
}

// A .tflite chosen in Teach mode (one it saved, or any MobileNet): classifies in Classify mode,
// with the labels of its metadata.
async function openModel(file) {
  await ready.catch(() => {});
  setStatus('loading', `Loading ${file.name}…`, null);
  let info;
  try {
    info = await engine.load({ model: await file.arrayBuffer(), simd: forceNoSimd ? false : 'auto' });
  } catch (e) {
    setStatus('ready', `${file.name} was not loaded.`);
    throw e;
  }
  openedFile = file.name;
  current += 1; // a webcam or a run in flight on the model before stops updating the page
  showVariant(info);
  watchThreads(info);
  selectMode('classify');
  showTask(info);
  showImage(null);
  setStatus('ready', `Ready: ${file.name} loaded (${info.numClasses} classes). Choose a photo.`);
}

setupTeach({ teachingModel, showError, hideError, setStatus, rankingItem, formatMs: ms, openModel });
selectMode(location.hash === '#teach' ? 'teach' : 'classify');
