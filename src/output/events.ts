/**
 * Output is a stream of typed events. Renderers (plain text, live view, JSON)
 * subscribe to it; nothing else in the program writes to stdout.
 */

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export type RunEvent =
  | { type: 'adhoc_start'; pattern: string; hosts: string[]; command: string }
  | { type: 'host_output'; host: string; stream: 'stdout' | 'stderr'; line: string }
  | {
      type: 'adhoc_host_done';
      host: string;
      status: 'ok' | 'failed' | 'unreachable';
      exitCode: number | null;
      stdout: string;
      stderr: string;
      message?: string;
      durationMs: number;
    }
  | { type: 'adhoc_summary'; ok: string[]; failed: string[]; unreachable: string[]; durationMs: number }
  | { type: 'warning'; message: string; host?: string }
  | { type: 'verbose'; level: number; message: string; host?: string };

export type Listener<E> = (event: E) => void;

export class EventBus<E extends { type: string }> {
  private readonly listeners: Listener<E>[] = [];

  /** @param transform applied once to every event before any listener sees it (redaction). */
  constructor(private readonly transform?: (event: E) => E) {}

  subscribe(listener: Listener<E>): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(event: E): void {
    const e = this.transform ? this.transform(event) : event;
    for (const l of this.listeners) l(e);
  }
}
