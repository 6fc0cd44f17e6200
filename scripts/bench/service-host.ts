/**
 * Runs one piece of the bench's infrastructure in its own process, so the load
 * generator, the Neon gateway and the embedded Postgres do not share an event loop (a
 * WASM Postgres busy on a query would otherwise stall the gateway's and autocannon's
 * timers and show up as API latency). Started by scripts/bench/services.ts with an
 * IPC channel; it announces its address with one message and stops on SIGTERM.
 *
 *   service-host.ts pglite <dataDir>   PGlite on disk, served over the wire protocol
 *   service-host.ts gateway [pgliteUrl]  the local Neon gateway (one connection at a
 *                                        time to the PGlite at pgliteUrl, as in tests)
 */
import { createReadStream } from "node:fs";
import { registerEmbeddedPostgres } from "../lib/embedded-postgres.ts";
import { startNeonGateway } from "../lib/neon-gateway.ts";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

type CopyRequest = { id: number; type: "copy-from"; statement: string; headerStatement: string; file: string; pieceBytes: number };
export type HostMessage = { type: "ready"; url: string } | { id: number; type: "copied"; rows: number; bytes: number } | { id: number; type: "failed"; error: string };

const send = (message: HostMessage) => process.send!(message);
/** pglite: its data directory; gateway: the PGlite it serves, if any. */
const [kind, dataDir] = process.argv.slice(2);

/**
 * PGlite's socket server does not implement the COPY FROM STDIN sub-protocol, so the
 * embedded server's physical limit is PGlite's own file path: `COPY … FROM '/dev/blob'`
 * inside this process, fed in pieces cut at line ends (the generated CSV has no quoted
 * newlines) so memory stays bounded. Only the first piece carries the header.
 */
async function copyFromFile(db: PGlite, request: CopyRequest) {
  let rows = 0;
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let first = true;
  const flush = async (piece: Buffer) => {
    if (piece.length === 0) return;
    const result = await db.query(first ? request.headerStatement : request.statement, [], { blob: new Blob([piece]) });
    first = false;
    rows += result.affectedRows ?? 0;
  };
  for await (const chunk of createReadStream(request.file, { highWaterMark: 1024 * 1024 })) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes < request.pieceBytes) continue;
    const joined = Buffer.concat(pending);
    const cut = joined.lastIndexOf(10) + 1;
    await flush(joined.subarray(0, cut));
    pending = [joined.subarray(cut)];
    pendingBytes = joined.length - cut;
  }
  await flush(Buffer.concat(pending));
  return { rows, bytes };
}

async function hostPglite() {
  // scripts/lib/embedded-postgres.ts keeps the PGlite handle to itself; the COPY path
  // needs it, so this builds the same server (same options) by hand.
  const db = await PGlite.create({ dataDir: dataDir! });
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());
  process.on("message", (message: CopyRequest) => {
    copyFromFile(db, message).then(
      (result) => send({ id: message.id, type: "copied", ...result }),
      (error: unknown) => send({ id: message.id, type: "failed", error: String(error) }),
    );
  });
  process.once("SIGTERM", async () => {
    await server.stop();
    await db.close();
    process.exit(0);
  });
  send({ type: "ready", url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` });
}

async function hostGateway(embeddedUrl: string | undefined) {
  if (embeddedUrl) registerEmbeddedPostgres(embeddedUrl);
  // Inherited from the bench (scripts/bench/options.ts): the simulated edge-to-database distance.
  const gateway = await startNeonGateway({ distanceMs: Number(process.env.BENCH_DISTANCE_MS ?? 0) });
  process.once("SIGTERM", async () => {
    await gateway.close();
    process.exit(0);
  });
  send({ type: "ready", url: gateway.url });
}

if (kind === "pglite") await hostPglite();
else if (kind === "gateway") await hostGateway(dataDir);
else throw new Error(`unknown service ${kind}; expected pglite or gateway`);
