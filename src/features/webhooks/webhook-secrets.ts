/**
 * Signing secrets and signatures (Standard Webhooks, https://www.standardwebhooks.com).
 *
 * The secret is `whsec_` + base64 of 24 random bytes; signatures are HMAC-SHA256 keyed
 * with those raw bytes. So the server must be able to recover the secret: it cannot be
 * hashed like an API token (a hash verifies a presented secret, but never signs). It is
 * stored encrypted with AES-GCM under WEBHOOK_SECRET_KEY, a Worker secret the database
 * never sees: a database leak alone does not let anyone forge deliveries.
 */
import { ApiError } from "../../lib/errors.ts";

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 24;
const IV_BYTES = 12;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

export function generateWebhookSecret(): { secret: string; prefix: string } {
  const secret = SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
  return { secret, prefix: secret.slice(0, SECRET_PREFIX.length + 4) };
}

const keys = new Map<string, Promise<CryptoKey>>();

function encryptionKey(keyBase64: string | undefined): Promise<CryptoKey> {
  if (!keyBase64) throw new ApiError("service_unavailable", "Webhooks are not configured on this deployment (WEBHOOK_SECRET_KEY is unset).");
  let key = keys.get(keyBase64);
  if (!key) {
    key = crypto.subtle.importKey("raw", fromBase64(keyBase64), "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(keyBase64, key);
  }
  return key;
}

/** `<base64 iv>.<base64 ciphertext+tag>`. */
export async function encryptSecret(secret: string, keyBase64: string | undefined): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await encryptionKey(keyBase64), new TextEncoder().encode(secret));
  return `${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

export async function decryptSecret(stored: string, keyBase64: string | undefined): Promise<string> {
  const [iv, sealed] = stored.split(".");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv!) }, await encryptionKey(keyBase64), fromBase64(sealed!));
  return new TextDecoder().decode(plain);
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's bytes after `whsec_`. */
export async function signPayload(secret: string, messageId: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", fromBase64(secret.slice(SECRET_PREFIX.length)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${messageId}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}
