/**
 * Values that must never be treated as template source.
 *
 * `!unsafe` strings from playbooks, and the vault's ciphertext, are wrapped so
 * that the templating layer can recognise them by type.
 */

/** A string marked `!unsafe` in YAML: used verbatim, never templated. */
export class UnsafeText {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
  toJSON(): string {
    return this.value;
  }
}

/** An inline `!vault` value; decrypted with the run's vault secrets when first used. */
export class VaultedText {
  constructor(
    readonly ciphertext: string,
    /** where it was written, for error messages */
    readonly file?: string,
  ) {}
  toString(): string {
    return '********';
  }
  toJSON(): string {
    return '********';
  }
}
