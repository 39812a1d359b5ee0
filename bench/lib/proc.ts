/** Process figures from /proc: disk I/O counters and resident memory (Linux). */
import { readFileSync } from 'node:fs';

export interface ProcIo {
  /** Bytes handed to write()/pwrite() (page cache included). */
  wchar: number;
  /** Bytes this process caused to be sent to the storage layer. */
  write_bytes: number;
  cancelled_write_bytes: number;
}

export function readProcIo(): ProcIo {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/self/io', 'utf8').split('\n')) {
    const [k, v] = line.split(':');
    if (k && v) out[k.trim()] = Number(v.trim());
  }
  return { wchar: out.wchar ?? 0, write_bytes: out.write_bytes ?? 0, cancelled_write_bytes: out.cancelled_write_bytes ?? 0 };
}

export function ioDelta(a: ProcIo, b: ProcIo): ProcIo {
  return {
    wchar: b.wchar - a.wchar,
    write_bytes: b.write_bytes - a.write_bytes,
    cancelled_write_bytes: b.cancelled_write_bytes - a.cancelled_write_bytes,
  };
}

/** VmRSS and VmHWM (peak RSS since the process started), in bytes. */
export function memStatus(): { rss: number; hwm: number } {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples RSS on a timer; `max` is the highest seen. */
export class RssSampler {
  max = 0;
  /** process.memoryUsage() (MB) when the highest RSS was seen. */
  atMax: Record<string, number> = {};
  samples: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  start(everyMs = 100): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const rss = memStatus().rss;
    if (rss > this.max) {
      this.max = rss;
      const m = process.memoryUsage();
      this.atMax = { rss: m.rss / MB, heapTotal: m.heapTotal / MB, heapUsed: m.heapUsed / MB, external: m.external / MB, arrayBuffers: m.arrayBuffers / MB };
      for (const k of Object.keys(this.atMax)) this.atMax[k] = Math.round((this.atMax[k] ?? 0) * 10) / 10;
    }
    if (this.samples.length < 10_000) this.samples.push(rss);
    return rss;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

export const MB = 1024 * 1024;

/** CPU seconds (utime + stime, every thread) of a process from /proc/<pid>/stat. */
export function cpuSeconds(pid: number | 'self' = 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks: 100/s on Linux
}
