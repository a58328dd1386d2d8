import { describe, expect, it } from 'vitest';
import { parseSshConfig } from '../../src/connection/ssh-config.js';
import { parseJumpHop } from '../../src/connection/manager.js';

const config = parseSshConfig(`
Host bastion
  HostName 192.168.1.101
  User admin
  Port 2222

Host cluster*
  ProxyJump bastion
  IdentityFile ~/.ssh/cluster_ed25519
  IdentityFile ~/.ssh/cluster_rsa
  User root

Host *
  User nobody
`);

describe('ssh config lookup', () => {
  it.each([
    ['bastion', { hostName: '192.168.1.101', user: 'admin', port: 2222, identityFiles: [] }],
    ['cluster3', { user: 'root', proxyJump: 'bastion', identityFiles: ['~/.ssh/cluster_ed25519', '~/.ssh/cluster_rsa'] }],
    ['other', { user: 'nobody', identityFiles: [] }],
  ])('%s', (host, expected) => {
    expect(config.lookup(host)).toMatchObject(expected);
  });
});

describe('parseJumpHop', () => {
  it.each([
    ['bastion', { host: 'bastion' }],
    ['root@10.0.0.1', { user: 'root', host: '10.0.0.1' }],
    ['root@10.0.0.1:2222', { user: 'root', host: '10.0.0.1', port: 2222 }],
    ['admin@[::1]:22', { user: 'admin', host: '::1', port: 22 }],
  ])('%s', (hop, expected) => {
    expect(parseJumpHop(hop)).toEqual(expected);
  });
});
