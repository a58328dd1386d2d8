import { describe, expect, it } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, hostFieldMatches, hostLookupName, KnownHostsFile, parseKnownHosts, verifyHostKey } from '../../src/connection/known-hosts.js';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}

const keyA = blob('ssh-ed25519', 'A'.repeat(32));
const keyB = blob('ssh-ed25519', 'B'.repeat(32));
const rsa = blob('ssh-rsa', 'R'.repeat(64));

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts matching', () => {
  it.each([
    ['node1', 'node1', true],
    ['node1,10.0.0.1', '10.0.0.1', true],
    ['node*', 'node7', true],
    ['node?', 'node17', false],
    ['*.lab,!bad.lab', 'bad.lab', false],
    ['[node1]:2222', '[node1]:2222', true],
    ['node1', '[node1]:2222', false],
  ])('%s matches %s: %s', (field, name, expected) => {
    expect(hostFieldMatches(field, name)).toBe(expected);
  });

  it('matches hashed entries', () => {
    expect(hostFieldMatches(hashed('cluster2'), 'cluster2')).toBe(true);
    expect(hostFieldMatches(hashed('cluster2'), 'cluster3')).toBe(false);
  });

  it('names non-default ports as [host]:port', () => {
    expect(hostLookupName('a', 22)).toBe('a');
    expect(hostLookupName('a', 2222)).toBe('[a]:2222');
  });
});

describe('verifyHostKey', () => {
  const text = [
    '# comment',
    `node1 ssh-ed25519 ${keyA.toString('base64')}`,
    `${hashed('node2')} ssh-ed25519 ${keyA.toString('base64')}`,
    `node3 ssh-rsa ${rsa.toString('base64')}`,
    `@revoked * ssh-ed25519 ${blob('ssh-ed25519', 'X'.repeat(32)).toString('base64')}`,
  ].join('\n');
  const entries = parseKnownHosts(text);

  it('accepts the known key', () => expect(verifyHostKey(entries, ['node1'], keyA).kind).toBe('match'));
  it('accepts a hashed known key', () => expect(verifyHostKey(entries, ['node2'], keyA).kind).toBe('match'));
  it('reports an unknown host', () => expect(verifyHostKey(entries, ['node9'], keyA).kind).toBe('unknown'));
  it('refuses a changed key, naming both fingerprints', () => {
    const v = verifyHostKey(entries, ['node1'], keyB);
    expect(v).toMatchObject({ kind: 'changed', presented: fingerprint(keyB), lines: [2] });
    expect(v.kind === 'changed' && v.expected[0]).toContain(fingerprint(keyA));
  });
  it('refuses a key of another type for a known host', () => expect(verifyHostKey(entries, ['node3'], keyA).kind).toBe('changed'));
  it('refuses a revoked key', () => expect(verifyHostKey(entries, ['node9'], blob('ssh-ed25519', 'X'.repeat(32))).kind).toBe('revoked'));
});

describe('KnownHostsFile.append', () => {
  it('appends concurrently without losing lines, and the file stays valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-'));
    const file = new KnownHostsFile(join(dir, 'known_hosts'));
    await file.load();
    await Promise.all(Array.from({ length: 20 }, (_, i) => file.append(`host${i}`, blob('ssh-ed25519', String(i).padStart(32, '0')))));
    const entries = parseKnownHosts(readFileSync(join(dir, 'known_hosts'), 'utf8'));
    expect(entries.map((e) => e.hostField).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `host${i}`).sort());
  });
});
