/**
 * Runs the collector (collector/meshtrace-collect.sh) on this machine. It finds the script,
 * turns options into the script's argument list, and runs it with execFile: an argument array,
 * never a shell string built from data. No `vscode` here: the CLI (`meshtrace collect`) and the
 * extension's "Capture This Machine" both use it.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The collector's file name, in the package's `collector/` folder. */
export const COLLECTOR_FILE = 'meshtrace-collect.sh';

/** The shell that runs the collector (any POSIX sh: dash, bash, busybox sh). */
export const DEFAULT_SHELL = '/bin/sh';

/** Options of the collector script; each maps to one of its command-line options. */
export interface CollectOptions {
  /** `-o FILE`: the script writes the bundle there atomically (owned by $SUDO_UID under sudo). */
  output?: string;
  /** `--ns`: namespace names or shell patterns (`host`, `lb_*`); all namespaces when absent. */
  namespaces?: string[];
  /** `--node`: the node's name in the bundle (default: the machine's `uname -n`). */
  node?: string;
  /** `--redact`: replace host names, MACs and addresses outside Docker's ranges. */
  redact?: boolean;
  /** `--redact-key`: hex key (>= 32 digits) so that several nodes' bundles agree; implies redact. */
  redactKey?: string;
  /** `--redact-map FILE`: where the script writes each original and its replacement. */
  redactMap?: string;
  /** `--docker-cli`: the docker program to ask (default `docker`). */
  dockerCli?: string;
  /** `--docker-netns-dir`: where dockerd binds its namespaces (default /var/run/docker/netns). */
  dockerNetnsDir?: string;
  /** `--netns-dir`: where `ip netns` binds its namespaces (default /var/run/netns). */
  netnsDir?: string;
  /** `--no-docker`: do not ask the docker CLI. */
  noDocker?: boolean;
  /** `--timeout`: seconds one command may take (default 120). */
  timeoutSeconds?: number;
  /** `-q`: no progress lines on stderr. */
  quiet?: boolean;
}

/** A bad collector option, reported to the user as it is. */
export class CollectOptionError extends Error {}

const NAME_RE = /^[A-Za-z0-9_.:@-]+$/;

/**
 * Finds the collector script: `collector/` beside `dist/` in the package, or at the root of a
 * source checkout (this file is `src/node/collect.ts` there).
 */
export function collectorScriptPath(from: string = __dirname): string {
  const tried: string[] = [];
  for (const rel of ['../collector', '../../collector', 'collector']) {
    const p = path.resolve(from, rel, COLLECTOR_FILE);
    tried.push(p);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`the collector script ${COLLECTOR_FILE} is missing (looked at ${tried.join(', ')})`);
}

/** The collector script's text (what `ssh NODE sudo sh -s` is fed). */
export function readCollectorScript(file: string = collectorScriptPath()): string {
  return fs.readFileSync(file, 'utf8');
}

/** Turns options into the script's arguments; throws CollectOptionError for a bad value. */
export function collectorArgs(o: CollectOptions): string[] {
  const args: string[] = [];
  const noNul = (what: string, v: string): string => {
    if (v === '' || v.includes('\0') || v.includes('\n')) throw new CollectOptionError(`${what} must be a non-empty single line`);
    return v;
  };
  if (o.output !== undefined) args.push('-o', noNul('the output file', o.output));
  for (const ns of o.namespaces ?? []) {
    noNul('--ns', ns);
    // The script takes a comma-separated list; a comma inside one pattern would split it.
    if (ns.includes(',')) throw new CollectOptionError(`--ns ${JSON.stringify(ns)}: give one name or pattern per --ns (no commas)`);
    args.push('--ns', ns);
  }
  if (o.node !== undefined) {
    if (!NAME_RE.test(o.node)) throw new CollectOptionError(`--node ${JSON.stringify(o.node)}: letters, digits and . _ : @ - only`);
    args.push('--node', o.node);
  }
  if (o.redactKey !== undefined) {
    if (!/^[0-9A-Fa-f]{32,}$/.test(o.redactKey)) throw new CollectOptionError('--redact-key takes at least 32 hex digits');
    args.push('--redact-key', o.redactKey);
  } else if (o.redact) {
    args.push('--redact');
  }
  if (o.redactMap !== undefined) {
    if (!o.redact && o.redactKey === undefined) throw new CollectOptionError('--redact-map needs --redact');
    args.push('--redact-map', noNul('--redact-map', o.redactMap));
  }
  if (o.dockerCli !== undefined) args.push('--docker-cli', noNul('--docker-cli', o.dockerCli));
  if (o.dockerNetnsDir !== undefined) args.push('--docker-netns-dir', noNul('--docker-netns-dir', o.dockerNetnsDir));
  if (o.netnsDir !== undefined) args.push('--netns-dir', noNul('--netns-dir', o.netnsDir));
  if (o.noDocker) args.push('--no-docker');
  if (o.timeoutSeconds !== undefined) {
    if (!Number.isInteger(o.timeoutSeconds) || o.timeoutSeconds <= 0) throw new CollectOptionError(`--timeout must be a whole number of seconds (got ${o.timeoutSeconds})`);
    args.push('--timeout', String(o.timeoutSeconds));
  }
  if (o.quiet) args.push('-q');
  return args;
}

/** One progress line of the collector (`meshtrace-collect: [3/12] ingress_sbox` on stderr). */
export type CollectProgress =
  | { kind: 'start'; node: string; total: number }
  | { kind: 'namespace'; index: number; total: number; name: string }
  | { kind: 'docker' }
  | { kind: 'redact' }
  | { kind: 'done'; output?: string }
  /** Any other line: an error message of the script, or of ssh/sudo in front of it. */
  | { kind: 'message'; text: string };

/** Reads one stderr line of the collector; undefined for an empty line. */
export function parseProgressLine(line: string): CollectProgress | undefined {
  const l = line.replace(/\r$/, '');
  if (l.trim() === '') return undefined;
  const m = /^meshtrace-collect: (.*)$/.exec(l);
  if (!m) return { kind: 'message', text: l };
  const t = m[1];
  let x: RegExpExecArray | null;
  if ((x = /^\[(\d+)\/(\d+)\] (\S+)$/.exec(t))) return { kind: 'namespace', index: Number(x[1]), total: Number(x[2]), name: x[3] };
  if ((x = /^node (\S+): (\d+) namespaces$/.exec(t))) return { kind: 'start', node: x[1], total: Number(x[2]) };
  if (t === '[docker]') return { kind: 'docker' };
  if (t === 'redacting') return { kind: 'redact' };
  if (t === 'done') return { kind: 'done' };
  if ((x = /^done: wrote (.+)$/.exec(t))) return { kind: 'done', output: x[1] };
  return { kind: 'message', text: t };
}

/** Splits a stream of chunks into lines and hands each complete line on. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let buf = '';
  return {
    push(chunk: string): void {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    },
    end(): void {
      if (buf !== '') onLine(buf);
      buf = '';
    },
  };
}

/** How to run the collector locally. */
export interface LocalRunOptions {
  /** The script (default: {@link collectorScriptPath}). */
  scriptPath?: string;
  /** The POSIX shell to run it with (default /bin/sh). */
  shell?: string;
  /** Cancels the run (the script is sent SIGTERM; its temporary files go with it). */
  signal?: AbortSignal;
  /** Called for each progress line on the script's stderr. */
  onProgress?: (p: CollectProgress) => void;
  /** The script's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Largest bundle accepted on stdout (default 512 MB). */
  maxBytes?: number;
}

/** What a local run gave. */
export interface CollectResult {
  /** The script's exit status (0: the bundle was written; 2: bad usage). */
  exitCode: number;
  /** The bundle, when no output file was asked for. */
  bundle?: string;
  /** Everything the script wrote to stderr (progress and errors). */
  stderr: string;
}

/**
 * Runs the collector on this machine (it must run as root to see every namespace). Resolves with
 * the exit status whatever it is; rejects when the shell cannot start or the run is cancelled.
 */
export function collectLocal(o: CollectOptions, r: LocalRunOptions = {}): Promise<CollectResult> {
  const args = [r.scriptPath ?? collectorScriptPath(), ...collectorArgs(o)];
  return new Promise((resolve, reject) => {
    const lines = lineSplitter((l) => {
      const p = parseProgressLine(l);
      if (p) r.onProgress?.(p);
    });
    // Cancelling sends SIGTERM and waits for the script to exit, so its temporary files are gone
    // by the time the promise settles.
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGTERM');
    };
    const child = execFile(
      r.shell ?? DEFAULT_SHELL,
      args,
      { encoding: 'utf8', maxBuffer: r.maxBytes ?? 512 * 1024 * 1024, env: r.env },
      (err, stdout, stderr) => {
        r.signal?.removeEventListener('abort', onAbort);
        lines.end();
        if (cancelled) return reject(new Error('the capture was cancelled'));
        const code = err ? (err as { code?: unknown }).code : 0;
        const signal = err ? (err as { signal?: unknown }).signal : undefined;
        if (typeof signal === 'string' && signal !== '') return reject(new Error(`the collector was stopped by ${signal}`));
        if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new Error(`the bundle is larger than ${r.maxBytes ?? 512 * 1024 * 1024} bytes; capture fewer namespaces (--ns) or write to a file (-o)`));
        if (err && typeof code !== 'number') return reject(new Error(`${args[0]} could not run: ${err.message}`));
        resolve({ exitCode: code as number, bundle: o.output === undefined || o.output === '-' ? stdout : undefined, stderr });
      },
    );
    child.stderr?.on('data', (d: Buffer | string) => lines.push(String(d)));
    if (r.signal?.aborted) onAbort();
    else r.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs the collector with this process's stdout and stderr (the CLI: the bundle and the progress
 * go straight to the terminal). Returns the exit status.
 */
export function collectLocalSync(o: CollectOptions, r: Pick<LocalRunOptions, 'scriptPath' | 'shell' | 'env'> = {}): number {
  const args = [r.scriptPath ?? collectorScriptPath(), ...collectorArgs(o)];
  try {
    execFileSync(r.shell ?? DEFAULT_SHELL, args, { stdio: ['ignore', 'inherit', 'inherit'], env: r.env, maxBuffer: 1024 * 1024 * 1024 });
    return 0;
  } catch (e) {
    const status = (e as { status?: unknown }).status;
    if (typeof status === 'number') return status;
    throw new Error(`${r.shell ?? DEFAULT_SHELL} could not run the collector: ${(e as Error).message}`);
  }
}

/** A fresh private folder (mode 700) for a capture's bundle. */
export function makeCaptureDir(base: string = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(base, 'meshtrace-capture-'));
}

/** A program and its arguments for a terminal (VS Code's `createTerminal({ shellPath, shellArgs })`). */
export interface TerminalCommand {
  shellPath: string;
  shellArgs: string[];
  /** The bundle the run writes; load it when the terminal's process exits with status 0. */
  output: string;
}

/**
 * "Capture This Machine": the collector run with sudo (sudo asks for the password in the terminal)
 * that writes `o.output`. The terminal runs the program directly, so no shell parses any of it.
 */
export function captureThisMachineCommand(
  o: CollectOptions & { output: string },
  env: { isRoot?: boolean; scriptPath?: string; sudo?: string; shell?: string } = {},
): TerminalCommand {
  const isRoot = env.isRoot ?? (typeof process.getuid === 'function' && process.getuid() === 0);
  const script = env.scriptPath ?? collectorScriptPath();
  const run = [env.shell ?? DEFAULT_SHELL, script, ...collectorArgs(o)];
  if (isRoot) return { shellPath: run[0], shellArgs: run.slice(1), output: o.output };
  return { shellPath: env.sudo ?? 'sudo', shellArgs: run, output: o.output };
}

/** Section and note counts of a bundle, for a one-line summary after a capture. */
export function bundleStats(text: string): { sections: number; notes: number; namespaces: string[]; nodes: string[] } {
  let sections = 0;
  let notes = 0;
  const ns = new Set<string>();
  const nodes = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^### meshtrace\s+node=(\S*)\s+ns=(\S+)\s+cmd=(.*)$/.exec(lines[i]);
    if (!m) continue;
    if (m[3].trim() === 'meshtrace-collect note') {
      // The bundle's own preamble is a note section too; it is not a problem worth counting.
      if (!/^# meshtrace: bundle written by /.test(lines[i + 1] ?? '')) notes++;
    } else {
      sections++;
      ns.add(`${m[1]}/${m[2]}`);
    }
    nodes.add(m[1]);
  }
  return { sections, notes, namespaces: [...ns], nodes: [...nodes] };
}
