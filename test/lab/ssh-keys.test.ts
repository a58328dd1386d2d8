import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateEd25519KeyPair } from '../../src/lab/ssh-keys.js';

describe('generateEd25519KeyPair', () => {
  it('writes keys that ssh2 parses, every time (ssh2 own generator fails about 1 in 300)', () => {
    for (let i = 0; i < 2000; i++) {
      const pair = generateEd25519KeyPair(`k${i}`);
      const priv = ssh2.utils.parseKey(pair.private);
      const pub = ssh2.utils.parseKey(pair.public);
      if (priv instanceof Error || pub instanceof Error) throw new Error(`key ${i} unparsable: ${String(priv)} ${String(pub)}`);
      expect(priv.getPublicSSH().equals(pub.getPublicSSH())).toBe(true);
    }
  });

  it('is what OpenSSH itself reads: ssh-keygen derives the same public key from the private one', () => {
    const pair = generateEd25519KeyPair('root@cluster1');
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'id');
    writeFileSync(file, pair.private, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    expect(derived.split(' ').slice(0, 2)).toEqual(pair.public.split(' ').slice(0, 2));
  });

  it('signs and verifies with the written key', () => {
    const priv = ssh2.utils.parseKey(generateEd25519KeyPair('x').private);
    if (priv instanceof Error) throw priv;
    const data = Buffer.from('challenge');
    expect(priv.verify(data, priv.sign(data))).toBe(true);
  });
});
