/**
 * The one object every answer is rendered from: a `Trace` holds the query and every distinct fate
 * of the packet (`Outcome`), each with its `Step`s. The CLI, the VS Code views and the full
 * topology simulation all render this; nothing is rendered here. Field names follow
 * ../shared/spec/cli.md, which is a contract.
 */

/** What to trace: where the packet starts and what it looks like. */
export interface TraceQuery {
  node: string;
  namespace: string;
  /** Arrives from outside on this interface (PREROUTING); absent: sent by a local process (OUTPUT). */
  iif?: string;
  proto: 'tcp' | 'udp' | 'icmp';
  src: string;
  sport?: number;
  dst: string;
  dport?: number;
  /** ICMP type for icmp probes (default 8, echo request). */
  icmpType?: number;
}

/** The packet as it looks at one point. Marks are printed as hex strings (`0x100`). */
export interface PacketView {
  src: string;
  sport?: number;
  dst: string;
  dport?: number;
  proto: string;
  mark: string;
  iif?: string;
  oif?: string;
}

/** A dump line that decided a step. */
export interface RuleRef {
  /** Path relative to the capture. */
  file: string;
  line: number;
  text: string;
}

/** What kind of decision a step is. */
export type StepKind =
  | 'netfilter'
  | 'policy'
  | 'route'
  | 'ipvs'
  | 'link'
  | 'bridge'
  | 'vxlan'
  | 'conntrack'
  | 'deliver'
  | 'drop'
  | 'note';

/** One decision on the way. */
export interface Step {
  node: string;
  namespace: string;
  kind: StepKind;
  hook?: string;
  table?: string;
  chain?: string;
  rule?: RuleRef;
  /** What happened: `DNAT`, `ACCEPT`, `jump DOCKER-INGRESS`, `route via 10.0.0.1 dev eth0`, … */
  action: string;
  /** The packet after this step. */
  packet: PacketView;
  /** The packet before, when this step rewrote it. */
  before?: PacketView;
  /** A plain-words explanation, including assumptions the simulator had to make. */
  note?: string;
}

/** A packet's fate. */
export type Verdict = 'delivered' | 'dropped' | 'rejected' | 'no-route';

/** Where the packet ended and how it looked there. */
export interface FinalView {
  node: string;
  namespace: string;
  src: string;
  sport?: number;
  dst: string;
  dport?: number;
}

/** The reply of a delivered packet, traced back to the original sender. */
export interface ReplyTrace {
  verdict: Verdict;
  final: FinalView;
  reason: string;
  steps: Step[];
}

/** One distinct fate of the packet, with its probability. */
export interface Outcome {
  verdict: Verdict;
  probability: number;
  final: FinalView;
  reason: string;
  steps: Step[];
  /** For delivered outcomes: the reply's path back to the sender. */
  reply?: ReplyTrace;
}

/** The whole answer to a TraceQuery. */
export interface Trace {
  query: TraceQuery & { sport: number };
  outcomes: Outcome[];
  /** Problems with the query or the capture that limit the answer. */
  warnings: string[];
}
