/**
 * Errors of the templating layer. They are TsibleErrors, so they carry a
 * `location` once the Templar knows where the template was written. While a
 * template runs, only the position inside the template text is known; it
 * travels in `templatePos` until the Templar maps it onto the YAML or
 * template file.
 */
import { ParseError, TsibleError, type ErrorDetails } from '../errors.js';

/** 1-based position inside a template's own text; `file` is set for included templates. */
export interface TemplatePos {
  line: number;
  col: number;
  file?: string;
}

export interface TemplateErrorDetails extends ErrorDetails {
  templatePos?: TemplatePos;
  variable?: string;
}

/** A template could not be rendered (bad filter argument, type error, recursion, ...). */
export class TemplateError extends TsibleError {
  /** Where in the template text it happened; consumed when the location is computed. */
  templatePos?: TemplatePos;

  constructor(message: string, details: TemplateErrorDetails = {}) {
    super(message, details);
    this.templatePos = details.templatePos;
  }
}

/** A variable (or attribute, or item) was used but is not defined. */
export class UndefinedVariableError extends TemplateError {
  /** the name as written, e.g. `foo` or `foo.bar` */
  readonly variable?: string;

  constructor(message: string, details: TemplateErrorDetails = {}) {
    super(message, details);
    this.variable = details.variable;
  }
}

/** Template text that does not parse. A ParseError so load-time checks and run-time renders report it alike. */
export class TemplateSyntaxError extends ParseError {}
