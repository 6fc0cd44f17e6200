/**
 * Queries the bench makes while the Worker is working (progress polls, "is the database
 * idle yet"), sent the way the Worker sends its own: Neon's HTTP protocol to the local
 * gateway. On the embedded PGlite a second connection of its own is not safe then: the
 * socket server interleaves the protocol messages of concurrent connections, which is
 * why the gateway keeps a single one and queues every query behind it.
 */
import { neon, neonConfig } from "@neondatabase/serverless";

// Rows as the driver parses them: what each query selects is known at its call site.
export type Queryable = { query(text: string, params?: unknown[]): Promise<{ rows: any[] }> };

export function gatewayQueries(gatewayUrl: string, databaseUrl: string): Queryable {
  neonConfig.fetchEndpoint = `${new URL(gatewayUrl).origin}/sql`;
  const sql = neon(databaseUrl);
  return { query: async (text, params = []) => ({ rows: await sql.query(text, params) }) };
}
