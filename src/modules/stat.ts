/**
 * stat: what a path is, for `register`. Reads one fact, never changes
 * anything. The result has Ansible's shape (`stat.exists`, `stat.mode` as
 * '0644', `stat.isdir`, `stat.checksum`, ...), so `when: st.stat.exists`
 * conditions work unchanged.
 */
import { factRequest } from '../facts/types.js';
import { CHECKSUM_ALGORITHMS, fileStateFact, followed, type ChecksumAlgorithm, type FileState, type PresentFile } from '../facts/file.js';
import { defineModule, type Plan } from './types.js';

/** Ansible's stat dictionary from the fact. */
export function statResult(path: string, state: FileState, follow: boolean): Record<string, unknown> {
  const st = follow ? followed(state) : state;
  if (!st.exists) return { exists: false };
  const p = st as PresentFile;
  const bits = parseInt(p.mode, 8);
  const out: Record<string, unknown> = {
    exists: true,
    path,
    mode: p.mode,
    isdir: p.kind === 'directory',
    ischr: p.kind === 'char',
    isblk: p.kind === 'block',
    isreg: p.kind === 'file',
    isfifo: p.kind === 'fifo',
    islnk: p.kind === 'link',
    issock: p.kind === 'socket',
    uid: p.uid,
    gid: p.gid,
    size: p.size,
    inode: p.inode,
    dev: p.dev,
    nlink: p.nlink,
    atime: p.atime,
    mtime: p.mtime,
    ctime: p.ctime,
    wusr: (bits & 0o200) !== 0,
    rusr: (bits & 0o400) !== 0,
    xusr: (bits & 0o100) !== 0,
    wgrp: (bits & 0o020) !== 0,
    rgrp: (bits & 0o040) !== 0,
    xgrp: (bits & 0o010) !== 0,
    woth: (bits & 0o002) !== 0,
    roth: (bits & 0o004) !== 0,
    xoth: (bits & 0o001) !== 0,
    isuid: (bits & 0o4000) !== 0,
    isgid: (bits & 0o2000) !== 0,
    blocks: p.blocks,
    block_size: p.blockSize,
    readable: p.readable,
    writeable: p.writeable,
    executable: p.executable,
  };
  if (p.owner !== String(p.uid)) out.pw_name = p.owner;
  if (p.group !== String(p.gid)) out.gr_name = p.group;
  if (p.rdev) out.device_type = (p.rdev.major << 8) | p.rdev.minor;
  if (p.kind === 'link') {
    out.lnk_source = p.realPath;
    out.lnk_target = p.linkTarget;
  }
  if (p.checksum !== undefined && p.kind === 'file') out.checksum = p.checksum;
  if (p.mime) {
    if (p.mime.type) out.mimetype = p.mime.type;
    if (p.mime.charset) out.charset = p.mime.charset;
  }
  if (p.attributes !== undefined) {
    out.attributes = [];
    out.attr_flags = p.attributes.replace(/-/g, '');
  }
  return out;
}

export default defineModule({
  name: 'stat',
  collections: ['ansible.builtin'],
  description: "Read what a path is (existence, type, mode, owner, size, times, checksum) into a registered variable, in Ansible's shape: `st.stat.exists`, `st.stat.isdir`, `st.stat.mode`. Never changes anything.",
  args: {
    path: { type: 'path', required: true, aliases: ['dest', 'name'], description: 'The path to look at.' },
    follow: { type: 'bool', default: false, description: 'Describe what a symbolic link points to instead of the link.' },
    get_checksum: { type: 'bool', default: true, description: 'Checksum a regular file (stat.checksum).' },
    checksum_algorithm: { type: 'str', default: 'sha1', choices: CHECKSUM_ALGORITHMS, aliases: ['checksum', 'checksum_algo'], description: 'md5, sha1, sha224, sha256, sha384 or sha512.' },
    get_mime: { type: 'bool', default: false, aliases: ['mime', 'mime_type', 'mime-type'], description: 'Add mimetype and charset (with the file command, when the host has it). Ansible defaults to yes; tsible to no.' },
    get_attributes: { type: 'bool', default: false, aliases: ['attr', 'attributes'], description: 'Add attr_flags from lsattr. Ansible defaults to yes; tsible to no.' },
  },
  returns: {
    stat: 'exists, path, mode (\'0644\'), isdir, isreg, islnk, ischr, isblk, isfifo, issock, uid, gid, pw_name, gr_name, size, inode, dev, nlink, atime, mtime, ctime, r/w/x usr/grp/oth, isuid, isgid, readable, writeable, executable, checksum, lnk_source, lnk_target, mimetype, charset, attr_flags',
  },
  example: ['- name: Is the export there?', '  ansible.builtin.stat:', '    path: /srv/nfs/home', '  register: export', '', '- ansible.builtin.debug:', '    msg: "mode {{ export.stat.mode }}"', '  when: export.stat.exists and export.stat.isdir'].join('\n'),
  runsOn: 'host',
  facts: (args) => ({
    path: factRequest(fileStateFact, {
      path: args.path,
      follow: args.follow,
      checksum: args.get_checksum ? (args.checksum_algorithm as ChecksumAlgorithm) : undefined,
      mime: args.get_mime || undefined,
      attributes: args.get_attributes || undefined,
    }),
  }),
  plan(args, facts): Plan {
    const stat = statResult(args.path, facts.path, args.follow);
    return { changes: [], noopReason: stat.exists ? `read ${args.path}` : `${args.path} does not exist`, result: { stat } };
  },
});
