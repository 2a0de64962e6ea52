/**
 * Capture of remote nodes over the user's own ssh: host names from ~/.ssh/config, one
 * `ssh HOST sudo -n sh -s` per node fed the collector script on stdin, several at once, with
 * progress and cancellation, and the bundles combined into one capture. Nothing is stored: ssh
 * uses the user's agent and keys, and the extension never sees a password or a key. No `vscode`
 * here; the extension wires it to its progress notification.
 */
import { spawn as nodeSpawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CollectOptionError,
  collectorArgs,
  lineSplitter,
  parseProgressLine,
  readCollectorScript,
  type CollectOptions,
  type CollectProgress,
} from './collect';

/** One line of an ssh config, split the way OpenSSH's readconf.c does. */
interface ConfigLine {
  keyword: string;
  args: string[];
}

/**
 * Splits the arguments of a config line like OpenSSH's argv_split(): whitespace separates,
 * double or single quotes group, a backslash escapes a quote, a backslash or a space, and a word
 * that starts with `#` ends the line (a trailing comment).
 */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length || s[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\' && i + 1 < s.length && /["'\\\s]/.test(s[i + 1])) {
        word += s[++i];
      } else if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (/\s/.test(c)) {
        break;
      } else {
        word += c;
      }
    }
    out.push(word);
  }
  return out;
}

/** `Keyword args`, `Keyword=args` or `Keyword = args`; comments and blank lines give nothing. */
function configLines(text: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    out.push({ keyword: m[1].toLowerCase(), args: splitArgs(m[2]) });
  }
  return out;
}

/** Whether a host name can go on the ssh command line as it is (no option, no space, no pattern). */
export function isUsableHost(h: string): boolean {
  return /^[A-Za-z0-9_[][A-Za-z0-9_.@%+:[\]-]*$/.test(h) && h.length <= 255;
}

/** Host names and Include arguments of a config text, in file order. */
function configItems(text: string): ({ host: string } | { include: string })[] {
  const out: ({ host: string } | { include: string })[] = [];
  for (const l of configLines(text)) {
    if (l.keyword === 'host') {
      for (const h of l.args) if (!/[*?]/.test(h) && !h.startsWith('!') && isUsableHost(h)) out.push({ host: h });
    } else if (l.keyword === 'include') {
      for (const f of l.args) out.push({ include: f });
    }
  }
  return out;
}

/**
 * The host names of one ssh config text: the plain names of its `Host` lines (patterns with `*`
 * or `?` and negations `!` are not hosts one can pick), in order, once each; and its `Include`
 * arguments, for the caller to follow.
 *
 * Example input: `Host swarm-1 swarm-2\n  User admin\nHost *.internal !bastion\nInclude conf.d/*`
 */
export function parseSshConfigHosts(text: string): { hosts: string[]; includes: string[] } {
  const hosts: string[] = [];
  const includes: string[] = [];
  for (const it of configItems(text)) {
    if ('host' in it) {
      if (!hosts.includes(it.host)) hosts.push(it.host);
    } else includes.push(it.include);
  }
  return { hosts, includes };
}

/** Turns one glob segment (`*.conf`) into a whole-name regex. */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (const c of seg) re += c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${re}$`);
}

/** Expands `*` and `?` in any path segment, in lexical order like glob(3); hidden files only when asked for. */
function expandGlob(pattern: string): string[] {
  const segs = pattern.split('/');
  let cur = [segs[0] === '' ? '/' : segs[0]];
  for (const seg of segs.slice(1)) {
    if (seg === '') continue;
    const next: string[] = [];
    for (const base of cur) {
      if (!/[*?]/.test(seg)) {
        next.push(path.join(base, seg));
        continue;
      }
      let names: string[] = [];
      try {
        names = fs.readdirSync(base).sort();
      } catch {
        continue;
      }
      const re = segmentRegex(seg);
      for (const n of names) if (re.test(n) && (seg.startsWith('.') || !n.startsWith('.'))) next.push(path.join(base, n));
    }
    cur = next;
  }
  return cur;
}

/**
 * The hosts of the user's ssh config (default ~/.ssh/config), following `Include` (relative names
 * are under ~/.ssh, `~` is the home folder, wildcards expand in lexical order, 16 levels deep at
 * most as in OpenSSH). A missing or unreadable file gives no hosts.
 */
export function readSshConfigHosts(file: string = path.join(os.homedir(), '.ssh', 'config'), home: string = os.homedir()): string[] {
  const hosts: string[] = [];
  const seen = new Set<string>();
  const visit = (f: string, depth: number): void => {
    if (depth > 16 || seen.has(f)) return;
    seen.add(f);
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      return;
    }
    // Included files count where the Include line stands, as OpenSSH reads them.
    for (const it of configItems(text)) {
      if ('host' in it) {
        if (!hosts.includes(it.host)) hosts.push(it.host);
        continue;
      }
      const inc = it.include;
      const abs = inc.startsWith('~/') ? path.join(home, inc.slice(2)) : path.isAbsolute(inc) ? inc : path.join(home, '.ssh', inc);
      for (const g of expandGlob(abs)) visit(g, depth + 1);
    }
  };
  visit(file, 0);
  return hosts;
}

/** How ssh is run. */
export interface SshOptions {
  /** The ssh program (default `ssh`). */
  ssh?: string;
  /** Run the collector through `sudo -n` (default true); false when the login is root already. */
  sudo?: boolean;
  /** ssh's ConnectTimeout in seconds (default 15). */
  connectTimeoutSeconds?: number;
  /**
   * BatchMode=yes (default true): ssh never prompts (there is no terminal to answer in), so a host
   * that needs a password or an unknown host key fails at once with ssh's own message.
   */
  batchMode?: boolean;
  /** More ssh options, each one argument (`-o`, `ProxyJump=bastion`). */
  extra?: string[];
}

/**
 * The argument array of one remote run: `ssh -T -o BatchMode=yes -o ConnectTimeout=15 -- HOST sudo -n sh -s`.
 * The remote command is fixed words only; the collector's options travel on stdin
 * ({@link remoteScript}), so nothing from the user reaches the remote shell's parser. `sudo -n`
 * fails with a clear message instead of waiting for a password nobody can type.
 */
export function sshArgv(host: string, o: SshOptions = {}): { file: string; args: string[] } {
  if (!isUsableHost(host)) throw new CollectOptionError(`not a host name ssh can take as it is: ${JSON.stringify(host)}`);
  const timeout = o.connectTimeoutSeconds ?? 15;
  if (!Number.isInteger(timeout) || timeout <= 0) throw new CollectOptionError(`ConnectTimeout must be whole seconds (got ${timeout})`);
  const args = ['-T'];
  if (o.batchMode ?? true) args.push('-o', 'BatchMode=yes');
  args.push('-o', `ConnectTimeout=${timeout}`, ...(o.extra ?? []), '--', host);
  args.push(...((o.sudo ?? true) ? ['sudo', '-n', 'sh', '-s'] : ['sh', '-s']));
  return { file: o.ssh ?? 'ssh', args };
}

/** Quotes a word for a POSIX shell: `'it'\''s'`. */
export function shQuote(s: string): string {
  if (s.includes('\0')) throw new CollectOptionError('a NUL byte cannot be passed to a shell');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The collector script with its arguments set on its first line (`set -- '--ns' 'host'`). */
export function remoteScript(script: string, args: readonly string[]): string {
  return `set -- ${args.map(shQuote).join(' ')}\n${script}`;
}

/** Where one host is. */
export type HostState = 'queued' | 'connecting' | 'capturing' | 'done' | 'failed' | 'cancelled';

/** A progress report for one host, with the overall fraction done (0..1). */
export interface HostProgress {
  host: string;
  state: HostState;
  /** This host's fraction done (0..1). */
  fraction: number;
  /** All hosts' fraction done (0..1). */
  overall: number;
  /** What it is doing: `namespace 3/12 ingress_sbox`, `Docker`, an error line. */
  detail?: string;
}

/** What one host gave. */
export interface HostResult {
  host: string;
  ok: boolean;
  /** The bundle (stdout), when the run finished with one. */
  bundle?: string;
  /** Why it failed, in a person's words. */
  error?: string;
  exitCode?: number | null;
  /** The run's stderr (progress lines, ssh and sudo messages). */
  stderr: string;
  cancelled?: boolean;
}

/** A stand-in for child_process.spawn (tests pass a fake). */
export type SpawnLike = typeof nodeSpawn;

/** Options of {@link captureRemoteNodes}. */
export interface RemoteCaptureOptions {
  /** The collector's options (no `output` or `redactMap`: they would be files on the remote node). */
  collect?: CollectOptions;
  ssh?: SshOptions;
  /** How many nodes run at once (default 4). */
  concurrency?: number;
  /** Give up on one node after this many seconds (default 600). */
  timeoutSeconds?: number;
  /** Cancels every run; the ones not started are reported as cancelled. */
  signal?: AbortSignal;
  onProgress?: (p: HostProgress) => void;
  /** The collector script's text (default: read from the package). */
  script?: string;
  spawn?: SpawnLike;
  /** Largest bundle accepted from one node (default 512 MB). */
  maxBytes?: number;
}

/** Results of a remote capture, in the order the hosts were given. */
export interface RemoteCapture {
  results: HostResult[];
  /**
   * The key every node redacted with (when redacting): keep it in memory only, to redact more
   * bundles the same way; it is never written anywhere.
   */
  redactKey?: string;
}

/** A short reason for a failed run, from ssh's or sudo's own words. */
export function describeFailure(host: string, code: number | null, stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^meshtrace-collect: (\[|node |done|redacting)/.test(l));
  const last = lines.slice(-3).join(' | ');
  if (/sudo: (a password is required|a terminal is required)/.test(stderr)) {
    return `${host}: sudo wants a password, and there is no terminal to type it in; allow the capture without one (sudoers NOPASSWD for sh) or connect as root with sudo turned off`;
  }
  if (code === 255) return `${host}: ssh could not connect${last ? `: ${last}` : ''}`;
  return `${host}: the collector failed (exit ${code ?? 'signal'})${last ? `: ${last}` : ''}`;
}

/** This host's fraction done after a progress line. */
function fractionAfter(p: CollectProgress, cur: number): number {
  switch (p.kind) {
    case 'start':
      return Math.max(cur, 0.05);
    case 'namespace':
      return Math.max(cur, 0.05 + (0.85 * p.index) / Math.max(1, p.total));
    case 'docker':
      return Math.max(cur, 0.92);
    case 'redact':
      return Math.max(cur, 0.96);
    case 'done':
      return 1;
    default:
      return cur;
  }
}

/**
 * Runs the collector on every host over ssh, `concurrency` at a time. Never rejects for a host's
 * failure: each host gets a result. A cancel stops the running ssh processes (SIGTERM) and marks
 * the rest cancelled. Throws CollectOptionError at once for bad options or host names.
 */
export async function captureRemoteNodes(hosts: readonly string[], o: RemoteCaptureOptions = {}): Promise<RemoteCapture> {
  const unique = [...new Set(hosts)];
  for (const h of unique) sshArgv(h, o.ssh);
  const collect: CollectOptions = { ...(o.collect ?? {}) };
  if (collect.output !== undefined) throw new CollectOptionError('a remote capture comes back on stdout: no output file');
  if (collect.redactMap !== undefined) throw new CollectOptionError('--redact-map would be written on each remote node: not for a remote capture');
  let redactKey: string | undefined;
  if (collect.redact || collect.redactKey !== undefined) {
    // One key for all nodes, so an address gets the same replacement in every node's bundle.
    redactKey = collect.redactKey ?? randomBytes(32).toString('hex');
    collect.redactKey = redactKey;
  }
  const script = remoteScript(o.script ?? readCollectorScript(), collectorArgs(collect));
  const spawn = o.spawn ?? nodeSpawn;
  const maxBytes = o.maxBytes ?? 512 * 1024 * 1024;
  const timeoutMs = (o.timeoutSeconds ?? 600) * 1000;
  const fractions = new Map<string, number>(unique.map((h) => [h, 0]));
  const results = new Map<string, HostResult>();
  const report = (host: string, state: HostState, detail?: string): void => {
    if (state === 'done' || state === 'failed' || state === 'cancelled') fractions.set(host, 1);
    const all = [...fractions.values()];
    o.onProgress?.({ host, state, detail, fraction: fractions.get(host) ?? 0, overall: all.reduce((a, b) => a + b, 0) / Math.max(1, all.length) });
  };
  for (const h of unique) report(h, 'queued');

  const runOne = (host: string): Promise<HostResult> =>
    new Promise((resolve) => {
      if (o.signal?.aborted) return resolve({ host, ok: false, cancelled: true, error: `${host}: cancelled`, stderr: '' });
      const { file, args } = sshArgv(host, o.ssh);
      report(host, 'connecting');
      const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = '';
      let failure: string | undefined;
      let cancelled = false;
      let settled = false;
      const stop = (why: string, isCancel = false): void => {
        if (failure === undefined) failure = why;
        cancelled ||= isCancel;
        child.kill('SIGTERM');
      };
      const onAbort = (): void => stop(`${host}: cancelled`, true);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => stop(`${host}: no answer after ${timeoutMs / 1000} s; stopped`), timeoutMs);
      const lines = lineSplitter((l) => {
        const p = parseProgressLine(l);
        if (!p) return;
        fractions.set(host, fractionAfter(p, fractions.get(host) ?? 0));
        const detail = p.kind === 'namespace' ? `namespace ${p.index}/${p.total} ${p.name}` : p.kind === 'docker' ? 'Docker' : p.kind === 'redact' ? 'redacting' : p.kind === 'message' ? p.text : undefined;
        report(host, 'capturing', detail);
      });
      child.stdout?.on('data', (d: Buffer) => {
        outBytes += d.length;
        if (outBytes > maxBytes) stop(`${host}: the bundle is larger than ${maxBytes} bytes; capture fewer namespaces`);
        else out.push(d);
      });
      child.stderr?.on('data', (d: Buffer) => {
        const s = d.toString('utf8');
        if (stderr.length < 1024 * 1024) stderr += s;
        lines.push(s);
      });
      // ssh may exit before reading the whole script (connection refused): ignore EPIPE here.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(script);
      const finish = (r: HostResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        lines.end();
        report(host, r.ok ? 'done' : r.cancelled ? 'cancelled' : 'failed', r.error);
        resolve(r);
      };
      child.on('error', (e) => finish({ host, ok: false, error: `${host}: cannot run ${file}: ${e.message}`, stderr, exitCode: null }));
      child.on('close', (code) => {
        const bundle = Buffer.concat(out).toString('utf8');
        if (failure !== undefined) return finish({ host, ok: false, cancelled, error: failure, stderr, exitCode: code });
        if (code !== 0) return finish({ host, ok: false, error: describeFailure(host, code, stderr), stderr, exitCode: code });
        if (!/(^|\n)### meshtrace\s/.test(bundle)) return finish({ host, ok: false, error: `${host}: the run printed no meshtrace section`, stderr, exitCode: code });
        finish({ host, ok: true, bundle, stderr, exitCode: code });
      });
    });

  const queue = [...unique];
  const workers = Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 4, queue.length)) }, async () => {
    for (let h = queue.shift(); h !== undefined; h = queue.shift()) results.set(h, await runOne(h));
  });
  await Promise.all(workers);
  return { results: unique.map((h) => results.get(h) as HostResult), redactKey };
}

/** The combined capture of several nodes. */
export interface CombinedCapture {
  /** One bundle holding every node's sections (and a note for each host that failed). */
  text: string;
  /** Which node name each host's sections carry. */
  nodes: { host: string; node: string }[];
  failed: { host: string; error: string }[];
}

/** Header-safe form of a host name (for node names made from it). */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.:@-]/g, '_') || '_';
}

/**
 * Combines the hosts' bundles into one. Sections keep their own node names; when two hosts report
 * the same name (cloned machines), the later host's sections become `<node>@<host>` so the two
 * machines stay apart. A failed host leaves a `# meshtrace:` note under its own name.
 */
export function combineBundles(results: readonly HostResult[]): CombinedCapture {
  const parts: string[] = [`# meshtrace capture of ${results.length} node(s) over ssh`];
  const nodes: CombinedCapture['nodes'] = [];
  const failed: CombinedCapture['failed'] = [];
  const taken = new Set<string>();
  for (const r of results) {
    if (!r.ok || r.bundle === undefined) {
      const error = r.error ?? `${r.host}: failed`;
      failed.push({ host: r.host, error });
      parts.push(`### meshtrace node=${safeName(r.host)} ns=host cmd=meshtrace-collect note`, `# meshtrace: ${error.replace(/\n/g, ' ')}`);
      continue;
    }
    const names = new Set<string>();
    for (const line of r.bundle.split('\n')) {
      const m = /^### meshtrace\s+node=(\S*)/.exec(line);
      if (m) names.add(m[1]);
    }
    const rename = new Map<string, string>();
    for (const n of names) {
      let to = n;
      if (taken.has(n)) {
        to = `${n}@${safeName(r.host)}`;
        for (let i = 2; taken.has(to); i++) to = `${n}@${safeName(r.host)}-${i}`;
      }
      rename.set(n, to);
      taken.add(to);
      nodes.push({ host: r.host, node: to });
    }
    // Lines before a bundle's first header would join the previous bundle's last section: drop them.
    let text = r.bundle.slice(r.bundle.search(/(^|\n)### meshtrace\s/)).replace(/^\n/, '');
    if ([...rename].some(([a, b]) => a !== b)) {
      text = text
        .split('\n')
        .map((line) => line.replace(/^(### meshtrace\s+node=)(\S*)/, (_m, pre: string, n: string) => pre + (rename.get(n) ?? n)))
        .join('\n');
    }
    parts.push(text.endsWith('\n') ? text.slice(0, -1) : text);
  }
  const summary = [
    ...nodes.map((n) => `# ${n.host}: node ${n.node}`),
    ...failed.map((f) => `# ${f.host}: failed`),
  ];
  return { text: [...parts.slice(0, 1), ...summary, ...parts.slice(1)].join('\n') + '\n', nodes, failed };
}
