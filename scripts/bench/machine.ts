/** The machine the figures came from, and how busy it was. */
import { execSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";

export type MachineReport = {
  cpu_model: string;
  nproc: number;
  memory_bytes: number;
  load_average_at_start: number[];
  load_average_at_end: number[] | null;
  node: string;
  workerd: string;
  wrangler: string;
  os: string;
};

function quiet(command: string): string {
  try {
    return execSync(command, { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "unknown";
  }
}

export function describeMachine(): MachineReport {
  const root = new URL("../..", import.meta.url).pathname;
  return {
    cpu_model: cpus()[0]?.model ?? "unknown",
    nproc: Number(quiet("nproc")) || cpus().length,
    memory_bytes: totalmem(),
    load_average_at_start: loadavg(),
    load_average_at_end: null,
    node: process.version,
    workerd: quiet(`${root}node_modules/.bin/workerd --version`),
    // Under this Node: the `node` on PATH may be older than wrangler accepts.
    wrangler: quiet(`"${process.execPath}" ${root}node_modules/wrangler/bin/wrangler.js --version`).split("\n").pop() ?? "unknown",
    os: quiet("uname -sr"),
  };
}
