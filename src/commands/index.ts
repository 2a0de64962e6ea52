/** Every meshtrace command, in one table (registered by extension.ts, declared in package.json). */
import type { MeshtraceCommand } from './command';
import { loadCapture } from './loadCapture';
import { loadFile } from './loadFile';
import { pasteDump } from './pasteDump';
import { openSample } from './openSample';
import { tracePacket } from './tracePacket';
import { traceFromHere } from './traceFromHere';
import { showDiagram } from './showDiagram';
import { exportTrace } from './exportTrace';
import { reloadCapture } from './reloadCapture';
import { revealSource } from './revealSource';
import { captureThisMachine } from './captureThisMachine';
import { captureRemoteNodes } from './captureRemoteNodes';
import { simulate } from './simulate';

/** The command table. */
export const COMMANDS: readonly MeshtraceCommand[] = [loadCapture, loadFile, pasteDump, openSample, tracePacket, traceFromHere, showDiagram, exportTrace, reloadCapture, revealSource, captureThisMachine, captureRemoteNodes, simulate];
