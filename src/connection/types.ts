import type { ShellCommand } from '../util/shell.js';

/** How to become another user on the host (Ansible's `become*` settings). */
export interface BecomeSpec {
  user: string;
  method: 'sudo' | 'su';
  /** Sent over stdin, never in argv. */
  password?: string;
  flags?: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Kill the remote command after this many milliseconds. */
  timeoutMs?: number;
  become?: BecomeSpec;
  /** Exported to the command (values are quoted). */
  env?: Record<string, string>;
  /** Streams output as it arrives, for the ad-hoc runner's live prefixing. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the command was killed by a signal or timed out */
  exitCode: number | null;
  signal?: string;
  timedOut?: boolean;
  /** The command text as sent, for error messages (passwords never appear in it). */
  command: string;
}

/** One open connection to one host, reused for every command in a run. */
export interface Connection {
  readonly host: string;
  exec(command: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** Everything needed to open a connection, derived from inventory variables and ~/.ssh/config. */
export interface ConnectionSpec {
  /** Inventory name of the host. */
  host: string;
  transport: 'ssh' | 'local';
  /** Address to connect to (ansible_host, else HostName from ssh config, else the name). */
  address: string;
  port: number;
  user: string;
  privateKeyFiles: string[];
  /** ansible_password; kept out of argv and logs. */
  password?: string;
  /** Comma-separated jump hosts, `[user@]host[:port]`, as in ssh's ProxyJump. */
  proxyJump?: string;
  connectTimeoutMs: number;
}
