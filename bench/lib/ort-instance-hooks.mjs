// Node module-resolution hook (registered by bench/lib/node-io.mjs): onnxruntime-web imported as
// `ort.node.min.mjs?ort-instance=N` gets its own copy of onnxruntime-common and of its wasm glue, so
// that one process can hold two independent onnxruntime-web instances (env.wasm.numThreads sizes a
// single global thread pool per instance, fixed at its first session).
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const tag = context.parentURL && /[?&](ort-instance=\d+)/.exec(context.parentURL);
  if (tag && /\/node_modules\/onnxruntime-(web|common)\//.test(resolved.url) && !resolved.url.includes('?')) {
    return { ...resolved, url: `${resolved.url}?${tag[1]}` };
  }
  return resolved;
}
