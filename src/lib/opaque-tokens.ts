/**
 * Opaque bearer secrets (API tokens, refresh tokens): 256 random bits behind a
 * recognisable prefix, so a leaked one is easy to spot in logs and code scanners.
 * Only the SHA-256 of the whole token is stored; with this much entropy a fast hash
 * is the right one.
 */
export const TOKEN_PREFIXES = { apiToken: "gsk_", refreshToken: "gsr_" } as const;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function generateToken(prefix: string): Promise<{ token: string; hash: string; display_prefix: string }> {
  const token = `${prefix}${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { token, hash: await hashToken(token), display_prefix: token.slice(0, prefix.length + 6) };
}
