const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];
export type LogFields = Record<string, unknown>;

export type Logger = {
  [L in Level]: (message: string, fields?: LogFields) => void;
} & { child(fields: LogFields): Logger };

/** One JSON object per line, which Workers Logs indexes field by field. */
export function createLogger(context: LogFields = {}, minimum: Level = "info"): Logger {
  const write = (level: Level) => (message: string, fields: LogFields = {}) => {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(minimum)) return;
    const line = JSON.stringify({ level, message, ...context, ...fields, time: new Date().toISOString() });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (fields) => createLogger({ ...context, ...fields }, minimum),
  };
}

export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: { name: error.name, message: error.message, stack: error.stack } };
  return { error: String(error) };
}
