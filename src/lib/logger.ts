export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LOG_LEVELS)[number];

export function isLevel(value: unknown): value is Level {
  return LOG_LEVELS.includes(value as Level);
}

export type LogFields = Record<string, unknown>;

export type Logger = {
  [L in Level]: (message: string, fields?: LogFields) => void;
} & { child(fields: LogFields): Logger };

/** One JSON object per line, which Workers Logs indexes field by field. */
export function createLogger(context: LogFields = {}, minimum: Level = "info"): Logger {
  const write = (level: Level) => (message: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(minimum)) return;
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

// drizzle's "Failed query" message lists the parameters, which can hold secrets
// (password hashes, token hashes): logs keep the SQL, never the values.
function redact(message: string) {
  return message.replace(/\nparams: [\s\S]*$/, "\nparams: [redacted]");
}

/** An error and its causes (drizzle wraps the driver's error, which carries the SQLSTATE). */
export function errorFields(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  const causes: unknown[] = [];
  for (let cause = error.cause; cause && causes.length < 3; cause = (cause as { cause?: unknown }).cause) {
    causes.push(cause instanceof Error ? { name: cause.name, message: redact(cause.message), code: (cause as { code?: unknown }).code } : "non-error cause");
  }
  const stack = error.stack ? redact(error.stack) : undefined;
  return { error: { name: error.name, message: redact(error.message), stack, ...(causes.length ? { causes } : {}) } };
}
