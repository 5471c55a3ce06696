// Which parts of the engine are live (not stubs). The package/browser/vector tests assert the
// real answers for a part once it is marked true here; while it is false they accept the stub's
// error answer (checking its shape), or the real answer if the engine already gives one.
//
// TODO(engine): flip each flag to true when that part lands; nothing else needs to change.
export const LIVE = {
  /** Engine::from_json and api::validate_json accept SPEC §1's policy. */
  policy: true,
  /** Engine::quote_json answers SPEC §2's worked example (total 1315000, earned_points 32). */
  quote: true,
  /** api::eval_line handles ops validate and quote. */
  eval: true,
  /** The request/response types derive tsify::Tsify (generated .d.ts interfaces). */
  types: true,
  /** The native CLI `loyalty eval` answers NDJSON on stdin. */
  cli: true,
};
