/**
 * The buffer database's `state` table as a StateStore (core/state-store.ts): JSON
 * values by key, for the drivers (keys scoped per device by the runtime) and the
 * buffer clock (`_buffer_time`). Each `set` is one statement of its own, durable once
 * it returns; on a full disk it throws, like any write.
 */
import type { StateStore } from '../core/state-store.js';
import type { Statements } from './row-store.js';

export function stateTable(stmt: Statements): StateStore {
  const get = stmt.getState;
  const set = stmt.setState;
  return {
    get<T>(key: string): T | undefined {
      const row = get.get(key) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    set(key: string, value: unknown): void {
      set.run(key, JSON.stringify(value));
    },
  };
}
