// Types of the public API. The request/response types are not written by hand: the engine's
// Rust types derive `tsify::Tsify`, wasm-bindgen writes them out and the build keeps them in ./types.d.ts.
// If the engine renames one, change the import list below only.
import type {
  InitInput,
  // --- generated from the Rust types (tsify) ---
  AppliedRule,
  Cart,
  CartLine,
  LineQuote,
  MemberSnapshot,
  Note,
  PolicyDocument,
  ProgressResponse,
  QuoteRequest,
  QuoteResponse,
  RedeemPoints,
  ReplayRequest,
  ReplayResponse,
  SimulateRequest,
  SimulateResponse,
  MemberHistory,
  GenerateOptions,
  ValidateResponse,
  VerifyRequest,
  VerifyResponse,
  WarningOut,
  ErrorCode,
  ErrorBody,
} from './types.js';

export type {
  InitInput,
  AppliedRule,
  Cart,
  CartLine,
  LineQuote,
  MemberSnapshot,
  Note,
  PolicyDocument,
  ProgressResponse,
  QuoteRequest,
  QuoteResponse,
  RedeemPoints,
  ReplayRequest,
  ReplayResponse,
  SimulateRequest,
  SimulateResponse,
  MemberHistory,
  GenerateOptions,
  ValidateResponse,
  VerifyRequest,
  VerifyResponse,
  WarningOut,
  ErrorCode,
  ErrorBody,
};

/**
 * Instantiates the WebAssembly module. Required once in browsers before anything else; in Node
 * the module is ready on import and this resolves at once. `input` optionally says where the
 * .wasm file comes from.
 */
declare function init(input?: InitInput | Promise<InitInput>): Promise<void>;
export default init;
export { init };

/** An engine error; `JSON.stringify(err)` is the CLI's `{"error":{…}}` line. */
export class LoyaltyError extends Error {
  constructor(code: ErrorCode, message: string, path?: string);
  readonly name: 'LoyaltyError';
  /** e.g. `invalid_policy`, `redemption_exceeds_limit`. */
  readonly code: ErrorCode;
  /** Where in the input: `cart.lines[0].unit_price`, `policy.tiers.levels[2].threshold`; `""` for the whole input. */
  readonly path: string;
  toJSON(): { error: ErrorBody };
}

/** A validated policy ready to answer requests. */
export class Engine {
  /** Parses and validates a policy (an object or JSON text); throws a `LoyaltyError`. */
  constructor(policy: PolicyDocument | string);
  /** `"sha256:<hex>"` of the canonical policy. */
  readonly policyDigest: string;
  /** Quotes one order (SPEC §2); throws a `LoyaltyError` on an error answer. */
  quote(request: QuoteRequest | string): QuoteResponse;
  /** Replays a member's history up to `as_of` (SPEC §3); throws a `LoyaltyError` on an error answer. */
  replay(request: ReplayRequest | string): ReplayResponse;
  /** What a storefront widget shows (SPEC §4), from a replay request; throws a `LoyaltyError`. */
  progress(request: ReplayRequest | string): ProgressResponse;
  /** Recomputes a till's quote natively and lists what differs; throws a `LoyaltyError` if the quote request fails. */
  verify(request: VerifyRequest | string): VerifyResponse;
  /** Frees the Wasm memory now rather than at garbage collection. */
  free(): void;
}

/** Validates a policy: its digest and warnings; throws a `LoyaltyError`. */
export function validate(policy: PolicyDocument | string): ValidateResponse;

/** What a draft policy would have done to members' histories (SPEC §5); throws a `LoyaltyError`. */
export function simulate(request: SimulateRequest | string): SimulateResponse;

/** Synthetic member histories as NDJSON text, byte-identical to `loyalty generate`; throws a `LoyaltyError`. */
export function generate(options: GenerateOptions | string): string;

/** A simulation fed in chunks (e.g. in a Web Worker); `finish()` gives the same report as `simulate`. */
export class Simulation {
  /** The simulate request without `members` (or with some); throws a `LoyaltyError` for a bad policy. */
  constructor(request: Omit<SimulateRequest, 'members'> & { members?: MemberHistory[] } | string);
  /**
   * Adds members: `{ member, events }` objects, or NDJSON text (one member a line; a blank line
   * is skipped but keeps its number, as in `loyalty simulate`, so `members[i]` in `rejected` is
   * the line's number − 1 when a file is fed in chunks cut at line ends).
   */
  add(members: MemberHistory[] | string): this;
  /** Members added so far. */
  readonly progress: number;
  /** The report; the simulation is used up. Throws a `LoyaltyError` on an error answer. */
  finish(): SimulateResponse;
}

/** Options of `ParallelSimulation`. */
export interface ParallelSimulationOptions {
  /**
   * How many workers (each its own Wasm instance). Default: the number of CPUs the platform
   * offers (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers).
   */
  workers?: number;
  /** Chunks a worker may hold before `add` waits (back-pressure). Default 2. */
  maxPending?: number;
}

/**
 * `Simulation` on several workers (Node worker threads; module Web Workers in browsers):
 * chunks are replayed in parallel and `finish()` merges the workers' exact sums into the same
 * report as `simulate` (byte for byte). Await `add` to bound memory.
 */
export class ParallelSimulation {
  /**
   * The simulate request without `members` (or with some, replayed on this thread); throws a
   * `LoyaltyError` for a bad policy, as `new Simulation` does. Starts the workers.
   */
  constructor(
    request: Omit<SimulateRequest, 'members'> & { members?: MemberHistory[] } | string,
    options?: ParallelSimulationOptions,
  );
  /**
   * Adds members (`{ member, events }` objects, or NDJSON text), numbered in the order of the
   * `add` calls; resolves once a worker has taken the chunk (it waits while every worker
   * already holds `maxPending` chunks). Rejects if a worker failed.
   */
  add(members: MemberHistory[] | string): Promise<this>;
  /** Members replayed so far. */
  readonly progress: number;
  /**
   * The report once every chunk is replayed; the workers end and the simulation is used up.
   * Rejects with a `LoyaltyError` on an error answer, or an `Error` if a worker failed.
   */
  finish(): Promise<SimulateResponse>;
  /** Ends the workers without a report (pending `add`/`finish` calls reject). */
  terminate(): void;
}

/**
 * The CLI contract (`loyalty eval`): one NDJSON request line in, the exact compact response line
 * out (`{"error":…}` included); `null` for a blank line.
 */
export function evalLine(line: string): string | null;
