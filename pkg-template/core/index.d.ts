// Types of `loyalty-engine/core`: the validate/quote subset of the full API. Nothing is declared
// twice: the declarations and the generated request/response types (tsify) come from ../index.js.
import type { Engine as FullEngine, PolicyDocument } from '../index.js';

export type {
  InitInput,
  AppliedRule,
  Cart,
  CartLine,
  LineQuote,
  MemberSnapshot,
  Note,
  PolicyDocument,
  QuoteRequest,
  QuoteResponse,
  RedeemPoints,
  ValidateResponse,
  WarningOut,
  ErrorCode,
  ErrorBody,
} from '../index.js';

export { default, init, LoyaltyError, validate, evalLine } from '../index.js';

/** A validated policy ready to quote: the full module's `Engine` without replay, progress, verify. */
export type Engine = Pick<FullEngine, 'policyDigest' | 'quote' | 'free'>;
export declare const Engine: {
  /** Parses and validates a policy (an object or JSON text); throws a `LoyaltyError`. */
  new (policy: PolicyDocument | string): Engine;
  readonly prototype: Engine;
};
