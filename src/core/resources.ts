/**
 * Hardware shared between devices: several Modbus devices on one RS-485 bus share one
 * serial port and one request queue. `acquire(key, open)` returns the live resource
 * for `key`, opening it with `open()` on first use; `release(key)` closes it when the
 * last user lets go. The creator of a resource owns its reconnect logic. A resource
 * may offer `snapshot()`: the runtime publishes it in health under `buses`, keyed by the
 * resource's `name` (the bus name from the config, which is unique), not by its
 * internal key (which carries a kind prefix so two drivers cannot collide).
 */
export interface Closable {
  close(): Promise<void> | void;
}

/** A shared resource that reports itself in health (`buses.<name>`). */
export interface Reporting {
  readonly name: string;
  snapshot(): Record<string, unknown>;
}

export interface SharedResources {
  acquire<T extends Closable>(key: string, open: () => T): T;
  release(key: string): Promise<void>;
}

export class RefCountedResources implements SharedResources {
  private readonly entries = new Map<string, { value: Closable; refs: number }>();

  acquire<T extends Closable>(key: string, open: () => T): T {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { value: open(), refs: 0 };
      this.entries.set(key, entry);
    }
    entry.refs++;
    return entry.value as T;
  }

  async release(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.refs--;
    if (entry.refs <= 0) {
      this.entries.delete(key);
      await entry.value.close();
    }
  }

  /** Health snapshots of resources that offer one (e.g. a Modbus bus), by their name. */
  snapshots(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [key, e] of this.entries) {
      const r = e.value as Partial<Reporting>;
      if (typeof r.snapshot === 'function') out[typeof r.name === 'string' ? r.name : key] = r.snapshot();
    }
    return out;
  }

  /** Close everything still open (shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(all.map((e) => e.value.close()));
  }
}
