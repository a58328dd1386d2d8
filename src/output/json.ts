/** `--output json`: one JSON object per event per line, for CI and scripts. */
import type { EventBus } from './events.js';

export function attachJsonOutput<E extends { type: string }>(bus: EventBus<E>, write: (s: string) => void): () => void {
  return bus.subscribe((event) => {
    write(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
  });
}
