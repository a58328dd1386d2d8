/**
 * template: a controller template rendered with the task's variables and
 * put on the host exactly like copy puts `content` (same checksum
 * comparison, same attribute handling, same plan: `planCopy`).
 */
import { posix } from 'node:path';
import { ArgError } from './argspec.js';
import { DEST_ARGS, controllerMode, copyFacts, planCopy } from './copy.js';
import type { FileState } from '../facts/file.js';
import { defineModule } from './types.js';

const NEWLINES: Record<string, string> = { '\\n': '\n', '\\r': '\r', '\\r\\n': '\r\n', '\n': '\n', '\r': '\r', '\r\n': '\r\n' };

/** Rendered text with its line breaks as newline_sequence asks. */
export function withNewlines(text: string, sequence: string): string {
  const nl = NEWLINES[sequence] ?? '\n';
  return nl === '\n' ? text : text.replace(/\r\n|\r|\n/g, nl);
}

export default defineModule({
  name: 'template',
  collections: ['ansible.builtin'],
  description:
    "Render a Jinja2 template from the controller (searched in the role templates/ dir) and put the result on the host, like copy: an unchanged file is never rewritten, validate runs on the new file before it replaces dest. tsible's engine renders with Ansible's defaults (trim_blocks yes, lstrip_blocks no).",
  args: {
    src: { type: 'path', required: true, description: 'The template, relative to templates/ (or the playbook directory), or absolute.' },
    ...DEST_ARGS,
    newline_sequence: { type: 'str', default: '\\n', description: 'Line breaks of the written file: \\n, \\r or \\r\\n.' },
    trim_blocks: { type: 'bool', default: true, description: "Accepted; tsible's engine always removes the first newline after a block tag (Ansible's default)." },
    lstrip_blocks: { type: 'bool', default: false, description: "Accepted; tsible's engine never strips whitespace before a block tag (Ansible's default). yes is reported as a warning." },
    output_encoding: { type: 'str', default: 'utf-8', description: 'Accepted; output is always UTF-8.' },
  },
  returns: {
    dest: 'the file written',
    src: 'the template',
    checksum: 'SHA-1 of the rendered content',
    md5sum: 'MD5 of the rendered content',
    size: 'size in bytes',
    mode: 'its mode afterwards',
    owner: 'its owner',
    group: 'its group',
    state: 'file',
    backup_file: 'the backup, when one was made',
  },
  example: [
    '- name: HAProxy in front of the head nodes',
    '  ansible.builtin.template:',
    '    src: haproxy.cfg.j2',
    '    dest: /etc/haproxy/haproxy.cfg',
    "    mode: '0644'",
    '    validate: haproxy -c -f %s',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (!(args.newline_sequence in NEWLINES)) throw new ArgError(`newline_sequence must be one of \\n, \\r, \\r\\n; got ${JSON.stringify(args.newline_sequence)}`, 'newline_sequence');
    if (args.validate !== undefined && !args.validate.includes('%s')) throw new ArgError(`validate must contain %s: ${args.validate}`, 'validate');
  },
  facts(args, ctx) {
    return copyFacts(args.dest, posix.basename(args.src), undefined, ctx.wantDiff);
  },
  async plan(args, facts, ctx) {
    const text = withNewlines(await ctx.renderTemplate(args.src), args.newline_sequence);
    const content = Buffer.from(text, 'utf8');
    const mode = args.mode === 'preserve' ? controllerMode(ctx, args.src, 'templates') : undefined;
    const plan = planCopy(args, { kind: 'content', content, name: posix.basename(args.src), label: args.src, mode }, facts as Record<string, FileState | undefined>, ctx);
    const warnings: string[] = [];
    if (args.lstrip_blocks) warnings.push('lstrip_blocks=yes is not supported: the template was rendered without it');
    if (!args.trim_blocks) warnings.push('trim_blocks=no is not supported: the template was rendered with it');
    if (warnings.length) plan.result = { ...plan.result, warnings };
    return plan;
  },
});
