/**
 * unit: the doctor's memos and indexes (issue 6): SpecKeys (rule keys by the identity of a spec's
 * parts), the expected-state generator's shared per-port texts and one-splice inserts, and the
 * chunked `simulate --json` writer. Each cached answer is compared with the cold computation, and
 * each distinguishing input is changed to show the answer follows it.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadModel } from '../../../src/node/loadCapture';
import { formatRuleSpec } from '../../../src/core/parsers/iptablesRule';
import type { Rule, RuleSpec, XtMatch, XtTarget } from '../../../src/core/model/netfilter';
import { readCapture } from '../../../src/node/loadCapture';
import { buildModel } from '../../../src/core/model/buildModel';
import { World } from '../../../src/core/sim/world';
import { ChainVerdicts, SpecKeys, diagnose, sameParts, specKey, textKey } from '../../../src/core/topology/findings';
import { expectedState, macOfIp, type ExpectedNamespace } from '../../../src/core/topology/expected';
import { swarmFacts, type SwarmFacts, type SwarmPort } from '../../../src/core/topology/facts';
import { simulateTopology, type TopologyResult } from '../../../src/core/topology/simulate';
import { simulateJson, writeSimulateJson } from '../../../src/cli/simulate';
import { main } from '../../../src/cli/main';

const SAMPLE = path.resolve(__dirname, '../../../samples/seed-swarm');
const model = loadModel([SAMPLE]);

const opt = (name: string, ...values: string[]): { name: string; values: string[]; invert: boolean } => ({ name, values, invert: false });
const tcp = (dport: string): XtMatch => ({ name: 'tcp', options: [opt('dport', dport)], known: true, raw: '' });
const target = (name: string, ...options: ReturnType<typeof opt>[]): XtTarget => ({ name, options, goto: false, known: true, raw: '' });

describe('unit: doctor SpecKeys', () => {
  it('gives specKey (textKey of formatRuleSpec) for every rule of the sample, cold and on a hit', () => {
    const keys = new SpecKeys();
    let n = 0;
    for (const pass of [1, 2]) {
      for (const ns of model.namespaces) {
        for (const t of ns.iptables?.tables ?? []) {
          for (const c of t.chains) {
            for (const r of c.rules) {
              const want = textKey(formatRuleSpec(r.spec));
              assert.equal(keys.of(r.spec), want, `${pass}: ${r.text}`);
              assert.equal(specKey(r.spec), want);
              n++;
            }
          }
        }
      }
    }
    assert.ok(n > 100, `${n} rules`);
  });

  it('a spec that shares parts with a cached one gets its own key when one part differs', () => {
    const keys = new SpecKeys();
    const proto = { name: 'tcp', invert: false };
    const m80 = tcp('80');
    const accept = target('ACCEPT');
    const a: RuleSpec = { proto, matches: [m80], target: accept };
    assert.equal(keys.of(a), '-p tcp -m tcp --dport 80 -j ACCEPT');
    // Another target object: the key follows it.
    const b: RuleSpec = { proto, matches: [m80], target: target('DNAT', opt('to-destination', '172.18.0.2:80')) };
    assert.equal(keys.of(b), textKey(formatRuleSpec(b)));
    assert.notEqual(keys.of(b), keys.of(a));
    // One more match, an address, no target, a fragment flag: each its own key.
    const state: XtMatch = { name: 'conntrack', options: [opt('ctstate', 'NEW')], known: true, raw: '' };
    const variants: RuleSpec[] = [
      { proto, matches: [m80, state], target: accept },
      { proto, matches: [state, m80], target: accept },
      { proto, dst: { addr: '10.0.0.5', prefixLen: 32, invert: false }, matches: [m80], target: accept },
      { proto, src: { addr: '10.0.0.5', prefixLen: 32, invert: false }, matches: [m80], target: accept },
      { proto, matches: [m80] },
      { proto, fragment: { invert: false }, matches: [m80], target: accept },
      { proto, iif: { name: 'eth0', invert: false, wildcard: false }, matches: [m80], target: accept },
      { proto, oif: { name: 'eth0', invert: false, wildcard: false }, matches: [m80], target: accept },
      { matches: [m80], target: accept },
      { proto, matches: [], target: accept },
    ];
    for (const v of variants) assert.equal(keys.of(v), textKey(formatRuleSpec(v)), formatRuleSpec(v));
    // Match order does not change the key (textKey sorts the matches).
    assert.equal(keys.of(variants[0]), keys.of(variants[1]));
    const distinct = new Set([keys.of(a), keys.of(b), ...variants.slice(1).map((v) => keys.of(v))]);
    assert.equal(distinct.size, 2 + variants.length - 1);
    // Equal text from other objects: the same key.
    assert.equal(keys.of({ proto: { name: 'tcp', invert: false }, matches: [tcp('80')], target: target('ACCEPT') }), keys.of(a));
  });
});

const port = (published: number, proto: SwarmPort['proto'] = 'tcp'): SwarmPort => ({ proto, target: 80, published, mode: 'ingress' });
const ING = 'ingressnetwork0id';

/** Two nodes a and b; `b` overrides node b's fields and `markB` its fwmark. */
function facts(b: { gwIp?: string; family?: 'legacy' | 'forward' } = {}, markB = 256, nodes = ['a', 'b']): SwarmFacts {
  const all = {
    a: { name: 'a', family: 'forward' as const, familyWhy: '', gwIp: '172.18.0.2', addr: '192.168.1.10' },
    b: { name: 'b', family: b.family ?? ('forward' as const), familyWhy: '', gwIp: b.gwIp ?? '172.18.0.2', addr: '192.168.1.11' },
  };
  return {
    nodes: nodes.map((n) => all[n as 'a' | 'b']),
    networks: [{ id: ING, name: 'ingress', ingress: true, subnet: { addr: '10.0.0.0', prefixLen: 24 }, lbMode: 'nat', lbIps: { a: '10.0.0.2', b: '10.0.0.3' }, nodes }],
    services: [
      { id: 's1', name: 'web', endpointMode: 'vip', ports: [port(8080), port(8081), port(9000, 'udp')], vips: { [ING]: '10.0.0.5' }, networks: [], marks: { a: { [ING]: 256 }, b: { [ING]: markB } } },
      { id: 's2', name: 'api', endpointMode: 'vip', ports: [port(7000)], vips: { [ING]: '10.0.0.8' }, networks: [], marks: { a: { [ING]: 257 }, b: { [ING]: 257 } } },
    ],
    tasks: [],
    gaps: [],
  };
}

function ns(f: SwarmFacts, node: string, name: string): ExpectedNamespace {
  const n = expectedState(f).find((x) => x.node === node)?.namespaces.find((x) => x.name === name);
  assert.ok(n, `${node}/${name}`);
  return n;
}

const chain = (n: ExpectedNamespace, table: string, c: string): string[] => n.rules.filter((r) => r.table === table && r.chain === c).map((r) => r.text);

describe('unit: expected state, shared per-port rules', () => {
  it('DOCKER-INGRESS holds the inserts last-first, above RETURN, as one iptables -I after another', () => {
    const h = ns(facts(), 'a', 'host');
    assert.deepEqual(chain(h, 'nat', 'DOCKER-INGRESS'), [
      '-A DOCKER-INGRESS -p tcp -m tcp --dport 7000 -j DNAT --to-destination 172.18.0.2:7000',
      '-A DOCKER-INGRESS -p udp -m udp --dport 9000 -j DNAT --to-destination 172.18.0.2:9000',
      '-A DOCKER-INGRESS -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.18.0.2:8081',
      '-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080',
      '-A DOCKER-INGRESS -j RETURN',
    ]);
    assert.deepEqual(chain(h, 'filter', 'DOCKER-INGRESS').slice(0, 3), [
      '-A DOCKER-INGRESS -p tcp -m tcp --dport 7000 -j ACCEPT',
      '-A DOCKER-INGRESS -p tcp -m tcp --sport 7000 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A DOCKER-INGRESS -p udp -m udp --dport 9000 -j ACCEPT',
    ]);
    assert.equal(chain(h, 'filter', 'DOCKER-INGRESS').length, 9);
    assert.equal(chain(h, 'filter', 'DOCKER-INGRESS')[8], '-A DOCKER-INGRESS -j RETURN');
    // The chain's rules are contiguous in ns.rules, after the chains written before them.
    const at = h.rules.findIndex((r) => r.table === 'nat' && r.chain === 'DOCKER-INGRESS');
    assert.deepEqual(h.rules.slice(at, at + 5).map((r) => r.chain), Array(5).fill('DOCKER-INGRESS'));
  });

  it('a node shares texts with the others, not rule objects, and gets what it alone would get', () => {
    const two = expectedState(facts());
    const alone = expectedState(facts({}, 256, ['b']));
    for (const name of ['host', 'ingress_sbox']) {
      const b2 = two[1].namespaces.find((x) => x.name === name) as ExpectedNamespace;
      const b1 = alone[0].namespaces.find((x) => x.name === name) as ExpectedNamespace;
      assert.deepEqual(b2.rules, b1.rules, name);
    }
    const ha = two[0].namespaces[0];
    const hb = two[1].namespaces[0];
    assert.deepEqual(ha.rules, hb.rules);
    for (let i = 0; i < ha.rules.length; i++) assert.notEqual(ha.rules[i], hb.rules[i]);
    const i = ha.rules.findIndex((r) => r.kind === 'ingress-dnat');
    ha.rules[i].text = 'changed';
    assert.notEqual(hb.rules[i].text, 'changed');
    assert.notEqual(expectedState(facts())[0].namespaces[0].rules[i].text, 'changed');
  });

  it('the memo follows the gateway, the family and the mark of each node', () => {
    const gw = facts({ gwIp: '172.18.0.9' });
    assert.match(chain(ns(gw, 'b', 'host'), 'nat', 'DOCKER-INGRESS')[0], /--to-destination 172\.18\.0\.9:7000$/);
    assert.match(chain(ns(gw, 'a', 'host'), 'nat', 'DOCKER-INGRESS')[0], /--to-destination 172\.18\.0\.2:7000$/);
    const legacy = facts({ family: 'legacy' });
    assert.equal(chain(ns(legacy, 'b', 'host'), 'filter', 'DOCKER-INGRESS')[1], '-A DOCKER-INGRESS -p tcp -m state --state RELATED,ESTABLISHED -m tcp --sport 7000 -j ACCEPT');
    assert.equal(chain(ns(legacy, 'a', 'host'), 'filter', 'DOCKER-INGRESS')[1], '-A DOCKER-INGRESS -p tcp -m tcp --sport 7000 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    const marks = facts({}, 300);
    const sboxB = ns(marks, 'b', 'ingress_sbox').rules.filter((r) => r.kind === 'sbox-mark');
    const sboxA = ns(marks, 'a', 'ingress_sbox').rules.filter((r) => r.kind === 'sbox-mark');
    assert.equal(sboxB[0].text, '-A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x12c/0xffffffff');
    assert.match(sboxB[0].why, /marked 300 \(0x12c\) so IPVS service FWM 300 of web/);
    assert.equal(sboxA[0].text, '-A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x100/0xffffffff');
    // One port object in two services: the text names each service.
    const shared = facts();
    shared.services[1].ports = [shared.services[0].ports[0]];
    const whys = ns(shared, 'a', 'ingress_sbox').rules.filter((r) => r.kind === 'sbox-mark' && r.port === shared.services[0].ports[0]).map((r) => r.why);
    assert.equal(whys.length, 2);
    assert.match(whys[0], /of web takes it/);
    assert.match(whys[1], /of api takes it/);
  });
});

describe('unit: simulate --json written in pieces', () => {
  const r = simulateTopology(model);
  const whole = JSON.stringify(simulateJson(r));

  const pieces = (x: TopologyResult, chunk?: number): string[] => {
    const out: string[] = [];
    writeSimulateJson(x, (s) => out.push(s), chunk);
    return out;
  };

  it('the pieces make exactly JSON.stringify(simulateJson(r)), whatever the piece size', () => {
    for (const chunk of [1, 100, 1 << 20]) {
      const p = pieces(r, chunk);
      assert.equal(p.join(''), whole, `chunk ${chunk}`);
      if (chunk === 1) assert.ok(p.length > r.entries.length, 'one piece per entry at least');
    }
  });

  it('entries whose keys are in another order, or lack some, are written as simulateJson has them', () => {
    const odd: TopologyResult = {
      ...r,
      entries: r.entries.map((e, i) =>
        // Object.assign keeps the first object's key order, as a spread after those keys would.
        i % 3 === 0 ? Object.assign({ query: e.query }, e) : i % 3 === 1 ? Object.assign({ node: e.node, kind: e.kind, proto: e.proto, service: e.service }, e) : { ...e, port: undefined, vip: e.vip ?? '10.9.9.9' },
      ),
      warnings: ['a "quoted" warning'],
    };
    assert.equal(pieces(odd, 64).join(''), JSON.stringify(simulateJson(odd)));
    const empty: TopologyResult = { ...r, entries: [], findings: [] };
    assert.equal(pieces(empty).join(''), JSON.stringify(simulateJson(empty)));
  });

  it('main streams through `write` the bytes it prints through `out` as one line', () => {
    let lines = '';
    assert.equal(main(['simulate', SAMPLE, '--json'], (s) => (lines += s + '\n'), () => undefined), 0);
    let raw = '';
    let outCalls = 0;
    assert.equal(main(['simulate', SAMPLE, '--json'], () => outCalls++, () => undefined, (s) => (raw += s)), 0);
    assert.equal(outCalls, 0);
    const strip = (s: string): unknown => {
      const d = JSON.parse(s) as { summary: { ms?: unknown } };
      delete d.summary.ms; // wall-clock timings
      return d;
    };
    assert.ok(raw.endsWith('}\n'));
    assert.deepEqual(strip(raw), strip(lines));
    assert.equal(raw.replace(/"ms":\{[^}]*\}/, ''), lines.replace(/"ms":\{[^}]*\}/, ''));
  });
});

/** Every rule of the sample, in model order. */
function sampleRules(): Rule[] {
  const out: Rule[] = [];
  for (const n of model.namespaces) for (const t of n.iptables?.tables ?? []) for (const c of t.chains) out.push(...c.rules);
  return out;
}

describe('unit: doctor ChainVerdicts and sameParts (answers shared across namespaces)', () => {
  const rules = sampleRules();
  const copy = (sp: RuleSpec): RuleSpec => JSON.parse(JSON.stringify(sp)) as RuleSpec;

  it('specs with sameParts have the same specKey; a fresh copy of a spec shares only what sameParts compares by value', () => {
    let pairs = 0;
    for (const a of rules.slice(0, 150)) {
      for (const b of rules.slice(0, 150)) {
        if (!sameParts(a.spec, b.spec)) continue;
        assert.equal(specKey(a.spec), specKey(b.spec), `${a.text} | ${b.text}`);
        pairs++;
      }
    }
    assert.ok(pairs >= 150, `${pairs} pairs`);
    for (const r of rules) {
      // New match and target objects with the same names and options: still the same parts.
      const c: RuleSpec = { ...r.spec, matches: copy(r.spec).matches, target: r.spec.target ? (copy(r.spec).target as XtTarget) : undefined };
      assert.equal(sameParts(r.spec, c), true, r.text);
    }
  });

  it('sameParts is false when anything specKey reads differs', () => {
    const base: RuleSpec = { proto: { name: 'tcp', invert: false }, matches: [tcp('80')], target: target('DNAT', opt('to-destination', '172.18.0.2:80')) };
    const variants: RuleSpec[] = [
      { ...base, matches: [tcp('81')] },
      { ...base, matches: [{ ...tcp('80'), name: 'udp' }] },
      { ...base, matches: [{ ...tcp('80'), options: [{ ...opt('dport', '80'), invert: true }] }] },
      { ...base, matches: [{ ...tcp('80'), options: [opt('sport', '80')] }] },
      { ...base, matches: [{ ...tcp('80'), options: [opt('dport', '80', '81')] }] },
      { ...base, matches: [tcp('80'), tcp('80')] },
      { ...base, matches: [] },
      { ...base, target: target('DNAT', opt('to-destination', '172.18.0.3:80')) },
      { ...base, target: target('SNAT', opt('to-destination', '172.18.0.2:80')) },
      { ...base, target: { ...target('DNAT', opt('to-destination', '172.18.0.2:80')), goto: true } },
      { ...base, target: undefined },
      { ...base, proto: { name: 'tcp', invert: false } },
      { ...base, dst: { addr: '10.0.0.1', prefixLen: 32, invert: false } },
      { ...base, fragment: { invert: false } },
    ];
    assert.equal(sameParts(base, { ...base, matches: [tcp('80')], target: target('DNAT', opt('to-destination', '172.18.0.2:80')) }), true);
    for (const v of variants) {
      assert.equal(sameParts(base, v), false, formatRuleSpec(v));
      assert.equal(sameParts(v, base), false, formatRuleSpec(v));
    }
  });

  it('a hit gives what the cold computation gives; another spec, text or question misses', () => {
    const chainRules = rules.slice(0, 12);
    const texts = chainRules.slice(0, 5).map((r) => r.text);
    const v = new ChainVerdicts();
    let computed = 0;
    const cold = (): string[] => {
      computed++;
      return chainRules.map((r) => specKey(r.spec));
    };
    const first = v.get('keys', 'nat', 'X', chainRules, texts, cold);
    assert.deepEqual(v.get('keys', 'nat', 'X', chainRules.map((r) => ({ ...r, spec: { ...r.spec } })), [...texts], cold), first);
    assert.equal(computed, 1);
    assert.equal(v.hits, 1);
    // A rule with another port, one text more or changed, another chain, table or question: computed again.
    const other = chainRules.map((r, i) => (i === 3 ? { ...r, spec: { ...r.spec, matches: [tcp('12345')] } } : r));
    v.get('keys', 'nat', 'X', other, texts, cold);
    v.get('keys', 'nat', 'X', chainRules, [...texts, 'x'], cold);
    v.get('keys', 'nat', 'X', chainRules, texts.map((t, i) => (i === 2 ? t + ' ' : t)), cold);
    v.get('keys', 'nat', 'Y', chainRules, texts, cold);
    v.get('keys', 'filter', 'X', chainRules, texts, cold);
    v.get('other', 'nat', 'X', chainRules, texts, cold);
    v.get('keys', 'nat', 'X', chainRules.slice(1), texts, cold);
    assert.equal(computed, 8);
    assert.equal(v.hits, 1);
    // Only the last KEEP answers per label are kept.
    const w = new ChainVerdicts();
    const lists = Array.from({ length: ChainVerdicts.KEEP + 1 }, (_x, i) => [`t${i}`]);
    for (const l of lists) w.get('q', 't', 'c', chainRules, l, () => l[0]);
    assert.equal(w.get('q', 't', 'c', chainRules, lists[ChainVerdicts.KEEP], () => 'again'), lists[ChainVerdicts.KEEP][0]);
    assert.equal(w.get('q', 't', 'c', chainRules, lists[0], () => 'again'), 'again');
  });

  it('diagnose: a rule missing on one node of identical ones is found there only (the shared answer does not leak)', () => {
    const files = readCapture([SAMPLE]).files;
    const run = (drop?: string): string[] => {
      const fs = files.map((f) => (drop && f.path.startsWith(`${drop}/host/iptables`) ? { ...f, text: f.text.split('\n').filter((l) => !/-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT/.test(l)).join('\n') } : f));
      const m = buildModel(fs);
      const f = swarmFacts(m);
      return diagnose(m, f, expectedState(f), [], new World(m)).map((x) => `${x.kind} ${x.node}/${x.namespace}`);
    };
    const healthy = run();
    for (const node of ['swarm-manager', 'swarm-worker1', 'swarm-worker2']) {
      const got = run(node);
      const added = got.filter((x) => !healthy.includes(x));
      assert.deepEqual(added, [`missing-dnat ${node}/host`], node);
    }
  });
});

describe('unit: expected state memos (MACs, rule copies) and swarmFacts indexes', () => {
  it('macOfIp from its memo equals the cold computation and follows the address', () => {
    const ips = ['10.0.0.1', '10.0.0.2', '192.168.255.16', '10.0.0.1', '0.0.0.0'];
    const want = (ip: string): string => ['02', '42', ...ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0'))].join(':');
    for (const pass of [1, 2]) for (const ip of ips) assert.equal(macOfIp(ip), want(ip), `${pass} ${ip}`);
    assert.notEqual(macOfIp('10.0.0.1'), macOfIp('10.0.0.2'));
  });

  it('the copied DOCKER-INGRESS rules have the keys, order and values the spread copy had', () => {
    for (const n of expectedState(facts())) {
      for (const r of n.namespaces[0].rules.filter((x) => x.chain === 'DOCKER-INGRESS' && x.kind !== 'ingress-return')) {
        assert.deepEqual(Object.keys(r), ['table', 'chain', 'text', 'kind', 'compare', 'why', 'service', 'port']);
      }
    }
    // Rules added by ruleText with and without extras: extras follow the fixed keys, as the spread put them.
    const sbox = ns(facts(), 'a', 'ingress_sbox');
    const mark = sbox.rules.find((r) => r.kind === 'sbox-mark');
    assert.deepEqual(Object.keys(mark ?? {}), ['table', 'chain', 'text', 'kind', 'compare', 'why', 'service', 'port']);
    const dns = sbox.rules.find((r) => r.kind === 'dns');
    assert.deepEqual(Object.keys(dns ?? {}), ['table', 'chain', 'text', 'kind', 'compare', 'why']);
  });

  it('swarmFacts finds each node\'s interface by its address through the id index', () => {
    const f = swarmFacts(model);
    for (const n of f.nodes) {
      const host = model.namespaces.find((x) => x.id === `${n.name}/host`);
      let want: string | undefined;
      for (const id of host?.interfaceIds ?? []) {
        const i = model.interfaces.find((x) => x.id === id);
        if (n.addr && i?.addrs.some((a) => a.local === n.addr)) want = i.name;
      }
      assert.equal(n.iface, want, n.name);
      assert.ok(n.iface, `${n.name} has an interface`);
    }
  });
});
