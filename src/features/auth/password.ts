import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * scrypt at OWASP's 16 MiB setting (N=2^14, r=8, p=5): the strongest of the cheat sheet's
 * equivalent configurations that fits a Worker's 128 MB isolate with room to spare.
 * The parameters travel with every hash so they can be raised later; `needsRehash`
 * tells the login flow when a stored hash is weaker than the current policy.
 */
export const PASSWORD_POLICY = { logN: 14, r: 8, p: 5, keyLength: 32, saltLength: 16 } as const;

type ScryptParams = { logN: number; r: number; p: number };

function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFKC"),
      salt,
      keyLength,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(PASSWORD_POLICY.saltLength);
  const key = await derive(password, salt, PASSWORD_POLICY, PASSWORD_POLICY.keyLength);
  const { logN, r, p } = PASSWORD_POLICY;
  return `scrypt$ln=${logN},r=${r},p=${p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

function parseHash(encoded: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const match = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!match) return null;
  const [, logN, r, p, salt, key] = match;
  return {
    params: { logN: Number(logN), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt!, "base64"),
    key: Buffer.from(key!, "base64"),
  };
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(candidate, parsed.key);
}

export function needsRehash(encoded: string): boolean {
  const parsed = parseHash(encoded);
  if (!parsed) return true;
  const { logN, r, p } = parsed.params;
  return logN < PASSWORD_POLICY.logN || r < PASSWORD_POLICY.r || p < PASSWORD_POLICY.p;
}
