/**
 * Tells which kind of dump a text is, from its content first and its file name or bundle command
 * second. Cheap: it reads at most the first 64 KB and a bounded number of lines, so a 200 MB paste
 * costs no more than a small one.
 */
import type { DumpKind } from '../model/model';
import type { TableName } from '../model/netfilter';

/** The detected kind, plus the iptables table a listing belongs to when that can be told. */
export interface Detection {
  kind?: DumpKind;
  /** For `iptables -S` / `-L`: the table from the command (`-t nat`) or the file name. */
  table?: TableName;
  /** Why the text is not a dump, when it is not one. */
  reason?: string;
  /** The text looks binary (NUL bytes or mostly control characters). */
  binary?: boolean;
  /** The text is empty (the command printed nothing). */
  empty?: boolean;
}

const TABLE_RE = /(?:^|[^a-z])(raw|mangle|nat|filter|security)(?:[^a-z]|$)/;

/** Reads the table name out of a file name or a command (`iptables -t nat -L -n -v`, `nat.txt`). */
export function tableHint(nameOrCmd: string | undefined): TableName | undefined {
  if (!nameOrCmd) return undefined;
  const t = /-t\s*(raw|mangle|nat|filter|security)\b/.exec(nameOrCmd) ?? /--table[= ](raw|mangle|nat|filter|security)\b/.exec(nameOrCmd);
  if (t) return t[1] as TableName;
  const base = nameOrCmd.split('/').pop() ?? nameOrCmd;
  const m = TABLE_RE.exec(base.toLowerCase());
  return m ? (m[1] as TableName) : undefined;
}

/** Kinds a bundle command names without doubt (`ip -j route`, `ipvsadm -Ln`, …). */
function kindFromCmd(cmd: string): DumpKind | undefined {
  const c = ` ${cmd.trim()} `;
  const json = /\s-j(son)?\s|\s-[a-z]*j[a-z]*\s/.test(c);
  if (/\biptables-save\b|\bip6tables-save\b/.test(c)) return 'iptables-save';
  if (/\bip6?tables\b/.test(c) && /\s-S\b|\s--list-rules\b/.test(c)) return 'iptables-S';
  if (/\bip6?tables\b/.test(c) && /\s-[a-zA-Z]*L|\s--list\b/.test(c)) return 'iptables-L';
  if (/\bipvsadm\b/.test(c)) return 'ipvsadm';
  if (/\bsysctl\b/.test(c)) return 'sysctl';
  if (/\bnft\b/.test(c)) return 'nft';
  if (/\bdocker\b/.test(c)) return 'docker-json';
  if (/\bbridge\b.*\bfdb\b/.test(c)) return json ? 'bridge-fdb-json' : 'bridge-fdb';
  if (/\bip\b/.test(c)) {
    if (/\s(r|ro|rou|rout|route)\s/.test(c)) return json ? 'ip-route-json' : 'ip-route';
    if (/\s(ru|rul|rule)\s/.test(c)) return json ? 'ip-rule-json' : 'ip-rule';
    if (/\s(n|ne|nei|neig|neigh|neighbor|neighbour)\s/.test(c)) return json ? 'ip-neigh-json' : 'ip-neigh';
    if (/\s(a|ad|add|addr|addre|addres|address|l|li|lin|link)\s/.test(c)) return json ? 'ip-addr-json' : 'ip-addr';
  }
  return undefined;
}

/** Looks at a JSON dump's first object to tell which iproute2 or Docker JSON it is. */
function jsonKind(head: string): DumpKind | undefined {
  const t = head.trimStart();
  if (t.startsWith('[]')) return undefined;
  const keys = new Set<string>();
  const re = /"([A-Za-z_][A-Za-z0-9_ .-]*)"\s*:/g;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(t.slice(0, 4096))) && n < 60) {
    keys.add(m[1]);
    n++;
  }
  if (keys.has('mac') && (keys.has('ifname') || keys.has('dev'))) return 'bridge-fdb-json';
  if (keys.has('ifindex') || (keys.has('ifname') && keys.has('flags'))) return 'ip-addr-json';
  if (keys.has('priority') && (keys.has('src') || keys.has('table') || keys.has('action'))) return 'ip-rule-json';
  if (keys.has('dst') && (keys.has('lladdr') || (keys.has('state') && !keys.has('protocol') && !keys.has('scope')))) return 'ip-neigh-json';
  if (keys.has('dst') && (keys.has('dev') || keys.has('type') || keys.has('gateway'))) return 'ip-route-json';
  if (keys.has('Name') || keys.has('ID') || keys.has('Id') || keys.has('Hostname') || keys.has('EndpointID') || keys.has('NetworkSettings')) return 'docker-json';
  return undefined;
}

/** Detects a dump's kind. `name` is the file name (or bundle command) used only as a tie-breaker. */
export function detectKind(text: string, name = '', cmd?: string): Detection {
  const table = tableHint(cmd) ?? tableHint(name);
  if (text.trim() === '') return { empty: true, kind: cmd ? kindFromCmd(cmd) : undefined, table };
  const head = text.slice(0, 65536);
  let ctrl = 0;
  for (let i = 0; i < Math.min(head.length, 8192); i++) {
    const c = head.charCodeAt(i);
    if (c === 0) return { binary: true, reason: 'binary data (NUL bytes), not a text dump' };
    if (c < 9 || (c > 13 && c < 32) || c === 0xfffd) ctrl++;
  }
  if (ctrl > Math.min(head.length, 8192) * 0.1) return { binary: true, reason: 'mostly control characters, not a text dump' };

  if (cmd) {
    const k = kindFromCmd(cmd);
    if (k) return { kind: k, table };
  }
  const first = head.trimStart();
  if (/^(\[\s*\]|\{\s*\})\s*$/.test(first)) return { empty: true, table, reason: 'empty JSON' };
  if (first.startsWith('[') || first.startsWith('{')) {
    const k = jsonKind(first);
    if (k) return { kind: k, table };
    return { reason: 'JSON of a shape meshtrace does not read' };
  }

  const lines = head.split('\n', 400).map((l) => l.replace(/\r$/, ''));
  const score = new Map<DumpKind, number>();
  const hits = new Map<DumpKind, number>();
  let topLevel = 0;
  let indented = false;
  let sawTable = false;
  const vote = (k: DumpKind, w = 1): void => {
    score.set(k, (score.get(k) ?? 0) + w);
    if (!indented) hits.set(k, (hits.get(k) ?? 0) + 1);
  };
  for (const raw of lines) {
    const l = raw.trim();
    if (l === '') continue;
    indented = /^\s/.test(raw) && !/^\s*(\d+\s+)?\d+[KMGT]?\s+\d+[KMGT]?\s+\S/.test(raw);
    if (!indented && !l.startsWith('#') && !/^\[\.\.\.snip/.test(l)) topLevel++;
    if (/^# Generated by ip6?tables-save/.test(l) || /^\*(raw|mangle|nat|filter|security)$/.test(l)) {
      // After a table header, `-A` lines are iptables-save rules, however many follow.
      sawTable = true;
      vote('iptables-save', 50);
    }
    else if (l === 'COMMIT') vote('iptables-save', 5);
    else if (/^(\[\d+:\d+\] )?-A \S+/.test(l) && /^(\[\d+:\d+\] )?-A (-[tufs]|--(tcp|udp|sctp|fwmark)-service)\b/.test(l)) vote('ipvsadm', 10);
    else if (/^-a (-[tufs]|--(tcp|udp|sctp|fwmark)-service)\b/.test(l)) vote('ipvsadm', 10);
    else if (/^:\S+ (ACCEPT|DROP|-) \[\d+:\d+\]$/.test(l)) vote('iptables-save', 20);
    else if (/^-P \S+ (ACCEPT|DROP)$/.test(l) || /^-N \S+$/.test(l)) vote('iptables-S', 10);
    else if (/^(\[\d+:\d+\] )?-A \S+/.test(l)) vote(sawTable ? 'iptables-save' : 'iptables-S', 2);
    else if (/^Chain \S+ \((policy \S+|\d+ references)/.test(l)) vote('iptables-L', 20);
    else if (/^(num\s+)?pkts\s+bytes\s+target/.test(l) || /^(num\s+)?target\s+prot\s+opt\s+source/.test(l)) vote('iptables-L', 10);
    else if (/^(\d+\s+)?(\d+[KMGT]?\s+){2}\S+\s+\S+\s+(--|-f|!f)\s/.test(l) || /^(\d+\s+)?\S+\s+(all|tcp|udp|icmp|sctp|\d+)\s+(--|-f|!f)\s+/.test(l)) vote('iptables-L', 1);
    else if (/^IP Virtual Server version/.test(l) || /^Prot LocalAddress:Port/.test(l) || /^IPVS connection entries/.test(l) || /^Can't initialize ipvs/.test(l)) vote('ipvsadm', 50);
    else if (/^(TCP|UDP|SCTP)\s+\S+:\S+\s/.test(l) || /^FWM\s+\d+/.test(l)) vote('ipvsadm', 5);
    else if (/^\d+: [^\s:]+(@\S+)?: <[A-Z0-9_,-]*>/.test(l)) vote('ip-addr', 30);
    else if (/^\d+:\s+(not\s+)?from \S+/.test(l)) vote('ip-rule', 20);
    else if (/^table (ip|ip6|inet|arp|bridge|netdev) \S+ \{$/.test(l)) vote('nft', 50);
    else if (/^([0-9a-f]{2}:){5}[0-9a-f]{2} dev \S+/i.test(l)) vote('bridge-fdb', 20);
    else if (/^[0-9a-f.:]+ dev \S+ (lladdr \S+ )?(router )?(proxy )?[A-Z]+( [A-Z]+)*$/.test(l) || /^[0-9a-f.:]+ dev \S+ lladdr /.test(l)) vote('ip-neigh', 15);
    else if (/^(default|(local|broadcast|blackhole|unreachable|prohibit|throw|multicast|anycast|unicast|nat) \S+|[0-9a-f.:]+(\/\d+)?) ((via|dev|proto|scope|table|metric|src) |.*\bdev \S+)/.test(l)) vote('ip-route', 10);
    else if (/^(blackhole|unreachable|prohibit|throw) \S+/.test(l)) vote('ip-route', 10);
    else if (/^[a-z0-9_]+(\.[A-Za-z0-9_@:-]+)+ ?= ?/.test(l)) vote('sysctl', 5);
  }
  let best: DumpKind | undefined;
  let bestScore = 0;
  for (const [k, s] of score) if (s > bestScore) [best, bestScore] = [k, s];
  if (!best) return { reason: 'not a dump kind meshtrace reads' };
  // Prose that quotes a few dump lines (a README, a log) is not a dump: most of the top-level
  // lines (not indented, not comments) must look like the winning kind.
  const matched = (hits.get(best) ?? 0) + (best === 'iptables-save' ? hits.get('iptables-S') ?? 0 : 0);
  if (topLevel > 0 && matched / topLevel < 0.5) return { reason: `text that only quotes ${best} lines (${matched} of ${topLevel})` };
  return { kind: best, table };
}
