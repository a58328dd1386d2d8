/**
 * The one place where work fans out across hosts. Everything parallel in
 * tsible goes through here, so `--forks` means the same thing everywhere.
 */
import pLimit from 'p-limit';

export interface FanOutOptions {
  forks: number;
  /** psh-style: one host after another, in inventory order. */
  oneByOne?: boolean;
  /** Stop starting new hosts (already running ones finish). */
  signal?: AbortSignal;
}

export async function forEachHost<T>(hosts: readonly string[], options: FanOutOptions, work: (host: string) => Promise<T>): Promise<Map<string, T>> {
  const limit = pLimit(options.oneByOne ? 1 : Math.max(1, options.forks));
  const results = new Map<string, T>();
  await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        if (options.signal?.aborted) return;
        results.set(host, await work(host));
      }),
    ),
  );
  return results;
}
