/**
 * Which Postgres the dev tools talk to: `DATABASE_URL` when set, otherwise the embedded
 * PGlite whose data lives in the git-ignored `.data/` folder. While `npm run dev` holds
 * that folder open it records its address in `.data/dev-stack.json`, and the other
 * tools (db:migrate, db:seed) connect through it instead of opening the files twice.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.ts";
import { generateSigningKey } from "./signing-keys.ts";

export const DATA_DIR = resolve(import.meta.dirname, "../../.data");
export const EMBEDDED_DATA_DIR = resolve(DATA_DIR, "pglite");
const STACK_FILE = resolve(DATA_DIR, "dev-stack.json");

type DevStack = { pid: number; databaseUrl: string };

function runningDevStack(): DevStack | null {
  if (!existsSync(STACK_FILE)) return null;
  const stack = JSON.parse(readFileSync(STACK_FILE, "utf8")) as DevStack;
  try {
    process.kill(stack.pid, 0);
    return stack;
  } catch {
    return null;
  }
}

export function recordDevStack(databaseUrl: string): void {
  writeFileSync(STACK_FILE, JSON.stringify({ pid: process.pid, databaseUrl } satisfies DevStack));
}

export function forgetDevStack(): void {
  rmSync(STACK_FILE, { force: true });
}

/** Opens the embedded database on `.data/` unless `DATABASE_URL` names a server. */
export async function openLocalDatabase(): Promise<{ databaseUrl: string; embedded: EmbeddedPostgres | null }> {
  if (process.env.DATABASE_URL) return { databaseUrl: process.env.DATABASE_URL, embedded: null };
  const stack = runningDevStack();
  if (stack) return { databaseUrl: stack.databaseUrl, embedded: null };
  const embedded = await startEmbeddedPostgres({ dataDir: EMBEDDED_DATA_DIR });
  return { databaseUrl: embedded.url, embedded };
}

export async function withDatabase<T>(work: (databaseUrl: string) => Promise<T>): Promise<T> {
  const { databaseUrl, embedded } = await openLocalDatabase();
  try {
    return await work(databaseUrl);
  } finally {
    await embedded?.stop();
  }
}

/** The dev stack's JWT signing keys: made once, kept in .data/ so sessions survive restarts. */
export async function devSigningKeys(): Promise<string> {
  mkdirSync(DATA_DIR, { recursive: true });
  const file = resolve(DATA_DIR, "dev-signing-keys.json");
  if (!existsSync(file)) writeFileSync(file, JSON.stringify([await generateSigningKey("dev-key-1")]));
  return readFileSync(file, "utf8");
}
