/**
 * One table from dump kind to parser, so the model builder, the language server and the tests
 * all parse a given kind the same way.
 */
import type { ParseOptions, ParseResult } from '../problem';
import type { DumpKind } from '../model/model';
import type { Ruleset } from '../model/netfilter';
import type { IpvsTable } from '../model/ipvs';
import type { FdbEntry, Iface, IpRule, Neighbour, Route, SysctlEntry } from '../model/link';
import type { DockerFacts } from '../model/docker';
import type { NftRuleset } from '../model/nft';
import { parseIptablesSave } from './parseIptablesSave';
import { parseIptablesS } from './parseIptablesS';
import { parseIptablesList } from './parseIptablesList';
import { parseIpvsadm } from './parseIpvsadm';
import { parseIpAddr, parseIpAddrJson } from './parseIpAddr';
import { parseIpRoute, parseIpRouteJson } from './parseIpRoute';
import { parseIpRule, parseIpRuleJson } from './parseIpRule';
import { parseBridgeFdb, parseBridgeFdbJson } from './parseBridgeFdb';
import { parseIpNeigh, parseIpNeighJson } from './parseIpNeigh';
import { parseSysctl } from './parseSysctl';
import { parseNft } from './parseNft';
import { parseDockerJson } from './parseDockerJson';

/** A parsed dump, tagged with its kind so consumers can narrow it. */
export type ParsedDump =
  | { kind: 'iptables-save' | 'iptables-S' | 'iptables-L'; result: ParseResult<Ruleset> }
  | { kind: 'ipvsadm'; result: ParseResult<IpvsTable> }
  | { kind: 'ip-addr' | 'ip-addr-json'; result: ParseResult<Iface[]> }
  | { kind: 'ip-route' | 'ip-route-json'; result: ParseResult<Route[]> }
  | { kind: 'ip-rule' | 'ip-rule-json'; result: ParseResult<IpRule[]> }
  | { kind: 'bridge-fdb' | 'bridge-fdb-json'; result: ParseResult<FdbEntry[]> }
  | { kind: 'ip-neigh' | 'ip-neigh-json'; result: ParseResult<Neighbour[]> }
  | { kind: 'sysctl'; result: ParseResult<SysctlEntry[]> }
  | { kind: 'nft'; result: ParseResult<NftRuleset> }
  | { kind: 'docker-json'; result: ParseResult<DockerFacts> }
  | { kind: 'failed'; of: DumpKind; result: ParseResult<null> };

/** Parses a dump of a known kind. Never throws: a parser bug becomes an error problem. */
export function parseDump(kind: DumpKind, text: string, opts: ParseOptions = {}): ParsedDump {
  try {
    return parseUnsafe(kind, text, opts);
  } catch (e) {
    // A parser must not throw; if one does, the capture still loads and the user sees where.
    const msg = e instanceof Error ? e.message : String(e);
    return {
      kind: 'failed',
      of: kind,
      result: {
        value: null,
        problems: [
          {
            code: 'internal-error',
            severity: 'error',
            message: `meshtrace could not read this ${kind} dump (internal error: ${msg}); please report it`,
            file: opts.file ?? '<input>',
            line: 1 + (opts.lineOffset ?? 0),
            col: 1,
            endCol: 2,
          },
        ],
      },
    };
  }
}

function parseUnsafe(kind: DumpKind, text: string, opts: ParseOptions): ParsedDump {
  switch (kind) {
    case 'iptables-save':
      return { kind, result: parseIptablesSave(text, opts) };
    case 'iptables-S':
      return { kind, result: parseIptablesS(text, opts) };
    case 'iptables-L':
      return { kind, result: parseIptablesList(text, opts) };
    case 'ipvsadm':
      return { kind, result: parseIpvsadm(text, opts) };
    case 'ip-addr':
      return { kind, result: parseIpAddr(text, opts) };
    case 'ip-addr-json':
      return { kind, result: parseIpAddrJson(text, opts) };
    case 'ip-route':
      return { kind, result: parseIpRoute(text, opts) };
    case 'ip-route-json':
      return { kind, result: parseIpRouteJson(text, opts) };
    case 'ip-rule':
      return { kind, result: parseIpRule(text, opts) };
    case 'ip-rule-json':
      return { kind, result: parseIpRuleJson(text, opts) };
    case 'bridge-fdb':
      return { kind, result: parseBridgeFdb(text, opts) };
    case 'bridge-fdb-json':
      return { kind, result: parseBridgeFdbJson(text, opts) };
    case 'ip-neigh':
      return { kind, result: parseIpNeigh(text, opts) };
    case 'ip-neigh-json':
      return { kind, result: parseIpNeighJson(text, opts) };
    case 'sysctl':
      return { kind, result: parseSysctl(text, opts) };
    case 'nft':
      return { kind, result: parseNft(text, opts) };
    case 'docker-json':
      return { kind, result: parseDockerJson(text, opts) };
  }
}
