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

/**
 * The version an `If-Match` header asks for: null when absent or `*` (no precondition).
 * A header that names no version we issued can never match: 412 at once.
 */
export function versionFromIfMatch(header: string | undefined): string | null {
  if (header === undefined || header.trim() === "*") return null;
  const match = /^\s*(?:W\/)?"([A-Za-z0-9_-]+)"\s*$/.exec(header);
  if (match) {
    try {
      const binary = atob(match[1]!.replaceAll("-", "+").replaceAll("_", "/"));
      return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    } catch {
      // reported below
    }
  }
  throw new ApiError("precondition_failed", "If-Match does not name a current version of this resource.");
}

export function staleVersion(): ApiError {
  return new ApiError("precondition_failed", "The resource changed since you read it (If-Match is stale); fetch it again.");
}
