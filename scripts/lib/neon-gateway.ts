/**
 * The local Neon gateway: what Neon's edge proxy does in production, for offline dev
 * and tests. It speaks the two protocols @neondatabase/serverless uses:
 *
 * - `POST /sql`: Neon's HTTP query protocol (the `neon()` function and drizzle's
 *   neon-http driver): one query, or a batch run as one transaction honouring the
 *   Neon-Batch-* headers; raw text output and array mode; errors as HTTP 400 carrying
 *   the Postgres error fields, so SQLSTATEs surface exactly as in production.
 * - `GET /v2?address=host:port` upgraded to a WebSocket: a byte pipe to Postgres over
 *   TCP, for the driver's Pool and Client.
 *
 * It routes by the connection string the driver sends, as Neon's proxy does, so one
 * gateway serves the embedded PGlite and a real PostgreSQL alike.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import pg from "pg";
import { WebSocketServer, type WebSocket } from "ws";
import { isEmbeddedPostgres } from "./embedded-postgres.ts";

export type NeonGateway = { url: string; port: number; close(): Promise<void> };

type QueryRequest = { query: string; params?: unknown[] };
type QueryOptions = { rawTextOutput: boolean; arrayMode: boolean };

const PG_ERROR_FIELDS = [
  "severity", "code", "detail", "hint", "position", "internalPosition", "internalQuery", "where",
  "schema", "table", "column", "dataType", "constraint", "file", "line", "routine",
] as const;

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

// With raw text output the driver parses values itself, so Postgres' text goes out untouched.
const rawTextTypes = { getTypeParser: () => (value: string) => value };

class BadRequest extends Error {}

/**
 * One holder at a time per key; `acquire` answers the function that lets the next one in.
 * An embedded PGlite must see one connection's messages at a time (isEmbeddedPostgres):
 * its HTTP queries (one pooled connection) and WebSocket pipes (a connection each) take
 * turns through the gate of its address, a pipe holding it for its whole session.
 */
function createGates() {
  const tails = new Map<string, Promise<void>>();
  return async function acquire(key: string): Promise<() => void> {
    const previous = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    tails.set(key, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (tails.get(key) === tail) tails.delete(key);
      release();
    };
  };
}

/** The gate key of a connection string or host:port address when it names an embedded instance, else null. */
function embeddedKey(connectionStringOrAddress: string): string | null {
  const connectionString = connectionStringOrAddress.includes("://") ? connectionStringOrAddress : `postgres://${connectionStringOrAddress}`;
  return isEmbeddedPostgres(connectionString) ? new URL(connectionString).host : null;
}

/**
 * `distanceMs` puts the edge-to-database distance between the Worker and the database:
 * every HTTP query or batch waits that long before it runs, as one round trip from an
 * edge location would (the bench's BENCH_DISTANCE_MS). WebSocket pipes are not delayed.
 */
export async function startNeonGateway(options: { port?: number; host?: string; distanceMs?: number } = {}): Promise<NeonGateway> {
  const host = options.host ?? "127.0.0.1";
  const pools = new Map<string, pg.Pool>();
  const acquireGate = createGates();

  async function exclusive<T>(connectionStringOrAddress: string, work: () => Promise<T>): Promise<T> {
    const key = embeddedKey(connectionStringOrAddress);
    if (key === null) return work();
    const release = await acquireGate(key);
    try {
      return await work();
    } finally {
      release();
    }
  }

  function poolFor(connectionString: string): pg.Pool {
    let pool = pools.get(connectionString);
    if (!pool) {
      // One connection at a time to an embedded PGlite (see isEmbeddedPostgres).
      pool = new pg.Pool({ connectionString, max: isEmbeddedPostgres(connectionString) ? 1 : 20, idleTimeoutMillis: 10_000 });
      pool.on("error", () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  }

  async function runQuery(client: pg.ClientBase | pg.Pool, request: QueryRequest, options: QueryOptions) {
    if (typeof request?.query !== "string") throw new BadRequest("each query needs a `query` string");
    const result = await client.query({
      text: request.query,
      values: request.params ?? [],
      // Neon runs every query through the extended protocol: one statement, never a script.
      queryMode: "extended",
      ...(options.arrayMode ? { rowMode: "array" as const } : {}),
      ...(options.rawTextOutput ? { types: rawTextTypes } : {}),
    } as pg.QueryConfig);
    return {
      command: result.command,
      rowCount: result.rowCount,
      rows: result.rows,
      fields: result.fields.map((field) => ({ ...field, format: "text" })),
      rowAsArray: options.arrayMode,
    };
  }

  async function runBatch(pool: pg.Pool, queries: QueryRequest[], headers: IncomingMessage["headers"], options: QueryOptions) {
    const isolation = header(headers, "neon-batch-isolation-level");
    const readOnly = header(headers, "neon-batch-read-only");
    const deferrable = header(headers, "neon-batch-deferrable");
    if (isolation && !ISOLATION_LEVELS[isolation]) throw new BadRequest(`unknown isolation level ${isolation}`);
    const begin = [
      "BEGIN",
      isolation ? `ISOLATION LEVEL ${ISOLATION_LEVELS[isolation]}` : "",
      readOnly === "true" ? "READ ONLY" : readOnly === "false" ? "READ WRITE" : "",
      deferrable === "true" ? "DEFERRABLE" : deferrable === "false" ? "NOT DEFERRABLE" : "",
    ].filter(Boolean).join(" ");

    const client = await pool.connect();
    try {
      await client.query(begin);
      const results = [];
      for (const query of queries) results.push(await runQuery(client, query, options));
      await client.query("COMMIT");
      return { results };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async function handleSql(request: IncomingMessage, response: ServerResponse) {
    const connectionString = header(request.headers, "neon-connection-string");
    if (!connectionString) throw new BadRequest("missing Neon-Connection-String header");
    const options: QueryOptions = {
      rawTextOutput: header(request.headers, "neon-raw-text-output") === "true",
      arrayMode: header(request.headers, "neon-array-mode") === "true",
    };
    let body: { query?: string; params?: unknown[]; queries?: QueryRequest[] };
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      throw new BadRequest("request body is not JSON");
    }
    const pool = poolFor(connectionString);
    const queries = body.queries;
    const result = await exclusive<unknown>(connectionString, () =>
      Array.isArray(queries) ? runBatch(pool, queries, request.headers, options) : runQuery(pool, body as QueryRequest, options),
    );
    sendJson(response, 200, result);
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://gateway").pathname;
    if (request.method !== "POST" || path !== "/sql") {
      sendJson(response, 404, { message: `no route for ${request.method} ${path}` });
      return;
    }
    const distance = options.distanceMs ? new Promise((resolve) => setTimeout(resolve, options.distanceMs)) : Promise.resolve();
    distance.then(() => handleSql(request, response)).catch((error: unknown) => {
      if (error instanceof BadRequest) return sendJson(response, 400, { message: error.message });
      if (error instanceof pg.DatabaseError) {
        const fields = Object.fromEntries(PG_ERROR_FIELDS.map((name) => [name, error[name]]));
        return sendJson(response, 400, { message: error.message, ...fields });
      }
      // Unreachable database and the like: Neon answers these with a 5xx and a text body.
      response.writeHead(502, { "content-type": "text/plain" }).end(String(error));
    });
  });

  // Node closes idle keep-alive sockets after 5 s by default; a client (workerd) that
  // reuses one at that moment fails with "Network connection lost". A Worker busy hashing
  // passwords on a loaded machine easily idles that long, so the server waits far longer
  // than any client keeps a socket.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", (request, socket, head) => {
    const url = new URL(request.url ?? "/", "http://gateway");
    const address = url.searchParams.get("address");
    if (url.pathname !== "/v2" || !address) {
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const key = embeddedKey(address);
      if (key === null) return pipeToPostgres(ws, address, () => {});
      // Messages that arrive while the pipe waits for its turn are kept for it.
      const early: Buffer[] = [];
      const keep = (data: Buffer) => early.push(data);
      ws.on("message", keep);
      let closed = false;
      ws.once("close", () => (closed = true));
      void acquireGate(key).then((release) => {
        ws.off("message", keep);
        if (closed) return release();
        pipeToPostgres(ws, address, release, early);
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((pool) => pool.end()));
      pools.clear();
    },
  };
}

/** A byte pipe from the WebSocket to Postgres; `release` runs once the pipe is closed from either end. */
function pipeToPostgres(ws: WebSocket, address: string, release: () => void, early: Buffer[] = []) {
  const separator = address.lastIndexOf(":");
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  const tcp = connect({ host, port });
  tcp.setNoDelay(true);
  const forward = (data: Buffer) => {
    tcp.write(data);
    // Terminate ('X', length 4): the client is done. PGlite's socket server may keep the
    // connection open after it, so the turn ends here rather than at the close.
    if (data.length === 5 && data[0] === 0x58 && data.readInt32BE(1) === 4) {
      release();
      tcp.end();
    }
  };
  for (const data of early) forward(data);
  ws.on("message", forward);
  tcp.on("data", (data) => ws.send(data));
  tcp.on("close", () => {
    release();
    ws.close();
  });
  tcp.on("error", () => ws.close());
  ws.on("close", () => tcp.destroy());
  ws.on("error", () => tcp.destroy());
}

function header(headers: IncomingMessage["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
