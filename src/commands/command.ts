/** The shape of one meshtrace command: its id (under `meshtrace.`) and what it does. */
import type { Session } from './session';

/** A command; `args` are what VS Code passes (a tree item, an explorer URI) or nothing from the palette. */
export interface MeshtraceCommand {
  id: `meshtrace.${string}`;
  run(session: Session, ...args: unknown[]): unknown;
}
