/**
 * `npm run db:seed`: applies pending migrations, then loads the demo data into
 * DATABASE_URL (or the embedded database in .data/). Running it again changes nothing.
 * `seedDatabase` is also what `npm run dev` calls after migrating.
 */
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../src/db/schema/index.ts";
import { DEFAULT_SEED_PASSWORD, seedDemoData } from "../src/db/seed/seed.ts";
import { withDatabase } from "./lib/local-database.ts";
import { migrateDatabase } from "./lib/migrate.ts";

/** Seeds and returns one printable line per demo login. */
export async function seedDatabase(databaseUrl: string, password: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { logins } = await seedDemoData(drizzle({ client, schema }), { password });
    const width = Math.max(...logins.map((login) => login.email.length));
    return logins.map((login) => `${login.email.padEnd(width)}  ${login.role} · ${login.organization}`);
  } finally {
    await client.end();
  }
}

if (import.meta.main) {
  const fromEnv = process.env.SEED_PASSWORD;
  const password = fromEnv || DEFAULT_SEED_PASSWORD;
  const lines = await withDatabase(async (databaseUrl) => {
    await migrateDatabase(databaseUrl);
    return seedDatabase(databaseUrl, password);
  });
  console.log(`Demo data seeded. Logins (password: ${fromEnv ? "from SEED_PASSWORD" : password}):`);
  for (const line of lines) console.log(`  ${line}`);
}
