// Command-line arguments of the benchmark scripts (Node side).

/**
 * Walks argv: handle(arg, value) for each argument, where value() takes the next one; a
 * handler that returns false did not know the argument.
 */
export function eachArg(argv, handle) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (handle(arg, value) === false) throw new Error(`unknown argument ${arg}`);
  }
}

/**
 * The options of bench/node.mjs and bench/browser.mjs:
 *   [--warmup N] [--runs N] [--cold N] [--engines a,b,...] [--no-peak]
 * `all`: the engines there are, the default ('ours' is always run, and 'ours8' with any int8
 * anchor: the references); `sets`: names that stand for
 * several engines in --engines (e.g. float, int8); `cold`: the default number of cold starts.
 */
export function parseEngineArgs(argv, { all, sets = {}, cold }) {
  const a = { warmup: 20, runs: 40, cold, engines: all, peak: true };
  eachArg(argv, (arg, value) => {
    if (arg === '--warmup') a.warmup = Number(value());
    else if (arg === '--runs') a.runs = Number(value());
    else if (arg === '--cold') a.cold = Number(value());
    else if (arg === '--no-peak') a.peak = false;
    else if (arg === '--engines') a.engines = [...new Set(value().split(',').flatMap((e) => sets[e] ?? [e]))];
    else return false;
    return true;
  });
  const known = [...all, ...Object.keys(sets)].join(', ');
  for (const e of a.engines) if (!all.includes(e)) throw new Error(`unknown engine ${e} (${known})`);
  // First: the reference (ours); with any int8 anchor, ours8, their reference, too.
  const int8 = a.engines.some((e) => /^(tflite|ort8)/.test(e)) && !a.engines.includes('ours8') ? ['ours8'] : [];
  a.engines = ['ours', ...int8, ...a.engines.filter((e) => e !== 'ours')];
  for (const k of ['warmup', 'runs', 'cold']) if (!Number.isInteger(a[k]) || a[k] < 0) throw new Error(`bad --${k}`);
  if (a.runs < 1) throw new Error('--runs must be at least 1');
  return a;
}
