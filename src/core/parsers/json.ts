/**
 * JSON for untrusted dumps: parsed with jsonc-parser's tolerant tree parser so a truncated or
 * broken file yields problems with line and column instead of an exception, and so every object
 * and array can be traced back to the line it started on. Keys that could reach an object's
 * prototype (`__proto__`, `constructor`, `prototype`) are dropped with a warning; objects are
 * built without a prototype so no key of a dump can shadow a method.
 */
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { ProblemSink } from '../problem';

/** A JSON value as read from a dump. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object without a prototype. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The result of `parseJsonDump`: the value and a way to find the line any object or array began on. */
export interface JsonDoc {
  value: JsonValue | undefined;
  lineOf(v: JsonValue | undefined): number;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Deepest nesting of arrays and objects read; no dump format comes near it. */
const MAX_DEPTH = 200;

/** Maps offsets to 1-based lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  /** 1-based line of an offset. */
  line(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  /** 1-based column of an offset. */
  col(offset: number): number {
    return offset - this.starts[this.line(offset) - 1] + 1;
  }
}

/**
 * Parses JSON text. Syntax errors become `json-syntax` problems (the first few, then a count).
 * `lineOffset` shifts reported lines for dumps embedded in a bundle. Well-formed JSON is read by
 * a strict one-pass reader; anything else by jsonc-parser's tolerant one, which says where.
 */
export function parseJsonDump(text: string, sink: ProblemSink, lineOffset = 0, opts: { fast?: boolean } = {}): JsonDoc {
  const errors: ParseError[] = [];
  // jsonc-parser recurses per nesting level and overflows the stack near 10,000 levels; measure
  // the depth first without recursion and refuse what no dump format nests that deep.
  // `fast: false` reads with the tolerant reader alone (tests compare the two).
  const strict = opts.fast === false ? undefined : parseStrict(text, sink, lineOffset);
  if (strict !== undefined) return strict;
  const tooDeep = deepestOffset(text, MAX_DEPTH);
  if (tooDeep >= 0) {
    const idx0 = new LineIndex(text);
    sink.error('json-depth', idx0.line(tooDeep) + lineOffset, 'JSON nested more than 200 levels deep: no dump format does this; the file is not read', idx0.col(tooDeep));
    return { value: undefined, lineOf: () => 1 + lineOffset };
  }
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const idx = new LineIndex(text);
  const lines = new WeakMap<object, number>();
  const shown = errors.slice(0, 5);
  for (const e of shown) {
    sink.error(
      'json-syntax',
      idx.line(e.offset) + lineOffset,
      `invalid JSON: ${describeJsonError(printParseErrorCode(e.error))}`,
      idx.col(e.offset),
      idx.col(e.offset) + Math.max(1, e.length),
    );
  }
  if (errors.length > shown.length) {
    const last = errors[errors.length - 1];
    sink.error(
      'json-syntax',
      idx.line(last.offset) + lineOffset,
      `${errors.length - shown.length} more JSON syntax errors`,
    );
  }

  const build = (n: Node, depth: number): JsonValue => {
    if (depth > 200) {
      sink.error('json-depth', idx.line(n.offset) + lineOffset, 'JSON nested too deeply (over 200 levels); the rest is skipped');
      return null;
    }
    switch (n.type) {
      case 'object': {
        const o = Object.create(null) as JsonObject;
        for (const prop of n.children ?? []) {
          const [k, v] = prop.children ?? [];
          if (!k || typeof k.value !== 'string') continue;
          if (FORBIDDEN_KEYS.has(k.value)) {
            sink.warn(
              'json-forbidden-key',
              idx.line(k.offset) + lineOffset,
              `key "${k.value}" ignored: it is not part of any dump format and could alter objects`,
              idx.col(k.offset),
              idx.col(k.offset) + k.length,
            );
            continue;
          }
          o[k.value] = v ? build(v, depth + 1) : null;
        }
        lines.set(o, idx.line(n.offset) + lineOffset);
        return o;
      }
      case 'array': {
        const a = (n.children ?? []).map((c) => build(c, depth + 1));
        lines.set(a, idx.line(n.offset) + lineOffset);
        return a;
      }
      case 'string':
      case 'number':
      case 'boolean':
        return n.value as JsonValue;
      default:
        return null;
    }
  };
  const value = tree ? build(tree, 0) : undefined;
  return {
    value,
    lineOf: (v) => (v !== null && typeof v === 'object' ? lines.get(v) ?? 1 + lineOffset : 1 + lineOffset),
  };
}

/** Thrown inside {@link parseStrict} at the first thing strict JSON does not allow. */
class NotStrict {}
const NOT_STRICT = new NotStrict();

/**
 * The fast reader for what dumps nearly always are: well-formed JSON (RFC 8259), read in one
 * pass straight into the values `parseJsonDump` gives, with the same lines and the same
 * forbidden-key warnings. At the first thing strict JSON does not allow it gives up
 * (undefined, nothing reported) and the tolerant reader reads the text and reports the problems.
 * Deeper nesting than MAX_DEPTH is left to the tolerant path too (which refuses it), so the
 * recursion here is bounded.
 */
function parseStrict(text: string, sink: ProblemSink, lineOffset: number): JsonDoc | undefined {
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const lines = new WeakMap<object, number>();
  // Warnings wait for the end (a later syntax error hands everything to the tolerant reader);
  // keys inside a dropped value are never looked at by the tolerant reader either: muted.
  const warns: { line: number; col: number; len: number; key: string }[] = [];
  let mute = 0;

  const skipWs = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        lineStart = i + 1;
      } else if (c !== 32 && c !== 9 && c !== 13) return;
    }
  };
  const readString = (): string => {
    // At the opening quote.
    const start = i;
    let j = i + 1;
    let escaped = false;
    for (;;) {
      if (j >= n) throw NOT_STRICT;
      const c = text.charCodeAt(j);
      if (c === 34) break;
      if (c < 32) throw NOT_STRICT;
      if (c === 92) {
        escaped = true;
        j += 2;
      } else j++;
    }
    i = j + 1;
    if (!escaped) return text.slice(start + 1, j);
    try {
      // Escapes as JSON defines them, by the engine's own reader; it refuses any other.
      return JSON.parse(text.slice(start, j + 1)) as string;
    } catch {
      throw NOT_STRICT;
    }
  };
  const isDigit = (c: number): boolean => c >= 48 && c <= 57;
  const readNumber = (): number => {
    const start = i;
    if (text.charCodeAt(i) === 45) i++;
    if (text.charCodeAt(i) === 48) i++;
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
    else throw NOT_STRICT;
    if (text.charCodeAt(i) === 46) {
      i++;
      if (!isDigit(text.charCodeAt(i))) throw NOT_STRICT;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 101 || e === 69) {
      i++;
      const sgn = text.charCodeAt(i);
      if (sgn === 43 || sgn === 45) i++;
      if (!isDigit(text.charCodeAt(i))) throw NOT_STRICT;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    return Number(text.slice(start, i));
  };
  const literal = (word: string, v: JsonValue): JsonValue => {
    if (!text.startsWith(word, i)) throw NOT_STRICT;
    i += word.length;
    return v;
  };
  let depth = 0;
  const readValue = (): JsonValue => {
    const c = text.charCodeAt(i);
    if ((c === 123 || c === 91) && depth === MAX_DEPTH) throw NOT_STRICT;
    if (c === 123) {
      const o = Object.create(null) as JsonObject;
      lines.set(o, line + lineOffset);
      i++;
      skipWs();
      if (text.charCodeAt(i) === 125) {
        i++;
        return o;
      }
      for (;;) {
        if (text.charCodeAt(i) !== 34) throw NOT_STRICT;
        const keyLine = line;
        const keyCol = i - lineStart + 1;
        const keyStart = i;
        const k = readString();
        const keyLen = i - keyStart;
        skipWs();
        if (text.charCodeAt(i) !== 58) throw NOT_STRICT;
        i++;
        skipWs();
        if (FORBIDDEN_KEYS.has(k)) {
          if (mute === 0) warns.push({ line: keyLine, col: keyCol, len: keyLen, key: k });
          mute++;
          depth++;
          readValue();
          depth--;
          mute--;
        } else {
          depth++;
          o[k] = readValue();
          depth--;
        }
        skipWs();
        const d = text.charCodeAt(i);
        i++;
        if (d === 125) return o;
        if (d !== 44) throw NOT_STRICT;
        skipWs();
      }
    }
    if (c === 91) {
      const a: JsonValue[] = [];
      lines.set(a, line + lineOffset);
      i++;
      skipWs();
      if (text.charCodeAt(i) === 93) {
        i++;
        return a;
      }
      for (;;) {
        depth++;
        a.push(readValue());
        depth--;
        skipWs();
        const d = text.charCodeAt(i);
        i++;
        if (d === 93) return a;
        if (d !== 44) throw NOT_STRICT;
        skipWs();
      }
    }
    if (c === 34) return readString();
    if (c === 116) return literal('true', true);
    if (c === 102) return literal('false', false);
    if (c === 110) return literal('null', null);
    if (c === 45 || isDigit(c)) return readNumber();
    throw NOT_STRICT;
  };

  let value: JsonValue;
  try {
    skipWs();
    if (i >= n) return undefined;
    value = readValue();
    skipWs();
    if (i < n) return undefined;
  } catch (e) {
    if (e === NOT_STRICT) return undefined;
    throw e;
  }
  for (const w of warns) {
    sink.warn('json-forbidden-key', w.line + lineOffset, `key "${w.key}" ignored: it is not part of any dump format and could alter objects`, w.col, w.col + w.len);
  }
  return {
    value,
    lineOf: (v) => (v !== null && typeof v === 'object' ? lines.get(v) ?? 1 + lineOffset : 1 + lineOffset),
  };
}

/** Offset where nesting first exceeds `max` levels (strings skipped), or -1. */
function deepestOffset(text: string, max: number): number {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return -1;
}

function describeJsonError(code: string): string {
  switch (code) {
    case 'InvalidSymbol':
      return 'unexpected character';
    case 'InvalidNumberFormat':
      return 'malformed number';
    case 'PropertyNameExpected':
      return 'expected a property name in double quotes';
    case 'ValueExpected':
      return 'expected a value';
    case 'ColonExpected':
      return 'expected ":"';
    case 'CommaExpected':
      return 'expected ","';
    case 'CloseBraceExpected':
      return 'expected "}" (the file may be truncated)';
    case 'CloseBracketExpected':
      return 'expected "]" (the file may be truncated)';
    case 'EndOfFileExpected':
      return 'extra text after the JSON value';
    case 'InvalidCharacter':
      return 'a control character inside a string';
    case 'UnexpectedEndOfString':
      return 'unterminated string (the file may be truncated)';
    default:
      return code;
  }
}

/** Narrowing helpers for reading untrusted JSON. */
export const J = {
  obj(v: JsonValue | undefined): JsonObject | undefined {
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  },
  arr(v: JsonValue | undefined): JsonValue[] | undefined {
    return Array.isArray(v) ? v : undefined;
  },
  str(v: JsonValue | undefined): string | undefined {
    return typeof v === 'string' ? v : undefined;
  },
  num(v: JsonValue | undefined): number | undefined {
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  },
  bool(v: JsonValue | undefined): boolean | undefined {
    return typeof v === 'boolean' ? v : undefined;
  },
};
