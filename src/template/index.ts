/**
 * The templating layer: Jinja2 as Ansible uses it, on nunjucks.
 *
 * - `VarScope`: variables in precedence layers; `source` layers are
 *   templated lazily, `data` layers (facts, registered results, set_fact)
 *   never are.
 * - `Templar`: renders task values (native types for a lone `{{ expr }}`),
 *   conditions and template files, with errors at `file:line:col`.
 * - `OMIT` / `stripOmit`: `{{ x | default(omit) }}` drops an argument.
 */
export { Templar, conditionTruth, type TemplarOptions, type TemplateFileOptions } from './templar.js';
export { VarScope, MISSING, type ScopeLayer } from './scope.js';
export { OMIT, isOmit, stripOmit } from './omit.js';
export { TemplateError, TemplateSyntaxError, UndefinedVariableError } from './errors.js';
