/**
 * Reads every listing `ipvsadm` prints into one IpvsTable: `ipvsadm -Ln` and plain `ipvsadm`
 * (resolved names), `--stats`, `--rate`, `--thresholds`, `--persistent-conn`, `-Lnc` connection
 * entries and `-S`/`--save` rules, and the text a kernel without IPVS prints instead.
 *
 * Grammar source: ipvsadm.c (Distrotech/ipvsadm @30528e6, v1.26, and v1.29 for SCTP, `--pe`,
 * `-o` and scheduler flags): `list_all`, `print_title`, `print_service_entry`, `print_largenum`,
 * `fwd_name`, `fwd_switch`, `list_conn`/`print_conn`; see /work/shared/docs/dump-formats.md §2.
 * Lines are read by whitespace tokens, not by columns: the columns are `printf` widths that long
 * names overflow, and pasted dumps are often re-spaced by hand.
 */
import type { IpvsConn, IpvsDest, IpvsForward, IpvsService, IpvsTable } from '../model/ipvs';
import { ProblemSink, splitLines, type ParseOptions, type ParseResult } from '../problem';

/** A whitespace-separated word of a line and its 1-based column. */
interface Tok {
  text: string;
  col: number;
}

/** Which table layout the last title line announced (`print_title`). */
type Layout = 'default' | 'stats' | 'rate' | 'thresholds' | 'persistent' | 'conn';

/** Column keys of the five `print_largenum` columns of `--stats` and `--rate`. */
const STATS_KEYS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'];
const RATE_KEYS = ['cps', 'inPps', 'outPps', 'inBps', 'outBps'];

/** `fwd_name`: the Forward column. */
const FORWARDS: ReadonlySet<string> = new Set(['Masq', 'Local', 'Tunnel', 'Route']);

/**
 * Ports of the service names `getservbyport` gives for the ports seen in swarm and k8s dumps
 * (netbase /etc/services). ipvsadm prints these names when run without `-n`.
 */
const SERVICE_PORTS: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  kerberos: 88,
  pop3: 110,
  ntp: 123,
  imap2: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  'http-alt': 8080,
  webcache: 8080,
};

/** Names in destination lines are cut to 28 characters (`dname[28] = '\0'`). */
const DEST_NAME_WIDTH = 28;
/** Service names are cut at 33 characters (`svc_name[33] = '\0'`), i.e. 28 after `TCP  `. */
const SVC_NAME_WIDTH = 28;

/** Unknown lines reported one by one; past this, one summary problem (garbage input stays cheap). */
const MAX_UNKNOWN_REPORTED = 100;

/** A line shortened for a message. */
function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

/** Splits a line into words with their columns, in one linear pass. */
function tokenize(line: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
    out.push({ text: line.slice(start, i), col: start + 1 });
  }
  return out;
}

const UINT_RE = /^\d{1,20}$/;

/** A decimal unsigned integer, or undefined. */
function uint(s: string): number | undefined {
  return UINT_RE.test(s) ? Number(s) : undefined;
}

/** A `print_largenum` number: plain, or scaled by 1000 with a K/M/G/T suffix. */
function largenum(s: string): number | undefined {
  const m = /^(\d{1,20})([KMGT]?)$/.exec(s);
  if (!m) return undefined;
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * scale;
}

/** Parser state shared by the line handlers. */
class IpvsReader {
  readonly table: IpvsTable = { services: [], conns: [] };
  layout: Layout = 'default';
  /** Whether a title line fixed the layout (otherwise it is guessed from the numbers). */
  titled = false;
  current: IpvsService | undefined;
  /** The service line just before was unreadable, so its destinations are skipped with it. */
  currentBroken = false;
  notedAssumedFwd = false;
  notedUntitled = false;

  constructor(
    readonly sink: ProblemSink,
    readonly file: string,
  ) {}

  /**
   * Splits `addr:port`, `[v6]:port` or a name cut short by ipvsadm. The port is a number, a
   * well-known service name, or 0 with an info problem (never NaN).
   */
  addrPort(
    tok: Tok,
    line: number,
    width: number,
  ): { addr: string; port: number; ipv6: boolean } | undefined {
    const t = tok.text;
    let host: string;
    let portText: string | undefined;
    let ipv6 = false;
    if (t.startsWith('[')) {
      const close = t.indexOf(']');
      if (close < 0) {
        this.sink.error('ipvs-addr', line, `expected \`[IPv6]:port\`, got \`${t}\``, tok.col, tok.col + t.length);
        return undefined;
      }
      host = t.slice(1, close);
      ipv6 = true;
      const rest = t.slice(close + 1);
      if (rest.startsWith(':')) portText = rest.slice(1);
      else if (rest !== '') {
        this.sink.error('ipvs-addr', line, `expected \`[IPv6]:port\`, got \`${t}\``, tok.col, tok.col + t.length);
        return undefined;
      }
    } else {
      const colon = t.lastIndexOf(':');
      if (colon < 0) host = t;
      else {
        host = t.slice(0, colon);
        portText = t.slice(colon + 1);
      }
    }
    if (host === '') {
      this.sink.error('ipvs-addr', line, `expected \`address:port\`, got \`${t}\``, tok.col, tok.col + t.length);
      return undefined;
    }
    const end = tok.col + t.length;
    let port = 0;
    if (portText === undefined || portText === '') {
      // addrport_to_anyname prints `name:port` and then cuts the whole string to a fixed width,
      // so a long host name can lose its port entirely.
      const why =
        t.length >= width
          ? `ipvsadm cut the name \`${t}\` at ${width} characters, so its port is lost`
          : `no port after \`${t}\``;
      this.sink.info('ipvs-port', line, `${why}; port taken as 0`, tok.col, end);
    } else {
      const num = uint(portText);
      if (num !== undefined && num <= 65535) port = num;
      else if (Object.prototype.hasOwnProperty.call(SERVICE_PORTS, portText)) port = SERVICE_PORTS[portText];
      else if (num !== undefined) {
        this.sink.warn('ipvs-port', line, `port ${portText} is out of range; port taken as 0`, tok.col, end);
      } else {
        // Without -n, ipvsadm prints getservbyport names; a name not in our table (or one cut
        // short at the column width) cannot be turned back into a number here.
        this.sink.info(
          'ipvs-port',
          line,
          `unknown service name \`${portText}\` (ipvsadm without -n prints port names); port taken as 0`,
          tok.col,
          end,
        );
      }
    }
    return { addr: host, port, ipv6 };
  }

  source(line: number): { file: string; line: number } {
    return { file: this.file, line };
  }

  /** A `-Ln` service line: `TCP  10.96.0.1:443 rr persistent 360`, `FWM  256 IPv6 rr`. */
  serviceLine(toks: Tok[], line: number, text: string): void {
    this.current = undefined;
    this.currentBroken = true;
    const protoWord = toks[0].text;
    const proto = protoWord.toLowerCase() as IpvsService['proto'];
    if (toks.length < 2) {
      this.sink.lineProblem('error', 'ipvs-service', line, text, `expected \`${protoWord}  address:port scheduler\`, got \`${clip(text.trim())}\``);
      return;
    }
    const svc: IpvsService = { proto, scheduler: '', dests: [], source: this.source(line) };
    let i = 1;
    if (proto === 'fwm') {
      const mark = uint(toks[1].text);
      if (mark === undefined) {
        const t = toks[1];
        this.sink.error('ipvs-service', line, `expected a decimal fwmark after \`FWM\`, got \`${t.text}\``, t.col, t.col + t.text.length);
        return;
      }
      svc.fwmark = mark;
      i = 2;
      if (toks[i]?.text === 'IPv6') {
        svc.ipv6 = true;
        i++;
      }
    } else {
      const ap = this.addrPort(toks[1], line, SVC_NAME_WIDTH);
      if (!ap) return;
      svc.addr = ap.addr;
      svc.port = ap.port;
      if (ap.ipv6) svc.ipv6 = true;
      i = 2;
    }
    const rest = toks.slice(i);
    const nums = rest.map((t) => largenum(t.text));
    const allNumbers = rest.length === 5 && nums.every((v) => v !== undefined);
    if (this.layout === 'stats' || this.layout === 'rate' || (!this.titled && allNumbers)) {
      // --stats / --rate print "%-33s" and five print_largenum columns instead of the scheduler.
      if (!allNumbers) {
        this.sink.lineProblem('error', 'ipvs-service', line, text, `expected five ${this.layout === 'rate' ? '--rate' : '--stats'} numbers after the service, got \`${rest.map((t) => t.text).join(' ')}\``);
        return;
      }
      if (!this.titled) this.noteUntitled(line);
      const keys = this.layout === 'rate' ? RATE_KEYS : STATS_KEYS;
      svc.stats = {};
      keys.forEach((k, j) => (svc.stats![k] = nums[j]!));
    } else if (rest.length === 0) {
      this.sink.lineProblem('warning', 'ipvs-service', line, text, 'service line has no scheduler (truncated?); kept with an empty scheduler');
    } else {
      svc.scheduler = rest[0].text;
      this.serviceFlags(svc, rest.slice(1), line);
    }
    this.table.services.push(svc);
    this.current = svc;
    this.currentBroken = false;
  }

  /** The flags after the scheduler: `(sh-fallback) persistent 360 mask 255.255.255.0 pe sip ops`. */
  private serviceFlags(svc: IpvsService, toks: Tok[], line: number): void {
    for (let j = 0; j < toks.length; j++) {
      const t = toks[j];
      const next = toks[j + 1];
      if (t.text.startsWith('(') && t.text.endsWith(')')) {
        // v1.29 print_sched_flags: "(sh-fallback,sh-port)"; not modelled.
        continue;
      }
      if (t.text === 'persistent' && next && uint(next.text) !== undefined) {
        svc.persistent = Number(next.text);
        j++;
      } else if (t.text === 'mask' && next) {
        svc.netmask = next.text;
        j++;
      } else if (t.text === 'pe' && next) {
        svc.pe = next.text;
        j++;
      } else if (t.text === 'ops') {
        svc.ops = true;
      } else {
        this.sink.warn('ipvs-flag', line, `unknown service flag \`${t.text}\` (kept on the line, not modelled)`, t.col, t.col + t.text.length);
      }
    }
  }

  /** A destination line `  -> 10.0.0.6:0  Masq 1 0 0`, in the current layout. */
  destLine(toks: Tok[], line: number, text: string): void {
    if (!this.current) {
      if (this.currentBroken) {
        this.sink.lineProblem('error', 'ipvs-dest', line, text, 'destination of a service line that could not be read; skipped');
      } else {
        this.sink.lineProblem('error', 'ipvs-dest', line, text, 'destination before any service line (`TCP  addr:port sched` or `FWM  mark sched`); skipped');
      }
      return;
    }
    if (toks.length < 2) {
      this.sink.lineProblem('error', 'ipvs-dest', line, text, 'expected `-> address:port Forward Weight ActiveConn InActConn`, got only `->`');
      return;
    }
    const ap = this.addrPort(toks[1], line, DEST_NAME_WIDTH);
    if (!ap) return;
    const cols = toks.slice(2);
    const dest: IpvsDest = { addr: ap.addr, port: ap.port, forward: 'Masq', weight: 1, source: this.source(line) };
    let layout = this.layout;
    if (!this.titled && cols.length === 5) layout = 'stats';
    const bad = (what: string): void => {
      const first = cols[0] ?? toks[1];
      this.sink.add('error', 'ipvs-dest', line, `expected ${what} after the address, got \`${cols.map((c) => c.text).join(' ')}\``, first.col, text.length + 1);
    };
    switch (layout) {
      case 'default':
      case 'conn': {
        // "  -> %-28s %-7s %-6d %-10u %-10u": Forward Weight ActiveConn InActConn.
        const w = cols[1] ? /^-?\d{1,10}$/.test(cols[1].text) : false;
        const a = cols[2] ? uint(cols[2].text) : undefined;
        const ina = cols[3] ? uint(cols[3].text) : undefined;
        if (cols.length !== 4 || !FORWARDS.has(cols[0].text) || !w || a === undefined || ina === undefined) {
          bad('`Forward Weight ActiveConn InActConn` (Forward is Masq, Local, Tunnel or Route)');
          return;
        }
        dest.forward = cols[0].text as IpvsForward;
        dest.weight = Number(cols[1].text);
        dest.activeConn = a;
        dest.inactConn = ina;
        break;
      }
      case 'stats':
      case 'rate': {
        const nums = cols.map((c) => largenum(c.text));
        if (cols.length !== 5 || nums.some((v) => v === undefined)) {
          bad(layout === 'rate' ? 'five --rate numbers' : 'five --stats numbers');
          return;
        }
        const keys = layout === 'rate' ? RATE_KEYS : STATS_KEYS;
        dest.stats = {};
        keys.forEach((k, j) => (dest.stats![k] = nums[j]!));
        this.noteAssumedForward(line, layout);
        break;
      }
      case 'thresholds':
      case 'persistent': {
        const nums = cols.map((c) => uint(c.text));
        if (cols.length !== 4 || nums.some((v) => v === undefined)) {
          bad(layout === 'thresholds' ? '`Uthreshold Lthreshold ActiveConn InActConn`' : '`Weight PersistConn ActiveConn InActConn`');
          return;
        }
        if (layout === 'thresholds') dest.stats = { uThreshold: nums[0]!, lThreshold: nums[1]! };
        else {
          dest.weight = nums[0]!;
          dest.stats = { persistConn: nums[1]! };
        }
        dest.activeConn = nums[2];
        dest.inactConn = nums[3];
        this.noteAssumedForward(line, layout);
        break;
      }
    }
    this.current.dests.push(dest);
  }

  private noteAssumedForward(line: number, layout: Layout): void {
    if (this.notedAssumedFwd) return;
    this.notedAssumedFwd = true;
    const what = layout === 'persistent' ? 'Forward column' : 'Forward and Weight columns';
    const flag = { stats: '--stats', rate: '--rate', thresholds: '--thresholds', persistent: '--persistent-conn' }[
      layout as 'stats' | 'rate' | 'thresholds' | 'persistent'
    ];
    const assumed = layout === 'persistent' ? 'Masq' : 'Masq with weight 1';
    this.sink.info('ipvs-layout', line, `\`ipvsadm ${flag}\` prints no ${what}; destinations are taken as ${assumed}`);
  }

  private noteUntitled(line: number): void {
    if (this.notedUntitled) return;
    this.notedUntitled = true;
    this.sink.info('ipvs-layout', line, 'no `Prot LocalAddress:Port` title line; five numbers per line read as `--stats` columns');
  }

  /** A `-Lnc` row: `TCP 14:59  ESTABLISHED 10.255.0.2:54321  172.18.0.2:8080  10.255.0.5:8080`. */
  connLine(toks: Tok[], line: number): void {
    // print_conn: "%-3s %-6s %-11s %-18s %-18s %s", plus pe name and pe data with --persistent-conn.
    const conn: IpvsConn = {
      proto: toks[0].text,
      expire: toks[1].text,
      state: toks[2].text,
      client: toks[3].text,
      virtual: toks[4].text,
      dest: toks[5].text,
      source: this.source(line),
    };
    this.table.conns.push(conn);
  }

  /** One `ipvsadm -S` line: `-A -f 256 -s rr` or `-a -f 256 -r 10.0.0.4:0 -m -w 1`. */
  saveLine(toks: Tok[], line: number, text: string): void {
    const cmd = toks[0].text;
    const isService = cmd === '-A' || cmd === '-E' || cmd === '--add-service' || cmd === '--edit-service';
    let proto: IpvsService['proto'] | undefined;
    let svcTok: Tok | undefined;
    let ipv6 = false;
    let sched: string | undefined;
    let persistent: number | undefined;
    let netmask: string | undefined;
    let pe: string | undefined;
    let ops = false;
    let realTok: Tok | undefined;
    let forward: IpvsForward | undefined;
    let weight: number | undefined;
    for (let j = 1; j < toks.length; j++) {
      const t = toks[j];
      const next = toks[j + 1];
      const needArg = (): Tok | undefined => {
        if (!next) {
          this.sink.error('ipvs-save', line, `option \`${t.text}\` needs an argument`, t.col, t.col + t.text.length);
          return undefined;
        }
        j++;
        return next;
      };
      switch (t.text) {
        case '-t':
        case '--tcp-service':
        case '-u':
        case '--udp-service':
        case '--sctp-service':
        case '-f':
        case '--fwmark-service': {
          const a = needArg();
          if (!a) return;
          proto = t.text === '-t' || t.text === '--tcp-service' ? 'tcp' : t.text === '-u' || t.text === '--udp-service' ? 'udp' : t.text === '--sctp-service' ? 'sctp' : 'fwm';
          svcTok = a;
          break;
        }
        case '-6':
        case '--ipv6':
          ipv6 = true;
          break;
        case '-s':
        case '--scheduler': {
          const a = needArg();
          if (!a) return;
          sched = a.text;
          break;
        }
        case '-p':
        case '--persistent':
          // The timeout is optional (POPT_ARGFLAG_OPTIONAL); parse_timeout(NULL) gives 300.
          if (next && uint(next.text) !== undefined) {
            persistent = Number(next.text);
            j++;
          } else persistent = 300;
          break;
        case '-M':
        case '--netmask': {
          const a = needArg();
          if (!a) return;
          netmask = a.text;
          break;
        }
        case 'pe': // v1.26 print_service_entry prints "pe NAME" and "ops" without dashes
        case '--pe': {
          const a = needArg();
          if (!a) return;
          pe = a.text;
          break;
        }
        case 'ops':
        case '-o':
        case '--ops':
          ops = true;
          break;
        case '-b':
        case '--sched-flags':
        case '-x':
        case '--u-threshold':
        case '-y':
        case '--l-threshold':
        case '--tun-type':
        case '--tun-port':
          if (!needArg()) return;
          break;
        case '--tun-nocsum':
        case '--tun-csum':
        case '--tun-remcsum':
          break;
        case '-r':
        case '--real-server': {
          const a = needArg();
          if (!a) return;
          realTok = a;
          break;
        }
        // fwd_switch: -m Masq, -i tunnel, -g route (Local destinations also save as -g).
        case '-m':
        case '--masquerading':
          forward = 'Masq';
          break;
        case '-i':
        case '--ipip':
          forward = 'Tunnel';
          break;
        case '-g':
        case '--gatewaying':
          forward = 'Route';
          break;
        case '-w':
        case '--weight': {
          const a = needArg();
          if (!a) return;
          if (!/^-?\d{1,10}$/.test(a.text)) {
            this.sink.error('ipvs-save', line, `expected a number after \`${t.text}\`, got \`${a.text}\``, a.col, a.col + a.text.length);
            return;
          }
          weight = Number(a.text);
          break;
        }
        default:
          this.sink.warn('ipvs-save', line, `unknown ipvsadm option \`${t.text}\` (ignored)`, t.col, t.col + t.text.length);
      }
    }
    if (!proto || !svcTok) {
      this.sink.lineProblem('error', 'ipvs-save', line, text, `expected \`${cmd} -t|-u|--sctp-service addr:port\` or \`${cmd} -f mark\`, got \`${clip(text.trim())}\``);
      return;
    }
    let key: { addr?: string; port?: number; fwmark?: number };
    if (proto === 'fwm') {
      const mark = uint(svcTok.text);
      if (mark === undefined) {
        this.sink.error('ipvs-save', line, `expected a decimal fwmark, got \`${svcTok.text}\``, svcTok.col, svcTok.col + svcTok.text.length);
        return;
      }
      key = { fwmark: mark };
    } else {
      const ap = this.addrPort(svcTok, line, Infinity);
      if (!ap) return;
      key = { addr: ap.addr, port: ap.port };
      if (ap.ipv6) ipv6 = true;
    }
    const found = this.table.services.find(
      (s) => s.proto === proto && s.addr === key.addr && s.port === key.port && s.fwmark === key.fwmark && !!s.ipv6 === ipv6,
    );
    if (isService) {
      const svc: IpvsService = found ?? { proto, ...key, scheduler: '', dests: [], source: this.source(line) };
      if (ipv6) svc.ipv6 = true;
      // ipvsadm -S always prints -s; DEF_SCHED "wlc" is what ipvsadm uses when it is missing.
      svc.scheduler = sched ?? (svc.scheduler || 'wlc');
      if (persistent !== undefined) svc.persistent = persistent;
      if (netmask !== undefined) svc.netmask = netmask;
      if (pe !== undefined) svc.pe = pe;
      if (ops) svc.ops = true;
      if (!found) this.table.services.push(svc);
      return;
    }
    if (!found) {
      this.sink.lineProblem('error', 'ipvs-dest', line, text, `destination of service \`${svcTok.text}\` before that service is defined by \`-A\`; skipped`);
      return;
    }
    if (!realTok) {
      this.sink.lineProblem('error', 'ipvs-save', line, text, 'expected `-r address:port` for a destination');
      return;
    }
    const ap = this.addrPort(realTok, line, Infinity);
    if (!ap) return;
    // ipvsadm's defaults for -a: gatewaying (-g) and weight 1.
    found.dests.push({
      addr: ap.addr,
      port: ap.port,
      forward: forward ?? 'Route',
      weight: weight ?? 1,
      source: this.source(line),
    });
  }
}

/**
 * Parses any ipvsadm listing (`-Ln`, plain, `--stats`, `--rate`, `--thresholds`,
 * `--persistent-conn`, `-Lnc`, `-S`) into services, destinations and connections. Example:
 * ```
 * IP Virtual Server version 1.2.1 (size=4096)
 * Prot LocalAddress:Port Scheduler Flags
 *   -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
 * FWM  256 rr
 *   -> 192.168.200.3:0              Masq    1      0          0
 * ```
 */
export function parseIpvsadm(text: string, opts: ParseOptions = {}): ParseResult<IpvsTable> {
  const file = opts.file ?? '<input>';
  const offset = opts.lineOffset ?? 0;
  const sink = new ProblemSink(file);
  const r = new IpvsReader(sink, file);
  const lines = splitLines(text);
  let unknown = 0;
  let lastUnknown = 0;
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const line = idx + 1 + offset;
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    const toks = tokenize(raw);
    if (toks.length === 0) {
      sink.lineProblem('warning', 'ipvs-unknown', line, raw, 'line of control characters or blanks only; ignored');
      continue;
    }
    const first = toks[0].text;

    // main(): fail(2, "Can't initialize ipvs: %s\nAre you sure that IP Virtual Server is built in
    // the kernel or as module?", ipvs_strerror(errno)) — on stderr, captured with 2>&1.
    if (trimmed.startsWith("Can't initialize ipvs:")) {
      r.table.unavailable = trimmed.slice("Can't initialize ipvs:".length).trim() || trimmed;
      sink.lineProblem('info', 'ipvs-unavailable', line, raw, `IPVS is not available in this namespace: ${r.table.unavailable}`);
      continue;
    }
    if (trimmed === 'Are you sure that IP Virtual Server is built in the kernel or as module?') {
      if (r.table.unavailable === undefined) {
        r.table.unavailable = trimmed;
        sink.lineProblem('info', 'ipvs-unavailable', line, raw, 'IPVS is not available in this namespace');
      }
      continue;
    }
    // list_conn: fopen failure of /proc/net/ip_vs_conn.
    if (trimmed.startsWith('cannot open file /proc/net/ip_vs')) {
      r.table.unavailable ??= trimmed;
      sink.lineProblem('info', 'ipvs-unavailable', line, raw, `IPVS connection table not readable: ${trimmed}`);
      continue;
    }
    const ver = /^IP Virtual Server version (\S+) \(size=\d+\)$/.exec(trimmed);
    if (ver) {
      r.table.version = ver[1];
      continue;
    }
    if (trimmed.startsWith('Prot LocalAddress:Port')) {
      // print_title: the words after the first column name the layout.
      const w = toks[2]?.text;
      const layout: Layout | undefined =
        w === 'Scheduler' ? 'default' : w === 'Conns' ? 'stats' : w === 'CPS' ? 'rate' : w === 'Uthreshold' ? 'thresholds' : w === 'Weight' ? 'persistent' : undefined;
      if (layout) {
        r.layout = layout;
        r.titled = true;
      } else sink.lineProblem('warning', 'ipvs-title', line, raw, `unknown ipvsadm title line \`${trimmed}\`; keeping the ${r.layout} layout`);
      continue;
    }
    if (first === '->' && toks[1]?.text === 'RemoteAddress:Port') continue;
    if (trimmed === 'IPVS connection entries') {
      r.layout = 'conn';
      r.titled = true;
      continue;
    }
    if (first === 'pro' && toks[1]?.text === 'expire') {
      r.layout = 'conn';
      r.titled = true;
      continue;
    }
    if (first === '->') {
      r.destLine(toks, line, raw);
      continue;
    }
    if (toks.length >= 6 && /^\d{1,10}:\d\d$/.test(toks[1].text) && /^[A-Za-z]{1,8}$/.test(first)) {
      r.connLine(toks, line);
      continue;
    }
    if (first === 'TCP' || first === 'UDP' || first === 'SCTP' || first === 'FWM') {
      if (r.layout === 'conn') {
        sink.lineProblem('error', 'ipvs-conn', line, raw, 'expected `pro expire state source virtual destination` after `IPVS connection entries`');
        continue;
      }
      r.serviceLine(toks, line, raw);
      continue;
    }
    if (/^(-[AaEe]|--(add|edit)-(service|server))$/.test(first)) {
      r.saveLine(toks, line, raw);
      continue;
    }
    // list_timeout and list_daemon outputs: known, not modelled.
    if (trimmed.startsWith('Timeout (tcp tcpfin udp):') || /^(master|backup) sync daemon \(/.test(trimmed)) {
      sink.lineProblem('info', 'ipvs-other', line, raw, `ipvsadm ${trimmed.startsWith('Timeout') ? '--timeout' : '--daemon'} output; not modelled`);
      continue;
    }
    if (++unknown <= MAX_UNKNOWN_REPORTED) {
      sink.lineProblem('warning', 'ipvs-unknown', line, raw, `not an ipvsadm line: \`${clip(trimmed)}\``);
    } else lastUnknown = line;
  }
  if (unknown > MAX_UNKNOWN_REPORTED) {
    sink.warn('ipvs-unknown', lastUnknown, `${unknown - MAX_UNKNOWN_REPORTED} more lines that are not ipvsadm output (not listed one by one)`);
  }
  return { value: r.table, problems: sink.problems };
}
