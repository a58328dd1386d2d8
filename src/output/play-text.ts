/**
 * Ansible-shaped text output: PLAY and TASK headings, one line per host
 * result, diffs, and the PLAY RECAP. Verbosity adds results (-v), commands
 * (-vv) and connection detail (-vvv).
 */
import type { ChalkInstance } from 'chalk';
import { createTwoFilesPatch } from 'diff';
import type { EventBus } from './events.js';
import type { PlayEvent } from './play-events.js';

export interface PlayTextOptions {
  style: ChalkInstance;
  out: (s: string) => void;
  verbosity: number;
  /** terminal width for the ***** rules */
  width?: number;
}

function heading(title: string, width: number): string {
  const stars = Math.max(3, width - title.length - 1);
  return `\n${title} ${'*'.repeat(stars)}\n`;
}

function compact(value: unknown): string {
  return JSON.stringify(value);
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 4);
}

export function renderDiff(d: { path: string; before: string; after: string; beforeHeader?: string; afterHeader?: string }, style: ChalkInstance): string {
  const patch = createTwoFilesPatch(`before: ${d.beforeHeader ?? d.path}`, `after: ${d.afterHeader ?? d.path}`, d.before, d.after, undefined, undefined, { context: 3 });
  return patch
    .split('\n')
    .slice(1)
    .map((line) => (line.startsWith('+') && !line.startsWith('+++') ? style.green(line) : line.startsWith('-') && !line.startsWith('---') ? style.red(line) : line.startsWith('@@') ? style.cyan(line) : line))
    .join('\n');
}

export function attachPlayText(bus: EventBus<PlayEvent>, opts: PlayTextOptions): () => void {
  const { style, out } = opts;
  const width = opts.width ?? 80;
  let taskPrinted = true;
  let pendingHeading = '';
  const flushHeading = () => {
    if (!taskPrinted) {
      out(pendingHeading);
      taskPrinted = true;
    }
  };
  return bus.subscribe((e) => {
    switch (e.type) {
      case 'play_start': {
        const batch = e.batch ? ` (batch ${e.batch.index}/${e.batch.of})` : '';
        out(heading(`PLAY [${e.name}]${batch}`, width));
        if (e.hosts.length === 0) out(style.cyan('skipping: no hosts matched') + '\n');
        return;
      }
      case 'task_start':
        pendingHeading = heading(`${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.name}]`, width) + (opts.verbosity >= 2 ? style.gray(`task path: ${e.location}\n`) : '');
        taskPrinted = false;
        // Headings print with the first result, so tasks skipped by tags leave no trace, as in Ansible.
        return;
      case 'host_result': {
        flushHeading();
        const who = e.delegatedTo ? `${e.host} -> ${e.delegatedTo}` : e.host;
        const item = e.item !== undefined ? ` => (item=${e.item})` : '';
        let line: string;
        let detail = '';
        switch (e.status) {
          case 'ok':
            line = style.green(`ok: [${who}]${item}`);
            break;
          case 'changed':
            line = style.yellow(`changed: [${who}]${item}`);
            break;
          case 'skipped':
            line = style.cyan(`skipping: [${who}]${item}`);
            break;
          case 'unreachable':
            line = style.red(`fatal: [${who}]: UNREACHABLE! => ${compact({ changed: false, msg: e.msg, unreachable: true })}`);
            break;
          case 'failed': {
            const label = e.ignored ? 'failed' : 'fatal';
            const shown: Record<string, unknown> = { changed: false, msg: e.msg, ...(e.command ? { cmd: e.command } : {}), ...(e.stderr ? { stderr: e.stderr.trimEnd() } : {}) };
            if (e.result && typeof e.result.rc === 'number') shown.rc = e.result.rc;
            line = style.red(`${label}: [${who}]${item}: FAILED! => ${compact(shown)}`);
            if (e.ignored) detail = style.cyan('...ignoring') + '\n';
            break;
          }
        }
        if (e.diff && e.diff.length) for (const d of e.diff) out(renderDiff(d, style) + '\n');
        if (e.action === 'debug' && e.result && e.status === 'ok') {
          const { changed: _changed, ...shown } = e.result;
          line += ' => ' + pretty(shown);
        }
        else if (opts.verbosity >= 1 && e.result && e.status !== 'failed' && e.status !== 'unreachable') line += ' => ' + compact(e.result);
        out(line + '\n' + detail);
        if (opts.verbosity >= 1 && e.reason && e.status === 'ok') out(style.gray(`  ${e.reason}\n`));
        return;
      }
      case 'warning':
        out(style.magenta(`[WARNING]: ${e.host ? e.host + ': ' : ''}${e.message}`) + '\n');
        return;
      case 'verbose':
        if (e.level === 0) {
          out(`${e.message}\n`);
          return;
        }
        out(style.gray(`${e.host ? `<${e.host}> ` : ''}${e.message}`) + '\n');
        return;
      case 'play_recap': {
        out(heading('PLAY RECAP', width));
        const names = Object.keys(e.stats);
        const pad = Math.max(26, ...names.map((n) => n.length + 1));
        for (const [host, s] of Object.entries(e.stats)) {
          const color = s.unreachable || s.failed ? style.red : s.changed ? style.yellow : style.green;
          // Pad the plain text, then color it, so columns line up with and without colors.
          const field = (label: string, n: number, c: (x: string) => string, width: number) => {
            const text = `${label}=${n}`.padEnd(width);
            return n ? c(text) : text;
          };
          out(
            `${color(host.padEnd(pad))}: ${field('ok', s.ok, style.green, 5)} ${field('changed', s.changed, style.yellow, 10)} ${field('unreachable', s.unreachable, style.red, 14)} ${field('failed', s.failed, style.red, 9)} ${field('skipped', s.skipped, style.cyan, 10)} ${field('rescued', s.rescued, style.green, 10)} ${field('ignored', s.ignored, style.magenta, 10)}`.trimEnd() + '\n',
          );
        }
        out(style.gray(`\nfinished in ${(e.durationMs / 1000).toFixed(2)} s\n`));
        return;
      }
      case 'playbook_end':
        if (e.interrupted) out(style.red('\ninterrupted: the run was stopped (Ctrl-C); the recap above shows what was done.\n'));
        return;
      default:
        return;
    }
  });
}
