/**
 * A fact is how to read one piece of state from a host: a command and a
 * parser. The executor batches every fact a task needs into one command, so
 * checking a task costs one round trip.
 */
import type { ShellCommand } from '../util/shell.js';

export interface FactOutput {
  stdout: string;
  exitCode: number;
}

export interface Fact<Args, Value> {
  /** unique name, e.g. 'file' or 'debian_packages' */
  readonly name: string;
  command(args: Args): ShellCommand;
  parse(output: FactOutput, args: Args): Value;
  /**
   * Host-wide facts that no task changes (os release, service manager) are
   * read once per host and run; others are read fresh for every task.
   */
  readonly cacheable?: boolean;
}

/** One fact with its arguments, as a module asks for it. */
export interface FactRequest<Value> {
  readonly fact: Fact<unknown, Value>;
  readonly args: unknown;
}

export function factRequest<Args, Value>(fact: Fact<Args, Value>, args: Args): FactRequest<Value> {
  return { fact: fact as Fact<unknown, Value>, args };
}

export type FactRequests = Record<string, FactRequest<unknown>>;

/** The values a module receives for the requests it made. */
export type FactValues<R extends FactRequests> = { [K in keyof R]: R[K] extends FactRequest<infer V> ? V : never };
