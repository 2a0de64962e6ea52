/**
 * The network model: every node and namespace of a capture, joined up. Plain serialisable data;
 * references between objects are ids (`namespaceId`, `peerId`, `masterId`), never pointers.
 */
import type { Problem, Source } from '../problem';
import type { Ruleset } from './netfilter';
import type { IpvsTable } from './ipvs';
import type { FdbEntry, Iface, IpRule, Neighbour, Route, SysctlEntry } from './link';
import type { DockerContainer, DockerNetwork, DockerNode, DockerService } from './docker';
import type { NftRuleset } from './nft';

/** Every dump kind meshtrace reads. */
export type DumpKind =
  | 'iptables-save'
  | 'iptables-S'
  | 'iptables-L'
  | 'ipvsadm'
  | 'ip-addr'
  | 'ip-addr-json'
  | 'ip-route'
  | 'ip-route-json'
  | 'ip-rule'
  | 'ip-rule-json'
  | 'bridge-fdb'
  | 'bridge-fdb-json'
  | 'ip-neigh'
  | 'ip-neigh-json'
  | 'sysctl'
  | 'nft'
  | 'docker-json';

/** One dump as the loader found it: where it is in the capture and whose it is. */
export interface DumpFile {
  /** Path relative to the capture root (or the file name of a paste). */
  path: string;
  node: string;
  namespace: string;
  text: string;
  /** The command that printed it, when a bundle header says so. */
  cmd?: string;
  /** Lines in the file before the dump's first line (bundle sections). */
  lineOffset: number;
  /** Set when the loader already knows the kind (the user said so). */
  kind?: DumpKind;
}

/** What a namespace is in Docker's terms, where the capture tells. */
export type NamespaceRole =
  | 'host'
  | 'ingress-sbox'
  | 'lb'
  | 'overlay'
  | 'container'
  | 'other';

/** A link between two interfaces or an interface and its bridge, resolved across namespaces. */
export type Link =
  | { kind: 'veth'; a: string; b: string }
  | { kind: 'bridge-port'; bridge: string; port: string }
  | { kind: 'vxlan'; iface: string; vni: number; remote: { nodeIp: string; node?: string; namespaceId?: string; ifaceId?: string; source?: Source }[] };

/** An interface in the model: what the dump said, plus the joins. */
export interface ModelIface extends Iface {
  id: string;
  namespaceId: string;
  /** The other end of a veth pair. */
  peerId?: string;
  /** The bridge this interface is a port of. */
  masterId?: string;
}

/** The kinds of dump a namespace was described by, and from which files. */
export interface DumpRef {
  kind: DumpKind;
  file: string;
  /** True when this dump's data is what the model uses; false for alternate views of the same data. */
  used: boolean;
}

/** One network namespace of one node. */
export interface Namespace {
  id: string;
  node: string;
  name: string;
  role: NamespaceRole;
  /** Docker container, task or network this namespace belongs to, where known. */
  docker?: { containerId?: string; containerName?: string; taskName?: string; serviceName?: string; networkId?: string; networkName?: string };
  interfaceIds: string[];
  routes: Route[];
  rules: IpRule[];
  fdb: FdbEntry[];
  neighbours: Neighbour[];
  /** Sysctls by dotted key. */
  sysctls: Record<string, SysctlEntry>;
  iptables?: Ruleset;
  ip6tables?: Ruleset;
  ipvs?: IpvsTable;
  nft?: NftRuleset;
  dumps: DumpRef[];
}

/** One machine. */
export interface Node {
  name: string;
  namespaceIds: string[];
  /** Addresses of the host namespace (how the node is reached from outside). */
  addresses: string[];
}

/** Docker facts merged over the capture, each tagged with the node whose dump told it. */
export interface DockerModel {
  networks: (DockerNetwork & { node: string })[];
  services: (DockerService & { node: string })[];
  containers: (DockerContainer & { node: string })[];
  nodes: (DockerNode & { node: string })[];
}

/** The whole network model of a capture. */
export interface Model {
  nodes: Node[];
  namespaces: Namespace[];
  interfaces: ModelIface[];
  links: Link[];
  docker: DockerModel;
  /** Every problem: from the parsers (per file) and from building the model. */
  problems: Problem[];
  /** Every dump file that went in, with its detected kind (undefined: not a dump). */
  files: { path: string; node: string; namespace: string; kind?: DumpKind; bytes: number }[];
}
