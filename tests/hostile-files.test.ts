import { createMessageBatch } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ParseMessage } from "../src/queues/messages.ts";
import { FILES_AT_THE_LIMITS, HOSTILE_FILES, normalCsv } from "./helpers/hostile-files.ts";
import { allRowsOf, createParseTarget, deliverBatch, parseSnapshot } from "./helpers/parse.ts";

/**
 * Hostile files fail fast and cleanly (PRODUCT.md, Trust): each file of the corpus
 * (tests/helpers/hostile-files.ts) goes through the Worker's real parse queue consumer
 * in one batch with another tenant's ordinary CSV. The hostile one must fail on its
 * first delivery with a parse_error naming the limit and where, be acked rather than
 * retried, and leave no rows; the CSV behind it must succeed in the same batch.
 */
function batchOf(bodies: ParseMessage[]) {
  return createMessageBatch(
    "grandscale-parse",
    bodies.map((body, index) => ({ id: `message-${index}`, timestamp: new Date(), attempts: 1, body })),
  );
}

describe("hostile files", () => {
  for (const file of HOSTILE_FILES) {
    it(`${file.name}: fails on its first delivery, naming the limit; the next tenant's CSV still parses`, async () => {
      const hostile = await createParseTarget({ filename: file.filename, contentType: file.contentType, bytes: file.bytes() });
      const normal = await createParseTarget({ filename: "normal.csv", contentType: "text/csv", bytes: normalCsv() });

      const result = await deliverBatch(
        batchOf([
          { kind: "parse", version_id: hostile.version_id },
          { kind: "parse", version_id: normal.version_id },
        ]),
      );

      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toEqual(["message-0", "message-1"]);
      const failed = await parseSnapshot(hostile.version_id);
      expect(failed.parse_status).toBe("failed");
      expect(failed.parse_error).toMatch(file.error);
      expect(failed.tables).toEqual([]);
      expect(await allRowsOf(hostile.version_id)).toEqual([]);
      const parsed = await parseSnapshot(normal.version_id);
      expect(parsed.parse_status).toBe("succeeded");
      expect(parsed.tables[0]?.rows.map((row) => row.data)).toEqual([
        { id: "1", name: "Ada" },
        { id: "2", name: "Grace" },
      ]);
    });
  }
});

describe("files at the limits", () => {
  async function parseAlone(filename: string, contentType: string, bytes: Uint8Array) {
    const target = await createParseTarget({ filename, contentType, bytes });
    const result = await deliverBatch(batchOf([{ kind: "parse", version_id: target.version_id }]));
    expect(result.explicitAcks).toEqual(["message-0"]);
    return parseSnapshot(target.version_id);
  }

  it("a CSV header of 1,000 copies of one name parses, each named once", async () => {
    const parsed = await parseAlone("widest.csv", "text/csv", FILES_AT_THE_LIMITS.csvHeader());
    expect(parsed.parse_status).toBe("succeeded");
    const names = parsed.tables[0]!.columns.map((column) => column.name);
    expect(names).toHaveLength(1_000);
    expect(names.slice(0, 3)).toEqual(["id", "id_2", "id_3"]);
    expect(names.at(-1)).toBe("id_1000");
  });

  it("a sheet with a value in column ALL and an empty styled cell in XFD parses", async () => {
    const parsed = await parseAlone("widest.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", FILES_AT_THE_LIMITS.workbook());
    expect(parsed.parse_status).toBe("succeeded");
    const table = parsed.tables[0]!;
    expect(table.columns).toHaveLength(1_000);
    expect(table.rows[0]!.data).toMatchObject({ id: 1, last: 2 });
  });

  it("a JSON record 64 levels deep parses", async () => {
    const parsed = await parseAlone("deep.jsonl", "application/x-ndjson", FILES_AT_THE_LIMITS.deepJsonLines());
    expect(parsed.parse_status).toBe("succeeded");
    expect(JSON.stringify(parsed.tables[0]!.rows[0]!.data)).toBe(`{"deep":${"[".repeat(63)}${"]".repeat(63)}}`);
  });
});
