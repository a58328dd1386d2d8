/**
 * Secrets never reach any output: vault plaintexts, become and SSH
 * passwords, and no_log values are registered here, and every event is
 * passed through `redact` before any subscriber sees it.
 */
export const REDACTED = '********';

export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short values would blank out ordinary words everywhere.
    if (secret && secret.length >= 3) this.secrets.add(secret);
  }

  get empty(): boolean {
    return this.secrets.size === 0;
  }

  redactText(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  redact<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value && typeof value === 'object' && value.constructor === Object) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.walk(v);
      return out;
    }
    return value;
  }
}
