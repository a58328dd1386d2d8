/**
 * How an inventory writes a host: a name, an IPv4/IPv6 address or a range
 * pattern, optionally followed by `:port` (`web1:2222`, `[2001:db8::1]:22`,
 * `node[01:20]:2200`). Mirrors Ansible's `parse_address`, including its
 * fallback: a text it cannot read as an address is taken whole as the name.
 */
import { expandAnsibleRange } from './nodeset.js';

const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;

const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;
const HOSTNAME_RE = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');

const IPV4_PART = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const IPV4_RE = new RegExp(String.raw`^(?:${IPV4_PART}\.){3}${IPV4_PART}$`, 'i');

const H = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const IPV6_RE = new RegExp(
  '^(?:' +
    [
      `(?:${H}:){7}${H}`,
      `(?:${H}:){1,6}:`,
      `(?:${H}:)(?::${H}){1,6}`,
      `(?:${H}:){2}(?::${H}){1,5}`,
      `(?:${H}:){3}(?::${H}){1,4}`,
      `(?:${H}:){4}(?::${H}){1,3}`,
      `(?:${H}:){5}(?::${H}){1,2}`,
      `(?:${H}:){6}(?::${H})`,
      `:(?::${H}){1,6}`,
      `${H}?::`,
      `(?:0:){6}(?:${H}\\.){3}${H}`,
      `::(?:ffff:)?(?:${H}\\.){3}${H}`,
      `(?:0:){5}ffff:(?:${H}\\.){3}${H}`,
    ].join('|') +
    ')$',
  'i',
);

const BRACKETED_HOSTPORT_RE = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT_RE = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;

export interface HostEntry {
  /** the host name or range pattern, without the port */
  pattern: string;
  port?: number;
}

/** Splits `name:port`. Returns the text unchanged when it is not a valid address (as Ansible does). */
export function parseHostAddress(text: string, allowRanges = true): HostEntry {
  let address = text;
  let port: number | undefined;
  // Ansible applies both port patterns in turn: `[host]:22` and then `host:22`.
  for (const re of [BRACKETED_HOSTPORT_RE, HOSTPORT_RE]) {
    const m = re.exec(address);
    if (m) {
      address = m[1]!;
      port = Number(m[2]);
    }
  }
  const valid = IPV4_RE.test(address) || IPV6_RE.test(address) || HOSTNAME_RE.test(address);
  if (!valid || (!allowRanges && address.includes('['))) return { pattern: text };
  return port === undefined ? { pattern: address } : { pattern: address, port };
}

/** The host names a host entry defines, with the port it sets (if any). Throws UsageError on a bad range. */
export function expandHostEntry(text: string): { names: string[]; port?: number } {
  const { pattern, port } = parseHostAddress(text);
  const names = pattern.includes('[') ? expandAnsibleRange(pattern) : [pattern];
  return port === undefined ? { names } : { names, port };
}
