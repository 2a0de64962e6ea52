/**
 * unit: remote capture over ssh (src/node/sshCapture.ts), with a fake `ssh` program: host names
 * from ssh configs, the argument arrays, options travelling on stdin, several nodes at once with
 * progress, failures in ssh's and sudo's words, cancel and time-out, and the combined capture; and
 * the real collector through the fake ssh against the fake node.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  captureRemoteNodes,
  combineBundles,
  describeFailure,
  isUsableHost,
  parseSshConfigHosts,
  readSshConfigHosts,
  remoteScript,
  shQuote,
  sshArgv,
  type HostProgress,
  type HostResult,
  type SpawnLike,
} from '../../../src/node/sshCapture';
import { CollectOptionError } from '../../../src/node/collect';
import { parseBundle } from '../../../src/core/parsers/parseBundle';
import { buildModel } from '../../../src/core/model/buildModel';
import { fakeNetnsDir, makeFakeNode, requirePrograms, runProgram, which } from './fakeNode';

describe('unit: ssh config hosts', () => {
  const check = (text: string, hosts: string[], includes: string[] = []): void => assert.deepEqual(parseSshConfigHosts(text), { hosts, includes }, text);

  it('takes the plain names of Host lines, in order, once each', () => {
    check('Host swarm-1 swarm-2\n  HostName 192.0.2.11\n  User admin\nHost swarm-3\n', ['swarm-1', 'swarm-2', 'swarm-3']);
    check('host=a\nHOST = b\n\tHost\tc d # the rest is a comment\nHost a\n', ['a', 'b', 'c', 'd']);
    check('Host "quoted-name" other\n', ['quoted-name', 'other']);
  });

  it('leaves out patterns, negations, Match blocks and comments', () => {
    check('Host *\n  ServerAliveInterval 30\nHost *.internal web-? !bastion db\nMatch host foo exec "true"\n# Host commented\n', ['db']);
    check('Host -oProxyCommand=evil\nHost "two words"\n', []);
  });

  it('collects Include arguments', () => {
    check('Include conf.d/*.conf ~/.ssh/extra\nHost x\n', ['x'], ['conf.d/*.conf', '~/.ssh/extra']);
  });

  it('follows Include under ~/.ssh, with wildcards in lexical order, never looping', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-ssh-home-'));
    try {
      const ssh = path.join(home, '.ssh');
      fs.mkdirSync(path.join(ssh, 'conf.d'), { recursive: true });
      fs.writeFileSync(path.join(ssh, 'config'), 'Host first\nInclude conf.d/*.conf\nInclude ~/.ssh/config\nHost last\n');
      fs.writeFileSync(path.join(ssh, 'conf.d', 'b.conf'), 'Host b-node\n');
      fs.writeFileSync(path.join(ssh, 'conf.d', 'a.conf'), 'Host a-node first\nInclude /nonexistent/file\n');
      fs.writeFileSync(path.join(ssh, 'conf.d', 'skip.txt'), 'Host not-included\n');
      assert.deepEqual(readSshConfigHosts(path.join(ssh, 'config'), home), ['first', 'a-node', 'b-node', 'last']);
      assert.deepEqual(readSshConfigHosts(path.join(ssh, 'missing'), home), []);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('unit: ssh argument arrays and the script on stdin', () => {
  it('runs `ssh … -- HOST sudo -n sh -s` with fixed words only', () => {
    assert.deepEqual(sshArgv('swarm-1'), { file: 'ssh', args: ['-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '--', 'swarm-1', 'sudo', '-n', 'sh', '-s'] });
    assert.deepEqual(sshArgv('root@192.0.2.11', { sudo: false, batchMode: false, connectTimeoutSeconds: 5, extra: ['-o', 'ProxyJump=bastion'], ssh: '/usr/bin/ssh' }), {
      file: '/usr/bin/ssh',
      args: ['-T', '-o', 'ConnectTimeout=5', '-o', 'ProxyJump=bastion', '--', 'root@192.0.2.11', 'sh', '-s'],
    });
  });

  it('refuses host names ssh would read as options or a shell would split', () => {
    for (const h of ['-oProxyCommand=x', 'a b', '', 'h;rm -rf /', 'h$(id)', 'x\ny']) {
      assert.equal(isUsableHost(h), false, h);
      assert.throws(() => sshArgv(h), CollectOptionError);
    }
    for (const h of ['swarm-1', 'admin@swarm-1.example.com', '192.0.2.1', '[2001:db8::1]', 'node_2']) assert.equal(isUsableHost(h), true, h);
  });

  it('passes any argument through `set --` on stdin exactly', function () {
    requirePrograms(this, ['dash']);
    const args = ['plain', 'two words', "it's", '$(id)', '`uname`', 'back\\slash', '*', '', 'new\nline', '--ns'];
    const script = remoteScript('for a in "$@"; do printf "[%s]\\n" "$a"; done', args);
    const r = runProgram('dash', ['-s'], { input: script });
    assert.equal(r.stdout, args.map((a) => `[${a}]\n`).join(''));
    assert.equal(shQuote("a'b"), `'a'\\''b'`);
  });

  it('words failures the way a person can act on', () => {
    assert.match(describeFailure('h', 255, 'ssh: connect to host h port 22: Connection refused\n'), /^h: ssh could not connect: ssh: connect to host h port 22: Connection refused$/);
    assert.match(describeFailure('h', 1, 'sudo: a password is required\n'), /^h: sudo wants a password/);
    assert.equal(describeFailure('h', 2, 'meshtrace-collect: [1/2] host\nmeshtrace-collect: cannot write x\n'), 'h: the collector failed (exit 2): meshtrace-collect: cannot write x');
  });
});

/** A fake ssh: options up to `--`, the host, the remote command; then `sh -s` locally. */
const FAKE_SSH = `#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in
  --) shift; break ;;
  -o) shift 2 ;;
  *) shift ;;
  esac
done
host=$1; shift
printf '%s|%s\\n' "$host" "$*" >>"$FAKE_SSH_LOG"
case $host in
down) echo "ssh: connect to host down port 22: Connection refused" >&2; exit 255 ;;
pw) cat >/dev/null; echo "sudo: a password is required" >&2; exit 1 ;;
slow*) exec sleep 30 ;;
esac
[ "$*" = 'sudo -n sh -s' ] || { echo "fake ssh: unexpected remote command $*" >&2; exit 99; }
MT_HOST=$host exec "$FAKE_SH" -s
`;

/** Stands in for the collector: reports progress, and prints its arguments as notes. */
const STUB = `case $MT_HOST in clone-*) n=ubuntu ;; *) n=$MT_HOST ;; esac
echo "meshtrace-collect: node $n: 1 namespaces" >&2
echo "meshtrace-collect: [1/1] host" >&2
printf '### meshtrace node=%s ns=host cmd=meshtrace-collect note\\n' "$n"
for a in "$@"; do printf '# meshtrace: arg %s\\n' "$a"; done
printf '### meshtrace node=%s ns=host cmd=ip rule\\n0:\\tfrom all lookup local\\n' "$n"
echo "meshtrace-collect: done" >&2
`;

describe('unit: capture of remote nodes over (a fake) ssh', function () {
  let dir: string;
  let ssh: string;
  let log: string;
  let withEnv: (env: Record<string, string>) => SpawnLike;
  before(function () {
    requirePrograms(this, ['dash']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-fake-ssh-'));
    ssh = path.join(dir, 'ssh');
    log = path.join(dir, 'log');
    fs.writeFileSync(ssh, FAKE_SSH, { mode: 0o755 });
    withEnv = (env) => ((file: string, args: readonly string[], opts: object) => spawn(file, args, { ...opts, env: { ...process.env, FAKE_SSH_LOG: log, FAKE_SH: which('dash') as string, ...env } })) as SpawnLike;
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => fs.writeFileSync(log, ''));

  it('captures several nodes at once, with progress, and words each failure', async () => {
    const events: HostProgress[] = [];
    const { results, redactKey } = await captureRemoteNodes(['n1', 'down', 'pw', 'clone-a', 'clone-b', 'n1'], {
      ssh: { ssh },
      script: STUB,
      collect: { redact: true, namespaces: ['host'] },
      concurrency: 2,
      spawn: withEnv({}),
      onProgress: (p) => events.push(p),
    });
    assert.deepEqual(results.map((r) => [r.host, r.ok]), [['n1', true], ['down', false], ['pw', false], ['clone-a', true], ['clone-b', true]]);
    assert.match(results[1].error ?? '', /^down: ssh could not connect: ssh: connect to host down port 22: Connection refused$/);
    assert.match(results[2].error ?? '', /^pw: sudo wants a password/);
    // Each host ran `sudo -n sh -s` once, with the options on stdin, the same key for all.
    assert.deepEqual(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).sort(), ['clone-a|sudo -n sh -s', 'clone-b|sudo -n sh -s', 'down|sudo -n sh -s', 'n1|sudo -n sh -s', 'pw|sudo -n sh -s']);
    assert.match(redactKey ?? '', /^[0-9a-f]{64}$/);
    for (const r of results.filter((x) => x.ok)) assert.ok(r.bundle?.includes(`# meshtrace: arg --ns\n# meshtrace: arg host\n# meshtrace: arg --redact-key\n# meshtrace: arg ${redactKey}\n`), r.bundle);
    // Progress: never more than two running, namespaces reported, everything done at the end.
    let running = 0;
    let most = 0;
    for (const e of events) {
      if (e.state === 'connecting') most = Math.max(most, ++running);
      if (e.state === 'done' || e.state === 'failed') running--;
    }
    assert.equal(most, 2);
    assert.ok(events.some((e) => e.host === 'n1' && e.state === 'capturing' && e.detail === 'namespace 1/1 host'));
    assert.equal(events.at(-1)?.overall, 1);
    assert.ok(events.every((e, i) => i === 0 || e.overall >= events[i - 1].overall));

    const c = combineBundles(results);
    assert.deepEqual(c.nodes, [
      { host: 'n1', node: 'n1' },
      { host: 'clone-a', node: 'ubuntu' },
      { host: 'clone-b', node: 'ubuntu@clone-b' },
    ]);
    assert.deepEqual(c.failed.map((f) => f.host), ['down', 'pw']);
    const files = parseBundle(c.text, 'capture.txt');
    assert.deepEqual(files.problems, []);
    assert.deepEqual([...new Set(files.value.map((f) => f.node))], ['n1', 'down', 'pw', 'ubuntu', 'ubuntu@clone-b']);
    const m = buildModel(files.value);
    assert.deepEqual(m.nodes.map((n) => n.name), ['n1', 'ubuntu', 'ubuntu@clone-b']);
    assert.ok(c.text.includes('### meshtrace node=down ns=host cmd=meshtrace-collect note\n# meshtrace: down: ssh could not connect'));
  });

  it('stops every run on cancel, and marks the ones not started', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = captureRemoteNodes(['slow-1', 'slow-2', 'slow-3'], {
      ssh: { ssh },
      script: STUB,
      concurrency: 2,
      spawn: withEnv({}),
      signal: ac.signal,
      onProgress: (e) => e.state === 'connecting' && e.host === 'slow-2' && setTimeout(() => ac.abort(), 50),
    });
    const { results } = await p;
    assert.ok(Date.now() - started < 10_000, 'cancelled promptly');
    assert.deepEqual(results.map((r) => [r.host, r.ok, r.cancelled]), [['slow-1', false, true], ['slow-2', false, true], ['slow-3', false, true]]);
  });

  it('gives up on a node that does not answer in time', async () => {
    const { results } = await captureRemoteNodes(['slow-x', 'n2'], { ssh: { ssh }, script: STUB, spawn: withEnv({}), timeoutSeconds: 1 });
    assert.equal(results[0].error, 'slow-x: no answer after 1 s; stopped');
    assert.equal(results[1].ok, true);
  });

  it('refuses options that would write files on the remote nodes, and bad host names', async () => {
    await assert.rejects(captureRemoteNodes(['n1'], { collect: { output: '/tmp/x' }, script: STUB }), /no output file/);
    await assert.rejects(captureRemoteNodes(['n1'], { collect: { redact: true, redactMap: '/tmp/m' }, script: STUB }), /redact-map/);
    await assert.rejects(captureRemoteNodes(['-oProxyCommand=x'], { script: STUB }), CollectOptionError);
  });

  it('runs the real collector over it, and the combined capture loads with consistent redaction', async function () {
    const node = makeFakeNode();
    try {
      const env = node.env();
      const { results } = await captureRemoteNodes(['h1', 'h2'], {
        ssh: { ssh },
        collect: { redact: true, dockerNetnsDir: node.dockerNetnsDir, netnsDir: fakeNetnsDir(node), namespaces: ['host', 'ingress_sbox', '257c28285747'] },
        spawn: withEnv({ PATH: env.PATH as string, FAKE_DATA: env.FAKE_DATA as string }),
      });
      assert.ok(results.every((r: HostResult) => r.ok), results.map((r) => r.error ?? '').join('\n'));
      const c = combineBundles(results);
      const m = buildModel(parseBundle(c.text, 'capture.txt').value);
      assert.deepEqual(m.problems.filter((p) => p.severity !== 'info'), []);
      assert.equal(m.nodes.length, 2);
      const [a, b] = m.nodes.map((n) => n.name);
      assert.match(a, /^node-[0-9a-f]{10}$/);
      assert.equal(b, `${a}@h2`);
      // Same machine data, same key: the same replacements on both nodes.
      const addrs = (node: string): string[] => m.interfaces.filter((i) => i.namespaceId.startsWith(`${node}/`)).flatMap((i) => i.addrs.map((x) => `${i.namespaceId.split('/')[1]} ${i.name} ${x.local}`));
      assert.deepEqual(addrs(b), addrs(a));
      assert.ok(addrs(a).some((s) => /^host eth1 /.test(s) && !s.endsWith(' 198.51.100.10')));
    } finally {
      node.dispose();
    }
  });
});
