/**
 * Human output for `tsible run`: each line prefixed with its host as it
 * streams (like pdsh/clush), or with `--gather` hosts with identical output
 * merged under a folded node set (like `clush -b`). Always ends with a summary.
 */
import type { ChalkInstance } from 'chalk';
import { foldNodeSet } from '../inventory/nodeset.js';
import type { EventBus, RunEvent } from './events.js';

export interface AdhocTextOptions {
  gather: boolean;
  style: ChalkInstance;
  out: (s: string) => void;
  err: (s: string) => void;
}

export function attachAdhocText(bus: EventBus<RunEvent>, opts: AdhocTextOptions): () => void {
  const { style, out, err } = opts;
  const messages = new Map<string, string>();
  const gathered = new Map<string, { hosts: string[]; exitCode: number | null }>();
  return bus.subscribe((e) => {
    switch (e.type) {
      case 'host_output':
        if (opts.gather) return;
        if (e.stream === 'stdout') out(`${style.cyan(e.host)}: ${e.line}\n`);
        else err(`${style.yellow(e.host)}: ${e.line}\n`);
        return;
      case 'adhoc_host_done': {
        if (e.message) messages.set(e.host, e.message);
        if (e.status === 'unreachable') {
          err(`${style.red(e.host)}: ${style.red('UNREACHABLE')}: ${e.message}\n`);
          return;
        }
        if (e.status === 'failed' && !opts.gather) {
          err(`${style.red(e.host)}: ${style.red('FAILED')}: ${e.message}\n`);
        }
        if (opts.gather) {
          const key = JSON.stringify([e.stdout, e.stderr, e.exitCode]);
          const g = gathered.get(key) ?? { hosts: [], exitCode: e.exitCode };
          g.hosts.push(e.host);
          gathered.set(key, g);
        }
        return;
      }
      case 'adhoc_summary': {
        if (opts.gather) {
          for (const [key, g] of gathered) {
            const [stdout, stderr] = JSON.parse(key) as [string, string, number | null];
            const title = `${foldNodeSet(g.hosts)} (${g.hosts.length})`;
            const rule = '-'.repeat(Math.min(Math.max(title.length, 15), 78));
            out(`${rule}\n${style.cyan(title)}${g.exitCode === 0 ? '' : style.red(` exit code ${g.exitCode ?? 'none'}`)}\n${rule}\n`);
            const body = stdout + (stderr ? stderr : '');
            if (body) out(body.endsWith('\n') ? body : body + '\n');
          }
        }
        const secs = (e.durationMs / 1000).toFixed(2);
        const parts = [
          style.green(`ok=${e.ok.length}`),
          e.failed.length ? style.red(`failed=${e.failed.length}`) : `failed=0`,
          e.unreachable.length ? style.red(`unreachable=${e.unreachable.length}`) : `unreachable=0`,
        ];
        err(`\n${parts.join('  ')}  (${secs} s)\n`);
        const list = (label: string, hosts: string[]) => {
          if (!hosts.length) return;
          err(`${style.red(label)}: ${foldNodeSet(hosts)}\n`);
          for (const h of hosts) err(`  ${h}: ${messages.get(h) ?? ''}\n`);
        };
        list('failed', e.failed);
        list('unreachable', e.unreachable);
        return;
      }
      case 'warning':
        err(`${style.magenta('[WARNING]')}: ${e.host ? e.host + ': ' : ''}${e.message}\n`);
        return;
      case 'verbose':
        err(style.gray(`${e.host ? e.host + ': ' : ''}${e.message}\n`));
        return;
      default:
        return;
    }
  });
}
