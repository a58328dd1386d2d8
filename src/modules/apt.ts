/**
 * apt: Debian packages installed, upgraded or removed (ansible.builtin.apt).
 *
 * One fact reads the state of every named package at once: `dpkg-query` for
 * what is installed, `apt-cache policy` for the candidates and the versions
 * the repositories offer, apt's extended_states for packages that were only
 * pulled in as dependencies, and, for names without a candidate (virtual
 * packages like mail-transport-agent), who provides them. Upgrades of the
 * whole system, autoremove and build-dep are predicted by `apt-get -s`, which
 * prints exactly what the real command would do.
 *
 * Every apt-get runs with DEBIAN_FRONTEND=noninteractive and keeps the
 * existing configuration files (force-confdef,force-confold), so it never
 * prompts, and waits for the dpkg lock (DPkg::Lock::Timeout) instead of
 * failing when unattended-upgrades holds it.
 *
 * The package cache: `update_cache` refreshes it when it is older than
 * `cache_valid_time`. Alone, that is the task's change. With packages, the
 * refresh runs only as part of a package change (Ansible refreshes and then
 * reports "ok" when nothing else changed; here a refresh alone would be a
 * change, so when the packages are already as asked it is left out). With
 * `state: latest` the newest version is only known after the refresh, so a
 * stale cache plans a refresh plus an install of the packages.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact, type FactRequest } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

// ------------------------------------------------------------------ versions

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c >= '0' && c <= '9') return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

// dpkg's verrevcmp (lib/dpkg/version.c): non-digit runs compare by `order`, digit runs numerically.
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function splitVersion(v: string): { epoch: number; upstream: string; revision: string } {
  const colon = v.indexOf(':');
  const epoch = colon >= 0 ? Number(v.slice(0, colon)) || 0 : 0;
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

/** Debian version ordering, as `dpkg --compare-versions` (negative: a < b). */
export function compareDebVersions(a: string, b: string): number {
  const x = splitVersion(a.trim());
  const y = splitVersion(b.trim());
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  const u = verrevcmp(x.upstream, y.upstream);
  if (u !== 0) return u;
  return verrevcmp(x.revision, y.revision);
}

/** Python's fnmatch.fnmatch on POSIX: `*`, `?`, `[...]`, `[!...]`, case-sensitive. */
export function fnmatch(value: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(value);
}

// ------------------------------------------------------------------ package specs

export interface PackageSpec {
  name: string;
  op?: '=' | '>=';
  version?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/;

/** `nginx`, `nginx=1.26*`, `nginx>=1.26` (Ansible's package_split). */
export function parsePackageSpec(spec: string): PackageSpec {
  const s = spec.trim();
  const m = /^([^=>]+?)(>?=)(.*)$/.exec(s);
  if (!m) return { name: s };
  return { name: m[1]!.trim(), op: m[2] as '=' | '>=', version: m[3]!.trim() };
}

function checkSpec(spec: string): void {
  if ((spec.match(/=/g) ?? []).length > 1) throw new ArgError(`invalid package spec: ${spec}`, 'name');
  const p = parsePackageSpec(spec);
  if (/[*?[\]!]/.test(p.name)) throw new ArgError(`wildcards in package names are not supported (${JSON.stringify(spec)}); list the packages`, 'name');
  if (!NAME_RE.test(p.name)) throw new ArgError(`${JSON.stringify(p.name)} is not a Debian package name`, 'name');
  if (p.op && p.version === '') throw new ArgError(`${JSON.stringify(spec)}: the version after ${p.op} is empty`, 'name');
}

// ------------------------------------------------------------------ the packages fact

export interface DpkgEntry {
  /** dpkg's status word: installed, config-files, not-installed, half-configured, unpacked, ... */
  status: string;
  /** the selection: install, hold, deinstall, purge, unknown */
  want: string;
  version: string;
}

export interface PolicyEntry {
  installed?: string;
  candidate?: string;
  /** every version the version table lists, best first as apt prints them */
  versions: string[];
}

export interface Provider {
  name: string;
  installed: boolean;
  version?: string;
}

export interface AptPackagesState {
  dpkg: Record<string, DpkgEntry>;
  /** only when asked; a name missing here is unknown to apt */
  policy?: Record<string, PolicyEntry>;
  /** for names without a candidate: the packages that provide them */
  providers: Record<string, Provider[]>;
  /** names marked as automatically installed */
  auto: string[];
}

const M = '@@tsible-';
const DPKG_FORMAT = '${Package}\\t${Status}\\t${Version}\\n';

// Names come in as positional parameters; the policy section also lists who provides the names that have no candidate.
const PACKAGES_SCRIPT = `export LC_ALL=C
echo '${M}dpkg'
dpkg-query -W -f='${DPKG_FORMAT}' -- "$@" 2>/dev/null
echo '${M}auto'
# What apt-mark showauto prints, read from its file: apt-mark loads the whole package cache (~0.1 s of CPU per host).
awk -v want=" $* " 'BEGIN { RS = "" } { p = ""; a = 0; n = split($0, l, "\\n"); for (i = 1; i <= n; i++) { if (l[i] ~ /^Package: /) p = substr(l[i], 10); else if (l[i] ~ /^Auto-Installed: 1/) a = 1 } if (a && index(want, " " p " ")) print p }' /var/lib/apt/extended_states 2>/dev/null
if [ "$policy" = missing ]; then
  # Only names not installed need a candidate: skip apt-cache (slow: it loads the whole cache) when all are.
  installed=$(dpkg-query -W -f='\${Package} \${db:Status-Status}\\n' -- "$@" 2>/dev/null | awk '$2 == "installed" { print $1 }')
  for n in "$@"; do printf '%s\\n' "$installed" | grep -qxF -- "$n" || { policy=yes; break; }; done
fi
if [ "$policy" = yes ]; then
  echo '${M}policy'
  p=$(apt-cache $rel policy -- "$@" 2>/dev/null)
  printf '%s\\n' "$p"
  for v in $(printf '%s\\n' "$p" | awk '/^[^ ]/ { n = $0; sub(/:$/, "", n) } /^  Candidate: \\(none\\)$/ { print n }'); do
    pr=$(apt-cache showpkg -- "$v" 2>/dev/null | awk 'f && NF { print $1 } /^Reverse Provides:/ { f = 1 }' | sort -u)
    echo "${M}provides $v"
    for q in $pr; do echo "$q"; done
    if [ -n "$pr" ]; then echo '${M}provider-status'; dpkg-query -W -f='${DPKG_FORMAT}' -- $pr 2>/dev/null; fi
  done
fi
true`;

export function parseDpkgLine(line: string): [string, DpkgEntry] | undefined {
  const [name, status, version = ''] = line.split('\t');
  if (!name || !status) return undefined;
  const words = status.trim().split(/\s+/);
  return [name, { want: words[0] ?? '', status: words[2] ?? words[words.length - 1] ?? '', version: version.trim() }];
}

/** `apt-cache policy` output (LC_ALL=C) for several packages. */
export function parsePolicy(text: string): Record<string, PolicyEntry> {
  const out: Record<string, PolicyEntry> = {};
  let cur: PolicyEntry | undefined;
  let inTable = false;
  for (const line of text.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) {
      cur = { versions: [] };
      out[head[1]!] = cur;
      inTable = false;
      continue;
    }
    if (!cur) continue;
    const field = /^ {2}(Installed|Candidate): (.*)$/.exec(line);
    if (field) {
      const v = field[2]!.trim();
      if (v !== '(none)') cur[field[1] === 'Installed' ? 'installed' : 'candidate'] = v;
      continue;
    }
    if (/^ {2}Version table:/.test(line)) {
      inTable = true;
      continue;
    }
    const ver = inTable ? /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line) : null;
    if (ver) cur.versions.push(ver[1]!);
  }
  return out;
}

export function parseAptPackages(stdout: string): AptPackagesState {
  const state: AptPackagesState = { dpkg: {}, providers: {}, auto: [] };
  let section = '';
  let virtual = '';
  const providerStatus: Record<string, DpkgEntry> = {};
  const policyLines: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      const [tag, arg] = line.slice(M.length).split(' ');
      section = tag!;
      if (tag === 'policy') state.policy = {};
      if (tag === 'provides') {
        virtual = arg ?? '';
        state.providers[virtual] = [];
      }
      continue;
    }
    if (line === '') continue;
    switch (section) {
      case 'dpkg': {
        const e = parseDpkgLine(line);
        // Several architectures of one package: an installed one wins.
        if (e && (!state.dpkg[e[0]] || e[1].status === 'installed')) state.dpkg[e[0]] = e[1];
        break;
      }
      case 'auto':
        state.auto.push(line.trim().replace(/:[a-z0-9-]+$/, ''));
        break;
      case 'policy':
        policyLines.push(line);
        break;
      case 'provides':
        state.providers[virtual]!.push({ name: line.trim(), installed: false });
        break;
      case 'provider-status': {
        const e = parseDpkgLine(line);
        if (e) providerStatus[e[0]] = e[1];
        break;
      }
    }
  }
  if (state.policy) state.policy = parsePolicy(policyLines.join('\n'));
  for (const list of Object.values(state.providers)) {
    for (const p of list) {
      const st = providerStatus[p.name.replace(/:[a-z0-9-]+$/, '')];
      if (st?.status === 'installed') {
        p.installed = true;
        p.version = st.version;
      }
    }
  }
  return state;
}

export const aptPackagesFact: Fact<{ names: string[]; policy: boolean | 'missing'; release?: string }, AptPackagesState> = {
  name: 'apt_packages',
  command: ({ names, policy, release }) =>
    ShellCommand.join(
      [
        sh`set -- ${names}`,
        policy === 'missing' ? sh`policy=missing` : policy ? sh`policy=yes` : sh`policy=no`,
        release ? sh`rel=${`-oAPT::Default-Release=${release}`}` : sh`rel=`,
        ShellCommand.script(PACKAGES_SCRIPT),
      ],
      '\n',
    ),
  parse: (out) => parseAptPackages(out.stdout),
};

// ------------------------------------------------------------------ cache age

export interface AptCacheAge {
  now: number;
  /** mtime of the newest evidence of a refresh, 0 when there is none */
  mtime: number;
  source: string;
}

// Ansible's order: apt's own success stamp, else the lists directory; pkgcache.bin when neither exists.
const CACHE_AGE_SCRIPT = `date +%s
for f in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists /var/cache/apt/pkgcache.bin; do
  if [ -e "$f" ]; then echo "$(stat -c %Y "$f") $f"; exit 0; fi
done
echo "0 none"`;

export function parseCacheAge(stdout: string): AptCacheAge {
  const [now = '0', stamp = '0 none'] = stdout.trim().split('\n');
  const [mtime = '0', source = 'none'] = stamp.trim().split(' ');
  return { now: Number(now) || 0, mtime: Number(mtime) || 0, source };
}

export const aptCacheAgeFact: Fact<void, AptCacheAge> = {
  name: 'apt_cache_age',
  command: () => ShellCommand.script(CACHE_AGE_SCRIPT),
  parse: (out) => parseCacheAge(out.stdout),
};

// ------------------------------------------------------------------ simulation

export interface SimulatedAction {
  action: 'Inst' | 'Remv' | 'Purg' | 'Del';
  name: string;
  /** the installed version, for an upgrade or a removal */
  from?: string;
  /** the version to install */
  to?: string;
}

export interface Simulation {
  actions: SimulatedAction[];
  /** apt-get's E: lines when the simulation failed */
  error?: string;
}

/** `apt-get -s` output: `Inst passwd [1:4.17.4-2] (1:4.17.4-2+deb13u1 Debian-Security:13/stable-security [amd64])`. */
export function parseSimulation(stdout: string, exitCode: number): Simulation {
  const actions: SimulatedAction[] = [];
  const errors: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(Inst|Remv|Purg|Del) (\S+)(?: \[([^\]]+)\])?(?: \((\S+))?/.exec(line);
    if (m) {
      const a: SimulatedAction = { action: m[1] as SimulatedAction['action'], name: m[2]! };
      if (m[3]) a.from = m[3];
      if (m[4] && m[1] === 'Inst') a.to = m[4];
      actions.push(a);
    } else if (/^E: /.test(line)) errors.push(line.slice(3));
  }
  const sim: Simulation = { actions };
  if (exitCode !== 0) sim.error = errors.join('; ') || `apt-get -s exited with ${exitCode}`;
  return sim;
}

export const aptSimulationFact: Fact<{ argv: string[] }, Simulation> = {
  name: 'apt_simulation',
  command: ({ argv }) => sh`LC_ALL=C apt-get -s -q -o Debug::NoLocking=1 ${argv} 2>&1`,
  parse: (out) => parseSimulation(out.stdout, out.exitCode),
};

// ------------------------------------------------------------------ .deb files

export interface DebFile {
  exists: boolean;
  sha256?: string;
  package?: string;
  version?: string;
  architecture?: string;
  /** dpkg-deb's complaint when the file is not a package */
  error?: string;
  /** the state of the package the file contains */
  installed?: DpkgEntry;
}

export interface DebState {
  host: DebFile;
  /** the uploaded copy of a controller file */
  cache?: DebFile;
}

const DEB_SCRIPT = `export LC_ALL=C
deb() {
  echo "${M}deb $1"
  [ -f "$2" ] || return 0
  echo exists
  [ "$1" = cache ] && echo "sha256 $(sha256sum < "$2" | cut -d' ' -f1)"
  f=$(dpkg-deb -f "$2" Package Version Architecture 2>&1) || { printf 'error %s\\n' "$f" | head -n 1; return 0; }
  printf '%s\\n' "$f"
  pkg=$(dpkg-deb -f "$2" Package 2>/dev/null)
  [ -n "$pkg" ] && dpkg-query -W -f='dpkg ${DPKG_FORMAT}' -- "$pkg" 2>/dev/null
  return 0
}
deb host "$host"
[ -n "$cache" ] && deb cache "$cache"
true`;

export function parseDebState(stdout: string): DebState {
  const files: Record<string, DebFile> = {};
  let cur: DebFile | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${M}deb `)) {
      cur = { exists: false };
      files[line.slice(M.length + 4).trim()] = cur;
      continue;
    }
    if (!cur || line === '') continue;
    let m: RegExpExecArray | null;
    if (line === 'exists') cur.exists = true;
    else if ((m = /^sha256 ([0-9a-f]{64})$/.exec(line))) cur.sha256 = m[1];
    else if ((m = /^error (.*)$/.exec(line))) cur.error = m[1];
    else if ((m = /^(Package|Version|Architecture): (.*)$/.exec(line))) cur[m[1]!.toLowerCase() as 'package' | 'version' | 'architecture'] = m[2]!.trim();
    else if (line.startsWith('dpkg ')) {
      const e = parseDpkgLine(line.slice(5));
      if (e && (!cur.installed || e[1].status === 'installed')) cur.installed = e[1];
    }
  }
  return { host: files.host ?? { exists: false }, ...(files.cache ? { cache: files.cache } : {}) };
}

export const debFileFact: Fact<{ host: string; cache?: string }, DebState> = {
  name: 'apt_deb',
  command: ({ host, cache }) => ShellCommand.join([sh`host=${host}; cache=${cache ?? ''}`, ShellCommand.script(DEB_SCRIPT)], '\n'),
  parse: (out) => parseDebState(out.stdout),
};

export const DEB_CACHE_DIR = '/var/cache/tsible/deb';

/** Where a controller .deb is kept on the host, so the next run can compare instead of uploading again. */
export function debCachePath(controllerPath: string): string {
  const tag = createHash('sha256').update(controllerPath).digest('hex').slice(0, 12);
  return `${DEB_CACHE_DIR}/${tag}-${posix.basename(controllerPath)}`;
}

// ------------------------------------------------------------------ commands

interface CommandArgs {
  dpkg_options: string;
  lock_timeout: number;
  install_recommends?: boolean;
  default_release?: string;
  force: boolean;
  allow_unauthenticated: boolean;
  allow_downgrade: boolean;
  allow_change_held_packages: boolean;
  autoremove: boolean;
  fail_on_autoremove: boolean;
  purge: boolean;
  only_upgrade: boolean;
  policy_rc_d?: number;
}

/** The options every apt-get run shares, as words. */
export function aptOptions(args: Pick<CommandArgs, 'dpkg_options' | 'lock_timeout'>): string[] {
  const words = ['-y', '-q'];
  for (const o of args.dpkg_options.split(',').map((s) => s.trim()).filter(Boolean)) words.push('-o', `Dpkg::Options::=--${o.replace(/^--/, '')}`);
  words.push('-o', `DPkg::Lock::Timeout=${args.lock_timeout}`);
  return words;
}

function installOptions(args: CommandArgs): string[] {
  const w: string[] = [];
  if (args.default_release) w.push('-t', args.default_release);
  if (args.install_recommends === false) w.push('--no-install-recommends');
  else if (args.install_recommends === true) w.push('-o', 'APT::Install-Recommends=yes');
  if (args.force) w.push('--allow-unauthenticated', '--allow-downgrades', '--allow-remove-essential', '--allow-change-held-packages');
  else {
    if (args.allow_unauthenticated) w.push('--allow-unauthenticated');
    if (args.allow_downgrade) w.push('--allow-downgrades');
    if (args.allow_change_held_packages) w.push('--allow-change-held-packages');
  }
  if (args.autoremove) w.push('--auto-remove');
  if (args.fail_on_autoremove) w.push('--no-remove');
  return w;
}

function aptGet(args: CommandArgs, words: string[]): ShellCommand {
  const run = sh`DEBIAN_FRONTEND=noninteractive apt-get ${aptOptions(args)} ${words}`;
  if (args.policy_rc_d === undefined) return run;
  // Ansible's policy_rc_d: a temporary /usr/sbin/policy-rc.d answers invoke-rc.d (101: do not start services); an existing one is put back.
  return ShellCommand.join(
    [
      ShellCommand.script('p=/usr/sbin/policy-rc.d; if [ -e "$p" ]; then mv -f "$p" "$p.tsible-saved" || exit 1; fi'),
      sh`printf '#!/bin/sh\\nexit %d\\n' ${args.policy_rc_d} > "$p" && chmod 0755 "$p" || exit 1`,
      run,
      ShellCommand.script('rc=$?; rm -f "$p"; if [ -e "$p.tsible-saved" ]; then mv -f "$p.tsible-saved" "$p"; fi; exit $rc'),
    ],
    '\n',
  );
}

/**
 * apt-get update. Touching apt's success stamp records the refresh where
 * cache_valid_time (ours and Ansible's) looks first.
 */
export function aptUpdateCommand(lockTimeout: number): ShellCommand {
  return sh`apt-get -q -o ${`DPkg::Lock::Timeout=${lockTimeout}`} update && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp`;
}

// ------------------------------------------------------------------ planning

/** What the install/remove planner decided for the named packages. */
export interface PackageDecision {
  install: string[];
  remove: string[];
  markManual: string[];
  descriptions: string[];
  reasons: string[];
  failure?: { message: string; missing?: string };
}

const PRESENT_STATUSES = new Set(['installed', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending']);

export function decidePackages(
  specs: PackageSpec[],
  st: AptPackagesState,
  opts: { state: 'present' | 'latest' | 'absent'; purge: boolean; onlyUpgrade: boolean; cacheStale: boolean },
): PackageDecision {
  const d: PackageDecision = { install: [], remove: [], markManual: [], descriptions: [], reasons: [] };
  const newInstall: string[] = [];
  const upgrades: string[] = [];
  const downgrades: string[] = [];
  const refreshLatest: string[] = [];
  const fail = (message: string, missing?: string): PackageDecision => ({ ...d, failure: missing ? { message, missing } : { message } });
  const missing = (what: string) => `package ${what} (maybe from a repository added earlier)`;
  const ok = (name: string, reason: string) => {
    d.reasons.push(reason);
    if (st.auto.includes(name)) d.markManual.push(name);
  };
  for (const spec of specs) {
    const { name } = spec;
    const dp = st.dpkg[name];
    const installed = dp?.status === 'installed';
    const label = spec.op ? `${name}${spec.op}${spec.version}` : name;
    if (opts.state === 'absent') {
      if (dp && PRESENT_STATUSES.has(dp.status)) d.remove.push(name);
      else if (opts.purge && dp?.status === 'config-files') d.remove.push(name);
      else d.reasons.push(dp?.status === 'config-files' ? `${name} is removed (its configuration files remain; purge: true removes them)` : `${name} is not installed`);
      continue;
    }
    if (opts.onlyUpgrade && !installed) {
      d.reasons.push(`${name} is not installed (only_upgrade)`);
      continue;
    }
    const pol = st.policy?.[name];
    // Unknown to apt: a stale cache may not know it yet; a fresh one means it does not exist.
    if (!installed && (!pol || !pol.candidate)) {
      const providers = st.providers[name] ?? [];
      const have = providers.filter((p) => p.installed);
      if (pol && have.length > 0 && !spec.op) {
        d.reasons.push(`${name} is a virtual package provided by installed ${have.map((p) => p.name).join(', ')}`);
        continue;
      }
      if (pol && providers.length === 1 && !spec.op) {
        newInstall.push(`${name} (provided by ${providers[0]!.name})`);
        d.install.push(name);
        continue;
      }
      if (pol && providers.length > 1) return fail(`${name} is a virtual package provided by ${providers.map((p) => p.name).join(', ')}; name the one to install`);
      if (opts.cacheStale) {
        newInstall.push(label);
        d.install.push(label);
        continue;
      }
      if (!pol) return fail(`No package matching '${name}' is available`, missing(name));
      return fail(`package ${name} has no installation candidate`, missing(name));
    }
    const versions = pol?.versions ?? [];
    if (spec.op === '=') {
      const pattern = spec.version!;
      if (installed && fnmatch(dp.version, pattern)) {
        ok(name, `${name} ${dp.version} is installed`);
        continue;
      }
      const best = versions.filter((v) => fnmatch(v, pattern)).sort((a, b) => compareDebVersions(b, a))[0];
      if (!best) {
        if (opts.cacheStale) {
          (installed ? upgrades : newInstall).push(label);
          d.install.push(label);
          continue;
        }
        return fail(`no version of ${name} matches ${pattern} (available: ${versions.join(', ') || 'none'})`, missing(`${name}=${pattern}`));
      }
      if (installed) (compareDebVersions(best, dp.version) < 0 ? downgrades : upgrades).push(`${name} ${dp.version} → ${best}`);
      else newInstall.push(`${name}=${best}`);
      d.install.push(`${name}=${best}`);
      continue;
    }
    const cand = pol?.candidate;
    if (spec.op === '>=') {
      const min = spec.version!;
      if (installed && compareDebVersions(dp.version, min) >= 0 && (opts.state !== 'latest' || !cand || compareDebVersions(cand, dp.version) <= 0)) {
        ok(name, `${name} ${dp.version} is installed (>= ${min})`);
        continue;
      }
      if (!cand || compareDebVersions(cand, min) < 0) {
        if (opts.cacheStale) {
          (installed ? upgrades : newInstall).push(label);
          d.install.push(name);
          continue;
        }
        return fail(`no version of ${name} >= ${min} is available (candidate: ${cand ?? 'none'})`, missing(`${name}>=${min}`));
      }
      if (installed) upgrades.push(`${name} ${dp.version} → ${cand}`);
      else newInstall.push(`${name}=${cand}`);
      d.install.push(`${name}=${cand}`);
      continue;
    }
    if (!installed) {
      newInstall.push(name);
      d.install.push(name);
      continue;
    }
    if (opts.state === 'latest') {
      if (cand && compareDebVersions(cand, dp.version) > 0) {
        upgrades.push(`${name} ${dp.version} → ${cand}`);
        d.install.push(name);
      } else if (opts.cacheStale) {
        refreshLatest.push(name);
        d.install.push(name);
      } else ok(name, `${name} ${dp.version} is the newest version`);
      continue;
    }
    ok(name, `${name} ${dp.version} is installed`);
  }
  if (newInstall.length) d.descriptions.push(`install ${newInstall.join(', ')}`);
  if (upgrades.length) d.descriptions.push(`upgrade ${upgrades.join(', ')}`);
  if (downgrades.length) d.descriptions.push(`downgrade ${downgrades.join(', ')}`);
  if (refreshLatest.length) d.descriptions.push(`upgrade ${refreshLatest.join(', ')} if the refreshed lists have newer versions`);
  // apt-get install marks what it installs as manual anyway.
  d.markManual = d.markManual.filter((n) => !d.install.some((i) => parsePackageSpec(i).name === n));
  return d;
}

function cacheIsStale(args: { update_cache?: boolean; cache_valid_time: number }, age: AptCacheAge): boolean {
  if (!args.update_cache && !(args.cache_valid_time > 0)) return false;
  return !(age.mtime + args.cache_valid_time >= age.now);
}

function simulationArgv(args: { upgrade: string; autoremove: boolean; purge: boolean; state: string; default_release?: string }, names: string[]): string[] | undefined {
  const rel = args.default_release ? ['-t', args.default_release] : [];
  if (args.upgrade === 'dist' || args.upgrade === 'full') return [...rel, 'dist-upgrade', ...(args.autoremove ? ['--auto-remove'] : [])];
  if (args.upgrade === 'yes' || args.upgrade === 'safe') return [...rel, 'upgrade', '--with-new-pkgs', ...(args.autoremove ? ['--auto-remove'] : [])];
  if (args.state === 'build-dep') return [...rel, 'build-dep', ...names];
  if (names.length === 0 && args.autoremove) return [...(args.purge ? ['--purge'] : []), 'autoremove'];
  return undefined;
}

function summariseActions(actions: SimulatedAction[]): string {
  const up = actions.filter((a) => a.action === 'Inst' && a.from);
  const add = actions.filter((a) => a.action === 'Inst' && !a.from);
  const rm = actions.filter((a) => a.action !== 'Inst');
  const parts: string[] = [];
  const list = (xs: SimulatedAction[]) => (xs.length > 6 ? `${xs.slice(0, 6).map((x) => x.name).join(', ')} and ${xs.length - 6} more` : xs.map((x) => x.name).join(', '));
  if (up.length) parts.push(`upgrade ${list(up)}`);
  if (add.length) parts.push(`install ${list(add)}`);
  if (rm.length) parts.push(`remove ${list(rm)}`);
  return parts.join('; ');
}

/** The facts a plan receives; each is read only when the arguments need it. */
export interface AptFacts {
  packages?: AptPackagesState;
  cache?: AptCacheAge;
  simulation?: Simulation;
  /** apt-get -s autoclean */
  autoclean?: Simulation;
  deb?: DebState;
}

const STATES = ['present', 'installed', 'latest', 'absent', 'removed', 'build-dep'] as const;

export default defineModule({
  name: 'apt',
  collections: ['ansible.builtin'],
  description:
    'Install, upgrade or remove Debian packages with apt-get, never prompting (DEBIAN_FRONTEND=noninteractive, keeps existing configuration files) and waiting for the dpkg lock instead of failing. Reads the state of all named packages in one query.',
  args: {
    name: { type: 'list', elements: 'str', aliases: ['pkg', 'package'], description: 'Package names, optionally with a version: nginx, nginx=1.26*, nginx>=1.26 (fnmatch pattern after =).' },
    state: {
      type: 'str',
      default: 'present',
      choices: STATES,
      description: 'present (installed is the same), latest (the newest version the repositories offer), absent (removed is the same), build-dep (the build dependencies).',
    },
    update_cache: { type: 'bool', aliases: ['update-cache'], description: 'Refresh the package lists (apt-get update) first, when they are older than cache_valid_time.' },
    cache_valid_time: { type: 'int', default: 0, description: 'Seconds the package lists count as fresh; 0 refreshes every time update_cache is set. Setting it implies update_cache.' },
    deb: { type: 'path', description: 'A .deb file to install: a path on the host, or else a file on the controller (role files/ first), which is uploaded. Installed with apt-get, so its dependencies come too.' },
    install_recommends: { type: 'bool', aliases: ['install-recommends'], description: "Install recommended packages too (default: the host's apt configuration)." },
    purge: { type: 'bool', default: false, description: 'With state=absent, also remove configuration files (also for packages already removed but not purged).' },
    autoremove: { type: 'bool', default: false, description: 'Remove dependencies nobody needs any more (alone: apt-get autoremove).' },
    fail_on_autoremove: { type: 'bool', default: false, description: 'Fail instead of removing packages to satisfy the request (--no-remove).' },
    force: { type: 'bool', default: false, description: 'Allow unauthenticated packages, downgrades, removing essential and changing held packages. Dangerous.' },
    allow_unauthenticated: { type: 'bool', default: false, aliases: ['allow-unauthenticated'], description: 'Install packages that cannot be authenticated.' },
    allow_downgrade: { type: 'bool', default: false, aliases: ['allow-downgrade', 'allow_downgrades', 'allow-downgrades'], description: 'Allow a version pin to install an older version than the installed one.' },
    allow_change_held_packages: { type: 'bool', default: false, description: 'Allow installing or upgrading held packages.' },
    default_release: { type: 'str', aliases: ['default-release'], description: 'The release to prefer (apt-get -t), e.g. trixie-backports.' },
    dpkg_options: { type: 'str', default: 'force-confdef,force-confold', description: 'dpkg options, comma-separated without the leading --.' },
    only_upgrade: { type: 'bool', default: false, description: 'Only upgrade packages that are installed; never install new ones.' },
    upgrade: { type: 'str', default: 'no', choices: ['no', 'yes', 'safe', 'full', 'dist'], description: 'Upgrade the whole system: yes/safe (apt-get upgrade --with-new-pkgs), full/dist (apt-get dist-upgrade).' },
    clean: { type: 'bool', default: false, description: 'Remove the downloaded package files (apt-get clean); always a change.' },
    lock_timeout: { type: 'int', default: 600, description: 'Seconds apt-get waits for the dpkg lock held by another process.' },
    policy_rc_d: { type: 'int', description: 'Exit code of a temporary /usr/sbin/policy-rc.d while apt-get runs; 101 keeps installed services from starting.' },
    autoclean: { type: 'bool', default: false, description: 'Remove package files that can no longer be downloaded (apt-get autoclean), when there are any.' },
    force_apt_get: { type: 'bool', default: false, description: 'Accepted for compatibility; tsible always uses apt-get.' },
    update_cache_retries: { type: 'int', default: 5, description: 'Accepted for compatibility; the refresh runs once and fails the task when it fails.' },
    update_cache_retry_max_delay: { type: 'int', default: 12, description: 'Accepted for compatibility (see update_cache_retries).' },
  },
  returns: {
    stdout: "apt-get's output",
    cache_updated: 'whether the package lists are refreshed',
    cache_update_time: 'the time (epoch seconds) of the last refresh known before the task',
    packages: 'the state of each named package before the task: {name: {status, version, candidate}}',
  },
  example: [
    '- name: NIS and NFS clients on every node',
    '  ansible.builtin.apt:',
    '    name: [nis, nfs-common, rpcbind]',
    '    update_cache: true',
    '    cache_valid_time: 3600',
    '',
    '- name: A locally built package from the role files/',
    '  ansible.builtin.apt:',
    '    deb: mosix_4.4.4_amd64.deb',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    for (const n of args.name ?? []) if (n !== '*') checkSpec(n);
    const given = [args.deb !== undefined, (args.name ?? []).length > 0, args.upgrade !== 'no'].filter(Boolean).length;
    if (given > 1) throw new ArgError('deb, name and upgrade are mutually exclusive', args.deb !== undefined ? 'deb' : 'upgrade');
    if (given === 0 && !args.update_cache && !(args.cache_valid_time > 0) && !args.autoremove && !args.autoclean && !args.clean) {
      throw new ArgError('one of name, deb, upgrade, update_cache, autoremove or autoclean is required', 'name');
    }
    if (args.deb !== undefined && !['present', 'installed'].includes(args.state)) throw new ArgError('deb only supports state=present', 'state');
    if (args.deb !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(args.deb)) throw new ArgError('deb as a URL is not supported; download it with get_url first', 'deb');
    if ((args.name ?? []).includes('*') && (args.state !== 'latest' || args.name!.length > 1)) {
      throw new ArgError("name: '*' only works alone with state=latest (use upgrade: yes)", 'name');
    }
  },
  facts(args, ctx) {
    const names = [...new Set((args.name ?? []).filter((n) => n !== '*').map((n) => parsePackageSpec(n).name))];
    const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : args.state;
    const wantsCache = args.update_cache || args.cache_valid_time > 0;
    const upgradeMode = (args.name ?? []).includes('*') ? 'yes' : args.upgrade;
    const r: Record<string, FactRequest<unknown>> = {};
    if (names.length && state !== 'build-dep') r.packages = factRequest(aptPackagesFact, { names, policy: state === 'absent' ? false : state === 'present' && !(args.name ?? []).some((n) => parsePackageSpec(n).op) ? 'missing' : true, ...(args.default_release ? { release: args.default_release } : {}) });
    if (wantsCache) r.cache = factRequest(aptCacheAgeFact, undefined);
    const sim = simulationArgv({ ...args, upgrade: upgradeMode, state }, names);
    if (sim) r.simulation = factRequest(aptSimulationFact, { argv: sim });
    if (args.autoclean && names.length === 0) r.autoclean = factRequest(aptSimulationFact, { argv: ['autoclean'] });
    if (args.deb !== undefined) {
      let cache: string | undefined;
      try {
        cache = debCachePath(ctx.findControllerFile(args.deb, 'files'));
      } catch {
        cache = undefined;
      }
      r.deb = factRequest(debFileFact, { host: args.deb, ...(cache ? { cache } : {}) });
    }
    return r as Record<string, FactRequest<unknown>>;
  },
  async plan(args, factValues, ctx): Promise<Plan> {
    const facts = factValues as AptFacts;
    const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : args.state;
    const specs = (args.name ?? []).filter((n) => n !== '*').map(parsePackageSpec);
    const upgradeMode = (args.name ?? []).includes('*') ? 'yes' : args.upgrade;
    const cmdArgs: CommandArgs = { ...args, install_recommends: args.install_recommends };
    const age = facts.cache;
    const stale = age ? cacheIsStale(args, age) : false;
    const result: Record<string, unknown> = { cache_updated: false, cache_update_time: age?.mtime ?? 0 };
    const changes: Change[] = [];
    const reasons: string[] = [];
    const update: Change = { kind: 'exec', command: aptUpdateCommand(args.lock_timeout), describe: age && age.mtime > 0 ? `refresh the package lists (apt-get update; last refresh ${age.now - age.mtime} s ago)` : 'refresh the package lists (apt-get update)' };
    const freshReason = () =>
      age ? `the package lists are ${age.now - age.mtime} s old (cache_valid_time ${args.cache_valid_time} s)` : '';
    const withUpdate = (work: Change[]): Change[] => {
      if (stale && work.length > 0) {
        result.cache_updated = true;
        return [update, ...work];
      }
      return work;
    };
    if (args.clean) changes.push({ kind: 'exec', command: sh`apt-get clean`, describe: 'apt-get clean' });

    // A .deb file.
    if (args.deb !== undefined) {
      const deb = facts.deb!;
      const work: Change[] = [];
      const install = (path: string, what: string): Change => ({
        kind: 'exec',
        command: aptGet(cmdArgs, ['install', ...installOptions(cmdArgs), path]),
        describe: `install ${what}`,
        returnsOutput: true,
      });
      if (deb.host.exists) {
        if (deb.host.error || !deb.host.package) return { changes: [], result, failure: { message: `${args.deb} is not a Debian package: ${deb.host.error ?? 'no Package field'}` } };
        const inst = deb.host.installed;
        if (inst?.status === 'installed' && compareDebVersions(inst.version, deb.host.version ?? '') === 0 && !args.force) {
          reasons.push(`${deb.host.package} ${inst.version} from ${args.deb} is installed`);
        } else {
          work.push(install(args.deb.includes('/') ? args.deb : `./${args.deb}`, `${deb.host.package} ${deb.host.version}${inst?.status === 'installed' ? ` (replacing ${inst.version})` : ''} from ${args.deb}`));
        }
      } else {
        let content: Buffer;
        let path: string;
        try {
          path = ctx.findControllerFile(args.deb, 'files');
          content = await ctx.readControllerFile(args.deb, 'files');
        } catch {
          return { changes: [], result, failure: { message: `${args.deb} exists neither on the host nor on the controller`, missing: `file ${args.deb}` } };
        }
        const cachePath = debCachePath(path);
        const sha = createHash('sha256').update(content).digest('hex');
        const copy = deb.cache;
        if (copy?.exists && copy.sha256 === sha && copy.package) {
          const inst = copy.installed;
          if (inst?.status === 'installed' && compareDebVersions(inst.version, copy.version ?? '') === 0 && !args.force) reasons.push(`${copy.package} ${inst.version} from ${args.deb} is installed`);
          else work.push(install(cachePath, `${copy.package} ${copy.version}${inst?.status === 'installed' ? ` (replacing ${inst.version})` : ''} from ${args.deb}`));
        } else {
          work.push({ kind: 'exec', command: sh`mkdir -p -m 0755 ${DEB_CACHE_DIR}`, describe: `mkdir -p ${DEB_CACHE_DIR}` });
          work.push({ kind: 'write', path: cachePath, content, mode: '0644', describe: `upload ${args.deb} to ${cachePath}` });
          work.push(install(cachePath, `${args.deb} (uploaded from the controller)`));
        }
        result.deb = cachePath;
      }
      changes.push(...withUpdate(work));
    }

    // Named packages.
    if (specs.length > 0 && state !== 'build-dep') {
      const st = facts.packages!;
      const d = decidePackages(specs, st, { state: state as 'present' | 'latest' | 'absent', purge: args.purge, onlyUpgrade: args.only_upgrade, cacheStale: stale });
      result.packages = Object.fromEntries(
        specs.map((s) => [s.name, { status: st.dpkg[s.name]?.status ?? 'not-installed', version: st.dpkg[s.name]?.version || undefined, candidate: st.policy?.[s.name]?.candidate }]),
      );
      if (d.failure) return { changes: [], result, failure: d.failure };
      const work: Change[] = [];
      if (d.markManual.length) work.push({ kind: 'exec', command: sh`apt-mark manual ${d.markManual}`, describe: `mark ${d.markManual.join(', ')} as manually installed (so autoremove keeps them)` });
      if (d.install.length) {
        const words = ['install', ...installOptions(cmdArgs), ...(args.only_upgrade ? ['--only-upgrade'] : []), ...d.install];
        work.push({ kind: 'exec', command: aptGet(cmdArgs, words), describe: d.descriptions.join('; '), returnsOutput: true });
      }
      if (d.remove.length) {
        const words = [...(args.purge ? ['--purge'] : []), ...(args.autoremove ? ['--auto-remove'] : []), ...(args.force ? ['--allow-remove-essential', '--allow-change-held-packages'] : args.allow_change_held_packages ? ['--allow-change-held-packages'] : []), 'remove', ...d.remove];
        work.push({ kind: 'exec', command: aptGet(cmdArgs, words), describe: `${args.purge ? 'purge' : 'remove'} ${d.remove.join(', ')}`, returnsOutput: true });
      }
      if (work.length === 0 && stale && state !== 'latest') reasons.push(`${d.reasons.join('; ')} (the package lists were not refreshed: nothing to install)`);
      else reasons.push(...d.reasons);
      // Only a removal needs no fresh lists.
      changes.push(...(d.install.length || d.markManual.length ? withUpdate(work) : work));
    }

    // Whole-system operations, predicted by apt-get -s.
    const sim = facts.simulation;
    if (sim) {
      const names = specs.map((s) => s.name);
      const argv = simulationArgv({ ...args, upgrade: upgradeMode, state }, names)!;
      const what = upgradeMode !== 'no' ? `apt-get ${argv.filter((w) => !w.startsWith('-') && w !== args.default_release).join(' ')}` : state === 'build-dep' ? `the build dependencies of ${names.join(', ')}` : 'apt-get autoremove';
      if (sim.error && !stale) return { changes: [], result, failure: { message: `${what}: ${sim.error}` } };
      const opts = [...installOptions({ ...cmdArgs, autoremove: false }).filter((w) => w !== '--no-install-recommends' || state === 'build-dep')];
      const real = aptGet(cmdArgs, state === 'build-dep' ? [...opts, ...argv] : upgradeMode !== 'no' ? [...opts, ...argv] : argv);
      if (sim.actions.length > 0 || stale) {
        const summary = sim.actions.length ? summariseActions(sim.actions) : '';
        const describe = stale ? `${what}${summary ? ` (${summary}, per the current lists)` : ' (after refreshing the lists)'}` : `${what}: ${summary}`;
        changes.push(...withUpdate([{ kind: 'exec', command: real, describe, returnsOutput: true }]));
      } else reasons.push(upgradeMode !== 'no' ? 'all packages are up to date' : state === 'build-dep' ? `the build dependencies of ${names.join(', ')} are installed` : 'no package needs to be autoremoved');
    }

    if (facts.autoclean) {
      const del = facts.autoclean.actions.filter((a) => a.action === 'Del');
      if (del.length) changes.push({ kind: 'exec', command: aptGet(cmdArgs, ['autoclean']), describe: `apt-get autoclean: delete ${del.length} obsolete package file${del.length > 1 ? 's' : ''}` });
      else reasons.push('no obsolete package file to autoclean');
    }

    // Only a refresh asked for.
    if (age && !facts.packages && !facts.deb && !facts.simulation && !facts.autoclean) {
      if (stale) {
        changes.push(update);
        result.cache_updated = true;
      } else reasons.push(freshReason());
    }

    if (changes.length === 0) return { changes, result, noopReason: reasons.filter(Boolean).join('; ') || 'nothing to do' };
    return { changes, result };
  },
});
