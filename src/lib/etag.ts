import { ApiError } from "./errors.ts";

/**
 * Strong ETags carry the row's version (its exact updated_at text, or a version
 * counter), so an `If-Match` can be checked inside the UPDATE itself:
 * `… where updated_at = <version from If-Match>` — stale means no row matched.
 */
export function etagOf(version: string | number): string {
  const bytes = new TextEncoder().encode(String(version));
  return `"${btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}"`;
}

/** RFC 9110 If-Match: `*` or a comma-separated list of (weak or strong) entity-tags. */
const ENTITY_TAG_LIST = /^\s*(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"\s*(?:,\s*(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"\s*)*$/;
const OUR_TAG = /^\s*(?:W\/)?"([A-Za-z0-9_-]+)"\s*$/;

/**
 * The version an `If-Match` header asks for: null when absent or `*` (no precondition).
 * A header that is not an entity-tag list at all is malformed: 422. A well-formed one
 * that names no version we issued (another server's tag, a list) can never match: 412.
 */
export function versionFromIfMatch(header: string | undefined): string | null {
  if (header === undefined || header.trim() === "*") return null;
  if (!ENTITY_TAG_LIST.test(header)) {
    throw new ApiError("validation_failed", "If-Match must be `*` or an ETag this API issued, in double quotes.", {
      errors: [{ path: "header.if-match", message: "not an entity-tag" }],
    });
  }
  const match = OUR_TAG.exec(header);
  if (match) {
    try {
      const binary = atob(match[1]!.replaceAll("-", "+").replaceAll("_", "/"));
      return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    } catch {
      // reported below
    }
  }
  throw staleVersion();
}

export function staleVersion(): ApiError {
  return new ApiError("precondition_failed", "The resource changed since you read it (If-Match is stale); fetch it again.");
}
