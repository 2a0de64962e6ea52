/**
 * Helpers for the kernel test tier: network namespaces that this test run creates (named
 * `mt-<random>-<suffix>`), commands run inside them with execFile (argument arrays, never a shell
 * string), and `iptables-restore` fed on stdin. Every namespace a Lab creates is deleted by
 * `dispose()`, and as a last resort when the process exits.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Output of one finished command. */
export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Kill the command after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

/**
 * Runs a program with an argument array and resolves with its output; rejects with the command
 * line, exit status and stderr when it fails.
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: opts.timeoutMs ?? 30_000 },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as { code?: unknown }).code;
          reject(new Error(`${[file, ...args].join(' ')} failed (${String(code ?? err.message)}): ${stderr.trim()}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    // stdin errors (EPIPE when the program exits early) surface through the exit status instead.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** Whether a program is on PATH (looked up without a shell). */
export function hasCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      execFileSync('test', ['-x', `${dir}/${name}`]);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

let netnsUsable: boolean | undefined;

/**
 * Why the kernel tier cannot run here (not root, no `ip`, no `ip netns`, a missing tool), or
 * undefined when it can.
 */
export function labUnavailableReason(tools: readonly string[] = []): string | undefined {
  if (process.platform !== 'linux') return `kernel tests need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'kernel tests need root (network namespaces)';
  if (!hasCommand('ip')) return 'kernel tests need `ip` (apt-get install -y iproute2)';
  if (netnsUsable === undefined) {
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
      netnsUsable = true;
    } catch {
      netnsUsable = false;
    }
  }
  if (!netnsUsable) return '`ip netns` does not work here';
  for (const t of tools) {
    if (!hasCommand(t)) return `kernel tests need \`${t}\` (apt-get install -y iptables iproute2)`;
  }
  return undefined;
}

/**
 * Skips the current test or suite with a printed reason when the lab cannot run. In CI
 * (`CI=true`) the kernel tier must run, so there a missing lab is a failure instead.
 */
export function requireLab(ctx: Mocha.Context, tools: readonly string[] = []): void {
  const reason = labUnavailableReason(tools);
  if (reason === undefined) return;
  if (process.env.CI === 'true') throw new Error(`kernel tier cannot run in CI: ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

const liveNamespaces = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a run is aborted between `before` and `after`: delete what is left.
  process.on('exit', () => {
    for (const ns of liveNamespaces) {
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });
}

/** A set of namespaces created by one test suite; `dispose()` deletes every one of them. */
export class Lab {
  /** The random part of this lab's namespace names. */
  readonly id = randomBytes(4).toString('hex');
  private readonly namespaces: string[] = [];

  /** The full name of this lab's namespace `suffix` (`mt-<id>-<suffix>`). */
  nsName(suffix: string): string {
    if (!/^[a-z0-9-]{1,20}$/.test(suffix)) throw new Error(`bad namespace suffix ${JSON.stringify(suffix)}`);
    return `mt-${this.id}-${suffix}`;
  }

  /**
   * Creates namespace `mt-<id>-<suffix>` with loopback up, no IPv6 DAD (so address flags do not
   * change between two dumps) and no ICMP rate limit. Returns its name.
   */
  async addNamespace(suffix: string): Promise<string> {
    const ns = this.nsName(suffix);
    installExitHook();
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    liveNamespaces.add(ns);
    await this.ip(ns, 'link', 'set', 'lo', 'up');
    await this.exec(ns, 'sysctl', [
      '-q',
      '-w',
      'net.ipv4.icmp_ratelimit=0',
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
    ]);
    return ns;
  }

  /** Deletes one namespace of this lab. */
  async deleteNamespace(ns: string): Promise<void> {
    const i = this.namespaces.indexOf(ns);
    if (i < 0) throw new Error(`namespace ${ns} does not belong to this lab`);
    this.namespaces.splice(i, 1);
    liveNamespaces.delete(ns);
    await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
  }

  /** Runs a program inside one of this lab's namespaces (`ip netns exec NS file args…`). */
  exec(ns: string, file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    this.check(ns);
    return run('ip', ['netns', 'exec', ns, file, ...args], opts);
  }

  /** `ip -n NS args…`, returning stdout. */
  async ip(ns: string, ...args: string[]): Promise<string> {
    this.check(ns);
    return (await run('ip', ['-n', ns, ...args])).stdout;
  }

  /** Loads a ruleset with the real `iptables-restore` (text on stdin; `-c` keeps its counters). */
  async iptablesRestore(ns: string, text: string, opts: { counters?: boolean; test?: boolean } = {}): Promise<ExecResult> {
    const args = [...(opts.counters ? ['-c'] : []), ...(opts.test ? ['--test'] : [])];
    return this.exec(ns, 'iptables-restore', args, { input: text });
  }

  /** Deletes every namespace this lab created (errors ignored: the name may already be gone). */
  async dispose(): Promise<void> {
    const all = this.namespaces.splice(0);
    await Promise.all(
      all.map(async (ns) => {
        liveNamespaces.delete(ns);
        await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
      }),
    );
  }

  private check(ns: string): void {
    if (!this.namespaces.includes(ns)) throw new Error(`namespace ${ns} does not belong to this lab`);
  }
}

/** Polls `probe` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
