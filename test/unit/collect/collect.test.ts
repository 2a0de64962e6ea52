/**
 * unit: src/node/collect.ts and `meshtrace collect` (src/cli/collect.ts): options to arguments,
 * progress lines, the local run through execFile (against the fake node), the terminal command of
 * "Capture This Machine", and the CLI's parsing and printing.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  bundleStats,
  captureThisMachineCommand,
  collectLocal,
  collectorArgs,
  collectorScriptPath,
  CollectOptionError,
  makeCaptureDir,
  parseProgressLine,
  readCollectorScript,
  type CollectOptions,
  type CollectProgress,
} from '../../../src/node/collect';
import { runCollect, type CollectDeps } from '../../../src/cli/collect';
import { main } from '../../../src/cli/main';
import { fakeNetnsDir, makeFakeNode, requirePrograms, which, type FakeNode } from './fakeNode';

const SCRIPT = path.resolve(__dirname, '../../../collector/meshtrace-collect.sh');

describe('unit: collect (src/node/collect.ts)', () => {
  it('finds the collector script in a checkout and beside dist/', () => {
    assert.equal(collectorScriptPath(), SCRIPT);
    assert.equal(collectorScriptPath(path.resolve(__dirname, '../../../dist')), SCRIPT);
    assert.match(readCollectorScript(), /^#!\/bin\/sh\n/);
    assert.throws(() => collectorScriptPath('/'), /meshtrace-collect\.sh is missing/);
  });

  const args = (o: CollectOptions, want: string[]): void => assert.deepEqual(collectorArgs(o), want, JSON.stringify(o));
  const refuses = (o: CollectOptions, why: RegExp): void => assert.throws(() => collectorArgs(o), (e: Error) => e instanceof CollectOptionError && why.test(e.message));

  it('turns options into the script’s arguments, one array element each', () => {
    args({}, []);
    args({ output: '/tmp/a b.txt', namespaces: ['host', 'lb_*'], node: 'swarm-1' }, ['-o', '/tmp/a b.txt', '--ns', 'host', '--ns', 'lb_*', '--node', 'swarm-1']);
    args({ redact: true }, ['--redact']);
    args({ redact: true, redactKey: 'ab'.repeat(16), redactMap: '/tmp/map' }, ['--redact-key', 'ab'.repeat(16), '--redact-map', '/tmp/map']);
    args({ dockerCli: '/usr/bin/docker', dockerNetnsDir: '/run/docker/netns', netnsDir: '/run/netns', noDocker: true, timeoutSeconds: 30, quiet: true }, [
      '--docker-cli',
      '/usr/bin/docker',
      '--docker-netns-dir',
      '/run/docker/netns',
      '--netns-dir',
      '/run/netns',
      '--no-docker',
      '--timeout',
      '30',
      '-q',
    ]);
    // Data that a shell would interpret stays one plain argument: no shell ever parses it.
    args({ namespaces: ['$(reboot)'], output: '`x`;y' }, ['-o', '`x`;y', '--ns', '$(reboot)']);
  });

  it('refuses values the script cannot take', () => {
    refuses({ namespaces: ['a,b'] }, /one name or pattern per --ns/);
    refuses({ namespaces: [''] }, /--ns must be a non-empty single line/);
    refuses({ node: 'my node' }, /--node "my node": letters/);
    refuses({ redactKey: 'abc' }, /at least 32 hex digits/);
    refuses({ redactMap: '/tmp/m' }, /--redact-map needs --redact/);
    refuses({ timeoutSeconds: 1.5 }, /whole number of seconds/);
    refuses({ output: 'a\nb' }, /single line/);
  });

  it('reads the script’s progress lines', () => {
    const cases: [string, CollectProgress | undefined][] = [
      ['meshtrace-collect: node swarm-1: 12 namespaces', { kind: 'start', node: 'swarm-1', total: 12 }],
      ['meshtrace-collect: [3/12] ingress_sbox', { kind: 'namespace', index: 3, total: 12, name: 'ingress_sbox' }],
      ['meshtrace-collect: [docker]', { kind: 'docker' }],
      ['meshtrace-collect: redacting', { kind: 'redact' }],
      ['meshtrace-collect: done', { kind: 'done' }],
      ['meshtrace-collect: done: wrote /tmp/x y.txt', { kind: 'done', output: '/tmp/x y.txt' }],
      ['meshtrace-collect: unknown option: --x', { kind: 'message', text: 'unknown option: --x' }],
      ['sudo: a password is required\r', { kind: 'message', text: 'sudo: a password is required' }],
      ['', undefined],
    ];
    for (const [line, want] of cases) assert.deepEqual(parseProgressLine(line), want, line);
  });

  it('counts sections, notes, namespaces and nodes of a bundle', () => {
    const b = [
      '### meshtrace node=n1 ns=host cmd=meshtrace-collect note',
      '# meshtrace: bundle written by meshtrace-collect 1 at 2026-11-26T00:00:00Z; …',
      '### meshtrace node=n1 ns=host cmd=ip rule',
      '0:\tfrom all lookup local',
      '### meshtrace node=n1 ns=blue cmd=ip rule',
      '### meshtrace node=n1 ns=blue cmd=meshtrace-collect note',
      '# meshtrace: `iptables-save -c` failed (exit 4)',
      '',
    ].join('\n');
    assert.deepEqual(bundleStats(b), { sections: 2, notes: 1, namespaces: ['n1/host', 'n1/blue'], nodes: ['n1'] });
  });

  it('“Capture This Machine” runs the script under sudo as a program, not a shell line', () => {
    const t = captureThisMachineCommand({ output: '/tmp/cap dir/vm.txt', redact: true }, { isRoot: false, scriptPath: '/opt/m/collector/meshtrace-collect.sh' });
    assert.deepEqual(t, { shellPath: 'sudo', shellArgs: ['/bin/sh', '/opt/m/collector/meshtrace-collect.sh', '-o', '/tmp/cap dir/vm.txt', '--redact'], output: '/tmp/cap dir/vm.txt' });
    const root = captureThisMachineCommand({ output: '/tmp/vm.txt' }, { isRoot: true, scriptPath: '/s.sh' });
    assert.deepEqual(root, { shellPath: '/bin/sh', shellArgs: ['/s.sh', '-o', '/tmp/vm.txt'], output: '/tmp/vm.txt' });
  });

  it('makes a private folder for a capture', () => {
    const d = makeCaptureDir();
    try {
      assert.equal(fs.statSync(d).mode & 0o777, 0o700);
      assert.match(path.basename(d), /^meshtrace-capture-/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  describe('collectLocal (execFile, against the fake node)', function () {
    let node: FakeNode;
    let dash: string;
    before(function () {
      requirePrograms(this, ['dash']);
      node = makeFakeNode();
      dash = which('dash') as string;
    });
    after(() => node?.dispose());
    const o = (n: FakeNode, more: CollectOptions = {}): CollectOptions => ({ dockerNetnsDir: n.dockerNetnsDir, netnsDir: fakeNetnsDir(n), ...more });

    it('returns the bundle and reports progress as it goes', async () => {
      const seen: CollectProgress[] = [];
      const r = await collectLocal(o(node, { namespaces: ['host', 'blue'] }), { shell: dash, env: node.env(), onProgress: (p) => seen.push(p) });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.bundle ?? '', /^### meshtrace node=vm ns=host cmd=meshtrace-collect note\n/);
      assert.ok((r.bundle ?? '').includes('### meshtrace node=vm ns=blue cmd=ip -d addr\n'));
      assert.deepEqual(seen, [
        { kind: 'start', node: 'vm', total: 2 },
        { kind: 'namespace', index: 1, total: 2, name: 'host' },
        { kind: 'namespace', index: 2, total: 2, name: 'blue' },
        { kind: 'docker' },
        { kind: 'done' },
      ]);
    });

    it('with an output file, writes it and returns no bundle', async () => {
      const dir = makeCaptureDir();
      try {
        const out = path.join(dir, 'vm.txt');
        const r = await collectLocal(o(node, { namespaces: ['host'], output: out, redact: true }), { shell: dash, env: node.env() });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.bundle, undefined);
        assert.match(fs.readFileSync(out, 'utf8'), /^### meshtrace node=node-[0-9a-f]{10} ns=host cmd=meshtrace-collect note\n/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('returns the exit status of a bad run, and rejects when cancelled', async () => {
      const bad = await collectLocal(o(node, { node: 'n1' }), { shell: dash, scriptPath: '/nonexistent/script.sh', env: node.env() });
      assert.equal(bad.exitCode, 2, bad.stderr);
      assert.match(bad.stderr, /nonexistent/);
      const ac = new AbortController();
      const p = collectLocal(o(node), { shell: dash, env: node.env(), signal: ac.signal, onProgress: (x) => x.kind === 'namespace' && ac.abort() });
      await assert.rejects(p, /the capture was cancelled/);
    });
  });
});

describe('unit: meshtrace collect (CLI)', () => {
  const run = (argv: string[], deps: Partial<CollectDeps> = {}): { code: number; out: string[]; err: string[]; opts: CollectOptions[] } => {
    const out: string[] = [];
    const err: string[] = [];
    const opts: CollectOptions[] = [];
    const d: CollectDeps = {
      run: (o) => (opts.push(o), 0),
      isRoot: () => true,
      readFile: () => '### meshtrace node=vm ns=host cmd=ip rule\n0:\tfrom all lookup local\n',
      script: () => '#!/bin/sh\necho hi\n',
      ...deps,
    };
    const code = runCollect(argv, (s) => out.push(s), (s) => err.push(s), d);
    return { code, out, err, opts };
  };

  it('passes its options to the collector', () => {
    const r = run(['-o', 'vm.txt', '--ns', 'host', '--ns', 'lb_*,ingress_sbox', '--redact', '--node', 'vm', '--timeout', '30', '-q']);
    assert.equal(r.code, 0);
    assert.deepEqual(r.opts, [
      { output: 'vm.txt', namespaces: ['host', 'lb_*', 'ingress_sbox'], node: 'vm', redact: true, redactKey: undefined, redactMap: undefined, noDocker: false, dockerNetnsDir: undefined, timeoutSeconds: 30, quiet: true },
    ]);
    assert.deepEqual(r.out, ['wrote vm.txt: 1 dumps of 1 namespaces, 0 notes; read it with: meshtrace load vm.txt']);
    assert.deepEqual(r.err, []);
  });

  it('without -o leaves stdout to the bundle', () => {
    const r = run(['--redact-key', 'ab'.repeat(16)]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.out, []);
    assert.equal(r.opts[0].redact, true);
    assert.equal(r.opts[0].redactKey, 'ab'.repeat(16));
  });

  it('warns when not root, and reports a failed run', () => {
    const r = run(['--ns', 'host'], { isRoot: () => false, run: () => 1 });
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, ['meshtrace collect: not running as root, so most dumps will fail (their notes say why); run it with sudo', 'meshtrace collect: the collector exited with status 1']);
  });

  it('prints the script for `| ssh NODE sudo sh -s`, and its usage', () => {
    assert.deepEqual(run(['--print-script']).out, ['#!/bin/sh\necho hi']);
    assert.match(run(['--help']).out[0], /^usage: meshtrace collect \[-o FILE\]/);
  });

  it('refuses bad usage with status 2', () => {
    assert.equal(run(['extra']).code, 2);
    assert.equal(run(['--timeout', 'soon']).code, 2);
    const out: string[] = [];
    const err: string[] = [];
    assert.equal(main(['collect', '--bogus'], (s) => out.push(s), (s) => err.push(s)), 2);
    assert.match(err[0], /^meshtrace collect: Unknown option '--bogus'/);
    assert.equal(main(['collect', '--node', 'a b', '--print-script'], () => undefined, () => undefined), 0);
    err.length = 0;
    assert.equal(main(['collect', '--node', 'a b', '--ns', 'x', '-o', os.devNull], () => undefined, (s) => err.push(s)), 2);
    assert.match(err.at(-1) ?? '', /--node "a b": letters, digits/);
  });

  it('is listed in `meshtrace help`', () => {
    const out: string[] = [];
    main(['help'], (s) => out.push(s), () => undefined);
    assert.match(out[0], /^ {2}collect \[-o FILE\] \[--ns NAME\|PATTERN\]\.\.\. \[--redact\]$/m);
  });
});
