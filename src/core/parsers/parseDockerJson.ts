/**
 * Docker's JSON dumps: `docker network inspect [-v]`, `docker service inspect`, `docker inspect`
 * of containers, `docker node inspect`, and the one-object-per-line output of
 * `docker node ls --format json` / `docker service ls --format json`. One file may hold a JSON
 * array, a single object, several concatenated values or JSON lines; every object is recognised on
 * its own by its keys, so a file can mix kinds.
 */
import type {
  DockerContainer,
  DockerEndpoint,
  DockerFacts,
  DockerNetService,
  DockerNetTask,
  DockerNetwork,
  DockerNode,
  DockerPort,
  DockerService,
} from '../model/docker';
import { ProblemSink, type ParseOptions, type ParseResult, type Severity, type Source } from '../problem';
import { J, parseJsonDump, type JsonDoc, type JsonObject, type JsonValue } from './json';

/** What `detectDockerJsonKind` can tell from the start of a file. */
export type DockerJsonKind =
  | 'docker-network'
  | 'docker-service'
  | 'docker-container'
  | 'docker-node'
  | 'docker-mixed';

/**
 * Deepest bracket nesting handed to the JSON parser. jsonc-parser recurses once per level and
 * overflows the stack near 10,000 levels; json.ts itself stops at 200. Deeper values are blanked
 * out before parsing, so the parser never sees them.
 */
const MAX_DEPTH = 200;

/** Problems of one code listed before the rest are only counted. */
const MAX_PER_CODE = 100;

/** Characters the key locator may scan in one parse, so that problem positions stay cheap. */
const LOCATE_BUDGET = 20_000_000;

/** libnetwork's overlay driver option listing the network's VXLAN ids, e.g. "4096,4097". */
const VXLAN_KEY = 'com.docker.network.driver.overlay.vxlanid_list';

/**
 * Reads Docker JSON into networks, services, containers and nodes. Never throws; each object
 * that is not a known Docker object is skipped with a `docker-unknown` warning.
 *
 * Example input (`docker node ls --format json`, one line per node):
 * `{"Availability":"Active","Hostname":"vm","ID":"re9c3pj6b3iq9aktmsu83qijv","ManagerStatus":"Leader","Self":true,"Status":"Ready","TLSStatus":"Ready"}`
 */
export function parseDockerJson(text: string, opts: ParseOptions = {}): ParseResult<DockerFacts> {
  const sink = new ProblemSink(opts.file ?? '<input>');
  const facts: DockerFacts = { networks: [], services: [], containers: [], nodes: [] };
  const base = opts.lineOffset ?? 0;
  const r = new Reader(text, sink, base, facts);

  let segs = scanSegments(text, 0, text.length, false);
  // JSON lines (`docker node ls --format json`): when the first value is an object that opens and
  // closes on one line, read every line on its own so that one broken line cannot swallow the next.
  const first = segs.find((g) => text.charCodeAt(g.start) === 0x7b || text.charCodeAt(g.start) === 0x5b);
  if (segs.length > 1 && first && text.charCodeAt(first.start) === 0x7b && !hasNewline(text, first.start, first.end)) {
    segs = scanSegments(text, 0, text.length, true);
  }
  if (segs.length === 0) {
    sink.warn('docker-empty', 1 + base, 'no JSON in this file (it is empty or only white space)');
    return { value: facts, problems: sink.problems };
  }

  let line = 1;
  let pos = 0;
  let lineStart = 0;
  for (const seg of mergeSameLine(text, segs)) {
    // Keep line numbers right: count the newlines before this segment, and pad its first line
    // with spaces so that columns stay those of the file (only white space precedes a segment
    // on its line, so the padding is short).
    for (; pos < seg.start; pos++) {
      if (text.charCodeAt(pos) === 10) {
        line++;
        lineStart = pos + 1;
      }
    }
    // Lines that are not JSON at all (a shell prompt, binary garbage): one error, not one per word.
    const c0 = text.charCodeAt(seg.start);
    if (c0 !== 0x7b && c0 !== 0x5b && !/^(?:"|-?\d|true\b|false\b|null\b)/.test(text.slice(seg.start, seg.start + 6))) {
      const endLine = line + countNewlines(text, seg.start, seg.end) + base;
      const firstEnd = lineEnd(text, seg.start, seg.end);
      r.add(
        'error',
        'json-syntax',
        { line: line + base, col: seg.start - lineStart + 1, endCol: Math.max(seg.start - lineStart + 2, firstEnd - lineStart + 1) },
        `not JSON: ${quote(text.slice(seg.start, Math.min(firstEnd, seg.start + 40)))} (expected a JSON object or list); skipped${endLine > line + base ? ` through line ${endLine}` : ''}`,
      );
      continue;
    }
    let body = '';
    let from = seg.start;
    seg.deep.forEach((d, k) => {
      if (k < 3) {
        const col = d.start - lineStartOf(text, d.start) + 1;
        const endLine = line + countNewlines(text, seg.start, d.end) + base;
        r.add(
          'error',
          'json-depth',
          { line: line + countNewlines(text, seg.start, d.start) + base, col, endCol: col + 1 },
          `JSON nested more than ${MAX_DEPTH} levels deep: this value (through line ${endLine}) is skipped`,
        );
      } else if (k === seg.deep.length - 1) {
        r.add('error', 'json-depth', line + countNewlines(text, seg.start, d.start) + base, `${seg.deep.length - 3} more values nested more than ${MAX_DEPTH} levels deep were skipped`);
      }
      body += text.slice(from, d.start) + blank(text.slice(d.start, d.end));
      from = d.end;
    });
    body += text.slice(from, seg.end);
    const segText = ' '.repeat(seg.start - lineStart) + body;
    // Each value's JSON problems go through the reader, which caps how many of a kind are listed.
    const segSink = new ProblemSink(sink.file);
    r.doc = parseJsonDump(segText, segSink, base + line - 1);
    for (const p of segSink.problems) r.add(p.severity, p.code, { line: p.line, col: p.col, endCol: p.endCol }, p.message);
    r.top(r.doc.value, 0);
  }
  r.finish();
  prune(facts, 0);
  return { value: facts, problems: sink.problems };
}

/**
 * Tells which Docker JSON a file holds from its first 4 KB, by the keys it sees: cheap, for the
 * loader's guess of a file's kind. `undefined` when it does not look like Docker JSON.
 */
export function detectDockerJsonKind(text: string): DockerJsonKind | undefined {
  const head = text.slice(0, 4096);
  let i = 0;
  while (i < head.length && (isWs(head.charCodeAt(i)) || head.charCodeAt(i) === 0xfeff)) i++;
  if (head[i] !== '{' && head[i] !== '[') return undefined;
  const keys = new Set<string>();
  // Keys only: a quoted string followed by a colon (bounded, so the regex stays linear).
  const re = /"((?:[^"\\\n]|\\.){1,80})"\s*:/g;
  for (let m = re.exec(head); m; m = re.exec(head)) keys.add(m[1]);
  const has = (k: string): boolean => keys.has(k);
  const kinds: DockerJsonKind[] = [];
  const container = has('NetworkSettings') || has('HostConfig') || has('SandboxKey');
  if (container) kinds.push('docker-container');
  // A bare `Containers` map (`--format '{{json .Containers}}'`) has the endpoint keys of a network's
  // Containers entries but none of a container's own (`IPAddress`, `IPAMConfig`).
  const bareMap = has('EndpointID') && has('IPv4Address') && !has('IPAddress') && !has('IPAMConfig');
  if (has('IPAM') || has('Peers') || (bareMap && !container)) kinds.push('docker-network');
  if (has('TaskTemplate') || has('EndpointSpec') || has('VirtualIPs') || has('UpdateConfig') || (has('Replicas') && has('Mode'))) {
    kinds.push('docker-service');
  }
  if (has('ManagerStatus') || has('TLSStatus') || (has('Description') && has('Hostname')) || (has('Hostname') && has('Availability'))) {
    kinds.push('docker-node');
  }
  if (kinds.length === 0) return undefined;
  return kinds.length === 1 ? kinds[0] : 'docker-mixed';
}

// ---------------------------------------------------------------------------------------------
// Splitting the text into top-level JSON values, iteratively (no recursion, no regex).

/** One top-level value of the text, with the ranges nested too deeply to be parsed. */
interface Segment {
  start: number;
  end: number;
  deep: { start: number; end: number }[];
}

/**
 * Finds the top-level values in text[from, to): each `{…}` or `[…]` by bracket counting (strings
 * skipped), and each run of other lines (scalars, prompts, garbage) as one segment. With
 * `lineMode`, a `{…}` or `[…]` segment ends at its line's end even when unclosed.
 */
function scanSegments(text: string, from: number, to: number, lineMode: boolean): Segment[] {
  const segs: Segment[] = [];
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isWs(c) || c === 0xfeff) {
      i++;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      const seg: Segment = { start: i, end: to, deep: [] };
      let depth = 0;
      let deepAt = -1;
      let deepBase = 0;
      let j = i;
      for (; j < to; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x22) {
          // A string ends at its closing quote, or (invalid, reported by the parser) at a newline.
          j++;
          while (j < to) {
            const e = text.charCodeAt(j);
            if (e === 0x22 || e === 10) break;
            j += e === 0x5c && text.charCodeAt(j + 1) !== 10 ? 2 : 1;
          }
          if (j < to && text.charCodeAt(j) === 10) j--;
          continue;
        }
        if (d === 10 && lineMode) break;
        if (d === 0x7b || d === 0x5b) {
          depth++;
          if (depth > MAX_DEPTH && deepAt < 0) {
            deepAt = j;
            deepBase = depth - 1;
          }
        } else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (deepAt >= 0 && depth === deepBase) {
            seg.deep.push({ start: deepAt, end: j + 1 });
            deepAt = -1;
          }
          if (depth <= 0) {
            j++;
            break;
          }
        }
      }
      seg.end = Math.min(j, to);
      if (deepAt >= 0) seg.deep.push({ start: deepAt, end: seg.end });
      segs.push(seg);
      i = seg.end;
      continue;
    }
    // Not JSON-looking: take this line and the following lines up to one that starts a value.
    const start = i;
    let end = lineEnd(text, i, to);
    for (;;) {
      let k = end;
      while (k < to && (isWs(text.charCodeAt(k)) || text.charCodeAt(k) === 0xfeff)) k++;
      if (k >= to || text.charCodeAt(k) === 0x7b || text.charCodeAt(k) === 0x5b) break;
      end = lineEnd(text, k, to);
    }
    segs.push({ start, end, deep: [] });
    i = end;
  }
  return segs;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 9 || c === 10 || c === 13;
}

function lineEnd(text: string, i: number, to: number): number {
  let k = i;
  while (k < to && text.charCodeAt(k) !== 10) k++;
  return k;
}

function lineStartOf(text: string, i: number): number {
  return text.lastIndexOf('\n', i - 1) + 1;
}

// The helpers below never look past `to`: indexOf would run to the end of a long one-line file.
function hasNewline(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (text.charCodeAt(k) === 10) return true;
  return false;
}

/**
 * Joins a segment to the one before when it starts on the line that one ends on (`{…} {…}` is not
 * JSON lines): the parser then reports the extra value, and no segment needs long padding.
 */
function mergeSameLine(text: string, segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const seg of segs) {
    const prev = out[out.length - 1];
    if (prev && !hasNewline(text, prev.end, seg.start)) {
      prev.end = seg.end;
      for (const d of seg.deep) prev.deep.push(d);
    } else {
      out.push({ start: seg.start, end: seg.end, deep: [...seg.deep] });
    }
  }
  return out;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) if (text.charCodeAt(k) === 10) n++;
  return n;
}

/**
 * Replaces a too-deep value by `null` (`0` when shorter), keeping its newlines so that lines stay
 * right. The padding that keeps later columns right is capped: jsonc-parser needs over a second
 * to skip 10 MB of blanks, and only a pathological line is that long.
 */
function blank(s: string): string {
  const nl = countNewlines(s, 0, s.length);
  const lit = nl === 0 && s.length < 4 ? '0' : 'null';
  const lastLen = s.length - (s.lastIndexOf('\n') + 1);
  const pad = Math.min(Math.max(0, lastLen - (nl === 0 ? lit.length : 0)), 4096);
  return lit + '\n'.repeat(nl) + ' '.repeat(pad);
}

// ---------------------------------------------------------------------------------------------
// Reading the parsed values.

/** A position in the file: 1-based line, 1-based columns, end exclusive. */
interface Pos {
  line: number;
  col: number;
  endCol: number;
}

/** Reads the objects of one file into `facts`, reporting every problem at its key where it can. */
class Reader {
  doc: JsonDoc = { value: undefined, lineOf: () => 1 };
  private starts: number[] | undefined;
  private budget = LOCATE_BUDGET;
  private serviceLsNoted = false;
  private readonly counts = new Map<string, number>();
  private readonly lastHidden = new Map<string, { sev: Severity; line: number }>();

  constructor(
    private readonly text: string,
    private readonly sink: ProblemSink,
    private readonly base: number,
    private readonly facts: DockerFacts,
  ) {}

  /** A top-level value: an array (of arrays, as `jq -s` makes) or one object. */
  top(v: JsonValue | undefined, depth: number, arr?: JsonValue[], index = 0): void {
    if (v === undefined) return; // nothing parsed: the syntax errors are already reported
    if (Array.isArray(v)) {
      if (depth < 3) {
        v.forEach((e, i) => this.top(e, depth + 1, v, i));
        return;
      }
    }
    const o = J.obj(v);
    if (!o) {
      this.add('warning', 'docker-unknown', arr ? this.locate(arr, index) : this.lineOf(v), `expected a Docker JSON object here, got ${show(v)}; skipped`);
      return;
    }
    this.object(o);
  }

  /** Recognises one object by its keys and reads it. */
  private object(o: JsonObject): void {
    const has = (k: string): boolean => o[k] !== undefined;
    const spec = J.obj(o.Spec);
    if (has('NetworkSettings') || has('HostConfig') || (has('Id') && has('State') && has('Config'))) {
      this.facts.containers.push(this.container(o));
    } else if (has('IPAM') || (has('Name') && has('Id') && (has('Driver') || has('Scope') || has('Containers')))) {
      this.facts.networks.push(this.network(o, false));
    } else if (has('Spec') && (has('Description') || (spec !== undefined && spec.Role !== undefined))) {
      this.facts.nodes.push(this.nodeInspect(o));
    } else if (has('ID') && (has('Spec') || has('Endpoint'))) {
      this.facts.services.push(this.service(o));
    } else if (has('ID') && has('Hostname') && (has('Availability') || has('ManagerStatus') || has('Status'))) {
      this.facts.nodes.push(this.nodeLs(o));
    } else if (has('ID') && has('Name') && has('Mode') && has('Replicas')) {
      this.facts.services.push(this.serviceLs(o));
    } else if (isBareContainersMap(o)) {
      this.facts.networks.push(this.network(o, true));
    } else {
      const keys = Object.keys(o);
      const shown = keys.slice(0, 6).map((k) => quote(k)).join(', ');
      const list = keys.length === 0 ? 'an empty object' : `an object with keys ${shown}${keys.length > 6 ? ', …' : ''}`;
      this.add(
        'warning',
        'docker-unknown',
        this.lineOf(o),
        `unknown JSON (${list}): expected a \`docker network inspect\`, \`docker service inspect\`, ` +
          '`docker inspect` (container) or `docker node inspect` object, or a `docker node ls`/`docker service ls --format json` line; skipped',
      );
    }
  }

  // --- docker network inspect ------------------------------------------------------------------

  /** `docker network inspect [-v]`, or a bare `Containers` map (`bare`). */
  private network(o: JsonObject, bare: boolean): DockerNetwork {
    const net: DockerNetwork = {
      id: '',
      name: '',
      ingress: false,
      internal: false,
      subnets: [],
      options: {},
      vnis: [],
      endpoints: [],
      peers: [],
      services: [],
      source: this.src(o),
    };
    if (bare) {
      this.add(
        'info',
        'docker-unnamed-network',
        this.lineOf(o),
        "a bare `Containers` map (`docker network inspect --format '{{json .Containers}}'`): the network's name and id are not in the dump",
      );
      this.endpoints(o, net, 'Containers');
      return net;
    }
    net.name = this.str(o, 'Name', 'network: Name') ?? '';
    net.id = this.str(o, 'Id', 'network: Id') ?? '';
    const label = `network ${net.name ? quote(net.name) : net.id ? quote(net.id) : '(no name)'}`;
    this.requireKeys(o, label, ['Name', 'Id']);
    net.scope = nonEmpty(this.str(o, 'Scope', `${label}: Scope`));
    net.driver = nonEmpty(this.str(o, 'Driver', `${label}: Driver`));
    net.ingress = this.bool(o, 'Ingress', `${label}: Ingress`) ?? false;
    net.internal = this.bool(o, 'Internal', `${label}: Internal`) ?? false;

    const ipam = this.obj(o, 'IPAM', `${label}: IPAM`);
    const cfg = ipam && this.arr(ipam, 'Config', `${label}: IPAM.Config`);
    cfg?.forEach((_, i) => {
      const c = this.elemObj(cfg, i, `${label}: IPAM.Config[${i}]`);
      if (!c) return;
      const subnet = this.str(c, 'Subnet', `${label}: IPAM.Config[${i}].Subnet`);
      if (!subnet) {
        if (c.Subnet === undefined || c.Subnet === null) this.add('warning', 'docker-missing', this.lineOf(c), `${label}: IPAM.Config[${i}] has no Subnet; skipped`);
        return;
      }
      net.subnets.push({ subnet, gateway: nonEmpty(this.str(c, 'Gateway', `${label}: IPAM.Config[${i}].Gateway`)) });
    });

    const options = this.obj(o, 'Options', `${label}: Options`);
    if (options) {
      net.options = this.strMap(options, `${label}: Options`);
      const list = net.options[VXLAN_KEY];
      if (list !== undefined) net.vnis = this.vnis(options, list, label);
    }

    const containers = this.obj(o, 'Containers', `${label}: Containers`);
    if (containers) this.endpoints(containers, net, `${label}: Containers`);

    const peers = this.arr(o, 'Peers', `${label}: Peers`);
    peers?.forEach((_, i) => {
      const p = this.elemObj(peers, i, `${label}: Peers[${i}]`);
      if (!p) return;
      const name = this.str(p, 'Name', `${label}: Peers[${i}].Name`);
      const ip = this.str(p, 'IP', `${label}: Peers[${i}].IP`);
      if (name === undefined || ip === undefined) {
        this.add('warning', 'docker-missing', this.lineOf(p), `${label}: Peers[${i}] needs a Name and an IP; skipped`);
        return;
      }
      net.peers.push({ name, ip });
    });

    const services = this.obj(o, 'Services', `${label}: Services`);
    if (services) {
      for (const name of Object.keys(services)) {
        const s = this.netService(services, name, label);
        if (s) net.services.push(s);
      }
    }
    return net;
  }

  /** The VXLAN ids of an overlay: libnetwork's overlay driver joins them with commas. */
  private vnis(options: JsonObject, list: string, label: string): number[] {
    const out: number[] = [];
    for (const part of list.split(',')) {
      const t = part.trim();
      const n = /^\d{1,8}$/.test(t) ? Number(t) : NaN;
      // A VXLAN network identifier is 24 bits (RFC 7348).
      if (n >= 1 && n <= 0xffffff) out.push(n);
      else this.warnKey(options, VXLAN_KEY, 'docker-value', `${label}: ${VXLAN_KEY}: ${quote(t)} is not a VXLAN id (1-16777215); ignored`);
    }
    return out;
  }

  /** The `Containers` map of a network: key = container id, `ingress-sbox` or `lb-<net>`. */
  private endpoints(map: JsonObject, net: DockerNetwork, at: string): void {
    for (const key of Object.keys(map)) {
      const e = map[key];
      const here = `${at}[${quote(key)}]`;
      if (e === null) continue;
      const eo = J.obj(e);
      if (!eo) {
        this.warnKey(map, key, 'docker-type', `${here}: expected an object, got ${show(e)}; skipped`);
        continue;
      }
      const ep: DockerEndpoint = { key, name: this.str(eo, 'Name', `${here}.Name`) ?? '', source: this.src(eo) };
      if (eo.Name === undefined || eo.Name === null) this.add('warning', 'docker-missing', this.lineOf(eo), `${here} has no Name; kept with an empty name`);
      ep.endpointId = nonEmpty(this.str(eo, 'EndpointID', `${here}.EndpointID`));
      ep.mac = nonEmpty(this.str(eo, 'MacAddress', `${here}.MacAddress`));
      const v4 = nonEmpty(this.str(eo, 'IPv4Address', `${here}.IPv4Address`));
      if (v4 !== undefined) {
        const c = parseCidr4(v4);
        if (c) ep.ipv4 = c;
        else this.warnKey(eo, 'IPv4Address', 'docker-value', `${here}.IPv4Address: expected ADDRESS/PREFIX like "10.0.0.4/24", got ${quote(v4)}; ignored`);
      }
      ep.ipv6 = nonEmpty(this.str(eo, 'IPv6Address', `${here}.IPv6Address`));
      net.endpoints.push(ep);
    }
  }

  /** One `Services` entry of `docker network inspect -v` (libnetwork network.go `Services()`). */
  private netService(services: JsonObject, name: string, label: string): DockerNetService | undefined {
    const here = `${label}: Services[${quote(name)}]`;
    const v = services[name];
    if (v === null) return undefined;
    const so = J.obj(v);
    if (!so) {
      this.warnKey(services, name, 'docker-type', `${here}: expected an object, got ${show(v)}; skipped`);
      return undefined;
    }
    const s: DockerNetService = { name, ports: [], tasks: [], source: this.src(so) };
    // The VIP is a Go net.IP printed with %s: "<nil>" when the service has none (dnsrr, and the
    // ingress sandbox's pseudo-service "").
    const vip = this.str(so, 'VIP', `${here}.VIP`);
    if (vip !== undefined && vip !== '' && vip !== '<nil>') s.vip = vip;
    const ports = this.arr(so, 'Ports', `${here}.Ports`);
    ports?.forEach((p, i) => {
      // Printed as fmt.Sprintf("Target: %d, Publish: %d", …); the protocol is not printed.
      const m = typeof p === 'string' ? /^Target: (\d{1,5}), Publish: (\d{1,5})$/.exec(p) : null;
      const target = m ? Number(m[1]) : NaN;
      const publish = m ? Number(m[2]) : NaN;
      if (m && target <= 65535 && publish <= 65535) s.ports.push({ target, publish });
      else this.add('warning', 'docker-value', this.locate(ports, i), `${here}.Ports[${i}]: expected "Target: N, Publish: N", got ${show(p)}; ignored`);
    });
    s.localLBIndex = this.int(so, 'LocalLBIndex', `${here}.LocalLBIndex`, 0, 0xffffffff);
    const tasks = this.arr(so, 'Tasks', `${here}.Tasks`);
    tasks?.forEach((_, i) => {
      const t = this.elemObj(tasks, i, `${here}.Tasks[${i}]`);
      if (!t) return;
      const th = `${here}.Tasks[${i}]`;
      const task: DockerNetTask = { name: this.str(t, 'Name', `${th}.Name`) ?? '', source: this.src(t) };
      if (t.Name === undefined || t.Name === null) this.add('warning', 'docker-missing', this.lineOf(t), `${th} has no Name; kept with an empty name`);
      task.endpointId = nonEmpty(this.str(t, 'EndpointID', `${th}.EndpointID`));
      task.endpointIp = nonEmpty(this.str(t, 'EndpointIP', `${th}.EndpointIP`));
      const info = this.obj(t, 'Info', `${th}.Info`);
      if (info) task.hostIp = nonEmpty(this.str(info, 'Host IP', `${th}.Info["Host IP"]`));
      s.tasks.push(task);
    });
    return s;
  }

  // --- docker service inspect / docker service ls ----------------------------------------------

  /** `docker service inspect` (swarm.Service of the Docker API). */
  private service(o: JsonObject): DockerService {
    const spec = this.obj(o, 'Spec', 'service: Spec');
    const id = this.str(o, 'ID', 'service: ID') ?? '';
    const name = (spec && this.str(spec, 'Name', 'service: Spec.Name')) ?? '';
    const label = `service ${name ? quote(name) : id ? quote(id) : '(no name)'}`;
    if (!id) this.add('warning', 'docker-missing', this.lineOf(o), `${label} has no ID; kept with an empty id`);
    if (!name) this.add('warning', 'docker-missing', this.lineOf(spec ?? o), `${label} has no Spec.Name; kept with an empty name`);
    const svc: DockerService = { id, name, mode: 'unknown', endpointMode: 'vip', ports: [], vips: [], networks: [], source: this.src(o) };

    const mode = spec && this.obj(spec, 'Mode', `${label}: Spec.Mode`);
    if (mode) {
      const rep = mode.Replicated !== undefined ? this.obj(mode, 'Replicated', `${label}: Spec.Mode.Replicated`) : undefined;
      if (rep) {
        svc.mode = 'replicated';
        svc.replicas = this.int(rep, 'Replicas', `${label}: Spec.Mode.Replicated.Replicas`, 0, Number.MAX_SAFE_INTEGER);
      } else if (mode.Global !== undefined) {
        svc.mode = 'global';
      } else {
        const k = Object.keys(mode)[0];
        // ReplicatedJob / GlobalJob (API 1.41) run to completion; the model has no mode for them.
        this.add('info', 'docker-service-mode', this.lineOf(mode), `${label}: service mode ${k ? quote(k) : '{}'} is neither Replicated nor Global; mode "unknown"`);
      }
    } else if (spec) {
      this.add('warning', 'docker-missing', this.lineOf(spec), `${label} has no Spec.Mode; mode "unknown"`);
    }

    const endpoint = this.obj(o, 'Endpoint', `${label}: Endpoint`);
    const epSpec = endpoint && this.obj(endpoint, 'Spec', `${label}: Endpoint.Spec`);
    const specEp = spec && this.obj(spec, 'EndpointSpec', `${label}: Spec.EndpointSpec`);
    // Endpoint.Spec is the spec the swarm applied; Spec.EndpointSpec what the user asked for.
    // Without either the swarm uses VIP mode (swarmkit api/specs.proto EndpointSpec.mode default).
    const em = (epSpec && this.modeOf(epSpec, `${label}: Endpoint.Spec.Mode`)) ?? (specEp && this.modeOf(specEp, `${label}: Spec.EndpointSpec.Mode`));
    if (em) svc.endpointMode = em;

    // Endpoint.Ports carries the published ports the swarm assigned; the specs only what was asked.
    const portsFrom: [JsonObject | undefined, string][] = [
      [endpoint, `${label}: Endpoint.Ports`],
      [epSpec, `${label}: Endpoint.Spec.Ports`],
      [specEp, `${label}: Spec.EndpointSpec.Ports`],
    ];
    for (const [holder, at] of portsFrom) {
      const list = holder && this.arr(holder, 'Ports', at);
      if (!list) continue;
      list.forEach((_, i) => {
        const p = this.elemObj(list, i, `${at}[${i}]`);
        const port = p && this.port(p, `${at}[${i}]`);
        if (port) svc.ports.push(port);
      });
      break;
    }

    const vips = endpoint && this.arr(endpoint, 'VirtualIPs', `${label}: Endpoint.VirtualIPs`);
    vips?.forEach((_, i) => {
      const at = `${label}: Endpoint.VirtualIPs[${i}]`;
      const v = this.elemObj(vips, i, at);
      if (!v) return;
      const networkId = this.str(v, 'NetworkID', `${at}.NetworkID`);
      const addr = this.str(v, 'Addr', `${at}.Addr`);
      // The VIP carries the network's prefix length, e.g. "10.0.0.3/24" (docker-formats doc §4).
      const c = addr !== undefined ? parseCidr4(addr) : undefined;
      if (!networkId || !c) {
        const why = !networkId ? 'no NetworkID' : addr === undefined ? 'no Addr' : `Addr ${quote(addr)} is not ADDRESS/PREFIX`;
        this.add('warning', 'docker-value', addr !== undefined && networkId ? this.keyPos(v, 'Addr') : this.lineOf(v), `${at}: ${why}; skipped`);
        return;
      }
      svc.vips.push({ networkId, addr: c.addr, prefixLen: c.prefixLen });
    });

    const tt = spec && this.obj(spec, 'TaskTemplate', `${label}: Spec.TaskTemplate`);
    // Spec.Networks is the pre-API-1.25 place of the task networks, still accepted by the daemon.
    const nets =
      (tt && tt.Networks !== undefined && tt.Networks !== null ? this.arr(tt, 'Networks', `${label}: Spec.TaskTemplate.Networks`) : undefined) ??
      (spec && this.arr(spec, 'Networks', `${label}: Spec.Networks`));
    nets?.forEach((_, i) => {
      const n = this.elemObj(nets, i, `${label}: Networks[${i}]`);
      const target = n && this.str(n, 'Target', `${label}: Networks[${i}].Target`);
      if (target) svc.networks.push(target);
      else if (n) this.add('warning', 'docker-missing', this.lineOf(n), `${label}: Networks[${i}] has no Target; skipped`);
    });
    const cs = tt && this.obj(tt, 'ContainerSpec', `${label}: Spec.TaskTemplate.ContainerSpec`);
    svc.image = nonEmpty(cs && this.str(cs, 'Image', `${label}: Spec.TaskTemplate.ContainerSpec.Image`));
    return svc;
  }

  private modeOf(holder: JsonObject, at: string): 'vip' | 'dnsrr' | undefined {
    const m = this.str(holder, 'Mode', at);
    if (m === undefined || m === '') return undefined;
    if (m === 'vip' || m === 'dnsrr') return m;
    this.warnKey(holder, 'Mode', 'docker-value', `${at}: expected "vip" or "dnsrr", got ${quote(m)}; using "vip"`);
    return 'vip';
  }

  /** A swarm.PortConfig: {Protocol, TargetPort, PublishedPort, PublishMode}. */
  private port(p: JsonObject, at: string): DockerPort | undefined {
    const target = this.int(p, 'TargetPort', `${at}.TargetPort`, 0, 65535);
    if (target === undefined) {
      if (p.TargetPort === undefined || p.TargetPort === null) this.add('warning', 'docker-missing', this.lineOf(p), `${at} has no TargetPort; skipped`);
      return undefined;
    }
    // swarmkit's defaults: protocol tcp, publish mode ingress (api/types.proto PortConfig).
    let protocol: DockerPort['protocol'] = 'tcp';
    const proto = this.str(p, 'Protocol', `${at}.Protocol`);
    if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') protocol = proto;
    else if (proto) this.warnKey(p, 'Protocol', 'docker-value', `${at}.Protocol: expected tcp, udp or sctp, got ${quote(proto)}; using tcp`);
    let mode: DockerPort['mode'] = 'ingress';
    const pm = this.str(p, 'PublishMode', `${at}.PublishMode`);
    if (pm === 'ingress' || pm === 'host') mode = pm;
    else if (pm) this.warnKey(p, 'PublishMode', 'docker-value', `${at}.PublishMode: expected ingress or host, got ${quote(pm)}; using ingress`);
    const published = this.int(p, 'PublishedPort', `${at}.PublishedPort`, 0, 65535);
    const port: DockerPort = { protocol, target, mode };
    if (published) port.published = published;
    return port;
  }

  /**
   * A `docker service ls --format json` line: {"ID","Image","Mode","Name","Ports","Replicas"}, all
   * strings (docker/cli cli/command/formatter service.go). IDs are truncated to 12 characters.
   */
  private serviceLs(o: JsonObject): DockerService {
    const id = this.str(o, 'ID', 'service: ID') ?? '';
    const name = this.str(o, 'Name', 'service: Name') ?? '';
    const label = `service ${name ? quote(name) : id ? quote(id) : '(no name)'}`;
    this.requireKeys(o, label, ['ID', 'Name']);
    if (!this.serviceLsNoted) {
      this.serviceLsNoted = true;
      this.add('info', 'docker-service-ls', this.lineOf(o), '`docker service ls` output has no endpoint mode, VIPs or networks, and short ids; endpoint mode taken as "vip"');
    }
    const svc: DockerService = { id, name, mode: 'unknown', endpointMode: 'vip', ports: [], vips: [], networks: [], source: this.src(o) };
    const mode = this.str(o, 'Mode', `${label}: Mode`);
    if (mode === 'replicated' || mode === 'global') svc.mode = mode;
    const reps = this.str(o, 'Replicas', `${label}: Replicas`);
    // "2/2" or "2/2 (max 1 per node)": running/desired.
    const m = reps !== undefined ? /^(\d{1,9})\/(\d{1,9})/.exec(reps) : null;
    if (m && svc.mode === 'replicated') svc.replicas = Number(m[2]);
    const image = nonEmpty(this.str(o, 'Image', `${label}: Image`));
    if (image) svc.image = image;
    const ports = this.str(o, 'Ports', `${label}: Ports`);
    for (const part of ports ? ports.split(',') : []) {
      // Only ingress-mode ports are listed: "*:8080->80/tcp", ranges "*:30000-30002->80-82/tcp".
      const t = part.trim();
      const pm = /^\*:(\d{1,5})(?:-(\d{1,5}))?->(\d{1,5})(?:-(\d{1,5}))?\/(tcp|udp|sctp)$/.exec(t);
      const pFrom = pm ? Number(pm[1]) : NaN;
      const pTo = pm?.[2] ? Number(pm[2]) : pFrom;
      const tFrom = pm ? Number(pm[3]) : NaN;
      const tTo = pm?.[4] ? Number(pm[4]) : tFrom;
      if (!pm || pTo < pFrom || pTo - pFrom !== tTo - tFrom || pTo > 65535 || tTo > 65535) {
        this.warnKey(o, 'Ports', 'docker-value', `${label}: Ports: expected "*:PUBLISHED->TARGET/PROTO", got ${quote(t)}; ignored`);
        continue;
      }
      for (let k = 0; k <= pTo - pFrom; k++) {
        svc.ports.push({ protocol: pm[5] as DockerPort['protocol'], target: tFrom + k, published: pFrom + k, mode: 'ingress' });
      }
    }
    return svc;
  }

  // --- docker inspect (containers) -------------------------------------------------------------

  /** `docker inspect` of a container (types.ContainerJSON), or an excerpt of one without Id/Name. */
  private container(o: JsonObject): DockerContainer {
    const excerpt = o.Id === undefined && o.Name === undefined;
    const id = this.str(o, 'Id', 'container: Id') ?? '';
    // Name is printed with a leading slash ("/web.1.xxx"); network inspect lists it without.
    const rawName = this.str(o, 'Name', 'container: Name') ?? '';
    const name = rawName.startsWith('/') ? rawName.slice(1) : rawName;
    const label = `container ${name ? quote(name) : id ? quote(id) : '(no name)'}`;
    if (excerpt) {
      this.add('info', 'docker-excerpt', this.lineOf(o), 'a `docker inspect` excerpt without Id and Name: the container is kept with an empty id and name');
    } else {
      this.requireKeys(o, label, ['Id', 'Name']);
    }
    const c: DockerContainer = { id, name, networks: [], labels: {}, ports: [], source: this.src(o) };

    const state = this.obj(o, 'State', `${label}: State`);
    if (state) {
      c.running = this.bool(state, 'Running', `${label}: State.Running`);
      const pid = this.int(state, 'Pid', `${label}: State.Pid`, 0, 0x7fffffff);
      if (pid) c.pid = pid; // 0 when the container is not running
    }

    const cfg = this.obj(o, 'Config', `${label}: Config`);
    const labels = cfg && this.obj(cfg, 'Labels', `${label}: Config.Labels`);
    if (labels) c.labels = this.strMap(labels, `${label}: Config.Labels`);

    const ns = this.obj(o, 'NetworkSettings', `${label}: NetworkSettings`);
    if (!ns) return c;
    c.sandboxKey = nonEmpty(this.str(ns, 'SandboxKey', `${label}: NetworkSettings.SandboxKey`));
    if (c.sandboxKey) {
      // "/var/run/docker/netns/257c28285747": the netns file is named after the sandbox id's first
      // 12 characters (libnetwork osl namespace path), which is what capture folders are named by.
      const base = c.sandboxKey.slice(c.sandboxKey.lastIndexOf('/') + 1);
      if (base) c.sandboxId = base;
    }

    const nets = this.obj(ns, 'Networks', `${label}: NetworkSettings.Networks`) ?? {};
    for (const netName of Object.keys(nets)) {
      const at = `${label}: NetworkSettings.Networks[${quote(netName)}]`;
      const v = nets[netName];
      if (v === null) continue;
      const n = J.obj(v);
      if (!n) {
        this.warnKey(nets, netName, 'docker-type', `${at}: expected an object, got ${show(v)}; skipped`);
        continue;
      }
      const entry: DockerContainer['networks'][number] = { name: netName, aliases: [] };
      entry.networkId = nonEmpty(this.str(n, 'NetworkID', `${at}.NetworkID`));
      entry.endpointId = nonEmpty(this.str(n, 'EndpointID', `${at}.EndpointID`));
      entry.ip = nonEmpty(this.str(n, 'IPAddress', `${at}.IPAddress`));
      const plen = this.int(n, 'IPPrefixLen', `${at}.IPPrefixLen`, 0, 128);
      if (entry.ip !== undefined && plen !== undefined) entry.prefixLen = plen;
      entry.mac = nonEmpty(this.str(n, 'MacAddress', `${at}.MacAddress`));
      entry.gateway = nonEmpty(this.str(n, 'Gateway', `${at}.Gateway`));
      // Aliases, then DNSNames (API 1.44+, every name the container answers to on this network).
      for (const key of ['Aliases', 'DNSNames']) {
        const list = this.arr(n, key, `${at}.${key}`);
        list?.forEach((a, i) => {
          if (typeof a === 'string') {
            if (!entry.aliases.includes(a)) entry.aliases.push(a);
          } else if (a !== null) {
            this.add('warning', 'docker-type', this.locate(list, i), `${at}.${key}[${i}]: expected a string, got ${show(a)}; ignored`);
          }
        });
      }
      c.networks.push(entry);
    }

    const ports = this.obj(ns, 'Ports', `${label}: NetworkSettings.Ports`) ?? {};
    for (const key of Object.keys(ports)) {
      const at = `${label}: NetworkSettings.Ports[${quote(key)}]`;
      // nat.Port keys: "80/tcp"; the value is null when the port is exposed but not published.
      const m = /^(\d{1,5})\/(tcp|udp|sctp)$/.exec(key);
      if (!m || Number(m[1]) > 65535) {
        this.warnKey(ports, key, 'docker-value', `${at}: expected PORT/PROTO like "80/tcp"; ignored`);
        continue;
      }
      const containerPort = Number(m[1]);
      const proto = m[2];
      const v = ports[key];
      if (v === null) {
        c.ports.push({ containerPort, proto });
        continue;
      }
      const list = J.arr(v);
      if (!list) {
        this.warnKey(ports, key, 'docker-type', `${at}: expected a list of bindings or null, got ${show(v)}; ignored`);
        continue;
      }
      if (list.length === 0) c.ports.push({ containerPort, proto });
      list.forEach((_, i) => {
        const b = this.elemObj(list, i, `${at}[${i}]`);
        if (!b) return;
        const port: DockerContainer['ports'][number] = { containerPort, proto };
        const hostIp = nonEmpty(this.str(b, 'HostIp', `${at}[${i}].HostIp`));
        if (hostIp !== undefined) port.hostIp = hostIp;
        // HostPort is a string in the Docker API (nat.PortBinding), e.g. "9090".
        const hp = nonEmpty(this.str(b, 'HostPort', `${at}[${i}].HostPort`));
        if (hp !== undefined) {
          const n = /^\d{1,5}$/.test(hp) ? Number(hp) : NaN;
          if (n <= 65535) port.hostPort = n;
          else this.warnKey(b, 'HostPort', 'docker-value', `${at}[${i}].HostPort: expected a port number, got ${quote(hp)}; ignored`);
        }
        c.ports.push(port);
      });
    }
    return c;
  }

  // --- docker node ls / docker node inspect ----------------------------------------------------

  /**
   * A `docker node ls --format json` line. The CLI pretty-prints the API values ("Ready",
   * "Active", "Leader"; docker/cli formatter node.go + command.PrettyPrint); they are kept in the
   * API's lower case, the same as `docker node inspect` gives.
   */
  private nodeLs(o: JsonObject): DockerNode {
    const id = this.str(o, 'ID', 'node: ID') ?? '';
    const hostname = this.str(o, 'Hostname', 'node: Hostname') ?? '';
    const label = `node ${hostname ? quote(hostname) : id ? quote(id) : '(no name)'}`;
    this.requireKeys(o, label, ['ID', 'Hostname']);
    const node: DockerNode = { id, hostname, source: this.src(o) };
    const status = nonEmpty(this.str(o, 'Status', `${label}: Status`));
    if (status) node.status = status.toLowerCase();
    const avail = nonEmpty(this.str(o, 'Availability', `${label}: Availability`));
    if (avail) node.availability = avail.toLowerCase();
    const ms = this.str(o, 'ManagerStatus', `${label}: ManagerStatus`);
    if (ms !== undefined) {
      // Workers print an empty manager status.
      node.role = ms === '' ? 'worker' : 'manager';
      if (ms) node.managerStatus = ms.toLowerCase();
    }
    return node;
  }

  /** `docker node inspect` (swarm.Node of the Docker API). */
  private nodeInspect(o: JsonObject): DockerNode {
    const id = this.str(o, 'ID', 'node: ID') ?? '';
    const desc = this.obj(o, 'Description', 'node: Description');
    const hostname = (desc && this.str(desc, 'Hostname', 'node: Description.Hostname')) ?? '';
    const label = `node ${hostname ? quote(hostname) : id ? quote(id) : '(no name)'}`;
    if (!id) this.add('warning', 'docker-missing', this.lineOf(o), `${label} has no ID; kept with an empty id`);
    if (!hostname) this.add('warning', 'docker-missing', this.lineOf(desc ?? o), `${label} has no Description.Hostname; kept with an empty hostname`);
    const node: DockerNode = { id, hostname, source: this.src(o) };
    const status = this.obj(o, 'Status', `${label}: Status`);
    if (status) {
      node.status = nonEmpty(this.str(status, 'State', `${label}: Status.State`));
      node.addr = nonEmpty(this.str(status, 'Addr', `${label}: Status.Addr`));
    }
    const spec = this.obj(o, 'Spec', `${label}: Spec`);
    if (spec) {
      node.role = nonEmpty(this.str(spec, 'Role', `${label}: Spec.Role`));
      node.availability = nonEmpty(this.str(spec, 'Availability', `${label}: Spec.Availability`));
    }
    const ms = this.obj(o, 'ManagerStatus', `${label}: ManagerStatus`);
    if (ms) {
      // As `docker node ls` shows it: "leader" for the leader, else the reachability.
      const leader = this.bool(ms, 'Leader', `${label}: ManagerStatus.Leader`);
      node.managerStatus = leader ? 'leader' : nonEmpty(this.str(ms, 'Reachability', `${label}: ManagerStatus.Reachability`));
    }
    return node;
  }

  // --- typed field access: null and absent mean "not given"; wrong types are warned about -------

  private str(o: JsonObject, key: string, at: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || typeof v === 'string') return v ?? undefined;
    if (typeof v === 'number' || typeof v === 'boolean') {
      this.warnKey(o, key, 'docker-type', `${at}: expected a string, got ${show(v)}; read as "${String(v)}"`);
      return String(v);
    }
    this.warnKey(o, key, 'docker-type', `${at}: expected a string, got ${show(v)}; ignored`);
    return undefined;
  }

  private int(o: JsonObject, key: string, at: string, min: number, max: number): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\s*-?\d{1,15}\s*$/.test(v)) {
      n = Number(v);
      this.warnKey(o, key, 'docker-type', `${at}: expected a number, got ${show(v)}; read as ${n}`);
    } else {
      this.warnKey(o, key, 'docker-type', `${at}: expected a number, got ${show(v)}; ignored`);
      return undefined;
    }
    if (!Number.isInteger(n) || n < min || n > max) {
      this.warnKey(o, key, 'docker-value', `${at}: ${n} is not a whole number from ${min} to ${max}; ignored`);
      return undefined;
    }
    return n;
  }

  private bool(o: JsonObject, key: string, at: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null || typeof v === 'boolean') return v ?? undefined;
    if (v === 'true' || v === 'false') {
      this.warnKey(o, key, 'docker-type', `${at}: expected true or false, got ${show(v)}; read as ${v}`);
      return v === 'true';
    }
    this.warnKey(o, key, 'docker-type', `${at}: expected true or false, got ${show(v)}; ignored`);
    return undefined;
  }

  private obj(o: JsonObject, key: string, at: string): JsonObject | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const r = J.obj(v);
    if (!r) this.warnKey(o, key, 'docker-type', `${at}: expected an object, got ${show(v)}; ignored`);
    return r;
  }

  private arr(o: JsonObject, key: string, at: string): JsonValue[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const r = J.arr(v);
    if (!r) this.warnKey(o, key, 'docker-type', `${at}: expected a list, got ${show(v)}; ignored`);
    return r;
  }

  private elemObj(list: JsonValue[], i: number, at: string): JsonObject | undefined {
    const r = J.obj(list[i]);
    if (!r) this.add('warning', 'docker-type', this.locate(list, i), `${at}: expected an object, got ${show(list[i])}; skipped`);
    return r;
  }

  /** A map of strings (Options, Labels); other values are warned about and left out. */
  private strMap(o: JsonObject, at: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of Object.keys(o)) {
      const v = o[k];
      // json.ts already dropped the keys that could reach a prototype; this is a second guard.
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      if (typeof v === 'string') out[k] = v;
      else this.warnKey(o, k, 'docker-type', `${at}[${quote(k)}]: expected a string, got ${show(v)}; ignored`);
    }
    return out;
  }

  private requireKeys(o: JsonObject, label: string, keys: string[]): void {
    const missing = keys.filter((k) => o[k] === undefined || o[k] === null);
    if (missing.length) {
      this.add('warning', 'docker-missing', this.lineOf(o), `${label} has no ${missing.join(' or ')}; kept with an empty ${missing.join(' and ').toLowerCase()}`);
    }
  }

  // --- positions ------------------------------------------------------------------------------

  private lineOf(v: JsonValue | undefined): number {
    return this.doc.lineOf(v);
  }

  private src(v: JsonValue): Source {
    return { file: this.sink.file, line: this.lineOf(v) };
  }

  private warnKey(o: JsonObject, key: string, code: string, message: string): void {
    this.add('warning', code, this.keyPos(o, key), message);
  }

  /** Reports a problem at a position, or over the text of a line. */
  add(sev: Severity, code: string, where: number | Pos, message: string): void {
    // A huge broken dump must not drown the reader: after MAX_PER_CODE problems of one code,
    // only their number is kept, reported at the last one's place by finish().
    const n = (this.counts.get(code) ?? 0) + 1;
    this.counts.set(code, n);
    if (n > MAX_PER_CODE) {
      this.lastHidden.set(code, { sev, line: typeof where === 'number' ? where : where.line });
      return;
    }
    const p = typeof where === 'number' ? this.linePos(where) : where;
    this.sink.add(sev, code, p.line, message, p.col, p.endCol);
  }

  /** Reports how many problems of each code were left out. */
  finish(): void {
    for (const [code, last] of this.lastHidden) {
      const hidden = (this.counts.get(code) ?? 0) - MAX_PER_CODE;
      this.sink.add(last.sev, code, last.line, `${hidden} more \`${code}\` problems like the ones above are not listed (the last one is here)`);
    }
  }

  /** The non-blank part of a (file) line. */
  private linePos(line: number): Pos {
    const starts = this.lineStarts();
    const t = line - this.base;
    if (t < 1 || t > starts.length) return { line, col: 1, endCol: 2 };
    const s = starts[t - 1];
    let e = t < starts.length ? starts[t] - 1 : this.text.length;
    let b = s;
    while (b < e && (isWs(this.text.charCodeAt(b)) || this.text.charCodeAt(b) === 0xfeff)) b++;
    while (e > b && isWs(this.text.charCodeAt(e - 1))) e--;
    return { line, col: b - s + 1, endCol: Math.max(b - s + 2, e - s + 1) };
  }

  private keyPos(o: JsonObject, key: string): Pos {
    return this.find(o, key) ?? this.linePos(this.lineOf(o));
  }

  private locate(list: JsonValue[], index: number): Pos {
    return this.find(list, index) ?? this.linePos(this.lineOf(list));
  }

  /**
   * Best effort: finds key `key` of object `v` (or element `key` of a list) in the text by
   * scanning from the brackets on the line the value starts on. Falls back to that line.
   */
  private find(v: JsonObject | JsonValue[], key: string | number): Pos | undefined {
    const starts = this.lineStarts();
    const t = this.lineOf(v) - this.base;
    if (t < 1 || t > starts.length || this.budget <= 0) return undefined;
    const opener = Array.isArray(v) ? '[' : '{';
    const lineEndAt = t < starts.length ? starts[t] - 1 : this.text.length;
    let tries = 0;
    for (let p = starts[t - 1]; p < lineEndAt && tries < 20 && this.budget > 0; p++) {
      this.budget--;
      if (this.text[p] !== opener) continue;
      tries++;
      const hit = this.child(p, key);
      if (hit) {
        const line = this.lineAt(hit.start);
        const s = starts[line - 1];
        const endLine = this.lineAt(Math.max(hit.start, hit.end - 1));
        const endCol = endLine === line ? hit.end - s + 1 : (line < starts.length ? starts[line] - 1 : this.text.length) - s + 1;
        return { line: line + this.base, col: hit.start - s + 1, endCol: Math.max(endCol, hit.start - s + 2) };
      }
    }
    return undefined;
  }

  /** Scans the direct children of the object/array opening at `p` for `key` (or index). */
  private child(p: number, key: string | number): { start: number; end: number } | undefined {
    const text = this.text;
    const isObj = text[p] === '{';
    const isContainer = (i: number): boolean => text[i] === '{' || text[i] === '[';
    let i = p + 1;
    let index = 0;
    for (;;) {
      i = this.skipWs(i);
      if (i >= text.length || text[i] === '}' || text[i] === ']') return undefined;
      if (isObj) {
        if (text[i] !== '"') return undefined;
        const ks = i;
        const ke = this.skipValue(i);
        if (ke < 0) return undefined;
        const match = text.slice(ks + 1, ke - 1) === key;
        i = this.skipWs(ke);
        if (text[i] !== ':') return undefined;
        const vs = this.skipWs(i + 1);
        // A key whose value is an object or a list is shown by its key alone.
        if (match && isContainer(vs)) return { start: ks, end: ke };
        const ve = this.skipValue(vs);
        if (ve < 0) return undefined;
        if (match) return { start: ks, end: ve };
        i = ve;
      } else {
        if (index === key && isContainer(i)) return { start: i, end: i + 1 };
        const ve = this.skipValue(i);
        if (ve < 0) return undefined;
        if (index === key) return { start: i, end: ve };
        index++;
        i = ve;
      }
      i = this.skipWs(i);
      if (text[i] !== ',') return undefined;
      i++;
    }
  }

  private skipWs(i: number): number {
    while (i < this.text.length && isWs(this.text.charCodeAt(i))) i++;
    return i;
  }

  /** End offset of the value at `i`, or -1 when out of budget or malformed. */
  private skipValue(i: number): number {
    const text = this.text;
    const c = text[i];
    if (c === '"') {
      for (let j = i + 1; j < text.length; j++) {
        if (--this.budget <= 0) return -1;
        const d = text[j];
        if (d === '\\') j++;
        else if (d === '"') return j + 1;
        else if (d === '\n') return -1;
      }
      return -1;
    }
    if (c === '{' || c === '[') {
      let depth = 0;
      for (let j = i; j < text.length; j++) {
        if (--this.budget <= 0) return -1;
        const d = text[j];
        if (d === '"') {
          j = this.skipValue(j);
          if (j < 0) return -1;
          j--;
        } else if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          if (--depth === 0) return j + 1;
        }
      }
      return -1;
    }
    let j = i;
    while (j < text.length && !isWs(text.charCodeAt(j)) && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j++;
    this.budget -= j - i;
    return j > i ? j : -1;
  }

  private lineStarts(): number[] {
    if (!this.starts) {
      const s = [0];
      for (let k = this.text.indexOf('\n'); k >= 0; k = this.text.indexOf('\n', k + 1)) s.push(k + 1);
      this.starts = s;
    }
    return this.starts;
  }

  /** 1-based text line of an offset. */
  private lineAt(offset: number): number {
    const s = this.lineStarts();
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

/** Drops properties left `undefined`, so results compare and serialise cleanly. */
function prune(v: unknown, depth: number): void {
  if (depth > 6 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const e of v) prune(e, depth + 1);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (o[k] === undefined) delete o[k];
    else prune(o[k], depth + 1);
  }
}

/** `{"<container id>": {"Name", "EndpointID", "MacAddress", "IPv4Address", …}, …}` */
function isBareContainersMap(o: JsonObject): boolean {
  let endpoints = 0;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === null) continue;
    const e = J.obj(v);
    if (!e) return false;
    if (e.EndpointID !== undefined || e.IPv4Address !== undefined || e.MacAddress !== undefined) endpoints++;
  }
  return endpoints > 0;
}

/** "10.0.0.4/24" → {addr, prefixLen}; undefined when it is not a dotted quad with a prefix. */
function parseCidr4(s: string): { addr: string; prefixLen: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m || [m[1], m[2], m[3], m[4]].some((x) => Number(x) > 255) || Number(m[5]) > 32) return undefined;
  return { addr: `${m[1]}.${m[2]}.${m[3]}.${m[4]}`, prefixLen: Number(m[5]) };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === '' ? undefined : s;
}

/** A short, printable rendering of a value from the dump for a message. */
function show(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  return `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
}

/** JSON-quotes a string from the dump, cut to 40 characters, with invisible characters escaped. */
function quote(s: string): string {
  return clip(JSON.stringify(s), 42).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
