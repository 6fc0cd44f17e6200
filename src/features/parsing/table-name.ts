/** A single-table file's table is named after the file, without its extension. */
export function tableNameOf(filename: string): string {
  const base = filename.replace(/^.*[\\/]/, "").replace(/\.[A-Za-z0-9]+$/, "").trim();
  return base === "" ? "table" : base;
}
