/**
 * Simulated signals as pure functions of (point config, sample index, elapsed time).
 * Stateful shapes (random walk, counter) keep their state in a small object the
 * driver owns, so the same config and seed always give the same series.
 */
import type { Value } from '../../core/reading.js';
import type { SimPointConfig } from './schema.js';


export interface WaveState {
  walk: number;
  count: number;
}

export function initialState(p: SimPointConfig): WaveState {
  return { walk: (p.min + p.max) / 2, count: p.wave === 'counter' ? p.min : 0 };
}

/** The value of point `p` at `elapsedMs` since start. */
export function waveValue(p: SimPointConfig, elapsedMs: number, state: WaveState, random: () => number): Value {
  const span = p.max - p.min;
  const phase = (((elapsedMs % p.period) + p.period) % p.period) / p.period;
  switch (p.wave) {
    case 'sine':
      return p.min + span * (0.5 + 0.5 * Math.sin(2 * Math.PI * phase));
    case 'square':
      return phase < 0.5 ? p.max : p.min;
    case 'triangle':
      return p.min + span * (phase < 0.5 ? phase * 2 : 2 - phase * 2);
    case 'sawtooth':
      return p.min + span * phase;
    case 'random_walk': {
      const next = state.walk + (random() * 2 - 1) * p.step;
      state.walk = Math.min(p.max, Math.max(p.min, next));
      return state.walk;
    }
    case 'step': {
      const values = p.values ?? [p.min];
      return values[Math.floor(elapsedMs / p.period) % values.length] as Value;
    }
    case 'counter': {
      const v = state.count;
      state.count += p.step;
      return v;
    }
    case 'constant':
      return p.value ?? p.min;
  }
}
