/**
 * A pass-through in front of the Neon gateway that keeps a copy of every SQL request.
 * Only the sampling copy of the API talks through it (never the one under load), so the
 * floor can replay exactly the statements and parameters the API sent, and the count of
 * HTTP calls is a second, independent count of the round trips.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { RecordedCall } from "./floor-worker.ts";

export type SqlRecorder = {
  url: string;
  /** The calls recorded since the last `take()`, in the order they arrived. */
  take(): RecordedCall[];
  close(): Promise<void>;
};

const ISOLATION = "neon-batch-isolation-level";
const READ_ONLY = "neon-batch-read-only";
const DEFERRABLE = "neon-batch-deferrable";

function toCall(body: { query?: string; params?: unknown[]; queries?: { query: string; params?: unknown[] }[] }, headers: IncomingMessage["headers"]): RecordedCall {
  if (Array.isArray(body.queries)) {
    const flag = (name: string) => (headers[name] === undefined ? undefined : headers[name] === "true");
    return {
      batch: body.queries.map((query) => ({ query: query.query, params: query.params ?? [] })),
      options: {
        ...(headers[ISOLATION] ? { isolationLevel: String(headers[ISOLATION]) } : {}),
        ...(flag(READ_ONLY) === undefined ? {} : { readOnly: flag(READ_ONLY) }),
        ...(flag(DEFERRABLE) === undefined ? {} : { deferrable: flag(DEFERRABLE) }),
      },
    };
  }
  return { statement: { query: body.query ?? "", params: body.params ?? [] } };
}

export async function startSqlRecorder(gatewayUrl: string): Promise<SqlRecorder> {
  let calls: RecordedCall[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    try {
      if (request.method === "POST") calls.push(toCall(JSON.parse(body.toString("utf8")), request.headers));
    } catch {
      // Not JSON: the gateway answers it with a 400 below, as it would have anyway.
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => name.startsWith("neon-") || name === "content-type" || name === "authorization"),
    ) as Record<string, string>;
    const upstream = await fetch(new URL(request.url ?? "/", gatewayUrl), { method: request.method, headers, body: request.method === "POST" ? body : undefined });
    response.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
