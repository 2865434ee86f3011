// The demo's Teach mode: classes of the user's own, learned from a few photos through the
// package's Classifier (model.createClassifier(), web/index.d.ts). Examples come from each
// class's file input, from photos dropped on it, or from the webcam while its Record button is
// held; a test photo or the webcam is classified as the examples come in (k nearest neighbours,
// then the trained softmax head); Train trains the head; the classifier is saved as .json
// (toJSON: to go on teaching later) or .tflite (a complete model, opened in Classify mode) and
// read back. All the learning is the package's: this file is only the page around it.
//
// demo.js calls setupTeach(page) once with what it shares (see there), then enterTeach() and
// leaveTeach() as the mode changes, and dropTarget() / dropped() / pasted() for the page's
// drag-and-drop and paste while Teach mode is shown.

const RECORD_MS = 150; // a webcam frame every 150 ms while Record is held
const THUMBS = 6; // thumbnails per class: its latest examples
const THUMB_PX = 96; // drawn at twice the 48 CSS pixels they are shown at
const TOPK = 5;

let page = null; // what demo.js shares: see setupTeach
let learner = null; // the Classifier, once created
let learnerPromise = null;
const classes = []; // { name, card, count, thumbs, thumbList, record, stopRecording } in the order created
let nextId = 1;
let training = false;
let stream = null; // the webcam, while on
let testPhoto = null; // { blob, name }: the last photo chosen or dropped to test the classes
let predictionRun = 0; // only the latest prediction updates the page

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const countOf = (name) => learner?.counts[name] ?? 0;

// ---------------------------------------------------------------------------------------------
// The classifier, created on the model demo.js lends when first needed.

function classifier() {
  learnerPromise ??= page.teachingModel().then((model) => {
    learner = model.createClassifier();
    return learner;
  });
  learnerPromise.catch(() => {
    learnerPromise = null; // the model did not load: asked again next time
  });
  return learnerPromise;
}

// Runs an action of the page, its failure shown in the page's error area (never unhandled).
async function guarded(action, what) {
  try {
    return await action();
  } catch (e) {
    page.showError(e, what);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Classes: a card each, with its name, example count, latest thumbnails, Record, Add photos and
// remove.

function findClass(name) {
  return classes.find((c) => c.name === name);
}

function addClass(name) {
  const id = `class-${nextId++}`;
  const card = document.createElement('li');
  card.className = 'class-card';
  card.dataset.label = name;
  card.setAttribute('aria-labelledby', `${id}-name`);

  const head = document.createElement('div');
  head.className = 'class-head';
  const title = Object.assign(document.createElement('h3'), { id: `${id}-name`, textContent: name, title: name });
  const count = Object.assign(document.createElement('span'), { className: 'count' });
  const remove = Object.assign(document.createElement('button'), { type: 'button', className: 'icon remove', textContent: '×' });
  remove.setAttribute('aria-label', `Remove ${name}`);
  head.append(title, count, remove);

  const thumbs = Object.assign(document.createElement('ul'), { className: 'thumbs' });
  thumbs.setAttribute('aria-label', `Latest examples of ${name}`);

  const actions = document.createElement('div');
  actions.className = 'class-actions';
  const record = Object.assign(document.createElement('button'), { type: 'button', className: 'button record', textContent: 'Record' });
  record.setAttribute('aria-label', `Record webcam frames for ${name} (hold)`);
  const files = Object.assign(document.createElement('label'), { className: 'button', textContent: 'Add photos…' });
  const input = Object.assign(document.createElement('input'), { type: 'file', accept: 'image/*', multiple: true, className: 'visually-hidden' });
  input.setAttribute('aria-label', `Add photos to ${name}`);
  files.append(input);
  actions.append(record, files);
  card.append(head, thumbs, actions);

  const cls = { name, card, count, thumbs: [], thumbList: thumbs, record, stopRecording: null };
  remove.addEventListener('click', () => removeClass(cls));
  input.addEventListener('change', () => {
    const chosen = [...input.files];
    input.value = ''; // the same photos can be chosen again
    addPhotos(cls, chosen);
  });
  holdToRecord(cls);
  classes.push(cls);
  $('classes').append(card);
  showClass(cls);
  return cls;
}

function removeClass(cls) {
  cls.stopRecording?.();
  const index = classes.indexOf(cls);
  if (index < 0) return;
  classes.splice(index, 1);
  cls.card.remove();
  if (learner && !learner.disposed) learner.removeLabel(cls.name);
  $('class-name').focus();
  page.setStatus('ready', `Removed ${cls.name}.`);
  changed();
}

// Draws the class's count and its latest thumbnails.
function showClass(cls) {
  const n = countOf(cls.name);
  cls.count.textContent = plural(n, 'example');
  cls.card.dataset.count = String(n);
  const items = cls.thumbs.map((canvas) => {
    const li = document.createElement('li');
    li.append(canvas);
    return li;
  });
  if (items.length === 0) {
    const text = n === 0 ? 'No examples yet.' : 'Examples loaded from a file (no pictures).';
    items.push(Object.assign(document.createElement('li'), { className: 'none', textContent: text }));
  }
  cls.thumbList.replaceChildren(...items);
}

function addThumbnail(cls, canvas) {
  if (!canvas) return;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${cls.name}, example ${countOf(cls.name)}`);
  cls.thumbs.push(canvas);
  if (cls.thumbs.length > THUMBS) cls.thumbs.shift();
}

// A square thumbnail of an image source (canvas, video, ImageBitmap or <img>), center-cropped.
function thumbnailOf(source, width, height) {
  const canvas = Object.assign(document.createElement('canvas'), { width: THUMB_PX, height: THUMB_PX });
  const side = Math.min(width, height);
  canvas.getContext('2d').drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, THUMB_PX, THUMB_PX);
  return canvas;
}

// A thumbnail of an image file, or null if the browser cannot show it.
async function thumbnailOfBlob(blob) {
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return thumbnailOf(img, img.naturalWidth, img.naturalHeight);
  } catch {
    return null;
  } finally {
    URL.revokeObjectURL(url);
  }
}

// ---------------------------------------------------------------------------------------------
// Examples.

// Runs fn(input) on a photo: its bytes, or, when the package cannot decode them (it reads JPEG,
// PNG, BMP and GIF), the browser's decoding of them (WebP, AVIF, ...). A file whose type says it
// is no image is not handed to the browser's decoder (Firefox logs its failure to the console).
export async function withDecoded(source, fn) {
  try {
    return await fn(source);
  } catch (e) {
    if (e.code !== 'E_IMAGE_DECODE' || !(source instanceof Blob)) throw e;
    if (source.type && !source.type.startsWith('image/')) throw e;
    let bitmap;
    try {
      bitmap = await createImageBitmap(source);
    } catch {
      throw e;
    }
    try {
      return await fn(bitmap);
    } finally {
      bitmap.close();
    }
  }
}

// Adds one example (a Blob or a canvas) to the class; true once it is added.
async function addExample(cls, source) {
  const c = await classifier();
  await withDecoded(source, (input) => c.addExample(input, cls.name));
  if (!classes.includes(cls)) {
    c.removeLabel(cls.name); // the class was removed while its example was being added
    return false;
  }
  addThumbnail(cls, source instanceof Blob ? await thumbnailOfBlob(source) : thumbnailOf(source, source.width, source.height));
  showClass(cls);
  changed();
  return true;
}

async function addPhotos(cls, files) {
  if (files.length === 0) return;
  page.hideError();
  if (training) {
    page.setStatus('ready', 'Wait until the training has finished to add photos.');
    return;
  }
  let added = 0;
  for (const file of files) {
    page.setStatus('busy', `Adding ${file.name} to ${cls.name}…`, null);
    const ok = await guarded(() => addExample(cls, file), file.name);
    if (ok) added += 1;
  }
  page.setStatus('ready', `Added ${plural(added, 'photo')} to ${cls.name}${added < files.length ? ` (${files.length - added} could not be read)` : ''}.`);
}

// The webcam's current frame, drawn into a canvas of its size: the example and its thumbnail
// are the very same frame.
function grabFrame() {
  const video = $('teach-video');
  if (!stream || video.readyState < 2 || video.videoWidth === 0) return null;
  const canvas = Object.assign(document.createElement('canvas'), { width: video.videoWidth, height: video.videoHeight });
  canvas.getContext('2d').drawImage(video, 0, 0);
  return canvas;
}

// The class's Record button: while it is held (pointer, or Space / Enter), a webcam frame is
// added every RECORD_MS.
function holdToRecord(cls) {
  const button = cls.record;
  let held = false;
  let recording = false; // until the frame being added when released is in
  const stop = () => {
    held = false;
  };
  const start = async () => {
    if (held || recording || button.disabled) return;
    held = true;
    recording = true;
    cls.stopRecording = stop;
    button.classList.add('live');
    button.textContent = 'Recording…';
    page.hideError();
    const before = countOf(cls.name);
    page.setStatus('busy', `Recording ${cls.name}: hold the button…`);
    await recordWhile(cls, () => held);
    held = false;
    recording = false;
    cls.stopRecording = null;
    button.classList.remove('live');
    button.textContent = 'Record';
    page.setStatus('ready', `Added ${plural(countOf(cls.name) - before, 'webcam frame')} to ${cls.name}.`);
  };
  button.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    try {
      button.setPointerCapture(e.pointerId); // the release is seen even off the button
    } catch {
      // not a live pointer (e.g. a synthetic event)
    }
    start();
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture', 'blur']) button.addEventListener(type, stop);
  const isKey = (e) => e.key === ' ' || e.key === 'Enter';
  button.addEventListener('keydown', (e) => {
    if (!isKey(e)) return;
    e.preventDefault();
    if (!e.repeat) start();
  });
  button.addEventListener('keyup', (e) => {
    if (!isKey(e)) return;
    e.preventDefault();
    stop();
  });
  button.addEventListener('contextmenu', (e) => e.preventDefault()); // a long press on a phone
}

async function recordWhile(cls, held) {
  const s = stream;
  while (held() && stream === s && s && !training && classes.includes(cls)) {
    const t0 = performance.now();
    const frame = grabFrame();
    if (frame && !(await guarded(() => addExample(cls, frame)))) break;
    await sleep(RECORD_MS - (performance.now() - t0));
  }
}

// ---------------------------------------------------------------------------------------------
// Predictions: the webcam, frame after frame, or the test photo after every change.

function canPredict() {
  return !!learner && !learner.disposed && (learner.trained || learner.labels.length >= 2);
}

function showEmpty(text) {
  const list = $('teach-predictions');
  delete list.dataset.method;
  $('teach-method').textContent = '';
  if (list.children.length === 1 && list.firstElementChild.textContent === text) return; // as every frame
  list.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: text }));
}

// Classifies `source` with the classifier and shows the ranking. false if it failed (shown).
async function predict(source, name) {
  const mine = ++predictionRun;
  if (!canPredict()) {
    showEmpty('Add examples to two classes to see predictions.');
    return true;
  }
  const method = learner.trained ? 'softmax' : 'knn';
  let top;
  try {
    top = await withDecoded(source, (input) => learner.classify(input, { topk: TOPK, method }));
  } catch (e) {
    if (mine === predictionRun) {
      showEmpty('No result.');
      page.showError(e, source instanceof Blob && e.code?.startsWith('E_IMAGE') ? name : undefined); // the photo's fault
    }
    return false;
  }
  if (mine !== predictionRun) return true;
  const list = $('teach-predictions');
  list.replaceChildren(...top.map(({ label, score }) => page.rankingItem(label, score, { label })));
  Object.assign(list.dataset, {
    runs: String(Number(list.dataset.runs) + 1), method, source: name, examples: String(learner.numExamples),
  });
  $('teach-method').textContent = method === 'softmax' ? 'trained head' : 'nearest neighbours';
  $('teach-method').dataset.method = method;
  return true;
}

// After a change of the examples or the head: the test photo again (the webcam loop does itself).
let refreshing = null;
let refreshAgain = false;
function refreshPredictions() {
  if (stream || !testPhoto) {
    if (!stream && !canPredict()) showEmpty('Add examples to two classes to see predictions.');
    return;
  }
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      await predict(testPhoto.blob, testPhoto.name);
    } while (refreshAgain && testPhoto && !stream);
  })().finally(() => {
    refreshing = null;
  });
}

// The examples or the head changed: the controls and the predictions follow.
function changed() {
  updateControls();
  refreshPredictions();
}

function showTestImage(blob, name) {
  const img = $('teach-image');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  img.alt = name;
  img.hidden = false;
  $('teach-video').hidden = true;
  $('teach-preview').dataset.empty = 'false';
  $('teach-caption').textContent = name;
  $('teach-caption').className = '';
}

async function testWith(blob, name) {
  stopCamera();
  page.hideError();
  testPhoto = { blob, name };
  showTestImage(blob, name);
  if (await guarded(classifier)) refreshPredictions();
}

// ---------------------------------------------------------------------------------------------
// The webcam.

function stopCamera() {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
  stream = null;
  $('teach-video').srcObject = null;
  $('teach-video').hidden = true;
  $('teach-camera').textContent = 'Start webcam';
  $('teach-camera').classList.remove('live');
  if (testPhoto) {
    showTestImage(testPhoto.blob, testPhoto.name);
  } else {
    $('teach-preview').dataset.empty = 'true';
    $('teach-caption').textContent = 'Start the webcam, or drop a photo here to test your classes.';
    $('teach-caption').className = 'placeholder';
  }
  updateControls();
}

async function startCamera() {
  page.hideError();
  if (!(await guarded(classifier))) return;
  page.setStatus('busy', 'Starting the webcam…', null);
  let s;
  try {
    s = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (e) {
    page.setStatus('ready', 'Ready.');
    page.showError(e);
    return;
  }
  if ($('teach-panel').hidden) {
    for (const track of s.getTracks()) track.stop(); // left Teach mode meanwhile
    return;
  }
  stopCamera();
  stream = s;
  const video = $('teach-video');
  video.srcObject = s;
  try {
    await video.play();
  } catch {
    // autoplay refusals: the frames still arrive once the video has data
  }
  $('teach-image').hidden = true;
  video.hidden = false;
  $('teach-preview').dataset.empty = 'false';
  $('teach-caption').textContent = 'Live from the webcam';
  $('teach-caption').className = '';
  $('teach-camera').textContent = 'Stop webcam';
  $('teach-camera').classList.add('live');
  updateControls();
  page.setStatus('ready', 'Webcam on: hold a class’s Record button to add frames.');
  liveLoop(s);
}

async function liveLoop(s) {
  const video = $('teach-video');
  while (stream === s) {
    if (video.readyState >= 2 && video.videoWidth > 0 && !training && !(await predict(video, 'the webcam'))) {
      stopCamera();
      break;
    }
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// Training, saving and loading.

function updateControls() {
  const labels = learner && !learner.disposed ? learner.labels.length : 0;
  const trained = !!learner && !learner.disposed && learner.trained;
  const enough = labels >= 2; // every label of the classifier has examples
  $('classes-set').disabled = training;
  for (const cls of classes) {
    cls.record.disabled = training || !stream;
    cls.record.title = stream ? 'Hold to add webcam frames' : 'Start the webcam first';
  }
  $('train').disabled = training || !enough;
  $('train').textContent = training ? 'Training…' : 'Train';
  $('epochs').disabled = training;
  if (!training) {
    const empty = classes.filter((cls) => countOf(cls.name) === 0).map((cls) => cls.name);
    const leftOut = empty.length === 0 ? '' : ` (left out, without examples: ${empty.join(', ')})`;
    $('train-hint').textContent = !enough
      ? 'Add examples to at least two classes to train.'
      : trained
        ? `Trained on ${plural(learner.numExamples, 'example')} of ${labels} classes${leftOut}. Adding or removing examples undoes it.`
        : `Ready to train on ${plural(learner.numExamples, 'example')} of ${labels} classes${leftOut}.`;
  }
  $('train-form').dataset.state = training ? 'training' : trained ? 'trained' : 'untrained';
  $('save-tflite').disabled = training || !(enough || trained);
  $('save-json').disabled = training || !learner || learner.disposed || (learner.numExamples === 0 && !trained);
  $('load-json').disabled = training;
  $('load-tflite').disabled = training;
  $('classes').dataset.count = String(classes.length);
}

async function train() {
  const epochs = Number($('epochs').value);
  const c = await classifier();
  page.hideError();
  training = true;
  updateControls();
  const bar = $('train-progress');
  bar.max = epochs;
  bar.value = 0;
  $('train-epoch').textContent = `0 / ${epochs}`;
  $('train-loss').textContent = '–';
  $('train-time').textContent = '–';
  page.setStatus('busy', `Training ${plural(epochs, 'epoch')}…`);
  try {
    const result = await c.train({
      epochs,
      onProgress: ({ epoch, loss }) => {
        bar.value = epoch;
        $('train-epoch').textContent = `${epoch} / ${epochs}`;
        $('train-loss').textContent = loss.toFixed(4);
      },
    });
    $('train-loss').textContent = result.loss.toFixed(4);
    $('train-time').textContent = page.formatMs(result.ms);
    Object.assign($('train-form').dataset, { epochs: String(result.epochs), loss: String(result.loss) });
    page.setStatus('ready', `Trained ${plural(result.epochs, 'epoch')} in ${page.formatMs(result.ms)}: final loss ${result.loss.toFixed(4)}.`);
  } catch (e) {
    page.setStatus('ready', 'The training stopped.');
    page.showError(e);
  } finally {
    training = false;
    changed();
  }
}

// Offers `data` as a file to download.
function download(data, name, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function saveJson() {
  const c = await classifier();
  download(JSON.stringify(c.toJSON()), 'my-classifier.json', 'application/json');
  page.setStatus('ready', `Saved my-classifier.json: ${plural(c.numExamples, 'example')} of ${plural(c.labels.length, 'class')}${c.trained ? ', trained' : ''}.`);
}

async function saveTflite() {
  const c = await classifier();
  page.setStatus('busy', 'Writing the .tflite model…', null);
  let bytes;
  try {
    bytes = await c.exportTflite();
  } catch (e) {
    page.setStatus('ready', 'The model was not saved.');
    throw e;
  }
  download(bytes, 'my-classifier.tflite', 'application/octet-stream');
  page.setStatus('ready', `Saved my-classifier.tflite (${(bytes.length / 1e6).toFixed(1)} MB, ${c.trained ? 'trained' : 'untrained: the classes’ mean examples'}). Load .tflite… opens it in Classify mode.`);
}

// Replaces the classes with those of a .json saved by saveJson.
async function loadJson(file) {
  const c = await classifier();
  await c.fromJSON(await file.text());
  for (const cls of [...classes]) {
    cls.stopRecording?.();
    cls.card.remove();
  }
  classes.length = 0;
  for (const name of c.labels) addClass(name);
  $('train-progress').value = 0;
  for (const id of ['train-epoch', 'train-loss', 'train-time']) $(id).textContent = '–';
  page.setStatus('ready', `Loaded ${file.name}: ${plural(c.numExamples, 'example')} of ${plural(c.labels.length, 'class')}${c.trained ? ', trained' : ''}.`);
  changed();
}

// ---------------------------------------------------------------------------------------------
// Wiring.

function onNewClass(e) {
  e.preventDefault();
  const input = $('class-name');
  const name = input.value.trim();
  input.setCustomValidity(!name ? 'Type a name for the class.' : findClass(name) ? `There is a class named “${name}” already.` : '');
  if (!input.reportValidity()) return;
  addClass(name);
  input.value = '';
  page.setStatus('ready', `Added the class ${name}. Add examples to it.`);
  updateControls();
  guarded(classifier); // the model for teaching loads while the photos are picked
}

/** Which element a drag over `target` would drop on: a class's card, or the test area. */
export function dropTarget(target) {
  return target?.closest?.('.class-card') ?? $('teach-preview');
}

/** Files dropped on `target`: examples of its class, or a photo to test. */
export function dropped(target, files) {
  const card = target?.closest?.('.class-card');
  const cls = card && classes.find((c) => c.card === card);
  if (cls) addPhotos(cls, files);
  else if (files[0]) testWith(files[0], files[0].name);
}

export function pasted(file) {
  testWith(file, file.name || 'pasted image');
}

export function enterTeach() {
  guarded(classifier);
  updateControls();
}

export function leaveTeach() {
  stopCamera();
}

/**
 * page: { teachingModel() -> Promise<Model>, showError(error, what?), hideError(),
 *         setStatus(state, text, progress?), rankingItem(text, score, data) -> <li>, formatMs(ms),
 *         openModel(file) -> Promise: a .tflite opened in Classify mode }
 */
export function setupTeach(shared) {
  page = shared;
  $('new-class').addEventListener('submit', onNewClass);
  $('class-name').addEventListener('input', () => $('class-name').setCustomValidity(''));
  $('test-file').addEventListener('change', () => {
    const file = $('test-file').files[0];
    $('test-file').value = '';
    if (file) testWith(file, file.name);
  });
  if (!navigator.mediaDevices?.getUserMedia) {
    $('teach-camera').disabled = true;
    $('teach-camera-note').textContent = 'This browser cannot use a webcam here: the webcam needs a secure page (https:// or localhost).';
    $('teach-camera-note').hidden = false;
  }
  $('teach-camera').addEventListener('click', () => (stream ? stopCamera() : startCamera()));
  $('train-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!training) guarded(train);
  });
  $('save-json').addEventListener('click', () => guarded(saveJson));
  $('save-tflite').addEventListener('click', () => guarded(saveTflite));
  for (const [id, open] of [['load-json', loadJson], ['load-tflite', page.openModel]]) {
    $(id).addEventListener('change', () => {
      const file = $(id).files[0];
      $(id).value = '';
      if (file) {
        page.hideError();
        guarded(() => open(file), file.name);
      }
    });
  }
  updateControls();
}
