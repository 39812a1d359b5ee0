/**
 * Small durable key/value state for drivers (a rain gauge's running total, a
 * counter's last raw value). Values are JSON. `set` is durable once it returns
 * (the buffer's database backs it, so state and readings share one disk file).
 * Keys are scoped per device by the runtime.
 */
export interface StateStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

/** In-memory store for tests and tools that have no buffer. */
export class MemoryStateStore implements StateStore {
  private readonly map = new Map<string, string>();
  get<T>(key: string): T | undefined {
    const v = this.map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  set(key: string, value: unknown): void {
    this.map.set(key, JSON.stringify(value));
  }
}
