/**
 * Unit tier: the embedded sample capture samples/seed-swarm is complete and internally consistent,
 * and carries the seed document's real listings byte for byte. Plain fs + assert, no parsers.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SAMPLE = path.resolve(__dirname, '../../../samples/seed-swarm');
const SEED = path.resolve(__dirname, '../../../../shared/seed/swarm-ingress-routing-mesh.rst');

const NODES = ['swarm-manager', 'swarm-worker1', 'swarm-worker2'];
const NODE_IP: Record<string, string> = {
  'swarm-manager': '192.168.200.10',
  'swarm-worker1': '192.168.200.11',
  'swarm-worker2': '192.168.200.12',
};
const SBOX_IP: Record<string, string> = {
  'swarm-manager': '10.0.0.2',
  'swarm-worker1': '10.0.0.3',
  'swarm-worker2': '10.0.0.4',
};
/** The web tasks (seed lines 36-37 and the curl answers at seed lines 47-82). */
const TASKS: Record<string, { folder: string; ingress: string; gw: string; mynet: string }> = {
  'swarm-worker1': { folder: 'web.1.udlzvsraha1x', ingress: '10.0.0.7', gw: '172.18.0.3', mynet: '10.0.1.14' },
  'swarm-manager': { folder: 'web.2.mms2c65e5ygt', ingress: '10.0.0.6', gw: '172.18.0.3', mynet: '10.0.1.13' },
};

function read(...p: string[]): string {
  return fs.readFileSync(path.join(SAMPLE, ...p), 'utf8');
}

function folders(node: string): string[] {
  return fs
    .readdirSync(path.join(SAMPLE, node), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function nodeJson<T>(node: string, file: string): T {
  return JSON.parse(read(node, file)) as T;
}

interface NetInspect {
  Name: string;
  Id: string;
  Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string }>;
  Peers?: { Name: string; IP: string }[];
  Services?: Record<string, { VIP: string; Ports: string[]; LocalLBIndex: number; Tasks: { EndpointIP: string; Info: Record<string, string> }[] }>;
}

const networks = (node: string): NetInspect[] => nodeJson<NetInspect[]>(node, 'network-inspect.json');
const netId = (name: string): string => {
  const n = networks('swarm-manager').find((x) => x.Name === name);
  assert.ok(n, `network ${name} in swarm-manager/network-inspect.json`);
  return n.Id;
};
const INGRESS_NS = (): string => `1-${netId('ingress').slice(0, 10)}`;
const MYNET_NS = (): string => `1-${netId('mynet').slice(0, 10)}`;
const LB_NS = (): string => `lb_${netId('mynet').slice(0, 9)}`;

/** One interface block of `ip -d addr` / `ip addr` output, read with plain string work. */
interface Iface {
  index: number;
  name: string;
  peerIndex?: number;
  netnsid?: number;
  kind?: string;
  master?: string;
  mac?: string;
  inet: string[];
  text: string;
}

function interfaces(text: string): Iface[] {
  const out: Iface[] = [];
  for (const line of text.split('\n')) {
    const head = /^(\d+): ([^:@\s]+)(?:@if(\d+))?: <([^>]*)>(.*)$/.exec(line);
    if (head) {
      const master = / master (\S+)/.exec(head[5]);
      out.push({
        index: Number(head[1]),
        name: head[2],
        peerIndex: head[3] === undefined ? undefined : Number(head[3]),
        master: master?.[1],
        inet: [],
        text: line,
      });
      continue;
    }
    const cur = out[out.length - 1];
    if (!cur) continue;
    cur.text += '\n' + line;
    const link = /^ {4}link\/\S+ (\S+) .*?(?: link-netnsid (\d+))?(?: |$)/.exec(line);
    if (link) {
      cur.mac = link[1];
      const id = / link-netnsid (\d+)/.exec(line);
      if (id) cur.netnsid = Number(id[1]);
    }
    const kind = /^ {4}(veth|vxlan|bridge|bridge_slave)\b/.exec(line);
    if (kind && kind[1] !== 'bridge_slave') cur.kind = kind[1];
    const inet = /^ {4}inet (\S+)/.exec(line);
    if (inet) cur.inet.push(inet[1]);
  }
  return out;
}

const macOf = (ip: string): string =>
  '02:42:' + ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':');

/** Seed lines a..b (1-based, inclusive) with the 4-space code-block indent taken off. */
function seedLines(a: number, b: number): string {
  const lines = fs.readFileSync(SEED, 'utf8').split('\n').slice(a - 1, b);
  return lines.map((l) => (l.startsWith('    ') ? l.slice(4) : l)).join('\n') + '\n';
}

describe('unit: samples/seed-swarm sample capture', () => {
  describe('shape', () => {
    it('has exactly the three swarm nodes', () => {
      const nodes = fs.readdirSync(SAMPLE, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      assert.deepEqual(nodes, NODES);
    });

    for (const node of NODES) {
      it(`${node}: host, ingress_sbox and the ingress overlay namespace; mynet only where a task runs`, () => {
        const want = ['host', 'ingress_sbox', INGRESS_NS()];
        const t = TASKS[node];
        // Docker creates an overlay network (its 1-<id> namespace and lb_ sandbox) on a node only
        // while a task of that network runs there: swarmkit allocator getNodeNetworks().
        if (t) want.push(MYNET_NS(), LB_NS(), t.folder);
        assert.deepEqual(folders(node), want.sort());
      });

      it(`${node}: every namespace has the lab capture's core dumps`, () => {
        for (const f of folders(node)) {
          for (const file of ['iptables-save.txt', 'ip-addr.txt', 'ip-route.txt', 'ip-rule.txt', 'bridge-fdb.txt', 'ip-neigh.txt', 'sysctl.txt', 'ipvsadm.txt']) {
            assert.ok(fs.existsSync(path.join(SAMPLE, node, f, file)), `${node}/${f}/${file}`);
          }
        }
        assert.ok(fs.existsSync(path.join(SAMPLE, node, 'network-inspect.json')));
      });
    }
  });

  describe('veth peers pair up across the namespace folders of a node', () => {
    for (const node of NODES) {
      it(node, () => {
        const byFolder = new Map(folders(node).map((f) => [f, interfaces(read(node, f, 'ip-addr.txt'))]));
        let pairs = 0;
        for (const [f, ifaces] of byFolder) {
          const idToFolder = new Map<number, string>();
          for (const i of ifaces) {
            if (i.peerIndex === undefined) continue;
            if (i.kind === 'vxlan') {
              // A VXLAN device made in the host namespace and moved keeps its index; iproute2
              // prints its own index after '@if' (no peer to pair).
              assert.equal(i.peerIndex, i.index, `${node}/${f} ${i.name}`);
              continue;
            }
            assert.equal(i.kind, 'veth', `${node}/${f} ${i.name} is a veth`);
            assert.notEqual(i.netnsid, undefined, `${node}/${f} ${i.name} has link-netnsid`);
            const cands: [string, Iface][] = [];
            for (const [g, other] of byFolder) {
              if (g === f) continue;
              for (const o of other) if (o.index === i.peerIndex && o.peerIndex === i.index && o.kind === 'veth') cands.push([g, o]);
            }
            assert.equal(cands.length, 1, `${node}/${f} ${i.name}@if${i.peerIndex}: exactly one peer, got ${cands.map((c) => c[0]).join(',')}`);
            const [g, o] = cands[0];
            assert.equal(o.text.split('\n')[0].includes('mtu ' + /mtu (\d+)/.exec(i.text)?.[1]), true, `${node} mtu of ${f}/${i.name} = ${g}/${o.name}`);
            const known = idToFolder.get(i.netnsid as number);
            assert.ok(known === undefined || known === g, `${node}/${f}: link-netnsid ${i.netnsid} names both ${known} and ${g}`);
            idToFolder.set(i.netnsid as number, g);
            pairs++;
          }
          const targets = [...idToFolder.values()];
          assert.equal(new Set(targets).size, targets.length, `${node}/${f}: two netnsids for one namespace`);
        }
        assert.equal(pairs % 2, 0);
        assert.equal(pairs, TASKS[node] ? 12 : 4);
      });
    }

    it('matches the seed: ingress_sbox eth0@if9 (index 8) and eth1@if11 (index 10) on swarm-manager', () => {
      const sbox = interfaces(read('swarm-manager', 'ingress_sbox', 'ip-addr.txt'));
      const seedView = interfaces(read('swarm-manager', 'ingress_sbox', 'seed-ip-a.txt'));
      const brief = (l: Iface[]): string[] => l.map((i) => `${i.index} ${i.name}@${i.peerIndex} ${i.mac} ${i.netnsid} ${i.inet.join(',')}`);
      assert.deepEqual(brief(sbox), brief(seedView));
      const host = interfaces(read('swarm-manager', 'host', 'ip-addr.txt'));
      const gwPort = host.find((i) => i.index === 11);
      assert.ok(gwPort && gwPort.peerIndex === 10 && gwPort.master === 'docker_gwbridge');
      const ov = interfaces(read('swarm-manager', INGRESS_NS(), 'ip-addr.txt'));
      assert.ok(ov.find((i) => i.index === 9 && i.name === 'veth0' && i.peerIndex === 8 && i.master === 'br0'));
    });
  });

  describe('addresses, overlays and L2 entries', () => {
    for (const node of NODES) {
      it(`${node}: host NICs, bridges and sysctls`, () => {
        const host = interfaces(read(node, 'host', 'ip-addr.txt'));
        const byName = new Map(host.map((i) => [i.name, i]));
        assert.deepEqual(byName.get('eth0')?.inet, ['10.0.2.15/24']);
        assert.deepEqual(byName.get('eth1')?.inet, [`${NODE_IP[node]}/24`]);
        assert.deepEqual(byName.get('docker_gwbridge')?.inet, ['172.18.0.1/16']);
        assert.match(read(node, 'host', 'ip-route.txt'), /^default via 10\.0\.2\.2 dev eth0 proto dhcp /);
        const sysctl = read(node, 'host', 'sysctl.txt');
        for (const kv of ['net.ipv4.ip_forward = 1', 'net.bridge.bridge-nf-call-iptables = 1', 'net.ipv4.conf.docker_gwbridge.route_localnet = 1']) {
          assert.ok(sysctl.split('\n').includes(kv), `${node} host ${kv}`);
        }
      });

      it(`${node}: ingress_sbox holds ${SBOX_IP[node]}, the VIP 10.0.0.5/32 and 172.18.0.2`, () => {
        const sbox = interfaces(read(node, 'ingress_sbox', 'ip-addr.txt'));
        const eth0 = sbox.find((i) => i.name === 'eth0');
        const eth1 = sbox.find((i) => i.name === 'eth1');
        assert.deepEqual(eth0?.inet, [`${SBOX_IP[node]}/24`, '10.0.0.5/32']);
        assert.equal(eth0?.mac, macOf(SBOX_IP[node]));
        assert.deepEqual(eth1?.inet, ['172.18.0.2/16']);
        assert.match(read(node, 'ingress_sbox', 'ip-route.txt'), /^default via 172\.18\.0\.1 dev eth1 $/m);
        const sysctl = read(node, 'ingress_sbox', 'sysctl.txt').split('\n');
        for (const kv of ['net.ipv4.ip_forward = 1', 'net.ipv4.vs.conntrack = 1']) assert.ok(sysctl.includes(kv), `${node} ingress_sbox ${kv}`);
      });

      it(`${node}: overlay namespaces have br0 + vxlan0 and an entry for every remote endpoint`, () => {
        const overlays: [string, string, number, string[][]][] = [
          [INGRESS_NS(), '10.0.0.1/24', 4096, NODES.map((n) => [SBOX_IP[n], NODE_IP[n], n]).concat(Object.entries(TASKS).map(([n, t]) => [t.ingress, NODE_IP[n], n]))],
        ];
        if (TASKS[node]) {
          const lb = (n: string): string => interfaces(read(n, LB_NS(), 'ip-addr.txt')).find((i) => i.name === 'eth0')?.inet[0].split('/')[0] ?? '';
          const withMynet = Object.keys(TASKS);
          overlays.push([MYNET_NS(), '10.0.1.1/24', 4097, withMynet.map((n) => [lb(n), NODE_IP[n], n]).concat(withMynet.map((n) => [TASKS[n].mynet, NODE_IP[n], n]))]);
        }
        for (const [ns, gw, vni, endpoints] of overlays) {
          const ifs = interfaces(read(node, ns, 'ip-addr.txt'));
          assert.deepEqual(ifs.find((i) => i.name === 'br0')?.inet, [gw]);
          const vx = ifs.find((i) => i.name === 'vxlan0');
          assert.ok(vx && vx.master === 'br0' && vx.netnsid === 0, `${node}/${ns} vxlan0`);
          assert.match(vx.text, new RegExp(`vxlan id ${vni} srcport 0 0 dstport 4789 proxy l2miss l3miss `));
          const fdb = read(node, ns, 'bridge-fdb.txt').split('\n');
          const neigh = read(node, ns, 'ip-neigh.txt').split('\n');
          const remote = endpoints.filter((e) => e[2] !== node);
          for (const [ip, vtep] of remote) {
            assert.ok(fdb.includes(`${macOf(ip)} dev vxlan0 dst ${vtep} link-netnsid 0 self permanent`), `${node}/${ns} fdb ${ip}`);
            assert.ok(neigh.includes(`${ip} dev vxlan0 lladdr ${macOf(ip)} PERMANENT `), `${node}/${ns} neigh ${ip}`);
          }
          assert.equal(fdb.filter((l) => / dst /.test(l)).length, remote.length, `${node}/${ns}: no stray fdb entries`);
          // the local endpoints hang off br0 through veth ports
          for (const [ip] of endpoints.filter((e) => e[2] === node)) {
            const owner = folders(node).find((f) => interfaces(read(node, f, 'ip-addr.txt')).some((i) => i.inet.includes(`${ip}/24`) && i.mac === macOf(ip)));
            assert.ok(owner, `${node}: ${ip} lives in some namespace`);
          }
        }
      });
    }
  });

  describe('rules as Docker 20.10 programs them', () => {
    for (const node of NODES) {
      it(`${node}: host nat/filter ingress rules`, () => {
        const save = read(node, 'host', 'iptables-save.txt');
        const rules = save.split('\n').map((l) => l.replace(/^\[\d+:\d+\] /, ''));
        for (const r of [
          '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS',
          '-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER-INGRESS',
          '-A POSTROUTING -o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE',
          '-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080',
          '-A FORWARD -j DOCKER-USER',
          '-A FORWARD -j DOCKER-INGRESS',
          '-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j ACCEPT',
          '-A DOCKER-INGRESS -p tcp -m state --state RELATED,ESTABLISHED -m tcp --sport 8080 -j ACCEPT',
          '-A DOCKER-INGRESS -j RETURN',
          '-A FORWARD -i docker_gwbridge -o docker_gwbridge -j DROP',
        ]) {
          assert.ok(rules.includes(r), `${node} host: ${r}`);
        }
        assert.equal(rules.filter((r) => r === '-A DOCKER-INGRESS -j RETURN').length, 2, 'RETURN in nat and filter');
      });

      it(`${node}: ingress_sbox marks, SNAT and IPVS`, () => {
        const save = read(node, 'ingress_sbox', 'iptables-save.txt');
        assert.match(save, /^\[\d+:\d+\] -A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x100\/0xffffffff$/m);
        assert.match(save, /^\[\d+:\d+\] -A INPUT -d 10\.0\.0\.5\/32 -j MARK --set-xmark 0x100\/0xffffffff$/m);
        assert.match(save, new RegExp(`^\\[\\d+:\\d+\\] -A POSTROUTING -d 10\\.0\\.0\\.0/24 -m ipvs --ipvs -j SNAT --to-source ${SBOX_IP[node].replace(/\./g, '\\.')}$`, 'm'));
        const ipvs = read(node, 'ingress_sbox', 'ipvsadm.txt');
        assert.match(ipvs, /^FWM {2}256 rr\n {2}-> 10\.0\.0\.6:0 {19}Masq {4}1 {6}0 {10}0 {9}\n {2}-> 10\.0\.0\.7:0 {19}Masq {4}1 {6}0 {10}0 {9}\n$/m);
      });

      const t = TASKS[node];
      if (!t) continue;
      it(`${node}: ${t.folder} task namespace`, () => {
        const ifs = interfaces(read(node, t.folder, 'ip-addr.txt'));
        assert.deepEqual(ifs.map((i) => `${i.name} ${i.inet.join(',')} ${i.mac ?? ''}`), [
          'lo 127.0.0.1/8 00:00:00:00:00:00',
          `eth0 ${t.ingress}/24 ${macOf(t.ingress)}`,
          `eth1 ${t.gw}/16 ${macOf(t.gw)}`,
          `eth2 ${t.mynet}/24 ${macOf(t.mynet)}`,
        ]);
        assert.match(read(node, t.folder, 'ip-route.txt'), /^default via 172\.18\.0\.1 dev eth1 $/m);
        const rules = read(node, t.folder, 'iptables-save.txt').split('\n').map((l) => l.replace(/^\[\d+:\d+\] /, ''));
        const ip = t.ingress;
        for (const r of [
          `-A PREROUTING -d ${ip}/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80`,
          `-A INPUT -d ${ip}/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT`,
          `-A INPUT -d ${ip}/32 -p tcp -j DROP`,
          `-A OUTPUT -s ${ip}/32 -p tcp -m tcp --sport 80 -m conntrack --ctstate ESTABLISHED -j ACCEPT`,
          `-A OUTPUT -s ${ip}/32 -p tcp -j DROP`,
          '-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT',
          '-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING',
        ]) {
          assert.ok(rules.includes(r), `${node}/${t.folder}: ${r}`);
        }
      });

      it(`${node}: lb_ sandbox holds the mynet VIP 10.0.1.12 with fwmark 0x101 = FWM 257`, () => {
        const eth0 = interfaces(read(node, LB_NS(), 'ip-addr.txt')).find((i) => i.name === 'eth0');
        assert.equal(eth0?.inet[1], '10.0.1.12/32');
        const save = read(node, LB_NS(), 'iptables-save.txt');
        assert.match(save, /^\[\d+:\d+\] -A INPUT -d 10\.0\.1\.12\/32 -j MARK --set-xmark 0x101\/0xffffffff$/m);
        assert.match(save, new RegExp(`-A POSTROUTING -d 10\\.0\\.1\\.0/24 -m ipvs --ipvs -j SNAT --to-source ${eth0?.inet[0].split('/')[0]}$`, 'm'));
        assert.match(read(node, LB_NS(), 'ipvsadm.txt'), /^FWM {2}257 rr\n {2}-> 10\.0\.1\.13:0 .*\n {2}-> 10\.0\.1\.14:0 /m);
      });
    }
  });

  describe('node-level Docker JSON', () => {
    for (const node of NODES) {
      it(`${node}: network inspect -v`, () => {
        const nets = networks(node);
        const ingress = nets.find((n) => n.Name === 'ingress');
        assert.ok(ingress);
        assert.deepEqual(ingress.Peers?.map((p) => p.IP), Object.values(NODE_IP));
        assert.equal(ingress.Services?.web.VIP, '10.0.0.5');
        assert.deepEqual(ingress.Services?.web.Ports, ['Target: 80, Publish: 8080']);
        assert.equal(ingress.Services?.web.LocalLBIndex, 256);
        assert.deepEqual(ingress.Services?.web.Tasks.map((x) => `${x.EndpointIP} ${x.Info['Host IP']}`).sort(), ['10.0.0.6 192.168.200.10', '10.0.0.7 192.168.200.11']);
        assert.equal(ingress.Containers['ingress-sbox'].IPv4Address, `${SBOX_IP[node]}/24`);
        const mynet = nets.find((n) => n.Name === 'mynet');
        assert.equal(mynet !== undefined, TASKS[node] !== undefined, 'mynet exists on the nodes that run a task of it');
        if (mynet) {
          assert.equal(mynet.Services?.web.VIP, '10.0.1.12');
          assert.equal(mynet.Services?.web.LocalLBIndex, 257);
        }
      });
    }

    for (const [node, t] of Object.entries(TASKS)) {
      it(`${node}: containers-inspect maps ${t.folder} to its sandbox`, () => {
        const [c] = nodeJson<{ Name: string; Config: { Hostname: string }; NetworkSettings: { SandboxID: string; SandboxKey: string; Networks: Record<string, { IPAddress: string }> } }[]>(node, 'containers-inspect.json');
        assert.ok(c.Name.startsWith(`/${t.folder}`));
        assert.equal(c.NetworkSettings.SandboxKey, `/var/run/docker/netns/${c.NetworkSettings.SandboxID.slice(0, 12)}`);
        assert.equal(c.NetworkSettings.Networks.ingress.IPAddress, t.ingress);
        assert.equal(c.NetworkSettings.Networks.mynet.IPAddress, t.mynet);
        // whoami answers with the container's hostname (seed lines 48 and 72)
        assert.equal(c.Config.Hostname, node === 'swarm-worker1' ? 'fdf7c1354507' : 'c83ee052787a');
      });
    }

    it('swarm-manager: service inspect and node ls', () => {
      const [svc] = nodeJson<{ ID: string; Endpoint: { Ports: { PublishedPort: number; TargetPort: number; PublishMode: string }[]; VirtualIPs: { NetworkID: string; Addr: string }[] } }[]>('swarm-manager', 'service-inspect.json');
      assert.equal(svc.ID, 'a9cn3p0ovg5jcz30rzz89lyfz'); // seed line 26
      assert.deepEqual(svc.Endpoint.Ports.map((p) => `${p.PublishedPort}->${p.TargetPort}/${p.PublishMode}`), ['8080->80/ingress']);
      assert.deepEqual(svc.Endpoint.VirtualIPs, [
        { NetworkID: netId('ingress'), Addr: '10.0.0.5/24' },
        { NetworkID: netId('mynet'), Addr: '10.0.1.12/24' },
      ]);
      const nodes = read('swarm-manager', 'node-ls.json').trim().split('\n').map((l) => JSON.parse(l) as { Hostname: string });
      assert.deepEqual(nodes.map((n) => n.Hostname), NODES);
    });
  });

  describe('the seed document’s real listings, byte for byte', () => {
    const cases: [string, number, number][] = [
      // `docker service ls` and `docker service ps web`
      ['swarm-manager/service-ls.txt', 32, 33],
      ['swarm-manager/service-ps.txt', 35, 37],
      // `sudo iptables -nvL -t nat` on swarm-manager
      ['swarm-manager/host/iptables-L-nat.txt', 99, 126],
      // `ip a` inside ingress_sbox
      ['swarm-manager/ingress_sbox/seed-ip-a.txt', 145, 158],
      // `ip route` inside ingress_sbox
      ['swarm-manager/ingress_sbox/seed-ip-route.txt', 166, 168],
      // `iptables -nvL -t mangle` inside ingress_sbox
      ['swarm-manager/ingress_sbox/iptables-L-mangle.txt', 171, 186],
      // `ipvsadm` inside ingress_sbox
      ['swarm-manager/ingress_sbox/seed-ipvsadm.txt', 188, 193],
    ];
    for (const [file, a, b] of cases) {
      it(`${file} = seed lines ${a}-${b}`, () => {
        assert.equal(read(file), seedLines(a, b));
      });
    }

    it('the seed lines hold what the test expects (guards the line numbers)', () => {
      assert.match(seedLines(99, 99), /^Chain PREROUTING \(policy ACCEPT 388 packets, 35780 bytes\)\n$/);
      assert.match(seedLines(145, 145), /^1: lo: /);
      assert.match(seedLines(193, 193), /^ {2}-> 10\.0\.0\.7:0 /);
    });

    it('the counters of the saved rulesets agree with the seed listings', () => {
      const nat = read('swarm-manager', 'host', 'iptables-save.txt');
      for (const line of [
        ':PREROUTING ACCEPT [388:35780]',
        '[296:17960] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS',
        '[2:120] -A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080',
        '[302:18430] -A DOCKER-INGRESS -j RETURN',
      ]) {
        assert.ok(nat.split('\n').includes(line), line);
      }
      const mangle = read('swarm-manager', 'ingress_sbox', 'iptables-save.txt').split('\n');
      for (const line of [':PREROUTING ACCEPT [22:2084]', ':FORWARD ACCEPT [8:1046]', '[12:806] -A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x100/0xffffffff']) {
        assert.ok(mangle.includes(line), line);
      }
    });
  });
});
