/**
 * Dataset-quality tests' fixtures: CSV text parsed for real (the parse consumer's work,
 * called directly) into a file of a project, so profiles, versions and rows are what a
 * production parse leaves behind.
 */
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { DEFAULT_PARSE_OPTIONS, runParseMessage, type ParseOptions } from "../../src/features/parsing/parse-run.ts";
import { testDb } from "./db.ts";
import { parseDependencies, recordingQueue } from "./parse.ts";
import { insertFile, insertVersion } from "./projects.ts";

export type ParsedVersion = { file_id: number; version_id: number; table_id: number };

/** Delivers the version's parse message, then every message it sends, until the parse ends. */
export async function parseVersion(versionId: number, options: ParseOptions = DEFAULT_PARSE_OPTIONS): Promise<number> {
  const { queue, sent } = recordingQueue();
  const deps = parseDependencies(queue);
  let outcome = await runParseMessage({ kind: "parse", version_id: versionId }, deps, options);
  for (let next = sent.shift(); next; next = sent.shift()) outcome = await runParseMessage(next, deps, options);
  expect(outcome).toBe("succeeded");
  const result = await testDb().execute(sql`select table_id from file_table where version_id = ${versionId} and state = 'active'`);
  return (result.rows[0] as { table_id: number }).table_id;
}

/** `csv` as version `version_number` of `fileId` (a new file of the project without one), parsed. */
export async function parsedCsv(
  project: { project_id: number; org_id: number },
  csv: string,
  options: { fileId?: number; versionNumber?: number } = {},
): Promise<ParsedVersion> {
  const fileId = options.fileId ?? (await insertFile(project));
  const versionId = await insertVersion(fileId, { content: new TextEncoder().encode(csv), version_number: options.versionNumber ?? 1 });
  return { file_id: fileId, version_id: versionId, table_id: await parseVersion(versionId) };
}
