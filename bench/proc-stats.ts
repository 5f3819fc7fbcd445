/** CPU time and memory of a process, read from Linux's /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of `pid` in seconds (threads included, children not). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** VmRSS and VmHWM (peak RSS since start or since `resetPeakRss`) of `pid`, in bytes. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Resets the process's VmHWM to its current RSS (Linux `clear_refs` 5); false if refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Pids of this process's children whose command name is `name` (e.g. `nats-server`). */
export function childPids(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (command === name && parent === process.pid) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Busy CPU time of the whole machine, all cores, in seconds (from /proc/stat). */
export function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}

/** CPU use of several processes, and of the machine, over a window, as % of one core. */
export class CpuWindow {
  readonly #start = new Map<number, number>();
  readonly #machineStart = machineCpuSeconds();
  readonly #startedAt = performance.now();

  constructor(pids: readonly number[]) {
    for (const pid of pids) this.#start.set(pid, cpuSeconds(pid));
  }

  /**
   * % of one core each process used since the window opened (NaN for one that ended), and
   * the whole machine's busy time (up to 100 × cores).
   */
  close(): { byPid: Map<number, number>; machine: number } {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const byPid = new Map<number, number>();
    for (const [pid, before] of this.#start) {
      try {
        byPid.set(pid, ((cpuSeconds(pid) - before) / seconds) * 100);
      } catch {
        byPid.set(pid, Number.NaN);
      }
    }
    return { byPid, machine: ((machineCpuSeconds() - this.#machineStart) / seconds) * 100 };
  }
}

/**
 * Waits until the machine has been nearly idle (under `busyPercent` of one core) for a
 * second, at most `timeoutMs`; resolves with whether it was. Cells run on a shared machine
 * measure the other jobs too.
 */
export async function quietMachine(busyPercent = 15, timeoutMs = 60_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const before = machineCpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if ((machineCpuSeconds() - before) * 100 < busyPercent) return true;
    if (performance.now() > deadline) return false;
  }
}
