/**
 * Escaping for text that came from a dump. Dumps are untrusted: a rule's `--comment` can hold
 * `<img src=x onerror=…>`, and it must end up on screen as those characters, never as markup.
 */

/** Escapes text for HTML and XML element content and double- or single-quoted attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for Markdown prose and table cells: Markdown's punctuation gets a backslash and
 * `<`, `>`, `&` become entities, so a renderer shows the text as written and never as HTML.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ');
}
