/**
 * The bench's database and Neon gateway, each in its own process (see service-host.ts).
 *
 * Database: a fresh one every run. By default an on-disk PGlite in the run's temporary
 * directory (on disk, not in memory: the parse bench writes gigabytes); with
 * DATABASE_URL, a uniquely named database created on that server and dropped at the
 * end, as the test setup does. Either way migrated with scripts/lib/migrate.ts.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import { migrateDatabase } from "../lib/migrate.ts";
import { copyFrom, copyTo, type CopyResult } from "./copy.ts";
import type { HostMessage } from "./service-host.ts";

const HOST = resolve(import.meta.dirname, "service-host.ts");

type Hosted = { url: string; child: ChildProcess; stop(): Promise<void> };

async function host(args: string[]): Promise<Hosted> {
  const child = fork(HOST, args, { execPath: process.execPath, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise<string>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`service ${args[0]} exited with ${code} before it was ready`)));
    child.on("message", (message: HostMessage) => {
      if (message.type === "ready") resolvePromise(message.url);
    });
  });
  child.removeAllListeners("exit");
  return {
    url,
    child,
    stop: () => new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once("exit", () => done());
      child.kill("SIGTERM");
    }),
  };
}

export type BenchDatabase = {
  url: string;
  /** "embedded PGlite" or "PostgreSQL <version> (DATABASE_URL)". */
  label: string;
  embedded: boolean;
  /** The embedded database's process (null for a server; cpu.ts counts one on this machine by its postmaster). */
  pid: number | null;
  /** PostgreSQL's own COPY of a CSV file into `table` (the physical limit of ingestion). */
  copyCsvFile(table: string, file: string): Promise<CopyResult & { method: string }>;
  /** `COPY (<select>) TO STDOUT`, output discarded as it arrives. */
  copyOut(select: string): Promise<CopyResult>;
  stop(): Promise<void>;
};

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function serverVersion(url: string) {
  return withClient(url, async (client) => (await client.query("show server_version")).rows[0].server_version as string);
}

function copyOut(url: string) {
  return (select: string) => withClient(url, (client) => copyTo(client, `copy (${select}) to stdout`));
}

async function startEmbedded(dataDir: string): Promise<BenchDatabase> {
  const hosted = await host(["pglite", dataDir]);
  let nextId = 0;
  return {
    url: hosted.url,
    label: `embedded PGlite (PostgreSQL ${await serverVersion(hosted.url)}, WASM, on disk)`,
    embedded: true,
    pid: hosted.child.pid ?? null,
    copyCsvFile(table, file) {
      const id = ++nextId;
      const statement = `copy ${table} from '/dev/blob' with (format csv)`;
      return new Promise((resolvePromise, reject) => {
        const onMessage = (message: HostMessage) => {
          if (!("id" in message) || message.id !== id) return;
          hosted.child.off("message", onMessage);
          if (message.type === "copied") resolvePromise({ rows: message.rows, bytes: message.bytes, method: "COPY … FROM '/dev/blob' inside the PGlite process, in 64 MiB pieces" });
          else reject(new Error(message.type === "failed" ? message.error : "unexpected answer"));
        };
        hosted.child.on("message", onMessage);
        hosted.child.send({ id, type: "copy-from", statement, headerStatement: `${statement.slice(0, -1)}, header true)`, file, pieceBytes: 64 * 1024 * 1024 });
      });
    },
    copyOut: copyOut(hosted.url),
    stop: hosted.stop,
  };
}

async function startOnServer(serverUrl: string): Promise<BenchDatabase> {
  const name = `grandscale_bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await withClient(serverUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    url: databaseUrl,
    label: `PostgreSQL ${await serverVersion(databaseUrl)} (DATABASE_URL, database ${name})`,
    embedded: false,
    pid: null,
    copyCsvFile: (table, file) =>
      withClient(databaseUrl, async (client) => ({
        ...(await copyFrom(client, `copy ${table} from stdin with (format csv, header true)`, createReadStream(file, { highWaterMark: 1024 * 1024 }))),
        method: "COPY … FROM STDIN over the wire protocol (pg client)",
      })),
    copyOut: copyOut(databaseUrl),
    // BENCH_KEEP keeps it too, to look at what the run measured (EXPLAIN, replays).
    stop: () => (process.env.BENCH_KEEP ? Promise.resolve() : withClient(serverUrl, async (client) => void (await client.query(`drop database if exists ${name} with (force)`)))),
  };
}

export async function startBenchDatabase(workDir: string): Promise<BenchDatabase> {
  const server = process.env.DATABASE_URL;
  const database = server ? await startOnServer(server) : await startEmbedded(resolve(workDir, "pglite"));
  await migrateDatabase(database.url);
  return database;
}

/** The gateway; for the embedded database it keeps one connection at a time, as the tests' gateway does (see embedded-postgres.ts). */
export async function startGateway(database: BenchDatabase): Promise<{ url: string; pid: number | null; stop(): Promise<void> }> {
  const hosted = await host(database.embedded ? ["gateway", database.url] : ["gateway"]);
  return { url: hosted.url, pid: hosted.child.pid ?? null, stop: hosted.stop };
}
