/** meshtrace.revealSource: Open Dump Line (what selecting a tree row does). */
import type { MeshtraceCommand } from './command';
import type { ViewItem } from '../views/viewItem';

/** Opens the dump line behind a row; for trace rows, also selects the step in the diagram. */
export const revealSource: MeshtraceCommand = {
  id: 'meshtrace.revealSource',
  async run(session, arg) {
    const item = arg as ViewItem | undefined;
    if (!item) return;
    if (item.step) session.selectStep({ outcome: item.step.outcome, step: item.step.index });
    if (item.source) await session.reveal(item.source.file, item.source.line, { preserveFocus: true });
  },
};
