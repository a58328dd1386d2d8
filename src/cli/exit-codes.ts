/** Exit codes, documented in the README and `--help`. Failed and unreachable are bit flags, so 6 means both. */
export const EXIT = {
  ok: 0,
  usage: 1,
  hostsFailed: 2,
  hostsUnreachable: 4,
  interrupted: 99,
} as const;

export function exitCodeFor(failed: number, unreachable: number): number {
  return (failed > 0 ? EXIT.hostsFailed : 0) | (unreachable > 0 ? EXIT.hostsUnreachable : 0);
}
