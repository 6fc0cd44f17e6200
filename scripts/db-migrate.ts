/**
 * `npm run db:migrate`: applies drizzle/ to DATABASE_URL, or to the embedded database in
 * .data/ when it is unset. Safe to run any number of times.
 */
import { withDatabase } from "./lib/local-database.ts";
import { migrateDatabase } from "./lib/migrate.ts";

await withDatabase(async (databaseUrl) => {
  await migrateDatabase(databaseUrl);
});
console.log("Migrations applied.");
