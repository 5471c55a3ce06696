// Types of `loyalty-engine/progress`: the validate/progress subset of the full API (what the
// storefront widget needs). Nothing is declared twice: the declarations and the generated
// request/response types (tsify) come from ../index.js.
import type { Engine as FullEngine, PolicyDocument } from '../index.js';

export type {
  InitInput,
  PolicyDocument,
  ProgressResponse,
  ReplayRequest,
  ValidateResponse,
  WarningOut,
  ErrorCode,
  ErrorBody,
} from '../index.js';

export { default, init, LoyaltyError, validate, evalLine } from '../index.js';

/** A validated policy ready to answer progress requests: the full module's `Engine` without quote, replay, verify. */
export type Engine = Pick<FullEngine, 'policyDigest' | 'progress' | 'free'>;
export declare const Engine: {
  /** Parses and validates a policy (an object or JSON text); throws a `LoyaltyError`. */
  new (policy: PolicyDocument | string): Engine;
  readonly prototype: Engine;
};
