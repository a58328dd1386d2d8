/** Turns a task's loop (loop:, with_items, with_dict, ...) into the list of items. */
import { globSync } from 'tinyglobby';
import type { LoopSpec } from '../playbook/ast.js';
import { parseKv } from '../playbook/kv.js';

export class LoopError extends Error {}

function isDict(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** @param rendered the loop value after templating */
export function loopItems(spec: LoopSpec, rendered: unknown): unknown[] {
  switch (spec.flavor) {
    case 'loop':
      if (!Array.isArray(rendered)) {
        throw new LoopError(`loop needs a list, got ${rendered === null ? 'null' : typeof rendered}${isDict(rendered) ? ' (use "| dict2items" for a mapping)' : ''}`);
      }
      return rendered;
    case 'list':
      return Array.isArray(rendered) ? rendered : [rendered];
    case 'items':
      if (rendered === null || rendered === undefined) return [];
      return (Array.isArray(rendered) ? rendered : [rendered]).flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'indexed_items':
      return (Array.isArray(rendered) ? rendered : [rendered]).flat().map((x, i) => [i, x]);
    case 'dict':
      if (!isDict(rendered)) throw new LoopError('with_dict needs a mapping');
      return Object.entries(rendered).map(([key, value]) => ({ key, value }));
    case 'together': {
      const lists = (Array.isArray(rendered) ? rendered : [rendered]).map((l) => (Array.isArray(l) ? l : [l]));
      const n = Math.max(0, ...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i] ?? null));
    }
    case 'nested': {
      const lists = (Array.isArray(rendered) ? rendered : [rendered]).map((l) => (Array.isArray(l) ? l : [l]));
      return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((prefix) => l.map((x) => [...prefix, x])), [[]]);
    }
    case 'sequence':
      return sequence(String(rendered));
    case 'fileglob':
      return (Array.isArray(rendered) ? rendered : [rendered]).flatMap((p) => globSync(String(p), { absolute: true }).sort());
  }
}

/** with_sequence: "start=1 end=10 stride=2 format=node%02d" or "1-10/2". */
function sequence(text: string): string[] {
  let start = 1;
  let end: number | undefined;
  let stride = 1;
  let format = '%d';
  const short = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(text.trim());
  if (short) {
    start = Number(short[1]);
    end = Number(short[2]);
    stride = short[3] ? Number(short[3]) : 1;
  } else {
    const { params } = parseKv(text);
    if (params.start) start = Number(params.start);
    if (params.end) end = Number(params.end);
    if (params.count) end = start + (Number(params.count) - 1) * stride;
    if (params.stride) stride = Number(params.stride);
    if (params.format) format = params.format;
  }
  if (end === undefined || !Number.isFinite(start) || !Number.isFinite(end) || stride === 0) {
    throw new LoopError(`with_sequence: cannot read "${text}"`);
  }
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) {
    out.push(format.replace(/%(0?)(\d*)d/, (_, zero: string, width: string) => String(i).padStart(Number(width || 0), zero ? '0' : ' ')));
  }
  return out;
}
