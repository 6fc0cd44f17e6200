/**
 * Applies the drizzle-kit migrations in drizzle/ to a database, then the reference data
 * (platform organization, roles, permissions) every deployment needs. Idempotent: drizzle
 * records applied migrations in drizzle.__drizzle_migrations and skips them, and a
 * session advisory lock serialises concurrent runners (dev server and a test run
 * starting together) so neither sees a half-applied migration.
 */
import { resolve } from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { seedReferenceData } from "../../src/db/seed/seed.ts";

export const MIGRATIONS_FOLDER = resolve(import.meta.dirname, "../../drizzle");

// Arbitrary, fixed: identifies "GrandScale migrations" among advisory locks.
const MIGRATION_LOCK_KEY = 7_315_902_114;

export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
      await seedReferenceData(drizzle({ client }));
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
