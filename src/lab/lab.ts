/**
 * A lab: real Debian hosts in containers (systemd, sshd), on a private Docker
 * network where they resolve each other by inventory name. Like Molecule,
 * built in: for end-to-end tests and for users trying playbooks.
 *
 * The lab writes into its directory everything a playbook run needs
 * (inventory, SSH key, known_hosts), and `lab.json`, from which `stopLab`
 * removes it from any later process.
 */
import { connect } from 'node:net';
import { access, mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateEd25519KeyPair } from './ssh-keys.js';
import type Dockerode from 'dockerode';
import { TsibleError, UsageError } from '../errors.js';
import { LAB_HOST_LABEL, LAB_LABEL, hostContainer, runtimeClient, type StartedTestContainer } from './docker.js';
import {
  hostAddresses,
  parseLabState,
  renderInventory,
  renderKnownHosts,
  validateLabInput,
  type LabGroup,
  type LabHostEntry,
  type LabState,
} from './files.js';
import { ensureLabImage } from './image.js';
import { writeFileAtomic } from './local.js';

export type { LabGroup } from './files.js';

export interface LabHost {
  /** the inventory name, also the container's hostname and its DNS name on the lab network */
  name: string;
  /** the container's address on the lab network, reachable from the controller */
  address: string;
  containerId: string;
}

export interface LabExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Lab {
  readonly name: string;
  readonly dir: string;
  readonly network: string;
  readonly image: string;
  readonly inventoryPath: string;
  readonly keyPath: string;
  readonly knownHostsPath: string;
  readonly hosts: readonly LabHost[];
  /** Runs `sh -c command` in the host's container (docker exec, not SSH): for test setup and assertions. */
  exec(host: string, command: string): Promise<LabExecResult>;
  /** Stops the host's container (systemd shuts down), making the host unreachable. */
  stop(host: string): Promise<void>;
  /** Starts a stopped host again, at the same address, and waits for its sshd. */
  start(host: string): Promise<void>;
  /** Removes the containers, the network and the files this lab wrote. */
  dispose(): Promise<void>;
}

export interface StartLabOptions {
  name: string;
  hosts: string[];
  groups?: Record<string, LabGroup>;
  /** where inventory.yml, the key, known_hosts and lab.json are written (created if missing) */
  dir: string;
  onProgress?: (msg: string) => void;
  /** an image tag to use instead of building or reusing the default lab image */
  image?: string;
  /** how long each host may take to answer on port 22 (default 90 s) */
  readyTimeoutMs?: number;
}

/** The files a lab writes; `stopLab` removes exactly these, never the whole directory's other content. */
const LAB_FILES = ['inventory.yml', 'known_hosts', 'id_ed25519', 'id_ed25519.pub', 'lab.json'] as const;

export const labNetworkName = (name: string) => `tsible-${name}`;
const containerName = (lab: string, host: string) => `tsible-${lab}-${host}`;

export async function startLab(opts: StartLabOptions): Promise<Lab> {
  const groups = opts.groups ?? {};
  validateLabInput(opts.name, opts.hosts, groups);
  const progress = opts.onProgress ?? (() => {});
  const dir = resolve(opts.dir);
  const paths = {
    inventoryPath: join(dir, 'inventory.yml'),
    keyPath: join(dir, 'id_ed25519'),
    knownHostsPath: join(dir, 'known_hosts'),
    statePath: join(dir, 'lab.json'),
  };
  if (await exists(paths.statePath)) {
    const old = parseLabState(await readFile(paths.statePath, 'utf8'), paths.statePath);
    throw new UsageError(`a lab (${old.name}) is already up in ${dir}`, { hint: `remove it first: tsible lab down --dir ${dir}` });
  }
  // Without lab.json these are someone else's files (lab.json is always written first and removed last).
  for (const f of LAB_FILES) {
    if (await exists(join(dir, f))) throw new UsageError(`${join(dir, f)} exists and is not from a lab: choose another lab directory`);
  }
  const image = opts.image ?? (await ensureLabImage({ onProgress: progress }));
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const client = await runtimeClient();
  const docker = client.container.dockerode;
  const network = labNetworkName(opts.name);
  const { subnet, gateway } = await createNetwork(docker, network, opts.name);
  const state: LabState = { name: opts.name, network, image, hosts: [] };
  let entries: StartedHost[];
  try {
    // Written first, so that `lab down` finds (by label) a lab whose start was interrupted.
    await writeFileAtomic(paths.statePath, `${JSON.stringify(state, null, 2)}\n`, 0o644);
    const clientKey = generateEd25519KeyPair(`tsible-lab-${opts.name}`);
    progress(`starting ${opts.hosts.length} host(s) on network ${network} (${subnet})`);
    entries = await startHosts({
      lab: opts.name,
      image,
      network,
      hosts: opts.hosts,
      addresses: hostAddresses(subnet, gateway, opts.hosts.length),
      authorizedKey: clientKey.public,
      readyTimeoutMs: opts.readyTimeoutMs ?? 90_000,
      progress,
    });
    state.hosts = entries.map((e) => ({ name: e.name, address: e.address, containerId: e.containerId, containerName: containerName(opts.name, e.name) }));
    await writeFileAtomic(paths.keyPath, clientKey.private, 0o600);
    await writeFileAtomic(`${paths.keyPath}.pub`, `${clientKey.public}\n`, 0o644);
    await writeFileAtomic(paths.knownHostsPath, renderKnownHosts(entries), 0o644);
    await writeFileAtomic(paths.inventoryPath, renderInventory(entries, groups, paths), 0o644);
    await writeFileAtomic(paths.statePath, `${JSON.stringify(state, null, 2)}\n`, 0o644);
  } catch (err) {
    // Leave nothing behind: the containers that did start, the network, the files.
    await removeLabResources(docker, opts.name, network, []).catch(() => {});
    await removeLabFiles(dir);
    throw err;
  }

  const byName = new Map(entries.map((e) => [e.name, e]));
  const entryOf = (host: string) => {
    const e = byName.get(host);
    if (!e) throw new UsageError(`${JSON.stringify(host)} is not a host of lab ${opts.name} (hosts: ${opts.hosts.join(', ')})`);
    return e;
  };
  let disposed: Promise<void> | undefined;

  return {
    name: opts.name,
    dir,
    network,
    image,
    inventoryPath: paths.inventoryPath,
    keyPath: paths.keyPath,
    knownHostsPath: paths.knownHostsPath,
    hosts: entries.map((e) => ({ name: e.name, address: e.address, containerId: e.containerId })),
    async exec(host, command) {
      const r = await entryOf(host).container.exec(['sh', '-c', command]);
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    },
    async stop(host) {
      await docker.getContainer(entryOf(host).containerId).stop({ t: 10 }).catch(ignoreNotModified);
    },
    async start(host) {
      const e = entryOf(host);
      await docker.getContainer(e.containerId).start().catch(ignoreNotModified);
      await waitForSsh(host, e.address, opts.readyTimeoutMs ?? 90_000);
    },
    dispose() {
      disposed ??= (async () => {
        await removeLabResources(docker, opts.name, network, state.hosts.map((h) => h.containerId));
        await removeLabFiles(dir);
      })();
      return disposed;
    },
  };
}

interface StartedHost extends LabHostEntry {
  containerId: string;
  container: StartedTestContainer;
}

/** Starts every host's container at once and waits for each sshd; fails if any host fails. */
async function startHosts(o: {
  lab: string;
  image: string;
  network: string;
  hosts: readonly string[];
  addresses: readonly string[];
  authorizedKey: string;
  readyTimeoutMs: number;
  progress: (msg: string) => void;
}): Promise<StartedHost[]> {
  let ready = 0;
  const started = await Promise.allSettled(
    o.hosts.map(async (host, i): Promise<StartedHost> => {
      const address = o.addresses[i]!;
      const hostKey = generateEd25519KeyPair(`root@${host}`);
      const definition = await hostContainer({
        image: o.image,
        lab: o.lab,
        host,
        containerName: containerName(o.lab, host),
        network: o.network,
        address,
        files: [
          { target: '/etc/ssh/ssh_host_ed25519_key', content: hostKey.private, mode: 0o600 },
          { target: '/etc/ssh/ssh_host_ed25519_key.pub', content: `${hostKey.public}\n`, mode: 0o644 },
          { target: '/root/.ssh/authorized_keys', content: `${o.authorizedKey}\n`, mode: 0o600 },
        ],
      });
      let container: StartedTestContainer;
      try {
        container = await definition.start();
      } catch (err) {
        throw new TsibleError(`cannot start the container for lab host ${host}: ${err instanceof Error ? err.message : String(err)}`, { host, cause: err });
      }
      await waitForSsh(host, address, o.readyTimeoutMs);
      o.progress(`${host} is up at ${address} (${++ready}/${o.hosts.length})`);
      return { name: host, address, containerId: container.getId(), hostKey: hostKey.public, container };
    }),
  );
  const failed = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length === 0) return started.map((r) => (r as PromiseFulfilledResult<StartedHost>).value);
  const first = failed[0]!.reason as unknown;
  if (first instanceof TsibleError && failed.length === 1) throw first;
  throw new TsibleError(`${failed.length} of ${o.hosts.length} lab hosts failed to start; the first: ${first instanceof Error ? first.message : String(first)}`, {
    cause: first,
  });
}

/**
 * `tsible lab down`: removes a lab from its directory (reading lab.json) or,
 * when given a bare name, by its Docker label. Works from any process; what is
 * already gone is skipped.
 */
export async function stopLab(dirOrName: string): Promise<void> {
  const docker = (await runtimeClient()).container.dockerode;
  const statePath = join(resolve(dirOrName), 'lab.json');
  if (await exists(statePath)) {
    const state = parseLabState(await readFile(statePath, 'utf8'), statePath);
    await removeLabResources(docker, state.name, state.network, state.hosts.map((h) => h.containerId));
    await removeLabFiles(resolve(dirOrName));
    return;
  }
  if (dirOrName.includes('/') || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(dirOrName)) {
    throw new UsageError(`no lab in ${resolve(dirOrName)} (no lab.json there)`);
  }
  const found = await docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${dirOrName}`] } });
  const networks = await docker.listNetworks({ filters: { name: [labNetworkName(dirOrName)] } });
  if (found.length === 0 && !networks.some((n) => n.Name === labNetworkName(dirOrName))) {
    throw new UsageError(`no lab named ${dirOrName} is running, and there is no directory of that name with a lab.json`);
  }
  await removeLabResources(docker, dirOrName, labNetworkName(dirOrName), []);
}

/** Every container of the lab (by id and by label, so nothing started half-way is missed), then its network. */
async function removeLabResources(docker: Dockerode, lab: string, network: string, containerIds: string[]): Promise<void> {
  const labelled = await docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${lab}`] } });
  const ids = new Set([...containerIds, ...labelled.map((c) => c.Id)]);
  const errors: unknown[] = [];
  await Promise.all(
    [...ids].map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch((err: unknown) => {
          if (!isNotFound(err)) errors.push(err);
        }),
    ),
  );
  await docker
    .getNetwork(network)
    .remove()
    .catch((err: unknown) => {
      if (!isNotFound(err)) errors.push(err);
    });
  if (errors.length > 0) throw new TsibleError(`could not remove all of lab ${lab}`, { cause: errors[0] });
}

async function removeLabFiles(dir: string): Promise<void> {
  await Promise.all(LAB_FILES.filter((f) => f !== 'lab.json').map((f) => rm(join(dir, f), { force: true })));
  await rm(join(dir, 'lab.json'), { force: true });
  // The directory goes only if nothing else is in it: a user may have pointed --dir at a folder of theirs.
  await rmdir(dir).catch(() => {});
}

/**
 * Creates the lab network with an explicit subnet: only then does Docker allow
 * fixed container addresses, which keep the inventory right across a host's
 * stop and start. The engine picks a free subnet from its pools first; we then
 * pin that one (retrying if another lab takes it in between).
 */
async function createNetwork(docker: Dockerode, network: string, lab: string): Promise<{ subnet: string; gateway?: string }> {
  const Labels = { [LAB_LABEL]: lab };
  for (let attempt = 1; ; attempt++) {
    let probe: Dockerode.Network;
    try {
      probe = await docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels });
    } catch (err) {
      if (/already exists/i.test(errorText(err))) {
        throw new UsageError(`a Docker network ${network} already exists: lab ${lab} seems to be up`, {
          hint: `remove it with \`tsible lab down\` in its directory, or \`docker network rm ${network}\``,
          cause: err,
        });
      }
      throw new TsibleError(`cannot create the Docker network ${network}`, { cause: err });
    }
    const info = (await probe.inspect()) as { IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] } };
    const pool = info.IPAM?.Config?.find((c) => c.Subnet && !c.Subnet.includes(':'));
    await probe.remove();
    if (!pool?.Subnet) throw new TsibleError(`Docker gave the network ${network} no IPv4 subnet`);
    try {
      await docker.createNetwork({
        Name: network,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: pool.Subnet, ...(pool.Gateway ? { Gateway: pool.Gateway } : {}) }] },
      });
      return { subnet: pool.Subnet, gateway: pool.Gateway };
    } catch (err) {
      if (attempt < 5 && /overlap|already exists/i.test(errorText(err))) continue;
      throw new TsibleError(`cannot create the Docker network ${network}`, { cause: err });
    }
  }
}

/** Waits until something on address:22 sends an SSH banner: the port being open is not enough (sshd may still be starting). */
export async function waitForSsh(host: string, address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const r = await sshBanner(address, 2000);
    if (r.ok) return;
    last = r.reason;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new TsibleError(`lab host ${host} (${address}) did not answer on port 22 within ${Math.round(timeoutMs / 1000)} s: ${last}`, {
    host,
    hint: 'see what the container did: docker logs, or docker exec it systemctl status ssh',
  });
}

function sshBanner(address: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((res) => {
    const sock = connect({ host: address, port: 22 });
    let got = '';
    const done = (r: { ok: true } | { ok: false; reason: string }) => {
      sock.destroy();
      res(r);
    };
    sock.setTimeout(timeoutMs, () => done({ ok: false, reason: 'timed out' }));
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.startsWith('SSH-2.0-')) done({ ok: true });
      else if (got.length >= 8 || got.includes('\n')) done({ ok: false, reason: `not an SSH banner: ${JSON.stringify(got.slice(0, 40))}` });
    });
    sock.on('error', (err) => done({ ok: false, reason: err.message }));
    sock.on('close', () => done({ ok: false, reason: 'connection closed before the banner' }));
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** Docker answers 304 when a container is already in the asked state. */
function ignoreNotModified(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode !== 304) throw err;
}

export { LAB_HOST_LABEL, LAB_LABEL };
