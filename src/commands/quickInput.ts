/**
 * Small multi-step quick-input helpers (after the VS Code quick-input sample): one quick pick or
 * input box per step, titled "Trace Packet (2/7)", with a Back button, validation on every
 * keystroke, and `undefined` when the user closes the input.
 */
import * as vscode from 'vscode';

/** What a step returned: a value, a request to go back, or undefined (closed). */
export type StepResult<T> = { value: T } | 'back' | undefined;

/** Common options of a step. */
export interface StepOptions {
  title: string;
  step: number;
  total: number;
  /** Whether Back is offered (not on the first step). */
  back: boolean;
}

/** An item of a pick step. */
export interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

/** One pick step. `active` is the item to start on (the last answer). */
export function pickStep<T>(o: StepOptions & { placeholder: string; items: PickItem<T>[]; active?: PickItem<T> }): Promise<StepResult<T>> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<PickItem<T>>();
    qp.title = o.title;
    qp.step = o.step;
    qp.totalSteps = o.total;
    qp.placeholder = o.placeholder;
    qp.items = o.items;
    qp.matchOnDescription = true;
    qp.ignoreFocusOut = true;
    if (o.active) qp.activeItems = [o.active];
    qp.buttons = o.back ? [vscode.QuickInputButtons.Back] : [];
    let done = false;
    const finish = (r: StepResult<T>): void => {
      if (done) return;
      done = true;
      resolve(r);
      qp.dispose();
    };
    qp.onDidTriggerButton((b) => {
      if (b === vscode.QuickInputButtons.Back) finish('back');
    });
    qp.onDidAccept(() => {
      const it = qp.selectedItems[0] ?? qp.activeItems[0];
      if (it) finish({ value: it.value });
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}

/** One input step, validated as the user types; Enter is refused while the text is invalid. */
export function inputStep(o: StepOptions & { prompt: string; placeholder?: string; value: string; validate: (text: string) => string | undefined }): Promise<StepResult<string>> {
  return new Promise((resolve) => {
    const ib = vscode.window.createInputBox();
    ib.title = o.title;
    ib.step = o.step;
    ib.totalSteps = o.total;
    ib.prompt = o.prompt;
    ib.placeholder = o.placeholder;
    ib.value = o.value;
    ib.valueSelection = [0, o.value.length];
    ib.ignoreFocusOut = true;
    ib.buttons = o.back ? [vscode.QuickInputButtons.Back] : [];
    let done = false;
    const finish = (r: StepResult<string>): void => {
      if (done) return;
      done = true;
      resolve(r);
      ib.dispose();
    };
    const check = (text: string): boolean => {
      const msg = o.validate(text);
      ib.validationMessage = msg ? { message: msg, severity: vscode.InputBoxValidationSeverity.Error } : undefined;
      return !msg;
    };
    ib.onDidChangeValue(check);
    ib.onDidTriggerButton((b) => {
      if (b === vscode.QuickInputButtons.Back) finish('back');
    });
    ib.onDidAccept(() => {
      if (check(ib.value)) finish({ value: ib.value.trim() });
    });
    ib.onDidHide(() => finish(undefined));
    if (o.value) check(o.value);
    ib.show();
  });
}

/**
 * The URI a load command works on: the one it was given (the Explorer's context menu), else the
 * one picked in an open dialog; undefined when the dialog is cancelled.
 */
export async function uriArgOrPick(arg: unknown, o: { folders: boolean; openLabel: string; title: string }): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: o.folders,
    canSelectFiles: !o.folders,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    openLabel: o.openLabel,
    title: o.title,
  });
  return picked?.[0];
}
