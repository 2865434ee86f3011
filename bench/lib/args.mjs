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
 * `all`: the engines there are ('ours' is always run); `cold`: the default number of cold starts.
 */
export function parseEngineArgs(argv, { all, cold }) {
  const a = { warmup: 20, runs: 40, cold, engines: all, peak: true };
  eachArg(argv, (arg, value) => {
    if (arg === '--warmup') a.warmup = Number(value());
    else if (arg === '--runs') a.runs = Number(value());
    else if (arg === '--cold') a.cold = Number(value());
    else if (arg === '--no-peak') a.peak = false;
    else if (arg === '--engines') a.engines = value().split(',');
    else return false;
    return true;
  });
  for (const e of a.engines) if (!all.includes(e)) throw new Error(`unknown engine ${e} (${all.join(', ')})`);
  if (!a.engines.includes('ours')) a.engines.unshift('ours');
  for (const k of ['warmup', 'runs', 'cold']) if (!Number.isInteger(a[k]) || a[k] < 0) throw new Error(`bad --${k}`);
  if (a.runs < 1) throw new Error('--runs must be at least 1');
  return a;
}
