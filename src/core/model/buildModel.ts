/**
 * Builds the network model from the dump files of a capture: detects each dump's kind, parses
 * it, merges the dumps of each namespace, and joins namespaces up (veth peers, bridge ports,
 * VXLAN peers across nodes, Docker's view of which namespace is what). Pure: the files come in as
 * text (src/node reads them from disk).
 */
import { ProblemSink, type ParseShare, type Problem } from '../problem';
import { detectKind, tableHint } from '../parsers/detectKind';
import { parseDump } from '../parsers/index';
import { diffRulesets } from './netfilterCompare';
import type { DockerFacts } from './docker';
import type { Ruleset, Table } from './netfilter';
import { BUILTIN_CHAINS } from './netfilter';
import type {
  DockerModel,
  DumpFile,
  DumpKind,
  Link,
  Model,
  ModelIface,
  Namespace,
  NamespaceRole,
  Node,
} from './model';

/** Dumps of one kind family describe the same data; the first of each family is used. */
const FAMILY: Record<DumpKind, string> = {
  'iptables-save': 'iptables',
  'iptables-S': 'iptables',
  'iptables-L': 'iptables',
  ipvsadm: 'ipvs',
  'ip-addr': 'addr',
  'ip-addr-json': 'addr',
  'ip-route': 'route',
  'ip-route-json': 'route',
  'ip-rule': 'rule',
  'ip-rule-json': 'rule',
  'bridge-fdb': 'fdb',
  'bridge-fdb-json': 'fdb',
  'ip-neigh': 'neigh',
  'ip-neigh-json': 'neigh',
  sysctl: 'sysctl',
  nft: 'nft',
  'docker-json': 'docker',
};

/** Preference among dumps of one family: lower is preferred (the most complete form first). */
const PREFERENCE: Partial<Record<DumpKind, number>> = {
  'iptables-save': 0,
  'iptables-S': 1,
  'iptables-L': 2,
  // Text and JSON of iproute2 hold the same data; text lines are what users read, so answers point there.
  'ip-addr-json': 1,
  'ip-route-json': 1,
  'ip-rule-json': 1,
  'bridge-fdb-json': 1,
  'ip-neigh-json': 1,
};

/** File names that announce a dump kind; content that is not that kind then earns a warning. */
const DUMPISH_NAME = /(iptables|ipvs|ip-?addr|ip-?route|ip-?rule|fdb|neigh|sysctl|nft|network-inspect|service-inspect|rules\.v[46])/i;

/** The kind a conventional file name announces (`iptables-save.txt`, `ip-route.json`, `ipvsadm-S.txt` …). */
function kindFromName(name: string): DumpKind | undefined {
  const n = name.toLowerCase();
  const json = n.endsWith('.json');
  if (/^ip6?tables-save|^rules\.v[46]$/.test(n)) return 'iptables-save';
  if (/^ip6?tables-s[-_.]/.test(n)) return 'iptables-S';
  if (/^ip6?tables-l[-_.]/.test(n)) return 'iptables-L';
  if (/^ipvsadm/.test(n)) return 'ipvsadm';
  if (/^ip-?addr|^ip-?link/.test(n)) return json ? 'ip-addr-json' : 'ip-addr';
  if (/^ip-?route/.test(n)) return json ? 'ip-route-json' : 'ip-route';
  if (/^ip-?rule/.test(n)) return json ? 'ip-rule-json' : 'ip-rule';
  if (/^(bridge-)?fdb/.test(n)) return json ? 'bridge-fdb-json' : 'bridge-fdb';
  if (/^ip-?neigh/.test(n)) return json ? 'ip-neigh-json' : 'ip-neigh';
  if (/^sysctl/.test(n)) return 'sysctl';
  if (/^nft/.test(n)) return 'nft';
  return undefined;
}

/** Builds the model. Never throws on any input text. */
export function buildModel(files: DumpFile[]): Model {
  const problems: Problem[] = [];
  const nsById = new Map<string, Namespace>();
  const nodeByName = new Map<string, Node>();
  const nodeDocker = new Map<string, DockerFacts[]>();
  const modelFiles: Model['files'] = [];
  const ifaces: ModelIface[] = [];
  const links: Link[] = [];
  const iptablesViews = new Map<string, { kind: DumpKind; file: string; rs: Ruleset }[]>();
  // One parse state for the whole capture: the nodes of a swarm have near-identical rulesets.
  const shared: ParseShare = {};

  const node = (name: string): Node => {
    let n = nodeByName.get(name);
    if (!n) {
      n = { name, namespaceIds: [], addresses: [] };
      nodeByName.set(name, n);
    }
    return n;
  };
  const namespace = (nodeName: string, nsName: string): Namespace => {
    const id = `${nodeName}/${nsName}`;
    let ns = nsById.get(id);
    if (!ns) {
      ns = {
        id,
        node: nodeName,
        name: nsName,
        role: roleFromName(nsName),
        interfaceIds: [],
        routes: [],
        rules: [],
        fdb: [],
        neighbours: [],
        sysctls: Object.create(null) as Namespace['sysctls'],
        dumps: [],
      };
      nsById.set(id, ns);
      node(nodeName).namespaceIds.push(id);
    }
    return ns;
  };

  // Detect and parse every file; keep the parse results per namespace, in preference order.
  const parsed: { file: DumpFile; kind: DumpKind; out: ReturnType<typeof parseDump> }[] = [];
  for (const f of files) {
    const sink = new ProblemSink(f.path);
    const det = f.kind ? { kind: f.kind, table: tableHint(f.cmd) ?? tableHint(f.path) } : detectKind(f.text, f.path, f.cmd);
    modelFiles.push({ path: f.path, node: f.node, namespace: f.namespace, kind: f.cmd && /^meshtrace-collect\b/.test(f.cmd) ? undefined : det.kind, bytes: f.text.length });
    const firstLine = 1 + f.lineOffset;
    if (f.cmd && /^meshtrace-collect\b/.test(f.cmd)) {
      // The collector's notes (a tool missing or failing on the node) say what the capture lacks.
      f.text.split('\n').forEach((l, i) => {
        if (/^# meshtrace:/.test(l)) sink.info('collector-note', firstLine + i, l.replace(/^# meshtrace:\s*/, 'collector: '));
      });
      problems.push(...sink.problems);
      continue;
    }
    if (det.binary) {
      sink.warn('not-text', firstLine, `${det.reason}; the file is skipped`);
    } else if (det.empty && !det.kind) {
      const byName = kindFromName(f.path.split('/').pop() ?? '');
      sink.info('empty-dump', firstLine, `empty file: the command printed nothing${byName === 'iptables-save' ? ' (for iptables-save: no table is loaded in this namespace)' : ''}`);
    } else if (!det.kind) {
      if (DUMPISH_NAME.test(f.path.split('/').pop() ?? '')) {
        sink.warn('unknown-kind', firstLine, `the name suggests a dump, but the content is ${det.reason ?? 'not recognised'}; expected one of the kinds in capture-format.md (iptables-save, ipvsadm -Ln, ip addr, …)`);
      } else {
        sink.info('not-a-dump', firstLine, `${det.reason ?? 'not a dump'}; ignored`);
      }
    }
    const named = kindFromName(f.path.split('/').pop() ?? '');
    if (det.kind && named && FAMILY[named] !== FAMILY[det.kind] && !f.cmd) {
      sink.warn('kind-mismatch', firstLine, `the file name suggests ${named} output, but the content is ${det.kind}; read as ${det.kind}`);
    }
    problems.push(...sink.problems);
    if (!det.kind) continue;
    if (det.empty) {
      // An empty dump of a known kind still tells something: nothing was there.
      problems.push({ code: 'empty-dump', severity: 'info', message: `empty ${det.kind} dump: the command printed nothing`, file: f.path, line: firstLine, col: 1, endCol: 2 });
    }
    const out = parseDump(det.kind, f.text, { file: f.path, hint: det.table, lineOffset: f.lineOffset, shared });
    problems.push(...out.result.problems);
    parsed.push({ file: f, kind: det.kind, out });
  }
  parsed.sort((a, b) => (PREFERENCE[a.kind] ?? 0) - (PREFERENCE[b.kind] ?? 0));

  for (const { file, kind, out } of parsed) {
    if (out.kind === 'failed') continue;
    if (out.kind === 'docker-json') {
      const list = nodeDocker.get(file.node) ?? [];
      list.push(out.result.value);
      nodeDocker.set(file.node, list);
      node(file.node);
      continue;
    }
    if (file.namespace === '') {
      problems.push({ code: 'dump-outside-namespace', severity: 'warning', message: `a ${kind} dump directly in node folder "${file.node}": put it in a namespace folder (e.g. ${file.node}/host/) so meshtrace knows whose it is; read as the host namespace`, file: file.path, line: 1 + file.lineOffset, col: 1, endCol: 2 });
    }
    const ns = namespace(file.node, file.namespace || 'host');
    const family = FAMILY[kind];
    const already = ns.dumps.some((d) => FAMILY[d.kind] === family && d.used);
    let used = !already;
    switch (out.kind) {
      case 'iptables-save':
      case 'iptables-S':
      case 'iptables-L': {
        const rs = out.result.value;
        const key = `${ns.id}|${rs.family}`;
        const views = iptablesViews.get(key) ?? [];
        views.push({ kind: out.kind, file: file.path, rs });
        iptablesViews.set(key, views);
        used = mergeRuleset(ns, rs);
        break;
      }
      case 'ipvsadm':
        if (!already || (ns.ipvs?.services.length === 0 && out.result.value.services.length > 0)) {
          ns.ipvs = out.result.value;
          used = true;
        } else if (out.result.value.conns.length > 0 && ns.ipvs && ns.ipvs.conns.length === 0) {
          ns.ipvs.conns = out.result.value.conns;
          used = true;
        }
        break;
      case 'ip-addr':
      case 'ip-addr-json':
        if (!already) {
          for (const i of out.result.value) {
            const id = `${ns.id}/${i.name}`;
            if (ns.interfaceIds.includes(id)) continue;
            ifaces.push({ ...i, id, namespaceId: ns.id });
            ns.interfaceIds.push(id);
          }
        }
        break;
      case 'ip-route':
      case 'ip-route-json':
        if (!already) ns.routes = out.result.value;
        break;
      case 'ip-rule':
      case 'ip-rule-json':
        if (!already) ns.rules = out.result.value;
        break;
      case 'bridge-fdb':
      case 'bridge-fdb-json':
        if (!already) ns.fdb = out.result.value;
        break;
      case 'ip-neigh':
      case 'ip-neigh-json':
        if (!already) ns.neighbours = out.result.value;
        break;
      case 'sysctl':
        // Several sysctl dumps add up (a subset here, -a there); the first value of a key wins.
        for (const e of out.result.value) if (!(e.key in ns.sysctls)) ns.sysctls[e.key] = e;
        used = true;
        break;
      case 'nft':
        if (!already) ns.nft = out.result.value;
        break;
    }
    ns.dumps.push({ kind, file: file.path, used });
  }

  // Alternate iptables views of the same namespace must agree with the one used.
  for (const views of iptablesViews.values()) checkIptablesViews(views, problems);

  // Rule ids.
  for (const ns of nsById.values()) {
    for (const rs of [ns.iptables, ns.ip6tables]) {
      if (!rs) continue;
      for (const t of rs.tables) {
        for (const c of t.chains) {
          // One prefix string per chain (a capture can hold 400k rules).
          const prefix = `${ns.id}/${t.name}/${c.name}/`;
          for (const r of c.rules) r.id = prefix + r.index;
        }
      }
    }
  }

  const docker = mergeDocker(nodeDocker);
  const namespaces = [...nsById.values()];
  const ifaceById = new Map(ifaces.map((i) => [i.id, i]));
  for (const n of nodeByName.values()) {
    const host = nsById.get(`${n.name}/host`);
    if (!host) continue;
    for (const id of host.interfaceIds) {
      const i = ifaceById.get(id);
      if (!i || i.name === 'lo') continue;
      for (const a of i.addrs) if (a.family === 'inet' && a.scope === 'global') n.addresses.push(a.local);
    }
  }
  assignDockerRoles(namespaces, docker);
  joinInterfaces(namespaces, ifaces, links, problems);
  joinVxlan(namespaces, ifaces, [...nodeByName.values()], docker, links, problems);
  reportMissingDumps(namespaces, problems);

  return { nodes: [...nodeByName.values()], namespaces, interfaces: ifaces, links, docker, problems, files: modelFiles };
}

/** Role of a namespace from the folder names Docker's netns files have. */
function roleFromName(name: string): NamespaceRole {
  if (name === 'host') return 'host';
  if (name === 'ingress_sbox') return 'ingress-sbox';
  if (/^lb_[0-9a-z]+$/.test(name)) return 'lb';
  // Overlay network sandboxes: "<epoch>-<netid>" cut to 12 characters (ov_network.go initSandbox).
  if (/^\d+-[0-9a-z]+$/.test(name)) return 'overlay';
  return 'other';
}

/** Merges one parsed ruleset into the namespace; returns whether any of its tables was used. */
function mergeRuleset(ns: Namespace, rs: Ruleset): boolean {
  const key = rs.family === 'ipv6' ? 'ip6tables' : 'iptables';
  const cur = ns[key];
  if (!cur) {
    ns[key] = { ...rs, tables: [...rs.tables] };
    return true;
  }
  let used = false;
  for (const t of rs.tables) {
    if (cur.tables.some((x) => x.name === t.name)) continue;
    cur.tables.push(t);
    used = true;
  }
  if (cur.flavour === 'unknown' && rs.flavour !== 'unknown') cur.flavour = rs.flavour;
  return used;
}

/** An empty table as the kernel has it before any rule is added: built-ins with ACCEPT. */
function emptyTable(t: Table): Table {
  return {
    name: t.name,
    source: t.source,
    chains: BUILTIN_CHAINS[t.name].map((c) => ({ name: c, table: t.name, builtin: true, policy: 'ACCEPT' as const, rules: [], source: t.source })),
  };
}

/**
 * Compares each table of every alternate view (iptables -S, -L) with the view the model uses.
 * A table missing from one view (an empty iptables-save: the table was never loaded) counts as
 * the kernel's empty table.
 */
function checkIptablesViews(views: { kind: DumpKind; file: string; rs: Ruleset }[], problems: Problem[]): void {
  if (views.length < 2) return;
  const byTable = new Map<string, { kind: DumpKind; file: string; table: Table; rs: Ruleset }[]>();
  for (const v of views) {
    for (const t of v.rs.tables) {
      const list = byTable.get(t.name) ?? [];
      list.push({ kind: v.kind, file: v.file, table: t, rs: v.rs });
      byTable.set(t.name, list);
    }
  }
  const primary = views[0];
  for (const [name, list] of byTable) {
    const base = list.find((x) => x.file === primary.file) ?? list[0];
    for (const other of list) {
      if (other === base) continue;
      const one = (t: Table, rs: Ruleset): Ruleset => ({ ...rs, tables: [t] });
      const baseTable = base.table;
      const diffs = diffRulesets(one(baseTable, base.rs), one(other.table, other.rs));
      if (diffs.length === 0) continue;
      problems.push({
        code: 'views-disagree',
        severity: 'warning',
        message: `table ${name} here differs from ${base.file} (${diffs.length} difference${diffs.length > 1 ? 's' : ''}; were they taken at different times?): ${diffs.slice(0, 3).join('; ')}`,
        file: other.file,
        line: other.table.source.line,
        col: 1,
        endCol: 2,
      });
    }
    // The primary view may lack a table another view has (empty iptables-save): compare with an empty table.
    if (!primary.rs.tables.some((t) => t.name === name) && primary.kind === 'iptables-save') {
      for (const other of list) {
        const diffs = diffRulesets({ ...other.rs, tables: [emptyTable(other.table)] }, { ...other.rs, tables: [other.table] });
        if (diffs.length === 0) continue;
        problems.push({
          code: 'views-disagree',
          severity: 'warning',
          message: `table ${name} has rules here, but ${primary.file} has no ${name} table (taken at different times?): ${diffs.slice(0, 3).join('; ')}`,
          file: other.file,
          line: other.table.source.line,
          col: 1,
          endCol: 2,
        });
      }
    }
  }
}

/** Flattens Docker facts of every node, tagging each with the node whose dump told it. */
function mergeDocker(nodeDocker: Map<string, DockerFacts[]>): DockerModel {
  const out: DockerModel = { networks: [], services: [], containers: [], nodes: [] };
  for (const [node, list] of nodeDocker) {
    for (const f of list) {
      for (const n of f.networks) out.networks.push({ ...n, node });
      for (const s of f.services) out.services.push({ ...s, node });
      for (const c of f.containers) out.containers.push({ ...c, node });
      for (const n of f.nodes) out.nodes.push({ ...n, node });
    }
  }
  return out;
}

/** Uses `docker inspect` and `docker network inspect` to say which namespace is which container. */
function assignDockerRoles(namespaces: Namespace[], docker: DockerModel): void {
  for (const ns of namespaces) {
    if (ns.role === 'overlay') {
      const prefix = ns.name.replace(/^\d+-/, '');
      const net = docker.networks.find((n) => n.node === ns.node && n.id.startsWith(prefix));
      if (net) ns.docker = { networkId: net.id, networkName: net.name };
      continue;
    }
    if (ns.role === 'lb') {
      const prefix = ns.name.slice(3);
      const net = docker.networks.find((n) => n.node === ns.node && n.id.startsWith(prefix));
      if (net) ns.docker = { networkId: net.id, networkName: net.name };
      continue;
    }
    if (ns.role !== 'other') continue;
    const c = docker.containers.find(
      (c) =>
        c.node === ns.node &&
        (c.sandboxId === ns.name ||
          c.id.startsWith(ns.name) ||
          c.name === ns.name ||
          c.labels['com.docker.swarm.task.name'] === ns.name ||
          (c.labels['com.docker.swarm.task.name'] !== undefined && ns.name === c.labels['com.docker.swarm.task.name'].split('.').slice(0, 3).join('.'))),
    );
    if (c) {
      ns.role = 'container';
      ns.docker = {
        containerId: c.id,
        containerName: c.name,
        taskName: c.labels['com.docker.swarm.task.name'],
        serviceName: c.labels['com.docker.swarm.service.name'],
      };
    }
  }
}

/** Joins veth peers (across the namespaces of one node) and bridge ports. */
function joinInterfaces(namespaces: Namespace[], ifaces: ModelIface[], links: Link[], problems: Problem[]): void {
  const byNs = new Map<string, ModelIface[]>();
  for (const i of ifaces) {
    const l = byNs.get(i.namespaceId) ?? [];
    l.push(i);
    byNs.set(i.namespaceId, l);
  }
  const nsOf = new Map(namespaces.map((n) => [n.id, n]));
  const byNodeIndex = new Map<string, ModelIface[]>();
  for (const i of ifaces) {
    const node = nsOf.get(i.namespaceId)?.node ?? '';
    const k = `${node}#${i.ifindex}`;
    const l = byNodeIndex.get(k) ?? [];
    l.push(i);
    byNodeIndex.set(k, l);
  }
  for (const i of ifaces) {
    const local = byNs.get(i.namespaceId) ?? [];
    if (i.master) {
      const br = local.find((x) => x.name === i.master);
      if (br) {
        i.masterId = br.id;
        links.push({ kind: 'bridge-port', bridge: br.id, port: i.id });
      } else {
        problems.push({ code: 'missing-master', severity: 'warning', message: `${i.name} is a port of "${i.master}", which this namespace's ip addr dump does not list`, file: i.source.file, line: i.source.line, col: 1, endCol: 2 });
      }
    }
    if (i.peerId || !i.link || i.details.kind === 'vxlan' || i.details.kind === 'vlan' || i.details.kind === 'macvlan' || i.details.kind === 'ipvlan') continue;
    if (i.link.name && !i.link.none) {
      // Same-namespace peer printed by name (veth1@veth0).
      const p = local.find((x) => x.name === i.link?.name);
      if (p && (p.details.kind === 'veth' || i.details.kind === 'veth' || (p.link?.name === i.name))) pairVeth(i, p, links);
      continue;
    }
    if (i.link.ifindex === undefined) continue;
    const ns = nsOf.get(i.namespaceId);
    if (!ns) continue;
    const crossNs = i.linkNetnsid !== undefined || i.linkNetns !== undefined;
    const candidates = (byNodeIndex.get(`${ns.node}#${i.link.ifindex}`) ?? []).filter(
      // A veth always names its peer (`@ifN`), so a candidate must point back at this interface.
      (p) => p !== i && (crossNs ? p.namespaceId !== i.namespaceId : p.namespaceId === i.namespaceId) && p.link?.ifindex === i.ifindex,
    );
    // Prefer the one in the namespace named by link-netns.
    const named = i.linkNetns ? candidates.filter((p) => nsOf.get(p.namespaceId)?.name === i.linkNetns) : [];
    const pick = named.length === 1 ? named : candidates;
    if (pick.length === 1) {
      pairVeth(i, pick[0], links);
    } else if (pick.length > 1) {
      problems.push({ code: 'ambiguous-peer', severity: 'warning', message: `${i.name}@if${i.link.ifindex}: ${pick.length} interfaces of node ${ns.node} could be its peer (${pick.map((p) => p.id).join(', ')}); add link-netns names (ip netns) to tell them apart`, file: i.source.file, line: i.source.line, col: 1, endCol: 2 });
    } else if (crossNs && (i.details.kind === 'veth' || i.details.kind === undefined)) {
      problems.push({
        code: 'missing-peer',
        severity: 'info',
        message: `${i.name}@if${i.link.ifindex}: its peer (ifindex ${i.link.ifindex}${i.linkNetns ? ` in namespace "${i.linkNetns}"` : i.linkNetnsid !== undefined ? `, link-netnsid ${i.linkNetnsid}` : ''}) is in a namespace this capture has no \`ip addr\` dump of; add \`ip -d addr\` of that namespace to follow packets through it`,
        file: i.source.file,
        line: i.source.line,
        col: 1,
        endCol: 2,
      });
    }
  }
}

function pairVeth(a: ModelIface, b: ModelIface, links: Link[]): void {
  if (a.peerId || b.peerId) return;
  a.peerId = b.id;
  b.peerId = a.id;
  links.push({ kind: 'veth', a: a.id, b: b.id });
}

/**
 * Joins each VXLAN device to the same VNI on other nodes. Remote endpoints come from the FDB
 * (`<mac> dev vxlan0 dst 192.168.200.11`) and from Docker's `Peers` of the overlay with that VNI.
 */
function joinVxlan(namespaces: Namespace[], ifaces: ModelIface[], nodes: Node[], docker: DockerModel, links: Link[], problems: Problem[]): void {
  const nodeByIp = new Map<string, string>();
  for (const n of nodes) for (const a of n.addresses) nodeByIp.set(a, n.name);
  for (const n of docker.nodes) if (n.addr && !nodeByIp.has(n.addr)) {
    const byName = nodes.find((x) => x.name === n.hostname);
    if (byName) nodeByIp.set(n.addr, byName.name);
  }
  const nsOf = new Map(namespaces.map((n) => [n.id, n]));
  const vxlans = ifaces.filter((i) => i.details.vxlan);
  // The first VXLAN device of each (VNI, node): where a remote's packets for that VNI arrive.
  const byVniNode = new Map<string, ModelIface>();
  for (const x of vxlans) {
    const k = `${x.details.vxlan?.vni ?? 0}/${nsOf.get(x.namespaceId)?.node}`;
    if (!byVniNode.has(k)) byVniNode.set(k, x);
  }
  // Per VNI, the Peers of every network carrying it (each node's `docker network inspect -v` lists
  // them all again): each address once, with the first network that named it.
  const peersByVni = new Map<number, { ip: string; source: { file: string; line: number } }[]>();
  const peersOf = (vni: number): { ip: string; source: { file: string; line: number } }[] => {
    let l = peersByVni.get(vni);
    if (l === undefined) {
      l = [];
      const seen = new Set<string>();
      for (const net of docker.networks) {
        if (!net.vnis.includes(vni)) continue;
        for (const p of net.peers) if (!seen.has(p.ip)) {
          seen.add(p.ip);
          l.push({ ip: p.ip, source: net.source });
        }
      }
      peersByVni.set(vni, l);
    }
    return l;
  };
  for (const i of vxlans) {
    const vni = i.details.vxlan?.vni ?? 0;
    const ns = nsOf.get(i.namespaceId);
    if (!ns) continue;
    const link: Link & { kind: 'vxlan' } = { kind: 'vxlan', iface: i.id, vni, remote: [] };
    const seen = new Set<string>();
    const add = (ip: string, source?: { file: string; line: number }): void => {
      if (seen.has(ip)) return;
      seen.add(ip);
      const nodeName = nodeByIp.get(ip);
      let target: ModelIface | undefined;
      if (nodeName && nodeName !== ns.node) target = byVniNode.get(`${vni}/${nodeName}`);
      link.remote.push({ nodeIp: ip, node: nodeName, namespaceId: target?.namespaceId, ifaceId: target?.id, source });
    };
    for (const e of ns.fdb) if (e.dev === i.name && e.dst && e.dst !== '0.0.0.0') add(e.dst, e.source);
    if (i.details.vxlan?.remote) add(i.details.vxlan.remote);
    for (const p of peersOf(vni)) if (nodeByIp.get(p.ip) !== ns.node) add(p.ip, p.source);
    links.push(link);
    const hasFdbDump = ns.dumps.some((d) => FAMILY[d.kind] === 'fdb');
    if (link.remote.length === 0 && !hasFdbDump && docker.networks.length === 0) {
      problems.push({ code: 'missing-fdb', severity: 'info', message: `${i.name} (VXLAN ${vni}): no \`bridge fdb show\` of this namespace and no \`docker network inspect\` Peers, so meshtrace cannot tell which nodes it reaches; add either`, file: i.source.file, line: i.source.line, col: 1, endCol: 2 });
    }
  }
}

/** Notes, per namespace, the dumps whose absence leaves a part of the model unknown. */
function reportMissingDumps(namespaces: Namespace[], problems: Problem[]): void {
  for (const ns of namespaces) {
    const has = (fam: string): boolean => ns.dumps.some((d) => FAMILY[d.kind] === fam);
    const any = ns.dumps[0];
    if (!any) continue;
    const at = { file: any.file, line: 1, col: 1, endCol: 2 };
    if (!has('addr') && (has('iptables') || has('route'))) {
      problems.push({ code: 'missing-dump', severity: 'info', message: `namespace ${ns.id} has no \`ip addr\` dump: its interfaces and local addresses are unknown (add \`ip -d addr\`)`, ...at });
    }
    if (!has('route') && has('addr') && ns.interfaceIds.length > 1) {
      problems.push({ code: 'missing-dump', severity: 'info', message: `namespace ${ns.id} has no \`ip route\` dump: routing there is unknown (add \`ip route show table all\`)`, ...at });
    }
  }
}
