/**
 * One error hierarchy for the whole program. Every error carries what a user
 * needs to act on it: where in their files (`location`), which host and task,
 * and for remote failures the command and its stderr. Only the CLI prints
 * errors and picks the exit code.
 */

export interface SourceLocation {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
  /** The offending source line, shown with a caret under `col`. */
  lineText?: string;
}

export interface ErrorDetails {
  location?: SourceLocation;
  host?: string;
  task?: string;
  role?: string;
  command?: string;
  stderr?: string;
  exitCode?: number | null;
  hint?: string;
  cause?: unknown;
}

export class TsibleError extends Error {
  readonly location?: SourceLocation;
  readonly host?: string;
  readonly task?: string;
  readonly role?: string;
  readonly command?: string;
  readonly stderr?: string;
  readonly exitCode?: number | null;
  readonly hint?: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.location = details.location;
    this.host = details.host;
    this.task = details.task;
    this.role = details.role;
    this.command = details.command;
    this.stderr = details.stderr;
    this.exitCode = details.exitCode;
    this.hint = details.hint;
  }

  /** A copy of this error with more context filled in (host, task, ...), keeping what is already known. */
  with(details: ErrorDetails): this {
    const Ctor = this.constructor as new (message: string, details: ErrorDetails) => this;
    return new Ctor(this.message, {
      location: this.location ?? details.location,
      host: this.host ?? details.host,
      task: this.task ?? details.task,
      role: this.role ?? details.role,
      command: this.command ?? details.command,
      stderr: this.stderr ?? details.stderr,
      exitCode: this.exitCode ?? details.exitCode,
      hint: this.hint ?? details.hint,
      cause: this.cause ?? details.cause,
    });
  }
}

/** Bad input in a playbook, inventory, template or vars file: always has a location when one is known. */
export class ParseError extends TsibleError {}

/** Bad command-line usage. */
export class UsageError extends TsibleError {}

/** A command ran on a host and failed. */
export class RemoteError extends TsibleError {}

/** The host could not be reached, or the connection dropped. */
export class UnreachableError extends TsibleError {}

/** A host key did not match known_hosts, or was unknown and not accepted. */
export class HostKeyError extends UnreachableError {}

/** The user interrupted the run (Ctrl-C). */
export class InterruptedError extends TsibleError {}

/** Renders `file:line:col`, the source line and a caret. */
export function formatLocation(loc: SourceLocation): string {
  const head = `${loc.file}:${loc.line}:${loc.col}`;
  if (loc.lineText === undefined) return head;
  const gutter = `${loc.line} | `;
  const caret = ' '.repeat(gutter.length + Math.max(0, loc.col - 1)) + '^';
  return `${head}\n${gutter}${loc.lineText}\n${caret}`;
}

/** The user-facing text of any error: never a stack trace. */
export function formatError(err: unknown): string {
  if (!(err instanceof TsibleError)) {
    const msg = err instanceof Error ? err.message : String(err);
    return `ERROR: ${msg}`;
  }
  const lines: string[] = [];
  const where = [err.host && `host ${err.host}`, err.role && `role ${err.role}`, err.task && `task "${err.task}"`]
    .filter(Boolean)
    .join(', ');
  lines.push(`ERROR: ${where ? `[${where}] ` : ''}${err.message}`);
  if (err.location) lines.push(formatLocation(err.location));
  if (err.command) lines.push(`command: ${err.command}`);
  if (err.exitCode !== undefined && err.exitCode !== null) lines.push(`exit code: ${err.exitCode}`);
  if (err.stderr && err.stderr.trim()) lines.push(`stderr: ${err.stderr.trimEnd()}`);
  if (err.hint) lines.push(`hint: ${err.hint}`);
  return lines.join('\n');
}

/** Finds the 1-based line/col of a character offset in `text`, and the line itself. */
export function locationAt(file: string, text: string, offset: number): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const end = text.indexOf('\n', lineStart);
  const lineText = text.slice(lineStart, end === -1 ? undefined : end).replace(/\r$/, '');
  return { file, line, col: offset - lineStart + 1, lineText };
}

/** The location of a whole 1-based line in `text`. */
export function locationOfLine(file: string, text: string, line: number, col = 1): SourceLocation {
  const lines = text.split('\n');
  return { file, line, col, lineText: (lines[line - 1] ?? '').replace(/\r$/, '') };
}
