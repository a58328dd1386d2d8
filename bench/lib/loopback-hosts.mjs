#!/usr/bin/env node
// Loopback "hosts" for fan-out benchmarks: N addresses 127.0.1.1, 127.0.1.2, ...
// (continuing into 127.0.2.x after .254), each answering SSH on port 22.
// Linux routes all of 127.0.0.0/8 to lo, so no address needs to be added;
// one sshd can listen on at most 16 addresses (MAX_LISTEN_SOCKS), hence one
// sshd per 16 hosts. Everything (keys, configs, pid files, logs) lives in one
// temp dir that teardown removes.
//
// As a library:   const hosts = await startLoopbackHosts(50); ... hosts.stop();
// As a script:    node bench/lib/loopback-hosts.mjs up 50 [--shell-rc]   (prints the dir)
//                 node bench/lib/loopback-hosts.mjs down DIR
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, openSync, closeSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SSHD = '/usr/sbin/sshd'; // sshd refuses to start (re-exec) unless given an absolute path
const SSH_KEYGEN = 'ssh-keygen';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const PRIVSEP_DIR = '/run/sshd';
const ADDRESSES_PER_SSHD = 16;
const HOSTS_PER_SUBNET = 254;
const READY_TIMEOUT_MS = 15_000;

/** The address of host `index` (0-based): 127.0.1.1 ... 127.0.1.254, 127.0.2.1, ... */
export function loopbackAddress(index) {
  const subnet = 1 + Math.floor(index / HOSTS_PER_SUBNET);
  const host = 1 + (index % HOSTS_PER_SUBNET);
  if (subnet > 255) throw new Error(`too many loopback hosts: index ${index} is past 127.0.255.254`);
  return `127.0.${subnet}.${host}`;
}

export function loopbackAddresses(count) {
  return Array.from({ length: count }, (_, i) => loopbackAddress(i));
}

function chunk(items, size) {
  const chunks = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function generateKey(path, comment) {
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

function knownHostsText(addresses, hostPublicKey) {
  const [type, key] = hostPublicKey.split(/\s+/);
  return addresses.map((address) => `${address} ${type} ${key}\n`).join('');
}

function sshdConfigText({ listenAddresses, hostKeyPath, pidPath, authorizedKeysPath, skipShellRc }) {
  return [
    ...listenAddresses.map((address) => `ListenAddress ${address}:22`),
    `HostKey ${hostKeyPath}`,
    `PidFile ${pidPath}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    // Up to `fork` handshakes arrive at once; the default 10:30:100 drops some.
    'MaxStartups 1000:30:2000',
    'MaxSessions 64',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'LogLevel ERROR',
    `Subsystem sftp ${SFTP_SERVER}`,
    // bash sources ~/.bashrc for commands run over ssh unless SHLVL says it is nested. The
    // hosts share this machine's root home, so a heavy .bashrc (pyenv init: ~0.25 s of CPU
    // per login here) would otherwise be charged to every host of every tool.
    ...(skipShellRc ? ['SetEnv SHLVL=1'] : []),
    '',
  ].join('\n');
}

/** Resolves true if something accepts TCP connections on address:22. */
function portIsOpen(address, timeoutMs = 1000) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: address, port: 22 });
    const finish = (open) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Resolves true once address:22 sends an SSH banner. */
function answersWithSshBanner(address, timeoutMs = 2000) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: address, port: 22 });
    const finish = (ok) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('data', (data) => finish(data.toString('latin1').startsWith('SSH-2.0-')));
    socket.once('error', () => finish(false));
  });
}

async function assertAddressesFree(addresses) {
  const open = await Promise.all(addresses.map((address) => portIsOpen(address)));
  const taken = addresses.filter((_, i) => open[i]);
  if (taken.length > 0) {
    throw new Error(
      `port 22 is already in use on ${taken.slice(0, 3).join(', ')}${taken.length > 3 ? ` (+${taken.length - 3} more)` : ''}: ` +
        'a system sshd listening on 0.0.0.0, or loopback hosts left over from an earlier run (node bench/lib/loopback-hosts.mjs down DIR)',
    );
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A zombie counts as gone: it holds no sockets, and our own children stay zombies until the event loop reaps them. */
function isAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Only signal a pid if it is still the sshd we started (pids get reused).
 * sshd rewrites its argv into one title string ("sshd: /usr/sbin/sshd -D -e -f CFG [listener] ..."),
 * so look for the config path as a substring.
 */
function isOurSshd(pid, configPath) {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return `${title} `.includes(`-f ${configPath} `);
  } catch {
    return false;
  }
}

function startSshd({ configPath, logPath, detached }) {
  const log = openSync(logPath, 'a');
  // -D keeps sshd in the foreground so that its pid is the one we spawned.
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', log, log], detached });
  closeSync(log);
  child.unref(); // stop() ends it; it must not keep our event loop alive
  return child;
}

function readLogTail(path) {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

async function waitUntilReady(sshds, deadline = Date.now() + READY_TIMEOUT_MS) {
  for (const sshd of sshds) {
    for (const address of sshd.addresses) {
      while (!(await answersWithSshBanner(address))) {
        if (!isAlive(sshd.pid)) throw new Error(`sshd for ${sshd.addresses[0]}..${sshd.addresses.at(-1)} exited:\n${readLogTail(sshd.logPath)}`);
        if (Date.now() > deadline) throw new Error(`${address}:22 did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${readLogTail(sshd.logPath)}`);
        await sleep(50);
      }
    }
    // An sshd that could bind only some of its addresses keeps running; its log says so.
    const log = readLogTail(sshd.logPath);
    if (/bind|address already in use/i.test(log)) throw new Error(`sshd for ${sshd.addresses[0]}.. could not bind all its addresses:\n${log}`);
  }
}

function writeStateFile(dir, state) {
  writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SIGTERM, then wait (synchronously) until the ports are free again, so a new set of hosts can start right away. */
function terminateAndWait(pids, timeoutMs = 3000) {
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
}

/** Stop the sshds recorded in `dir` and remove the dir. Synchronous, so it also works from an 'exit' handler. */
export function stopLoopbackHosts(dir) {
  const statePath = join(dir, 'state.json');
  if (existsSync(statePath)) {
    const { sshds } = JSON.parse(readFileSync(statePath, 'utf8'));
    terminateAndWait(sshds.filter(({ pid, configPath }) => isOurSshd(pid, configPath)).map(({ pid }) => pid));
  }
  rmSync(dir, { recursive: true, force: true });
}

function stopOnExitOrSignal(stop) {
  const onSignal = (signal) => {
    stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', stop);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('exit', stop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Start `count` loopback SSH hosts. Returns the addresses and the files a client
 * needs: clientKeyPath (private key for root), knownHostsPath, hostsFilePath
 * (one address per line). `skipShellRc` (default true) keeps bash from sourcing
 * root's ~/.bashrc for each command. With `detached`, the sshds outlive this process
 * (stop them later with stopLoopbackHosts(dir)); otherwise they are stopped
 * on exit, Ctrl-C and SIGTERM as well as by stop().
 */
export async function startLoopbackHosts(count, { detached = false, skipShellRc = true, onProgress = () => {} } = {}) {
  if (!Number.isInteger(count) || count < 1) throw new Error(`host count must be a positive integer, got ${count}`);
  if (process.getuid?.() !== 0) throw new Error('loopback hosts need root (sshd binds port 22 and logs in as root)');
  const addresses = loopbackAddresses(count);
  await assertAddressesFree(addresses);

  const dir = mkdtempSync(join(tmpdir(), 'tsible-loopback-'));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopLoopbackHosts(dir);
  };
  const removeHandlers = detached ? () => {} : stopOnExitOrSignal(stop);
  try {
    mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
    const clientKeyPath = join(dir, 'id_ed25519');
    const hostPublicKey = generateKey(hostKeyPath, 'tsible-bench-host');
    generateKey(clientKeyPath, 'tsible-bench-client');
    const authorizedKeysPath = `${clientKeyPath}.pub`;
    const knownHostsPath = join(dir, 'known_hosts');
    const hostsFilePath = join(dir, 'hosts');
    writeFileSync(knownHostsPath, knownHostsText(addresses, hostPublicKey));
    writeFileSync(hostsFilePath, `${addresses.join('\n')}\n`);

    const sshds = chunk(addresses, ADDRESSES_PER_SSHD).map((listenAddresses, i) => {
      const configPath = join(dir, `sshd_config.${i}`);
      const logPath = join(dir, `sshd.${i}.log`);
      const pidPath = join(dir, `sshd.${i}.pid`);
      writeFileSync(configPath, sshdConfigText({ listenAddresses, hostKeyPath, pidPath, authorizedKeysPath, skipShellRc }));
      return { addresses: listenAddresses, configPath, logPath };
    });
    for (const sshd of sshds) execFileSync(SSHD, ['-t', '-f', sshd.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    onProgress(`starting ${sshds.length} sshd(s) for ${count} hosts in ${dir}`);
    for (const sshd of sshds) sshd.pid = startSshd({ ...sshd, detached }).pid;
    writeStateFile(dir, { count, addresses, sshds: sshds.map(({ pid, configPath }) => ({ pid, configPath })) });
    await waitUntilReady(sshds);
    return {
      dir,
      addresses,
      clientKeyPath,
      knownHostsPath,
      hostsFilePath,
      stop: () => {
        removeHandlers();
        stop();
      },
    };
  } catch (err) {
    removeHandlers();
    stop();
    throw err;
  }
}

function inventoryIniText({ addresses, clientKeyPath }) {
  return addresses.map((address) => `${address} ansible_user=root ansible_ssh_private_key_file=${clientKeyPath}`).join('\n') + '\n';
}

async function cliUp(countArg, flag) {
  const count = Number(countArg ?? 16);
  const hosts = await startLoopbackHosts(count, { detached: true, skipShellRc: flag !== '--shell-rc' });
  const inventoryPath = join(hosts.dir, 'inventory.ini');
  writeFileSync(inventoryPath, inventoryIniText(hosts));
  const ssh = `-i ${hosts.clientKeyPath} -o UserKnownHostsFile=${hosts.knownHostsPath} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  console.log(hosts.dir);
  console.error(`${count} loopback hosts up (${hosts.addresses[0]} .. ${hosts.addresses.at(-1)}). Try:
  ssh ${ssh} root@${hosts.addresses[0]} true
  PDSH_SSH_ARGS_APPEND='${ssh}' pdsh -R ssh -w ^${hosts.hostsFilePath} -l root uptime
  node bin/tsible.js run -a all -i ${inventoryPath} --known-hosts ${hosts.knownHostsPath} uptime
Stop them with: node ${fileURLToPath(import.meta.url)} down ${hosts.dir}`);
}

function cliDown(dir) {
  if (!dir || !existsSync(join(dir, 'state.json'))) throw new Error(`not a loopback hosts dir: ${dir}`);
  stopLoopbackHosts(resolve(dir));
  console.error(`stopped and removed ${dir}`);
}

async function cli([command, arg, flag]) {
  if (command === 'up') return cliUp(arg, flag);
  if (command === 'down') return cliDown(arg);
  throw new Error('usage: loopback-hosts.mjs up [COUNT] [--shell-rc] | down DIR');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    console.error(`loopback-hosts: ${err.message}`);
    process.exit(1);
  });
}
