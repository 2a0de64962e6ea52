/**
 * Starts the meshtrace language server (dist/server.js, the same file any editor runs with
 * `--stdio`) for the extension, over Node IPC, for the rule-file languages. Wiring only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LANGUAGE_IDS } from '../shared/protocol';

/** Starts the language client; it is stopped when the extension is deactivated (it is in `context.subscriptions`). */
export async function startLanguageClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Saved files and unsaved editors (a pasted dump stays an untitled editor until saved).
    documentSelector: LANGUAGE_IDS.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    outputChannelName: 'meshtrace language server',
    // Hover text quotes dumps, which are untrusted: no command links, no HTML.
    markdown: { isTrusted: false, supportHtml: false },
  };
  const client = new LanguageClient('meshtrace', 'meshtrace language server', serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => void client.stop() });
  await client.start();
  return client;
}
