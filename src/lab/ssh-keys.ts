/**
 * Ed25519 key pairs in OpenSSH's own file formats, for the lab's client key
 * and host keys. Made from node:crypto's raw key material rather than with
 * ssh2's generateKeyPairSync, which writes a malformed key about once in 300
 * (a public key with a leading zero byte loses that byte), enough to make a
 * ten-host lab fail now and then.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface SshKeyPair {
  /** the private key file (-----BEGIN OPENSSH PRIVATE KEY-----) */
  private: string;
  /** the public key line: `ssh-ed25519 AAAA... comment` */
  public: string;
}

const KEY_TYPE = 'ssh-ed25519';
/** The "none" cipher pads the private section to 8-byte blocks. */
const BLOCK_SIZE = 8;

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

export function generateEd25519KeyPair(comment: string): SshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);

  const check = randomBytes(4).readUInt32BE();
  const section = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padLength = (BLOCK_SIZE - (section.length % BLOCK_SIZE)) % BLOCK_SIZE;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));

  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]);
  const wrapped = body.toString('base64').match(/.{1,70}/g)!.join('\n');
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrapped}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `${KEY_TYPE} ${publicBlob.toString('base64')} ${comment}`,
  };
}
