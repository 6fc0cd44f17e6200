/**
 * The client's filename is a label, never a path: it is kept for display and for the
 * download's Content-Disposition, and never appears in an object key.
 */

// C0/C1 controls and DEL; bidi overrides and isolates (a right-to-left override makes
// "evil<RLO>fdp.exe" display as "evilexe.pdf").
// Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The last path segment, without control or bidi-override characters, whitespace collapsed; "" when nothing usable is left. */
export function sanitizeFilename(raw: string): string {
  const base = raw.normalize("NFC").split(/[/\\]/).filter((segment) => segment.trim() !== "").at(-1) ?? "";
  const cleaned = base.replace(UNSAFE, "").replace(/\s+/g, " ").trim();
  return cleaned === "." || cleaned === ".." ? "" : cleaned;
}
