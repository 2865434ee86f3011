// A .tflite walker for tests that edit real models at test time (robustness, the demo's broken
// files, segmentation's graph output): positions of tables by field number and of vectors of
// tables, as src/model/tflite.cc reads the schema. Not a test file itself (no .test.js).

/** Positions in the FlatBuffer `bytes` (a Uint8Array; edits go through `view`). */
export function flatbuffer(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const deref = (pos) => pos + view.getUint32(pos, true);
  const field = (table, id) => {
    const vtable = table - view.getInt32(table, true);
    if (4 + 2 * id >= view.getUint16(vtable, true)) return 0;
    const offset = view.getUint16(vtable + 4 + 2 * id, true);
    return offset ? table + offset : 0;
  };
  const vector = (table, id) => {
    const at = deref(field(table, id));
    return { length: view.getUint32(at, true), at: (i) => at + 4 + 4 * i };
  };
  const tables = (table, id) => {
    const v = vector(table, id);
    return Array.from({ length: v.length }, (_, i) => deref(v.at(i)));
  };
  const root = deref(0);
  const subgraph = tables(root, 2)[0];
  return { view, field, vector, tables, root, subgraph };
}

/** `bytes` (edited in place) with every operator code set to MUL (18), which no model here uses. */
export function withMulOperators(bytes) {
  const fb = flatbuffer(bytes);
  for (const code of fb.tables(fb.root, 1)) {  // Model.operator_codes
    const deprecated = fb.field(code, 0);
    if (deprecated) fb.view.setInt8(deprecated, 18);
    const builtin = fb.field(code, 3);
    if (builtin) fb.view.setInt32(builtin, 18, true);
  }
  return bytes;
}
