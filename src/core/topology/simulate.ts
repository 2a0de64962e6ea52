/**
 * The full-topology simulation: every published port from every node (a new connection from a
 * client outside, arriving on the node's external interface), and every service VIP on every
 * user overlay from each task attached to it. Each cell keeps the outcome distribution of one
 * `traceQuery` (which tasks, with what probability, seen from which source) and, for failures,
 * the step where it failed, plus the query so a viewer can open the full trace. Ports that meet
 * the same rules up to renaming share one trace per node (portSlice.ts).
 */
import type { Model, Namespace } from '../model/model';
import type { Rule } from '../model/netfilter';
import type { FinalView, Outcome, RuleRef, Step, TraceQuery, Verdict } from '../sim/trace';
import { traceQuery } from '../sim/simulate';
import { World } from '../sim/world';
import { inPrefix, ip4, ip4str, maskOf } from '../sim/addr';
import { PortIndex, withSlice } from './portSlice';
import { SubWorlds, trustworthy } from './subWorld';
import { portsFromIngressRules, swarmFacts, type SwarmFacts, type SwarmPort } from './facts';
import { expectedState, type ExpectedNode } from './expected';
import { diagnose, type Finding } from './findings';

/** Where a failed outcome was stopped. */
export interface FailedAt {
  direction: 'request' | 'reply';
  node: string;
  namespace: string;
  kind: Step['kind'];
  hook?: string;
  table?: string;
  chain?: string;
  action: string;
  rule?: RuleRef;
  note?: string;
}

/** One outcome of a cell, as in the trace's outcomes (cli.md), without the steps. */
export interface CellOutcome {
  verdict: Verdict;
  probability: number;
  final: FinalView;
  reason: string;
  failedAt?: FailedAt;
  /** The task that received the connection, where it is one. */
  target?: { task?: string; service?: string; node: string; namespace: string };
  /** The reply's fate, for delivered outcomes. */
  reply?: { verdict: Verdict; reason: string };
}

/** One entry of the matrix: a published port on a node, or a VIP seen from a task. */
export interface Entry {
  node: string;
  kind: 'published-port' | 'vip';
  proto: 'tcp' | 'udp' | 'icmp';
  /** Published port (published-port entries). */
  port?: number;
  /** The VIP (vip entries). */
  vip?: string;
  /** Port probed on the VIP (the service's first target port, else 80). */
  dport?: number;
  service?: string;
  network?: string;
  /** Target port inside the task (published-port entries). */
  targetPort?: number;
  mode?: 'ingress' | 'host';
  /** vip entries: the task the connection starts from. */
  from?: { task: string; namespace: string };
  /** The trace query behind the cell: run it with traceQuery to see every step. */
  query: TraceQuery;
  outcomes: CellOutcome[];
  /** Every outcome reaches a task and its reply gets back. */
  ok: boolean;
}

/** What `simulate` returns (the JSON contract of issue 6). */
export interface TopologyResult {
  entries: Entry[];
  findings: Finding[];
  summary: { nodes: number; entries: number; ok: number; failed: number; traces: number; classes: number; findings: Record<string, number>; ms: Record<string, number> };
  warnings: string[];
}

/** Options of the simulation. */
export interface SimulateOptions {
  /** The client's address (default: a free address in the subnet of each node's external interface). */
  client?: string;
  /** The client's source port (default 40000). */
  clientPort?: number;
  /** Simulate VIP entries (default true). */
  vips?: boolean;
  /** Only these nodes' published ports (default all). */
  nodes?: string[];
  /** Skip the doctor (findings). */
  noFindings?: boolean;
}

interface PortJob {
  node: string;
  proto: 'tcp' | 'udp';
  port: SwarmPort;
  service?: string;
}

/** Runs the full-topology simulation and the doctor on a model. */
export function simulateTopology(model: Model, opts: SimulateOptions = {}): TopologyResult {
  const t0 = Date.now();
  const timing: Record<string, number> = {};
  const facts = swarmFacts(model);
  const world = new World(model);
  const clientPort = opts.clientPort ?? 40000;
  const warnings: string[] = [...facts.gaps];
  const idx = new PortIndex(model, clientPort);
  const nsById = new Map(model.namespaces.map((n) => [n.id, n]));
  const taskByNs = new Map<string, { task: string; service: string }>();
  for (const t of facts.tasks) if (t.namespaceId) taskByNs.set(t.namespaceId, { task: t.name, service: t.service });
  for (const ns of model.namespaces) if (ns.docker?.taskName && !taskByNs.has(ns.id)) taskByNs.set(ns.id, { task: ns.docker.taskName, service: ns.docker.serviceName ?? '' });
  const allLocal = new Set<number>();
  for (const s of world.ns.values()) for (const a of s.local.keys()) allLocal.add(a);

  // ---------------------------------------------------------------- published ports
  const jobs: PortJob[] = [];
  const nodes = facts.nodes.filter((n) => (!opts.nodes || opts.nodes.includes(n.name)) && nsById.has(`${n.name}/host`));
  const haveServicePorts = facts.services.some((s) => s.ports.length > 0);
  for (const n of nodes) {
    if (haveServicePorts) {
      const seen = new Set<string>();
      for (const svc of facts.services) {
        for (const p of svc.ports) {
          if (p.proto === 'sctp') continue;
          // Host-mode ports are bound only where a task of the service runs.
          if (p.mode === 'host' && !facts.tasks.some((t) => t.service === svc.name && t.node === n.name)) continue;
          const k = `${p.proto}/${p.published}`;
          if (seen.has(k)) continue;
          seen.add(k);
          jobs.push({ node: n.name, proto: p.proto, port: p, service: svc.name });
        }
      }
    } else {
      for (const r of portsFromIngressRules(nsById.get(`${n.name}/host`))) {
        if (r.proto === 'sctp') continue;
        jobs.push({ node: n.name, proto: r.proto, port: { proto: r.proto, published: r.published, target: r.published, mode: 'ingress' } });
      }
    }
  }
  if (jobs.length === 0) warnings.push('no published port found (no `docker service inspect`, no verbose `docker network inspect`, no DOCKER-INGRESS DNAT rules)');

  const entries: Entry[] = [];
  let traces = 0;
  const classes = new Map<string, { p: number; t: number }>();
  const classOf = new Map<PortJob, string>();
  const keyMemo = new Map<string, string>();
  // Class keys are long (every port-specific rule of the swarm): equal keys are interned to one
  // string so the maps below compare them by identity, not character by character.
  const canon = new Map<string, string>();
  for (const j of jobs) {
    const mk = `${j.proto}/${j.port.published}/${j.port.target}`;
    let key = keyMemo.get(mk);
    if (key === undefined) {
      const k0 = idx.classKey(j.proto, j.port.published, j.port.target);
      key = canon.get(k0);
      if (key === undefined) canon.set(k0, (key = k0));
      keyMemo.set(mk, key);
    }
    classOf.set(j, key);
    if (!classes.has(key)) classes.set(key, { p: j.port.published, t: j.port.target });
  }
  timing.classes = Date.now() - t0;
  // Trace each (node, class) once, with long chains cut to that class's ports.
  const byClass = new Map<string, PortJob[]>();
  for (const j of jobs) {
    const k = classOf.get(j) as string;
    const l = byClass.get(k);
    if (l) l.push(j);
    else byClass.set(k, [j]);
  }
  const clientFor = new Map<string, { iif: string; src: string; dst: string } | undefined>();
  for (const n of nodes) clientFor.set(n.name, clientOf(world, model, n.name, n.addr, n.iface, opts.client, allLocal));
  const sw = new SubWorlds(model, world);
  const taskNodes = new Map<string, Set<string>>();
  const svcIps = new Map<string, Set<string>>();
  for (const t of facts.tasks) {
    if (t.node) (taskNodes.get(t.service) ?? taskNodes.set(t.service, new Set()).get(t.service))?.add(t.node);
    const ips = svcIps.get(t.service) ?? svcIps.set(t.service, new Set()).get(t.service);
    for (const ip of Object.values(t.ips)) ips?.add(ip);
  }
  const ipNode = new Map<string, string>();
  for (const t of facts.tasks) if (t.node) for (const ip of Object.values(t.ips)) ipNode.set(ip, t.node);
  for (const net of facts.networks) for (const [n, ip] of Object.entries(net.lbIps)) ipNode.set(ip, n);
  /** The nodes a connection from `node` to a service can touch (see subWorld.ts). */
  const reach = (node: string, service: string | undefined, extraIps: string[]): Set<string> => {
    const nodes = new Set<string>([node, ...(service ? taskNodes.get(service) ?? [] : [])]);
    const ips = new Set<string>([...(service ? svcIps.get(service) ?? [] : []), ...extraIps]);
    for (const net of facts.networks) if (net.lbIps[node]) ips.add(net.lbIps[node]);
    for (const ip of extraIps) {
      const n = ipNode.get(ip);
      if (n) nodes.add(n);
    }
    return sw.closure(nodes, ips);
  };
  /** Traces in a world of the reachable nodes; again in the full world when that answer is not conclusive. */
  const traceIn = (q: TraceQuery, nodesSet: Set<string>, sliceFor: (w: World) => Map<string, Namespace>): Outcome[] => {
    traces++;
    const sub = sw.build(nodesSet, true);
    // Packet views are not built: a cell reads only the outcomes' verdicts, finals, reasons and
    // the decisions of their steps (failedStep, trustworthy), never a step's packet.
    const outs = withSlice(sub.world, sliceFor(sub.world), () => traceQuery(sub.model, q, sub.world, { views: false }).outcomes);
    if (trustworthy(outs, true)) return outs;
    return withSlice(world, sliceFor(world), () => traceQuery(model, q, world, { views: false }).outcomes);
  };
  const slicer = (s: ReadonlySet<number>): ((w: World) => Map<string, Namespace>) => {
    const cache = new Map<string, Namespace | null>();
    return (w) => {
      const m = new Map<string, Namespace>();
      for (const id of w.ns.keys()) {
        let v = cache.get(id);
        if (v === undefined) {
          v = idx.sliceNs(id, s) ?? null;
          cache.set(id, v);
        }
        if (v) m.set(id, v);
      }
      return m;
    };
  };
  // Published ports are traced in the whole world (a connection from outside may touch any node
  // the overlay reaches), its long chains cut to the class's ports once per class.
  for (const [key, list] of byClass) {
    const rep = classes.get(key) as { p: number; t: number };
    const sliceFor = slicer(idx.portSet(rep.p, rep.t));
    const done = new Map<string, Outcome[]>();
    withSlice(world, sliceFor(world), () => {
    for (const j of list) {
      const c = clientFor.get(j.node);
      const q: TraceQuery = { node: j.node, namespace: 'host', iif: c?.iif, proto: j.proto, src: c?.src ?? '203.0.113.1', sport: clientPort, dst: c?.dst ?? '0.0.0.0', dport: j.port.published };
      if (!c) {
        entries.push({ node: j.node, kind: 'published-port', proto: j.proto, port: j.port.published, targetPort: j.port.target, mode: j.port.mode, service: j.service, query: q, outcomes: [], ok: false });
        continue;
      }
      let outs = done.get(j.node);
      if (!outs) {
        traces++;
        // Packet views are not built: a cell reads only the outcomes' verdicts, finals, reasons
        // and the decisions of their steps (failedStep), never a step's packet.
        outs = traceQuery(model, { ...q, dport: rep.p }, world, { views: false }).outcomes;
        done.set(j.node, outs);
      }
      const cells = outs.map((o) => cell(o, taskByNs, nsById));
      const renamed = rep.p === j.port.published && rep.t === j.port.target ? cells : cells.map((o) => rename(o, idx, rep.p, rep.t, j.port.published, j.port.target));
      entries.push({ node: j.node, kind: 'published-port', proto: j.proto, port: j.port.published, targetPort: j.port.target, mode: j.port.mode, service: j.service, query: q, outcomes: renamed, ok: isOk(renamed) });
    }
    });
  }

  // ---------------------------------------------------------------- VIPs from tasks
  if (opts.vips !== false) {
    const vipJobs: { q: TraceQuery; e: Omit<Entry, 'outcomes' | 'ok' | 'query'> }[] = [];
    for (const svc of facts.services) {
      if (svc.endpointMode !== 'vip') continue;
      for (const [netId, vip] of Object.entries(svc.vips)) {
        const net = facts.networks.find((n) => n.id === netId);
        if (!net || net.ingress) continue;
        const probe = svc.ports[0];
        const proto: 'tcp' | 'udp' = probe?.proto === 'udp' ? 'udp' : 'tcp';
        const dport = probe?.target ?? 80;
        for (const t of facts.tasks) {
          if (!t.ips[netId] || !t.namespaceId || !t.node) continue;
          const ns = nsById.get(t.namespaceId);
          if (!ns) continue;
          vipJobs.push({
            q: { node: t.node, namespace: ns.name, proto, src: t.ips[netId], sport: clientPort, dst: vip, dport },
            e: { node: t.node, kind: 'vip', proto, vip, dport, service: svc.name, network: net.name, from: { task: t.name, namespace: ns.name } },
          });
        }
      }
    }
    const byPort = new Map<number, typeof vipJobs>();
    for (const v of vipJobs) {
      const p = v.q.dport ?? 0;
      const l = byPort.get(p);
      if (l) l.push(v);
      else byPort.set(p, [v]);
    }
    for (const [p, list] of byPort) {
      const sliceFor = slicer(idx.portSet(p, p));
      for (const v of list) {
        const outs = traceIn(v.q, reach(v.e.node, v.e.service, []), sliceFor);
        const cells = outs.map((o) => cell(o, taskByNs, nsById));
        entries.push({ ...v.e, query: v.q, outcomes: cells, ok: isOk(cells) });
      }
    }
  }

  const rank = new Map(facts.nodes.map((n, i) => [n.name, i]));
  entries.sort((a, b) => (rank.get(a.node) ?? 0) - (rank.get(b.node) ?? 0) || (a.kind === b.kind ? 0 : a.kind === 'published-port' ? -1 : 1) || (a.port ?? 0) - (b.port ?? 0) || (a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0));
  timing.traced = Date.now() - t0;
  // The expected state is the doctor's alone: made here (its time counts in `findings`), and not at all without findings.
  const findings = opts.noFindings ? [] : diagnose(model, facts, expectedState(facts), entries, world, (nodes) => sw.build(nodes));
  timing.findings = Date.now() - t0 - timing.traced;
  const byKind: Record<string, number> = {};
  for (const f of findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const ok = entries.filter((e) => e.ok).length;
  return { entries, findings, summary: { nodes: nodes.length, entries: entries.length, ok, failed: entries.length - ok, traces, classes: classes.size, findings: byKind, ms: timing }, warnings };
}

/** Re-exported for callers that want the facts and the expected state themselves. */
export { swarmFacts, expectedState };
export type { SwarmFacts, ExpectedNode };

/** Where a client outside reaches a node: its external interface, a free address there, and the node's address. */
function clientOf(world: World, model: Model, node: string, addr: string | undefined, iface: string | undefined, client: string | undefined, allLocal: Set<number>): { iif: string; src: string; dst: string } | undefined {
  const host = world.ns.get(`${node}/host`);
  if (!host) return undefined;
  let dst = addr;
  let iif = iface;
  if (!dst || !iif) {
    // The interface of the default route, else the first global address.
    const def = host.routes.find((r) => r.prefixLen === 0 && r.table === 'main' && r.dev);
    for (const [a, v] of host.local) {
      if (v.iface === 'lo' || (a >>> 24) === 127) continue;
      if (def && v.iface !== def.dev) continue;
      dst = ip4str(a);
      iif = v.iface;
      break;
    }
  }
  if (!dst || !iif) return undefined;
  if (client) return { iif, src: client, dst };
  const a = ip4(dst) as number;
  const plen = host.local.get(a)?.prefixLen ?? 32;
  if (plen < 31) {
    const net = (a & maskOf(plen)) >>> 0;
    const size = 2 ** (32 - plen);
    for (let k = 1; k < Math.min(size - 1, 4096); k++) {
      const c = (net + k) >>> 0;
      if (!allLocal.has(c) && inPrefix(c, net, plen)) return { iif, src: ip4str(c), dst };
    }
  }
  void model;
  // TEST-NET-3: a client somewhere on the Internet.
  return { iif, src: '203.0.113.1', dst };
}

/** The step where an outcome stopped: the last step that decided something. */
function failedStep(steps: Step[], direction: 'request' | 'reply'): FailedAt | undefined {
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (s.kind === 'note' || s.kind === 'link' || s.kind === 'conntrack') continue;
    return { direction, node: s.node, namespace: s.namespace, kind: s.kind, hook: s.hook, table: s.table, chain: s.chain, action: s.action, rule: s.rule, note: s.note };
  }
  return undefined;
}

function cell(o: Outcome, taskByNs: Map<string, { task: string; service: string }>, nsById: Map<string, Namespace>): CellOutcome {
  const c: CellOutcome = { verdict: o.verdict, probability: o.probability, final: o.final, reason: o.reason };
  const nsId = `${o.final.node}/${o.final.namespace}`;
  const ns = nsById.get(nsId);
  if (o.verdict === 'delivered' && ns) {
    const t = taskByNs.get(nsId);
    c.target = { task: t?.task, service: t?.service || undefined, node: o.final.node, namespace: o.final.namespace };
  }
  // Not delivered, or delivered somewhere that is no task (the node itself, or out of the capture).
  if (o.verdict !== 'delivered' || !c.target?.task) c.failedAt = failedStep(o.steps, 'request');
  if (o.reply) {
    c.reply = { verdict: o.reply.verdict, reason: o.reply.reason };
    if (o.reply.verdict !== 'delivered') c.failedAt = failedStep(o.reply.steps, 'reply');
  }
  return c;
}

function isOk(cells: CellOutcome[]): boolean {
  return cells.length > 0 && cells.every((c) => c.verdict === 'delivered' && c.target?.task !== undefined && (c.reply === undefined || c.reply.verdict === 'delivered'));
}

/** Replaces whole port numbers in a text (not parts of addresses or other numbers). */
function swapPorts(s: string, p0: number, t0: number, p: number, t: number): string {
  // Only a whole number equal to p0 or t0 is replaced: a text without either digit string stays as it is.
  const a = String(p0);
  const b = String(t0);
  if (!s.includes(a) && !s.includes(b)) return s;
  const pa = String(p);
  const tb = String(t);
  return s.replace(/(?<![\w.])(\d+)(?![\w.])/g, (m) => (m === a ? pa : m === b ? tb : m));
}

/** A representative's cell, rewritten for another port pair of the same class. */
function rename(o: CellOutcome, idx: PortIndex, p0: number, t0: number, p: number, t: number): CellOutcome {
  const port = (x: number | undefined): number | undefined => (x === p0 ? p : x === t0 ? t : x);
  const out: CellOutcome = { ...o, final: { ...o.final, dport: port(o.final.dport), sport: port(o.final.sport) }, reason: swapPorts(o.reason, p0, t0, p, t) };
  if (o.reply) out.reply = { verdict: o.reply.verdict, reason: swapPorts(o.reply.reason, p0, t0, p, t) };
  if (o.failedAt) {
    const f: FailedAt = { ...o.failedAt, action: swapPorts(o.failedAt.action, p0, t0, p, t), note: o.failedAt.note !== undefined ? swapPorts(o.failedAt.note, p0, t0, p, t) : undefined };
    if (o.failedAt.rule) {
      const r: Rule | undefined = idx.counterpart(o.failedAt.rule.file, o.failedAt.rule.line, p0, t0, p, t);
      if (r) {
        const old = `${o.failedAt.rule.file}:${o.failedAt.rule.line}`;
        f.rule = { file: r.source.file, line: r.source.line, text: r.text };
        out.reason = out.reason.split(old).join(`${r.source.file}:${r.source.line}`);
      }
    }
    out.failedAt = f;
  }
  return out;
}

