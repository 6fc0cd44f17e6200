import { neon, Pool } from "@neondatabase/serverless";
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoundTripMeter, withRoundTripMeter } from "../src/db/round-trips.ts";
import { sql, testDb } from "./helpers/db.ts";

/**
 * The production driver path (@neondatabase/serverless, HTTP and WebSocket) against the
 * test run's Postgres (embedded PGlite by default, PostgreSQL 15 with DATABASE_URL),
 * through the local gateway standing in for Neon.
 *
 * The probe table lives in a schema of its own, so `public` (whose exact contents
 * tests/schema.test.ts asserts while this file runs) never holds it.
 */
const schema = `driver_probe_${crypto.randomUUID().replaceAll("-", "")}`;
const table = `${schema}.probe`;
const db = testDb();

beforeAll(async () => {
  await db.execute(sql.raw(`create schema ${schema}`));
  await db.execute(sql.raw(`create table ${table} (id integer primary key, label text not null, at timestamptz, doc jsonb)`));
});

afterAll(async () => {
  await db.execute(sql.raw(`drop schema ${schema} cascade`));
});

describe("HTTP queries (drizzle neon-http)", () => {
  it("round-trips parameters and Postgres types", async () => {
    const result = await db.execute(
      sql`select ${42}::int as n, ${"text ünïcode"}::text as s, ${'{"a":[1,2]}'}::jsonb as j, 't'::boolean as b, null::text as nothing`,
    );
    expect(result.rows).toEqual([{ n: 42, s: "text ünïcode", j: { a: [1, 2] }, b: true, nothing: null }]);
  });

  it("surfaces a unique violation with its SQLSTATE, constraint and detail", async () => {
    await db.execute(sql.raw(`insert into ${table} (id, label) values (1, 'first')`));
    const error = await db.execute(sql.raw(`insert into ${table} (id, label) values (1, 'again')`)).catch((caught) => caught);
    const cause = error.cause ?? error;
    expect(cause.code).toBe("23505");
    expect(cause.schema).toBe(schema);
    expect(cause.constraint).toBe("probe_pkey");
    expect(cause.detail).toMatch(/already exists/);
  });

  it("runs a batch as one transaction in one round trip: all or nothing", async () => {
    const meter = new RoundTripMeter();
    const failed = await withRoundTripMeter(meter, () =>
      db.batch([
        db.execute(sql.raw(`insert into ${table} (id, label) values (10, 'batched')`)),
        db.execute(sql.raw(`insert into ${table} (id, label) values (10, 'clash')`)),
      ]),
    ).catch((caught) => caught);
    expect((failed.cause ?? failed).code).toBe("23505");
    expect(meter.count).toBe(1);
    const left = await db.execute(sql.raw(`select count(*)::int as n from ${table} where id = 10`));
    expect(left.rows).toEqual([{ n: 0 }]);

    const [, counted] = await db.batch([
      db.execute(sql.raw(`insert into ${table} (id, label) values (11, 'batched')`)),
      db.execute(sql.raw(`select count(*)::int as n from ${table} where id = 11`)),
    ]);
    expect(counted.rows).toEqual([{ n: 1 }]);
  });
});

describe("HTTP transactions (neon() batch options)", () => {
  it("honours the isolation level and read-only headers", async () => {
    const client = neon(env.DATABASE_URL);
    const [isolation, readOnly] = await client.transaction(
      [client`select current_setting('transaction_isolation') as level`, client`select current_setting('transaction_read_only') as ro`],
      { isolationLevel: "Serializable", readOnly: true },
    );
    expect(isolation).toEqual([{ level: "serializable" }]);
    expect(readOnly).toEqual([{ ro: "on" }]);

    const error = await client
      .transaction([client.query(`insert into ${table} (id, label) values (30, 'read only')`)], { readOnly: true })
      .catch((caught) => caught);
    expect(error.code).toBe("25006");
  });

  it("returns rows as arrays with full results when asked", async () => {
    const client = neon(env.DATABASE_URL, { arrayMode: true, fullResults: true });
    const result = await client`select 1::int as a, 'x'::text as b`;
    expect(result.rows).toEqual([[1, "x"]]);
    expect(result.fields.map((field) => field.name)).toEqual(["a", "b"]);
    expect(result.command).toBe("SELECT");
  });
});

describe("WebSocket connections (Pool)", () => {
  // A second connection to the database. The embedded PGlite takes one connection's
  // messages at a time: the gateway lets this pipe in only when no HTTP query is running
  // and holds every other query back until it closes (scripts/lib/neon-gateway.ts).
  it("runs an interactive transaction through the gateway's WebSocket proxy", async () => {
    const pool = new Pool({ connectionString: env.DATABASE_URL });
    // pg's documented practice: an idle client's connection closing is reported on the
    // pool. Collect them; none may happen while the pool is in use.
    const idleErrors: Error[] = [];
    pool.on("error", (error: Error) => idleErrors.push(error));
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(`insert into ${table} (id, label) values ($1, $2)`, [20, "over websocket"]);
      const inside = await client.query(`select label from ${table} where id = 20`);
      await client.query("rollback");
      expect(inside.rows).toEqual([{ label: "over websocket" }]);
      const error = await client.query(`insert into ${table} (id, label) values (1, 'dup')`).catch((caught) => caught);
      expect(error.code).toBe("23505");
    } finally {
      client.release();
      expect(idleErrors).toEqual([]);
      await pool.end();
    }
    const after = await db.execute(sql.raw(`select count(*)::int as n from ${table} where id = 20`));
    expect(after.rows).toEqual([{ n: 0 }]);
  });
});
