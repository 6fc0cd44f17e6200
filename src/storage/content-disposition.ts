/**
 * `Content-Disposition: attachment` carrying a file's original name (RFC 6266): an
 * ASCII `filename` for old clients and the exact name as `filename*=UTF-8''…`
 * (RFC 8187 percent-encoding). The value itself is plain ASCII, so it can be a signed
 * header of a presigned URL.
 */

// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
function encodeExtValue(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Printable ASCII without the quoted-string specials; everything else becomes `_`. */
function asciiFallback(filename: string): string {
  return filename.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^\x20-\x7e]|["\\%]/g, "_");
}

export function attachmentDisposition(filename: string): string {
  return `attachment; filename="${asciiFallback(filename)}"; filename*=UTF-8''${encodeExtValue(filename)}`;
}
