/**
 * Synthesis without a capture: builds the whole capture folder of a swarm from its description
 * (description.ts), in the real dump formats, so the loader, the simulator and the doctor read it
 * like a real one. Each namespace gets `iptables-save.txt` (iptables-save), `ip-addr.txt`
 * (`ip -d addr`), `ip-route.txt` (`ip route show table all`), `ip-rule.txt`, `bridge-fdb.txt`,
 * `ip-neigh.txt`, `ipvsadm.txt` (`ipvsadm -Ln`) and `sysctl.txt`; each node gets
 * `network-inspect.json` (`docker network inspect -v`), `containers-inspect.json` and, on managers,
 * `service-inspect.json` and `node-ls.json`. Line shapes follow samples/seed-swarm (iproute2 6.1,
 * iptables 1.8) and ../shared/docs/dump-formats.md. Pure: returns the files; the CLI writes them.
 */
import type { Problem } from '../problem';
import type { SwarmFacts, SwarmNetwork, SwarmNode, SwarmTask } from './facts';
import { ingressOf } from './facts';
import { describe, hexId, type SynthExtras } from './description';
import { expectedState, macOfIp, overlayNamespaceName, lbNamespaceName, renderIptablesSave, stableHash, taskFolderName, type ExpectedNamespace } from './expected';

/** One file of the synthesised capture, relative to its root. */
export interface SynthFile {
  path: string;
  text: string;
}

/** The synthesised capture. */
export interface SynthResult {
  files: SynthFile[];
  facts: SwarmFacts;
  problems: Problem[];
}

/** One interface as `ip -d addr` prints it. */
interface Iface {
  index: number;
  name: string;
  kind: 'lo' | 'nic' | 'bridge' | 'veth' | 'vxlan';
  mac: string;
  mtu: number;
  master?: string;
  peer?: { index: number; netnsid: number };
  vxlan?: { vni: number };
  linkNetnsid?: number;
  down?: boolean;
  addrs: { addr: string; prefixLen: number; secondary?: boolean }[];
}

/** One namespace being built. */
interface Ns {
  name: string;
  ifaces: Iface[];
  routes: string[];
  fdb: string[];
  neigh: string[];
  ipvs: string;
  sysctl: string[];
  iptables: string;
  netnsIds: Map<string, number>;
}

const DATE = 'Sat Mar 13 08:21:47 2021';

function pseudoMac(seed: string): string {
  const h = stableHash(seed);
  const g = stableHash(`${seed}!`);
  const b = [((h >>> 24) & 0xfc) | 0x02, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, (g >>> 8) & 255, g & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function ipInt(ip: string): number {
  return ip.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
}

function ipStr(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function netAddr(ip: string, p: number): string {
  const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ipStr((ipInt(ip) & m) >>> 0);
}

function bcast(ip: string, p: number): string {
  const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ipStr(((ipInt(ip) & m) | (~m >>> 0)) >>> 0);
}

const BR_DETAILS = 'bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 vlan_protocol 802.1Q';
const SLAVE = (cost: number, no: number): string =>
  `bridge_slave state forwarding priority 32 cost ${cost} hairpin off guard off root_block off fastleave off learning on flood on port_id 0x${(0x8000 + no).toString(16)} port_no 0x${no.toString(16)}`;
const GSO = 'numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536';

function renderAddr(ns: Ns): string {
  const out: string[] = [];
  let port = 0;
  for (const i of ns.ifaces) {
    const at = i.peer ? `@if${i.peer.index}` : i.kind === 'vxlan' ? `@if${i.index}` : '';
    const flags = i.kind === 'lo' ? 'LOOPBACK,UP,LOWER_UP' : i.down ? 'NO-CARRIER,BROADCAST,MULTICAST,UP' : 'BROADCAST,MULTICAST,UP,LOWER_UP';
    const qdisc = i.kind === 'nic' ? 'fq_codel' : 'noqueue';
    const state = i.kind === 'lo' || i.kind === 'vxlan' ? 'UNKNOWN' : i.down ? 'DOWN' : 'UP';
    const qlen = i.kind === 'lo' || i.kind === 'nic' ? 'qlen 1000' : '';
    out.push(`${i.index}: ${i.name}${at}: <${flags}> mtu ${i.mtu} qdisc ${qdisc} ${i.master ? `master ${i.master} ` : ''}state ${state} group default ${qlen}`);
    const nsid = i.peer ? ` link-netnsid ${i.peer.netnsid}` : i.linkNetnsid !== undefined ? ` link-netnsid ${i.linkNetnsid}` : '';
    const promisc = i.master ? 1 : 0;
    if (i.kind === 'lo') out.push(`    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 ${GSO} `);
    else out.push(`    link/ether ${i.mac} brd ff:ff:ff:ff:ff:ff${nsid} promiscuity ${promisc}  allmulti ${promisc} minmtu ${i.kind === 'nic' ? 46 : 68} maxmtu ${i.kind === 'nic' ? 16110 : 65535} ${i.kind === 'nic' ? `${GSO} parentbus pci parentdev 0000:00:0${3 + (i.index % 6)}.0 ` : ''}`);
    if (i.kind === 'bridge') out.push(`    ${BR_DETAILS} ${GSO} `);
    if (i.kind === 'veth') out.push(`    veth ${i.master ? '' : `${GSO} `}`);
    if (i.kind === 'vxlan') out.push(`    vxlan id ${i.vxlan?.vni} srcport 0 0 dstport 4789 proxy l2miss l3miss ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx `);
    if (i.master) out.push(`    ${SLAVE(i.kind === 'vxlan' ? 100 : 2, ++port)} ${GSO} `);
    for (const a of i.addrs) {
      if (i.kind === 'lo') out.push(`    inet ${a.addr}/${a.prefixLen} scope host lo`);
      else if (a.prefixLen === 32) out.push(`    inet ${a.addr}/32 scope global ${i.name}`);
      else out.push(`    inet ${a.addr}/${a.prefixLen} brd ${bcast(a.addr, a.prefixLen)} scope global ${i.name}`);
      out.push('       valid_lft forever preferred_lft forever');
    }
  }
  return out.join('\n') + '\n';
}

/** Main routes are given; the local table comes from the addresses (fib_add_ifaddr). */
function renderRoutes(ns: Ns): string {
  const local: string[] = [];
  for (const i of ns.ifaces) {
    for (const a of i.addrs) {
      if (i.kind === 'lo') {
        local.push('local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 ');
        local.push('local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 ');
        local.push('broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 ');
        continue;
      }
      local.push(`local ${a.addr} dev ${i.name} table local proto kernel scope host src ${a.addr} `);
      if (a.prefixLen < 31) local.push(`broadcast ${bcast(a.addr, a.prefixLen)} dev ${i.name} table local proto kernel scope link src ${a.addr} ${i.down ? 'linkdown ' : ''}`);
    }
  }
  return [...ns.routes, ...local].join('\n') + '\n';
}

function renderIpvs(services: { fwmark: number; dests: { addr: string; forward: string; weight: number }[] }[]): string {
  const out = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  for (const s of services) {
    out.push(`FWM  ${s.fwmark} rr`);
    for (const d of s.dests) out.push(`  -> ${`${d.addr}:0`.padEnd(28)} ${d.forward.padEnd(7)} ${String(d.weight).padEnd(6)} ${'0'.padEnd(10)} ${'0'.padEnd(10)}`);
  }
  return out.join('\n') + '\n';
}

const RULES = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';

/** Builds the capture of a description (compose/stack YAML or JSON with a node list). */
export function synthesize(text: string, file = 'description.yml'): SynthResult {
  const d = describe(text, file);
  if (d.problems.some((p) => p.severity === 'error')) return { files: [], facts: d.facts, problems: d.problems };
  return { files: synthesizeFacts(d.facts, d.extras), facts: d.facts, problems: d.problems };
}

/** Builds the capture files of swarm facts. */
export function synthesizeFacts(f: SwarmFacts, x: SynthExtras): SynthFile[] {
  const files: SynthFile[] = [];
  const expected = expectedState(f);
  const ingress = ingressOf(f);
  const managers = f.nodes.filter((n) => x.nodes[n.name]?.role === 'manager');
  for (const node of f.nodes) {
    const exp = expected.find((e) => e.node === node.name);
    const expNs = (name: string): ExpectedNamespace | undefined => exp?.namespaces.find((e) => e.name === name);
    const nss = new Map<string, Ns>();
    const ns = (name: string): Ns => {
      let n = nss.get(name);
      if (!n) {
        n = { name, ifaces: [], routes: [], fdb: [], neigh: [], ipvs: renderIpvs([]), sysctl: [], iptables: '', netnsIds: new Map() };
        if (name !== 'host') n.netnsIds.set('host', 0);
        n.ifaces.push({ index: 1, name: 'lo', kind: 'lo', mac: '00:00:00:00:00:00', mtu: 65536, addrs: [{ addr: '127.0.0.1', prefixLen: 8 }] });
        nss.set(name, n);
      }
      return n;
    };
    const nsid = (from: Ns, to: string): number => {
      let v = from.netnsIds.get(to);
      if (v === undefined) {
        v = from.netnsIds.size;
        from.netnsIds.set(to, v);
      }
      return v;
    };
    let next = 5;
    const pair = (a: Ns, aName: string, b: Ns, bName: string, o: { aMaster?: string; bMaster?: string; aMac?: string; bMac?: string; mtu: number; aAddrs?: Iface['addrs']; bAddrs?: Iface['addrs'] }): void => {
      const ia = next++;
      const ib = next++;
      a.ifaces.push({ index: ia, name: aName, kind: 'veth', mac: o.aMac ?? pseudoMac(`${node.name}/${a.name}/${aName}`), mtu: o.mtu, master: o.aMaster, peer: { index: ib, netnsid: nsid(a, b.name) }, addrs: o.aAddrs ?? [] });
      b.ifaces.push({ index: ib, name: bName, kind: 'veth', mac: o.bMac ?? pseudoMac(`${node.name}/${b.name}/${bName}`), mtu: o.mtu, master: o.bMaster, peer: { index: ia, netnsid: nsid(b, a.name) }, addrs: o.bAddrs ?? [] });
    };
    const ex = x.nodes[node.name];
    const addr = node.addr as string;
    const plen = ex?.prefixLen ?? 24;
    const gwNet = node.gwSubnet ?? { addr: '172.18.0.0', prefixLen: 16 };
    const gwGw = node.gwGateway ?? '172.18.0.1';
    const gwIp = node.gwIp ?? '172.18.0.2';

    // host
    const host = ns('host');
    const nic = ex?.iface ?? 'eth0';
    host.ifaces.push({ index: 2, name: nic, kind: 'nic', mac: pseudoMac(`${node.name}/nic`).replace(/^../, '08'), mtu: 1500, addrs: [{ addr, prefixLen: plen }] });
    host.ifaces.push({ index: 3, name: 'docker_gwbridge', kind: 'bridge', mac: macOfIp(gwGw).replace(/^02:42:ac:12/, '02:42:73:5b'), mtu: 1500, addrs: [{ addr: gwGw, prefixLen: gwNet.prefixLen }] });
    host.ifaces.push({ index: 4, name: 'docker0', kind: 'bridge', mac: pseudoMac(`${node.name}/docker0`).replace(/^..:../, '02:42'), mtu: 1500, down: true, addrs: [{ addr: '172.17.0.1', prefixLen: 16 }] });
    const router = routerOf(addr, plen, f.nodes);
    host.routes.push(`default via ${router} dev ${nic} proto static metric 100 `);
    host.routes.push(`${netAddr(addr, plen)}/${plen} dev ${nic} proto kernel scope link src ${addr} `);
    host.routes.push('172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown ');
    host.routes.push(`${gwNet.addr}/${gwNet.prefixLen} dev docker_gwbridge proto kernel scope link src ${gwGw} `);

    // ingress_sbox and the ingress overlay
    const overlays = new Map<string, { ns: Ns; net: SwarmNetwork; veth: number }>();
    const overlay = (net: SwarmNetwork): { ns: Ns; net: SwarmNetwork; veth: number } => {
      let o = overlays.get(net.id);
      if (!o) {
        const n = ns(overlayNamespaceName(net.id));
        const brMac = pseudoMac(`${node.name}/${net.id}/br0`);
        n.ifaces.push({ index: 2, name: 'br0', kind: 'bridge', mac: brMac, mtu: 1450, addrs: net.gateway && net.subnet ? [{ addr: net.gateway, prefixLen: net.subnet.prefixLen }] : [] });
        n.ifaces.push({ index: next++, name: 'vxlan0', kind: 'vxlan', mac: brMac, mtu: 1450, master: 'br0', vxlan: { vni: net.vni ?? 4096 }, linkNetnsid: 0, addrs: [] });
        if (net.subnet && net.gateway) n.routes.push(`${net.subnet.addr}/${net.subnet.prefixLen} dev br0 proto kernel scope link src ${net.gateway} `);
        n.fdb.push(`${brMac} dev vxlan0 master br0 permanent`);
        for (const e of expNs(n.name)?.fdb ?? []) {
          n.fdb.push(`${e.mac} dev vxlan0 dst ${e.dst} link-netnsid 0 self permanent`);
          n.neigh.push(`${e.ip} dev vxlan0 lladdr ${e.mac} PERMANENT `);
        }
        o = { ns: n, net, veth: 0 };
        overlays.set(net.id, o);
      }
      return o;
    };
    const attach = (net: SwarmNetwork, into: Ns, ifName: string, ip: string, extra: Iface['addrs'] = []): void => {
      const o = overlay(net);
      const vname = `veth${o.veth++}`;
      const p = net.subnet?.prefixLen ?? 24;
      pair(o.ns, vname, into, ifName, { aMaster: 'br0', mtu: 1450, bMac: macOfIp(ip), bAddrs: [{ addr: ip, prefixLen: p }, ...extra] });
      o.ns.fdb.push(`${o.ns.ifaces[o.ns.ifaces.length - 1].mac} dev ${vname} master br0 permanent`);
      if (net.subnet) into.routes.push(`${net.subnet.addr}/${net.subnet.prefixLen} dev ${ifName} proto kernel scope link src ${ip} `);
    };
    let gwPort = 0;
    const gwAttach = (into: Ns, ifName: string, ip: string): void => {
      pair(host, `veth${pseudoMac(`${node.name}/${into.name}/gw`).replace(/:/g, '').slice(0, 7)}`, into, ifName, { aMaster: 'docker_gwbridge', mtu: 1500, bMac: macOfIp(ip), bAddrs: [{ addr: ip, prefixLen: gwNet.prefixLen }] });
      host.fdb.push(`${host.ifaces[host.ifaces.length - 1].mac} dev ${host.ifaces[host.ifaces.length - 1].name} master docker_gwbridge permanent`);
      into.routes.unshift(`default via ${gwGw} dev ${ifName} `);
      into.routes.push(`${gwNet.addr}/${gwNet.prefixLen} dev ${ifName} proto kernel scope link src ${ip} `);
      gwPort++;
    };
    if (ingress) {
      const sbox = ns('ingress_sbox');
      const e = expNs('ingress_sbox');
      const sboxIp = ingress.lbIps[node.name];
      if (sboxIp) attach(ingress, sbox, 'eth0', sboxIp, (e?.addrs ?? []).filter((a) => a.kind === 'vip').map((a) => ({ addr: a.addr, prefixLen: 32 })));
      gwAttach(sbox, 'eth1', gwIp);
      sbox.ipvs = renderIpvs(e?.ipvs ?? []);
    }
    for (const net of f.networks) {
      if (net.ingress || !net.nodes.includes(node.name)) continue;
      overlay(net);
      const lbName = lbNamespaceName(net.id);
      const e = expNs(lbName);
      const ip = net.lbIps[node.name];
      if (e && ip) {
        const lb = ns(lbName);
        attach(net, lb, 'eth0', ip, e.addrs.filter((a) => a.kind === 'vip').map((a) => ({ addr: a.addr, prefixLen: 32 })));
        lb.ipvs = renderIpvs(e.ipvs);
      }
    }
    const tasksHere: SwarmTask[] = f.tasks.filter((t) => t.node === node.name);
    for (const t of tasksHere) {
      const tn = ns(taskFolderName(t.name));
      if (ingress && t.ips[ingress.id]) attach(ingress, tn, 'eth0', t.ips[ingress.id]);
      gwAttach(tn, tn.ifaces.some((i) => i.name === 'eth0') ? 'eth1' : 'eth0', x.tasks[t.name]?.gwIp || gwIp);
      let k = tn.ifaces.length - 1;
      for (const net of f.networks) {
        if (net.ingress || !t.ips[net.id]) continue;
        attach(net, tn, `eth${k++}`, t.ips[net.id]);
      }
    }
    void gwPort;

    // iptables, sysctls and the rest, from the expected state.
    for (const [name, n] of nss) {
      const e = expNs(name);
      n.iptables = e ? renderIptablesSave(e, { version: node.family === 'legacy' ? '1.8.4' : '1.8.9', date: DATE, nft: node.family !== 'legacy' }) : '';
      n.sysctl = sysctls(n, name === 'host', e);
      if (n.fdb.length === 0) for (const i of n.ifaces) if (i.kind !== 'lo') n.fdb.push(`33:33:00:00:00:01 dev ${i.name} self permanent`, `01:00:5e:00:00:01 dev ${i.name} self permanent`);
      const dir = `${node.name}/${name}`;
      // A long iptables-save is preceded by a bundle header naming the command: detectKind's vote
      // takes a dump with hundreds of `-A` lines and no counters for `iptables -S` (a `#` line is
      // a comment to iptables-restore, so the file stays valid restore input).
      const long = (n.iptables.match(/\n-A /g) ?? []).length > 40;
      files.push({ path: `${dir}/iptables-save.txt`, text: long ? `### meshtrace node=${node.name} ns=${name} cmd=iptables-save\n${n.iptables}` : n.iptables });
      files.push({ path: `${dir}/ip-addr.txt`, text: renderAddr(n) });
      files.push({ path: `${dir}/ip-route.txt`, text: renderRoutes(n) });
      files.push({ path: `${dir}/ip-rule.txt`, text: RULES });
      files.push({ path: `${dir}/bridge-fdb.txt`, text: n.fdb.join('\n') + '\n' });
      files.push({ path: `${dir}/ip-neigh.txt`, text: n.neigh.length ? n.neigh.join('\n') + '\n' : '' });
      files.push({ path: `${dir}/ipvsadm.txt`, text: n.ipvs });
      files.push({ path: `${dir}/sysctl.txt`, text: n.sysctl.join('\n') + '\n' });
    }
    files.push({ path: `${node.name}/network-inspect.json`, text: JSON.stringify(networkInspect(f, x, node), null, 4) + '\n' });
    if (tasksHere.length) files.push({ path: `${node.name}/containers-inspect.json`, text: JSON.stringify(tasksHere.map((t) => containerInspect(f, x, t)), null, 4) + '\n' });
    if (managers.includes(node)) {
      files.push({ path: `${node.name}/service-inspect.json`, text: JSON.stringify(f.services.map((s) => serviceInspect(f, x, s.name)), null, 4) + '\n' });
      files.push({ path: `${node.name}/node-ls.json`, text: f.nodes.map((n) => JSON.stringify({ Availability: 'Active', EngineVersion: x.docker, Hostname: n.name, ID: x.nodes[n.name]?.id, ManagerStatus: x.nodes[n.name]?.role === 'manager' ? (n === managers[0] ? 'Leader' : 'Reachable') : '', Self: n === node, Status: 'Ready', TLSStatus: 'Ready' })).join('\n') + '\n' });
    }
  }
  return files;
}

/** A gateway for the node's subnet that no node uses (.1, else .254). */
function routerOf(addr: string, plen: number, nodes: SwarmNode[]): string {
  const base = ipInt(netAddr(addr, plen));
  const used = new Set(nodes.map((n) => n.addr));
  for (const k of [1, 254, 2, 253]) {
    const c = ipStr((base + k) >>> 0);
    if (!used.has(c)) return c;
  }
  return ipStr((base + 1) >>> 0);
}

function sysctls(n: Ns, isHost: boolean, e: ExpectedNamespace | undefined): string[] {
  const kv = new Map<string, string>();
  kv.set('net.bridge.bridge-nf-call-iptables', '1');
  kv.set('net.ipv4.conf.all.forwarding', '1');
  kv.set('net.ipv4.conf.all.route_localnet', '0');
  kv.set('net.ipv4.conf.all.rp_filter', '2');
  kv.set('net.ipv4.conf.default.rp_filter', '2');
  for (const i of n.ifaces) {
    kv.set(`net.ipv4.conf.${i.name}.route_localnet`, isHost && i.name === 'docker_gwbridge' ? '1' : '0');
    kv.set(`net.ipv4.conf.${i.name}.rp_filter`, '2');
  }
  kv.set('net.ipv4.ip_forward', '1');
  if (n.name === 'ingress_sbox' || n.name.startsWith('lb_')) {
    kv.set('net.ipv4.vs.conn_reuse_mode', '1');
    kv.set('net.ipv4.vs.conntrack', '0');
    kv.set('net.ipv4.vs.expire_nodest_conn', '0');
    kv.set('net.ipv4.vs.expire_quiescent_template', '0');
  }
  for (const s of e?.sysctls ?? []) kv.set(s.key, s.value);
  return [...kv.keys()].sort().map((k) => `${k} = ${kv.get(k)}`);
}

function endpointId(seed: string): string {
  return hexId(`endpoint/${seed}`);
}

function networkInspect(f: SwarmFacts, x: SynthExtras, node: SwarmNode): unknown[] {
  const gw = node.gwSubnet ?? { addr: '172.18.0.0', prefixLen: 16 };
  const here = f.tasks.filter((t) => t.node === node.name);
  const ingress = ingressOf(f);
  const base = (name: string, id: string, scope: string, driver: string): Record<string, unknown> => ({
    Name: name,
    Id: id,
    Created: '2021-03-06T02:41:19.104417363Z',
    Scope: scope,
    Driver: driver,
    EnableIPv6: false,
  });
  const out: unknown[] = [];
  out.push({ ...base('bridge', hexId(`${node.name}/bridge`), 'local', 'bridge'), IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '172.17.0.0/16' }] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'com.docker.network.bridge.name': 'docker0', 'com.docker.network.driver.mtu': '1500' }, Labels: {} });
  const gwContainers: Record<string, unknown> = {};
  for (const t of here) {
    const c = x.tasks[t.name];
    gwContainers[c.containerId] = { Name: `gateway_${hexId(`sandbox/${t.name}`).slice(0, 12)}`, EndpointID: endpointId(`${t.name}/gw`), MacAddress: macOfIp(c.gwIp), IPv4Address: `${c.gwIp}/${gw.prefixLen}`, IPv6Address: '' };
  }
  if (ingress) gwContainers['ingress-sbox'] = { Name: 'gateway_ingress-sbox', EndpointID: endpointId(`${node.name}/sbox/gw`), MacAddress: macOfIp(node.gwIp ?? '172.18.0.2'), IPv4Address: `${node.gwIp}/${gw.prefixLen}`, IPv6Address: '' };
  out.push({ ...base('docker_gwbridge', hexId(`${node.name}/gwbridge`), 'local', 'bridge'), IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: `${gw.addr}/${gw.prefixLen}`, Gateway: node.gwGateway }] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: gwContainers, Options: { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.name': 'docker_gwbridge' }, Labels: {} });
  out.push({ ...base('host', hexId(`${node.name}/host`), 'local', 'host'), IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {} });
  for (const net of f.networks) {
    if (!net.nodes.includes(node.name)) continue;
    const containers: Record<string, unknown> = {};
    for (const t of here) {
      const ip = t.ips[net.id];
      if (!ip) continue;
      containers[x.tasks[t.name].containerId] = { Name: t.name, EndpointID: endpointId(`${t.name}/${net.id}`), MacAddress: macOfIp(ip), IPv4Address: `${ip}/${net.subnet?.prefixLen}`, IPv6Address: '' };
    }
    const lbIp = net.lbIps[node.name];
    if (lbIp) containers[net.ingress ? 'ingress-sbox' : `lb-${net.name}`] = { Name: net.ingress ? 'ingress-endpoint' : `${net.name}-endpoint`, EndpointID: endpointId(`${node.name}/${net.id}/lb`), MacAddress: macOfIp(lbIp), IPv4Address: `${lbIp}/${net.subnet?.prefixLen}`, IPv6Address: '' };
    const services: Record<string, unknown> = {};
    if (net.ingress) {
      services[''] = { VIP: '<nil>', Ports: [], LocalLBIndex: 0, Tasks: f.nodes.filter((n) => net.lbIps[n.name]).map((n) => ({ Name: 'ingress-endpoint', EndpointID: endpointId(`${n.name}/${net.id}/lb`), EndpointIP: net.lbIps[n.name], Info: { 'Host IP': n.addr } })) };
    }
    for (const s of f.services) {
      const onNet = net.ingress ? s.ports.some((p) => p.mode === 'ingress') : s.networks.includes(net.id);
      if (!onNet) continue;
      services[s.name] = {
        VIP: s.vips[net.id] ?? '<nil>',
        Ports: net.ingress ? s.ports.filter((p) => p.mode === 'ingress').map((p) => `Target: ${p.target}, Publish: ${p.published}`) : [],
        LocalLBIndex: s.marks[node.name]?.[net.id] ?? 0,
        Tasks: f.tasks.filter((t) => t.service === s.name && t.ips[net.id]).map((t) => ({ Name: t.name, EndpointID: endpointId(`${t.name}/${net.id}`), EndpointIP: t.ips[net.id], Info: { 'Host IP': f.nodes.find((n) => n.name === t.node)?.addr } })),
      };
    }
    out.push({
      ...base(net.name, net.id, 'swarm', 'overlay'),
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: `${net.subnet?.addr}/${net.subnet?.prefixLen}`, Gateway: net.gateway }] },
      Internal: false,
      Attachable: false,
      Ingress: net.ingress,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: { 'com.docker.network.driver.overlay.vxlanid_list': String(net.vni), ...(net.lbMode === 'dsr' ? { dsr: '' } : {}) },
      Labels: {},
      Peers: f.nodes.filter((n) => net.nodes.includes(n.name)).map((n) => ({ Name: x.nodes[n.name]?.id.slice(0, 12) ?? n.name, IP: n.addr })),
      Services: services,
    });
  }
  out.push({ ...base('none', hexId(`${node.name}/none`), 'local', 'null'), IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {} });
  return out;
}

function containerInspect(f: SwarmFacts, x: SynthExtras, t: SwarmTask): unknown {
  const c = x.tasks[t.name];
  const svc = f.services.find((s) => s.name === t.service);
  const sandbox = hexId(`sandbox/${t.name}`);
  const networks: Record<string, unknown> = {};
  for (const net of f.networks) {
    const ip = t.ips[net.id];
    if (!ip) continue;
    networks[net.name] = { IPAMConfig: { IPv4Address: ip }, Links: null, Aliases: [c.containerId.slice(0, 12)], NetworkID: net.id, EndpointID: endpointId(`${t.name}/${net.id}`), Gateway: '', IPAddress: ip, IPPrefixLen: net.subnet?.prefixLen, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: macOfIp(ip), DriverOpts: null };
  }
  return {
    Id: c.containerId,
    Created: '2021-03-13T08:13:56.176217355Z',
    Path: '/entrypoint',
    Args: [],
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1000 + (stableHash(t.name) % 30000), ExitCode: 0, Error: '', StartedAt: '2021-03-13T08:13:57.602118357Z', FinishedAt: '0001-01-01T00:00:00Z' },
    Image: `sha256:${hexId(`image/${c.image}`)}`,
    Name: `/${t.name}`,
    HostConfig: { NetworkMode: 'default', PortBindings: {} },
    Config: {
      Hostname: c.containerId.slice(0, 12),
      Image: c.image,
      Labels: {
        'com.docker.swarm.node.id': x.nodes[t.node ?? '']?.id,
        'com.docker.swarm.service.id': svc?.id,
        'com.docker.swarm.service.name': t.service,
        'com.docker.swarm.task': '',
        'com.docker.swarm.task.id': c.id,
        'com.docker.swarm.task.name': t.name,
      },
    },
    NetworkSettings: { Bridge: '', SandboxID: sandbox, HairpinMode: false, Ports: {}, SandboxKey: `/var/run/docker/netns/${sandbox.slice(0, 12)}`, Networks: networks },
  };
}

function serviceInspect(f: SwarmFacts, x: SynthExtras, name: string): unknown {
  const s = f.services.find((v) => v.name === name);
  if (!s) return {};
  const ports = s.ports.map((p) => ({ Protocol: p.proto, TargetPort: p.target, PublishedPort: p.published, PublishMode: p.mode }));
  const tasks = f.tasks.filter((t) => t.service === name);
  const global = tasks.length > 0 && tasks.every((t) => !/^\d+$/.test(x.tasks[t.name]?.slot ?? '1'));
  return {
    ID: s.id,
    Version: { Index: 100 + (stableHash(name) % 1000) },
    CreatedAt: '2021-03-13T08:13:52.981624315Z',
    UpdatedAt: '2021-03-13T08:13:52.985573227Z',
    Spec: {
      Name: name,
      Labels: {},
      TaskTemplate: { ContainerSpec: { Image: x.images[name] ?? 'nginx:latest', Isolation: 'default' }, Networks: s.networks.map((id) => ({ Target: id })), ForceUpdate: 0, Runtime: 'container' },
      Mode: global ? { Global: {} } : { Replicated: { Replicas: tasks.length } },
      EndpointSpec: { Mode: s.endpointMode, Ports: ports },
    },
    Endpoint: {
      Spec: { Mode: s.endpointMode, Ports: ports },
      Ports: ports,
      VirtualIPs: Object.entries(s.vips).map(([id, ip]) => ({ NetworkID: id, Addr: `${ip}/${f.networks.find((n) => n.id === id)?.subnet?.prefixLen ?? 24}` })),
    },
  };
}
