/**
 * Reads `sysctl -a` / `sysctl KEY...` output, sysctl.conf-style `key=value` lines and
 * `grep . /proc/sys/...` output into SysctlEntry values with dotted keys.
 *
 * Grammar source: procps-ng sysctl.c. `ReadSetting` prints `"%s = %s"` with the key's slashes
 * turned into dots (`slashdot`), once per line of the value (multi-line values such as
 * dev.cdrom.info repeat the key). `Preload` (sysctl.conf, `sysctl -p`) takes `name=value` with
 * optional blanks around `=` and skips lines starting with `#` or `;`. Errors go to stderr as
 * `sysctl: cannot stat /proc/sys/...: ...`, `sysctl: permission denied on key '...'`,
 * `sysctl: reading key "..."` (procps 3.2: `error: ...`), and are often captured with 2>&1.
 */
import type { SysctlEntry } from '../model/link';
import { ProblemSink, splitLines, type ParseOptions, type ParseResult } from '../problem';

const PROC_SYS = '/proc/sys/';
/** Unknown lines reported one by one; past this, one summary problem. */
const MAX_UNKNOWN_REPORTED = 100;

/**
 * procps-ng `slashdot`: a key whose first separator is `/` is in path form; swap `/` and `.`
 * (so `net/ipv4/conf/eth0.100/rp_filter` becomes `net.ipv4.conf.eth0/100.rp_filter`, exactly
 * what `sysctl -a` prints for that key).
 */
export function normalizeSysctlKey(key: string): string {
  const k = key.startsWith(PROC_SYS) ? key.slice(PROC_SYS.length) : key;
  const firstSep = k.search(/[./]/);
  if (firstSep < 0 || k[firstSep] === '.') return k;
  let out = '';
  for (const c of k) out += c === '/' ? '.' : c === '.' ? '/' : c;
  return out;
}

/** A key as sysctl prints it: no blanks, no `=`, not empty. */
const KEY_RE = /^[^\s=]+$/;

function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

/**
 * Parses sysctl output into entries in file order (a key printed twice gives two entries).
 * Example (`sysctl -a` in the router namespace of captures/netns-lab):
 * ```
 * net.ipv4.conf.all.forwarding = 1
 * net.ipv4.ip_forward = 1
 * ```
 */
export function parseSysctl(text: string, opts: ParseOptions = {}): ParseResult<SysctlEntry[]> {
  const file = opts.file ?? '<input>';
  const offset = opts.lineOffset ?? 0;
  const sink = new ProblemSink(file);
  const out: SysctlEntry[] = [];
  const lines = splitLines(text);
  let unknown = 0;
  let lastUnknown = 0;
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const line = idx + 1 + offset;
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    // sysctl.conf comments (Preload skips lines starting with # or ;).
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    // stderr of sysctl captured with 2>&1: harmless notes about keys that could not be read.
    if (trimmed.startsWith('sysctl: ') || trimmed.startsWith('error: ') || /^permission denied on key /i.test(trimmed)) {
      sink.lineProblem('info', 'sysctl-stderr', line, raw, `sysctl could not read a key: ${clip(trimmed)}`);
      continue;
    }
    // `sysctl --system` progress lines.
    if (trimmed.startsWith('* Applying ')) {
      sink.lineProblem('info', 'sysctl-stderr', line, raw, `sysctl --system progress line: ${clip(trimmed)}`);
      continue;
    }
    if (raw.startsWith(PROC_SYS)) {
      // `grep . /proc/sys/net/ipv4/ip_forward ...` (or `grep -r . /proc/sys/net`): "path:value",
      // no blank after the colon. A path contains no colon, so the first one ends it.
      const colon = raw.indexOf(':');
      const eqAt = raw.indexOf('=');
      if (colon > PROC_SYS.length && (eqAt < 0 || colon < eqAt)) {
        const path = raw.slice(0, colon);
        const after = raw.slice(colon + 1);
        if (after.startsWith(' ')) {
          sink.lineProblem('warning', 'sysctl-format', line, raw, 'grep prints `path:value` with no blank after the colon; this line looks hand-made (value read without the blank)');
        }
        out.push({ key: normalizeSysctlKey(path), value: after.trim(), source: { file, line } });
        continue;
      }
    }
    const eq = raw.indexOf('=');
    if (eq >= 0) {
      // `sysctl` prints "key = value"; sysctl.conf allows "key=value" and a leading "-"
      // (ignore failures). The value keeps inner tabs (net.ipv4.tcp_rmem = 4096\t131072\t6291456).
      let keyText = raw.slice(0, eq).trim();
      if (keyText.startsWith('-')) keyText = keyText.slice(1);
      const value = raw.slice(eq + 1).replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
      if (!KEY_RE.test(keyText)) {
        report(raw, line, `expected \`key = value\`, got \`${clip(trimmed)}\``);
        continue;
      }
      if (keyText.startsWith(PROC_SYS)) {
        sink.lineProblem('warning', 'sysctl-format', line, raw, `sysctl never prints a /proc/sys path before \`=\`; read as key \`${normalizeSysctlKey(keyText)}\``);
      }
      out.push({ key: normalizeSysctlKey(keyText), value, source: { file, line } });
      continue;
    }
    if (KEY_RE.test(trimmed) && /^[A-Za-z0-9_-]+[./][^\s]/.test(trimmed)) {
      report(raw, line, `key \`${clip(trimmed)}\` without a value (\`sysctl -N\` output?); not kept`);
      continue;
    }
    report(raw, line, `not a sysctl line: \`${clip(trimmed)}\` (expected \`key = value\`)`);
  }
  if (unknown > MAX_UNKNOWN_REPORTED) {
    sink.warn('sysctl-unknown', lastUnknown, `${unknown - MAX_UNKNOWN_REPORTED} more lines that are not sysctl output (not listed one by one)`);
  }
  return { value: out, problems: sink.problems };

  function report(raw: string, line: number, message: string): void {
    if (++unknown <= MAX_UNKNOWN_REPORTED) sink.lineProblem('warning', 'sysctl-unknown', line, raw, message);
    else lastUnknown = line;
  }
}
