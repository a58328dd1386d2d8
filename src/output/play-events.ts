/** Events of a playbook run; the text, live and JSON outputs all subscribe to these. */
import type { FileDiff } from '../modules/types.js';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type PlayEvent =
  | { type: 'playbook_start'; file: string; check: boolean; diff: boolean }
  | { type: 'play_start'; name: string; hosts: string[]; batch?: { index: number; of: number } }
  | { type: 'task_start'; name: string; role?: string; handler: boolean; location: string; hosts: string[] }
  | {
      type: 'host_result';
      host: string;
      task: string;
      /** the module, e.g. 'copy' */
      action?: string;
      role?: string;
      status: TaskStatus;
      /** failed but ignore_errors, or unreachable but ignore_unreachable */
      ignored?: boolean;
      /** loop item label */
      item?: string;
      delegatedTo?: string;
      msg?: string;
      /** why nothing changed, in a sentence */
      reason?: string;
      diff?: FileDiff[];
      /** the registered result (redacted when no_log) */
      result?: Record<string, unknown>;
      /** remote failure detail: the command and its stderr */
      command?: string;
      stderr?: string;
      location?: string;
      durationMs: number;
      /** in check mode: this result is a prediction */
      predicted?: boolean;
    }
  | { type: 'host_phase'; host: string; task: string; phase: 'connecting' | 'checking' | 'applying' | 'done' }
  | { type: 'play_recap'; stats: Record<string, HostStats>; durationMs: number }
  | { type: 'playbook_end'; durationMs: number; interrupted: boolean }
  | { type: 'warning'; message: string; host?: string }
  | { type: 'verbose'; level: number; message: string; host?: string };

export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}
