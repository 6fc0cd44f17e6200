/**
 * PostgreSQL's own bulk paths, `COPY … FROM STDIN` and `COPY … TO STDOUT`, over the
 * wire protocol with the `pg` client we already have (pg-copy-streams is not a
 * dependency). pg dispatches the COPY messages of the active query to the query object,
 * so a small "submittable" is all it takes: the same protocol psql uses, against
 * PGlite's socket server and PostgreSQL alike.
 */
import type { Readable } from "node:stream";
import type pg from "pg";

type Connection = {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
};

/** What a finished COPY reports: the command tag's row count and the bytes moved. */
export type CopyResult = { rows: number; bytes: number };

abstract class CopySubmittable {
  protected rows = 0;
  protected bytes = 0;
  private failure: unknown = null;
  readonly done: Promise<CopyResult>;
  private settle!: { resolve: (result: CopyResult) => void; reject: (error: unknown) => void };

  readonly text: string;

  constructor(text: string) {
    this.text = text;
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: Connection) {
    connection.query(this.text);
  }

  handleCommandComplete(message: { text: string }) {
    const count = /(\d+)$/.exec(message.text);
    this.rows = count ? Number(count[1]) : 0;
  }

  handleError(error: unknown) {
    this.failure = error;
  }

  handleReadyForQuery() {
    if (this.failure) this.settle.reject(this.failure);
    else this.settle.resolve({ rows: this.rows, bytes: this.bytes });
  }

  handleRowDescription() {}
  handleDataRow() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyInResponse(connection: Connection) {
    connection.sendCopyFail("this COPY does not read from the client");
  }
  handleCopyData(_message: { chunk: Buffer }) {}
}

class CopyFrom extends CopySubmittable {
  private readonly source: Readable;

  constructor(text: string, source: Readable) {
    super(text);
    this.source = source;
  }

  override handleCopyInResponse(connection: Connection) {
    void this.pump(connection);
  }

  private async pump(connection: Connection) {
    try {
      for await (const chunk of this.source) {
        const buffer = chunk as Buffer;
        this.bytes += buffer.length;
        connection.sendCopyFromChunk(buffer);
        // Respect the socket's back-pressure so a 1 GB file never sits in memory.
        if (connection.stream.writableNeedDrain) await new Promise((resolve) => connection.stream.once("drain", resolve));
      }
      connection.endCopyFrom();
    } catch (error) {
      connection.sendCopyFail(String(error));
    }
  }
}

class CopyTo extends CopySubmittable {
  private readonly sink: (chunk: Buffer) => void;

  constructor(text: string, sink: (chunk: Buffer) => void) {
    super(text);
    this.sink = sink;
  }

  override handleCopyData(message: { chunk: Buffer }) {
    this.bytes += message.chunk.length;
    this.sink(message.chunk);
  }
}

/** `COPY <target> FROM STDIN …` fed from a stream. */
export function copyFrom(client: pg.Client, statement: string, source: Readable): Promise<CopyResult> {
  const query = new CopyFrom(statement, source);
  void client.query(query as unknown as pg.QueryConfig);
  return query.done;
}

/** `COPY (<select>) TO STDOUT …`, each chunk handed to `sink` (which may discard it). */
export function copyTo(client: pg.Client, statement: string, sink: (chunk: Buffer) => void = () => {}): Promise<CopyResult> {
  const query = new CopyTo(statement, sink);
  void client.query(query as unknown as pg.QueryConfig);
  return query.done;
}
