/**
 * CPU time spent by each process of the stack during a run (user + system, from
 * /proc/<pid>/stat), so a report can say where the time went: the Worker (workerd),
 * the gateway, the embedded database, or the bench itself. A PostgreSQL server's
 * backends are not ours to count, so the database is absent with DATABASE_URL.
 */
import { readFileSync } from "node:fs";

/** Linux reports CPU time in clock ticks; 100 per second on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state(0) … utime(11) stime(12) cutime(13) cstime(14).
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export type CpuAccount = Record<string, number | null>;

/** The stack's own processes besides workerd: the Neon gateway and, when embedded, the database. */
export type StackProcesses = { gateway: number | null; database: number | null };

/** Starts counting for the named processes; `stop()` answers the CPU seconds each used since. */
export function countCpu(processes: Record<string, number | null | undefined>): { stop(): CpuAccount } {
  const start = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, pid ? cpuSecondsOf(pid) : null]));
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(processes).map(([name, pid]) => {
          const now = pid ? cpuSecondsOf(pid) : null;
          const then = start[name];
          return [name, now === null || then === null || then === undefined ? null : Math.round((now - then) * 100) / 100];
        }),
      ),
  };
}
