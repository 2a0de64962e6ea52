/** `meshtrace collect`: runs the collector script on this machine (argument parsing and printing only). */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { bundleStats, collectLocalSync, collectorScriptPath, readCollectorScript, type CollectOptions } from '../node/collect';

/** The usage of `meshtrace collect`. */
export const COLLECT_USAGE = `usage: meshtrace collect [-o FILE] [--ns NAME|PATTERN]... [--redact] [options]   (as root)

Captures this machine with collector/meshtrace-collect.sh: the host network namespace and every
namespace under /var/run/docker/netns and /var/run/netns, and Docker's JSON where the docker CLI
answers. It only reads. Without -o the bundle goes to stdout.

  -o, --output FILE         write the bundle to FILE
      --ns NAME|PATTERN     only this namespace (host, ingress_sbox, 'lb_*'); repeatable
      --node NAME           the node's name in the bundle (default: uname -n)
      --redact              replace host names, MACs and addresses outside Docker's ranges
      --redact-key HEX      the same key on every node gives the same replacements
      --redact-map FILE     write each original and its replacement to FILE (keep it private)
      --no-docker           do not ask the docker CLI
      --docker-netns-dir D  where dockerd binds its namespaces (default /var/run/docker/netns)
      --timeout SECONDS     give up on one command after this long (default 120)
  -q, --quiet               no progress on stderr
      --print-script        print the collector script, e.g. for
                            meshtrace collect --print-script | ssh NODE sudo sh -s > NODE.txt`;

/** What `runCollect` needs from the machine (tests pass stand-ins). */
export interface CollectDeps {
  run: (o: CollectOptions) => number;
  isRoot: () => boolean;
  readFile: (file: string) => string;
  script: () => string;
}

const defaultDeps: CollectDeps = {
  run: (o) => collectLocalSync(o),
  isRoot: () => typeof process.getuid === 'function' && process.getuid() === 0,
  readFile: (f) => fs.readFileSync(f, 'utf8'),
  script: () => readCollectorScript(collectorScriptPath()),
};

/** Runs `meshtrace collect`; returns the exit status. */
export function runCollect(args: string[], out: (s: string) => void, err: (s: string) => void, deps: CollectDeps = defaultDeps): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      ns: { type: 'string', multiple: true },
      node: { type: 'string' },
      redact: { type: 'boolean' },
      'redact-key': { type: 'string' },
      'redact-map': { type: 'string' },
      'no-docker': { type: 'boolean' },
      'docker-netns-dir': { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      'print-script': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(COLLECT_USAGE);
    return 0;
  }
  if (positionals.length) {
    err(`meshtrace collect: unexpected argument ${JSON.stringify(positionals[0])}\n${COLLECT_USAGE}`);
    return 2;
  }
  if (values['print-script']) {
    out(deps.script().replace(/\n$/, ''));
    return 0;
  }
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    if (!/^\d+$/.test(values.timeout) || Number(values.timeout) === 0) {
      err(`meshtrace collect: --timeout must be a whole number of seconds (got ${values.timeout})`);
      return 2;
    }
    timeoutSeconds = Number(values.timeout);
  }
  const o: CollectOptions = {
    output: values.output,
    namespaces: values.ns?.flatMap((n) => n.split(',')).filter((n) => n !== ''),
    node: values.node,
    redact: !!values.redact || values['redact-key'] !== undefined,
    redactKey: values['redact-key'],
    redactMap: values['redact-map'],
    noDocker: !!values['no-docker'],
    dockerNetnsDir: values['docker-netns-dir'],
    timeoutSeconds,
    quiet: !!values.quiet,
  };
  if (!deps.isRoot()) err('meshtrace collect: not running as root, so most dumps will fail (their notes say why); run it with sudo');
  const code = deps.run(o);
  if (code !== 0) {
    err(`meshtrace collect: the collector exited with status ${code}`);
    return code === 2 ? 2 : 1;
  }
  if (o.output !== undefined && o.output !== '-') {
    const s = bundleStats(deps.readFile(o.output));
    out(`wrote ${o.output}: ${s.sections} dumps of ${s.namespaces.length} namespaces, ${s.notes} notes; read it with: meshtrace load ${o.output}`);
  }
  return 0;
}
