/// <reference types="vite/client" />
import { createMessageBatch } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testDb } from "./helpers/db.ts";
import { createParseTarget, deliverBatch, parseSnapshot, type ParseSnapshot } from "./helpers/parse.ts";

/**
 * The parse corpus: every file in tests/fixtures/parse/ has an expected outcome in
 * tests/fixtures/parse/expected/<file>.json (its declared content type, and either its
 * tables with every row, or its parse_error). Each file goes through the Worker's real
 * queue entry point and the result is compared exactly.
 */
type Expected = ParseSnapshot & { content_type: string; file_type?: "dataset" | "requirement"; requirements_text?: string };

const inputs = import.meta.glob(["./fixtures/parse/*", "!./fixtures/parse/*.ts"], { query: "?url&inline", import: "default", eager: true }) as Record<string, string>;
const expectations = import.meta.glob("./fixtures/parse/expected/*.json", { import: "default", eager: true }) as Record<string, Expected>;

const cases = Object.entries(inputs).map(([path, url]) => {
  const filename = path.slice(path.lastIndexOf("/") + 1);
  const expected = expectations[`./fixtures/parse/expected/${filename}.json`];
  return { filename, url, expected };
});

async function parseThroughQueue(versionId: number) {
  return deliverBatch(
    createMessageBatch("grandscale-parse", [{ id: `parse-${versionId}`, timestamp: new Date(), attempts: 1, body: { kind: "parse", version_id: versionId } }]),
  );
}

describe("parse corpus", () => {
  it("has an expected outcome for every fixture", () => {
    expect(cases.filter((entry) => !entry.expected).map((entry) => entry.filename)).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(29);
  });

  for (const { filename, url, expected } of cases) {
    it(`parses ${filename}`, async () => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const target = await createParseTarget({ filename, contentType: expected!.content_type, bytes, fileType: expected!.file_type });

      const result = await parseThroughQueue(target.version_id);
      expect(result.explicitAcks).toEqual([`parse-${target.version_id}`]);
      expect(result.retryMessages).toEqual([]);

      const { content_type: _, file_type: __, requirements_text, ...outcome } = expected!;
      expect(await parseSnapshot(target.version_id)).toEqual(outcome);
      if (requirements_text !== undefined) {
        const project = await testDb().execute(sql`select requirements_text from project where project_id = ${target.project_id}`);
        expect(project.rows[0]).toEqual({ requirements_text });
      }
    });
  }
});
