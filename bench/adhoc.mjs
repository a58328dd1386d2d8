#!/usr/bin/env node
// npm run bench:adhoc — run `true` on N loopback SSH hosts with tsible, pdsh,
// clush and parallel-ssh (plus ansible -m raw as a reference), each as a whole
// process timed from spawn to exit, runs interleaved (A B C D A B C D ...).
// Prints the median per tool, tsible's ratio to the fastest of pdsh/clush/pssh
// (target <= 0.3x) and tsible's peak RSS at 200 hosts (target <= 150 MB).
// Exits non-zero if any tool failed on any host (or could not run at all);
// a missed target is reported but does not fail the run.
//
//   npm run bench:adhoc -- --hosts 50,200 --runs 3 [--warmup 1] [--forks 64]
//                          [--tools tsible,pdsh,clush,pssh,ansible] [--timeout 600] [--shell-rc]
//                          [--tsible-bin bin/tsible.js]   (another build of tsible, to compare)
//
// The hosts share this machine's root account; by default bash on the "hosts" skips root's
// ~/.bashrc (see loopback-hosts.mjs), --shell-rc keeps it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLoopbackHosts } from './lib/loopback-hosts.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_TSIBLE_BIN = join(ROOT, 'bin/tsible.js');
const GNU_TIME = '/usr/bin/time';
const TARGET_RATIO = 0.3;
const TARGET_RSS_MB = 150;
const RSS_HOST_COUNT = 200;
// The target compares tsible with the classic parallel shells; ansible is only a reference.
const TARGET_RIVALS = ['pdsh', 'clush', 'pssh'];

// ---------------------------------------------------------------- arguments

const DEFAULTS = { hosts: '50,200', runs: '3', warmup: '1', forks: '64', tools: 'tsible,pdsh,clush,pssh,ansible', timeout: '600', 'tsible-bin': DEFAULT_TSIBLE_BIN };

function positiveIntList(name, text, { allowZero = false } = {}) {
  const values = String(text).split(',').map((s) => Number(s.trim()));
  const ok = values.every((v) => Number.isInteger(v) && (allowZero ? v >= 0 : v > 0));
  if (!ok || values.length === 0) throw new Error(`--${name} expects ${allowZero ? 'a non-negative' : 'a positive'} integer${name === 'hosts' ? ' list like 50,200' : ''}, got "${text}"`);
  return values;
}

export function parseBenchArgs(argv) {
  const options = Object.fromEntries(Object.keys(DEFAULTS).map((key) => [key, { type: 'string', default: DEFAULTS[key] }]));
  options['shell-rc'] = { type: 'boolean', default: false };
  options.help = { type: 'boolean', default: false };
  const { values } = parseArgs({ args: argv, options, strict: true });
  if (values.help) return { help: true };
  const tools = values.tools.split(',').map((s) => s.trim());
  const unknown = tools.filter((name) => !TOOLS.some((tool) => tool.name === name));
  if (unknown.length) throw new Error(`--tools: unknown tool "${unknown.join(', ')}"; choose from ${TOOLS.map((t) => t.name).join(', ')}`);
  return {
    hostCounts: positiveIntList('hosts', values.hosts),
    runs: positiveIntList('runs', values.runs)[0],
    warmup: positiveIntList('warmup', values.warmup, { allowZero: true })[0],
    forks: positiveIntList('forks', values.forks)[0],
    timeoutSeconds: positiveIntList('timeout', values.timeout)[0],
    shellRc: values['shell-rc'],
    tsibleBin: values['tsible-bin'],
    tools,
  };
}

function reproduceCommand(opts) {
  const extra = [`--hosts ${opts.hostCounts.join(',')}`, `--runs ${opts.runs}`];
  if (String(opts.warmup) !== DEFAULTS.warmup) extra.push(`--warmup ${opts.warmup}`);
  if (String(opts.forks) !== DEFAULTS.forks) extra.push(`--forks ${opts.forks}`);
  if (String(opts.timeoutSeconds) !== DEFAULTS.timeout) extra.push(`--timeout ${opts.timeoutSeconds}`);
  if (opts.tools.join(',') !== DEFAULTS.tools) extra.push(`--tools ${opts.tools.join(',')}`);
  if (opts.shellRc) extra.push('--shell-rc');
  if (opts.tsibleBin !== DEFAULT_TSIBLE_BIN) extra.push(`--tsible-bin ${opts.tsibleBin}`);
  return `npm run bench:adhoc -- ${extra.join(' ')}`;
}

// ---------------------------------------------------------------- the tools

/** ssh options every OpenSSH-based tool gets: our key, our known_hosts, strict checking, no prompts. */
function sshOptions(ctx) {
  return `-i ${ctx.clientKeyPath} -o UserKnownHostsFile=${ctx.knownHostsPath} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
}

const stripAnsi = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');
const nonEmptyLines = (text) => text.split('\n').filter((line) => line.trim() !== '');
const firstLines = (text, n = 5) => nonEmptyLines(text).slice(0, n).join('\n');

function failIfExitCode(result) {
  if (result.signal) return `killed by ${result.signal}${result.timedOut ? ' (timed out)' : ''}`;
  if (result.code !== 0) return `exit code ${result.code}: ${firstLines(result.stderr + result.stdout)}`;
  return null;
}

/**
 * pdsh and clush print nothing for a successful `true`; they report a failed host on stderr
 * as "pdsh@node: HOST: ssh exited with exit code N" / "clush: HOST: exited with exit code N",
 * and ssh's own errors come through as "HOST: ssh: ...". Other stderr lines are the remote
 * shell talking (a noisy ~/.bashrc), not a failure.
 */
function failIfErrorLines(result, toolPrefix) {
  const errorLine = new RegExp(`^(${toolPrefix}|\\S+: (ssh: |Permission denied|Host key verification failed))`);
  const errors = nonEmptyLines(result.stderr).filter((line) => errorLine.test(line));
  return failIfExitCode(result) ?? (errors.length ? `${errors.length} error line(s) on stderr: ${firstLines(errors.join('\n'))}` : null);
}

function failUnlessCounted(result, pattern, expected, what) {
  const count = nonEmptyLines(result.stdout).filter((line) => pattern.test(line)).length;
  return count === expected ? null : `${count} of ${expected} hosts reported ${what}: ${firstLines(result.stderr + result.stdout)}`;
}

function ansibleRunDir(ctx) {
  ctx.ansibleRuns = (ctx.ansibleRuns ?? 0) + 1;
  const dir = join(ctx.dir, `ansible-run-${ctx.ansibleRuns}`);
  mkdirSync(join(dir, 'cp'), { recursive: true });
  writeFileSync(join(dir, 'ansible.cfg'), '');
  return dir;
}

/**
 * Ansible's default ssh_args keep a ControlPersist master per host for 60 s after it exits.
 * Close them (untimed) so they neither speed up its next run nor load the machine during the others.
 */
async function closeAnsibleControlMasters(runDir) {
  const controlDir = join(runDir, 'cp');
  const sockets = existsSync(controlDir) ? readdirSync(controlDir) : [];
  await Promise.all(sockets.map((name) => runQuietly('ssh', ['-o', `ControlPath=${join(controlDir, name)}`, '-O', 'exit', 'placeholder'])));
  rmSync(runDir, { recursive: true, force: true });
}

const TOOLS = [
  {
    name: 'tsible',
    label: 'tsible run',
    probe: (opts) => probeTsible(opts.tsibleBin),
    invocation: (ctx) => ({
      file: process.execPath,
      args: [ctx.tsibleBin, 'run', '-a', 'all', '-i', ctx.inventoryPath, '-f', String(ctx.forks), '--known-hosts', ctx.knownHostsPath, 'true'],
      env: { NO_COLOR: '1', TSIBLE_NO_LIVE: '1' },
    }),
    check: (result, ctx) => {
      const failure = failIfExitCode(result);
      if (failure) return failure;
      // The summary line is "ok=N  failed=0  unreachable=0"; exit code 0 already means every host was ok.
      const summary = /ok=(\d+)\s+failed=(\d+)\s+unreachable=(\d+)/.exec(stripAnsi(result.stderr + result.stdout));
      if (summary && Number(summary[1]) !== ctx.hostCount) return `summary says ok=${summary[1]}, expected ok=${ctx.hostCount}`;
      return null;
    },
  },
  {
    name: 'pdsh',
    label: 'pdsh -R ssh',
    probe: () => probeCommand('pdsh', ['-V']),
    invocation: (ctx) => ({
      file: 'pdsh',
      // -S: exit with the largest remote exit code (255 when ssh fails), not 0 regardless.
      args: ['-S', '-R', 'ssh', '-f', String(ctx.forks), '-w', `^${ctx.hostsFilePath}`, 'true'],
      env: { PDSH_SSH_ARGS_APPEND: `${sshOptions(ctx)} -l root` },
    }),
    check: (result) => failIfErrorLines(result, 'pdsh@'),
  },
  {
    name: 'clush',
    label: 'clush',
    probe: () => probeCommand('clush', ['--version']),
    invocation: (ctx) => ({
      file: 'clush',
      // -S: exit with the largest remote exit code, as pdsh -S.
      args: ['-S', '-f', String(ctx.forks), '--hostfile', ctx.hostsFilePath, '-l', 'root', '-o', sshOptions(ctx), 'true'],
      env: {},
    }),
    check: (result) => failIfErrorLines(result, 'clush: '),
  },
  {
    name: 'pssh',
    label: 'parallel-ssh',
    probe: () => probeCommand('parallel-ssh', ['--version']),
    invocation: (ctx) => ({
      file: 'parallel-ssh',
      args: ['-p', String(ctx.forks), '-h', ctx.hostsFilePath, '-l', 'root', '-x', sshOptions(ctx), 'true'],
      env: {},
    }),
    check: (result, ctx) => failIfExitCode(result) ?? failUnlessCounted(result, /\[SUCCESS\]/, ctx.hostCount, '[SUCCESS]'),
  },
  {
    name: 'ansible',
    label: 'ansible -m raw',
    probe: () => probeCommand('ansible', ['--version']),
    invocation: (ctx) => {
      const runDir = ansibleRunDir(ctx);
      return {
        file: 'ansible',
        args: ['all', '-i', ctx.ansibleInventoryPath, '-m', 'raw', '-a', 'true', '-f', String(ctx.forks)],
        env: {
          ANSIBLE_CONFIG: join(runDir, 'ansible.cfg'), // empty: no ansible.cfg from the working directory
          ANSIBLE_HOME: runDir,
          ANSIBLE_SSH_CONTROL_PATH_DIR: join(runDir, 'cp'),
          ANSIBLE_HOST_KEY_CHECKING: 'True',
          ANSIBLE_NOCOLOR: '1',
        },
        afterRun: () => closeAnsibleControlMasters(runDir),
      };
    },
    check: (result, ctx) => failIfExitCode(result) ?? failUnlessCounted(result, /\| CHANGED \| rc=0 >>/, ctx.hostCount, 'CHANGED rc=0'),
  },
];

function probeCommand(file, args) {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  if (result.error) return { available: false, reason: `${file} is not installed (${result.error.code})` };
  const version = nonEmptyLines(`${result.stdout}\n${result.stderr}`)[0] ?? '';
  return { available: true, version: /^[\d.]+$/.test(version) ? `${file} ${version}` : version };
}

function probeTsible(bin) {
  if (bin === DEFAULT_TSIBLE_BIN && !existsSync(join(ROOT, 'dist/cli/main.js'))) return { available: false, reason: 'dist/cli/main.js is missing (npm run build)' };
  const result = spawnSync(process.execPath, [bin, 'run', '--help'], { encoding: 'utf8' });
  if (result.status !== 0) return { available: false, reason: `\`tsible run --help\` exited ${result.status}: ${firstLines(result.stderr + result.stdout, 3)}` };
  if (!/--known-hosts/.test(result.stdout)) return { available: false, reason: '`tsible run` has no --known-hosts option' };
  const version = `tsible ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`;
  return { available: true, version: bin === DEFAULT_TSIBLE_BIN ? version : `tsible (${bin})` };
}

// ---------------------------------------------------------------- running and timing

let runningGroup = null; // the process group of the tool being timed, killed if we exit early
process.on('exit', () => killGroup(runningGroup));

function killGroup(pid) {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function runQuietly(file, args) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/** GNU time writes "%M" (peak RSS in KiB) as the last line of its -o file, after any "Command exited ..." note. */
function readPeakRssKb(path) {
  try {
    const last = nonEmptyLines(readFileSync(path, 'utf8')).at(-1);
    return /^\d+$/.test(last ?? '') ? Number(last) : null;
  } catch {
    return null;
  }
}

/**
 * Spawn the tool (wrapped in GNU time for its peak RSS when available, the same for every tool),
 * time it from spawn to exit, then collect its output. It runs in its own process group so a
 * timeout can kill it together with its ssh children.
 */
function runTimed({ file, args, env }, { timeoutMs, rssPath }) {
  const argv = existsSync(GNU_TIME) ? [GNU_TIME, '-f', '%M', '-o', rssPath, file, ...args] : [file, ...args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    runningGroup = child.pid;
    let stdout = '';
    let stderr = '';
    let seconds = NaN;
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', () => {
      seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      // A background process that kept our pipes open must not hold us up.
      setTimeout(() => (child.stdout.destroy(), child.stderr.destroy()), 5000).unref();
    });
    child.on('close', (code, signal) => {
      runningGroup = null;
      resolve({ code, signal, timedOut, stdout, stderr, seconds, peakRssKb: readPeakRssKb(rssPath) });
    });
  });
}

function displayCommand({ file, args, env }) {
  const quote = (s) => (/^[\w@%+=:,./^-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  const envPart = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
  return [...envPart, file === process.execPath ? 'node' : file, ...args].map((s, i) => (i < envPart.length ? s : quote(s))).join(' ');
}

// ---------------------------------------------------------------- one host count

function writeInventories(hosts) {
  const hostLines = hosts.addresses.map((address) => `${address} ansible_user=root ansible_ssh_private_key_file=${hosts.clientKeyPath}`);
  const inventoryPath = join(hosts.dir, 'inventory.ini');
  const ansibleInventoryPath = join(hosts.dir, 'ansible-inventory.ini');
  writeFileSync(inventoryPath, `${hostLines.join('\n')}\n`);
  const commonArgs = `-o UserKnownHostsFile=${hosts.knownHostsPath} -o StrictHostKeyChecking=yes`;
  writeFileSync(ansibleInventoryPath, `${hostLines.join('\n')}\n\n[all:vars]\nansible_ssh_common_args='${commonArgs}'\n`);
  return { inventoryPath, ansibleInventoryPath };
}

async function runOnce(tool, ctx, opts) {
  const invocation = tool.invocation(ctx);
  try {
    const result = await runTimed(invocation, { timeoutMs: opts.timeoutSeconds * 1000, rssPath: join(ctx.dir, 'peak-rss') });
    return { ...result, failure: tool.check(result, ctx), command: displayCommand(invocation) };
  } finally {
    await invocation.afterRun?.();
  }
}

/** Runs every tool `warmup + runs` times, interleaved; warm-up rounds are checked but not timed. */
async function benchmarkHostCount(hostCount, tools, opts) {
  const hosts = await startLoopbackHosts(hostCount, { skipShellRc: !opts.shellRc, onProgress: (m) => console.error(`bench:adhoc: ${m}`) });
  try {
    const ctx = { ...hosts, ...writeInventories(hosts), hostCount, forks: opts.forks, tsibleBin: opts.tsibleBin };
    const stats = new Map(tools.map((tool) => [tool.name, { tool, seconds: [], peakRssKb: [], unavailable: tool.unavailable, error: tool.unavailable, command: null }]));
    for (let round = -opts.warmup; round < opts.runs; round++) {
      const roundName = round < 0 ? 'warm-up' : `run ${round + 1}/${opts.runs}`;
      for (const stat of stats.values()) {
        if (stat.error) continue;
        const result = await runOnce(stat.tool, ctx, opts);
        if (!stat.command) console.error(`  $ ${(stat.command = result.command)}`);
        if (result.failure) {
          stat.error = `${roundName}: ${result.failure}`;
          console.error(`  ${hostCount} hosts ${roundName} ${stat.tool.name}: FAILED ${result.failure}`);
          continue;
        }
        console.error(`  ${hostCount} hosts ${roundName} ${stat.tool.name}: ${result.seconds.toFixed(2)} s`);
        if (round < 0) continue;
        stat.seconds.push(result.seconds);
        if (result.peakRssKb !== null) stat.peakRssKb.push(result.peakRssKb);
      }
    }
    return { hostCount, stats: [...stats.values()] };
  } finally {
    hosts.stop();
  }
}

// ---------------------------------------------------------------- report

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const verdict = (met) => (met ? 'met' : 'MISSED');

function medianOf(stat) {
  return stat.error || stat.seconds.length === 0 ? null : median(stat.seconds);
}

function fastestRival(stats) {
  return stats
    .filter((s) => TARGET_RIVALS.includes(s.tool.name) && medianOf(s) !== null)
    .reduce((best, s) => (best === null || medianOf(s) < medianOf(best) ? s : best), null);
}

const DETAIL_INDENT = ' '.repeat(31);

function printToolRow(stat) {
  const m = medianOf(stat);
  const cell = (m !== null ? `${m.toFixed(2)} s` : stat.unavailable ? 'n/a' : 'ERROR').padStart(9);
  const detail = stat.error ? stat.error.split('\n').join(`\n${DETAIL_INDENT}`) : stat.seconds.map((s) => s.toFixed(2)).join('  ');
  console.log(`  ${stat.tool.label.padEnd(16)} ${cell}   ${detail}`);
}

function printTsibleRatios(stats) {
  const tsible = stats.find((s) => s.tool.name === 'tsible');
  if (!tsible) return;
  const rival = fastestRival(stats);
  if (medianOf(tsible) === null || !rival) {
    const why = medianOf(tsible) === null ? (tsible.unavailable ? 'tsible unavailable' : 'tsible failed') : 'pdsh, clush and parallel-ssh all failed';
    console.log(`  tsible / fastest other: not measured (${why})   target <= ${TARGET_RATIO}x   MISSED`);
    return;
  }
  const ratio = medianOf(tsible) / medianOf(rival);
  console.log(`  tsible / fastest other (${rival.tool.label}) = ${ratio.toFixed(2)}x   target <= ${TARGET_RATIO}x   ${verdict(ratio <= TARGET_RATIO)}`);
  const ansible = stats.find((s) => s.tool.name === 'ansible');
  if (ansible && medianOf(ansible) !== null) console.log(`  tsible / ansible -m raw = ${(medianOf(tsible) / medianOf(ansible)).toFixed(2)}x   (reference only)`);
}

function printHostCountTable({ hostCount, stats }, opts) {
  const warmup = opts.warmup ? ` (+${opts.warmup} warm-up, untimed)` : '';
  const shell = opts.shellRc ? "root's ~/.bashrc sourced" : "root's ~/.bashrc skipped";
  console.log(`\n${hostCount} hosts — \`true\` on every host (${shell}), forks ${opts.forks}, whole process wall clock, median of ${opts.runs}${warmup}`);
  console.log(`  ${'tool'.padEnd(16)} ${'median'.padStart(9)}   runs`);
  for (const stat of stats) printToolRow(stat);
  printTsibleRatios(stats);
}

function printRssTarget(results) {
  const atTarget = results.find((r) => r.hostCount === RSS_HOST_COUNT) ?? results.at(-1);
  const tsible = atTarget?.stats.find((s) => s.tool.name === 'tsible');
  if (!tsible) return;
  const label = `tsible peak RSS at ${atTarget.hostCount} hosts${atTarget.hostCount === RSS_HOST_COUNT ? '' : ` (no ${RSS_HOST_COUNT}-host run)`}`;
  if (!existsSync(GNU_TIME)) return console.log(`\n${label}: not measured (${GNU_TIME} missing: apt-get install time)   target <= ${TARGET_RSS_MB} MB`);
  if (tsible.error || tsible.peakRssKb.length === 0) {
    return console.log(`\n${label}: not measured (tsible ${tsible.unavailable ? 'unavailable' : 'did not run correctly'})   target <= ${TARGET_RSS_MB} MB   MISSED`);
  }
  const peakMb = Math.max(...tsible.peakRssKb) / 1024;
  console.log(`\n${label}: ${peakMb.toFixed(0)} MB (max over ${tsible.peakRssKb.length} runs, GNU time %M)   target <= ${TARGET_RSS_MB} MB   ${verdict(peakMb <= TARGET_RSS_MB)}`);
}

function describeMachine(loadBefore) {
  const osRelease = existsSync('/etc/os-release') ? /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] : undefined;
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim().split(',')[0];
  const load = loadBefore.map((l) => l.toFixed(1)).join(' ');
  // Taken before the first run, so it shows what else was loading the machine, not the bench itself.
  return `nproc ${availableParallelism()} (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), ${osRelease ?? 'Linux'} (kernel ${release()}), node ${process.version}, ${ssh}; load average before the bench ${load}`;
}

// ---------------------------------------------------------------- main

function selectTools(opts) {
  return TOOLS.filter((tool) => opts.tools.includes(tool.name)).map((tool) => {
    const probe = tool.probe(opts);
    if (!probe.available) console.error(`bench:adhoc: ${tool.name} unavailable: ${probe.reason}`);
    return { ...tool, version: probe.version, unavailable: probe.available ? null : `unavailable: ${probe.reason}` };
  });
}

function printUsage() {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const header = lines.slice(0, lines.findIndex((line) => !line.startsWith('//')));
  console.log(header.map((line) => line.replace(/^\/\/ ?/, '')).join('\n'));
}

async function main() {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (opts.help) return printUsage();
  const loadBefore = loadavg();
  if (!existsSync(GNU_TIME)) console.error(`bench:adhoc: ${GNU_TIME} is missing, so peak RSS is not measured (apt-get install time)`);
  const tools = selectTools(opts);
  const results = [];
  for (const hostCount of opts.hostCounts) {
    const result = await benchmarkHostCount(hostCount, tools, opts);
    results.push(result);
    printHostCountTable(result, opts);
  }
  printRssTarget(results);
  console.log(`\nreproduce: ${reproduceCommand(opts)}`);
  console.log(`machine:   ${describeMachine(loadBefore)}`);
  console.log(`tools:     ${tools.map((t) => t.version ?? `${t.name} (unavailable)`).join('; ')}`);
  const failed = results.flatMap((r) => r.stats.filter((s) => s.error).map((s) => `${s.tool.name} at ${r.hostCount} hosts`));
  if (failed.length) {
    console.error(`\nbench:adhoc: not every tool ran correctly: ${[...new Set(failed)].join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench:adhoc failed: ${err.message}`);
  process.exit(1);
});
