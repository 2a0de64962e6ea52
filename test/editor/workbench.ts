/**
 * Playwright helpers that use the workbench the way a person does: F1 and a typed command title,
 * typed answers in quick inputs, clicks on tree rows, and reading what the views and the
 * webview show. No sleeps: every wait polls for what should appear, with a deadline.
 */
import type { Frame, Locator, Page } from 'playwright-core';
import { until } from './harness';

/** The visible quick-input widget. */
export function quickInput(page: Page): Locator {
  return page.locator('.quick-input-widget');
}

/** Waits for the quick input to show `text` (in its placeholder, prompt, title or items). */
export async function waitQuickInput(page: Page, text: string, timeoutMs = 20000): Promise<void> {
  await until(`the quick input to show "${text}"`, async () => {
    const w = quickInput(page);
    if (!(await w.isVisible())) return undefined;
    const placeholder = (await w.locator('input').first().getAttribute('placeholder')) ?? '';
    const visible = await w.innerText();
    return placeholder.includes(text) || visible.includes(text) ? true : undefined;
  }, timeoutMs);
}

/** Runs a command from the palette: F1, type its title, Enter (tried again if the typing got lost). */
export async function runCommand(page: Page, title: string): Promise<void> {
  let seen = '';
  for (let attempt = 1; ; attempt++) {
    if (await quickInput(page).isVisible()) await page.keyboard.press('Escape');
    await until('the quick input to close', async () => (!(await quickInput(page).isVisible()) ? true : undefined), 5000);
    // Keys typed while a webview (an iframe) has focus never reach the workbench: take focus back.
    await page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      if (a && a.tagName === 'IFRAME') a.blur();
    });
    await page.keyboard.press('F1');
    const input = quickInput(page).locator('input').first();
    await until('the command palette', async () => ((await input.isVisible()) && (await input.evaluate((e) => e === document.activeElement)) && (await input.inputValue()) === '>' ? true : undefined), 15000);
    await page.keyboard.type(title, { delay: 15 });
    // Pick the row that is the command typed, not a fuzzy neighbour ranked above it.
    const want = title.toLowerCase();
    const starts = (t: string): boolean => t.toLowerCase().startsWith(want) && !/^[a-z]/i.test(t.slice(want.length));
    const index = await until(`the palette to offer "${title}"`, async () => {
      if ((await input.inputValue()) !== `>${title}`) return undefined;
      const rows = await quickInput(page).locator('.monaco-list-row').evaluateAll((els) => els.map((e) => ({ i: Number(e.getAttribute('data-index')), t: (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim() })));
      seen = rows.map((r) => r.t).join(' | ');
      const hit = rows.filter((r) => starts(r.t)).sort((a, b) => a.i - b.i)[0];
      return hit ? hit.i : undefined;
    }, 10000).catch(() => undefined);
    if (index !== undefined) {
      for (let k = 0; k < index; k++) await page.keyboard.press('ArrowDown');
      const focused = (await quickInput(page).locator('.monaco-list-row.focused').first().innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
      if (starts(focused)) break;
      seen = `focused: ${focused}`;
    }
    if (attempt === 3) throw new Error(`the palette did not offer "${title}"; rows: "${seen}", typed: "${await input.inputValue().catch(() => '')}"`);
  }
  await page.keyboard.press('Enter');
}

/** Answers a quick-input step: waits for its prompt, types (replacing any default) and presses Enter. */
export async function answer(page: Page, prompt: string, typed: string): Promise<void> {
  await waitQuickInput(page, prompt);
  const input = quickInput(page).locator('input').first();
  await input.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  if (typed) await page.keyboard.type(typed, { delay: 15 });
  // Wait for the filter (or validation) to settle on what was typed before Enter.
  await until(`the quick input to hold "${typed}"`, async () => ((await input.inputValue()) === typed ? true : undefined), 5000);
  await page.keyboard.press('Enter');
}

/** The pane of a view (by its title in the side bar). */
export function pane(page: Page, title: string): Locator {
  return page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`, 'i') }) });
}

/** The rows a tree view shows now, as their accessible labels (label and description). */
export async function rows(page: Page, title: string): Promise<string[]> {
  return pane(page, title).locator('.monaco-list-row').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}

/**
 * Waits until a tree view shows a row containing `text`, scrolling the view with the mouse wheel
 * as a person would (the list renders only the rows in view), and returns that row.
 */
export async function row(page: Page, title: string, text: string, timeoutMs = 20000): Promise<Locator> {
  const p = pane(page, title);
  const r = p.locator('.monaco-list-row', { hasText: text }).first();
  let direction = 1;
  let moves = 0;
  await until(`a "${text}" row in ${title}`, async () => {
    if (await r.isVisible()) return true;
    const list = p.locator('.monaco-list').first();
    const box = await list.boundingBox({ timeout: 1000 }).catch(() => null);
    if (!box) return undefined;
    await page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 40));
    await page.mouse.wheel(0, direction * 120);
    if (++moves % 40 === 0) direction = -direction;
    return undefined;
  }, timeoutMs, 60);
  return r;
}

/**
 * Clicks a row's twistie. A small pane can leave the row under its pane header or a sticky-scroll
 * line; then the row is scrolled to the middle of its list and clicked again.
 */
export async function clickTwistie(r: Locator): Promise<void> {
  const t = r.locator('.monaco-tl-twistie');
  try {
    await t.click({ timeout: 5000 });
  } catch {
    await r.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await t.click({ timeout: 10000 });
  }
}

/** Expands a collapsed row through its twistie (rows with a command would run it on click). */
export async function expand(page: Page, title: string, text: string): Promise<void> {
  const r = await row(page, title, text);
  if ((await r.getAttribute('aria-expanded')) === 'false') await clickTwistie(r);
  await until(`"${text}" to expand`, async () => ((await r.getAttribute('aria-expanded')) === 'true' ? true : undefined), 10000);
}

/** The webview frame that holds the path diagram (webviews live in nested iframes). */
export async function diagramFrame(page: Page, timeoutMs = 30000): Promise<Frame> {
  return until('the path diagram webview', async () => {
    for (const f of page.frames()) {
      const has = await f.evaluate(() => !!document.getElementById('canvas') && !!document.getElementById('tabs')).catch(() => false);
      if (has) return f;
    }
    return undefined;
  }, timeoutMs, 300);
}

/** The texts of every element matching `selector` in a frame (SVG tooltips left out). */
export function texts(frame: Frame, selector: string): Promise<string[]> {
  return frame.evaluate(
    (sel) =>
      Array.from(document.querySelectorAll(sel)).map((e) =>
        Array.from(e.childNodes)
          .filter((n) => n.nodeName.toLowerCase() !== 'title')
          .map((n) => n.textContent ?? '')
          .join(''),
      ),
    selector,
  );
}

/** The title of the active editor tab. */
export async function activeTab(page: Page): Promise<string> {
  return (await page.locator('.tabs-container .tab.active').first().getAttribute('aria-label').catch(() => null)) ?? '';
}

/**
 * The file and cursor line of the first editor group, read from its active tab and the line
 * number the editor marks as the cursor's (works while focus is elsewhere, e.g. in the webview).
 */
export async function revealedLine(page: Page): Promise<{ tab: string; line: number }> {
  const group = page.locator('.editor-group-container').first();
  const tab = (await group.locator('.tab.active').first().getAttribute('aria-label', { timeout: 1000 }).catch(() => null)) ?? '';
  const line = Number((await group.locator('.line-numbers.active-line-number').first().innerText({ timeout: 1000 }).catch(() => '')).trim());
  return { tab, line };
}

/** Waits until the first editor group shows `file` with the cursor on `line`. */
export async function waitRevealed(page: Page, file: string, line: number): Promise<void> {
  let last = { tab: '', line: 0 };
  await until(`${file}:${line} revealed in the editor`, async () => {
    last = await revealedLine(page);
    return last.tab.includes(file) && last.line === line ? true : undefined;
  }, 20000).catch((e: Error) => {
    throw new Error(`${e.message}; editor shows ${last.tab}:${last.line}`);
  });
}

/** The cursor position the status bar shows (`Ln 6, Col 1`). */
export async function cursorPosition(page: Page): Promise<string> {
  return (await page.locator('.statusbar-item[id="status.editor.selection"]').first().innerText().catch(() => '')).trim();
}

/** Opens a row's context menu and picks an entry with the keyboard (checking it is focused first). */
export async function contextMenu(page: Page, target: Locator, entry: string): Promise<void> {
  await target.click({ button: 'right' });
  await page.locator('.context-view .action-item', { hasText: entry }).first().waitFor({ timeout: 10000 });
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('ArrowDown');
    const focused = await page.locator('.context-view .action-item.focused').innerText().catch(() => '');
    if (focused.includes(entry)) {
      await page.keyboard.press('Enter');
      return;
    }
  }
  throw new Error(`no "${entry}" in the context menu`);
}
