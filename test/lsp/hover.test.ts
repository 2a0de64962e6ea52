/**
 * lsp tier: hover over a real server process. Each case names a file and a line fragment with the
 * cursor marked `|`; the hover text is compared with test/lsp/golden/<case>.md (rewrite them with
 * UPDATE_GOLDEN=1 and review the diff), and the facts the issue asks for are asserted as well.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { CORPUS, LspSession, SEED, cursorIn } from './harness';

const GOLDEN = path.join(__dirname, 'golden');
const FIXTURES = path.join(__dirname, 'fixtures');

/** A hover case: where, and what the text must say whatever the golden file holds. */
interface Case {
  name: string;
  file: string;
  at: string;
  lang?: string;
  /** Which of several matching lines (default: the fragment must match one line only). */
  nth?: number;
  has?: (string | RegExp)[];
}

function resolve(file: string): string {
  const [where, rel] = file.split(':');
  if (where === 'seed') return path.join(SEED, rel);
  if (where === 'corpus') return path.join(CORPUS, rel);
  if (where === 'fixture') return path.join(FIXTURES, rel);
  return file;
}

const CASES: Case[] = [
  // The seed swarm: marks, the routing mesh, the capture's interfaces and tasks.
  { name: 'seed-mark-target', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '--dport 8080 -j |MARK', has: ['`FWM 256`', 'mark becomes **256 (0x100)**', 'published port 8080 of service **web**', '10.0.0.6:0', 'task web.1.udlzvsraha1xwcsa212ofldjg'] },
  { name: 'seed-mark-value', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '--dport 8080 -j MARK --set-xmark 0x1|00/0xffffffff', has: ['**256 (0x100)**', 'IPVS service `FWM 256` (rr) in swarm-manager/ingress_sbox'] },
  { name: 'seed-vip-mark', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '-A INPUT -d 10.0.0.5/32 -j M|ARK', has: ['VIP 10.0.0.5 of service **web** on network ingress', '`FWM 256`'] },
  { name: 'seed-vip-address', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '-A INPUT -d 10.|0.0.5/32', has: ['`eth0` of swarm-manager/ingress_sbox (this namespace)', 'virtual IP (VIP) of service **web**', 'also used on nodes swarm-worker1, swarm-worker2'] },
  { name: 'seed-ipvs-snat', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '-m ipvs --ipvs -j S|NAT', has: ['source NAT', "Docker's load balancer (NAT mode", '10.0.0.2/24 is on `eth0` of swarm-manager/ingress_sbox'] },
  { name: 'seed-ipvs-match', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '-m i|pvs --ipvs', has: ['IPVS connection'] },
  { name: 'seed-counters', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '[1|2:806]', has: ['12 packets, 806 bytes'] },
  { name: 'seed-embedded-dns', file: 'seed:swarm-manager/ingress_sbox/iptables-save.txt', at: '-A OUTPUT -d 127.0.0.11/32 -j DOCKER|_OUTPUT', has: ['jump to a user chain', "Docker's embedded DNS server"] },
  { name: 'seed-ingress-dnat', file: 'seed:swarm-manager/host/iptables-save.txt', at: '--dport 8080 -j DN|AT', has: ["Docker's routing mesh: published port 8080 of service **web**", 'allowed in table nat, chains PREROUTING and OUTPUT', '172.18.0.2/16 is on `eth1` of swarm-manager/ingress_sbox'] },
  { name: 'seed-ingress-dnat-dest', file: 'seed:swarm-manager/host/iptables-save.txt', at: '--to-destination 172.18.0.|2:8080', has: ["Docker's ingress load-balancer sandbox", 'published port 8080/tcp of service **web** (ingress mode, target port 80'] },
  { name: 'seed-dport', file: 'seed:swarm-manager/host/iptables-save.txt', at: '-A DOCKER-INGRESS -p tcp -m tcp --dport 80|80 -j DNAT', has: ['destination port', 'published port 8080/tcp of service **web**'] },
  { name: 'seed-table', file: 'seed:swarm-manager/host/iptables-save.txt', at: '*n|at', has: ['table nat', 'nly the first packet of each connection', 'PREROUTING at priority -100'] },
  { name: 'seed-docker-ingress-chain', file: 'seed:swarm-manager/host/iptables-save.txt', at: '[302:18430] -A DOCKER-IN|GRESS -j RETURN', has: ['This line is rule 2 of 2'] },
  { name: 'seed-builtin-chain', file: 'seed:swarm-manager/host/iptables-save.txt', at: ':PRE|ROUTING ACCEPT [388:35780]', has: ['NF_INET_PRE_ROUTING', 'priority -100', '388 packets (35780 bytes) reached the end of the chain'] },
  { name: 'seed-jump-docker-ingress', file: 'seed:swarm-manager/host/iptables-save.txt', at: '[296:17960] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-IN|GRESS', has: ['Jumped to by 2 rules: PREROUTING rule 1 (line 9), OUTPUT rule 1 (line 11)', 'initIngressConfiguration'] },
  { name: 'seed-addrtype-local', file: 'seed:swarm-manager/host/iptables-save.txt', at: '[296:17960] -A PREROUTING -m addrtype --dst-type LO|CAL', has: ["one of this namespace's own addresses"] },
  { name: 'seed-oif', file: 'seed:swarm-manager/host/iptables-save.txt', at: '-A POSTROUTING -o docker_gw|bridge', has: ['`docker_gwbridge` is a bridge with 172.18.0.1/16'] },
  { name: 'seed-masquerade', file: 'seed:swarm-manager/host/iptables-save.txt', at: '-A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQ|UERADE', has: ['outbound NAT for the bridge network docker_gwbridge (172.18.0.0/16)'] },
  { name: 'seed-filter-ingress-accept', file: 'seed:swarm-manager/host/iptables-save.txt', at: '-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j ACC|EPT', has: ['be forwarded to ingress_sbox'] },
  { name: 'seed-header', file: 'seed:swarm-manager/host/iptables-save.txt', at: '# Gene|rated by iptables-save v1.8.4', nth: 0, has: ['**legacy** flavour'] },
  { name: 'seed-ipvs-service', file: 'seed:swarm-manager/ingress_sbox/ipvsadm.txt', lang: 'ipvsadm', at: 'F|WM  256 rr', has: ['marked by swarm-manager/ingress_sbox/iptables-save.txt:8', 'load balancer of service **web**'] },
  { name: 'seed-ipvs-dest', file: 'seed:swarm-manager/ingress_sbox/ipvsadm.txt', lang: 'ipvsadm', at: '-> 10.0.0.|7:0', has: ['task web.1.udlzvsraha1xwcsa212ofldjg of service **web**', '`eth0` of swarm-worker1/web.1.udlzvsraha1x'] },
  { name: 'seed-list-dnat-to', file: 'seed:swarm-manager/host/iptables-L-nat.txt', at: 'tcp dpt:8080 to:172.|18.0.2:8080', has: ["Docker's routing mesh: published port 8080 of service **web**"] },
  { name: 'seed-list-target-chain', file: 'seed:swarm-manager/host/iptables-L-nat.txt', at: '296 17960 DOCKER-IN|GRESS', has: ['jump to a user chain', 'Jumped to by 2 rules'] },
  { name: 'seed-list-counters', file: 'seed:swarm-manager/host/iptables-L-nat.txt', at: '21365 128|2K DOCKER', has: ['rounded by `iptables -L`'] },
  { name: 'seed-list-mark', file: 'seed:swarm-manager/ingress_sbox/iptables-L-mangle.txt', at: 'tcp dpt:8080 MARK set 0x1|00', has: ['`FWM 256`'] },
  { name: 'seed-list-refs', file: 'seed:swarm-manager/host/iptables-L-nat.txt', at: 'Chain DOCKER (2 ref|erences)', has: ['how many rules jump'] },
  // A bundle is a capture of its own.
  { name: 'bundle-mark', file: 'fixture:swarm-manager.meshtrace', lang: 'meshtrace-bundle', at: '--dport 8080 -j MA|RK', has: ['`FWM 256`', 'in swarm-manager/ingress_sbox'] },
  { name: 'bundle-header', file: 'fixture:swarm-manager.meshtrace', lang: 'meshtrace-bundle', at: '### meshtrace node=swarm-manager ns=ingress_sbox cmd=ipv|sadm -Ln', has: ['node `swarm-manager`, namespace `ingress_sbox`', '`ipvsadm`'] },
  // The corpus: kube-proxy, iptables-nft with annotations, the netns lab.
  { name: 'kube-comment', file: 'corpus:iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt', at: '-A KUBE-SEP-54GVWSVFIGJ7TMTH -p tcp -m comment --comment "kube-|system', has: ['kube-proxy: Service `kube-system/default-http-backend:http`'] },
  { name: 'kube-svc-jump', file: 'corpus:iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt', at: '--dport 30007 -j KUBE-SVC-4N5|7TFCL4MD7ZTDA', has: ['kube-proxy: one Service port'] },
  { name: 'kube-mark-masq', file: 'corpus:iptables-save/praqma-gke-2016-kube-proxy-docker-v1.4.14-after-pods.txt', at: '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x40|00/0x4000', has: ['the bits 0x4000 are turned on'] },
  { name: 'nft-header', file: 'corpus:iptables-save/moby-pr52934-swarm-host-nft-annotated.txt', at: '# Generated by iptables-save v1.8.9 (nf_ta|bles)', nth: 0, has: ['**nf_tables** flavour'] },
  { name: 'nft-annotation', file: 'corpus:iptables-save/moby-pr52934-swarm-host-nft-annotated.txt', at: '## Drop incoming packets addressed to| a', has: ['someone added it'] },
  { name: 'lab-redirect', file: 'corpus:captures/netns-lab/vm/router/iptables-S-nat.txt', at: '-j REDIRECT --to-ports 53|53', has: ['the local port the packet is redirected to'] },
  { name: 'lab-physdev', file: 'corpus:captures/netns-lab/vm/router/iptables-S-filter.txt', at: '-m phys|dev --physdev-in leg1', has: ['bridge port'] },
  { name: 'lab-reject-with', file: 'corpus:captures/netns-lab/vm/router/iptables-S-filter.txt', at: '--comment "no ssh from client to server across the bridge" -j REJECT --reject-with tcp-re|set', has: ['a TCP RST'] },
  { name: 'lab-list-comment', file: 'corpus:captures/netns-lab/vm/router/iptables-L-filter.txt', at: 'udp dpt:4789 /* vxlan from| server underlay */', has: ['**comment**'] },
  { name: 'lab-network-address', file: 'corpus:captures/netns-lab/vm/router/iptables-save.txt', at: '-A LAN-CHECK -s 192.0.2.0/2|4 -j RETURN', has: ['the network 192.0.2.0 to 192.0.2.255 (256 addresses)'] },
];

function text(h: Hover | null): string {
  if (!h) return '(no hover)';
  const c = h.contents as MarkupContent;
  return `<!-- range ${h.range?.start.line}:${h.range?.start.character}-${h.range?.end.line}:${h.range?.end.character} -->\n${c.value}\n`;
}

describe('lsp tier: hover (node dist/server.js --stdio)', function () {
  this.timeout(60000);
  let s: LspSession;
  const opened = new Map<string, string>();
  before(async () => {
    s = new LspSession();
    await s.initialize();
  });
  after(async () => {
    await s.dispose();
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.at.length > 70 ? c.at.slice(0, 70) + '…' : c.at}`, async () => {
      const file = resolve(c.file);
      const body = fs.readFileSync(file, 'utf8');
      let uri = opened.get(file);
      if (!uri) {
        uri = await s.open(file, body, c.lang);
        opened.set(file, uri);
      }
      const position = cursorIn(body, c.at, c.nth);
      const h = await s.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
      const got = text(h);
      const golden = path.join(GOLDEN, `${c.name}.md`);
      if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(golden)) {
        fs.mkdirSync(GOLDEN, { recursive: true });
        fs.writeFileSync(golden, got);
      }
      assert.ok(h, `no hover at ${c.at}`);
      assert.equal(got, fs.readFileSync(golden, 'utf8'), `hover differs from ${path.relative(process.cwd(), golden)} (UPDATE_GOLDEN=1 rewrites it)`);
      for (const want of c.has ?? []) {
        if (typeof want === 'string') assert.ok(got.includes(want), `hover lacks ${JSON.stringify(want)}:\n${got}`);
        else assert.match(got, want);
      }
    });
  }

  it('every token of a rule line has a hover', async () => {
    const file = path.join(SEED, 'swarm-manager/ingress_sbox/iptables-save.txt');
    const uri = opened.get(file) ?? (await s.open(file));
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('--dport 8080 -j MARK'));
    const raw = fs.readFileSync(file, 'utf8').split('\n')[line];
    for (let ch = 0; ch < raw.length; ch++) {
      if (raw[ch] === ' ') continue;
      const h = await s.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character: ch } });
      assert.ok(h, `no hover at column ${ch} (${raw.slice(ch, ch + 10)})`);
    }
  });
});
