/**
 * A fake node for running the real collector script without root: a private PATH whose `ip`,
 * `bridge`, `iptables-save`, `nft`, `sysctl`, `nsenter` and `docker` replay the dumps of a corpus
 * lab capture (captures/docker20-swarm-lab: a real single-node swarm), namespace by namespace,
 * and a fake /var/run/docker/netns and /var/run/netns. Everything else on PATH is either the
 * machine's coreutils or busybox applets, so the script is tested with both tool sets.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CORPUS } from '../helpers';

/** The swarm lab the fake node replays. */
export const SWARM = path.join(CORPUS, 'captures/docker20-swarm-lab/swarmlab');
/** Its namespaces other than `host` (dockerd's netns files). */
export const SWARM_NAMESPACES = fs
  .readdirSync(SWARM, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'host')
  .map((e) => e.name)
  .sort();

/** Where a program is on this machine (looked up without a shell), or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Skips the current test or suite when a program is missing, with a printed reason; in CI
 * (`CI=true`) a missing program is a failure instead, so CI must install it.
 */
export function requirePrograms(ctx: Mocha.Context, names: readonly string[]): void {
  const missing = names.filter((n) => !which(n));
  if (missing.length === 0) return;
  const reason = `needs ${missing.join(', ')} (apt-get install -y ${missing.join(' ')})`;
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/** Utilities the script uses besides the network tools. */
const BASICS = ['awk', 'sed', 'grep', 'od', 'tr', 'ls', 'cat', 'head', 'tail', 'wc', 'mktemp', 'date', 'timeout', 'mv', 'rm', 'mkdir', 'chown', 'true'];

const FAKE_IP = `#!/bin/sh
# Reads stdin like a careless tool would: if the collector let it, the rest of a script fed
# through \`sh -s\` would be eaten and later sections would be missing.
cat >/dev/null
d=$FAKE_DATA/\${MT_NS:-host}
case "$*" in
'-d addr') f=ip-addr.txt ;;
'-j -d addr') f=ip-addr.json ;;
'route show table all') f=ip-route.txt ;;
rule) f=ip-rule.txt ;;
neigh) f=ip-neigh.txt ;;
*) echo "fake ip: unexpected arguments: $*" >&2; exit 1 ;;
esac
[ -f "$d/$f" ] && cat "$d/$f"
exit 0
`;

const FAKE_BRIDGE = `#!/bin/sh
[ "$*" = 'fdb show' ] || { echo "fake bridge: unexpected arguments: $*" >&2; exit 1; }
d=$FAKE_DATA/\${MT_NS:-host}
[ -f "$d/bridge-fdb.txt" ] && cat "$d/bridge-fdb.txt"
exit 0
`;

const FAKE_IPTABLES_SAVE = `#!/bin/sh
[ "$*" = '-c' ] || { echo "fake iptables-save: unexpected arguments: $*" >&2; exit 1; }
if [ "\${MT_NS-}" = blue ]; then
  echo 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)' >&2
  exit 4
fi
d=$FAKE_DATA/\${MT_NS:-host}
[ -f "$d/iptables-save.txt" ] && cat "$d/iptables-save.txt"
exit 0
`;

const FAKE_IPTABLES = `#!/bin/sh
[ "$*" = '-V' ] && { echo 'iptables v1.8.9 (nf_tables)'; exit 0; }
echo "fake iptables: unexpected arguments: $*" >&2
exit 1
`;

const FAKE_NFT = `#!/bin/sh
[ "$*" = 'list ruleset' ] || { echo "fake nft: unexpected arguments: $*" >&2; exit 1; }
d=$FAKE_DATA/\${MT_NS:-host}
if [ -s "$d/nft.txt" ]; then
  cat "$d/nft.txt"
  echo '# Warning: table ip nat is managed by iptables-nft, do not touch!' >&2
fi
exit 0
`;

const FAKE_SYSCTL = `#!/bin/sh
[ "$*" = '-a' ] || { echo "fake sysctl: unexpected arguments: $*" >&2; exit 1; }
echo 'kernel.hostname = vm'
d=$FAKE_DATA/\${MT_NS:-host}
[ -f "$d/sysctl.txt" ] && cat "$d/sysctl.txt"
echo 'sysctl: permission denied on key "net.ipv4.route.flush"' >&2
exit 0
`;

const FAKE_IPVSADM = `#!/bin/sh
d=$FAKE_DATA/\${MT_NS:-host}
case "$*" in
-Ln | '-S -n') [ -f "$d/ipvsadm.txt" ] && cat "$d/ipvsadm.txt"; exit 0 ;;
esac
echo "fake ipvsadm: unexpected arguments: $*" >&2
exit 1
`;

const FAKE_NSENTER = `#!/bin/sh
case $1 in
--net=*) p=\${1#--net=} ;;
*) echo "fake nsenter: unexpected arguments: $*" >&2; exit 1 ;;
esac
shift
[ "$1" = -- ] && shift
if [ ! -e "$p" ] || grep -q gone "$p"; then
  echo "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument" >&2
  exit 1
fi
MT_NS=\${p##*/} exec "$@"
`;

const FAKE_DOCKER = `#!/bin/sh
s=$FAKE_DATA/docker
if [ -n "\${FAKE_DOCKER_DOWN-}" ]; then
  echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2
  exit 1
fi
case "$*" in
'version --format {{.Server.Version}}') echo 20.10.24+dfsg1 ;;
'network ls -q') printf '%s\\n' 3zz1huq8tvaa b1n3tv7414aa 7caff33689a7 ;;
'network inspect -v 3zz1huq8tvaa b1n3tv7414aa 7caff33689a7') cat "$s/network-inspect.json" ;;
'service ls -q')
  if [ -n "\${FAKE_WORKER-}" ]; then echo 'Error response from daemon: This node is not a swarm manager. Worker nodes can'"'"'t be used to view or modify cluster state.' >&2; exit 1; fi
  printf '%s\\n' svcweb svcapi svcdb ;;
'service inspect svcweb svcapi svcdb') cat "$s/service-inspect.json" ;;
'node ls --format {{json .}}')
  if [ -n "\${FAKE_WORKER-}" ]; then echo 'Error response from daemon: This node is not a swarm manager.' >&2; exit 1; fi
  cat "$s/node-ls.json" ;;
'ps -q') printf '%s\\n' c1 c2 c3 c4 c5 ;;
'inspect c1 c2 c3 c4 c5') cat "$s/containers-inspect.json" ;;
*) echo "fake docker: unexpected arguments: $*" >&2; exit 1 ;;
esac
`;

const FAKE_ID = `#!/bin/sh
[ "$*" = -u ] && { echo 0; exit 0; }
exec /usr/bin/id "$@"
`;

const FAKE_UNAME = `#!/bin/sh
[ "$*" = -n ] && { echo vm; exit 0; }
echo Linux
`;

/** A fake node on disk. */
export interface FakeNode {
  root: string;
  /** PATH with the fakes and coreutils. */
  path: string;
  /** PATH with the fakes and busybox applets (when busybox is installed). */
  busyboxPath?: string;
  dockerNetnsDir: string;
  /** Environment for the script (FAKE_DATA, PATH). */
  env(extra?: Record<string, string>, busybox?: boolean): NodeJS.ProcessEnv;
  /** Deletes it. */
  dispose(): void;
}

function writeExe(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o755 });
}

/**
 * Builds the fake node: the swarm lab's namespaces in a fake Docker netns folder (with Docker's
 * `default` bind of the host namespace), and under a fake /var/run/netns: `blue` (the netns-lab
 * client, whose iptables-save fails), `dup` (a second name of ingress_sbox), `gone` (a namespace
 * that cannot be entered) and `weird name!`.
 */
export function makeFakeNode(): FakeNode {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-fake-node-'));
  const bin = path.join(root, 'bin');
  const basics = path.join(root, 'basics');
  const bbBasics = path.join(root, 'bb-basics');
  const data = path.join(root, 'data');
  const dockerNetnsDir = path.join(root, 'run/docker/netns');
  for (const d of [bin, basics, bbBasics, data, dockerNetnsDir, path.join(data, 'docker')]) fs.mkdirSync(d, { recursive: true });

  writeExe(path.join(bin, 'ip'), FAKE_IP);
  writeExe(path.join(bin, 'bridge'), FAKE_BRIDGE);
  writeExe(path.join(bin, 'iptables-save'), FAKE_IPTABLES_SAVE);
  writeExe(path.join(bin, 'iptables'), FAKE_IPTABLES);
  writeExe(path.join(bin, 'nft'), FAKE_NFT);
  writeExe(path.join(bin, 'sysctl'), FAKE_SYSCTL);
  writeExe(path.join(bin, 'ipvsadm'), FAKE_IPVSADM);
  writeExe(path.join(bin, 'nsenter'), FAKE_NSENTER);
  writeExe(path.join(bin, 'docker'), FAKE_DOCKER);
  writeExe(path.join(bin, 'id'), FAKE_ID);
  writeExe(path.join(bin, 'uname'), FAKE_UNAME);
  for (const b of BASICS) {
    const real = which(b);
    if (real) fs.symlinkSync(real, path.join(basics, b));
  }
  const busybox = which('busybox');
  if (busybox) for (const b of BASICS) fs.symlinkSync(busybox, path.join(bbBasics, b));

  // Per-namespace dumps, and the node-level Docker JSON.
  const copyNs = (from: string, to: string): void => {
    fs.mkdirSync(path.join(data, to), { recursive: true });
    for (const f of fs.readdirSync(from)) if (fs.statSync(path.join(from, f)).isFile()) fs.copyFileSync(path.join(from, f), path.join(data, to, f));
  };
  copyNs(path.join(SWARM, 'host'), 'host');
  for (const ns of SWARM_NAMESPACES) {
    copyNs(path.join(SWARM, ns), ns);
    fs.writeFileSync(path.join(dockerNetnsDir, ns), '');
  }
  copyNs(path.join(CORPUS, 'captures/netns-lab/vm/client'), 'blue');
  for (const f of ['network-inspect.json', 'service-inspect.json', 'node-ls.json', 'containers-inspect.json']) {
    fs.copyFileSync(path.join(SWARM, f), path.join(data, 'docker', f));
  }
  fs.symlinkSync('/proc/self/ns/net', path.join(dockerNetnsDir, 'default'));

  const netnsDir = path.join(root, 'run/netns');
  fs.mkdirSync(netnsDir, { recursive: true });
  fs.writeFileSync(path.join(netnsDir, 'blue'), '');
  fs.linkSync(path.join(dockerNetnsDir, 'ingress_sbox'), path.join(netnsDir, 'dup'));
  fs.writeFileSync(path.join(netnsDir, 'gone'), 'gone\n');
  fs.writeFileSync(path.join(netnsDir, 'weird name!'), '');

  const env = (extra: Record<string, string> = {}, bb = false): NodeJS.ProcessEnv => ({
    PATH: `${bin}:${bb ? bbBasics : basics}`,
    FAKE_DATA: data,
    LC_ALL: 'C',
    ...extra,
  });
  return {
    root,
    path: `${bin}:${basics}`,
    busyboxPath: busybox ? `${bin}:${bbBasics}` : undefined,
    dockerNetnsDir,
    env,
    dispose: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** The fake /var/run/netns of a fake node (the script is pointed at it with --netns-dir). */
export function fakeNetnsDir(n: FakeNode): string {
  return path.join(n.root, 'run/netns');
}

/** Runs a program and returns stdout, stderr and the exit status (never throws on a status). */
export function runProgram(file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): { stdout: string; stderr: string; status: number } {
  // Looked up on this process's PATH: the child's own PATH is the fake node's.
  const r = spawnSync(path.isAbsolute(file) ? file : which(file) ?? file, args, { env: opts.env, input: opts.input ?? '', cwd: opts.cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? 128 };
}
