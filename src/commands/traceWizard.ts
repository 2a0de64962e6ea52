/**
 * The Trace Packet wizard: node → entry (from outside on an interface, or from a local process in
 * a namespace) → protocol → source → destination → ports, each step validated as typed. The last
 * query is offered again first; "Trace from here" passes a hint that fixes some steps.
 */
import type { Model, ModelIface, Namespace } from '../core/model/model';
import type { TraceQuery } from '../core/sim/trace';
import type { QueryHint } from '../views/viewItem';
import { checkAddress, checkPort } from './queryValidation';
import { inputStep, pickStep, type PickItem, type StepResult } from './quickInput';

const TITLE = 'meshtrace: Trace Packet';

interface Entry {
  namespace: string;
  iif?: string;
}

interface State {
  node?: string;
  entry?: Entry;
  proto?: TraceQuery['proto'];
  src?: string;
  dst?: string;
  dport?: number;
  sport?: number;
}

/** The query in one line, for the "trace again" item. */
export function describeQuery(q: TraceQuery): string {
  const p = (ip: string, port?: number): string => (port !== undefined ? `${ip}:${port}` : ip);
  return `${q.proto} ${p(q.src, q.sport)} → ${p(q.dst, q.dport)} from ${q.node}/${q.namespace}${q.iif ? ` on ${q.iif}` : ' (local process)'}`;
}

function namespacesOf(m: Model, node: string): Namespace[] {
  const n = m.nodes.find((x) => x.name === node);
  const byId = new Map(m.namespaces.map((ns) => [ns.id, ns]));
  const list = (n?.namespaceIds ?? []).map((id) => byId.get(id)).filter((x): x is Namespace => !!x);
  return [...list.filter((x) => x.role === 'host'), ...list.filter((x) => x.role !== 'host')];
}

function entryItems(m: Model, node: string, only?: string): PickItem<Entry>[] {
  const ifById = new Map(m.interfaces.map((i) => [i.id, i]));
  const items: PickItem<Entry>[] = [];
  for (const ns of namespacesOf(m, node)) {
    if (only !== undefined && ns.name !== only) continue;
    const ifs = ns.interfaceIds.map((id) => ifById.get(id)).filter((i): i is ModelIface => !!i && i.name !== 'lo');
    for (const i of ifs) {
      items.push({
        label: `$(arrow-right) from outside on ${ns.name}/${i.name}`,
        description: [i.addrs.map((a) => `${a.local}/${a.prefixLen}`).join(' '), i.details.kind].filter(Boolean).join(' · '),
        value: { namespace: ns.name, iif: i.name },
      });
    }
    const what = ns.docker?.taskName ?? ns.docker?.containerName;
    items.push({ label: `$(terminal) from a local process in ${ns.name}`, description: [ns.role, what].filter(Boolean).join(' · '), value: { namespace: ns.name } });
  }
  return items;
}

function firstAddress(m: Model, node: string, namespace: string): string | undefined {
  const ns = m.namespaces.find((x) => x.node === node && x.name === namespace);
  if (!ns) return undefined;
  for (const id of ns.interfaceIds) {
    const i = m.interfaces.find((x) => x.id === id);
    const a = i?.addrs.find((x) => x.family === 'inet' && !x.local.startsWith('127.'));
    if (a) return a.local;
  }
  return undefined;
}

/** Runs the wizard; resolves to the query, or undefined when the user closed it. */
export async function traceWizard(m: Model, last: TraceQuery | undefined, hint: QueryHint = {}): Promise<TraceQuery | undefined> {
  let defaults: Partial<TraceQuery> = { ...hint };
  const hasHint = Object.keys(hint).length > 0;
  if (last && !hasHint && m.nodes.some((n) => n.name === last.node)) {
    const again = await pickStep<'again' | 'edit' | 'new'>({
      title: TITLE,
      step: 1,
      total: 1,
      back: false,
      placeholder: 'Trace the last query again, or change it',
      items: [
        { label: '$(history) Trace again', description: describeQuery(last), value: 'again' },
        { label: '$(edit) Change the last query…', description: 'every step starts from the last answer', value: 'edit' },
        { label: '$(add) New query…', value: 'new' },
      ],
    });
    if (!again || again === 'back') return undefined;
    if (again.value === 'again') return last;
    if (again.value === 'edit') defaults = { ...last };
  }

  const s: State = {};
  if (hint.node) s.node = hint.node;
  if (hint.iif && hint.namespace) s.entry = { namespace: hint.namespace, iif: hint.iif };
  if (hint.proto) s.proto = hint.proto;
  if (hint.dst) s.dst = hint.dst;
  if (hint.dport !== undefined) s.dport = hint.dport;

  type Step = { key: keyof State; ask: (n: number, total: number, back: boolean) => Promise<StepResult<unknown>> };
  const icmp = (): boolean => s.proto === 'icmp';
  const steps: Step[] = [];
  if (!hint.node)
    steps.push({
      key: 'node',
      ask: async (n, total, back) => {
        const items: PickItem<string>[] = m.nodes.map((x) => ({ label: x.name, description: x.addresses.join(', '), value: x.name }));
        const r = await pickStep({ title: TITLE, step: n, total, back, placeholder: 'Node the packet starts on', items, active: items.find((i) => i.value === (s.node ?? defaults.node)) });
        if (r && r !== 'back' && r.value !== s.node) s.entry = undefined;
        if (r && r !== 'back') s.node = r.value;
        return r;
      },
    });
  if (!(hint.iif && hint.namespace))
    steps.push({
      key: 'entry',
      ask: async (n, total, back) => {
        const items = entryItems(m, s.node ?? '', hint.namespace);
        const want = s.entry ?? (defaults.namespace ? { namespace: defaults.namespace, iif: defaults.iif } : undefined);
        const active = items.find((i) => want && i.value.namespace === want.namespace && i.value.iif === want.iif);
        const r = await pickStep({ title: TITLE, step: n, total, back, placeholder: 'Where the packet enters: from outside on an interface, or from a local process', items, active });
        if (r && r !== 'back') s.entry = r.value;
        return r;
      },
    });
  if (!hint.proto)
    steps.push({
      key: 'proto',
      ask: async (n, total, back) => {
        const items: PickItem<TraceQuery['proto']>[] = [
          { label: 'tcp', value: 'tcp' },
          { label: 'udp', value: 'udp' },
          { label: 'icmp', description: 'echo request', value: 'icmp' },
        ];
        const r = await pickStep({ title: TITLE, step: n, total, back, placeholder: 'Protocol', items, active: items.find((i) => i.value === (s.proto ?? defaults.proto)) });
        if (r && r !== 'back') s.proto = r.value;
        return r;
      },
    });
  steps.push({
    key: 'src',
    ask: async (n, total, back) => {
      const local = s.entry && !s.entry.iif;
      const value = s.src ?? defaults.src ?? (local && s.node ? firstAddress(m, s.node, s.entry!.namespace) : undefined) ?? '';
      const r = await inputStep({ title: TITLE, step: n, total, back, prompt: local ? 'Source address (an address of the namespace)' : 'Source address: the client outside', placeholder: 'e.g. 192.168.200.1', value, validate: checkAddress });
      if (r && r !== 'back') s.src = r.value;
      return r;
    },
  });
  if (!hint.dst)
    steps.push({
      key: 'dst',
      ask: async (n, total, back) => {
        const nodeAddr = m.nodes.find((x) => x.name === s.node)?.addresses[0];
        const value = s.dst ?? defaults.dst ?? (s.entry?.iif ? nodeAddr : undefined) ?? '';
        const r = await inputStep({ title: TITLE, step: n, total, back, prompt: 'Destination address', placeholder: `e.g. ${nodeAddr ?? '10.0.0.5'} (a node's address) or a service VIP`, value, validate: checkAddress });
        if (r && r !== 'back') s.dst = r.value;
        return r;
      },
    });
  if (hint.dport === undefined)
    steps.push({
      key: 'dport',
      ask: async (n, total, back) => {
        if (icmp()) return { value: undefined };
        const d = s.dport ?? defaults.dport;
        const r = await inputStep({ title: TITLE, step: n, total, back, prompt: 'Destination port', placeholder: 'e.g. 8080', value: d !== undefined ? String(d) : '', validate: (t) => checkPort(t, false) });
        if (r && r !== 'back') s.dport = Number(r.value);
        return r;
      },
    });
  steps.push({
    key: 'sport',
    ask: async (n, total, back) => {
      if (icmp()) return { value: undefined };
      const d = s.sport ?? defaults.sport;
      const r = await inputStep({ title: TITLE, step: n, total, back, prompt: 'Source port (leave empty and meshtrace picks one)', placeholder: 'e.g. 36828', value: d !== undefined ? String(d) : '', validate: (t) => checkPort(t, true) });
      if (r && r !== 'back') s.sport = r.value ? Number(r.value) : undefined;
      return r;
    },
  });

  let i = 0;
  while (i < steps.length) {
    const total = steps.length - (icmp() ? 2 : 0);
    const r = await steps[i].ask(Math.min(i + 1, total), total, i > 0);
    if (r === undefined) return undefined;
    if (r === 'back') {
      i = Math.max(0, i - 1);
      // Skip back over steps that ask nothing for ICMP.
      while (i > 0 && icmp() && (steps[i].key === 'dport' || steps[i].key === 'sport')) i--;
      continue;
    }
    i++;
  }
  if (!s.node || !s.entry || !s.proto || !s.src || !s.dst) return undefined;
  return {
    node: s.node,
    namespace: s.entry.namespace,
    iif: s.entry.iif,
    proto: s.proto,
    src: s.src,
    dst: s.dst,
    dport: icmp() ? undefined : s.dport,
    sport: icmp() ? undefined : s.sport,
  };
}
