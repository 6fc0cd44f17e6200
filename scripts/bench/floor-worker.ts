/**
 * The floor: a Worker with no API around the database. It replays, through the same
 * driver (@neondatabase/serverless over HTTP) and the same gateway, exactly the SQL the
 * API sent for a sampled request (recorded by scripts/bench/sql-recorder.ts), one
 * recorded round trip after another, and answers the rows as JSON. No routing, no
 * validation, no auth, no access predicates built in JS, no presenters: what is left is
 * the cost of the queries and the platform, which is what the API's figures are divided by.
 *
 * Bundled by esbuild (scripts/bench/floor.ts) and run in the same workerd as the API.
 */
import { neon, neonConfig } from "@neondatabase/serverless";

type Statement = { query: string; params: unknown[] };
type BatchOptions = { isolationLevel?: string; readOnly?: boolean; deferrable?: boolean };
/** One HTTP request the API's driver made: a single query or a batch (one transaction). */
export type RecordedCall = { statement: Statement } | { batch: Statement[]; options: BatchOptions };
/** Every call of one sampled API request; `unique` is a string to renew per replay (see below). */
export type Recording = { calls: RecordedCall[]; unique: string | null };

type Env = { DATABASE_URL: string; NEON_GATEWAY_URL: string };

const recordings = new Map<string, Recording[]>();
const cursors = new Map<string, number>();
let replays = 0;
// Random values are not allowed at the top level of a Worker: made on first use.
let isolate: string | undefined;

function configure(gatewayUrl: string) {
  const gateway = new URL(gatewayUrl);
  neonConfig.fetchEndpoint = `${gateway.origin}/sql`;
}

/**
 * A write replayed verbatim would collide with itself (unique project names), so the
 * value the API request made unique is made unique again, wherever it occurs.
 */
function renew(params: unknown[], unique: string | null): unknown[] {
  if (!unique) return params;
  isolate ??= crypto.randomUUID().slice(0, 8);
  const fresh = `${unique}-floor-${isolate}-${++replays}`;
  return params.map((value) => (typeof value === "string" && value.includes(unique) ? value.split(unique).join(fresh) : value));
}

async function replay(env: Env, recording: Recording): Promise<unknown[]> {
  const sql = neon(env.DATABASE_URL, { fullResults: true });
  const results: unknown[] = [];
  for (const call of recording.calls) {
    if ("statement" in call) {
      const result = await sql.query(call.statement.query, renew(call.statement.params, recording.unique));
      results.push(result.rows);
    } else {
      const batch = await sql.transaction(
        call.batch.map((statement) => sql.query(statement.query, renew(statement.params, recording.unique))),
        call.options as Parameters<typeof sql.transaction>[1],
      );
      results.push((batch as { rows: unknown[] }[]).map((result) => result.rows));
    }
  }
  return results;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    configure(env.NEON_GATEWAY_URL);
    const url = new URL(request.url);
    if (request.method === "PUT" && url.pathname === "/recordings") {
      const body = (await request.json()) as Record<string, Recording[]>;
      for (const [key, list] of Object.entries(body)) recordings.set(key, list);
      return Response.json({ keys: [...recordings.keys()] });
    }
    const match = /^\/replay\/([^/]+)$/.exec(url.pathname);
    const list = match ? recordings.get(match[1]!) : undefined;
    if (!match || !list || list.length === 0) return new Response("no recording", { status: 404 });
    const position = cursors.get(match[1]!) ?? 0;
    cursors.set(match[1]!, position + 1);
    try {
      return Response.json(await replay(env, list[position % list.length]!));
    } catch (error) {
      return new Response(String(error), { status: 500 });
    }
  },
};
