/**
 * deb822_repository: an APT source as a deb822 `.sources` file
 * (ansible.builtin.deb822_repository), the format Debian 13 uses.
 *
 * The file is rendered exactly as Ansible renders it (fields in the order of
 * the argument names, booleans as yes/no, lists space-separated), so files
 * written by Ansible are recognised as they are. `signed_by` may be a key
 * file on the host, or the armored key itself: that is written to
 * /etc/apt/keyrings/<name>.asc and referenced from the file (Ansible embeds
 * pasted keys in the file; both work the same for apt). Like Ansible, it does
 * not refresh the package lists: follow it with `apt: update_cache: true`.
 */
import { sh } from '../util/shell.js';
import { factRequest } from '../facts/types.js';
import { fileStateFact, type FileState } from '../facts/file.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type FileDiff, type Plan } from './types.js';

export const KEYRINGS_DIR = '/etc/apt/keyrings';

/** Ansible's older file name for a repository name, still used when such a file exists. */
export function legacySlug(name: string): string {
  return name.toLowerCase().replace(/[_\s]+/g, '-').replace(/[^a-z0-9-]+/g, '');
}

export function slugOf(name: string): string {
  return name.replace(/ /g, '-');
}

export const sourcesPath = (slug: string) => `/etc/apt/sources.list.d/${slug}.sources`;
export const keyPath = (slug: string, ext: 'asc' | 'gpg') => `${KEYRINGS_DIR}/${slug}.${ext}`;

export const isArmoredKey = (v: string) => v.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----');

function fieldName(key: string): string {
  if (key === 'name') return 'X-Repolib-Name';
  if (key === 'uris') return 'URIs';
  return key
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('-');
}

function multiline(v: string): string {
  return (
    '\n' +
    v
      .trim()
      .split('\n')
      .map((l) => '    ' + (l.trim() || '.'))
      .join('\n')
  );
}

/** The fields that go into the file, in Ansible's order (sorted argument names). */
export const DEB822_FIELDS = [
  'allow_downgrade_to_insecure',
  'allow_insecure',
  'allow_weak',
  'architectures',
  'by_hash',
  'check_date',
  'check_valid_until',
  'components',
  'date_max_future',
  'enabled',
  'exclude',
  'include',
  'inrelease_path',
  'languages',
  'name',
  'pdiffs',
  'signed_by',
  'suites',
  'targets',
  'trusted',
  'types',
  'uris',
] as const;

/** Renders the .sources text (pure); `signedBy` is what goes into Signed-By. */
export function renderDeb822(values: Partial<Record<(typeof DEB822_FIELDS)[number], unknown>>): string {
  let out = '';
  for (const key of DEB822_FIELDS) {
    let v = values[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') v = v ? 'yes' : 'no';
    else if (typeof v === 'number') v = String(v);
    else if (Array.isArray(v)) v = v.join(' ');
    let text = String(v);
    if (text.includes('\n')) text = multiline(text);
    out += text.startsWith('\n') ? `${fieldName(key)}:${text}\n` : `${fieldName(key)}: ${text}\n`;
  }
  return out;
}

const norm = (s: string) =>
  s
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');

/** Same content, ignoring trailing whitespace. */
export const sameSources = (a: string, b: string) => norm(a) === norm(b);

const text = (st: FileState | undefined) => (st && st.exists && st.content ? st.content.toString('utf8') : undefined);
const modeBits = (m: string) => parseInt(m, 8) & 0o7777;

export default defineModule({
  name: 'deb822_repository',
  collections: ['ansible.builtin'],
  description:
    'An APT source as a deb822 .sources file in /etc/apt/sources.list.d (the format Debian 13 uses). A pasted armored key in signed_by goes to /etc/apt/keyrings/<name>.asc. Does not refresh the package lists; follow with apt update_cache.',
  args: {
    name: { type: 'str', required: true, description: 'Name of the repository; also the file name (<name>.sources, spaces become -).' },
    types: { type: 'list', elements: 'str', default: ['deb'], description: 'deb and/or deb-src.' },
    uris: { type: 'list', elements: 'str', description: 'Repository URIs.' },
    suites: { type: 'list', elements: 'str', description: 'Suites (trixie, trixie-updates, or a path ending in / for flat repositories).' },
    components: { type: 'list', elements: 'str', description: 'Components (main, contrib, non-free-firmware...).' },
    signed_by: { type: 'str', description: 'A keyring path on the host, or the armored key itself (written to /etc/apt/keyrings/<name>.asc).' },
    architectures: { type: 'list', elements: 'str', description: 'Architectures to fetch (amd64, arm64...).' },
    enabled: { type: 'bool', description: 'Written as Enabled: yes/no.' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] as const, description: 'absent removes the .sources file and the key file this module would write.' },
    mode: { type: 'mode', default: '0644', description: 'Mode of the .sources file.' },
    allow_downgrade_to_insecure: { type: 'bool', description: 'Allow-Downgrade-To-Insecure.' },
    allow_insecure: { type: 'bool', description: 'Allow-Insecure.' },
    allow_weak: { type: 'bool', description: 'Allow-Weak.' },
    by_hash: { type: 'bool', description: 'By-Hash.' },
    check_date: { type: 'bool', description: 'Check-Date.' },
    check_valid_until: { type: 'bool', description: 'Check-Valid-Until.' },
    date_max_future: { type: 'int', description: 'Date-Max-Future (seconds).' },
    exclude: { type: 'list', elements: 'str', description: 'Exclude (packages not to use from this source).' },
    include: { type: 'list', elements: 'str', description: 'Include (only these packages from this source).' },
    inrelease_path: { type: 'str', description: 'Inrelease-Path.' },
    languages: { type: 'list', elements: 'str', description: 'Languages of translations to fetch.' },
    pdiffs: { type: 'bool', description: 'PDiffs.' },
    targets: { type: 'list', elements: 'str', description: 'Targets.' },
    trusted: { type: 'bool', description: 'Trusted (no signature check). Dangerous.' },
    install_python_debian: { type: 'bool', default: false, description: 'Accepted for compatibility; tsible needs no Python on the host.' },
  },
  returns: { repo: 'the rendered .sources text', dest: 'the .sources file', key_filename: 'the key file, when signed_by is a key' },
  example: [
    '- name: HTCondor 23.x repository (Debian 13)',
    '  ansible.builtin.deb822_repository:',
    '    name: htcondor',
    '    uris: https://research.cs.wisc.edu/htcondor/repo/debian/23.x',
    '    suites: trixie',
    '    components: main',
    '    signed_by: /etc/apt/keyrings/htcondor.gpg',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.include && args.exclude) throw new ArgError('include and exclude are mutually exclusive', 'include');
    for (const t of args.types) if (t !== 'deb' && t !== 'deb-src') throw new ArgError(`types must be deb or deb-src, got ${JSON.stringify(t)}`, 'types');
    if (args.state === 'present') {
      if (!args.uris?.length) throw new ArgError('uris is required when state is present', 'uris');
      if (!args.suites?.length) throw new ArgError('suites is required when state is present', 'suites');
      const flat = args.suites.every((s) => s.endsWith('/'));
      if (!flat && !args.components?.length) throw new ArgError('components is required unless every suite is a path ending in /', 'components');
    }
    if (args.signed_by && /^[a-z][a-z0-9+.-]*:\/\//i.test(args.signed_by.trim())) {
      throw new ArgError('signed_by as a URL is not supported; fetch the key with get_url into /etc/apt/keyrings first, or paste the armored key', 'signed_by');
    }
    if (args.name.trim() === '' || args.name.includes('/')) throw new ArgError(`name must be a plain name, got ${JSON.stringify(args.name)}`, 'name');
  },
  facts(args) {
    const slug = slugOf(args.name);
    const legacy = legacySlug(args.name);
    const r: Record<string, ReturnType<typeof factRequest<Parameters<typeof fileStateFact.command>[0], FileState>>> = {
      sources: factRequest(fileStateFact, { path: sourcesPath(slug), content: -1 }),
      asc: factRequest(fileStateFact, { path: keyPath(slug, 'asc'), content: -1 }),
      gpg: factRequest(fileStateFact, { path: keyPath(slug, 'gpg') }),
    };
    if (legacy !== slug) {
      r.legacy = factRequest(fileStateFact, { path: sourcesPath(legacy), content: -1 });
      r.legacyAsc = factRequest(fileStateFact, { path: keyPath(legacy, 'asc'), content: -1 });
      r.legacyGpg = factRequest(fileStateFact, { path: keyPath(legacy, 'gpg') });
    }
    if (args.signed_by && !isArmoredKey(args.signed_by) && !args.signed_by.includes('\n')) r.keyring = factRequest(fileStateFact, { path: args.signed_by.trim() });
    r.keyringsDir = factRequest(fileStateFact, { path: KEYRINGS_DIR });
    return r;
  },
  plan(args, facts): Plan {
    const useLegacy = facts.legacy?.exists === true;
    const slug = useLegacy ? legacySlug(args.name) : slugOf(args.name);
    const dest = sourcesPath(slug);
    const current = useLegacy ? facts.legacy! : facts.sources!;
    const asc = useLegacy ? facts.legacyAsc : facts.asc;
    const gpg = useLegacy ? facts.legacyGpg : facts.gpg;
    const changes: Change[] = [];
    const diff: FileDiff[] = [];
    const result: Record<string, unknown> = { dest, repo: null };

    if (args.state === 'absent') {
      for (const [path, st] of [[dest, current], [keyPath(slug, 'asc'), asc], [keyPath(slug, 'gpg'), gpg]] as const) {
        if (st?.exists) {
          changes.push({ kind: 'exec', command: sh`rm -f ${path}`, describe: `remove ${path}` });
          diff.push({ path, before: text(st) ?? '', after: '' });
        }
      }
      if (!changes.length) return { changes, result, noopReason: `${dest} does not exist` };
      return { changes, result, diff };
    }

    let signedBy: string | undefined;
    if (args.signed_by !== undefined) {
      if (isArmoredKey(args.signed_by)) {
        const path = keyPath(slug, 'asc');
        const key = args.signed_by.trim() + '\n';
        signedBy = path;
        result.key_filename = path;
        if (!facts.keyringsDir?.exists) changes.push({ kind: 'exec', command: sh`mkdir -p -m 0755 ${KEYRINGS_DIR}`, describe: `mkdir -p ${KEYRINGS_DIR}` });
        if (!asc?.exists || !sameSources(text(asc) ?? '', key)) {
          changes.push({ kind: 'write', path, content: key, mode: '0644', owner: 'root', group: 'root', describe: `write the signing key to ${path}` });
          diff.push({ path, before: text(asc) ?? '', after: key });
        } else if (asc.exists && modeBits(asc.mode) !== 0o644) {
          changes.push({ kind: 'exec', command: sh`chmod 0644 ${path}`, describe: `chmod 0644 ${path} (was ${asc.mode})` });
        }
      } else if (args.signed_by.includes('\n')) {
        // Not armored but several lines: passed through into the file, as Ansible does.
        signedBy = args.signed_by;
      } else {
        signedBy = args.signed_by.trim();
        if (!facts.keyring?.exists) return { changes: [], result, failure: { message: `signed_by: ${signedBy} does not exist on the host`, missing: `file ${signedBy}` } };
        result.key_filename = signedBy;
      }
    }

    const repo = renderDeb822({ ...args, signed_by: signedBy });
    result.repo = repo;
    const before = text(current);
    if (!current?.exists || before === undefined || !sameSources(before, repo)) {
      changes.push({ kind: 'write', path: dest, content: repo, mode: args.mode, describe: current?.exists ? `update ${dest}` : `create ${dest}` });
      diff.push({ path: dest, before: before ?? '', after: repo });
    } else if (current.exists && /^0?[0-7]{3,4}$/.test(args.mode) && modeBits(current.mode) !== modeBits(args.mode)) {
      changes.push({ kind: 'exec', command: sh`chmod ${args.mode} ${dest}`, describe: `chmod ${args.mode} ${dest} (was ${current.mode})` });
    }
    if (!changes.length) return { changes, result, noopReason: `${dest} is as wanted${signedBy && result.key_filename ? `, signed by ${signedBy}` : ''}` };
    return { changes, result, diff };
  },
});
