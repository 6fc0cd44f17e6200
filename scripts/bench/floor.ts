/**
 * Builds the floor Worker (floor-worker.ts) with esbuild, as wrangler would bundle it
 * for workerd, and loads the API's recorded SQL into it.
 */
import { resolve } from "node:path";
import { build } from "esbuild";
import type { Recording } from "./floor-worker.ts";

export async function buildFloorWorker(): Promise<string> {
  const result = await build({
    entryPoints: [resolve(import.meta.dirname, "floor-worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["node:*"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export async function loadRecordings(floorUrl: URL, recordings: Record<string, Recording[]>): Promise<void> {
  const response = await fetch(new URL("/recordings", floorUrl), { method: "PUT", body: JSON.stringify(recordings) });
  if (!response.ok) throw new Error(`the floor Worker refused the recordings: ${response.status} ${await response.text()}`);
}
