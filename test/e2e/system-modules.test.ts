/**
 * The system modules on real hosts, each held to the three-run contract:
 * check mode predicts and changes nothing, the first run changes exactly
 * that, the second run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { checkScenario, playJson, writePlaybook, type Scenario } from './scenario.js';

let lab: Lab;
const HOST = 'sys1';

beforeAll(async () => {
  lab = await startLab({ name: `sys-${process.pid}`, hosts: [HOST, 'sys2'], dir: mkdtempSync(join(tmpdir(), 'tsible-sys-')) });
});
afterAll(async () => {
  await lab?.dispose();
});

const D = (name: string) => `/srv/e2e/${name}`;

// A controller-side archive for unarchive (what the thesis does with the MOSIX tarball).
function tarball(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tgz-'));
  mkdirSync(join(dir, 'mosix-4.4.0'));
  writeFileSync(join(dir, 'mosix-4.4.0/mosix.install'), '#!/bin/sh\necho installing\n', { mode: 0o755 });
  writeFileSync(join(dir, 'mosix-4.4.0/README'), 'MOSIX\n');
  execFileSync('tar', ['-C', dir, '-czf', join(dir, 'mosix.tgz'), 'mosix-4.4.0']);
  return readFileSync(join(dir, 'mosix.tgz'));
}

const getUrlContent = 'condor package index\n';

const scenarios: Scenario[] = [
  {
    name: 'apt',
    tasks: `    - name: install
      apt:
        name: [tree]
        state: present
`,
    setup: 'apt-get -y -q remove tree >/dev/null 2>&1 || true',
    snapshot: "dpkg-query -W -f='${Status}\\n' tree 2>/dev/null || echo absent",
    expectAfter: 'install ok installed\n',
  },
  {
    name: 'apt-manual',
    // A package pulled in as a dependency and then named: marked manual, so autoremove keeps it (as Ansible does).
    setup: 'apt-mark auto procps >/dev/null',
    tasks: `    - name: procps on purpose
      apt: name=procps state=present
`,
    snapshot: 'apt-mark showauto procps; echo end',
    expectAfter: 'end\n',
  },
  {
    name: 'apt-deb',
    // A local .deb, like the thesis's HTCondor package: built on the host, installed by apt.
    setup: [
      `cd ${D('apt-deb')}`,
      'dpkg -r tsible-demo >/dev/null 2>&1 || true',
      'mkdir -p pkg/DEBIAN pkg/usr/share/tsible-demo',
      "printf 'Package: tsible-demo\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: tsible <t@example.org>\\nDescription: demo\\n' > pkg/DEBIAN/control",
      'echo demo > pkg/usr/share/tsible-demo/README',
      'dpkg-deb -b pkg tsible-demo_1.0_all.deb >/dev/null',
    ].join(' && '),
    tasks: `    - name: install the local package
      apt:
        deb: ${D('apt-deb')}/tsible-demo_1.0_all.deb
`,
    snapshot: "dpkg-query -W -f='${Status} ${Version}\\n' tsible-demo 2>/dev/null || echo absent",
    expectAfter: 'install ok installed 1.0\n',
  },
  {
    name: 'apt-purge',
    setup: 'apt-get -y -q install tree >/dev/null 2>&1 && mkdir -p /etc/tree-e2e',
    tasks: `    - name: remove and purge
      apt:
        name: tree
        state: absent
        purge: true
        autoremove: true
`,
    snapshot: "dpkg-query -W -f='${Status}\\n' tree 2>/dev/null || echo absent",
    expectAfter: /^(unknown ok not-installed|absent)\n$/,
  },
  {
    name: 'apt-repository',
    // No network here: the source and its key are written, the package lists are not refreshed.
    setup: 'mkdir -p /etc/apt/keyrings && printf key > /etc/apt/keyrings/htcondor.asc',
    tasks: `    - name: HTCondor repository (thesis 4.6.3)
      apt_repository:
        repo: deb [signed-by=/etc/apt/keyrings/htcondor.asc] http://research.cs.wisc.edu/htcondor/debian/23.x trixie main
        filename: htcondor
        update_cache: false
    - name: the same in deb822 form
      deb822_repository:
        name: htcondor-deb822
        uris: http://research.cs.wisc.edu/htcondor/debian/23.x
        suites: trixie
        components: main
        signed_by: /etc/apt/keyrings/htcondor.asc
`,
    snapshot: 'cat /etc/apt/sources.list.d/htcondor.list 2>/dev/null; cat /etc/apt/sources.list.d/htcondor-deb822.sources 2>/dev/null; true',
    expectAfter: /deb \[signed-by=\/etc\/apt\/keyrings\/htcondor.asc\] http:\/\/research.cs.wisc.edu\/htcondor\/debian\/23.x trixie main\n[\s\S]*Signed-By: \/etc\/apt\/keyrings\/htcondor.asc/,
  },
  {
    name: 'user-removal',
    setup: 'userdel -r anna 2>/dev/null; mkdir -p /nfs && useradd -m -b /nfs -s /bin/bash anna && touch /nfs/anna/work',
    tasks: `    - name: remove the account and its home
      user:
        name: anna
        state: absent
        remove: true
`,
    snapshot: 'getent passwd anna || echo no-user; ls -d /nfs/anna 2>/dev/null || echo no-home',
    expectAfter: 'no-user\nno-home\n',
  },
  {
    name: 'iptables-order',
    setup: 'iptables -F INPUT && iptables -A INPUT -p tcp --dport 80 -j ACCEPT && iptables -A INPUT -p tcp --dport 23 -j DROP',
    tasks: `    - name: ssh first
      iptables:
        chain: INPUT
        protocol: tcp
        destination_port: 22
        jump: ACCEPT
        action: insert
        rule_num: 1
    - name: no telnet rule
      iptables:
        chain: INPUT
        protocol: tcp
        destination_port: 23
        jump: DROP
        state: absent
`,
    snapshot: 'iptables -S INPUT',
    expectAfter: '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n',
  },
  {
    name: 'debconf',
    tasks: `    - name: NIS domain before nis is installed
      debconf:
        name: nis
        question: nis/domain
        vtype: string
        value: cluster
`,
    snapshot: 'debconf-get-selections 2>/dev/null | grep nis/domain || debconf-show nis 2>/dev/null || true',
    expectAfter: /cluster/,
  },
  {
    name: 'service',
    // The unit file comes from an earlier task: in check mode the service task must say "would change", not fail.
    tasks: `    - name: unit file
      systemd_unit:
        name: tsible-e2e.service
        content: |
          [Unit]
          Description=tsible e2e service
          [Service]
          ExecStart=/bin/sleep infinity
          [Install]
          WantedBy=multi-user.target
    - name: running and enabled
      service:
        name: tsible-e2e
        state: started
        enabled: true
`,
    snapshot: 'systemctl is-active tsible-e2e 2>&1; systemctl is-enabled tsible-e2e 2>&1; ls /etc/systemd/system/tsible-e2e.service 2>&1 || true',
    expectAfter: 'active\nenabled\n/etc/systemd/system/tsible-e2e.service\n',
  },
  {
    name: 'service-sysv',
    // The same module on SysV init (forced with use:, as on a host booted without systemd).
    setup: `cat > /etc/init.d/tsible-sysv <<'INIT'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          tsible-sysv
# Required-Start:    \$remote_fs
# Required-Stop:     \$remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: tsible e2e SysV service
### END INIT INFO
PIDFILE=/run/tsible-sysv.pid
case "\$1" in
  start) setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo \$! > \$PIDFILE ;;
  stop) [ -f \$PIDFILE ] && kill \$(cat \$PIDFILE) 2>/dev/null; rm -f \$PIDFILE ;;
  restart) \$0 stop; \$0 start ;;
  status) [ -f \$PIDFILE ] && kill -0 \$(cat \$PIDFILE) 2>/dev/null ;;
  *) exit 2 ;;
esac
INIT
chmod +x /etc/init.d/tsible-sysv`,
    tasks: `    - name: started and enabled with SysV init
      service:
        name: tsible-sysv
        state: started
        enabled: true
        use: sysvinit
`,
    snapshot: '/etc/init.d/tsible-sysv status && echo running || echo stopped; ls /etc/rc2.d | grep -c tsible-sysv || true',
    expectAfter: 'running\n1\n',
  },
  {
    name: 'users',
    tasks: `    - name: group
      group: name=cluster gid=2000
    - name: user with home under /nfs (thesis)
      user:
        name: jordi
        shell: /bin/bash
        home: /nfs/jordi
        create_home: true
        groups: [cluster]
    - name: key
      authorized_key:
        user: jordi
        key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0G0G7GZ8o9yXbqgM0hZB8H7jv2W9P4F9b1r1Yv6Tn5 jordi@cluster1"
`,
    snapshot: 'getent group cluster; getent passwd jordi; id -Gn jordi 2>&1; cat /nfs/jordi/.ssh/authorized_keys 2>&1; stat -c "%a %U" /nfs/jordi/.ssh 2>&1 || true',
    expectAfter: /cluster:x:2000:[\s\S]*jordi:x:\d+:\d+::\/nfs\/jordi:\/bin\/bash\njordi cluster\nssh-ed25519 AAAA\S+ jordi@cluster1\n700 jordi/,
  },
  {
    name: 'sysctl',
    tasks: `    - name: forward packets (thesis 4.3.2)
      sysctl:
        name: net.ipv4.ip_forward
        value: '1'
        sysctl_file: /etc/sysctl.d/99-tsible.conf
        sysctl_set: true
`,
    setup: 'sysctl -w net.ipv4.ip_forward=0 >/dev/null',
    snapshot: 'sysctl -n net.ipv4.ip_forward; cat /etc/sysctl.d/99-tsible.conf 2>/dev/null || true',
    expectAfter: '1\nnet.ipv4.ip_forward=1\n',
  },
  {
    name: 'iptables',
    tasks: `    - name: NAT for the internal network (thesis)
      iptables:
        table: nat
        chain: POSTROUTING
        out_interface: eth0
        jump: MASQUERADE
    - name: forward policy
      iptables:
        chain: FORWARD
        policy: DROP
    - name: keep the rules across reboots
      iptables_state:
        state: saved
        path: /etc/iptables/rules.v4
`,
    snapshot: 'iptables -t nat -S POSTROUTING; iptables -S FORWARD | head -1; grep -c MASQUERADE /etc/iptables/rules.v4 2>/dev/null || echo no-file',
    expectAfter: /-A POSTROUTING -o eth0 -j MASQUERADE\n-P FORWARD DROP\n1\n/,
  },
  {
    name: 'mount',
    setup: `mkdir -p ${D('mount')}/home ${D('mount')}/nfs && touch ${D('mount')}/home/marker && touch ${D('mount')}/fstab`,
    tasks: `    - name: bind /home to /nfs (thesis 4.2)
      mount:
        path: ${D('mount')}/nfs
        src: ${D('mount')}/home
        fstype: none
        opts: bind
        state: mounted
        fstab: ${D('mount')}/fstab
`,
    snapshot: `cat ${D('mount')}/fstab; ls ${D('mount')}/nfs`,
    expectAfter: `${D('mount')}/home ${D('mount')}/nfs none bind 0 0\nmarker\n`,
  },
  {
    name: 'disks',
    // The thesis clones a partition table: sfdisk -d on the master, then apply it on every node.
    setup: [
      `cd ${D('disks')}`,
      'truncate -s 1G master.img node.img swap.img data.img',
      "printf 'label: dos\\n,512M,83\\n,256M,83\\n,,82\\n' | sfdisk -q master.img",
      'sfdisk -d master.img > sda.out',
    ].join(' && '),
    tasks: `    - name: clone the layout
      sfdisk:
        device: ${D('disks')}/node.img
        dump_remote: ${D('disks')}/sda.out
    - name: ext4 on the data image
      filesystem: dev=${D('disks')}/data.img fstype=ext4
    - name: swap signature
      filesystem: dev=${D('disks')}/swap.img fstype=swap
`,
    snapshot: `cd ${D('disks')} && sfdisk -d node.img 2>/dev/null | grep -v -e label-id -e '^device' ; blkid -o value -s TYPE swap.img data.img || true`,
    expectAfter: /node\.img1 : start=\s*2048, size=\s*1048576, type=83\nnode\.img2 : start=\s*1050624, size=\s*524288, type=83\nnode\.img3 : start=\s*1574912, size=\s*522240, type=82\nswap\next4\n/,
  },
  {
    name: 'grub',
    setup: 'cp /usr/share/grub/default/grub /etc/default/grub && mkdir -p /etc/grub.d && for s in 10_linux 20_memtest86+ 30_os-prober; do printf "#!/bin/sh\\n" > /etc/grub.d/$s; chmod +x /etc/grub.d/$s; done && printf "#!/bin/sh\\nexec tail -n +3 \\$0\\n" > /etc/grub.d/40_custom',
    tasks: `    - name: boot only the custom entry (thesis 4.3.2)
      grub:
        defaults:
          GRUB_TIMEOUT: 5
          GRUB_DEFAULT: Ubuntu-Part1
        custom_entries:
          - title: Ubuntu-Part1
            content: |
              set root=(hd0,1)
              linux /vmlinuz root=/dev/sda1 ro quiet
              initrd /initrd.img
        scripts:
          10_linux: disabled
          20_memtest86+: disabled
          30_os-prober: disabled
`,
    snapshot: 'grep -E "^GRUB_(TIMEOUT|DEFAULT)=" /etc/default/grub; cat /etc/grub.d/40_custom; stat -c "%a %n" /etc/grub.d/10_linux /etc/grub.d/20_memtest86+ /etc/grub.d/30_os-prober',
    expectAfter: /GRUB_DEFAULT="?Ubuntu-Part1"?\nGRUB_TIMEOUT="?5"?\n[\s\S]*menuentry "Ubuntu-Part1" \{[\s\S]*644 \/etc\/grub.d\/10_linux\n644 \/etc\/grub.d\/20_memtest86\+\n644 \/etc\/grub.d\/30_os-prober/,
  },
  {
    name: 'unarchive',
    files: { 'files/mosix.tgz': tarball() },
    tasks: `    - name: unpack MOSIX (thesis 4.6.2)
      unarchive:
        src: mosix.tgz
        dest: ${D('unarchive')}
`,
    snapshot: `cd ${D('unarchive')} && find . -printf '%p %m\\n' | sort`,
    expectAfter: '. 755\n./mosix-4.4.0 755\n./mosix-4.4.0/README 644\n./mosix-4.4.0/mosix.install 755\n',
  },
  {
    name: 'get_url',
    // A real HTTP server on the host itself (python3 is in the lab image).
    setup: `mkdir -p /srv/www && printf '${getUrlContent.replace('\n', '\\n')}' > /srv/www/index.src && (cd /srv/www && setsid python3 -m http.server 8089 --bind 127.0.0.1 >/dev/null 2>&1 &) && for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf http://127.0.0.1:8089/index.src >/dev/null && break; sleep 0.5; done`,
    tasks: `    - name: download with a checksum
      get_url:
        url: http://127.0.0.1:8089/index.src
        dest: ${D('get_url')}/index
        checksum: sha256:${createHash('sha256').update(getUrlContent).digest('hex')}
        mode: '0644'
`,
    snapshot: `cat ${D('get_url')}/index 2>/dev/null; ls ${D('get_url')}`,
    expectAfter: `${getUrlContent}index\n`,
  },
  {
    name: 'hostname',
    tasks: `    - name: name the node
      hostname: name=cluster7
`,
    snapshot: 'hostname; cat /etc/hostname',
    expectAfter: 'cluster7\ncluster7\n',
  },
];

describe('system modules on a lab host', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      await checkScenario(lab, HOST, s);
    });
  }

  // The thesis's node cloning (4.3.2) on a loop-attached image instead of /dev/sda:
  // clone the partition table, make filesystems, mount the root partition, copy the
  // system into it, then grub-install inside a chroot and generate grub.cfg.
  it('clones a disk: sfdisk, filesystem, mount and grub-install on a loop-attached image', async () => {
    const dir = '/srv/e2e/clone';
    const root = '/mnt/clone-root';
    const attach = await lab.exec(
      HOST,
      [
        `set -e; mkdir -p ${dir} ${root}; cd ${dir}`,
        'truncate -s 1G master.img node.img',
        "printf 'label: dos\\n,600M,83\\n,200M,83\\n,,82\\n' | sfdisk -q master.img",
        'sfdisk -d master.img > sda.out',
        'losetup -f --show -P node.img',
      ].join('\n'),
    );
    expect(attach.exitCode, attach.stderr).toBe(0);
    const disk = attach.stdout.trim();
    expect(disk).toMatch(/^\/dev\/loop\d+$/);
    const part = (n: number) => `${disk}p${n}`;
    try {
      await checkScenario(lab, HOST, {
        name: 'clone-table',
        tasks: `    - name: clone the partition table
      sfdisk:
        device: ${disk}
        dump_remote: ${dir}/sda.out
`,
        snapshot: `sfdisk -d ${disk} 2>/dev/null | grep -v -e label-id -e '^device' || echo no-table`,
        expectAfter: /p1 : start=\s*2048, size=\s*1228800, type=83\n.*p2 : start=\s*1230848, size=\s*409600, type=83\n.*p3 : start=\s*1640448, size=\s*456704, type=82\n/,
      });

      // No udev in a container: make the partition nodes from sysfs, as udev would.
      const nodes = await lab.exec(
        HOST,
        `set -e; d=$(basename ${disk}); for p in 1 2 3; do i=0; while [ ! -e /sys/block/$d/\${d}p$p/dev ] && [ $i -lt 50 ]; do partx -u ${disk} 2>/dev/null || true; sleep 0.1; i=$((i+1)); done; [ -b ${disk}p$p ] || mknod ${disk}p$p b $(tr : ' ' < /sys/block/$d/\${d}p$p/dev); done`,
      );
      expect(nodes.exitCode, nodes.stderr).toBe(0);

      await checkScenario(lab, HOST, {
        name: 'clone-filesystems',
        setup: `touch ${dir}/fstab`,
        tasks: `    - name: root filesystem
      filesystem: dev=${part(1)} fstype=ext4
    - name: home filesystem
      filesystem: dev=${part(2)} fstype=ext4
    - name: swap signature
      filesystem: dev=${part(3)} fstype=swap
    - name: mount the root partition
      mount:
        path: ${root}
        src: ${part(1)}
        fstype: ext4
        state: mounted
        fstab: ${dir}/fstab
`,
        snapshot: `blkid -o value -s TYPE ${part(1)} ${part(2)} ${part(3)} || true; findmnt -n -o SOURCE ${root} || true; cat ${dir}/fstab`,
        expectAfter: `ext4\next4\nswap\n${part(1)}\n${part(1)} ${root} ext4 defaults 0 0\n`,
      });

      // The clone itself (thesis: cp -ax / /mnt/sda1), then GRUB's defaults file, which
      // Debian's grub-pc package would have installed.
      const copy = await lab.exec(
        HOST,
        `set -e; tar -C / --one-file-system --exclude=./proc --exclude=./sys --exclude=./dev --exclude=./mnt --exclude=./srv -cf - . | tar -C ${root} -xf -; mkdir -p ${root}/proc ${root}/sys ${root}/dev; cp /usr/share/grub/default/grub ${root}/etc/default/grub`,
      );
      expect(copy.exitCode, copy.stderr).toBe(0);

      await checkScenario(lab, HOST, {
        name: 'clone-grub',
        tasks: `    - name: boot loader of the clone
      grub:
        chroot: ${root}
        install_device: ${disk}
        defaults:
          GRUB_TIMEOUT: 3
        update: true
`,
        snapshot: `dd if=${disk} bs=512 count=1 2>/dev/null | grep -ac GRUB || true; grep ^GRUB_TIMEOUT= ${root}/etc/default/grub; ls ${root}/boot/grub/grub.cfg ${root}/boot/grub/i386-pc/core.img 2>&1 || true`,
        expectAfter: `1\nGRUB_TIMEOUT=3\n${root}/boot/grub/grub.cfg\n${root}/boot/grub/i386-pc/core.img\n`,
      });

      // The boot sector ends with the MBR signature, and grub.cfg finds the clone's root by its UUID.
      const verify = await lab.exec(
        HOST,
        `dd if=${disk} bs=1 skip=510 count=2 2>/dev/null | od -A n -t x1; blkid -o value -s UUID ${part(1)}; grep -m1 -o -- '--fs-uuid --set=root [0-9a-f-]*' ${root}/boot/grub/grub.cfg; grep -c 'set timeout=3' ${root}/boot/grub/grub.cfg; findmnt -n -o TARGET -R ${root} | wc -l`,
      );
      const [signature, uuid, search, timeouts, mounts] = verify.stdout.trim().split('\n').map((l) => l.trim());
      expect(signature).toBe('55 aa');
      expect(search).toBe(`--fs-uuid --set=root ${uuid}`);
      expect(Number(timeouts)).toBeGreaterThan(0);
      // The chroot's /dev, /dev/pts, /proc and /sys were unmounted after grub ran.
      expect(mounts).toBe('1');
    } finally {
      await lab.exec(HOST, `umount -R ${root} 2>/dev/null; losetup -d ${disk}; rm -f ${disk}p1 ${disk}p2 ${disk}p3`);
    }
  });

  it('reboot waits for the host to come back, and check mode does not reboot', async () => {
    const boot = () => lab.exec('sys2', 'stat -c %Z /proc/1').then((r) => r.stdout.trim());
    const before = await boot();
    const pb = writePlaybook(
      { name: 'reboot', tasks: '    - name: reboot\n      reboot: reboot_timeout=120\n    - name: after\n      command: echo back\n', snapshot: 'true' },
      'sys2',
    );
    const check = await playJson([pb, '-i', lab.inventoryPath, '--check']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.results.find((r) => r.task === 'reboot')?.status).toBe('changed');
    expect(await boot()).toBe(before);
    const real = await playJson([pb, '-i', lab.inventoryPath]);
    expect(real.code, JSON.stringify(real.results) + real.stderr).toBe(0);
    expect(real.results.map((r) => `${r.task}:${r.status}`)).toEqual(['reboot:changed', 'after:changed']);
    expect(await boot()).not.toBe(before);
  });
});
