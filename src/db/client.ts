import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../env.ts";
import { meteredFetch } from "./round-trips.ts";

export type Database = ReturnType<typeof createDatabase>;

/**
 * Requests use Neon's HTTP protocol: one round trip per query or per batch, no
 * connection set-up, which is what an edge request wants. Locally the driver is
 * pointed at the dev gateway (scripts/lib/neon-gateway.ts); in production
 * NEON_GATEWAY_URL is unset and it talks to Neon itself.
 */
function configureDriver(gatewayUrl: string | undefined) {
  neonConfig.fetchFunction = meteredFetch;
  if (!gatewayUrl) return;
  const gateway = new URL(gatewayUrl);
  neonConfig.fetchEndpoint = `${gateway.origin}/sql`;
  neonConfig.wsProxy = (host, port) => `${gateway.host}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = gateway.protocol === "https:";
  neonConfig.pipelineConnect = false;
}

/**
 * Without drizzle's relational `schema`: nothing here uses `db.query.*`, and with it
 * every handle (one per request) walked every table and relation, and the isolate
 * evaluated the whole of src/db/schema before its first answer. Queries import the
 * tables they use.
 */
export function createDatabase(config: Pick<Config, "DATABASE_URL" | "NEON_GATEWAY_URL">) {
  configureDriver(config.NEON_GATEWAY_URL);
  return drizzle({ client: neon(config.DATABASE_URL) });
}
