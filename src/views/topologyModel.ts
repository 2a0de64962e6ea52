/**
 * The Topology tree as plain items: capture → nodes → namespaces → interfaces (addresses, veth
 * peers, bridge ports, VXLAN), routes, policy rules, netfilter tables → chains → rules (with
 * counters), IPVS services → real servers, neighbours, FDB, sysctls; then Docker networks,
 * services (published ports), tasks and swarm nodes. Problems hang on the node or namespace whose
 * file they are in. Pure: renders the Model, decides nothing.
 */
import type { Problem, Severity } from '../core/problem';
import type { Model, ModelIface, Namespace } from '../core/model/model';
import type { Chain, Counters, Ruleset } from '../core/model/netfilter';
import type { IpvsDest, IpvsService } from '../core/model/ipvs';
import type { IpRule, Route } from '../core/model/link';
import { contextOf, type ViewItem } from './viewItem';

/** Problems of a capture, grouped by the node and namespace their file belongs to. */
export interface ProblemIndex {
  byNamespace: Map<string, Problem[]>;
  byNode: Map<string, Problem[]>;
  /** Problems of files that belong to no node of the model (read errors, stray files). */
  capture: Problem[];
}

/** Sorts every problem of the model to its namespace, node or the capture. */
export function indexProblems(m: Model): ProblemIndex {
  const owner = new Map(m.files.map((f) => [f.path, f]));
  const nodes = new Set(m.nodes.map((n) => n.name));
  const nsIds = new Set(m.namespaces.map((n) => n.id));
  const idx: ProblemIndex = { byNamespace: new Map(), byNode: new Map(), capture: [] };
  const push = (map: Map<string, Problem[]>, k: string, p: Problem): void => {
    const list = map.get(k);
    if (list) list.push(p);
    else map.set(k, [p]);
  };
  for (const p of m.problems) {
    const f = owner.get(p.file);
    if (f && f.namespace && nsIds.has(`${f.node}/${f.namespace}`)) push(idx.byNamespace, `${f.node}/${f.namespace}`, p);
    else if (f && nodes.has(f.node)) push(idx.byNode, f.node, p);
    else idx.capture.push(p);
  }
  return idx;
}

/** Counts that matter for a badge: errors and warnings (info problems are notes). */
export function problemCounts(ps: Problem[]): Record<Severity, number> {
  const c: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const p of ps) c[p.severity]++;
  return c;
}

function countsText(ps: Problem[]): string {
  const c = problemCounts(ps);
  const parts: string[] = [];
  if (c.error) parts.push(`${c.error} error${c.error === 1 ? '' : 's'}`);
  if (c.warning) parts.push(`${c.warning} warning${c.warning === 1 ? '' : 's'}`);
  if (c.info) parts.push(`${c.info} note${c.info === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function worst(ps: Problem[]): Severity | undefined {
  const c = problemCounts(ps);
  return c.error ? 'error' : c.warning ? 'warning' : c.info ? 'info' : undefined;
}

const SEVERITY_ICON: Record<Severity, { icon: string; color: string }> = {
  error: { icon: 'error', color: 'problemsErrorIcon.foreground' },
  warning: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  info: { icon: 'info', color: 'problemsInfoIcon.foreground' },
};

function problemsGroup(id: string, ps: Problem[]): ViewItem[] {
  if (!ps.length) return [];
  const w = worst(ps) ?? 'info';
  return [
    {
      id: `${id}#problems`,
      label: 'Problems',
      description: countsText(ps),
      icon: SEVERITY_ICON[w].icon,
      iconColor: SEVERITY_ICON[w].color,
      contextValue: 'problems',
      children: () =>
        ps.map((p, i) => ({
          id: `${id}#problems/${i}`,
          label: p.message,
          description: `${p.file}:${p.line}:${p.col}`,
          tooltip: `${p.file}:${p.line}:${p.col}: ${p.severity}: ${p.message} [${p.code}]`,
          icon: SEVERITY_ICON[p.severity].icon,
          iconColor: SEVERITY_ICON[p.severity].color,
          source: { file: p.file, line: p.line },
          contextValue: contextOf('problem', { source: true }),
        })),
    },
  ];
}

/** `[12:720]`, as iptables-save -c prints counters (`~` when the dump rounded them). */
export function countersText(c: Counters | undefined): string | undefined {
  if (!c) return undefined;
  return `[${c.approximate ? '~' : ''}${c.packets}:${c.bytes}]`;
}

/** A route as `ip route` would print it, without the table. */
export function routeText(r: Route): string {
  const dst = r.prefixLen === 0 && r.type === 'unicast' ? 'default' : r.prefixLen === (r.family === 'inet' ? 32 : 128) ? r.dst : `${r.dst}/${r.prefixLen}`;
  const parts = [r.type !== 'unicast' ? `${r.type} ${dst}` : dst];
  if (r.via) parts.push(`via ${r.via}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.proto) parts.push(`proto ${r.proto}`);
  if (r.scope) parts.push(`scope ${r.scope}`);
  if (r.src) parts.push(`src ${r.src}`);
  if (r.metric !== undefined) parts.push(`metric ${r.metric}`);
  for (const n of r.nexthops ?? []) parts.push(`nexthop${n.via ? ` via ${n.via}` : ''}${n.dev ? ` dev ${n.dev}` : ''}${n.weight !== undefined ? ` weight ${n.weight}` : ''}`);
  parts.push(...r.flags);
  return parts.join(' ');
}

/** A policy rule as `ip rule` prints it. */
export function ipRuleText(r: IpRule): string {
  const pfx = (x?: { addr: string; prefixLen: number }): string => (!x || x.prefixLen === 0 ? 'all' : `${x.addr}/${x.prefixLen}`);
  const parts = [`${r.priority}:`, r.not ? 'not' : '', `from ${pfx(r.from)}`];
  if (r.to) parts.push(`to ${pfx(r.to)}`);
  if (r.fwmark !== undefined) parts.push(`fwmark 0x${r.fwmark.toString(16)}${r.fwmask !== undefined ? `/0x${r.fwmask.toString(16)}` : ''}`);
  if (r.iif) parts.push(`iif ${r.iif}`);
  if (r.oif) parts.push(`oif ${r.oif}`);
  parts.push(r.action === 'lookup' ? `lookup ${r.table ?? '?'}` : r.action === 'goto' ? `goto ${r.gotoPriority ?? '?'}` : r.action);
  return parts.filter(Boolean).join(' ');
}

/** `TCP 10.0.0.5:80`, `FWM 256`. */
export function ipvsServiceText(s: IpvsService): string {
  return s.proto === 'fwm' ? `FWM ${s.fwmark} (0x${(s.fwmark ?? 0).toString(16)})` : `${s.proto.toUpperCase()} ${s.addr}:${s.port}`;
}

function ipvsDestText(d: IpvsDest): string {
  return `→ ${d.addr}:${d.port}`;
}

function ifaceLinks(i: ModelIface, m: Model, ifById: Map<string, ModelIface>, nsById: Map<string, Namespace>): string[] {
  const rel: string[] = [];
  const where = (id: string): string => {
    const o = ifById.get(id);
    const ns = o ? nsById.get(o.namespaceId) : undefined;
    return o ? `${ns && ns.id !== i.namespaceId ? `${ns.name}/` : ''}${o.name}` : id;
  };
  if (i.peerId) rel.push(`veth peer ${where(i.peerId)}`);
  else if (i.link?.ifindex !== undefined && i.details.kind !== 'vxlan' && i.details.kind !== 'bridge') rel.push(`peer @if${i.link.ifindex} (not in capture)`);
  if (i.masterId) rel.push(`port of ${where(i.masterId)}`);
  const ports = m.interfaces.filter((o) => o.masterId === i.id);
  if (ports.length) rel.push(`bridge of ${ports.map((p) => p.name).join(', ')}`);
  if (i.details.vxlan) {
    const v = i.details.vxlan;
    const vx = m.links.find((l) => l.kind === 'vxlan' && l.iface === i.id);
    const remotes = vx && vx.kind === 'vxlan' ? vx.remote.map((r) => `${r.nodeIp}${r.node ? ` (${r.node})` : ''}`) : [];
    rel.push(`VXLAN ${v.vni}${v.dstport ? ` udp/${v.dstport}` : ''}${remotes.length ? ` to ${remotes.join(', ')}` : ''}`);
  }
  return rel;
}

function ifaceItem(i: ModelIface, ns: Namespace, m: Model, ifById: Map<string, ModelIface>, nsById: Map<string, Namespace>): ViewItem {
  const addrs = i.addrs.map((a) => `${a.local}/${a.prefixLen}`);
  const rel = ifaceLinks(i, m, ifById, nsById);
  const kind = i.details.kind;
  const query = i.name === 'lo' ? undefined : { node: ns.node, namespace: ns.name, iif: i.name };
  return {
    id: `if:${i.id}`,
    label: i.name,
    description: [addrs.join(' '), kind, ...rel].filter(Boolean).join(' · '),
    tooltip: `${i.ifindex}: ${i.name}${kind ? ` (${kind})` : ''}${i.state ? ` state ${i.state}` : ''}${i.mtu ? ` mtu ${i.mtu}` : ''}${i.mac ? `\nlink ${i.mac}` : ''}\n${[...addrs, ...rel].join('\n')}`,
    icon: kind === 'bridge' ? 'type-hierarchy' : kind === 'vxlan' ? 'cloud' : kind === 'veth' ? 'plug' : 'circle-outline',
    contextValue: contextOf('iface', { source: true, query }),
    source: i.source,
    query,
    children: () => [
      ...i.addrs.map((a, k) => ({
        id: `if:${i.id}/addr/${k}`,
        label: `${a.family} ${a.local}/${a.prefixLen}`,
        description: [a.peer ? `peer ${a.peer}` : '', a.scope ? `scope ${a.scope}` : '', ...a.flags].filter(Boolean).join(' '),
        icon: 'symbol-number',
        contextValue: contextOf('address', { source: true }),
        source: a.source,
      })),
      ...rel.map((r, k) => ({ id: `if:${i.id}/link/${k}`, label: r, icon: 'link', contextValue: 'link' })),
    ],
  };
}

function rulesetItem(rs: Ruleset, ns: Namespace): ViewItem {
  const name = rs.family === 'ipv6' ? 'ip6tables' : 'iptables';
  const id = `ns:${ns.id}/${name}`;
  const count = rs.tables.reduce((n, t) => n + t.chains.reduce((k, c) => k + c.rules.length, 0), 0);
  return {
    id,
    label: name,
    description: `${rs.flavour !== 'unknown' ? `${rs.flavour}${rs.version ? ` ${rs.version}` : ''} · ` : ''}${rs.tables.length} tables, ${count} rules`,
    icon: 'shield',
    contextValue: 'ruleset',
    children: () =>
      rs.tables.map((t) => ({
        id: `${id}/${t.name}`,
        label: t.name,
        description: `${t.chains.length} chains`,
        icon: 'table',
        source: t.source,
        contextValue: contextOf('table', { source: true }),
        children: () => t.chains.map((c) => chainItem(c, `${id}/${t.name}`)),
      })),
  };
}

function chainItem(c: Chain, parent: string): ViewItem {
  const id = `${parent}/${c.name}`;
  const desc = [c.policy ? `policy ${c.policy}` : '', countersText(c.counters) ?? '', `${c.rules.length} rule${c.rules.length === 1 ? '' : 's'}`].filter(Boolean).join(' · ');
  return {
    id,
    label: c.name,
    description: desc,
    icon: c.builtin ? 'symbol-event' : 'symbol-method',
    source: c.source,
    contextValue: contextOf('chain', { source: true }),
    children: c.rules.length
      ? () =>
          c.rules.map((r) => ({
            id: `${id}/${r.index}`,
            label: r.text,
            description: countersText(r.counters),
            tooltip: `${r.source.file}:${r.source.line}\n${r.text}${r.counters ? `\ncounters: ${r.counters.packets} packets, ${r.counters.bytes} bytes${r.counters.approximate ? ' (rounded)' : ''}` : ''}`,
            icon: 'symbol-field',
            source: r.source,
            contextValue: contextOf('rule', { source: true }),
          }))
      : undefined,
  };
}

function ipvsItem(ns: Namespace): ViewItem[] {
  const t = ns.ipvs;
  if (!t) return [];
  const id = `ns:${ns.id}/ipvs`;
  return [
    {
      id,
      label: 'IPVS',
      description: t.unavailable ? `unavailable: ${t.unavailable}` : `${t.services.length} service${t.services.length === 1 ? '' : 's'}`,
      icon: 'split-horizontal',
      contextValue: 'ipvs',
      children: t.services.length
        ? () =>
            t.services.map((s, k) => {
              const query = s.proto !== 'fwm' && s.proto !== 'sctp' && s.addr ? { node: ns.node, proto: s.proto, dst: s.addr, dport: s.port } : undefined;
              return {
                id: `${id}/${k}`,
                label: ipvsServiceText(s),
                description: `${s.scheduler}${s.persistent !== undefined ? ` persistent ${s.persistent}` : ''} · ${s.dests.length} real server${s.dests.length === 1 ? '' : 's'}`,
                icon: 'server-process',
                source: s.source,
                query,
                contextValue: contextOf('ipvsService', { source: true, query }),
                children: s.dests.length
                  ? () =>
                      s.dests.map((d, j) => ({
                        id: `${id}/${k}/${j}`,
                        label: ipvsDestText(d),
                        description: `${d.forward} weight ${d.weight}${d.activeConn !== undefined ? ` · active ${d.activeConn} inactive ${d.inactConn ?? 0}` : ''}`,
                        icon: 'server',
                        source: d.source,
                        contextValue: contextOf('ipvsDest', { source: true }),
                      }))
                  : undefined,
              };
            })
        : undefined,
    },
  ];
}

function leafGroup<T>(id: string, label: string, icon: string, items: T[], text: (x: T) => string, source: (x: T) => ViewItem['source'], kind: string): ViewItem[] {
  if (!items.length) return [];
  return [
    {
      id,
      label,
      description: String(items.length),
      icon,
      contextValue: kind + 's',
      children: () => items.map((x, k) => ({ id: `${id}/${k}`, label: text(x), source: source(x), icon: 'dash', contextValue: contextOf(kind, { source: true }) })),
    },
  ];
}

function routesGroup(ns: Namespace): ViewItem[] {
  if (!ns.routes.length) return [];
  const id = `ns:${ns.id}/routes`;
  const tables = [...new Set(ns.routes.map((r) => r.table))];
  const routeItem = (r: Route, k: number): ViewItem => ({
    id: `${id}/${r.table}/${k}`,
    label: routeText(r),
    icon: r.type === 'unicast' ? 'arrow-right' : 'circle-slash',
    source: r.source,
    contextValue: contextOf('route', { source: true }),
  });
  return [
    {
      id,
      label: 'Routes',
      description: tables.map((t) => `${t} ${ns.routes.filter((r) => r.table === t).length}`).join(', '),
      icon: 'milestone',
      contextValue: 'routes',
      children: () =>
        tables.length === 1
          ? ns.routes.map(routeItem)
          : tables.map((t) => ({
              id: `${id}/${t}`,
              label: `table ${t}`,
              description: String(ns.routes.filter((r) => r.table === t).length),
              icon: 'table',
              contextValue: 'routeTable',
              children: () => ns.routes.filter((r) => r.table === t).map(routeItem),
            })),
    },
  ];
}

function namespaceItem(ns: Namespace, m: Model, idx: ProblemIndex, ifById: Map<string, ModelIface>, nsById: Map<string, Namespace>): ViewItem {
  const ps = idx.byNamespace.get(ns.id) ?? [];
  const w = worst(ps.filter((p) => p.severity !== 'info'));
  const what = ns.docker?.taskName ?? ns.docker?.containerName ?? ns.docker?.networkName;
  const query = { node: ns.node, namespace: ns.name };
  const id = `ns:${ns.id}`;
  return {
    id,
    label: ns.name,
    description: [ns.role, what, w ? countsText(ps.filter((p) => p.severity !== 'info')) : ''].filter(Boolean).join(' · '),
    tooltip: `${ns.id} (${ns.role}${what ? `: ${what}` : ''})\ndumps: ${ns.dumps.map((d) => `${d.file} (${d.kind}${d.used ? '' : ', not used'})`).join(', ')}`,
    icon: w ? SEVERITY_ICON[w].icon : ns.role === 'host' ? 'vm' : 'symbol-namespace',
    iconColor: w ? SEVERITY_ICON[w].color : undefined,
    query,
    contextValue: contextOf('namespace', { query, problems: !!w }),
    children: () => {
      const ifs = ns.interfaceIds.map((i) => ifById.get(i)).filter((i): i is ModelIface => !!i);
      const out: ViewItem[] = [];
      if (ifs.length)
        out.push({ id: `${id}/ifaces`, label: 'Interfaces', description: String(ifs.length), icon: 'plug', contextValue: 'interfaces', children: () => ifs.map((i) => ifaceItem(i, ns, m, ifById, nsById)) });
      out.push(...routesGroup(ns));
      out.push(...leafGroup(`${id}/iprules`, 'Policy rules', 'list-ordered', ns.rules, ipRuleText, (r) => r.source, 'ipRule'));
      for (const rs of [ns.iptables, ns.ip6tables]) if (rs) out.push(rulesetItem(rs, ns));
      if (ns.nft) out.push({ id: `${id}/nft`, label: 'nftables', description: `${ns.nft.tables.length} tables (shown, not simulated)`, icon: 'shield', contextValue: 'nft' });
      out.push(...ipvsItem(ns));
      out.push(...leafGroup(`${id}/neigh`, 'Neighbours', 'person', ns.neighbours, (n) => `${n.dst}${n.dev ? ` dev ${n.dev}` : ''}${n.lladdr ? ` lladdr ${n.lladdr}` : ''} ${n.state.join(',')}`, (n) => n.source, 'neighbour'));
      out.push(...leafGroup(`${id}/fdb`, 'FDB', 'references', ns.fdb, (f) => `${f.mac} dev ${f.dev}${f.dst ? ` dst ${f.dst}` : ''}${f.vni !== undefined ? ` vni ${f.vni}` : ''}${f.master ? ` master ${f.master}` : ''}${f.state ? ` ${f.state}` : ''}`, (f) => f.source, 'fdbEntry'));
      const sys = Object.values(ns.sysctls);
      out.push(...leafGroup(`${id}/sysctl`, 'sysctl', 'settings', sys, (s) => `${s.key} = ${s.value}`, (s) => s.source, 'sysctl'));
      out.push(...problemsGroup(id, ps));
      return out;
    },
  };
}

function dockerGroup(m: Model): ViewItem[] {
  const d = m.docker;
  if (!d.networks.length && !d.services.length && !d.containers.length && !d.nodes.length) return [];
  const out: ViewItem[] = [];
  const nets = new Map<string, (typeof d.networks)[number]>();
  for (const n of d.networks) if (!nets.has(n.id || n.name)) nets.set(n.id || n.name, n);
  const svcs = new Map<string, (typeof d.services)[number]>();
  for (const s of d.services) if (!svcs.has(s.id)) svcs.set(s.id, s);
  if (nets.size)
    out.push({
      id: 'docker/networks',
      label: 'Networks',
      description: String(nets.size),
      icon: 'globe',
      contextValue: 'dockerNetworks',
      children: () =>
        [...nets.values()].map((n) => ({
          id: `docker/net/${n.id || n.name}`,
          label: n.name || '(unnamed)',
          description: [n.driver, n.ingress ? 'ingress' : '', n.subnets.map((s) => s.subnet).join(', '), n.vnis.length ? `VNI ${n.vnis.join(',')}` : ''].filter(Boolean).join(' · '),
          icon: 'globe',
          source: n.source,
          contextValue: contextOf('dockerNetwork', { source: true }),
          children:
            n.services.length || n.peers.length || n.endpoints.length
              ? () => [
                  ...n.services.map((s, k) => ({
                    id: `docker/net/${n.id || n.name}/svc/${k}`,
                    label: `service ${s.name}`,
                    description: [s.vip ? `VIP ${s.vip}` : '', s.localLBIndex !== undefined ? `fwmark ${s.localLBIndex} (0x${s.localLBIndex.toString(16)})` : '', s.ports.map((p) => `${p.publish}→${p.target}`).join(', ')].filter(Boolean).join(' · '),
                    icon: 'symbol-interface',
                    source: s.source,
                    contextValue: contextOf('dockerNetService', { source: true }),
                    children: s.tasks.length
                      ? () => s.tasks.map((t, j) => ({ id: `docker/net/${n.id || n.name}/svc/${k}/${j}`, label: t.name, description: [t.endpointIp, t.hostIp ? `on ${t.hostIp}` : ''].filter(Boolean).join(' '), icon: 'package', source: t.source, contextValue: contextOf('dockerTask', { source: true }) }))
                      : undefined,
                  })),
                  ...n.endpoints.map((e, k) => ({ id: `docker/net/${n.id || n.name}/ep/${k}`, label: `endpoint ${e.name}`, description: e.ipv4 ? `${e.ipv4.addr}/${e.ipv4.prefixLen}` : '', icon: 'debug-stackframe-dot', source: e.source, contextValue: contextOf('dockerEndpoint', { source: true }) })),
                  ...n.peers.map((p, k) => ({ id: `docker/net/${n.id || n.name}/peer/${k}`, label: `peer ${p.name}`, description: p.ip, icon: 'vm', contextValue: 'dockerPeer' })),
                ]
              : undefined,
        })),
    });
  if (svcs.size)
    out.push({
      id: 'docker/services',
      label: 'Services',
      description: String(svcs.size),
      icon: 'symbol-interface',
      contextValue: 'dockerServices',
      children: () =>
        [...svcs.values()].map((s) => {
          const tasks = d.containers.filter((c) => c.labels['com.docker.swarm.service.name'] === s.name);
          return {
            id: `docker/svc/${s.id}`,
            label: s.name,
            description: [s.mode + (s.replicas !== undefined ? ` ×${s.replicas}` : ''), `endpoint ${s.endpointMode}`, s.ports.map((p) => `${p.published ?? '?'}→${p.target}/${p.protocol}`).join(', ')].filter(Boolean).join(' · '),
            tooltip: `${s.name} (${s.id})${s.image ? `\nimage ${s.image}` : ''}`,
            icon: 'symbol-interface',
            source: s.source,
            contextValue: contextOf('dockerService', { source: true }),
            children: () => [
              ...s.ports.map((p, k) => {
                const query = p.published !== undefined && p.protocol !== 'sctp' ? { proto: p.protocol, dport: p.published } : undefined;
                return { id: `docker/svc/${s.id}/port/${k}`, label: `published ${p.published ?? '?'} → ${p.target}/${p.protocol}`, description: `${p.mode} mode`, icon: 'radio-tower', query, source: s.source, contextValue: contextOf('publishedPort', { source: true, query }) };
              }),
              ...s.vips.map((v, k) => {
                const net = [...nets.values()].find((n) => n.id === v.networkId);
                return { id: `docker/svc/${s.id}/vip/${k}`, label: `VIP ${v.addr}/${v.prefixLen}`, description: net?.name ?? v.networkId, icon: 'target', contextValue: 'dockerVip' };
              }),
              ...tasks.map((c) => ({ id: `docker/svc/${s.id}/task/${c.id}`, label: c.labels['com.docker.swarm.task.name'] ?? c.name, description: `on ${c.node} · ${c.networks.map((n) => `${n.name}=${n.ip ?? '?'}`).join(' ')}`, icon: 'package', source: c.source, contextValue: contextOf('dockerTask', { source: true }) })),
            ],
          };
        }),
    });
  if (d.containers.length)
    out.push({
      id: 'docker/containers',
      label: 'Tasks and containers',
      description: String(d.containers.length),
      icon: 'package',
      contextValue: 'dockerContainers',
      children: () =>
        d.containers.map((c) => ({
          id: `docker/ctr/${c.node}/${c.id}`,
          label: c.name,
          description: `on ${c.node} · ${c.networks.map((n) => `${n.name}=${n.ip ?? '?'}`).join(' ')}${c.ports.length ? ` · ports ${c.ports.map((p) => `${p.hostPort ?? '-'}→${p.containerPort}/${p.proto}`).join(', ')}` : ''}`,
          icon: 'package',
          source: c.source,
          contextValue: contextOf('dockerContainer', { source: true }),
        })),
    });
  if (d.nodes.length)
    out.push({
      id: 'docker/nodes',
      label: 'Swarm nodes',
      description: String(d.nodes.length),
      icon: 'vm',
      contextValue: 'dockerNodes',
      children: () => d.nodes.map((n) => ({ id: `docker/node/${n.id}`, label: n.hostname, description: [n.addr, n.role, n.status, n.managerStatus].filter(Boolean).join(' · '), icon: 'vm', source: n.source, contextValue: contextOf('dockerNode', { source: true }) })),
    });
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
  return [{ id: 'docker', label: 'Docker', description: `${n(nets.size, 'network')}, ${n(svcs.size, 'service')}, ${n(d.containers.length, 'task')}`, icon: 'package', contextValue: 'docker', children: () => out }];
}

/** The Topology tree of a model: one capture item holding everything. */
export function topologyItems(m: Model, captureName: string): ViewItem[] {
  const idx = indexProblems(m);
  const ifById = new Map(m.interfaces.map((i) => [i.id, i]));
  const nsById = new Map(m.namespaces.map((n) => [n.id, n]));
  const dumps = m.files.filter((f) => f.kind).length;
  const serious = m.problems.filter((p) => p.severity !== 'info');
  const w = worst(serious);
  return [
    {
      id: 'capture',
      label: captureName,
      description: `${m.nodes.length} node${m.nodes.length === 1 ? '' : 's'}, ${m.namespaces.length} namespaces, ${dumps} dumps${serious.length ? ` · ${countsText(serious)}` : ''}`,
      icon: w ? SEVERITY_ICON[w].icon : 'folder-library',
      iconColor: w ? SEVERITY_ICON[w].color : undefined,
      contextValue: 'capture',
      expanded: true,
      children: () => [
        ...m.nodes.map((n): ViewItem => {
          const nsProblems = n.namespaceIds.flatMap((id) => idx.byNamespace.get(id) ?? []);
          const own = idx.byNode.get(n.name) ?? [];
          const all = [...own, ...nsProblems].filter((p) => p.severity !== 'info');
          const nw = worst(all);
          const query = { node: n.name };
          return {
            id: `node:${n.name}`,
            label: n.name,
            description: [n.addresses.join(', '), nw ? countsText(all) : ''].filter(Boolean).join(' · '),
            icon: nw ? SEVERITY_ICON[nw].icon : 'server',
            iconColor: nw ? SEVERITY_ICON[nw].color : undefined,
            query,
            contextValue: contextOf('node', { query, problems: !!nw }),
            expanded: m.nodes.length <= 3,
            children: () => [...n.namespaceIds.map((id) => nsById.get(id)).filter((x): x is Namespace => !!x).map((ns) => namespaceItem(ns, m, idx, ifById, nsById)), ...problemsGroup(`node:${n.name}`, own)],
          };
        }),
        ...dockerGroup(m),
        ...problemsGroup('capture', idx.capture),
      ],
    },
  ];
}
