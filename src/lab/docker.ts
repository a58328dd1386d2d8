/**
 * The Docker side of the lab: one systemd container per host, through
 * testcontainers, with the options that work on these machines (LAB-NOTES.md).
 */
import { TsibleError } from '../errors.js';
import type { ContainerRuntimeClient, GenericContainer as GenericContainerType, StartedTestContainer } from 'testcontainers';

// Ryuk (testcontainers' garbage collector) comes from a registry we cannot
// reach; the lab removes its own containers. Read by testcontainers when a
// container starts, so setting it before the first start is enough.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

type Testcontainers = typeof import('testcontainers');
let loaded: Promise<Testcontainers> | undefined;

/** Loaded only when a lab is used: every other command works without it. */
export function testcontainers(): Promise<Testcontainers> {
  loaded ??= import('testcontainers').catch((err: unknown) => {
    loaded = undefined;
    throw new TsibleError('the lab needs the testcontainers package, which is not installed', {
      hint: 'npm install testcontainers',
      cause: err,
    });
  });
  return loaded;
}

export async function runtimeClient(): Promise<ContainerRuntimeClient> {
  return (await testcontainers()).getContainerRuntimeClient();
}

export const LAB_LABEL = 'tsible.lab';
export const LAB_HOST_LABEL = 'tsible.lab.host';

export interface HostContainerSpec {
  image: string;
  lab: string;
  host: string;
  containerName: string;
  network: string;
  address: string;
  /** files put into the container before it starts (host keys, authorized_keys) */
  files: { target: string; content: string; mode: number }[];
}

/** Builds the container definition for one lab host. */
export async function hostContainer(spec: HostContainerSpec): Promise<GenericContainerType> {
  const { GenericContainer, Wait } = await testcontainers();

  // testcontainers has no option for devices or for a fixed address on a network: set them on the raw create options.
  class LabHostContainer extends GenericContainer {
    constructor() {
      super(spec.image);
      this.hostConfig.Devices = [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/loop-control', PathInContainer: '/dev/loop-control', CgroupPermissions: 'rwm' },
      ];
      // Every loop device (major 7) may be used; the image creates the nodes at boot, since `losetup -f` can pick any number.
      // Partitions of loop devices (major 259) too, for sfdisk/filesystem/grub tests on disk images.
      this.hostConfig.DeviceCgroupRules = ['b 7:* rwm', 'b 259:* rwm'];
      // `reboot` inside the host ends PID 1; Docker starts it again, like a machine coming back.
      this.hostConfig.RestartPolicy = { Name: 'unless-stopped', MaximumRetryCount: 0 };
      // What the CLI's `--security-opt systempaths=unconfined` means (the API has no such option):
      // nothing masked or read-only under /proc, so sysctl works in roles (ip_forward, keepalived).
      this.hostConfig.MaskedPaths = [];
      this.hostConfig.ReadonlyPaths = [];
      // systemd ignores SIGTERM as PID 1; this is its "halt" signal, so `docker stop` is quick and clean.
      this.createOpts.StopSignal = 'SIGRTMIN+3';
      // Attached at creation, to this network only (withNetworkAliases would also attach the default bridge).
      // The address is fixed so that a stopped and restarted host keeps the address written in the inventory.
      this.createOpts.NetworkingConfig = {
        EndpointsConfig: {
          [spec.network]: { Aliases: [spec.host], IPAMConfig: { IPv4Address: spec.address } },
        },
      };
    }
  }

  return (
    new LabHostContainer()
      .withName(spec.containerName)
      .withHostname(spec.host)
      .withNetworkMode(spec.network)
      .withLabels({ [LAB_LABEL]: spec.lab, [LAB_HOST_LABEL]: spec.host })
      // All capabilities but SYS_RESOURCE, which these machines' bounding set lacks (so --privileged is refused).
      .withAddedCapabilities('ALL')
      .withDroppedCapabilities('SYS_RESOURCE')
      .withSecurityOpt('seccomp=unconfined')
      .withTmpFs({ '/run': 'rw,nosuid,nodev,mode=755', '/run/lock': 'rw,nosuid,nodev,noexec' })
      .withBindMounts([{ source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', mode: 'ro' }])
      .withCopyContentToContainer(spec.files.map((f) => ({ content: f.content, target: f.target, mode: f.mode })))
      // We wait for sshd's banner ourselves (lab.ts); nothing is published.
      .withWaitStrategy(Wait.forListeningPorts())
      .withAutoCleanup(false)
      .withAutoRemove(false)
  );
}

export type { StartedTestContainer };
