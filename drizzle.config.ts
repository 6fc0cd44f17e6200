import { defineConfig } from "drizzle-kit";

// Only `migrate`/`push`/`studio` connect; `generate` and `check` work offline, so the
// default is a harmless local address rather than a required variable.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: "./drizzle",
  dbCredentials: {
    url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/grandscale",
  },
  strict: true,
  verbose: true,
});
