/**
 * Postgres without a server to install: PGlite (Postgres compiled to WASM) served over
 * the wire protocol by pglite-socket, so every client (pg, the local Neon gateway,
 * drizzle-kit) talks to it as to any PostgreSQL.
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export type EmbeddedPostgres = { url: string; stop(): Promise<void> };

/**
 * PGlite is a single session, and pglite-socket feeds the wire messages of all its
 * connections through one queue, keeping a connection's messages together only inside
 * a transaction. Two connections running extended-protocol queries at once therefore
 * interleave Parse/Bind/Execute: "portal \"\" cannot be run", or a Bind landing on the
 * other connection's statement. Whoever pools connections to an embedded instance
 * (the Neon gateway) must use one at a time; this is how it recognises one.
 */
const embeddedAddresses = new Set<string>();

/** Marks a connection string as an embedded instance, e.g. one served by another process (the bench's). */
export function registerEmbeddedPostgres(connectionString: string): void {
  embeddedAddresses.add(new URL(connectionString).host);
}

export function isEmbeddedPostgres(connectionString: string): boolean {
  try {
    return embeddedAddresses.has(new URL(connectionString).host);
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(options: { dataDir?: string; port?: number } = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: options.port ?? 0, maxConnections: 64 });
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  registerEmbeddedPostgres(url);
  return {
    url,
    async stop() {
      embeddedAddresses.delete(`127.0.0.1:${port}`);
      await server.stop();
      await db.close();
    },
  };
}
