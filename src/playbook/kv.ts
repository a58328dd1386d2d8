/**
 * Ansible's free-form `key=value` argument strings (`file: path=/x mode=0644`,
 * `command: ls -l chdir=/tmp`). Quoting follows Ansible's parse_kv: values may
 * be single- or double-quoted, and `{{ }}` / `{% %}` spans are never split.
 */

export interface KvResult {
  params: Record<string, string>;
  /** words that were not key=value, joined back (the command of command/shell) */
  rawParams: string;
}

/** Splits on whitespace outside quotes and Jinja2 spans, keeping quotes in the words. */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | null = null;
  let jinjaDepth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const two = text.slice(i, i + 2);
    if (!quote && (two === '{{' || two === '{%' || two === '{#')) {
      jinjaDepth++;
      current += two;
      i++;
      continue;
    }
    if (!quote && jinjaDepth > 0 && (two === '}}' || two === '%}' || two === '#}')) {
      jinjaDepth--;
      current += two;
      i++;
      continue;
    }
    if (ch === '\\' && i + 1 < text.length && quote !== "'") {
      current += ch + text[i + 1];
      i++;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = null;
      current += ch;
      continue;
    }
    if ((ch === '"' || ch === "'") && jinjaDepth === 0) {
      quote = ch;
      current += ch;
      continue;
    }
    if (/\s/.test(ch) && jinjaDepth === 0) {
      if (current) words.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current) words.push(current);
  return words;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** Ansible decodes backslash escapes in key=value values (splitter._decode_escapes). */
function decodeEscapes(value: string): string {
  return value.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[ntr\\'"abfv0])/g, (whole, code: string) => {
    if (code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16));
    return ESCAPES[code] ?? whole;
  });
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) {
    const inner = value.slice(1, -1);
    return decodeEscapes(inner);
  }
  return decodeEscapes(value);
}

/**
 * @param checkRaw modules whose free form is a command: only these keys are
 *   pulled out as parameters, everything else stays in the command text.
 */
export function parseKv(text: string, checkRaw?: readonly string[]): KvResult {
  const params: Record<string, string> = {};
  const raw: string[] = [];
  for (const word of splitArgs(text)) {
    const eq = word.indexOf('=');
    const key = eq > 0 ? word.slice(0, eq) : '';
    const isKv = eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && (!checkRaw || checkRaw.includes(key));
    if (isKv) params[key] = unquote(word.slice(eq + 1));
    else raw.push(word);
  }
  return { params, rawParams: raw.join(' ') };
}
