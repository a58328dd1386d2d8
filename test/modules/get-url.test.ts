import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getUrl, { curlConfig, downloadCommand, parseChecksum, parseDestState, urlFileName, wgetrc, type DestState } from '../../src/modules/get-url.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

const SHA = 'a8a880fad09094dd4fd387c62c852855c1884e1671a8d9c5f6645397997685a4';
const URL_ = 'http://www.mosix.cs.huji.ac.il/mos4/MOSIX-4.4.0.tbz';

describe('parseChecksum', () => {
  it.each([
    [`sha256:${SHA}`, { algorithm: 'sha256', hex: SHA }],
    [`SHA256:${SHA.toUpperCase()}`, { algorithm: 'sha256', hex: SHA }],
    ['md5:d41d8cd98f00b204e9800998ecf8427e', { algorithm: 'md5', hex: 'd41d8cd98f00b204e9800998ecf8427e' }],
    ['sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709', { algorithm: 'sha1', hex: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' }],
  ])('%s', (value, parsed) => expect(parseChecksum(value)).toEqual(parsed));

  it.each([
    [SHA, /must look like sha256:<hex digest>/],
    [`crc32:${SHA}`, /algorithm must be one of/],
    ['sha256:abc', /a sha256 digest is 64 hex digits/],
    ['sha256:https://example.com/SHA256SUMS', /checksum URL .* is not supported/],
  ])('%s is refused', (value, message) => expect(() => parseChecksum(value)).toThrow(message));
});

describe('urlFileName', () => {
  it.each([
    [URL_, 'MOSIX-4.4.0.tbz'],
    ['https://example.com/a%20b.tar.gz?x=1', 'a b.tar.gz'],
  ])('%s → %s', (url, name) => expect(urlFileName(url)).toBe(name));
  it.each([['https://example.com/'], ['not a url']])('%s has no file name', (url) => expect(() => urlFileName(url)).toThrow());
});

describe('credentials never reach argv', () => {
  const creds = { url: URL_, headers: { 'X-Token': 'secret "v"\\x' }, username: 'u', password: 'p w' };
  it('curl config on stdin', () => {
    expect(curlConfig(creds)).toBe(`url = "${URL_}"\nheader = "X-Token: secret \\"v\\"\\\\x"\nuser = "u:p w"\nanyauth\n`);
    expect(curlConfig({ ...creds, forceBasicAuth: true })).not.toContain('anyauth');
    expect(() => curlConfig({ ...creds, password: 'a\nb' })).toThrow(/line breaks/);
  });
  it('wgetrc', () => {
    expect(wgetrc(creds)).toBe('header = X-Token: secret "v"\\x\nuser = u\npassword = p w\n');
    expect(wgetrc({ ...creds, forceBasicAuth: true })).toContain('auth_no_challenge = on\n');
    expect(wgetrc({ url: URL_, headers: {} })).toBe('');
  });
  it('the command text has neither password nor header', async () => {
    const plan = await planWith(getUrl, { url: URL_, dest: '/root/m.tbz', url_username: 'u', url_password: 'hunter2', headers: { Authorization: 'Bearer xyz' } }, { dest: dest() });
    const change = plan.changes[0]!;
    expect(change.kind).toBe('exec');
    if (change.kind !== 'exec') return;
    expect(change.command.text).not.toMatch(/hunter2|xyz|mosix\.cs/);
    expect(change.stdin).toContain('hunter2');
  });
});

describe('downloadCommand runs in sh (fake curl from a file)', () => {
  function run(opts: Partial<Parameters<typeof downloadCommand>[0]>, payload: string) {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-get-url-'));
    const file = join(dir, 'out.bin');
    // curl is a shell function here: it reads the config from stdin and writes the payload to --output.
    const fake = `curl() { cat > ${dir}/config; while [ $# -gt 0 ]; do if [ "$1" = --output ]; then printf '%s' ${JSON.stringify(payload)} > "$2"; fi; shift; done; }\n`;
    const cmd = downloadCommand({ file, url: URL_, tool: 'curl', timeout: 10, validateCerts: true, useProxy: true, backup: false, ...opts });
    let code = 0;
    let stderr = '';
    try {
      execFileSync('/bin/sh', ['-c', fake + cmd.text], { input: curlConfig({ url: URL_, headers: {} }), stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      code = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    return { dir, file, code, stderr };
  }
  it('verified download lands in place with its mode, no temp file left', () => {
    const sha = execFileSync('sh', ['-c', 'printf hello | sha256sum | cut -d" " -f1']).toString().trim();
    const r = run({ checksum: { algorithm: 'sha256', hex: sha }, mode: '0640' }, 'hello');
    expect(r.code).toBe(0);
    expect(readFileSync(r.file, 'utf8')).toBe('hello');
    expect((execFileSync('stat', ['-c', '%a', r.file]).toString().trim())).toBe('640');
    expect(readdirSync(r.dir).sort()).toEqual(['config', 'out.bin']);
    expect(readFileSync(join(r.dir, 'config'), 'utf8')).toBe(`url = "${URL_}"\n`);
  });
  it('a checksum mismatch exits 3 and leaves the old file alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-get-url-'));
    writeFileSync(join(dir, 'out.bin'), 'old');
    const r = run({ file: join(dir, 'out.bin'), checksum: { algorithm: 'sha256', hex: SHA } }, 'tampered');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/checksum mismatch: expected sha256:a8a880.*, got sha256:[0-9a-f]{64}/);
    expect(readFileSync(join(dir, 'out.bin'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['out.bin']);
  });
  it('backup keeps the previous file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-get-url-'));
    writeFileSync(join(dir, 'out.bin'), 'old');
    const r = run({ file: join(dir, 'out.bin'), backup: true }, 'new');
    expect(r.code).toBe(0);
    const names = readdirSync(dir);
    expect(names.some((n) => /^out\.bin\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/.test(n))).toBe(true);
    expect(existsSync(join(dir, 'out.bin'))).toBe(true);
  });
});

describe('dest fact', () => {
  it('passes dest, the URL file name and the algorithm', () => {
    const req = factsFor(getUrl, { url: URL_, dest: '/root', checksum: `sha256:${SHA}` }).dest!;
    expect(req.fact.command(req.args).text.split('\n')[0]).toBe('d=/root; n=MOSIX-4.4.0.tbz; a=sha256');
  });
  it.each([
    ['existing file with digest (real)', `@@tsible-dir\n@@tsible-stat 0|root|0|root|640\n@@tsible-digest ${SHA}\n@@tsible-curl\n@@tsible-wget\n`, { isDir: false, dirExists: true, exists: true, uid: '0', user: 'root', mode: '640', digest: SHA, curl: true, wget: true }],
    ['dest is a directory, file absent', '@@tsible-isdir\n@@tsible-dir\n@@tsible-wget\n', { isDir: true, exists: false, curl: false, wget: true }],
    ['no directory', '@@tsible-curl\n', { dirExists: false, exists: false }],
  ])('%s', (_n, stdout, expected) => expect(parseDestState(stdout)).toMatchObject(expected));

  it('runs in sh against a real file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-get-url-'));
    writeFileSync(join(dir, 'MOSIX-4.4.0.tbz'), 'hello');
    const req = factsFor(getUrl, { url: URL_, dest: dir, checksum: 'md5:5d41402abc4b2a76b9719d911017c592' }).dest!;
    const st = parseDestState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString());
    expect(st).toMatchObject({ isDir: true, dirExists: true, exists: true, digest: '5d41402abc4b2a76b9719d911017c592' });
  });
});

function dest(over: Partial<DestState> = {}): DestState {
  return { isDir: false, dirExists: true, exists: false, curl: true, wget: true, ...over };
}
const THERE = { exists: true, uid: '0', user: 'root', gid: '0', group: 'root', mode: '644', digest: SHA };

const rows: { name: string; args: Record<string, unknown>; facts: { dest: DestState }; expect: Expectation }[] = [
  {
    name: 'thesis wget of MOSIX, first run',
    args: { url: URL_, dest: '/root/MOSIX-4.4.0.tbz', checksum: `sha256:${SHA}` },
    facts: { dest: dest() },
    expect: { changes: [{ kind: 'exec', describe: `download ${URL_} to /root/MOSIX-4.4.0.tbz with curl (missing)`, command: /curl --fail --silent --show-error --location --connect-timeout 10 --speed-time 10 --speed-limit 1 --config - --output "\$t"/, content: `url = "${URL_}"\n` }], result: { downloaded: true } },
  },
  { name: 'second run: the checksum matches', args: { url: URL_, dest: '/root/MOSIX-4.4.0.tbz', checksum: `sha256:${SHA}` }, facts: { dest: dest(THERE) }, expect: { noop: /has sha256:a8a880/, result: { downloaded: false, checksum_dest: `sha256:${SHA}` } } },
  {
    name: 'the file changed on the host → download again',
    args: { url: URL_, dest: '/root/MOSIX-4.4.0.tbz', checksum: `sha256:${SHA}` },
    facts: { dest: dest({ ...THERE, digest: '0'.repeat(64) }) },
    expect: { changes: [{ kind: 'exec', describe: `download ${URL_} to /root/MOSIX-4.4.0.tbz with curl (checksum sha256:${'0'.repeat(64)} differs)` }] },
  },
  { name: 'no checksum, file there → kept', args: { url: URL_, dest: '/root/MOSIX-4.4.0.tbz' }, facts: { dest: dest(THERE) }, expect: { noop: /exists \(force: false\)/ } },
  { name: 'force', args: { url: URL_, dest: '/root/MOSIX-4.4.0.tbz', force: true }, facts: { dest: dest(THERE) }, expect: { changes: [{ kind: 'exec', describe: /\(force\)$/ }] } },
  { name: 'dest is a directory', args: { url: URL_, dest: '/root' }, facts: { dest: dest({ isDir: true }) }, expect: { changes: [{ kind: 'exec', describe: `download ${URL_} to /root/MOSIX-4.4.0.tbz with curl (missing)` }], result: { dest: '/root/MOSIX-4.4.0.tbz' } } },
  {
    name: 'wget when curl is missing, options mapped',
    args: { url: URL_, dest: '/root/m.tbz', validate_certs: false, use_proxy: false, timeout: 30 },
    facts: { dest: dest({ curl: false }) },
    expect: { changes: [{ kind: 'exec', describe: /with wget \(missing\)$/, command: /WGETRC="\$t.rc" wget -q -T 30 --no-check-certificate --no-proxy -O "\$t" http:\/\/www.mosix/, content: '' }] },
  },
  { name: 'curl options mapped', args: { url: URL_, dest: '/root/m.tbz', validate_certs: false, use_proxy: false }, facts: { dest: dest() }, expect: { changes: [{ kind: 'exec', describe: /curl/, command: /--insecure --noproxy '\*' --config -/ }] } },
  { name: 'attributes only', args: { url: URL_, dest: '/root/m.tbz', mode: '0640', owner: 'nobody' }, facts: { dest: dest(THERE) }, expect: { changes: [{ kind: 'exec', describe: 'chown nobody /root/m.tbz' }, { kind: 'exec', describe: 'chmod 0640 /root/m.tbz' }] } },
  { name: 'symbolic mode already satisfied', args: { url: URL_, dest: '/root/m.tbz', mode: 'u+rw,go-w' }, facts: { dest: dest(THERE) }, expect: { noop: true } },
  { name: 'numeric owner compared by uid', args: { url: URL_, dest: '/root/m.tbz', owner: '0', group: 'root' }, facts: { dest: dest(THERE) }, expect: { noop: true } },
  { name: 'no downloader', args: { url: URL_, dest: '/root/m.tbz' }, facts: { dest: dest({ curl: false, wget: false }) }, expect: { failure: /neither curl nor wget/ } },
  { name: 'no directory', args: { url: URL_, dest: '/nope/m.tbz' }, facts: { dest: dest({ dirExists: false }) }, expect: { failure: /the directory of \/nope\/m.tbz does not exist/ } },
  { name: 'a directory dest and a URL without a file name', args: { url: 'https://example.com/', dest: '/root' }, facts: { dest: dest({ isDir: true }) }, expect: { failure: /cannot take a file name/ } },
];

describe('get_url plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(getUrl, args, facts), e)).toEqual([]);
  });

  it.each([
    [{ url: 'file:///etc/passwd', dest: '/tmp/x' }, /url must be http, https or ftp/],
    [{ url: URL_, dest: '/tmp/x', checksum: 'sha256:zz' }, /64 hex digits/],
    [{ url: URL_, dest: '/tmp/x', url_password: 'p' }, /url_password needs url_username/],
    [{ url: URL_, dest: '/tmp/x', headers: { 'Bad Header': 'x' } }, /is not a header name/],
    [{ url: URL_, dest: '/tmp/x', timeout: 0 }, /timeout must be at least 1/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(getUrl, args, { dest: dest() })).rejects.toThrow(message);
  });

  it('the password is marked no_log', () => {
    expect(getUrl.args.url_password.noLog).toBe(true);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(getUrl, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
