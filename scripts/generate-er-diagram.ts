/**
 * Writes docs/schema.md from the Drizzle schema: a Mermaid ER diagram (tables, typed
 * columns with PK/FK/UK markers, relationships labelled with their ON DELETE rule) and,
 * per table, its keys, checks and indexes. `--check` only compares and exits 1 when the
 * committed file is stale, which is what CI runs.
 *
 *   node scripts/generate-er-diagram.ts [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { is, type SQL } from "drizzle-orm";
import { getTableConfig, PgDialect, PgTable } from "drizzle-orm/pg-core";
import * as annotation from "../src/db/schema/annotation.ts";
import * as audit from "../src/db/schema/audit.ts";
import * as exports from "../src/db/schema/exports.ts";
import * as files from "../src/db/schema/files.ts";
import * as identity from "../src/db/schema/identity.ts";
import * as projects from "../src/db/schema/projects.ts";
import * as suggestions from "../src/db/schema/suggestions.ts";
import * as validations from "../src/db/schema/validations.ts";
import * as webhooks from "../src/db/schema/webhooks.ts";

const OUTPUT = resolve(import.meta.dirname, "../docs/schema.md");

const DOMAINS: [string, Record<string, unknown>][] = [
  ["Identity and access", identity],
  ["Projects", projects],
  ["Files", files],
  ["Annotation", annotation],
  ["Audit", audit],
  ["Exports", exports],
  ["Suggestions", suggestions],
  ["Webhooks", webhooks],
  ["Dataset validation", validations],
];

type TableConfig = ReturnType<typeof getTableConfig>;

const dialect = new PgDialect();

/** SQL fragment as text, with `"table"."column"` shortened to `column`. */
function sqlText(fragment: SQL): string {
  return dialect
    .sqlToQuery(fragment)
    .sql.replace(/"\w+"\./g, "")
    .replace(/"(\w+)"/g, "$1");
}

/** Mermaid attribute types are single words. */
function mermaidType(sqlType: string): string {
  return sqlType
    .replace("timestamp with time zone", "timestamptz")
    .replace(/\(.*\)/, "")
    .replace(/\s+/g, "_");
}

function tablesOf(module: Record<string, unknown>): TableConfig[] {
  return Object.values(module)
    .filter((value): value is PgTable => is(value, PgTable))
    .map((table) => getTableConfig(table))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function primaryKeyColumns(table: TableConfig): string[] {
  const inline = table.columns.filter((column) => column.primary).map((column) => column.name);
  return [...inline, ...table.primaryKeys.flatMap((pk) => pk.columns.map((column) => column.name))];
}

function entity(table: TableConfig): string[] {
  const pk = new Set(primaryKeyColumns(table));
  const fk = new Set(table.foreignKeys.flatMap((key) => key.reference().columns.map((column) => column.name)));
  const lines = table.columns.map((column) => {
    const markers = [pk.has(column.name) && "PK", fk.has(column.name) && "FK", column.isUnique && "UK"].filter(Boolean);
    const comment = column.notNull ? "" : ' "nullable"';
    return `    ${mermaidType(column.getSQLType())} ${column.name}${markers.length ? ` ${markers.join(", ")}` : ""}${comment}`;
  });
  return [`  ${table.name} {`, ...lines, "  }"];
}

function relationships(table: TableConfig): string[] {
  const uniqueSets = [
    primaryKeyColumns(table).join(","),
    ...table.columns.filter((column) => column.isUnique).map((column) => column.name),
    ...table.uniqueConstraints.map((constraint) => constraint.columns.map((column) => column.name).join(",")),
  ];
  return table.foreignKeys.map((key) => {
    const reference = key.reference();
    const columns = reference.columns;
    const parent = getTableConfig(reference.foreignTable).name;
    const required = columns.every((column) => column.notNull);
    const oneToOne = uniqueSets.includes(columns.map((column) => column.name).join(","));
    const parentSide = required ? "||" : "|o";
    const childSide = oneToOne ? "o|" : "o{";
    const label = `${columns.map((column) => column.name).join(", ")} (${key.onDelete ?? "no action"})`;
    return `  ${parent} ${parentSide}--${childSide} ${table.name} : "${label}"`;
  });
}

function details(table: TableConfig): string[] {
  const lines = [`#### ${table.name}`, ""];
  lines.push(`- primary key (${primaryKeyColumns(table).join(", ")})`);
  for (const column of table.columns.filter((c) => c.isUnique)) lines.push(`- unique (${column.name})`);
  for (const constraint of table.uniqueConstraints) {
    lines.push(`- unique (${constraint.columns.map((c) => c.name).join(", ")}) \`${constraint.getName()}\``);
  }
  for (const key of table.foreignKeys) {
    const reference = key.reference();
    const parent = getTableConfig(reference.foreignTable).name;
    lines.push(
      `- foreign key (${reference.columns.map((c) => c.name).join(", ")}) → ${parent}(${reference.foreignColumns.map((c) => c.name).join(", ")}) on delete ${key.onDelete ?? "no action"}`,
    );
  }
  for (const check of table.checks) lines.push(`- check \`${check.name}\`: \`${sqlText(check.value)}\``);
  for (const index of table.indexes) {
    const { name, columns, unique, where } = index.config;
    const names = columns.map((column) => (column && "name" in column ? column.name : "(expression)")).join(", ");
    lines.push(`- ${unique ? "unique index" : "index"} \`${name}\` (${names})${where ? ` where \`${sqlText(where)}\`` : ""}`);
  }
  return [...lines, ""];
}

export function renderSchemaDocument(): string {
  const tables = DOMAINS.flatMap(([, module]) => tablesOf(module));
  const lines = [
    "# Database schema",
    "",
    "<!-- Generated from src/db/schema by scripts/generate-er-diagram.ts; do not edit by hand. -->",
    "",
    `${tables.length} tables. Relationship labels name the foreign key columns and their ON DELETE rule;`,
    "`||` on the parent side means the key is required, `|o` that it is nullable.",
    "",
    "```mermaid",
    "erDiagram",
    ...tables.flatMap(entity),
    ...tables.flatMap(relationships),
    "```",
    "",
    "## Keys, checks and indexes",
    "",
  ];
  for (const [domain, module] of DOMAINS) {
    lines.push(`### ${domain}`, "", ...tablesOf(module).flatMap(details));
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

if (import.meta.main) {
  const rendered = renderSchemaDocument();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(OUTPUT, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== rendered) {
      console.error("docs/schema.md is stale: run `node scripts/generate-er-diagram.ts` and commit the result.");
      process.exit(1);
    }
    console.log("docs/schema.md is up to date.");
  } else {
    writeFileSync(OUTPUT, rendered);
    console.log(`Wrote ${OUTPUT}`);
  }
}
