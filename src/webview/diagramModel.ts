/**
 * Turns the core's `Trace` into what the path diagram draws: per outcome, the lanes (one per
 * node/namespace, in the order the packet first visits them), and per step its lane, the hop that
 * brought the packet there with a short label saying what decided it, and the packet's header
 * fields with the ones that changed marked. Pure data in, plain data out: the webview, the SVG
 * export and the tests all read this; nothing here decides anything about the packet.
 */
import type { Outcome, PacketView, Step, StepKind, Trace, Verdict } from '../core/sim/trace';

/** One lane: a namespace of a node. */
export interface DiagramLane {
  /** `node/namespace`. */
  id: string;
  node: string;
  namespace: string;
}

/** One header field of the packet box. */
export interface DiagramField {
  name: 'src' | 'sport' | 'dst' | 'dport' | 'proto' | 'mark' | 'iif' | 'oif';
  value: string;
  /** Differs from the packet as it was before this step. */
  changed: boolean;
  /** The value before this step, when it changed. */
  was?: string;
}

/** A move from one lane to another, drawn as an arrow into the step that follows it. */
export interface DiagramHop {
  /** Lane index the packet came from. */
  from: number;
  /** Short text for the arrow: what decided the move (`veth eth0`, `VXLAN 4096`, `IPVS → 10.0.0.7`). */
  label: string;
  /** The whole action of the deciding step, for a tooltip. */
  detail: string;
}

/** One step as drawn. */
export interface DiagramStep {
  /** Position in the outcome's list of drawn steps (request steps, then reply steps). */
  index: number;
  phase: 'request' | 'reply';
  /** Lane index. */
  lane: number;
  kind: StepKind;
  /** Where in netfilter or routing: `nat PREROUTING`, `INPUT`, `` (empty when it does not apply). */
  where: string;
  action: string;
  rule?: { file: string; line: number; text: string };
  note?: string;
  /** Header fields after the step. */
  packet: DiagramField[];
  /** The step rewrote the packet (some field changed). */
  rewrote: boolean;
  hop?: DiagramHop;
}

/** One fate of the packet. */
export interface DiagramOutcome {
  index: number;
  verdict: Verdict;
  probability: number;
  /** `delivered 50%`. */
  label: string;
  /** Where it ended: `swarm-manager/web.2.mms2c65e5ygt 10.0.0.2:36828 → 10.0.0.6:80`. */
  final: string;
  reason: string;
  lanes: DiagramLane[];
  steps: DiagramStep[];
  /** Index of the first reply step, when the outcome has a reply. */
  replyStart?: number;
  replyVerdict?: Verdict;
}

/** Everything the diagram shows. */
export interface DiagramData {
  /** The query in one line. */
  query: string;
  warnings: string[];
  outcomes: DiagramOutcome[];
}

/** Formats a probability as a percentage without noise (`50%`, `33.3%`). */
export function percent(p: number): string {
  const v = Math.round(p * 1000) / 10;
  return `${v}%`;
}

/** `ip:port`, or the bare address when there is no port. */
export function endpoint(ip: string, port?: number): string {
  return port !== undefined ? `${ip}:${port}` : ip;
}

/** The query of a trace in one line, as the CLI prints it. */
export function queryLine(t: Trace): string {
  const q = t.query;
  const from = q.iif ? `arriving on ${q.iif}` : 'sent by a local process';
  return `${q.proto} ${endpoint(q.src, q.proto === 'icmp' ? undefined : q.sport)} → ${endpoint(q.dst, q.dport)} from ${q.node}/${q.namespace} (${from})`;
}

const FIELDS: DiagramField['name'][] = ['src', 'sport', 'dst', 'dport', 'proto', 'mark', 'iif', 'oif'];

function fieldValue(p: PacketView, f: DiagramField['name']): string {
  const v = p[f];
  return v === undefined ? '' : String(v);
}

/** The packet's header fields, marking those that differ from `prev` (none when there is no `prev`). */
export function packetFields(p: PacketView, prev?: PacketView): DiagramField[] {
  return FIELDS.map((name) => {
    const value = fieldValue(p, name);
    // iif/oif naturally change at every namespace; only addresses, ports, protocol and mark count as rewrites.
    const tracked = name !== 'iif' && name !== 'oif';
    const was = prev ? fieldValue(prev, name) : undefined;
    const changed = was !== undefined && tracked && was !== value;
    return changed ? { name, value, changed, was } : { name, value, changed };
  }).filter((f) => f.value !== '' || f.changed);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A short label for the arrow out of a lane, from the step that sent the packet on. */
export function hopLabel(s: Step): string {
  const a = s.action;
  switch (s.kind) {
    case 'vxlan': {
      const vtep = /VTEP (\S+)/.exec(a);
      return cut(`${a.split(':')[0]}${vtep ? ` → ${vtep[1]}` : ''}`, 28);
    }
    case 'link': {
      const out = /^out of (\S+) to node (\S+)/.exec(a);
      if (out) return cut(`${out[1]} → ${out[2]}`, 30);
      return cut(a.split(' → ')[0], 30);
    }
    case 'ipvs': {
      const to = /to (\S+)$/.exec(a.split(' [')[0]);
      return cut(`IPVS${to ? ` → ${to[1]}` : ''}`, 30);
    }
    case 'route':
      return cut(a.replace(/^routing decision(?: \(local output\))?: /, 'route '), 30);
    case 'deliver':
      return cut(a.replace(/^delivered to /, 'decap at '), 30);
    default:
      return cut(a, 30);
  }
}

function whereOf(s: Step): string {
  if (s.table) return `${s.table} ${s.chain ?? s.hook ?? ''}`.trim();
  return s.hook ?? '';
}

function drawSteps(steps: Step[], phase: 'request' | 'reply', lanes: DiagramLane[], laneIndex: Map<string, number>, out: DiagramStep[]): void {
  let prevLane: number | undefined;
  let prevStep: Step | undefined;
  for (const s of steps) {
    const id = `${s.node}/${s.namespace}`;
    let lane = laneIndex.get(id);
    if (lane === undefined) {
      lane = lanes.length;
      lanes.push({ id, node: s.node, namespace: s.namespace });
      laneIndex.set(id, lane);
    }
    const ref = s.before ?? prevStep?.packet;
    const packet = packetFields(s.packet, ref);
    const hop = prevLane !== undefined && prevLane !== lane && prevStep ? { from: prevLane, label: hopLabel(prevStep), detail: prevStep.action } : undefined;
    out.push({
      index: out.length,
      phase,
      lane,
      kind: s.kind,
      where: whereOf(s),
      action: s.action,
      rule: s.rule ? { file: s.rule.file, line: s.rule.line, text: s.rule.text } : undefined,
      note: s.note,
      packet,
      rewrote: packet.some((f) => f.changed),
      hop,
    });
    prevLane = lane;
    prevStep = s;
  }
}

function outcomeToDiagram(o: Outcome, index: number): DiagramOutcome {
  const lanes: DiagramLane[] = [];
  const laneIndex = new Map<string, number>();
  const steps: DiagramStep[] = [];
  drawSteps(o.steps, 'request', lanes, laneIndex, steps);
  let replyStart: number | undefined;
  if (o.reply && o.reply.steps.length) {
    replyStart = steps.length;
    drawSteps(o.reply.steps, 'reply', lanes, laneIndex, steps);
  }
  const f = o.final;
  return {
    index,
    verdict: o.verdict,
    probability: o.probability,
    label: `${o.verdict} ${percent(o.probability)}`,
    final: `${f.node}/${f.namespace} ${endpoint(f.src, f.sport)} → ${endpoint(f.dst, f.dport)}`,
    reason: o.reason,
    lanes,
    steps,
    replyStart,
    replyVerdict: o.reply?.verdict,
  };
}

/** The diagram of a whole trace: one entry per outcome, in the trace's order. */
export function traceToDiagram(t: Trace): DiagramData {
  return { query: queryLine(t), warnings: [...t.warnings], outcomes: t.outcomes.map(outcomeToDiagram) };
}

/** The core step behind a drawn step (request steps first, then the reply's). */
export function stepAt(o: Outcome, index: number): Step | undefined {
  if (index < o.steps.length) return o.steps[index];
  return o.reply?.steps[index - o.steps.length];
}
