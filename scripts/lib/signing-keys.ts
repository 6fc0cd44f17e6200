import { exportJWK, generateKeyPair } from "jose";

/** A fresh ES256 signing key as the JWT_SIGNING_KEYS secret holds it. */
export async function generateSigningKey(kid = `key-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`) {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "ES256", use: "sig" };
}
