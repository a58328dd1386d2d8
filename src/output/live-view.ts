/**
 * The live view on a terminal: while a task runs, one line per host shows
 * where it is (connecting, checking, applying) through listr2; when the task
 * is done the lines collapse into one summary line. Failures, diffs,
 * warnings and the recap print as in the plain output.
 */
import type { ChalkInstance } from 'chalk';
import { Listr } from 'listr2';
import { EventBus } from './events.js';
import type { PlayEvent, TaskStatus } from './play-events.js';
import { attachPlayText } from './play-text.js';

export interface LiveViewOptions {
  style: ChalkInstance;
  out: (s: string) => void;
}

/** The part of listr2's task wrapper we use: its live title. */
interface HostTask {
  title: string | undefined;
}

interface HostSlot {
  resolve: () => void;
  reject: (err: Error) => void;
  task?: HostTask;
  status?: TaskStatus;
}

export function attachLiveView(bus: EventBus<PlayEvent>, opts: LiveViewOptions): () => void {
  const { style } = opts;
  // Everything except per-host progress goes through the plain renderer.
  const plain = new EventBus<PlayEvent>();
  attachPlayText(plain, { style, out: opts.out, verbosity: 0, width: Math.min(process.stdout.columns || 80, 120) });
  let slots = new Map<string, HostSlot>();
  let running: Promise<unknown> = Promise.resolve();
  const counts = new Map<TaskStatus, number>();

  const finishTask = async () => {
    for (const s of slots.values()) s.resolve();
    await running;
  };

  return bus.subscribe((e) => {
    switch (e.type) {
      case 'task_start': {
        const previous = running;
        const hosts = e.hosts;
        const newSlots = new Map<string, HostSlot>();
        counts.clear();
        const title = `${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.name}]`;
        const list = new Listr(
          [
            {
              title,
              task: (_ctx, parent) =>
                parent.newListr(
                  hosts.map((host) => ({
                    title: host,
                    task: (_c: unknown, t: { title?: string }) =>
                      new Promise<void>((resolve, reject) => {
                        const slot = newSlots.get(host)!;
                        slot.task = t as HostTask;
                        slot.resolve = resolve;
                        slot.reject = reject;
                      }),
                  })),
                  { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: true } },
                ),
            },
          ],
          { exitOnError: false, rendererOptions: { collapseSubtasks: true, collapseErrors: true } },
        );
        for (const h of hosts) newSlots.set(h, { resolve: () => undefined, reject: () => undefined });
        slots = newSlots;
        running = previous.then(() => list.run().catch(() => undefined));
        return;
      }
      case 'host_phase': {
        const slot = slots.get(e.host);
        if (slot?.task) slot.task.title = `${e.host} ${style.gray(e.phase)}`;
        return;
      }
      case 'host_result': {
        const slot = slots.get(e.host);
        counts.set(e.status, (counts.get(e.status) ?? 0) + 1);
        if (e.status === 'failed' || e.status === 'unreachable' || (e.diff && e.diff.length) || e.item !== undefined) {
          // Details stay on screen after the live lines collapse.
          void running.then(() => plain.emit(e));
        }
        if (!slot || e.item !== undefined) return;
        const label = e.status === 'changed' ? style.yellow('changed') : e.status === 'ok' ? style.green('ok') : e.status === 'skipped' ? style.cyan('skipped') : style.red(e.status);
        if (slot.task) slot.task.title = `${e.host} ${label}`;
        if ((e.status === 'failed' && !e.ignored) || e.status === 'unreachable') slot.reject(new Error(`${e.host}: ${e.msg ?? e.status}`));
        else slot.resolve();
        return;
      }
      case 'play_recap':
      case 'playbook_end':
      case 'play_start':
      case 'warning':
      case 'verbose':
        void finishTask().then(() => plain.emit(e));
        return;
      default:
        return;
    }
  });
}
