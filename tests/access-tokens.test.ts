import { env } from "cloudflare:test";
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const signingKey = () => JSON.parse(env.JWT_SIGNING_KEYS)[0] as JWK & { kid: string };

let account: Account;
beforeAll(async () => {
  account = await registerClient();
});

type TokenOptions = {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: CryptoKey;
  expiresIn?: string;
  notBefore?: string;
  issuer?: string;
  audience?: string;
};

async function token(options: TokenOptions = {}) {
  const jwk = signingKey();
  const key = options.key ?? ((await importJWK(jwk, "ES256")) as CryptoKey);
  const jwt = new SignJWT({ org_id: account.org_id, org_kind: "client", roles: ["client_admin"], permissions: ["project:read"], ver: 0, ...options.claims })
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "at+jwt", ...options.header })
    .setSubject(String(account.user_id))
    .setIssuer(options.issuer ?? env.JWT_ISSUER)
    .setAudience(options.audience ?? env.JWT_AUDIENCE)
    .setIssuedAt()
    .setNotBefore(options.notBefore ?? "0s")
    .setExpirationTime(options.expiresIn ?? "5m");
  return jwt.sign(key);
}

async function expectRejected(bearer: string, detail: RegExp) {
  const response = await request("GET", "/api/v1/auth/me", { token: bearer });
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.body.detail).toMatch(detail);
  expect(response.roundTrips).toBe(0);
}

describe("access token verification", () => {
  it("accepts a well-formed token signed by the current key", async () => {
    const response = await request("GET", "/api/v1/auth/me", { token: await token() });
    expect(response.status).toBe(200);
  });

  it("rejects a token without the credentials version it was issued under", async () => {
    await expectRejected(await token({ claims: { ver: undefined } }), /invalid/);
  });

  it("rejects an expired token", async () => {
    await expectRejected(await token({ expiresIn: "-10s" }), /expired/);
  });

  it("rejects a token it accepted before, once the token has expired", async () => {
    const shortLived = await token({ expiresIn: "2s" });
    expect((await request("GET", "/api/v1/auth/me", { token: shortLived })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, decodeJwt(shortLived).exp! * 1000 - Date.now() + 50));
    await expectRejected(shortLived, /expired/);
  });

  it("rejects a token that is not yet valid", async () => {
    await expectRejected(await token({ notBefore: "10m" }), /invalid/);
  });

  it("rejects a token for another audience", async () => {
    await expectRejected(await token({ audience: "someone-else" }), /invalid/);
  });

  it("rejects a token from another issuer", async () => {
    await expectRejected(await token({ issuer: "https://evil.example" }), /invalid/);
  });

  it("rejects a tampered payload", async () => {
    const [header, , signature] = (await token()).split(".");
    const forged = btoa(JSON.stringify({ sub: String(account.user_id), org_id: 1, org_kind: "platform", roles: ["admin"], permissions: [] }))
      .replaceAll("=", "")
      .replaceAll("+", "-")
      .replaceAll("/", "_");
    await expectRejected(`${header}.${forged}.${signature}`, /invalid/);
  });

  it("rejects alg: none", async () => {
    const encode = (value: unknown) => btoa(JSON.stringify(value)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: "none", typ: "at+jwt", kid: signingKey().kid })}.${encode({
      sub: String(account.user_id), iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, exp: now + 300, nbf: now, org_id: account.org_id,
    })}.`;
    await expectRejected(unsigned, /invalid/);
  });

  it("rejects a token signed by a key outside the key set", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    await expectRejected(await token({ key: privateKey, header: { kid: "rogue-key" } }), /unknown key/);
    const sameKid = await exportJWK(privateKey);
    await expectRejected(await token({ key: (await importJWK(sameKid, "ES256")) as CryptoKey }), /invalid/);
  });
});
