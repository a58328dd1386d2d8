/** Everything the run remembers about one host, across tasks and plays. */
import type { HostFacts } from '../facts/host-facts.js';
import type { TaskNode } from '../playbook/ast.js';
import { emptyStats, type HostStats } from '../output/play-events.js';
import { FactCache } from './facts-batch.js';

export class HostRun {
  facts: HostFacts | undefined;
  readonly factCache = new FactCache();
  /** set_fact and register results: data, never templated again */
  readonly hostFacts: Record<string, unknown> = {};
  /** include_vars results: playbook content, templated on use */
  readonly includedVars: Record<string, unknown> = {};
  readonly stats: HostStats = emptyStats();
  failed = false;
  unreachable = false;
  /** meta: end_host, or end_play for this play */
  ended = false;
  readonly notified = new Set<TaskNode>();
  /** check mode: changes predicted so far, for "would change" on missing prerequisites */
  predictedChanges = 0;
  failedTask: { name?: string; action?: string } | undefined;
  failedResult: Record<string, unknown> | undefined;

  constructor(readonly name: string) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}
