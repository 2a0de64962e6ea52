/** Unit tests (pure core): Docker JSON (network/service/container/node inspect, node/service ls lines). */
import assert from 'node:assert/strict';
import { corpusFile } from '../helpers';
import { detectDockerJsonKind, parseDockerJson, type DockerJsonKind } from '../../../src/core/parsers/parseDockerJson';
import type { DockerFacts } from '../../../src/core/model/docker';
import type { ParseResult, Problem } from '../../../src/core/problem';

const LAB = 'captures/docker20-swarm-lab/swarmlab';
const MOBY_V = 'docker-network-inspect/moby-pr52934-ingress-and-overlay-inspect-v.json';
const OLLYPOM = 'docker-network-inspect/ollypom-docker17.03ee-ingress-containers-jq.json';
const EXCERPT = 'other/moby-pr52934-swarm-task-docker-inspect-networksettings.json';

/** `line:severity:code` of each problem, in order. */
const brief = (ps: Problem[]): string[] => ps.map((p) => `${p.line}:${p.severity}:${p.code}`);
/** How many networks, services, containers and nodes were read. */
const counts = (f: DockerFacts): number[] => [f.networks.length, f.services.length, f.containers.length, f.nodes.length];

/** Every problem is placed: a line, and a column range that is not empty. */
function assertLocated(r: ParseResult<DockerFacts>): void {
  for (const p of r.problems) {
    assert.ok(p.line >= 1 && p.col >= 1 && p.endCol > p.col, `badly placed problem ${JSON.stringify(p)}`);
    assert.ok(p.message.length > 10);
  }
}

/** Parses text and compares the problems (line:severity:code) and the numbers of facts read. */
function check(text: string, problems: string[], facts: number[]): ParseResult<DockerFacts> {
  const r = parseDockerJson(text);
  assert.deepEqual(brief(r.problems), problems);
  assert.deepEqual(counts(r.value), facts);
  assertLocated(r);
  return r;
}

describe('unit: parseDockerJson, the corpus', () => {
  const table: { file: string; problems: string[]; facts: number[]; kind: DockerJsonKind }[] = [
    { file: MOBY_V, problems: [], facts: [2, 0, 0, 0], kind: 'docker-network' },
    { file: OLLYPOM, problems: ['1:info:docker-unnamed-network'], facts: [1, 0, 0, 0], kind: 'docker-network' },
    // Despite its odd indentation the excerpt is valid JSON: one object holding only NetworkSettings.
    { file: EXCERPT, problems: ['1:info:docker-excerpt'], facts: [0, 0, 1, 0], kind: 'docker-container' },
    { file: `${LAB}/network-inspect.json`, problems: [], facts: [7, 0, 0, 0], kind: 'docker-network' },
    { file: `${LAB}/service-inspect.json`, problems: [], facts: [0, 3, 0, 0], kind: 'docker-service' },
    { file: `${LAB}/containers-inspect.json`, problems: [], facts: [0, 0, 5, 0], kind: 'docker-container' },
    { file: `${LAB}/node-ls.json`, problems: [], facts: [0, 0, 0, 1], kind: 'docker-node' },
    { file: `${LAB}/node-inspect.json`, problems: [], facts: [0, 0, 0, 1], kind: 'docker-node' },
  ];
  for (const t of table) {
    it(`${t.file}: ${t.problems.length ? t.problems.join(', ') : 'no problems'}; detected as ${t.kind}`, () => {
      const text = corpusFile(t.file);
      check(text, t.problems, t.facts);
      assert.equal(detectDockerJsonKind(text), t.kind);
    });
  }

  it('moby PR 52934 `network inspect -v`: ingress VNI 4096, ingress-sbox, foo VIP/ports/LB index, Peers', () => {
    const r = parseDockerJson(corpusFile(MOBY_V), { file: 'n.json' });
    const [ingress, ovl] = r.value.networks;
    assert.deepEqual(
      { id: ingress.id, name: ingress.name, scope: ingress.scope, driver: ingress.driver, ingress: ingress.ingress, internal: ingress.internal },
      { id: 's7wv09h339pg33bwa1x7e94zf', name: 'ingress', scope: 'swarm', driver: 'overlay', ingress: true, internal: false },
    );
    assert.deepEqual(ingress.vnis, [4096]);
    assert.deepEqual(ingress.subnets, [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1' }]);
    assert.deepEqual(ingress.options, { 'com.docker.network.driver.overlay.vxlanid_list': '4096' });
    assert.deepEqual(ingress.peers, [{ name: 'dab0d2bf09bf', ip: '172.17.0.3' }]);
    assert.deepEqual(ingress.source, { file: 'n.json', line: 2 });
    assert.deepEqual(ingress.endpoints[1], {
      key: 'ingress-sbox',
      name: 'ingress-endpoint',
      endpointId: '012cfd9641daed1b8f5f7f03d88a204a1fc7166472ed698116594d1a025531fe',
      mac: '02:42:0a:00:00:02',
      ipv4: { addr: '10.0.0.2', prefixLen: 24 },
      source: { file: 'n.json', line: 45 },
    });
    assert.deepEqual(ingress.services, [
      {
        name: 'foo',
        vip: '10.0.0.3',
        ports: [
          { target: 80, publish: 3000 },
          { target: 53, publish: 3001 },
        ],
        localLBIndex: 256,
        tasks: [
          {
            name: 'foo.b575fhbepobkezwuoxhuu81de.myd389c5xnuj0efizrj4cui4k',
            endpointId: 'a4a5f3a9b833bd8542b90aa00ee7982276432c1c79dac8f9d468cb55c7201b1f',
            endpointIp: '10.0.0.4',
            hostIp: '172.17.0.3',
            source: { file: 'n.json', line: 62 },
          },
        ],
        source: { file: 'n.json', line: 54 },
      },
    ]);
    assert.equal(ovl.name, 'someovl');
    assert.deepEqual(ovl.vnis, [4097]);
    assert.equal(ovl.ingress, false);
    assert.deepEqual(
      ovl.endpoints.map((e) => [e.key, e.name, e.ipv4?.addr, e.source.line]),
      [
        ['f2b1465118aabe32b1f0be61931890f018adb5b8b22805c689010db91d2017aa', 'foo.b575fhbepobkezwuoxhuu81de.myd389c5xnuj0efizrj4cui4k', '10.0.1.3', 120],
        ['lb-someovl', 'someovl-endpoint', '10.0.1.4', 127],
      ],
    );
    assert.deepEqual([ovl.services[0].vip, ovl.services[0].ports, ovl.services[0].localLBIndex], ['10.0.1.2', [], 257]);
  });

  it('ollypom 17.03 bare Containers map: a network without name or id, with ingress-sbox', () => {
    const r = parseDockerJson(corpusFile(OLLYPOM));
    assert.deepEqual(r.problems[0].message.includes('network\'s name and id are not in the dump'), true);
    const n = r.value.networks[0];
    assert.deepEqual([n.id, n.name, n.ingress, n.vnis, n.subnets, n.peers, n.services], ['', '', false, [], [], [], []]);
    assert.deepEqual(n.endpoints, [
      {
        key: 'ingress-sbox',
        name: 'ingress-endpoint',
        endpointId: '6dff81405a5e045b62ab98a4a394a5d90885629aad8dc397de17401d88d6314a',
        mac: '02:42:0a:ff:00:02',
        ipv4: { addr: '10.255.0.2', prefixLen: 16 },
        source: { file: '<input>', line: 2 },
      },
    ]);
  });

  it('moby PR 52934 excerpt of `docker inspect`: the sandbox and both endpoints, without id or name', () => {
    const r = parseDockerJson(corpusFile(EXCERPT));
    assert.deepEqual(r.problems[0].col, 4); // the `{` is indented by three spaces
    assert.deepEqual(r.value.containers[0], {
      id: '',
      name: '',
      sandboxKey: '/var/run/docker/netns/231b9363e169',
      sandboxId: '231b9363e169',
      networks: [
        {
          name: 'ingress',
          networkId: 's7wv09h339pg33bwa1x7e94zf',
          endpointId: 'a4a5f3a9b833bd8542b90aa00ee7982276432c1c79dac8f9d468cb55c7201b1f',
          ip: '10.0.0.4',
          prefixLen: 24,
          mac: '02:42:0a:00:00:04',
          aliases: ['foo.b575fhbepobkezwuoxhuu81de.myd389c5xnuj0efizrj4cui4k', 'f2b1465118aa'],
        },
        {
          name: 'someovl',
          networkId: '0a7kccl4djhyr6mqdo553viir',
          endpointId: '610eb196f8175ed104ef504ccff22e49cdeb77bfcd9fcdbed70bf14f709d7590',
          ip: '10.0.1.3',
          prefixLen: 24,
          mac: '02:42:0a:00:01:03',
          aliases: ['foo.b575fhbepobkezwuoxhuu81de.myd389c5xnuj0efizrj4cui4k', 'f2b1465118aa'],
        },
      ],
      labels: {},
      ports: [{ containerPort: 80, proto: 'tcp' }],
      source: { file: '<input>', line: 1 },
    });
  });

  it('lab network inspect: ingress VNI 4096, appnet 4097 with lb-appnet, the ingress-sbox pseudo-service', () => {
    const r = parseDockerJson(corpusFile(`${LAB}/network-inspect.json`));
    const byName = new Map(r.value.networks.map((n) => [n.name, n]));
    assert.deepEqual([...byName.keys()], ['appnet', 'bridge', 'docker_gwbridge', 'host', 'ingress', 'legacy', 'none']);
    const ingress = byName.get('ingress')!;
    const appnet = byName.get('appnet')!;
    assert.deepEqual([ingress.id, ingress.ingress, ingress.vnis, ingress.source.line], ['b1n3tv74148u6nxexoqewf9h5', true, [4096], 233]);
    assert.deepEqual([appnet.id, appnet.ingress, appnet.vnis], ['3zz1huq8tvk3eumzi7s8aebml', false, [4097]]);
    assert.deepEqual(appnet.peers, [{ name: 'f5b87eb9f1cd', ip: '198.51.100.10' }]);
    const lb = appnet.endpoints.find((e) => e.key === 'lb-appnet')!;
    assert.deepEqual(lb, {
      key: 'lb-appnet',
      name: 'appnet-endpoint',
      endpointId: '3316e555512243c7c718e7768ebfe6317aa92b7cef25cdf44cf24711a0b95f1a',
      mac: '02:42:0a:00:01:06',
      ipv4: { addr: '10.0.1.6', prefixLen: 24 },
      source: { file: '<input>', line: 48 },
    });
    // db is dnsrr: libnetwork prints its nil VIP as "<nil>"; so is the ingress sandbox's service "".
    assert.deepEqual(
      appnet.services.map((s) => [s.name, s.vip, s.localLBIndex, s.tasks.map((t) => t.endpointIp)]),
      [
        ['db', undefined, 258, ['10.0.1.5']],
        ['web', '10.0.1.2', 256, ['10.0.1.4', '10.0.1.3']],
      ],
    );
    assert.deepEqual(
      ingress.services.map((s) => [s.name, s.vip, s.ports, s.localLBIndex, s.tasks.map((t) => [t.name, t.hostIp])]),
      [
        ['', undefined, [], 0, [['ingress-endpoint', '198.51.100.10']]],
        [
          'web',
          '10.0.0.3',
          [{ target: 80, publish: 8080 }],
          257,
          [
            ['web.1.qvcwfa5g2xyq7tvc3odyzykfg', '198.51.100.10'],
            ['web.2.nopnmaslhwoo9txho1rm10rh3', '198.51.100.10'],
          ],
        ],
      ],
    );
    const bridge = byName.get('bridge')!;
    assert.deepEqual([bridge.subnets, bridge.vnis, bridge.peers, bridge.options['com.docker.network.bridge.name']], [[{ subnet: '172.17.0.0/16' }], [], [], 'docker0']);
    assert.deepEqual(byName.get('host')!.subnets, []);
  });

  it('lab service inspect: web VIPs and 8080→80 ingress, api host-mode 9090, db dnsrr', () => {
    const r = parseDockerJson(corpusFile(`${LAB}/service-inspect.json`), { file: 'service-inspect.json' });
    const [api, db, web] = r.value.services;
    assert.deepEqual(web, {
      id: 'kzt8ij60eh6o7w5lr77aivjh3',
      name: 'web',
      mode: 'replicated',
      replicas: 2,
      endpointMode: 'vip',
      ports: [{ protocol: 'tcp', target: 80, published: 8080, mode: 'ingress' }],
      vips: [
        { networkId: 'b1n3tv74148u6nxexoqewf9h5', addr: '10.0.0.3', prefixLen: 24 },
        { networkId: '3zz1huq8tvk3eumzi7s8aebml', addr: '10.0.1.2', prefixLen: 24 },
      ],
      networks: ['3zz1huq8tvk3eumzi7s8aebml'],
      image: 'local/busybox:1',
      source: { file: 'service-inspect.json', line: 165 },
    });
    assert.deepEqual([api.name, api.ports, api.vips, api.networks], ['api', [{ protocol: 'tcp', target: 80, published: 9090, mode: 'host' }], [], []]);
    assert.deepEqual([db.name, db.endpointMode, db.replicas, db.ports, db.vips, db.networks], ['db', 'dnsrr', 1, [], [], ['3zz1huq8tvk3eumzi7s8aebml']]);
  });

  it('lab containers: web.1 sandbox 257c28285747 with ingress 10.0.0.4, swarm labels, host-mode ports', () => {
    const r = parseDockerJson(corpusFile(`${LAB}/containers-inspect.json`));
    const web1 = r.value.containers.find((c) => c.name === 'web.1.qvcwfa5g2xyq7tvc3odyzykfg')!;
    assert.deepEqual([web1.id, web1.sandboxKey, web1.sandboxId, web1.running, web1.pid, web1.source.line], [
      'ca495cf8b7d1a7c1fdd4cee1eb7d1d3717bd8a70140e86eaa393d9153dfebdda',
      '/srv/lab/exec/netns/257c28285747',
      '257c28285747',
      true,
      2010,
      441,
    ]);
    assert.deepEqual(web1.networks, [
      {
        name: 'appnet',
        networkId: '3zz1huq8tvk3eumzi7s8aebml',
        endpointId: 'cec7dbdaed2e65dcb52e7be09d9c7d4a2627821b28f34c1cc403cc10d565d4ad',
        ip: '10.0.1.3',
        prefixLen: 24,
        mac: '02:42:0a:00:01:03',
        aliases: ['ca495cf8b7d1'],
      },
      {
        name: 'ingress',
        networkId: 'b1n3tv74148u6nxexoqewf9h5',
        endpointId: '84780b29aa1baf13040629dfa534b16211ec2ab5301230e1ccd99874fe4ac7e7',
        ip: '10.0.0.4',
        prefixLen: 24,
        mac: '02:42:0a:00:00:04',
        aliases: ['ca495cf8b7d1'],
      },
    ]);
    assert.equal(web1.labels['com.docker.swarm.service.name'], 'web');
    assert.equal(web1.labels['com.docker.swarm.task.name'], 'web.1.qvcwfa5g2xyq7tvc3odyzykfg');
    assert.deepEqual(web1.ports, []);
    const api = r.value.containers.find((c) => c.name === 'api.1.y8j2jbre0w66e6fc0gdzhc8q7')!;
    assert.deepEqual(api.ports, [
      { containerPort: 80, proto: 'tcp', hostIp: '0.0.0.0', hostPort: 9090 },
      { containerPort: 80, proto: 'tcp', hostIp: '::', hostPort: 9090 },
    ]);
    assert.deepEqual(api.networks[0].gateway, '172.17.0.1');
    assert.deepEqual(
      r.value.containers.map((c) => c.sandboxId),
      ['0be6fcc2d6ff', '0d08af85c894', '257c28285747', '77636091f5f6', 'e337dcbfa24a'],
    );
    assert.deepEqual(r.value.containers[4].labels, {});
  });

  it('lab nodes: `node ls` and `node inspect` agree (API lower case)', () => {
    const ls = parseDockerJson(corpusFile(`${LAB}/node-ls.json`)).value.nodes[0];
    const ins = parseDockerJson(corpusFile(`${LAB}/node-inspect.json`)).value.nodes[0];
    const common = { id: 're9c3pj6b3iq9aktmsu83qijv', hostname: 'vm', status: 'ready', availability: 'active', role: 'manager', managerStatus: 'leader' };
    assert.deepEqual(ls, { ...common, source: { file: '<input>', line: 1 } });
    assert.deepEqual(ins, { ...common, addr: '198.51.100.10', source: { file: '<input>', line: 2 } });
  });

  it('file and lineOffset reach every source and problem', () => {
    const r = parseDockerJson(corpusFile(OLLYPOM), { file: 'bundle.txt', lineOffset: 10 });
    assert.deepEqual(r.value.networks[0].source, { file: 'bundle.txt', line: 11 });
    assert.deepEqual(r.value.networks[0].endpoints[0].source, { file: 'bundle.txt', line: 12 });
    assert.deepEqual([r.problems[0].file, r.problems[0].line], ['bundle.txt', 11]);
  });
});

describe('unit: parseDockerJson, JSON lines and mixed files', () => {
  const nodeA = '{"Availability":"Active","EngineVersion":"20.10.24","Hostname":"a","ID":"ida","ManagerStatus":"Leader","Self":true,"Status":"Ready","TLSStatus":"Ready"}';
  const nodeB = '{"Availability":"Drain","EngineVersion":"20.10.24","Hostname":"b","ID":"idb","ManagerStatus":"","Self":false,"Status":"Down","TLSStatus":"Ready"}';

  it('`docker node ls --format json`: one node a line; an empty ManagerStatus is a worker', () => {
    const r = check(`${nodeA}\n${nodeB}\n`, [], [0, 0, 0, 2]);
    assert.deepEqual(r.value.nodes[1], { id: 'idb', hostname: 'b', status: 'down', availability: 'drain', role: 'worker', source: { file: '<input>', line: 2 } });
  });

  it('a broken line does not swallow the next one; a prompt line is one error', () => {
    const r = check(`$ docker node ls --format json\n${nodeA}\n{"ID":"x","Hostname":\n${nodeB}\n`, [
      '1:error:json-syntax',
      '3:error:json-syntax',
      '3:error:json-syntax',
      '3:warning:docker-unknown',
    ], [0, 0, 0, 2]);
    assert.deepEqual(r.value.nodes.map((n) => [n.id, n.source.line]), [['ida', 2], ['idb', 4]]);
    assert.match(r.problems[0].message, /not JSON: "\$ docker node ls --format json"/);
    assert.deepEqual([r.problems[0].col, r.problems[0].endCol], [1, 31]);
  });

  it('`docker service ls --format json`: ingress ports (ranges too), desired replicas, one info', () => {
    const r = check(
      '{"ID":"kzt8ij60eh6o","Image":"local/busybox:1","Mode":"replicated","Name":"web","Ports":"*:8080-\\u003e80/tcp","Replicas":"2/2"}\n' +
        '{"ID":"4gmjih1auesv","Image":"x:1","Mode":"global","Name":"g","Ports":"*:3000-3001-\\u003e80-81/udp, *:9-\\u003e9/sctp","Replicas":"1/1"}\n',
      ['1:info:docker-service-ls'],
      [0, 2, 0, 0],
    );
    assert.deepEqual(r.value.services[0], {
      id: 'kzt8ij60eh6o',
      name: 'web',
      mode: 'replicated',
      replicas: 2,
      endpointMode: 'vip',
      ports: [{ protocol: 'tcp', target: 80, published: 8080, mode: 'ingress' }],
      vips: [],
      networks: [],
      image: 'local/busybox:1',
      source: { file: '<input>', line: 1 },
    });
    assert.deepEqual(r.value.services[1].mode, 'global');
    assert.deepEqual(r.value.services[1].replicas, undefined);
    assert.deepEqual(
      r.value.services[1].ports.map((p) => `${p.published}->${p.target}/${p.protocol}`),
      ['3000->80/udp', '3001->81/udp', '9->9/sctp'],
    );
  });

  it('several kinds in one file (`jq -s` of two dumps), and an image inspect that is skipped', () => {
    const lab = (f: string): string => corpusFile(`${LAB}/${f}`);
    const text = `[${lab('node-inspect.json')}, ${lab('service-inspect.json')}, [{"Id":"sha256:d5f9","RepoTags":["local/busybox:1"],"RootFS":{}}]]`;
    // node-inspect.json has 113 lines and service-inspect.json 272, each with a final newline.
    const r = check(text, ['386:warning:docker-unknown'], [0, 3, 0, 1]);
    assert.match(r.problems[0].message, /unknown JSON \(an object with keys "Id", "RepoTags", "RootFS"\)/);
    assert.equal(detectDockerJsonKind(text), 'docker-node');
    assert.equal(detectDockerJsonKind(`${lab('node-ls.json')}\n${lab('service-inspect.json')}`), 'docker-mixed');
  });

  it('two pretty-printed arrays one after the other (two commands into one file)', () => {
    const text = `${corpusFile(`${LAB}/node-inspect.json`)}\n${corpusFile(MOBY_V)}`;
    const r = check(text, [], [2, 0, 0, 1]);
    // 113 lines, the file's final newline, the added newline, then the network's `{` on line 2.
    assert.equal(r.value.networks[0].source.line, 113 + 1 + 2);
  });
});

describe('unit: parseDockerJson, bad input never throws and is located', () => {
  it('`__proto__` keys are dropped with a warning and Object.prototype is untouched', () => {
    const text = [
      '[{"__proto__": {"polluted": "yes"}, "Name": "n", "Id": "i", "Driver": "bridge",',
      ' "Options": {"__proto__": {"polluted": "yes"}, "constructor": "x", "a": "b"},',
      ' "Containers": {"__proto__": {"Name": "evil", "EndpointID": "e"}}}]',
    ].join('\n');
    const r = check(text, ['1:warning:json-forbidden-key', '2:warning:json-forbidden-key', '2:warning:json-forbidden-key', '3:warning:json-forbidden-key'], [1, 0, 0, 0]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    const n = r.value.networks[0];
    assert.deepEqual(n.options, { a: 'b' });
    assert.deepEqual(n.endpoints, []);
    assert.equal(Object.getPrototypeOf(n.options), Object.prototype);
  });

  it('truncated JSON: the complete objects are kept, the cut is an error at its place', () => {
    const full = corpusFile(`${LAB}/network-inspect.json`);
    const cut = full.slice(0, full.indexOf('"Name": "docker_gwbridge"') + 12);
    const r = parseDockerJson(cut);
    // The cut object began on line 149 and only has its Name: it is reported as unknown JSON.
    assert.deepEqual([...new Set(brief(r.problems))], ['150:error:json-syntax', '149:warning:docker-unknown']);
    assert.deepEqual(r.value.networks.map((n) => n.name), ['appnet', 'bridge']);
    assert.ok(r.problems.some((p) => /truncated/.test(p.message)));
    assertLocated(r);
  });

  it('strings where objects are expected, numbers and booleans as strings: warnings at the key', () => {
    const text = JSON.stringify(
      [
        {
          Name: 'n',
          Id: 'i',
          IPAM: 'oops',
          Ingress: 'true',
          Containers: { a: 'x', b: { Name: 5, IPv4Address: '10.0.0.1' } },
          Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4096,zz,99999999' },
          Services: { s: { VIP: '10.0.0.3', Ports: ['Target: x'], LocalLBIndex: '256', Tasks: 'no' } },
        },
        {
          ID: 's',
          Spec: { Name: 'w', Mode: { Replicated: { Replicas: '2' } }, TaskTemplate: { Networks: 'appnet' } },
          Endpoint: { Ports: [{ Protocol: 'icmp', TargetPort: '80', PublishedPort: 8080, PublishMode: 'ingress' }], VirtualIPs: [{ NetworkID: 'n', Addr: '10.0.0.3' }] },
        },
      ],
      null,
      2,
    );
    const r = check(
      text,
      [
        '6:warning:docker-type', // Ingress "true"
        '5:warning:docker-type', // IPAM "oops"
        '15:warning:docker-value', // vxlanid "zz"
        '15:warning:docker-value', // vxlanid 99999999
        '8:warning:docker-type', // Containers.a
        '10:warning:docker-type', // Name 5
        '11:warning:docker-value', // IPv4Address without prefix
        '21:warning:docker-value', // Ports[0] "Target: x"
        '23:warning:docker-type', // LocalLBIndex "256"
        '24:warning:docker-type', // Tasks "no"
        '34:warning:docker-type', // Replicas "2"
        '45:warning:docker-type', // TargetPort "80"
        '44:warning:docker-value', // Protocol icmp
        '53:warning:docker-value', // VIP without prefix
        '38:warning:docker-type', // TaskTemplate.Networks "appnet"
      ],
      [1, 1, 0, 0],
    );
    const [net] = r.value.networks;
    assert.deepEqual([net.ingress, net.vnis, net.endpoints.map((e) => [e.key, e.name, e.ipv4])], [true, [4096], [['b', '5', undefined]]]);
    assert.deepEqual([net.services[0].localLBIndex, net.services[0].ports, net.services[0].tasks], [256, [], []]);
    const [svc] = r.value.services;
    assert.deepEqual([svc.replicas, svc.ports, svc.vips, svc.networks], [2, [{ protocol: 'tcp', target: 80, published: 8080, mode: 'ingress' }], [], []]);
    // Placed at the key, with the value: `          "Replicas": "2"` → columns 11 to 26 (exclusive).
    const rep = r.problems[10];
    assert.deepEqual([rep.col, rep.endCol], [11, 26]);
    assert.match(rep.message, /service "w": Spec\.Mode\.Replicated\.Replicas: expected a number, got the string "2"; read as 2/);
  });

  it('null everywhere: objects are kept with what they have, missing ids are warned about', () => {
    const text = JSON.stringify(
      [
        { Name: null, Id: null, IPAM: null, Containers: null, Options: null, Peers: null, Services: null, Scope: null, Driver: 'overlay', Ingress: null },
        { ID: null, Spec: null, Endpoint: null },
        { Id: null, Name: null, State: null, Config: null, NetworkSettings: null },
        { ID: 'x', Hostname: null, Status: null, Availability: null, ManagerStatus: null },
        { Name: 'n', Id: 'i', Driver: 'bridge', IPAM: { Config: [null, { Subnet: null }] }, Containers: { c: null }, Peers: [null], Services: { s: null } },
        null,
      ],
      null,
      1,
    );
    const r = check(
      text,
      [
        '2:warning:docker-missing',
        '14:warning:docker-missing',
        '14:warning:docker-missing',
        '19:warning:docker-missing',
        '26:warning:docker-missing',
        '39:warning:docker-type', // IPAM.Config[0] null
        '40:warning:docker-missing', // IPAM.Config[1] has no Subnet
        '49:warning:docker-type', // Peers[0] null
        '55:warning:docker-unknown', // the null element
      ],
      [2, 1, 1, 1],
    );
    assert.deepEqual(r.value.networks[0], {
      id: '',
      name: '',
      driver: 'overlay',
      ingress: false,
      internal: false,
      subnets: [],
      options: {},
      vnis: [],
      endpoints: [],
      peers: [],
      services: [],
      source: { file: '<input>', line: 2 },
    });
    assert.deepEqual(r.value.containers[0], { id: '', name: '', networks: [], labels: {}, ports: [], source: { file: '<input>', line: 19 } });
  });

  it('10 MB of `[[[[…`: one depth error, no stack overflow', () => {
    const r = parseDockerJson('['.repeat(10_000_000));
    assert.equal(r.problems[0].code, 'json-depth');
    assert.deepEqual([r.problems[0].line, r.problems[0].col], [1, 201]);
    assert.ok(r.problems.every((p) => p.severity !== 'info'));
    assert.ok(r.problems.length < 12);
    assert.deepEqual(counts(r.value), [0, 0, 0, 0]);
    assertLocated(r);
  });

  it('a deep value inside a good dump only costs that value', () => {
    const node = corpusFile(`${LAB}/node-ls.json`).trim();
    const r = check(`[\n${'['.repeat(300)}${']'.repeat(300)},\n${node}\n]`, ['2:error:json-depth', '2:warning:docker-unknown'], [0, 0, 0, 1]);
    assert.equal(r.value.nodes[0].source.line, 3);
  });

  it('many bad elements: 100 warnings of a kind are listed, then a count', () => {
    const r = parseDockerJson(`[${Array(1000).fill('1').join(',')}]`);
    assert.equal(r.problems.length, 101);
    assert.match(r.problems[100].message, /900 more `docker-unknown` problems/);
  });

  it('binary garbage, random bytes as UTF-8, a lone brace, an empty file', () => {
    let seed = 12345;
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    for (const text of [bytes.toString('latin1'), bytes.toString('utf8'), '\u0000\u0001\u0002', '{', '}', ']]]]', '"just a string"', '\uFEFF{}', '{"a":"\u202e\u0000"}']) {
      const r = parseDockerJson(text);
      assert.ok(r.problems.length >= 1, JSON.stringify(text.slice(0, 20)));
      assert.ok(r.problems.length <= 210);
      assertLocated(r);
    }
    // Text from the dump is quoted with invisible and bidi characters escaped.
    const bidi = check('{"Name":"\u202eevil","Id":"i","Driver":"x","Scope":5}', ['1:warning:docker-type'], [1, 0, 0, 0]);
    assert.match(bidi.problems[0].message, /^network "\\u202eevil": Scope: expected a string, got the number 5; read as "5"$/);
    assert.deepEqual([bidi.problems[0].col, bidi.problems[0].endCol], [39, 48]); // `"Scope":5`
    check('', ['1:warning:docker-empty'], [0, 0, 0, 0]);
    check(' \n\t\n', ['1:warning:docker-empty'], [0, 0, 0, 0]);
    check('{}', ['1:warning:docker-unknown'], [0, 0, 0, 0]);
  });

  it('CRLF line ends and a byte-order mark do not matter', () => {
    const text = '\uFEFF' + corpusFile(`${LAB}/node-inspect.json`).replace(/\n/g, '\r\n');
    const r = check(text, [], [0, 0, 0, 1]);
    assert.equal(r.value.nodes[0].addr, '198.51.100.10');
  });
});

describe('unit: detectDockerJsonKind', () => {
  const cases: [string, DockerJsonKind | undefined][] = [
    ['{"ID":"a","Hostname":"h","Availability":"Active","ManagerStatus":""}', 'docker-node'],
    ['{"ID":"a","Name":"web","Mode":"replicated","Replicas":"2/2","Ports":""}', 'docker-service'],
    ['{"x": {"Name":"n","EndpointID":"e","MacAddress":"m","IPv4Address":"10.0.0.2/24"}}', 'docker-network'],
    ['[{"Id":"sha256:d5f9","RepoTags":[]}]', undefined],
    ['*filter\n:INPUT ACCEPT [0:0]\n', undefined],
    ['', undefined],
    ['['.repeat(100_000), undefined],
  ];
  for (const [text, kind] of cases) {
    it(`${JSON.stringify(text.slice(0, 40))} → ${kind}`, () => assert.equal(detectDockerJsonKind(text), kind));
  }
});
