/** meshtrace.traceFromHere: Trace from Here… on a Topology item (node, namespace, interface, service, port). */
import type { MeshtraceCommand } from './command';
import type { ViewItem } from '../views/viewItem';
import { traceWithWizard } from './tracePacket';

/** Starts the wizard with what the item fixes (its node, namespace, interface, destination or port). */
export const traceFromHere: MeshtraceCommand = {
  id: 'meshtrace.traceFromHere',
  run(session, arg) {
    const item = arg as ViewItem | undefined;
    return traceWithWizard(session, item?.query ?? {});
  },
};
