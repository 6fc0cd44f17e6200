import { errors, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from "jose";
import type { Config } from "../../env.ts";
import type { PermissionName, RoleName } from "../../db/seed/catalog.ts";
import type { OrganizationKind, Principal } from "./principal.ts";

const ALGORITHM = "ES256";

type KeyRing = { signing: { kid: string; key: CryptoKey }; verifying: Map<string, CryptoKey> };

// Importing a JWK is costly next to verifying with it: once per isolate and key set.
const keyRings = new WeakMap<object, Promise<KeyRing>>();

async function keyRing(keys: Config["JWT_SIGNING_KEYS"]): Promise<KeyRing> {
  let ring = keyRings.get(keys);
  if (!ring) {
    ring = (async () => {
      const imported = await Promise.all(
        keys.map(async (jwk) => {
          const { d: _private, ...publicJwk } = jwk;
          return {
            kid: jwk.kid,
            privateKey: (await importJWK(jwk as JWK, ALGORITHM)) as CryptoKey,
            publicKey: (await importJWK(publicJwk as JWK, ALGORITHM)) as CryptoKey,
          };
        }),
      );
      const first = imported[0]!;
      return {
        signing: { kid: first.kid, key: first.privateKey },
        verifying: new Map(imported.map((entry) => [entry.kid, entry.publicKey])),
      };
    })();
    keyRings.set(keys, ring);
  }
  return ring;
}

export type AccessTokenSubject = {
  user_id: number;
  org_id: number;
  org_kind: OrganizationKind;
  roles: readonly RoleName[];
  permissions: readonly PermissionName[];
  credentials_version: number;
  /** The refresh-token family the access token was issued from (null for other credentials). */
  session_id: string | null;
};

export async function signAccessToken(config: Config, subject: AccessTokenSubject): Promise<string> {
  const { signing } = await keyRing(config.JWT_SIGNING_KEYS);
  return new SignJWT({
    org_id: subject.org_id,
    org_kind: subject.org_kind,
    roles: subject.roles,
    permissions: subject.permissions,
    // Revocation: the guard compares this with the user's current credentials_version.
    ver: subject.credentials_version,
    // A password change ends every session but this one.
    ...(subject.session_id ? { sid: subject.session_id } : {}),
  })
    .setProtectedHeader({ alg: ALGORITHM, kid: signing.kid, typ: "at+jwt" })
    .setSubject(String(subject.user_id))
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setNotBefore("0s")
    .setExpirationTime(`${config.ACCESS_TOKEN_TTL_SECONDS}s`)
    .setJti(crypto.randomUUID())
    .sign(signing.key);
}

export class InvalidAccessToken extends Error {}

/**
 * Tokens this isolate has verified, until they expire: a caller's next request skips the
 * signature check (a tenth of a request's JavaScript). Verifying the same bytes with the
 * same keys gives the same answer, so only expiry can change it; revocation is the
 * database's check on every request (db/credential-guard.ts), not this one's. Keyed per
 * key set, so a rotation starts afresh; the oldest entry goes when it is full.
 */
const verifiedTokens = new WeakMap<object, Map<string, { principal: Principal; expiresAtMs: number }>>();
const VERIFIED_TOKENS_KEPT = 1000;

function rememberVerified(keys: object, token: string, principal: Principal, expiresAtMs: number) {
  let verified = verifiedTokens.get(keys);
  if (!verified) verifiedTokens.set(keys, (verified = new Map()));
  if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
  verified.set(token, { principal, expiresAtMs });
}

function alreadyVerified(keys: object, token: string): Principal | null {
  const verified = verifiedTokens.get(keys);
  const entry = verified?.get(token);
  if (!entry) return null;
  if (Date.now() < entry.expiresAtMs) return entry.principal;
  verified!.delete(token);
  return null;
}

/**
 * Verifies an access token with no database round trip: signature by a key of the
 * ring (chosen by `kid`, algorithm pinned to ES256, so `alg: none` and HMAC tricks
 * fail), issuer, audience, expiry and not-before.
 */
export async function verifyAccessToken(config: Config, token: string): Promise<Principal> {
  const known = alreadyVerified(config.JWT_SIGNING_KEYS, token);
  if (known) return known;
  const { verifying } = await keyRing(config.JWT_SIGNING_KEYS);
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? verifying.get(header.kid) : undefined;
        if (!key) throw new InvalidAccessToken("the token was signed by an unknown key");
        return key;
      },
      { algorithms: [ALGORITHM], issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, typ: "at+jwt", requiredClaims: ["sub", "exp", "nbf", "ver"] },
    );
    const claims = payload as typeof payload & { org_id: number; org_kind: OrganizationKind; roles: RoleName[]; permissions: PermissionName[]; ver: number; sid?: string };
    const principal: Principal = {
      user_id: Number(claims.sub),
      org_id: claims.org_id,
      org_kind: claims.org_kind,
      roles: claims.roles,
      permissions: new Set(claims.permissions),
      credentials_version: claims.ver,
      credential: { kind: "access_token", session_id: claims.sid ?? null },
    };
    rememberVerified(config.JWT_SIGNING_KEYS, token, principal, claims.exp! * 1000);
    return principal;
  } catch (error) {
    if (error instanceof InvalidAccessToken) throw error;
    if (error instanceof errors.JWTExpired) throw new InvalidAccessToken("the access token has expired");
    if (error instanceof errors.JOSEError) throw new InvalidAccessToken("the access token is invalid");
    throw error;
  }
}
