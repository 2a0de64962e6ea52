/**
 * A readable outline of a model: nodes → namespaces → interfaces and links, routes, chains with
 * rule counts, IPVS services, Docker networks, services and ports. Returns lines; the CLI prints
 * them, tests read them.
 */
import type { Model, ModelIface, Namespace } from './model';
import type { IpvsService } from './ipvs';

/** The outline of a model, one entry per line. */
export function summarizeModel(m: Model): string[] {
  const out: string[] = [];
  const ifById = new Map(m.interfaces.map((i) => [i.id, i]));
  const nsById = new Map(m.namespaces.map((n) => [n.id, n]));
  const dumps = m.files.filter((f) => f.kind).length;
  out.push(`capture: ${m.nodes.length} node${m.nodes.length === 1 ? '' : 's'}, ${m.namespaces.length} namespaces, ${dumps} dumps read of ${m.files.length} files`);
  for (const node of m.nodes) {
    out.push('');
    out.push(`node ${node.name}${node.addresses.length ? `  (${node.addresses.join(', ')})` : ''}`);
    for (const nsId of node.namespaceIds) {
      const ns = nsById.get(nsId);
      if (ns) out.push(...summarizeNamespace(ns, ifById));
    }
  }
  const d = m.docker;
  if (d.networks.length || d.services.length || d.containers.length || d.nodes.length) {
    out.push('');
    out.push('docker');
    const seenNet = new Set<string>();
    for (const n of d.networks) {
      const key = n.id || n.name;
      if (seenNet.has(key)) continue;
      seenNet.add(key);
      const subnets = n.subnets.map((s) => s.subnet).join(', ');
      const vni = n.vnis.length ? ` VNI ${n.vnis.join(',')}` : '';
      out.push(`  network ${n.name || '(unnamed)'} ${n.driver ?? ''}${n.ingress ? ' ingress' : ''} ${subnets}${vni}${n.peers.length ? `  peers ${n.peers.map((p) => p.ip).join(', ')}` : ''}`.replace(/\s+$/, ''));
      for (const s of n.services) {
        out.push(`    service ${s.name} VIP ${s.vip ?? '-'}${s.localLBIndex !== undefined ? ` fwmark ${s.localLBIndex} (0x${s.localLBIndex.toString(16)})` : ''}${s.ports.length ? `  ports ${s.ports.map((p) => `${p.publish}→${p.target}`).join(', ')}` : ''}  tasks ${s.tasks.map((t) => `${t.name} ${t.endpointIp ?? ''}`.trim()).join(', ')}`);
      }
    }
    const seenSvc = new Set<string>();
    for (const s of d.services) {
      if (seenSvc.has(s.id)) continue;
      seenSvc.add(s.id);
      const ports = s.ports.map((p) => `${p.published ?? '?'}→${p.target}/${p.protocol} (${p.mode})`).join(', ');
      out.push(`  service ${s.name} ${s.mode}${s.replicas !== undefined ? ` ×${s.replicas}` : ''} endpoint ${s.endpointMode}${ports ? `  published ${ports}` : ''}${s.vips.length ? `  VIPs ${s.vips.map((v) => `${v.addr}/${v.prefixLen}`).join(', ')}` : ''}`);
    }
    for (const c of d.containers) {
      const nets = c.networks.map((n) => `${n.name}=${n.ip ?? '?'}`).join(' ');
      out.push(`  container ${c.name} on ${c.node}${c.sandboxId ? ` sandbox ${c.sandboxId}` : ''}  ${nets}`);
    }
    for (const n of d.nodes) out.push(`  swarm node ${n.hostname}${n.addr ? ` ${n.addr}` : ''}${n.role ? ` ${n.role}` : ''}${n.status ? ` ${n.status}` : ''}`);
  }
  return out;
}

function summarizeNamespace(ns: Namespace, ifById: Map<string, ModelIface>): string[] {
  const out: string[] = [];
  const what = ns.docker?.taskName ?? ns.docker?.containerName ?? ns.docker?.networkName;
  out.push(`  namespace ${ns.name}  [${ns.role}${what ? `: ${what}` : ''}]  dumps: ${[...new Set(ns.dumps.map((d) => d.kind))].join(', ')}`);
  for (const id of ns.interfaceIds) {
    const i = ifById.get(id);
    if (!i) continue;
    const addrs = i.addrs.map((a) => `${a.local}/${a.prefixLen}`).join(' ');
    const rel: string[] = [];
    if (i.details.kind) rel.push(i.details.kind);
    if (i.details.vxlan) rel.push(`vni ${i.details.vxlan.vni}${i.details.vxlan.dstport ? ` port ${i.details.vxlan.dstport}` : ''}`);
    if (i.peerId) rel.push(`peer ${i.peerId}`);
    else if (i.link?.ifindex !== undefined && i.details.kind !== 'vxlan') rel.push(`peer @if${i.link.ifindex} (not in capture)`);
    if (i.masterId) rel.push(`port of ${ifById.get(i.masterId)?.name ?? i.masterId}`);
    out.push(`    if ${i.ifindex}: ${i.name}${addrs ? `  ${addrs}` : ''}${rel.length ? `  (${rel.join('; ')})` : ''}`);
  }
  if (ns.routes.length) {
    const byTable = new Map<string, number>();
    for (const r of ns.routes) byTable.set(r.table, (byTable.get(r.table) ?? 0) + 1);
    out.push(`    routes: ${[...byTable].map(([t, n]) => `${t} ${n}`).join(', ')}${ns.rules.length ? `; ${ns.rules.length} policy rules` : ''}`);
  }
  for (const rs of [ns.iptables, ns.ip6tables]) {
    if (!rs) continue;
    out.push(`    ${rs.family === 'ipv6' ? 'ip6tables' : 'iptables'}${rs.flavour !== 'unknown' ? ` (${rs.flavour}${rs.version ? ` ${rs.version}` : ''})` : ''}`);
    for (const t of rs.tables) {
      const chains = t.chains.map((c) => `${c.name}${c.policy ? `:${c.policy}` : ''} ${c.rules.length}`).join(', ');
      out.push(`      ${t.name}: ${chains}`);
    }
  }
  if (ns.ipvs) {
    if (ns.ipvs.unavailable) out.push(`    ipvs: unavailable (${ns.ipvs.unavailable})`);
    for (const s of ns.ipvs.services) out.push(`    ipvs ${svcName(s)} ${s.scheduler} → ${s.dests.map((d) => `${d.addr}:${d.port} ${d.forward} w${d.weight}`).join(', ') || '(no real servers)'}`);
  }
  const keys = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'];
  const sys = keys.filter((k) => ns.sysctls[k]).map((k) => `${k}=${ns.sysctls[k].value}`);
  if (sys.length) out.push(`    sysctl: ${sys.join(' ')}`);
  return out;
}

function svcName(s: IpvsService): string {
  return s.proto === 'fwm' ? `FWM ${s.fwmark}` : `${s.proto.toUpperCase()} ${s.addr}:${s.port}`;
}
