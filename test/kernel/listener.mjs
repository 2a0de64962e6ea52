// Kernel tier helper (plain Node, no build step): a TCP/UDP listener and a probe client that run
// inside a lab namespace (`ip netns exec NS node listener.mjs ...`). Both print one JSON object
// per line on stdout; test/kernel/conformanceLab.ts reads them.
//
//   node listener.mjs listen <ns-label> <port,port,...>
//     TCP on 0.0.0.0 (the accepted socket's localAddress is the address the client reached,
//     after every DNAT/REDIRECT); UDP on every local IPv4 address of the namespace, plus a
//     0.0.0.0 catch-all, because a UDP socket bound to 0.0.0.0 cannot tell which address a
//     datagram was sent to. Prints {"ready":true} once every socket is bound, then one record per
//     connection or datagram: {"ns","proto","id","local","peer"}. The probe id is the first line
//     the client sends (TCP) or the datagram (UDP). Exits when stdin closes.
//
//   node listener.mjs mark <port>
//     Sends one datagram 127.0.0.1:<port> → 127.0.0.1:9 (an xtables-monitor readiness marker).
//
//   node listener.mjs probe  (JSON list of probes on stdin)
//     Runs every probe at once (or `delayMs` after the start), each from its own source address
//     and port: {"id","proto":"tcp"|"udp","src","sport","dst","dport","timeoutMs","delayMs"}. Prints one result per
//     probe: {"id","result":"connected"|"reply"|"timeout"|"error","errno","afterConnect","ms"}, then
//     exits (`afterConnect`: an error a connected TCP socket met afterwards).
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import * as os from 'node:os';

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

function localAddresses() {
  const addrs = new Set(['127.0.0.1']);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' || a.family === 4) addrs.add(a.address);
  }
  return [...addrs];
}

async function listen(ns, ports) {
  const servers = [];
  const bindTcp = (port) =>
    new Promise((resolve, reject) => {
      const srv = net.createServer((sock) => {
        const rec = { ns, proto: 'tcp', id: null, local: `${sock.localAddress}:${sock.localPort}`, peer: `${sock.remoteAddress}:${sock.remotePort}` };
        let buf = '';
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          out(rec);
        };
        sock.setTimeout(2000, () => {
          finish();
          sock.destroy();
        });
        sock.on('data', (d) => {
          buf += d.toString('utf8');
          const nl = buf.indexOf('\n');
          if (nl >= 0 && rec.id === null) {
            rec.id = buf.slice(0, nl);
            finish();
            sock.end('ok\n');
          }
        });
        sock.on('error', () => finish());
        sock.on('close', () => finish());
      });
      srv.on('error', reject);
      srv.listen({ host: '0.0.0.0', port, backlog: 512 }, () => resolve(srv));
    });
  const bindUdp = (address, port) =>
    new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      s.on('error', reject);
      s.on('message', (msg, rinfo) => {
        out({ ns, proto: 'udp', id: msg.toString('utf8'), local: `${address}:${port}`, peer: `${rinfo.address}:${rinfo.port}` });
        s.send(msg, rinfo.port, rinfo.address);
      });
      s.bind({ address, port }, () => resolve(s));
    });
  for (const port of ports) {
    servers.push(await bindTcp(port));
    servers.push(await bindUdp('0.0.0.0', port));
    for (const a of localAddresses()) servers.push(await bindUdp(a, port));
  }
  out({ ready: true, addresses: localAddresses() });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}

function probeTcp(p) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let settled = false;
    let connected = false;
    const done = (result, errno) => {
      if (settled) return;
      settled = true;
      // Connected means the SYN-ACK came back; an error after that (the third packet or the data
      // refused on the way) is kept apart, as the simulator follows only the SYN and its answer.
      resolve(connected ? { id: p.id, result: 'connected', afterConnect: errno, ms: Date.now() - t0 } : { id: p.id, result, errno, ms: Date.now() - t0 });
    };
    const s = net.connect({ host: p.dst, port: p.dport, localAddress: p.src, localPort: p.sport });
    const timer = setTimeout(() => {
      done('timeout');
      s.destroy();
    }, p.timeoutMs);
    s.on('connect', () => {
      clearTimeout(timer);
      connected = true;
      // Tell the listener which probe this is; wait for its answer (or a short while) before closing.
      s.write(`${p.id}\n`);
      const t = setTimeout(() => {
        done('connected');
        s.destroy();
      }, 1000);
      s.on('data', () => {
        clearTimeout(t);
        done('connected');
        s.destroy();
      });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      done('error', e.code ?? String(e.message));
      s.destroy();
    });
  });
}

function probeUdp(p) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let settled = false;
    const s = dgram.createSocket('udp4');
    const done = (result, errno) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        s.close();
      } catch {
        // already closed
      }
      resolve({ id: p.id, result, errno, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done('timeout'), p.timeoutMs);
    // A connected UDP socket reports ICMP errors that Linux calls fatal (port unreachable,
    // prohibited) as ECONNREFUSED/EHOSTUNREACH on the next receive (udp_err, icmp_err_convert).
    s.on('error', (e) => done('error', e.code ?? String(e.message)));
    s.on('message', (msg) => {
      if (msg.toString('utf8') === String(p.id)) done('reply');
    });
    s.bind({ address: p.src, port: p.sport }, () => {
      s.connect(p.dport, p.dst, (err) => {
        if (err) return done('error', err.code ?? String(err.message));
        s.send(String(p.id), (e) => {
          if (e) done('error', e.code ?? String(e.message));
        });
      });
    });
  });
}

async function probe() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const probes = JSON.parse(text);
  await Promise.all(
    probes.map(async (p) => {
      if (p.delayMs) await new Promise((r) => setTimeout(r, p.delayMs));
      const r = p.proto === 'tcp' ? await probeTcp(p) : await probeUdp(p);
      out(r);
    }),
  );
  process.exit(0);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'listen') {
  listen(args[0], (args[1] ?? '').split(',').filter(Boolean).map(Number)).catch((e) => {
    out({ fatal: String(e && e.message) });
    process.exit(1);
  });
} else if (mode === 'probe') {
  probe().catch((e) => {
    out({ fatal: String(e && e.message) });
    process.exit(1);
  });
} else if (mode === 'mark') {
  // One datagram 127.0.0.1:<port> → 127.0.0.1:9, so an xtables-monitor can show it is listening.
  const s = dgram.createSocket('udp4');
  s.bind({ address: '127.0.0.1', port: Number(args[0]) }, () => s.send('mark', 9, '127.0.0.1', () => s.close()));
} else {
  process.stderr.write('usage: listener.mjs listen <ns> <ports> | probe < probes.json\n');
  process.exit(2);
}
