/** Colors for human output: chalk, turned off by NO_COLOR (https://no-color.org) or a non-TTY. */
import { Chalk, supportsColor, type ChalkInstance } from 'chalk';

export function makeStyle(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return new Chalk({ level: 0 });
  if (process.env.FORCE_COLOR !== undefined) return new Chalk();
  if (!stream.isTTY) return new Chalk({ level: 0 });
  return new Chalk({ level: supportsColor ? supportsColor.level : 1 });
}
