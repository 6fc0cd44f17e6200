/**
 * `npm run keys:generate`: prints a JWT_SIGNING_KEYS value with one fresh ES256 key.
 * To rotate, put the new key first and keep the old one after it until every access
 * token it signed has expired (ACCESS_TOKEN_TTL_SECONDS), then drop it.
 */
import { generateSigningKey } from "./lib/signing-keys.ts";

console.log(JSON.stringify([await generateSigningKey()]));
