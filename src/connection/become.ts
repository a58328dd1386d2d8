/**
 * Wraps a command so it runs as another user. The password never enters argv:
 * sudo prints a unique prompt on stderr and the connection answers it over
 * stdin; a success marker on stdout tells when the command itself has started,
 * so the command's own stdin is only sent after sudo is done with it.
 */
import { randomBytes } from 'node:crypto';
import { ShellCommand, sh } from '../util/shell.js';
import { UsageError } from '../errors.js';
import type { BecomeSpec } from './types.js';

export interface BecomeWrapped {
  command: ShellCommand;
  /** Present when a password may be asked for. */
  prompt?: string;
  /** Printed on stdout (then stripped) once the wrapped command starts. */
  successMarker?: string;
}

export function wrapBecome(command: ShellCommand, become: BecomeSpec): BecomeWrapped {
  if (become.method !== 'sudo') {
    throw new UsageError(`become method "${become.method}" is not supported`, { hint: 'use become_method: sudo' });
  }
  const flags = become.flags ? ShellCommand.script(become.flags) : sh`-H`;
  if (become.password === undefined) {
    // -n: fail at once instead of hanging on a prompt nobody will answer.
    return { command: sh`sudo ${flags} -n -u ${become.user} -- /bin/sh -c ${command.text}` };
  }
  const nonce = randomBytes(8).toString('hex');
  const prompt = `[tsible-sudo-${nonce}] password:`;
  const successMarker = `TSIBLE-BECOME-SUCCESS-${nonce}`;
  const inner = `echo ${successMarker}; ${command.text}`;
  return {
    command: sh`sudo ${flags} -S -p ${prompt} -u ${become.user} -- /bin/sh -c ${inner}`,
    prompt,
    successMarker,
  };
}
