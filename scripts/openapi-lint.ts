/**
 * Writes the OpenAPI document the Worker serves to dist/openapi.json and lints it with
 * Redocly's recommended rules (plus the overrides in redocly.yaml).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createFullApp } from "../src/app.ts";
import { openAPIDocument } from "../src/features/docs/docs.index.ts";

const root = resolve(import.meta.dirname, "..");
const target = resolve(root, "dist/openapi.json");
mkdirSync(resolve(root, "dist"), { recursive: true });
writeFileSync(target, JSON.stringify(openAPIDocument(await createFullApp()), null, 2));
execFileSync(resolve(root, "node_modules/.bin/redocly"), ["lint", target, "--format", "stylish"], { stdio: "inherit" });
