/**
 * The input of `meshtrace synth`: a compose/stack file (`services` with `ports` and `deploy`,
 * `networks`) plus a node list, in YAML or JSON. Turned into swarm facts the way swarmkit and
 * libnetwork would assign them: task placement, IPs, VIPs, fwmarks, ids. Every assignment can be
 * pinned under `x-meshtrace` so a real swarm can be reproduced exactly.
 *
 * ```yaml
 * services:
 *   web:
 *     image: containous/whoami
 *     ports: ["8080:80"]
 *     networks: [mynet]
 *     deploy: { replicas: 2 }
 * networks:
 *   mynet: { driver: overlay, ipam: { config: [{ subnet: 10.0.1.0/24 }] } }
 * x-meshtrace:
 *   docker: "20.10.5"
 *   nodes:
 *     - { name: swarm-manager, addr: 192.168.200.10/24, role: manager }
 *     - { name: swarm-worker1, addr: 192.168.200.11/24 }
 * ```
 *
 * Pins (all optional) under `x-meshtrace`: `ingress: {subnet, id}`, `gwbridge: 172.18.0.0/16`,
 * `ids: {<network or service name>: id}`, `addresses: {<network>: {<node | service | task>: ip}}`,
 * `tasks: {<service>.<slot>: {node, id}}`, `marks: {<node>: {<service>/<network>: mark}}`,
 * `defaultNetwork: false` (services without `networks` then join only ingress).
 */
import { parse as parseYaml } from 'yaml';
import { ProblemSink, type Problem } from '../problem';
import { J, parseJsonDump, type JsonObject, type JsonValue } from '../parsers/json';
import { familyOfVersion, type SwarmFacts, type SwarmNetwork, type SwarmNode, type SwarmPort, type SwarmService, type SwarmTask } from './facts';
import { cmpIp, stableHash } from './expected';

/** Synthesis details that are not swarm facts: ids and versions the dump files carry. */
export interface SynthExtras {
  docker: string;
  /** Per node: role, interface and prefix length of its address, swarm node id. */
  nodes: Record<string, { role: 'manager' | 'worker'; iface: string; prefixLen: number; id: string }>;
  /** Per task: slot, task id, container id, image. */
  tasks: Record<string, { slot: string; id: string; containerId: string; image: string; gwIp: string }>;
  images: Record<string, string>;
}

/** A description turned into facts, with the problems met reading it. */
export interface Described {
  facts: SwarmFacts;
  extras: SynthExtras;
  problems: Problem[];
}

/** A swarm id: 25 characters of [0-9a-z], stable for a name. */
export function swarmId(seed: string): string {
  let s = '';
  let h = stableHash(seed);
  for (let i = 0; i < 25; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    h = (h + i * 0x9e3779b9) >>> 0;
    s += '0123456789abcdefghijklmnopqrstuvwxyz'[h % 36];
  }
  return s;
}

/** A 64-hex container or endpoint id, stable for a name. */
export function hexId(seed: string): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += stableHash(`${seed}#${i}`).toString(16).padStart(8, '0');
  return s;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
}

function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Hands out the addresses of one subnet in order, skipping pinned ones. */
class Pool {
  private next: number;
  private readonly used = new Set<number>();
  constructor(
    private readonly net: number,
    private readonly prefixLen: number,
    start: number,
  ) {
    this.next = start;
  }
  pin(ip: string): void {
    this.used.add(ipToInt(ip));
  }
  take(): string {
    const size = 2 ** (32 - this.prefixLen);
    while (this.used.has((this.net + this.next) >>> 0) && this.next < size - 1) this.next++;
    const ip = (this.net + this.next) >>> 0;
    this.used.add(ip);
    this.next++;
    return intToIp(ip);
  }
}

/** Reads a compose/stack description (YAML or JSON) into swarm facts. Never throws. */
export function describe(text: string, file = 'description.yml'): Described {
  const sink = new ProblemSink(file);
  let root: unknown;
  const json = /^\s*[[{]/.test(text);
  if (json) {
    const doc = parseJsonDump(text, sink, 0);
    root = toPlain(doc.value);
  } else {
    try {
      root = parseYaml(text, { prettyErrors: false, uniqueKeys: false }) as unknown;
    } catch (e) {
      const m = /at line (\d+)/.exec((e as Error).message);
      sink.error('yaml', m ? Number(m[1]) : 1, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const empty: Described = { facts: { nodes: [], networks: [], services: [], tasks: [], gaps: [] }, extras: { docker: '20.10.5', nodes: {}, tasks: {}, images: {} }, problems: sink.problems };
  if (!isObj(root)) {
    if (!sink.problems.length) sink.error('description', 1, 'expected a compose file: a mapping with `services` (and a node list under `x-meshtrace.nodes`)');
    return empty;
  }
  const x = isObj(root['x-meshtrace']) ? root['x-meshtrace'] : {};
  const docker = String(x.docker ?? '20.10.5');
  const family = familyOfVersion(docker);
  const nodeList = Array.isArray(x.nodes) ? x.nodes : Array.isArray(root.nodes) ? root.nodes : [];
  const nodes: SwarmNode[] = [];
  const extras: SynthExtras = { docker, nodes: {}, tasks: {}, images: {} };
  const gw = splitNet(String(x.gwbridge ?? '172.18.0.0/16')) ?? { net: ipToInt('172.18.0.0'), prefixLen: 16 };
  nodeList.forEach((n, i) => {
    const o = isObj(n) ? n : { name: String(n) };
    const name = String(o.name ?? `node${i + 1}`);
    const a = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(String(o.addr ?? o.ip ?? `198.51.100.${10 + i}/24`));
    if (!a) sink.error('description', 1, `node ${name}: addr must be an IPv4 address with an optional /prefix (got ${JSON.stringify(o.addr ?? o.ip)})`);
    const addr = a?.[1] ?? `198.51.100.${10 + i}`;
    const role = String(o.role ?? (i === 0 ? 'manager' : 'worker')) === 'manager' ? 'manager' : 'worker';
    nodes.push({
      name,
      addr,
      iface: String(o.iface ?? 'eth0'),
      role,
      family,
      familyWhy: `Docker ${docker} (from the description)`,
      gwIp: intToIp(gw.net + 2),
      gwSubnet: { addr: intToIp(gw.net), prefixLen: gw.prefixLen },
      gwGateway: intToIp(gw.net + 1),
    });
    extras.nodes[name] = { role, iface: String(o.iface ?? 'eth0'), prefixLen: Number(a?.[2] ?? 24), id: swarmId(`node/${name}`) };
  });
  if (nodes.length === 0) sink.error('description', 1, 'no nodes: list them under `x-meshtrace.nodes` (name, addr, role)');
  const ids = isObj(x.ids) ? x.ids : {};
  const pinned = isObj(x.addresses) ? x.addresses : {};
  const pinTasks = isObj(x.tasks) ? x.tasks : {};
  const pinMarks = isObj(x.marks) ? x.marks : {};

  // Networks: ingress plus the compose file's overlays (`<name>` as written; a stack would prefix it).
  const ing = isObj(x.ingress) ? x.ingress : {};
  const networks: SwarmNetwork[] = [];
  const mkNet = (name: string, ingress: boolean, subnet: string, vni: number, opts: JsonObjectLike = {}): SwarmNetwork => {
    const s = splitNet(subnet) ?? { net: ipToInt('10.0.0.0'), prefixLen: 24 };
    return {
      id: String(ids[name] ?? opts.id ?? swarmId(`network/${name}`)),
      name,
      ingress,
      subnet: { addr: intToIp(s.net), prefixLen: s.prefixLen },
      gateway: intToIp(s.net + 1),
      vni,
      lbMode: isObj(opts.driver_opts) && 'dsr' in opts.driver_opts ? 'dsr' : 'nat',
      lbIps: {},
      nodes: [],
    };
  };
  networks.push(mkNet('ingress', true, String(ing.subnet ?? '10.0.0.0/24'), 4096, ing));
  const composeNets = isObj(root.networks) ? root.networks : {};
  const services = isObj(root.services) ? root.services : {};
  const useDefault = x.defaultNetwork !== false;
  const netNames = Object.keys(composeNets);
  if (useDefault && Object.values(services).some((s) => isObj(s) && s.networks === undefined) && !netNames.includes('default')) netNames.push('default');
  netNames.forEach((name, i) => {
    const o = isObj(composeNets[name]) ? (composeNets[name] as JsonObjectLike) : {};
    const cfg = isObj(o.ipam) && Array.isArray(o.ipam.config) && isObj(o.ipam.config[0]) ? o.ipam.config[0] : {};
    networks.push(mkNet(name, false, String(cfg.subnet ?? `10.0.${i + 1}.0/24`), 4097 + i, o));
  });

  // Services and their tasks.
  const svcs: SwarmService[] = [];
  const tasks: SwarmTask[] = [];
  let nodeRR = 0;
  for (const [name, sv] of Object.entries(services)) {
    const s = isObj(sv) ? sv : {};
    const deploy = isObj(s.deploy) ? s.deploy : {};
    const ports = parsePorts(s.ports, name, sink);
    const netList = Array.isArray(s.networks) ? s.networks.map(String) : isObj(s.networks) ? Object.keys(s.networks) : useDefault ? ['default'] : [];
    const netIds = netList.map((n) => networks.find((x) => x.name === n)?.id).filter((v): v is string => !!v);
    for (const n of netList) if (!networks.some((x) => x.name === n)) sink.warn('description', 1, `service ${name}: network ${n} is not declared under \`networks\`; ignored`);
    const endpointMode = String(deploy.endpoint_mode ?? 'vip') === 'dnsrr' ? 'dnsrr' : 'vip';
    if (endpointMode === 'dnsrr' && ports.some((p) => p.mode === 'ingress')) sink.warn('description', 1, `service ${name}: dnsrr cannot publish ingress ports (Docker refuses it); its ports are made host-mode`);
    const svc: SwarmService = { id: String(ids[name] ?? swarmId(`service/${name}`)), name, endpointMode, ports: endpointMode === 'dnsrr' ? ports.map((p) => ({ ...p, mode: 'host' as const })) : ports, vips: {}, networks: netIds, marks: {} };
    svcs.push(svc);
    extras.images[name] = String(s.image ?? 'nginx:latest');
    const eligible = nodes.filter((n) => placementOk(deploy, n, extras));
    const global = String(deploy.mode ?? 'replicated') === 'global';
    const slots: { slot: string; node?: string }[] = [];
    if (global) for (const n of eligible) slots.push({ slot: extras.nodes[n.name].id, node: n.name });
    else {
      const replicas = Number(deploy.replicas ?? 1);
      for (let k = 1; k <= replicas; k++) {
        const pin = isObj(pinTasks[`${name}.${k}`]) ? (pinTasks[`${name}.${k}`] as JsonObjectLike) : {};
        const node = pin.node !== undefined ? String(pin.node) : eligible.length ? eligible[nodeRR++ % eligible.length].name : undefined;
        slots.push({ slot: String(k), node });
      }
    }
    for (const sl of slots) {
      const key = `${name}.${global ? sl.node : sl.slot}`;
      const pin = isObj(pinTasks[key]) ? (pinTasks[key] as JsonObjectLike) : {};
      const id = String(pin.id ?? swarmId(`task/${key}`));
      const full = `${name}.${sl.slot}.${id}`;
      tasks.push({ name: full, service: name, node: sl.node, ips: {} });
      extras.tasks[full] = { slot: sl.slot, id, containerId: String(pin.container ?? hexId(`container/${full}`)), image: extras.images[name], gwIp: '' };
    }
  }

  // Which nodes have which network: ingress everywhere; an overlay where a task of it runs.
  const ingress = networks[0];
  ingress.nodes = nodes.map((n) => n.name);
  for (const net of networks.slice(1)) {
    const svcNames = new Set(svcs.filter((s) => s.networks.includes(net.id)).map((s) => s.name));
    net.nodes = nodes.map((n) => n.name).filter((n) => tasks.some((t) => t.node === n && svcNames.has(t.service)));
  }

  // Addresses, network by network: LB endpoints per node, then per service its VIP and its tasks.
  for (const net of networks) {
    const sub = net.subnet as { addr: string; prefixLen: number };
    const pool = new Pool(ipToInt(sub.addr), sub.prefixLen, 2);
    const pins = isObj(pinned[net.name]) ? (pinned[net.name] as JsonObjectLike) : {};
    for (const v of Object.values(pins)) pool.pin(String(v));
    const pick = (key: string): string => (pins[key] !== undefined ? String(pins[key]) : pool.take());
    for (const n of net.nodes) net.lbIps[n] = pick(n);
    for (const svc of svcs) {
      const onNet = net.ingress ? svc.ports.some((p) => p.mode === 'ingress') : svc.networks.includes(net.id);
      if (!onNet) continue;
      if (svc.endpointMode === 'vip') svc.vips[net.id] = pick(svc.name);
      for (const t of tasks.filter((x) => x.service === svc.name).sort((a, b) => slotOrder(extras, a, b))) {
        const short = `${svc.name}.${extras.tasks[t.name].slot}`;
        t.ips[net.id] = pick(pins[t.name] !== undefined ? t.name : short);
      }
    }
  }
  // docker_gwbridge: ingress_sbox at .2, tasks after it in the order they were placed.
  for (const n of nodes) {
    let k = 3;
    for (const t of tasks) if (t.node === n.name) extras.tasks[t.name].gwIp = intToIp(gw.net + k++);
  }
  // fwmarks: a per-node counter from 256, one per (service, network) load balancer, in creation order.
  for (const n of nodes) {
    let mark = 256;
    const pm = isObj(pinMarks[n.name]) ? (pinMarks[n.name] as JsonObjectLike) : {};
    for (const svc of svcs) {
      if (svc.endpointMode !== 'vip') continue;
      const lbs = [...(svc.ports.some((p) => p.mode === 'ingress') ? [ingress] : []), ...networks.filter((x) => !x.ingress && svc.networks.includes(x.id) && x.nodes.includes(n.name))];
      for (const net of lbs) {
        const pinnedMark = pm[`${svc.name}/${net.name}`];
        (svc.marks[n.name] ??= {})[net.id] = pinnedMark !== undefined ? Number(pinnedMark) : mark++;
      }
    }
  }
  for (const t of tasks) if (!t.node) sink.warn('description', 1, `task ${t.name}: no node satisfies its placement; it is not created`);
  return { facts: { nodes, networks, services: svcs, tasks: tasks.filter((t) => t.node), gaps: [] }, extras, problems: sink.problems };
}

type JsonObjectLike = Record<string, unknown>;

function isObj(v: unknown): v is JsonObjectLike {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toPlain(v: JsonValue | undefined): unknown {
  if (v === undefined) return undefined;
  const o = J.obj(v);
  if (o) {
    const out: JsonObjectLike = {};
    for (const [k, x] of Object.entries(o as JsonObject)) out[k] = toPlain(x);
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => toPlain(x));
  return v;
}

function splitNet(s: string): { net: number; prefixLen: number } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const p = Number(m[2]);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return { net: (ipToInt(m[1]) & mask) >>> 0, prefixLen: p };
}

function slotOrder(x: SynthExtras, a: SwarmTask, b: SwarmTask): number {
  const sa = x.tasks[a.name].slot;
  const sb = x.tasks[b.name].slot;
  return /^\d+$/.test(sa) && /^\d+$/.test(sb) ? Number(sa) - Number(sb) : sa < sb ? -1 : 1;
}

/** `deploy.placement.constraints` with node.hostname / node.role (==, !=). */
function placementOk(deploy: JsonObjectLike, n: SwarmNode, x: SynthExtras): boolean {
  const pl = isObj(deploy.placement) ? deploy.placement : {};
  const cons = Array.isArray(pl.constraints) ? pl.constraints.map(String) : [];
  for (const c of cons) {
    const m = /^\s*node\.(hostname|role)\s*(==|!=)\s*(\S+)\s*$/.exec(c);
    if (!m) continue;
    const v = m[1] === 'hostname' ? n.name : x.nodes[n.name]?.role;
    if ((m[2] === '==') !== (v === m[3])) return false;
  }
  return true;
}

/** Compose `ports`: "8080:80", "8080:80/udp", "8000-8009:80-89", or the long syntax. */
function parsePorts(v: unknown, svc: string, sink: ProblemSink): SwarmPort[] {
  const out: SwarmPort[] = [];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    sink.warn('description', 1, `service ${svc}: ports must be a list`);
    return out;
  }
  for (const p of v) {
    if (isObj(p)) {
      const proto = String(p.protocol ?? 'tcp') as SwarmPort['proto'];
      const target = Number(p.target);
      const published = Number(p.published ?? p.target);
      if (!Number.isInteger(target) || !Number.isInteger(published)) {
        sink.warn('description', 1, `service ${svc}: port ${JSON.stringify(p)} needs a numeric target`);
        continue;
      }
      out.push({ proto, target, published, mode: String(p.mode ?? 'ingress') === 'host' ? 'host' : 'ingress' });
      continue;
    }
    const m = /^(?:(\d+)(?:-(\d+))?:)?(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(String(p).trim());
    if (!m) {
      sink.warn('description', 1, `service ${svc}: port ${JSON.stringify(p)} is not PUBLISHED:TARGET[/proto]`);
      continue;
    }
    const tFrom = Number(m[3]);
    const tTo = m[4] !== undefined ? Number(m[4]) : tFrom;
    const pFrom = m[1] !== undefined ? Number(m[1]) : tFrom;
    const n = tTo - tFrom + 1;
    for (let k = 0; k < n && k < 65536; k++) out.push({ proto: (m[5] ?? 'tcp') as SwarmPort['proto'], target: tFrom + k, published: pFrom + k, mode: 'ingress' });
  }
  return out;
}

export { cmpIp };
