/**
 * API tokens at no round trip of their own. An API token is an opaque secret, so whose
 * it is and what its owner may do live only in the database; looking it up before every
 * request would cost a round trip on top of the request's own. Instead each isolate
 * remembers what the lookup found, keyed by the token's SHA-256 (never the secret), and
 * every database call of the request still carries the credential guard
 * (src/db/credential-guard.ts): a revoked or expired token, or a deleted or deactivated
 * owner, is refused at once as before. A principal gone stale (the owner's roles changed,
 * which moves credentials_version) makes the guard raise GS409; the token is forgotten
 * and the request runs again from a fresh lookup (src/features/api-tokens/stale-principal.ts).
 */
import type { Principal } from "../auth/principal.ts";

// Bounds memory and how long an entry nobody uses lingers; correctness never depends on it.
const TTL_MS = 5 * 60_000;
const MAX_ENTRIES = 1_000;

const principals = new Map<string, { principal: Principal; expires: number }>();

export function cachedPrincipal(tokenHash: string): Principal | null {
  const entry = principals.get(tokenHash);
  if (!entry) return null;
  if (entry.expires <= Date.now()) {
    principals.delete(tokenHash);
    return null;
  }
  return entry.principal;
}

export function rememberPrincipal(tokenHash: string, principal: Principal): void {
  if (principals.size >= MAX_ENTRIES) principals.delete(principals.keys().next().value!);
  principals.set(tokenHash, { principal, expires: Date.now() + TTL_MS });
}

export function forgetApiToken(tokenId: number): void {
  for (const [hash, entry] of principals) {
    if (entry.principal.credential.kind === "api_token" && entry.principal.credential.token_id === tokenId) principals.delete(hash);
  }
}
