/**
 * CPU time spent by each process of the stack during a run (user + system, from
 * /proc/<pid>/stat), so a report can say where the time went: the Worker (workerd),
 * the gateway, the database, or the bench itself. The embedded database is one process;
 * a PostgreSQL server on this machine (DATABASE_URL at 127.0.0.1) is its postmaster and
 * every backend (`serverCpuSecondsOf`), which covers the bench's own connections too
 * (its polling is a few queries a second). A server elsewhere is not counted.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Linux reports CPU time in clock ticks; 100 per second on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

/** A process's command, parent and CPU seconds (its own and its reaped children's), from one read of /proc/<pid>/stat. */
function statOf(pid: number): { comm: string; ppid: number; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
      ppid: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND,
    };
  } catch {
    // The process ended while we looked.
    return null;
  }
}

export function cpuSecondsOf(pid: number): number | null {
  return statOf(pid)?.cpuSeconds ?? null;
}

/** Every process running now, with its stat. */
export function* processes(): Generator<{ pid: number; comm: string; ppid: number; cpuSeconds: number }> {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat) yield { pid: Number(entry), ...stat };
  }
}

/** The postmaster of a PostgreSQL server running on this machine (the `postgres` process whose parent is not one), or null. */
export function localPostmaster(): number | null {
  for (const running of processes()) {
    if (running.comm === "postgres" && statOf(running.ppid)?.comm !== "postgres") return running.pid;
  }
  return null;
}

/**
 * A server's CPU: the postmaster's own and its ended backends' (which the kernel adds
 * to it when it reaps them), plus every backend still running.
 */
function serverCpuSecondsOf(postmaster: number): number | null {
  const own = cpuSecondsOf(postmaster);
  if (own === null) return null;
  let total = own;
  for (const running of processes()) if (running.ppid === postmaster) total += running.cpuSeconds;
  return total;
}

export type CpuAccount = Record<string, number | null>;

/** A process to count, or a local server to count with its backends. */
type Counted = number | { server: number } | null | undefined;

/** The stack's own processes besides workerd: the Neon gateway and the database (the embedded one, or a server on this machine). */
export type StackProcesses = { gateway: number | null; database: Counted };

function secondsOf(counted: Counted): number | null {
  if (!counted) return null;
  return typeof counted === "number" ? cpuSecondsOf(counted) : serverCpuSecondsOf(counted.server);
}

/** Starts counting for the named processes; `stop()` answers the CPU seconds each used since. */
export function countCpu(processes: Record<string, Counted>): { stop(): CpuAccount } {
  const start = Object.fromEntries(Object.entries(processes).map(([name, counted]) => [name, secondsOf(counted)]));
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(processes).map(([name, counted]) => {
          const now = secondsOf(counted);
          const then = start[name];
          return [name, now === null || then === null || then === undefined ? null : Math.round((now - then) * 100) / 100];
        }),
      ),
  };
}
