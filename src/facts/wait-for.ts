/**
 * wait_for's waiting happens on the host, in one command: it polls until the
 * condition holds or the timeout passes, then reports which. It is a read,
 * so it runs in check mode too.
 */
import { sh, ShellCommand } from '../util/shell.js';
import type { Fact } from './types.js';

export interface WaitForArgs {
  host: string;
  port?: number;
  path?: string;
  state: 'started' | 'stopped' | 'present' | 'absent' | 'drained';
  timeout: number;
  delay: number;
  sleep: number;
  searchRegex?: string;
  connectTimeout: number;
}

export interface WaitForResult {
  satisfied: boolean;
  elapsed: number;
  match?: string;
}

function probe(a: WaitForArgs): ShellCommand {
  if (a.port !== undefined) {
    // bash's /dev/tcp when bash exists (Debian has it), else nc.
    const connect = sh`if command -v bash >/dev/null 2>&1; then timeout ${a.connectTimeout} bash -c ${'exec 3<>/dev/tcp/"$0"/"$1"'} ${a.host} ${a.port} 2>/dev/null; else nc -z -w ${a.connectTimeout} ${a.host} ${a.port} 2>/dev/null; fi`;
    return a.state === 'stopped' || a.state === 'drained' ? sh`! { ${connect}; }` : connect;
  }
  const path = a.path!;
  if (a.state === 'absent') return sh`[ ! -e ${path} ]`;
  if (a.searchRegex) return sh`[ -e ${path} ] && grep -Eq -- ${a.searchRegex} ${path}`;
  return sh`[ -e ${path} ]`;
}

export const waitForFact: Fact<WaitForArgs, WaitForResult> = {
  name: 'wait_for',
  command: (a) =>
    ShellCommand.join(
      [
        sh`sleep ${a.delay}; start=$(date +%s); deadline=$((start + ${a.timeout}))`,
        sh`while :; do if ${probe(a)}; then echo "ok $(( $(date +%s) - start ))"; exit 0; fi; if [ "$(date +%s)" -ge "$deadline" ]; then echo "timeout $(( $(date +%s) - start ))"; exit 0; fi; sleep ${a.sleep}; done`,
      ],
      '\n',
    ),
  parse: (out) => {
    const [status, elapsed] = out.stdout.trim().split(/\s+/);
    return { satisfied: status === 'ok', elapsed: Number(elapsed ?? 0) };
  },
};
