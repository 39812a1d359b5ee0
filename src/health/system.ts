/**
 * System vitals ops staff ask for: CPU temperature, load, memory, disk free on the
 * data partition. Each is null where the platform does not expose it.
 *
 * Under the unit's ProcSubset=pid only /proc/self (and /proc/<pid>) is visible
 * (checked by test/interop/proc-subset.test.ts): RSS (/proc/self/stat) and
 * /proc/self/io still read; load and memory come through Node's os module, which falls
 * back to the sysinfo() system call when /proc/loadavg and /proc/meminfo are hidden, so
 * there `mem_free_bytes` is the kernel's free memory without reclaimable page cache
 * (MemFree, lower than MemAvailable). The CPU temperature is under /sys, not /proc.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { freemem, loadavg, totalmem } from 'node:os';

export function systemVitals(dataDir: string, thermal = '/sys/class/thermal/thermal_zone0/temp'): Record<string, number | null> {
  let cpuTemp: number | null = null;
  try {
    cpuTemp = Math.round(Number(readFileSync(thermal, 'utf8').trim()) / 100) / 10;
  } catch {
    cpuTemp = null;
  }
  let diskFree: number | null = null;
  let diskTotal: number | null = null;
  try {
    const s = statfsSync(dataDir);
    diskFree = s.bavail * s.bsize;
    diskTotal = s.blocks * s.bsize;
  } catch {
    // data dir not there yet
  }
  const [l1, l5, l15] = loadavg();
  return {
    cpu_temp_c: Number.isFinite(cpuTemp) ? cpuTemp : null,
    load_1m: round(l1),
    load_5m: round(l5),
    load_15m: round(l15),
    mem_free_bytes: freemem(),
    mem_total_bytes: totalmem(),
    rss_bytes: process.memoryUsage.rss(),
    disk_free_bytes: diskFree,
    disk_total_bytes: diskTotal,
  };
}

const round = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n * 100) / 100);

/**
 * Bytes this process caused to be written to storage since it started (Linux
 * /proc/self/io `write_bytes`: what reaches the block layer, so SQLite's WAL and
 * checkpoints count, page-cache rewrites of the same block do not). The gateway's
 * own writes are the buffer's, so this is the SD-card wear figure. null elsewhere.
 */
export function storageBytesWritten(io = '/proc/self/io'): number | null {
  try {
    const m = /^write_bytes:\s*(\d+)/m.exec(readFileSync(io, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
