// The nsfwjs models (MIT; an exact-pinned devDependency) as TF.js files: a model.json and its
// binary weight shards. nsfwjs 4 ships them inside JS modules (the shards as base64), so they
// are decoded once into a git-ignored folder. Not a test file itself; also a command, run by
// CTest before the C++ suites:   node tests/js/nsfwjs.js OUT_DIR
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** nsfwjs's class names, in output order (its nsfw_classes.js). */
export const NSFWJS_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

/** The two MobileNetV2 models of nsfwjs: a Keras layers model and a graph model (α = 1.4). */
export const NSFWJS_MODELS = {
  mobilenet_v2: { module: 'nsfwjs/models/mobilenet_v2', format: 'layers' },
  mobilenet_v2_mid: { module: 'nsfwjs/models/mobilenet_v2_mid', format: 'graph' },
};

export const FIXTURES = fileURLToPath(new URL('../fixtures/nsfwjs/', import.meta.url));

/** Whether nsfwjs is installed (npm ci). */
export async function nsfwjsInstalled() {
  try {
    await import(NSFWJS_MODELS.mobilenet_v2.module);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holding `name`'s model.json and shards, decoded on first use. Returns
 * { dir, json, paths } with the parsed model.json and its shard paths in manifest order.
 */
export async function nsfwjsModel(name, root = FIXTURES) {
  const dir = join(root, name);
  const exports = await import(NSFWJS_MODELS[name].module);
  const model = Object.values(exports)[0];
  const json = (await model.modelJson()).default;
  const paths = json.weightsManifest.flatMap((group) => group.paths);
  if (!paths.every((p) => existsSync(join(dir, p))) || !existsSync(join(dir, 'model.json'))) {
    if (model.weightBundles.length !== paths.length) {
      throw new Error(`nsfwjs ${name}: ${model.weightBundles.length} weight bundles for ${paths.length} shards`);
    }
    // Written aside and renamed, so that concurrent test processes never see half a model.
    const temp = `${dir}.tmp-${process.pid}`;
    mkdirSync(temp, { recursive: true });
    for (const [i, p] of paths.entries()) {
      const base64 = (await model.weightBundles[i]()).default;
      writeFileSync(join(temp, p), Buffer.from(base64, 'base64'));
    }
    writeFileSync(join(temp, 'model.json'), JSON.stringify(json));
    try {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });  // an incomplete earlier run
      renameSync(temp, dir);
    } catch {
      rmSync(temp, { recursive: true, force: true });  // another process was first
    }
  }
  return { dir, json, paths };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? FIXTURES;
  if (!(await nsfwjsInstalled())) {
    console.log('nsfwjs is not installed (npm ci): the tests of its models will be skipped');
  } else {
    for (const name of Object.keys(NSFWJS_MODELS)) console.log((await nsfwjsModel(name, root)).dir);
  }
}
