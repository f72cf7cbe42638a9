import type { Faults } from '../faults.ts';
import type { KeyStore } from '../store.ts';
import type { SimCounters, SimulatorOptions } from '../types.ts';

/** What every route module of one simulator shares: its clock, inventory, faults and counters. */
export interface SimContext {
  readonly options: SimulatorOptions;
  readonly store: KeyStore;
  readonly faults: Faults;
  /** Timers the simulator clears on `close()`. */
  readonly timers: Set<NodeJS.Timeout>;
  /** The simulator's clock in ms (moved by `advanceClock`). */
  now(): number;
  /** The current counters (`reset()` replaces the object, so always read them through this). */
  counters(): SimCounters;
}
