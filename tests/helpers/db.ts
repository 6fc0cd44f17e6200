import { env } from "cloudflare:test";
import { createDatabase } from "../../src/db/client.ts";
import { loadConfig } from "../../src/env.ts";

export { sql } from "drizzle-orm";

/** The test run's database (fresh and migrated by the global setup), through the production driver path. */
export function testDb() {
  return createDatabase(loadConfig(env));
}
