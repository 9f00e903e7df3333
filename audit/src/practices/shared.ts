/** What every practice module imports. */
export { fail, notApplicable, pass, snippet, SOURCES, type Outcome, type Practice } from '../practice.ts';
export type { AuditContext } from '../context.ts';
