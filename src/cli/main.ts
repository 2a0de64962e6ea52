/**
 * The `meshtrace` command: argument parsing and printing only. Every answer comes from the core.
 */
import { parseArgs } from 'node:util';
import { runLoad } from './load';
import { runTrace } from './trace';
import { runCollect } from './collect';
import { runSimulate } from './simulate';
import { runSynth } from './synth';

const USAGE = `usage: meshtrace <command> [options]

commands:
  load <capture>... [--json] [--node N --ns NS]
      read a capture (folder, bundle or single dump) and print what the model holds and every
      problem as file:line:col
  trace <capture> --node N [--ns NS] [--iif IF] --proto tcp|udp|icmp --src IP [--sport P]
        --dst IP [--dport P] [--json]
      follow a packet through the capture: every rule, rewrite, IPVS choice and hop, and its fate
  simulate <capture> [--json] [--client IP] [--node N]... [--no-vips]
      every published port from every node and every service VIP from every task, with the
      outcome distribution per cell, and the findings (what Docker should have programmed and
      is missing or wrong, with the command that fixes or confirms it)
  synth <description.yml|json> [--out DIR] [--force]
      build a capture folder (real dump formats) from a compose/stack file with deploy and ports
      plus a node list (x-meshtrace.nodes), to simulate a swarm before deploying it
  collect [-o FILE] [--ns NAME|PATTERN]... [--redact]
      capture this machine (as root) with the collector script: every network namespace, its
      iptables, routes, rules, addresses, IPVS, and Docker's JSON; only reads
  help                 this text
  version              print the version

A capture is a folder <capture>/<node>/<namespace>/<dump>, a bundle written by the collector, or
one pasted dump (node "pasted", namespace "host" unless --node/--ns say otherwise).`;

/**
 * Runs the CLI; returns the exit status. `out` prints a line; `write`, when given, prints text as
 * it is (no line break added), for output too large to hold as one string (`simulate --json`, `load --json`).
 */
export function main(argv: string[], out: (s: string) => void, err: (s: string) => void, write?: (s: string) => void): number {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'load': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { json: { type: 'boolean' }, node: { type: 'string' }, ns: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
        });
        if (positionals.length === 0) {
          err('meshtrace load: expected a capture path (folder, bundle or dump file)');
          return 2;
        }
        return runLoad(positionals, { json: !!values.json, node: values.node, namespace: values.ns, quiet: !!values.quiet }, out, err, write);
      }
      case 'trace': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            node: { type: 'string' },
            ns: { type: 'string' },
            iif: { type: 'string' },
            proto: { type: 'string' },
            src: { type: 'string' },
            sport: { type: 'string' },
            dst: { type: 'string' },
            dport: { type: 'string' },
            json: { type: 'boolean' },
          },
        });
        const bad = (m: string): number => {
          err(`meshtrace trace: ${m}`);
          return 2;
        };
        if (positionals.length === 0) return bad('expected a capture path');
        if (!values.node) return bad('--node is required');
        const proto = values.proto;
        if (proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') return bad('--proto must be tcp, udp or icmp');
        if (!values.src || !values.dst) return bad('--src and --dst are required');
        const port = (v: string | undefined): number | undefined | null => {
          if (v === undefined) return undefined;
          return /^\d+$/.test(v) && Number(v) <= 65535 ? Number(v) : null;
        };
        const sport = port(values.sport);
        const dport = port(values.dport);
        if (sport === null) return bad(`--sport must be a port number (got ${values.sport})`);
        if (dport === null) return bad(`--dport must be a port number (got ${values.dport})`);
        if (proto !== 'icmp' && dport === undefined) return bad('--dport is required for tcp and udp');
        return runTrace(positionals, { node: values.node, namespace: values.ns ?? 'host', iif: values.iif, proto, src: values.src, dst: values.dst, sport, dport, json: !!values.json }, out, err);
      }
      case 'simulate': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { json: { type: 'boolean' }, client: { type: 'string' }, node: { type: 'string', multiple: true }, 'no-vips': { type: 'boolean' } },
        });
        if (positionals.length === 0) {
          err('meshtrace simulate: expected a capture path');
          return 2;
        }
        return runSimulate(positionals, { json: !!values.json, client: values.client, nodes: values.node, vips: !values['no-vips'] }, out, err, write);
      }
      case 'synth': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { out: { type: 'string' }, force: { type: 'boolean' } },
        });
        if (positionals.length !== 1) {
          err('meshtrace synth: expected one description file (compose/stack YAML or JSON)');
          return 2;
        }
        return runSynth(positionals[0], { out: values.out, force: !!values.force }, out, err);
      }
      case 'collect':
        return runCollect(rest, out, err);
      case 'version':
      case '--version':
        out('meshtrace 0.1.0');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        err(`meshtrace: unknown command "${cmd}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // parseArgs throws on unknown options; that is bad usage, reported in one line.
    err(`meshtrace ${cmd}: ${(e as Error).message}`);
    return 2;
  }
}

if (require.main === module) {
  // `meshtrace … | head`: the reader went away; what is left to print has no one to read it.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const code = main(
    process.argv.slice(2),
    (s) => process.stdout.write(s + '\n'),
    (s) => process.stderr.write(s + '\n'),
    (s) => process.stdout.write(s),
  );
  process.exitCode = code;
}
