/**
 * Checks for the Trace Packet wizard's fields, run on every keystroke. Each returns a message a
 * person understands, or undefined when the text is fine. No `vscode` here: unit-tested in mocha.
 */

/** The parts of a dotted IPv4 address, or undefined. */
export function parseIpv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

/** An IPv4 address (meshtrace's simulator follows IPv4). */
export function checkAddress(text: string): string | undefined {
  const t = text.trim();
  if (!t) return 'enter an IPv4 address, e.g. 192.168.200.10';
  if (t.includes(':')) return 'meshtrace traces IPv4 packets: enter a dotted address like 10.0.0.5 (no port here)';
  if (t.includes('/')) return 'enter one address, not a prefix';
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (!m) return `"${t}" is not an IPv4 address: expected four numbers 0-255 separated by dots`;
  const bad = m.slice(1).find((p) => Number(p) > 255);
  if (bad !== undefined) return `${bad} is over 255: each part of an IPv4 address is 0-255`;
  return undefined;
}

/** A port: 1-65535, or empty when `optional`. */
export function checkPort(text: string, optional: boolean): string | undefined {
  const t = text.trim();
  if (!t) return optional ? undefined : 'enter a port, 1-65535';
  if (!/^\d+$/.test(t)) return `"${t}" is not a port: expected a number 1-65535`;
  const n = Number(t);
  if (n < 1 || n > 65535) return `${n} is out of range: ports are 1-65535`;
  return undefined;
}

/** Node and namespace names for pasted dumps (folder-like names: no slash, not empty). */
export function checkName(text: string, what: string): string | undefined {
  const t = text.trim();
  if (!t) return `enter a ${what} name`;
  if (/[/\\]/.test(t)) return `a ${what} name cannot hold a slash`;
  if (t.length > 120) return `a ${what} name of ${t.length} characters is too long`;
  return undefined;
}
