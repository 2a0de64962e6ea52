/**
 * JSON output too large for one string (V8 strings stop near 512 MB; a 100-node capture's model
 * is bigger): written in pieces, byte for byte what `JSON.stringify(value, null, indent)` gives.
 */

/** Whether JSON.stringify writes this value (in an object; in an array it becomes `null`). */
function written(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

/**
 * Writes `JSON.stringify(value, null, indent)` through `write` in pieces of about `chunk`
 * characters: the outer `depth` levels of arrays and objects are walked here, what is below them
 * is stringified whole (and its lines indented to where it sits).
 */
export function writeJson(value: unknown, indent: number, write: (s: string) => void, chunk = 1 << 20, depth = 4): void {
  let buf = '';
  const emit = (s: string): void => {
    buf += s;
    if (buf.length >= chunk) {
      write(buf);
      buf = '';
    }
  };
  const pads: string[] = [];
  const pad = (d: number): string => (indent === 0 ? '' : (pads[d] ??= '\n' + ' '.repeat(indent * d)));
  const visit = (v: unknown, d: number): void => {
    const walk = d < depth && v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
    if (!walk) {
      const s = JSON.stringify(v, null, indent);
      emit(d === 0 || indent === 0 ? s : s.replace(/\n/g, pad(d)));
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return emit('[]');
      emit('[');
      for (let i = 0; i < v.length; i++) {
        emit((i ? ',' : '') + pad(d + 1));
        if (written(v[i])) visit(v[i], d + 1);
        else emit('null');
      }
      emit(pad(d) + ']');
      return;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => written(o[k]));
    if (keys.length === 0) return emit('{}');
    emit('{');
    keys.forEach((k, i) => {
      emit((i ? ',' : '') + pad(d + 1) + JSON.stringify(k) + (indent ? ': ' : ':'));
      visit(o[k], d + 1);
    });
    emit(pad(d) + '}');
  };
  if (written(value)) visit(value, 0);
  if (buf) write(buf);
}
