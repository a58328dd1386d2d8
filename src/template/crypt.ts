/**
 * SHA-crypt ($5$ / $6$, Ulrich Drepper's specification), for the
 * `password_hash` filter. It is what /etc/shadow holds, and what Ansible
 * produces with a given salt, so `password_hash('sha512', 'fixedsalt')` is
 * stable from run to run.
 */
import { createHash, randomInt } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const ORDER512: [number, number, number][] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7],
  [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57],
  [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];
const ORDER256: [number, number, number][] = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];

function b64(w: number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** `bytes` repeated to `length`. */
function stretch(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, length - i));
  return out;
}

export function randomSalt(size = 16): string {
  let s = '';
  for (let i = 0; i < size; i++) s += ITOA64[randomInt(ITOA64.length)];
  return s;
}

export function shaCrypt(algo: 'sha256' | 'sha512', password: string, salt: string, rounds = 5000): string {
  const hash = (...parts: Buffer[]) => {
    const h = createHash(algo);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const hl = algo === 'sha512' ? 64 : 32;
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const R = Math.min(999_999_999, Math.max(1000, Math.trunc(rounds)));

  const B = hash(P, S, P);
  const a = createHash(algo);
  a.update(P);
  a.update(S);
  let cnt = P.length;
  for (; cnt > hl; cnt -= hl) a.update(B);
  a.update(B.subarray(0, cnt));
  for (cnt = P.length; cnt > 0; cnt >>= 1) a.update(cnt & 1 ? B : P);
  let A = a.digest();

  const dpH = createHash(algo);
  for (let i = 0; i < P.length; i++) dpH.update(P);
  const Pseq = stretch(dpH.digest(), P.length);
  const dsH = createHash(algo);
  for (let i = 0; i < 16 + A[0]!; i++) dsH.update(S);
  const Sseq = stretch(dsH.digest(), S.length);

  for (let i = 0; i < R; i++) {
    const c = createHash(algo);
    c.update(i & 1 ? Pseq : A);
    if (i % 3) c.update(Sseq);
    if (i % 7) c.update(Pseq);
    c.update(i & 1 ? A : Pseq);
    A = c.digest();
  }

  let out = '';
  for (const [x, y, z] of algo === 'sha512' ? ORDER512 : ORDER256) out += b64((A[x]! << 16) | (A[y]! << 8) | A[z]!, 4);
  out += algo === 'sha512' ? b64(A[63]!, 2) : b64((A[31]! << 8) | A[30]!, 3);
  const id = algo === 'sha512' ? '6' : '5';
  return `$${id}$${R === 5000 ? '' : `rounds=${R}$`}${S.toString('utf8')}$${out}`;
}
