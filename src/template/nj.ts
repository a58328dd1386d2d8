/**
 * nunjucks' internals (lexer, parser, compiler, runtime, nodes) are not part
 * of its typed API. They are reached here, in one place, and typed loosely:
 * the Jinja2 compatibility layer subclasses the parser and compiler instead
 * of patching them, so other users of nunjucks in the process are not
 * affected.
 */
import nunjucks from 'nunjucks';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Any = any;

interface Internals {
  lexer: Any;
  parser: { Parser: Any };
  compiler: { Compiler: Any };
  nodes: Any;
  runtime: Any;
  lib: Any;
}

export const nj = nunjucks as unknown as Internals;

/** nunjucks' SafeString: what macros and `caller()` return. */
export const SafeString: new (s: string) => { val: string; length: number } = nj.runtime.SafeString;
export const Frame: Any = nj.runtime.Frame;
