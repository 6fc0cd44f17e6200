/**
 * Puts Swagger UI's script and stylesheet in the Worker's static assets (public/), so
 * /docs renders with no CDN. Runs after `npm install`; the copies are git-ignored.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";

const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = resolve(import.meta.dirname, "../public/docs/assets");
mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) copyFileSync(resolve(source, file), resolve(target, file));
