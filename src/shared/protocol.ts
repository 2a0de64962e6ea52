/**
 * Everything the meshtrace language server and its clients say to each other beyond standard LSP,
 * declared once: the server (src/server) and the VS Code client (src/lsp/client.ts) both import
 * these. Each declaration says who sends it to whom.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { TraceQuery } from '../core/sim/trace';

/** The languages the server handles (VS Code language ids). */
export const LANGUAGE_IDS = ['iptables', 'ipvsadm', 'meshtrace-bundle'] as const;

/**
 * The client-side command a "trace a packet into this chain" code lens runs, with one
 * `TracePrefill` argument. VS Code: the extension's Trace Packet wizard. Other editors: bind it
 * yourself, or run the `cli` command line the argument carries.
 */
export const TRACE_COMMAND = 'meshtrace.trace';

/** What a trace code lens pre-fills in the Trace Packet wizard. */
export interface TracePrefill {
  /** Absolute path of the capture the rule file belongs to (a folder, a bundle or a lone dump). */
  capture: string;
  /** The answers known from the chain: node and namespace always, the rest when a rule tells. */
  query: Partial<TraceQuery>;
  /** Where the packet should go: the chain, its table, and the built-in chains that reach it. */
  table: string;
  chain: string;
  hooks: string[];
  /** Whether the packet comes from outside (on an interface) or from a local process. */
  entry: 'interface' | 'local';
  /** The equivalent `meshtrace trace …` command line, with `<…>` where an answer is missing. */
  cli: string;
}

/** Which capture, node and namespace the server placed a document in. */
export interface CaptureInfo {
  /** Absolute path of the capture root (folder), or of the file itself for a bundle or lone dump. */
  root: string;
  shape: 'capture' | 'node' | 'file';
  /** The document's path as the model names it (relative to `root`). */
  file: string;
  /** Node and namespace of a plain dump (bundles hold several). */
  node?: string;
  namespace?: string;
  /** The dump kind detected in the document (the first section's, for bundles). */
  kind?: string;
  nodes: string[];
  namespaces: number;
  /** Problems of the whole capture, by severity. */
  problems: { error: number; warning: number; info: number };
}

/** Client → server: where is this document in a capture? `null` when the server does not know it. */
export const CaptureInfoRequest = new RequestType<{ uri: string }, CaptureInfo | null, void>('meshtrace/captureInfo');

/** Client → server: forget cached captures (all, or the one at `root`) and re-check open documents. */
export const ReloadCapturesNotification = new NotificationType<{ root?: string }>('meshtrace/reloadCaptures');

/** Server → client: a capture was (re)loaded, so views built on it may refresh. */
export const CaptureLoadedNotification = new NotificationType<{ root: string; nodes: string[]; namespaces: number; millis: number }>('meshtrace/captureLoaded');
