// CPU time read from /proc, for CPU per request at a fixed request rate: the server's main thread (its
// event loop), the whole server process (every thread, exited ones included), and every PostgreSQL process.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux

/** utime + stime of a /proc stat line, in µs (the fields after the parenthesised command name). */
function statMicros(path: string): number {
  const text = readFileSync(path, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
}

/** The main thread's time on a CPU, in µs: schedstat counts it in nanoseconds (stat only in 10 ms ticks). */
function threadMicros(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return statMicros(`/proc/${pid}/task/${pid}/stat`);
  }
}

export interface CpuReading {
  mainMicros: number;
  processMicros: number;
  /** Per PostgreSQL process, so one that started during the run counts from zero. */
  postgres: Map<number, number>;
}

function postgresProcesses(): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      found.set(Number(entry), statMicros(`/proc/${entry}/stat`));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function readCpu(serverPid: number): CpuReading {
  return { mainMicros: threadMicros(serverPid), processMicros: statMicros(`/proc/${serverPid}/stat`), postgres: postgresProcesses() };
}

/** CPU spent between two readings, in µs. */
export function cpuSpent(before: CpuReading, after: CpuReading): { main: number; process: number; postgres: number } {
  let postgres = 0;
  for (const [pid, micros] of after.postgres) postgres += micros - (before.postgres.get(pid) ?? 0);
  return { main: after.mainMicros - before.mainMicros, process: after.processMicros - before.processMicros, postgres };
}

/** The PIDs of every PostgreSQL process, for pinning them to a core. */
export function postgresPids(): number[] {
  return [...postgresProcesses().keys()];
}
