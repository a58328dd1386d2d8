/**
 * known_hosts, read and written the way OpenSSH does: plain and hashed
 * (`|1|salt|hmac`) host fields, `[host]:port` for non-default ports,
 * patterns with `*`, `?` and `!negation`, and `@revoked` markers.
 *
 * The decision is strict: a key that differs from a known one is always
 * refused, with both fingerprints; an unknown host is refused unless the user
 * asked for accept-new, and then the key is appended atomically.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  hostField: string;
  keyType: string;
  keyBase64: string;
  line: number;
}

export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'unknown' }
  | { kind: 'revoked'; fingerprint: string; line: number }
  | { kind: 'changed'; presented: string; expected: string[]; lines: number[] };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked' || m === '@cert-authority') marker = m;
      else return;
    }
    const [hostField, keyType, keyBase64] = fields;
    if (!hostField || !keyType || !keyBase64) return;
    entries.push({ marker, hostField, keyType, keyBase64, line: i + 1 });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(field: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const expected = parts[3]!;
  const actual = createHmac('sha1', salt).update(name).digest('base64');
  return actual === expected;
}

type Matcher = (name: string) => boolean;

// Compiled once per distinct host field: a run checks every host against every line.
const matchers = new Map<string, Matcher>();

function compileField(field: string): Matcher {
  if (field.startsWith('|')) return (name) => hashedMatches(field, name);
  const patterns = field.split(',').map((pattern) => {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    const test: Matcher = /[*?]/.test(p) ? ((re) => (n: string) => re.test(n))(globToRegExp(p)) : ((lower) => (n: string) => n.toLowerCase() === lower)(p.toLowerCase());
    return { negated, test };
  });
  return (name) => {
    let matched = false;
    for (const { negated, test } of patterns) {
      if (test(name)) {
        if (negated) return false;
        matched = true;
      }
    }
    return matched;
  };
}

/** Does a known_hosts host field (comma-separated patterns, or a hash) name `lookupName`? */
export function hostFieldMatches(field: string, lookupName: string): boolean {
  let m = matchers.get(field);
  if (!m) {
    m = compileField(field);
    matchers.set(field, m);
  }
  return m(lookupName);
}

/** The SSH wire-format key type inside a public key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's `SHA256:...` fingerprint of a public key blob. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

// rsa-sha2-* are signature algorithms over ssh-rsa keys; the key type in known_hosts stays ssh-rsa.
function sameKeyFamily(a: string, b: string): boolean {
  return a === b;
}

export function verifyHostKey(entries: readonly KnownHostEntry[], lookupNames: readonly string[], blob: Buffer): HostKeyVerdict {
  const presentedType = keyTypeOfBlob(blob);
  const presented = blob.toString('base64');
  const relevant = entries.filter(
    (e) => e.marker !== '@cert-authority' && lookupNames.some((n) => hostFieldMatches(e.hostField, n)),
  );
  const revoked = entries.find((e) => e.marker === '@revoked' && e.keyBase64 === presented);
  if (revoked) return { kind: 'revoked', fingerprint: fingerprint(blob), line: revoked.line };
  const known = relevant.filter((e) => e.marker === undefined);
  if (known.some((e) => sameKeyFamily(e.keyType, presentedType) && e.keyBase64 === presented)) return { kind: 'match' };
  if (known.length === 0) return { kind: 'unknown' };
  // Known under another key (of the same type or another type): never accept it.
  return {
    kind: 'changed',
    presented: fingerprint(blob),
    expected: known.map((e) => `${e.keyType} ${fingerprint(Buffer.from(e.keyBase64, 'base64'))}`),
    lines: known.map((e) => e.line),
  };
}

/** Key types known for a host, so the client can ask the server for those first (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], lookupNames: readonly string[]): string[] {
  const types = new Set<string>();
  for (const e of entries) {
    if (e.marker === undefined && lookupNames.some((n) => hostFieldMatches(e.hostField, n))) types.add(e.keyType);
  }
  return [...types];
}

/**
 * A known_hosts file shared by every connection of a run: read once, and
 * appended to (for accept-new) through one queue so concurrent handshakes
 * never lose each other's lines.
 */
export class KnownHostsFile {
  private entries: KnownHostEntry[] | undefined;
  private loading: Promise<KnownHostEntry[]> | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Reads the file once, however many connections ask at the same time. */
  load(): Promise<KnownHostEntry[]> {
    this.loading ??= (async () => {
      let text = '';
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.entries = parseKnownHosts(text);
      return this.entries;
    })();
    return this.loading;
  }

  /** Loaded entries; call `load()` first. */
  get loaded(): readonly KnownHostEntry[] {
    return this.entries ?? [];
  }

  /** Appends `name keytype base64` atomically (temp file, then rename). */
  append(lookupName: string, blob: Buffer): Promise<void> {
    const line = `${lookupName} ${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
    this.writes = this.writes.then(async () => {
      let text = '';
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      }
      if (text && !text.endsWith('\n')) text += '\n';
      text += line + '\n';
      const tmp = `${this.path}.tsible-${process.pid}-${Date.now()}`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.path);
      this.entries = parseKnownHosts(text);
    });
    return this.writes;
  }
}
