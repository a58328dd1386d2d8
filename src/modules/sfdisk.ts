/**
 * sfdisk: a partition table as desired state, for a disk or an image file.
 *
 * The desired layout comes from an sfdisk dump (the thesis clones the master's
 * table with `sfdisk -d /dev/sda > sda.out` and `sfdisk -f /dev/sda < sda.out`
 * on every node) or from a YAML list of partitions. Both are parsed into the
 * same layout, resolved to exact sectors the way sfdisk would place them, and
 * compared with `sfdisk --dump` of the device after normalisation: the disk
 * identifier, `device:` lines and partition device names are ignored; the
 * label type and each partition's number, start, size, type and bootable flag
 * (and GPT name when asked for) are compared, in sectors.
 *
 * A YAML layout is applied as the resolved script (explicit starts and sizes,
 * the current disk identifier and partition UUIDs kept), so what is written is
 * exactly what the next run compares against. A dump whose partitions all have
 * explicit starts and sizes is applied verbatim.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

// ------------------------------------------------------------------ types

export type Label = 'dos' | 'gpt';

/** A partition as a script states it: any of start and size may be left to sfdisk. */
export interface PartitionSpec {
  /** partition number, from the device name in a dump line (`/dev/sda5 : ...`) */
  number?: number;
  /** first sector */
  start?: number;
  /** sectors, or bytes to divide by the sector size, or the rest of the free space */
  size?: { sectors: number } | { bytes: number } | 'rest';
  /** as written: 83, L, linux, a GUID, ... (normalised per label later) */
  type?: string;
  bootable?: boolean;
  /** GPT partition name */
  name?: string;
  /** GPT partition UUID (carried over, not compared) */
  uuid?: string;
  /** GPT attributes (carried over, not compared) */
  attrs?: string;
}

export interface LayoutSpec {
  label: Label;
  labelId?: string;
  firstLba?: number;
  lastLba?: number;
  sectorSize?: number;
  partitions: PartitionSpec[];
}

/** A partition with everything resolved to sectors and a canonical type. */
export interface Partition {
  number: number;
  start: number;
  size: number;
  type: string;
  bootable: boolean;
  name?: string;
  uuid?: string;
  attrs?: string;
}

export interface PartitionTable {
  label: Label;
  labelId?: string;
  partitions: Partition[];
}

export interface DiskGeometry {
  /** device size in bytes */
  sizeBytes: number;
  /** logical sector size in bytes */
  sectorSize: number;
}

// ------------------------------------------------------------------ types of partitions

const GPT_TYPES: Record<string, string> = {
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  home: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915',
  efi: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  raid: 'A19D880F-05FC-4D3B-A006-743F0F84911E',
  lvm: 'E6D6D379-F507-44C2-A23C-238F2A3DF928',
  bios: '21686148-6449-6E6F-744E-656564454649',
  'linux-root-x86-64': '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  msdata: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
};

const DOS_TYPES: Record<string, string> = {
  linux: '83',
  swap: '82',
  extended: '5',
  efi: 'ef',
  raid: 'fd',
  lvm: '8e',
  fat32: 'c',
  fat16: 'e',
  ntfs: '7',
  'linux-extended': '85',
};

// sfdisk's one-letter (and Ex) shortcuts, and a few long names people write.
const ALIASES: Record<string, string> = {
  l: 'linux',
  s: 'swap',
  h: 'home',
  u: 'efi',
  r: 'raid',
  v: 'lvm',
  e: 'extended',
  ex: 'extended',
  x: 'linux-extended',
  'linux swap': 'swap',
  'linux filesystem': 'linux',
  'efi system': 'efi',
  'bios boot': 'bios',
  'linux raid': 'raid',
  'linux lvm': 'lvm',
  uefi: 'efi',
  esp: 'efi',
};

// What an MBR code means on a GPT disk, so `type: 83` works for both labels.
const DOS_TO_NAME: Record<string, string> = { '83': 'linux', '82': 'swap', ef: 'efi', fd: 'raid', '8e': 'lvm', c: 'msdata', b: 'msdata', '7': 'msdata' };

const GUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

/** The canonical form of a partition type for a label: dos → lowercase hex without 0x ('83', '5'); gpt → uppercase GUID. */
export function normaliseType(type: string | number | undefined, label: Label): string {
  if (type === undefined || type === '') return label === 'gpt' ? GPT_TYPES.linux! : '83';
  let t = String(type).trim().toLowerCase();
  t = ALIASES[t] ?? t;
  if (label === 'gpt') {
    if (GUID_RE.test(t)) return t.toUpperCase();
    const name = GPT_TYPES[t] ? t : DOS_TO_NAME[t.replace(/^0x/, '').replace(/^0+(?=.)/, '')];
    const guid = name ? GPT_TYPES[name] : undefined;
    if (!guid) throw new ArgError(`unknown GPT partition type ${JSON.stringify(type)} (use a GUID or one of ${Object.keys(GPT_TYPES).join(', ')})`, 'type');
    return guid;
  }
  if (DOS_TYPES[t]) return DOS_TYPES[t]!;
  const hex = t.replace(/^0x/, '');
  if (/^[0-9a-f]{1,2}$/.test(hex)) return hex.replace(/^0+(?=.)/, '');
  throw new ArgError(`unknown MBR partition type ${JSON.stringify(type)} (use a hex code like 83 or one of ${Object.keys(DOS_TYPES).join(', ')})`, 'type');
}

function isExtended(type: string): boolean {
  return type === '5' || type === 'f' || type === '85';
}

// ------------------------------------------------------------------ sizes

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/**
 * A size as sfdisk reads it: a number of sectors, a number with a binary
 * suffix (512M, 1G, 100MiB, 4KiB), or `+`/empty for the rest of the free space.
 */
export function parseSize(value: unknown): PartitionSpec['size'] {
  if (value === undefined || value === null) return 'rest';
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value <= 0) throw new ArgError(`size must be a positive number of sectors, got ${value}`, 'size');
    return { sectors: value };
  }
  const s = String(value).trim();
  if (s === '' || s === '+' || s === '-') return 'rest';
  if (/^\d+$/.test(s)) return { sectors: Number(s) };
  const m = /^\+?(\d+(?:\.\d+)?)\s*([KMGTP])(?:i?B)?$/i.exec(s);
  if (!m) throw new ArgError(`size must be a number of sectors, a size like 512M or 1G, or '+' for the rest; got ${JSON.stringify(value)}`, 'size');
  return { bytes: Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!) };
}

// ------------------------------------------------------------------ parsing sfdisk scripts and dumps

const HEADER_KEYS = new Set(['label', 'label-id', 'device', 'unit', 'first-lba', 'last-lba', 'table-length', 'grain', 'sector-size']);

function splitFields(text: string): string[] {
  // Fields are separated by commas or blanks; a quoted name may contain both.
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (!quoted && (ch === ',' || ch === ';')) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur.trim());
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

function partitionNumberOf(device: string): number | undefined {
  const m = /(\d+)$/.exec(device.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * Parses an sfdisk script: a dump as `sfdisk -d` writes it (modern or the old
 * 2.2x format with `Id=` and empty `start=0, size=0` slots), or a hand-written
 * script with positional fields (`,200M,83,*`).
 */
export function parseSfdiskScript(text: string): LayoutSpec {
  const header: Record<string, string> = {};
  const partitions: PartitionSpec[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const hm = /^([a-z-]+):\s*(.*)$/.exec(line);
    if (hm && HEADER_KEYS.has(hm[1]!)) {
      header[hm[1]!] = hm[2]!.trim();
      return;
    }
    let body = line;
    let number: number | undefined;
    const named = /^(\S+)\s*:\s*(.*)$/.exec(line);
    if (named && !named[1]!.includes('=')) {
      number = partitionNumberOf(named[1]!);
      body = named[2]!;
    }
    const spec: PartitionSpec = {};
    if (number !== undefined) spec.number = number;
    const fields = splitFields(body);
    const isNamedStyle = fields.some((f) => /^[a-zA-Z-]+\s*=/.test(f));
    if (isNamedStyle) {
      let empty = false;
      for (const field of fields) {
        if (field === '') continue;
        const kv = /^([a-zA-Z-]+)\s*=\s*(.*)$/.exec(field);
        if (!kv) {
          if (field.toLowerCase() === 'bootable' || field === '*') spec.bootable = true;
          else throw new ArgError(`${where}: cannot read ${JSON.stringify(field)}`);
          continue;
        }
        const key = kv[1]!.toLowerCase();
        const value = kv[2]!.trim();
        switch (key) {
          case 'start':
            if (!/^\d+$/.test(value)) throw new ArgError(`${where}: start must be a sector number, got ${JSON.stringify(value)}`);
            spec.start = Number(value);
            break;
          case 'size':
            spec.size = parseSize(value);
            break;
          case 'type':
          case 'id':
            spec.type = value;
            break;
          case 'bootable':
            spec.bootable = true;
            break;
          case 'name':
            spec.name = unquote(value);
            break;
          case 'uuid':
            spec.uuid = value.toUpperCase();
            break;
          case 'attrs':
            spec.attrs = unquote(value);
            break;
          default:
            throw new ArgError(`${where}: unknown field ${JSON.stringify(key)}`);
        }
      }
      // The old dump format lists unused MBR slots as start=0, size=0, Id=0.
      if (spec.start === 0 && spec.size !== 'rest' && spec.size !== undefined && 'sectors' in spec.size && spec.size.sectors === 0) empty = true;
      if (spec.size === undefined) spec.size = 'rest';
      if (!empty) partitions.push(spec);
      return;
    }
    // Positional: start, size, type, bootable (comma- or blank-separated).
    const positional = body.includes(',') ? fields : body.split(/\s+/);
    const [start = '', size = '', type = '', boot = ''] = positional;
    if (start !== '' && start !== '-') {
      if (!/^\d+$/.test(start)) throw new ArgError(`${where}: start must be a sector number, got ${JSON.stringify(start)}`);
      spec.start = Number(start);
    }
    spec.size = parseSize(size);
    if (type !== '' && type !== '-') spec.type = type;
    if (boot === '*' || boot === '+') spec.bootable = true;
    partitions.push(spec);
  });
  const unit = header.unit;
  if (unit !== undefined && unit !== 'sectors') throw new ArgError(`unit: ${unit} is not supported (only sectors)`);
  const label = (header.label ?? 'dos').toLowerCase();
  if (label !== 'dos' && label !== 'gpt') throw new ArgError(`label: ${label} is not supported (dos or gpt)`);
  const out: LayoutSpec = { label, partitions };
  if (header['label-id']) out.labelId = header['label-id'];
  if (header['first-lba']) out.firstLba = Number(header['first-lba']);
  if (header['last-lba']) out.lastLba = Number(header['last-lba']);
  if (header['sector-size']) out.sectorSize = Number(header['sector-size']);
  return out;
}

/** True when every partition has an explicit start and a size in sectors: sfdisk will place it exactly as written. */
export function isExplicit(spec: LayoutSpec): boolean {
  return spec.partitions.every((p) => p.start !== undefined && p.size !== undefined && p.size !== 'rest' && 'sectors' in p.size);
}

/** The YAML form: `label` plus a list of `{start?, size, type, bootable?, name?}`. */
export function layoutFromYaml(label: string, partitions: readonly Record<string, unknown>[]): LayoutSpec {
  if (label !== 'dos' && label !== 'gpt') throw new ArgError(`label must be dos or gpt, got ${JSON.stringify(label)}`, 'label');
  const known = new Set(['start', 'size', 'type', 'bootable', 'name', 'number']);
  const specs = partitions.map((p, i): PartitionSpec => {
    const where = `partitions[${i}]`;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new ArgError(`${where} must be a mapping like {size: 512M, type: linux}`, 'partitions');
    for (const k of Object.keys(p)) if (!known.has(k)) throw new ArgError(`${where}: unknown key ${JSON.stringify(k)} (supported: ${[...known].join(', ')})`, 'partitions');
    const spec: PartitionSpec = { size: parseSize(p.size) };
    if (p.start !== undefined && p.start !== null) {
      const start = Number(p.start);
      if (!Number.isInteger(start) || start < 0) throw new ArgError(`${where}.start must be a sector number, got ${JSON.stringify(p.start)}`, 'partitions');
      spec.start = start;
    }
    if (p.number !== undefined && p.number !== null) spec.number = Number(p.number);
    if (p.type !== undefined && p.type !== null) spec.type = String(p.type);
    if (p.bootable !== undefined && p.bootable !== null) spec.bootable = p.bootable === true || /^(yes|true|on|1)$/i.test(String(p.bootable));
    if (p.name !== undefined && p.name !== null) {
      if (label !== 'gpt') throw new ArgError(`${where}.name: partition names exist only on gpt disks`, 'partitions');
      spec.name = String(p.name);
    }
    if (spec.bootable && label === 'gpt') throw new ArgError(`${where}.bootable: the bootable flag exists only on dos disks (use a bios or efi partition type on gpt)`, 'partitions');
    return spec;
  });
  return { label, partitions: specs };
}

// ------------------------------------------------------------------ resolving to sectors

const alignUp = (n: number, grain: number) => Math.ceil(n / grain) * grain;
const alignDown = (n: number, grain: number) => Math.floor(n / grain) * grain;

/**
 * Places every partition the way sfdisk does by default (each rule checked
 * against util-linux 2.41 on image files): 1 MiB alignment; the first
 * partition at 1 MiB; a missing start at the first aligned free sector (dos:
 * the lowest free gap; gpt: after the previous partition of the script);
 * logical partitions one aligned step into the free space (room for their
 * EBR); a size with a unit (512M) ends on the nearest alignment boundary, a
 * size in sectors is taken as is; `+` runs to the end of the free gap (dos) or to the
 * last aligned sector before the backup GPT (gpt).
 */
export function resolveLayout(spec: LayoutSpec, geometry: DiskGeometry): PartitionTable {
  const ss = spec.sectorSize ?? geometry.sectorSize;
  const total = Math.floor(geometry.sizeBytes / ss);
  const grain = Math.max(1, Math.floor(2 ** 20 / ss));
  const gptReserve = 1 + Math.ceil(16384 / ss);
  const gpt = spec.label === 'gpt';
  const firstUsable = gpt ? (spec.firstLba ?? Math.max(grain, 2 + Math.ceil(16384 / ss))) : grain;
  const lastUsable = gpt ? (spec.lastLba ?? total - 1 - gptReserve) : total - 1;
  const partitions: Partition[] = [];
  const primaries: { start: number; end: number }[] = [];
  let cursor = firstUsable;
  let extended: Partition | undefined;
  let logicalCursor = 0;
  let nextPrimary = 1;
  let nextLogical = 5;
  const occupied = (sector: number) => primaries.find((r) => sector >= r.start && sector <= r.end);
  const firstFreeAligned = (from: number): number => {
    let s = alignUp(from, grain);
    for (let r = occupied(s); r; r = occupied(s)) s = alignUp(r.end + 1, grain);
    return s;
  };
  spec.partitions.forEach((p, i) => {
    const type = normaliseType(p.type, spec.label);
    const logical = !gpt && extended !== undefined && (p.start === undefined || (p.start >= extended.start && p.start <= extended.start + extended.size - 1));
    let start: number;
    if (p.start !== undefined) start = p.start;
    else if (logical) start = alignUp(logicalCursor + 1, grain);
    else if (gpt) start = alignUp(cursor, grain);
    else start = firstFreeAligned(firstUsable);
    // The end of the free space this partition starts in.
    let gapEnd: number;
    if (logical) gapEnd = extended!.start + extended!.size - 1;
    else {
      const next = primaries.filter((r) => r.start > start).reduce((m, r) => Math.min(m, r.start - 1), lastUsable);
      gapEnd = gpt && next === lastUsable ? alignDown(lastUsable + 1, grain) - 1 : next;
    }
    let end: number;
    if (p.size === undefined || p.size === 'rest') end = gapEnd;
    else if ('sectors' in p.size) end = start + p.size.sectors - 1;
    else {
      // libfdisk rounds the end of a size given with a unit to the nearest boundary (ties up), from
      // start+size on dos and from the last sector on gpt; below one grain it leaves it alone, and dos
      // then counts one sector more.
      const sectors = Math.floor(p.size.bytes / ss);
      if (sectors < grain) end = gpt ? start + sectors - 1 : start + sectors;
      else {
        const x = gpt ? start + sectors - 1 : start + sectors;
        const r = x % grain;
        end = (r * 2 >= grain ? x - r + grain : x - r) - 1;
        if (end > gapEnd && start + sectors - 1 <= gapEnd) end = gapEnd;
      }
    }
    if (end < start) throw new ArgError(`partition ${i + 1} has no room left (starts at sector ${start}, the usable space ends at ${gapEnd})`);
    const hardLimit = logical ? gapEnd : lastUsable;
    if (end > hardLimit) throw new ArgError(`partition ${i + 1} does not fit: it would end at sector ${end}, the usable space ends at ${hardLimit}`);
    const number = p.number ?? (logical ? nextLogical : nextPrimary);
    if (logical) nextLogical = Math.max(nextLogical, number + 1);
    else nextPrimary = Math.max(nextPrimary, number + 1);
    const part: Partition = { number, start, size: end - start + 1, type, bootable: p.bootable === true };
    if (p.name !== undefined) part.name = p.name;
    if (p.uuid !== undefined) part.uuid = p.uuid;
    if (p.attrs !== undefined) part.attrs = p.attrs;
    partitions.push(part);
    if (logical) logicalCursor = end + 1;
    else {
      primaries.push({ start, end });
      cursor = end + 1;
      if (!gpt && isExtended(type)) {
        extended = part;
        logicalCursor = start;
      }
    }
  });
  const table: PartitionTable = { label: spec.label, partitions };
  if (spec.labelId) table.labelId = spec.labelId;
  return table;
}

// ------------------------------------------------------------------ comparing and rendering

function partitionLine(p: Partition, label: Label, withName: boolean): string {
  const fields = [`start=${p.start}`, `size=${p.size}`, `type=${p.type}`];
  if (label === 'dos' && p.bootable) fields.push('bootable');
  if (withName && p.name !== undefined) fields.push(`name=${JSON.stringify(p.name)}`);
  return `${p.number}: ${fields.join(', ')}`;
}

/**
 * The comparable text of a table: the label, then one line per partition in
 * number order. Disk identifiers, device names and partition UUIDs are left
 * out; GPT names are kept only when `names` is set (the desired layout gives
 * some).
 */
export function normaliseTable(table: PartitionTable | undefined, names = false): string {
  if (!table) return '';
  const lines = [`label: ${table.label}`];
  for (const p of [...table.partitions].sort((a, b) => a.number - b.number)) lines.push(partitionLine(p, table.label, names));
  return lines.join('\n') + '\n';
}

/** Parses `sfdisk --dump` output into a table (every field there is explicit). Empty text → no table. */
export function parseDump(text: string): PartitionTable | undefined {
  if (text.trim() === '') return undefined;
  const spec = parseSfdiskScript(text);
  const partitions: Partition[] = spec.partitions.map((p, i) => {
    const size = p.size !== undefined && p.size !== 'rest' && 'sectors' in p.size ? p.size.sectors : 0;
    const part: Partition = { number: p.number ?? i + 1, start: p.start ?? 0, size, type: normaliseType(p.type, spec.label), bootable: p.bootable === true };
    if (p.name !== undefined) part.name = p.name;
    if (p.uuid !== undefined) part.uuid = p.uuid;
    if (p.attrs !== undefined) part.attrs = p.attrs;
    return part;
  });
  const table: PartitionTable = { label: spec.label, partitions };
  if (spec.labelId) table.labelId = spec.labelId;
  return table;
}

/** Do two tables describe the same layout? Names count only where the desired table sets them. */
export function sameLayout(current: PartitionTable | undefined, desired: PartitionTable): boolean {
  if (!current) return false;
  if (current.label !== desired.label) return false;
  if (current.partitions.length !== desired.partitions.length) return false;
  const byNumber = new Map(current.partitions.map((p) => [p.number, p]));
  return desired.partitions.every((d) => {
    const c = byNumber.get(d.number);
    if (!c) return false;
    if (c.start !== d.start || c.size !== d.size || c.type !== d.type) return false;
    if (desired.label === 'dos' && c.bootable !== d.bootable) return false;
    if (d.name !== undefined && (c.name ?? '') !== d.name) return false;
    return true;
  });
}

/**
 * The script sfdisk is fed for a resolved table. Identifiers of the current
 * table are kept (the disk identifier, and the UUID of a GPT partition that
 * keeps its number and start), so unchanged partitions keep their PARTUUID.
 */
export function renderScript(desired: PartitionTable, current?: PartitionTable): string {
  const lines = [`label: ${desired.label}`];
  const labelId = desired.labelId ?? (current && current.label === desired.label ? current.labelId : undefined);
  if (labelId) lines.push(`label-id: ${labelId}`);
  lines.push('unit: sectors', '');
  const currentByNumber = new Map((current?.label === desired.label ? current.partitions : []).map((p) => [p.number, p]));
  for (const p of [...desired.partitions].sort((a, b) => a.number - b.number)) {
    const fields = [`start=${p.start}`, `size=${p.size}`, `type=${p.type}`];
    if (desired.label === 'dos' && p.bootable) fields.push('bootable');
    if (desired.label === 'gpt') {
      const old = currentByNumber.get(p.number);
      const uuid = p.uuid ?? (old && old.start === p.start ? old.uuid : undefined);
      if (uuid) fields.push(`uuid=${uuid}`);
      if (p.name !== undefined) fields.push(`name=${JSON.stringify(p.name)}`);
      else if (old?.name !== undefined && old.start === p.start) fields.push(`name=${JSON.stringify(old.name)}`);
      if (p.attrs !== undefined) fields.push(`attrs=${JSON.stringify(p.attrs)}`);
    }
    lines.push(`${p.number}: ${fields.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ the fact

export interface DiskState {
  /** sfdisk is not installed */
  noSfdisk: boolean;
  kind: 'block' | 'file' | 'other' | 'missing';
  sizeBytes: number;
  sectorSize: number;
  /** `sfdisk --dump` output, '' when the device has no partition table */
  dump: string;
  /** an sfdisk error other than "no partition table" */
  dumpError?: string;
  /** the device, its partitions (for an image: the loop devices attached to it and theirs) */
  members: string[];
  /** device-mapper/md devices built on a member (LVM, RAID, crypt) */
  holders: string[];
  /** member → where it is mounted, or 'swap' */
  inUse: Record<string, string>;
  /** dump_remote's content, when asked */
  remoteDump?: string | null;
}

const M = '@@tsible-';

const DISK_SCRIPT = `
if ! command -v sfdisk >/dev/null 2>&1; then echo '${M}nosfdisk'; exit 0; fi
if [ -b "$d" ]; then
  echo '${M}kind block'
  echo "${M}size $(blockdev --getsize64 "$d" 2>/dev/null)"
  echo "${M}ss $(blockdev --getss "$d" 2>/dev/null)"
elif [ -f "$d" ]; then
  echo '${M}kind file'
  echo "${M}size $(stat -L -c %s "$d")"
  echo '${M}ss 512'
elif [ -e "$d" ]; then echo '${M}kind other'; exit 0
else echo '${M}kind missing'; exit 0
fi
members() {
  n=$(basename "$(readlink -f "$1")")
  echo "/dev/$n"
  for p in /sys/class/block/"$n"/"$n"*; do [ -e "$p/partition" ] && echo "/dev/\${p##*/}"; done
}
if [ -b "$d" ]; then members "$d"; else for l in $(losetup -j "$d" 2>/dev/null | cut -d: -f1); do members "$l"; done; fi | while read -r m; do
  echo "${M}member $m"
  for h in /sys/class/block/"\${m#/dev/}"/holders/*; do [ -e "$h" ] && echo "${M}holder /dev/\${h##*/}"; done
done
awk 'index($1, "/dev/") == 1 { print "${M}mount", $1, $2 }' /proc/mounts 2>/dev/null
awk 'NR > 1 { print "${M}swap", $1 }' /proc/swaps 2>/dev/null
if [ -n "$r" ]; then
  if [ -f "$r" ]; then echo '${M}remote'; cat "$r"; echo; echo '${M}remote-end'; else echo '${M}noremote'; fi
fi
echo '${M}dump'
LC_ALL=C sfdisk --dump "$d" 2>&1; rc=$?
echo
echo "${M}dumprc $rc"
`;

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseDiskState(stdout: string): DiskState {
  const state: DiskState = { noSfdisk: false, kind: 'missing', sizeBytes: 0, sectorSize: 512, dump: '', members: [], holders: [], inUse: {} };
  const mounts: [string, string][] = [];
  const swaps: string[] = [];
  let section: 'dump' | 'remote' | undefined;
  const dump: string[] = [];
  const remote: string[] = [];
  let dumpRc = 0;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      const [tag = '', ...rest] = line.slice(M.length).split(' ');
      const value = rest.join(' ');
      switch (tag) {
        case 'nosfdisk': state.noSfdisk = true; break;
        case 'kind': state.kind = value as DiskState['kind']; break;
        case 'size': state.sizeBytes = Number(value) || 0; break;
        case 'ss': state.sectorSize = Number(value) || 512; break;
        case 'member': if (!state.members.includes(value)) state.members.push(value); break;
        case 'holder': if (!state.holders.includes(value)) state.holders.push(value); break;
        case 'mount': mounts.push([unescapeMount(rest[0] ?? ''), unescapeMount(rest.slice(1).join(' '))]); break;
        case 'swap': swaps.push(unescapeMount(value)); break;
        case 'remote': section = 'remote'; break;
        case 'remote-end': section = undefined; state.remoteDump = remote.join('\n').replace(/\n$/, ''); break;
        case 'noremote': state.remoteDump = null; break;
        case 'dump': section = 'dump'; break;
        case 'dumprc': section = undefined; dumpRc = Number(value); break;
      }
      continue;
    }
    if (section === 'dump') dump.push(line);
    else if (section === 'remote') remote.push(line);
  }
  const dumpText = dump.join('\n').trim();
  if (dumpRc === 0) state.dump = dumpText + (dumpText ? '\n' : '');
  else if (!/does not contain a recognized partition table/.test(dumpText)) state.dumpError = dumpText || `sfdisk --dump exited with ${dumpRc}`;
  const watched = new Set([...state.members, ...state.holders]);
  for (const [src, target] of mounts) if (watched.has(src)) state.inUse[src] = `mounted on ${target}`;
  for (const src of swaps) if (watched.has(src)) state.inUse[src] = 'in use as swap';
  for (const h of state.holders) state.inUse[h] ??= 'holds a member (device-mapper, RAID or LVM)';
  return state;
}

export const diskFact: Fact<{ device: string; remote?: string }, DiskState> = {
  name: 'sfdisk_disk',
  command: ({ device, remote }) => ShellCommand.join([sh`d=${device}; r=${remote ?? ''}`, ShellCommand.script(DISK_SCRIPT)], '\n'),
  parse: (out) => parseDiskState(out.stdout),
};

/**
 * After sfdisk: when the kernel's partitions (sysfs) differ from the new table
 * (sfdisk's re-read fails while a partition is in use, and some kernels, like
 * the lab's, have no partition-table parsers at all), drop and re-add them
 * with partx. Best effort: partitions in use stay as they were.
 */
export function kernelSync(device: string): ShellCommand {
  return ShellCommand.join(
    [
      sh`d=${device}`,
      ShellCommand.script(
        [
          'n=$(basename "$(readlink -f "$d")")',
          `want=$(partx -g -o NR,START,SECTORS "$d" 2>/dev/null | awk '{ print $1, $2, $3 }')`,
          'have=$(for p in /sys/class/block/"$n"/"$n"*; do [ -e "$p/partition" ] && echo "$(cat "$p/partition") $(cat "$p/start") $(cat "$p/size")"; done | sort -n)',
          'if [ "$want" != "$have" ]; then partx -d "$d" 2>/dev/null; partx -a "$d" 2>/dev/null; partx -u "$d" 2>/dev/null; fi',
          'true',
        ].join('\n'),
      ),
    ],
    '\n',
  );
}

// ------------------------------------------------------------------ the module

export default defineModule({
  name: 'sfdisk',
  collections: ['tsible'],
  description:
    'Apply a partition table (dos or gpt) to a disk or an image file, from an sfdisk dump (cloning a disk layout) or a YAML list of partitions. Compares the normalised layout, so an identical table is not rewritten; refuses to repartition a disk with mounted partitions unless forced.',
  args: {
    device: { type: 'path', required: true, aliases: ['dev', 'disk'], description: 'The disk (/dev/sdb) or image file to partition.' },
    dump: { type: 'str', description: 'An sfdisk script or dump, as `sfdisk -d /dev/sda` writes it.' },
    dump_src: { type: 'path', description: 'A controller file holding the dump (searched in the role files/ dir).' },
    dump_remote: { type: 'path', description: 'A file on the host holding the dump (e.g. /root/sda.out on shared storage).' },
    label: { type: 'str', choices: ['dos', 'gpt'], default: 'dos', description: 'Partition table type of a YAML layout.' },
    partitions: {
      type: 'list',
      elements: 'dict',
      description:
        'YAML layout: a list of {start?, size, type, bootable?, name?}. size is sectors, a size like 512M/1G, or + for the rest; type is 83/82/5/ef, a GUID, or linux/swap/extended/efi/bios/raid/lvm/home.',
    },
    force: { type: 'bool', default: false, description: 'Repartition even when partitions are mounted or in use (sfdisk --force --no-reread).' },
    wipe: { type: 'bool', default: false, description: 'Also wipe old filesystem/RAID/table signatures from the device (sfdisk --wipe always).' },
  },
  returns: {
    device: 'the device',
    label: 'dos or gpt',
    partitions: 'the desired partitions: number, start, size (sectors), type, bootable, name',
    script: 'the sfdisk script applied (or that would be)',
  },
  example: [
    '- name: Clone the master\'s partition table (thesis 4.3.3)',
    '  tsible.sfdisk:',
    '    device: /dev/sda',
    '    dump_remote: /root/sda.out',
    '    force: true',
    '',
    '- name: Partition a data disk',
    '  tsible.sfdisk:',
    '    device: /dev/sdb',
    '    label: gpt',
    '    partitions:',
    '      - { size: 1G, type: linux, name: brick1 }',
    '      - { size: +, type: linux }',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    const given = ['dump', 'dump_src', 'dump_remote', 'partitions'].filter((k) => (args as Record<string, unknown>)[k] !== undefined);
    if (given.length === 0) throw new ArgError('give the layout as dump, dump_src, dump_remote or partitions');
    if (given.length > 1) throw new ArgError(`${given.join(' and ')} are mutually exclusive`, given[1]);
  },
  facts: (args) => ({ disk: factRequest(diskFact, { device: args.device, remote: args.dump_remote }) }),
  async plan(args, facts, ctx): Promise<Plan> {
    const disk = facts.disk;
    if (disk.noSfdisk) return { changes: [], failure: { message: 'sfdisk is not installed on the host (package fdisk)', missing: 'sfdisk' } };
    if (disk.kind === 'missing') return { changes: [], failure: { message: `${args.device} does not exist`, missing: args.device } };
    if (disk.kind === 'other') return { changes: [], failure: { message: `${args.device} is neither a block device nor a regular file` } };
    if (disk.dumpError) return { changes: [], failure: { message: `cannot read the partition table of ${args.device}: ${disk.dumpError}` } };

    let spec: LayoutSpec;
    let verbatim: string | undefined;
    try {
      if (args.partitions) spec = layoutFromYaml(args.label, args.partitions);
      else {
        let text: string;
        if (args.dump !== undefined) text = args.dump;
        else if (args.dump_src !== undefined) text = (await ctx.readControllerFile(args.dump_src, 'files')).toString('utf8');
        else {
          if (disk.remoteDump === null || disk.remoteDump === undefined) return { changes: [], failure: { message: `${args.dump_remote} does not exist on the host`, missing: args.dump_remote } };
          text = disk.remoteDump;
        }
        spec = parseSfdiskScript(text);
        if (isExplicit(spec)) verbatim = text.endsWith('\n') ? text : text + '\n';
      }
      if (spec.sectorSize !== undefined && spec.sectorSize !== disk.sectorSize) {
        return { changes: [], failure: { message: `the dump is for ${spec.sectorSize}-byte sectors but ${args.device} has ${disk.sectorSize}-byte sectors` } };
      }
    } catch (err) {
      return { changes: [], failure: { message: `invalid layout: ${(err as Error).message}` } };
    }

    let desired: PartitionTable;
    let current: PartitionTable | undefined;
    try {
      desired = resolveLayout(spec, { sizeBytes: disk.sizeBytes, sectorSize: disk.sectorSize });
      current = parseDump(disk.dump);
    } catch (err) {
      return { changes: [], failure: { message: `cannot read the layout: ${(err as Error).message}` } };
    }
    const script = verbatim ?? renderScript(desired, current);
    const result = { device: args.device, label: desired.label, partitions: desired.partitions, script };
    const withNames = desired.partitions.some((p) => p.name !== undefined);
    const before = normaliseTable(current, withNames);
    const after = normaliseTable(desired, withNames);
    if (sameLayout(current, desired)) {
      return { changes: [], noopReason: `the partition table of ${args.device} already matches (${desired.label}, ${desired.partitions.length} partitions)`, result };
    }
    const busy = Object.entries(disk.inUse);
    if (busy.length > 0 && !args.force) {
      return {
        changes: [],
        result,
        failure: { message: `refusing to repartition ${args.device}: ${busy.map(([dev, what]) => `${dev} is ${what}`).join(', ')} (set force: true to do it anyway)` },
      };
    }
    const flags: string[] = [];
    if (args.force) flags.push('--force', '--no-reread');
    if (args.wipe) flags.push('--wipe', 'always');
    const changes: Change[] = [
      {
        kind: 'exec',
        command: sh`LC_ALL=C sfdisk ${[...flags, args.device]}`,
        stdin: script,
        describe: `sfdisk ${[...flags, args.device].join(' ')} (${desired.label}, ${desired.partitions.length} partitions)`,
      },
    ];
    if (disk.kind === 'block') changes.push({ kind: 'exec', command: kernelSync(args.device), describe: `partx: make the kernel's partitions of ${args.device} match the table` });
    return { changes, result, diff: [{ path: args.device, before, after, beforeHeader: `${args.device} (before)`, afterHeader: `${args.device} (after)` }] };
  },
});
