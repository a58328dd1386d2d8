/**
 * The one place where shell command text is built.
 *
 * Every value interpolated into a command goes through `quote`, so no user or
 * host value can ever change the structure of a command. User-written scripts
 * (the `shell` module, `tsible run "cmd"`) are the only text that is meant to be
 * interpreted, and they enter through `ShellCommand.script`, by name.
 */

/** A piece of shell text whose structure is known to be safe. */
export class ShellCommand {
  private constructor(readonly text: string) {}

  /** A script the user wrote on purpose, to be interpreted by the shell as is. */
  static script(text: string): ShellCommand {
    return new ShellCommand(text);
  }

  /** Joins commands with `sep` (`&&`, `;`, `||`, or a newline). */
  static join(commands: readonly ShellCommand[], sep: '&&' | ';' | '||' | '\n' = '&&'): ShellCommand {
    return new ShellCommand(commands.map((c) => c.text).join(sep === '\n' ? '\n' : ` ${sep} `));
  }

  toString(): string {
    return this.text;
  }

  /** @internal used by the `sh` tag only */
  static fromTrustedParts(text: string): ShellCommand {
    return new ShellCommand(text);
  }
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX single-quote a value; words made only of safe characters stay bare for readable logs. */
export function quote(value: string | number | bigint): string {
  const s = String(value);
  if (s !== '' && SAFE_WORD.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export type ShellValue = string | number | bigint | ShellCommand | readonly (string | number | ShellCommand)[];

function render(value: ShellValue): string {
  if (value instanceof ShellCommand) return value.text;
  if (Array.isArray(value)) return value.map((v) => render(v as ShellValue)).join(' ');
  return quote(value as string | number | bigint);
}

/**
 * Tagged template for shell commands: the literal parts are trusted, every
 * `${value}` is quoted (arrays become several quoted words, nested
 * `ShellCommand`s are inserted as they are).
 *
 *     sh`mkdir -p ${dir} && chmod ${mode} ${dir}`
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellCommand {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return ShellCommand.fromTrustedParts(out);
}
