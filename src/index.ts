// The public API of the sluice package.
export { compileSchema, Validator } from './core/validator.ts';
export type { FieldSpan, ValidatorOptions, Verdict } from './core/validator.ts';
export type { VerdictCode } from './core/codes.ts';
export type { JsFallback, JsonSchema } from './core/rule-model.ts';
export { SluiceError } from './errors.ts';
export type { ConfigProblem, SluiceErrorCode } from './errors.ts';
export { runFlow } from './testing/driver.ts';
export type { ClockAdvance, FlowRun, RunOptions, TestDeadLetter, TestInput, TestOutput } from './testing/driver.ts';
export type { Clock } from './component/clock.ts';
