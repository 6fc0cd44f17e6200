import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";

export async function checkDatabase({ db }: { db: Database }) {
  const started = performance.now();
  await db.execute(sql`select 1`);
  return { status: "ok" as const, round_trip_ms: Math.round((performance.now() - started) * 10) / 10 };
}
