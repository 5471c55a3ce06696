//! The replay request (SPEC §3) as written, and its static check.
//!
//! An event is one flat object (`id`, `type`, `at` plus the fields of its type) rather than a
//! serde-tagged enum: a tagged enum buffers each event before reading it, which would lose the
//! JSON path of a fault inside a cart (`events[3].cart.lines[0].unit_price`). Which fields a
//! type allows is checked here instead, in document order, so a field that belongs to another
//! type (`reward_id` on a purchase) is an error rather than silently ignored.
//!
//! [`check`] does every check that does not depend on history (times, shapes, ids, carts,
//! known tiers and rewards) and turns the events into [`Checked`] ones. Faults that depend on
//! history (balances, refunds) are found while replaying.

use super::versions::Versions;
use super::view::{EventView, HistoryView, QuotedMemberView, RefundLineView};
use crate::error::{Error, ErrorCode, Quoted};
use crate::member::MemberStatus;
use crate::money::MAX_POINTS;
use crate::quote::{CheckedCart, MemberState, RedeemPoints};
use crate::time::Instant;
use serde::Deserialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// Most events one replay accepts (a member's whole history fits many times over).
pub const MAX_EVENTS: usize = 10_000;

/// `{ "member", "events", "as_of" }` — also the progress request (SPEC §4).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub member: LedgerMember,
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(type = "LedgerEvent[]")
    )]
    pub events: Vec<Event>,
    /// RFC 3339 instant: the replay stops here; later events are ignored.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub as_of: String,
}

impl ReplayRequest {
    /// Reads a replay (or progress) request's JSON text without `op` and the policies
    /// (`{"member", "events", "as_of"}`), as [`super::PolicyVersions::replay_json`] does; a
    /// fault is `invalid_request` at its path.
    pub fn from_json(text: &str) -> Result<ReplayRequest, Error> {
        crate::json::parse(text, ErrorCode::InvalidRequest)
    }
}

/// The member as they joined: the replay starts from this state.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LedgerMember {
    pub id: String,
    /// The status at `joined_at`.
    pub status: MemberStatus,
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub joined_at: String,
}

/// What happened to the member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Purchase,
    Refund,
    Adjust,
    OpeningBalance,
    SetTier,
    Status,
    RedeemReward,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Purchase => "purchase",
            EventType::Refund => "refund",
            EventType::Adjust => "adjust",
            EventType::OpeningBalance => "opening_balance",
            EventType::SetTier => "set_tier",
            EventType::Status => "status",
            EventType::RedeemReward => "redeem_reward",
        }
    }
}

/// One event: `id`, `type`, `at`, and only the fields of its type.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "full"),
    derive(Tsify),
    tsify(rename = "LedgerEvent")
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// RFC 3339 instant.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub at: String,
    /// purchase: the order (its `at`, if given, must be the event's instant).
    #[serde(default)]
    pub cart: Option<EventCart>,
    /// purchase: `0` (default), a number of points, or `"max"`.
    #[serde(default)]
    pub redeem_points: Option<RedeemPoints>,
    /// purchase: `false` marks imported history (counts for tiers, no lot, no redemption).
    #[serde(default)]
    pub earn: Option<bool>,
    /// refund: the `id` of the purchase event.
    #[serde(default)]
    pub order_id: Option<String>,
    /// refund: the units returned; absent = everything not yet refunded.
    #[serde(default)]
    pub lines: Option<Vec<RefundLine>>,
    /// adjust (±), opening_balance (≥ 0).
    #[serde(default)]
    pub points: Option<i64>,
    /// adjust: why (free text, kept for people).
    #[serde(default)]
    pub reason: Option<String>,
    /// adjust: whether the points count for the `points` tier metric.
    #[serde(default)]
    pub counts_for_tier: Option<bool>,
    /// opening_balance: when the migrated balance expires (null: as if earned at `at`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub expires_at: Option<String>,
    /// set_tier: a level id.
    #[serde(default)]
    pub tier: Option<String>,
    /// set_tier: no downgrade before this instant.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub locked_until: Option<String>,
    /// status: the new status.
    #[serde(default)]
    pub status: Option<MemberStatus>,
    /// redeem_reward: a reward id of the policy.
    #[serde(default)]
    pub reward_id: Option<String>,
    /// purchase: the digest of the policy version it was priced under (SPEC §3.1); absent: the
    /// version in force at `at`.
    #[serde(default)]
    pub policy_digest: Option<String>,
    /// purchase: the member snapshot the sale was booked with (SPEC §3.1): priced with it
    /// instead of the replayed state, its redemption taken even beyond the balance.
    #[serde(default)]
    pub quoted_member: Option<QuotedMember>,
}

/// `{ "status", "tier", "points" }`: what the till knew of the member when it quoted a sale
/// that was booked (SPEC §3.1). `tier` absent or null: the lowest level.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QuotedMember {
    pub status: MemberStatus,
    #[serde(default)]
    pub tier: Option<String>,
    /// Available points as the till saw them (may be negative).
    pub points: i64,
}

/// A purchase's cart: the quote cart without the need to repeat the event's id and instant.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventCart {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub at: Option<String>,
    #[serde(default)]
    pub store: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(type = "CartLine[]")
    )]
    pub lines: Vec<EventCartLine>,
}

/// A cart line, exactly as in a quote.
pub type EventCartLine = crate::quote::CartLine;

/// `{ "line_id", "quantity" }` of a refund.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundLine {
    pub line_id: String,
    pub quantity: i64,
}

/// An event after the static check: its instant parsed and its own fields resolved. Its
/// strings are borrowed from the history as written ([`super::view`]).
#[derive(Clone, Debug)]
pub struct Checked<'a> {
    /// Index in `events` (error paths, tie order).
    pub index: usize,
    pub id: &'a str,
    pub at: Instant,
    pub body: Body<'a>,
}

#[derive(Clone, Debug)]
pub enum Body<'a> {
    Purchase {
        /// The quote cart, checked (`id` = the event id, `at` = the event's `at`).
        cart: CheckedCart<'a>,
        redeem: RedeemPoints,
        earn: bool,
        /// The index of the policy version that prices it (named by `policy_digest`, else the
        /// one in force at `at`).
        version: usize,
        /// `quoted_member`: the snapshot it was booked with (None: the replayed state).
        quoted: Option<MemberState>,
    },
    Refund {
        order_id: &'a str,
        lines: Option<Vec<RefundLineView<'a>>>,
    },
    Adjust {
        points: i64,
        counts_for_tier: bool,
    },
    OpeningBalance {
        points: i64,
        expires_at: Option<Instant>,
    },
    SetTier {
        tier: usize,
        locked_until: Option<Instant>,
    },
    Status(MemberStatus),
    RedeemReward {
        reward: usize,
    },
}

impl Body<'_> {
    pub fn kind(&self) -> EventType {
        match self {
            Body::Purchase { .. } => EventType::Purchase,
            Body::Refund { .. } => EventType::Refund,
            Body::Adjust { .. } => EventType::Adjust,
            Body::OpeningBalance { .. } => EventType::OpeningBalance,
            Body::SetTier { .. } => EventType::SetTier,
            Body::Status(_) => EventType::Status,
            Body::RedeemReward { .. } => EventType::RedeemReward,
        }
    }
}

/// The request after the static check.
#[derive(Clone, Debug)]
pub struct CheckedRequest<'a> {
    pub member_id: &'a str,
    pub status: MemberStatus,
    pub joined_at: Instant,
    pub as_of: Instant,
    /// Every event, in input order.
    pub events: Vec<Checked<'a>>,
    /// The first static fault, by event index: replay stops there (SPEC §7.18 reports faults
    /// in document order; a history fault of an earlier-indexed event still wins).
    pub fault: Option<(usize, Error)>,
}

fn time(s: &str, path: &str) -> Result<Instant, Error> {
    Instant::parse_rfc3339(s)
        .map_err(|e| Error::invalid_request(path, format!("{}: {e}", Quoted(s))))
}

/// What the check does with a purchase's `policy_digest` and `quoted_member` (SPEC §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booked {
    /// A replay: the digest picks the pricing version (`unknown_policy` when none has it) and
    /// the snapshot prices the sale.
    Honour,
    /// A simulation (SPEC §5): every purchase is re-priced under the simulated policy with the
    /// replayed state; both fields are read (their shapes checked) and otherwise ignored.
    Ignore,
}

/// Checks the member, `as_of` and every event without replaying. Member and `as_of` faults are
/// returned at once; the first event fault is kept in [`CheckedRequest::fault`].
pub fn check<'a>(
    versions: &Versions,
    history: &HistoryView<'a>,
    as_of: &str,
) -> Result<CheckedRequest<'a>, Error> {
    check_parsed(versions, history, time(as_of, "as_of"), Booked::Honour)
}

/// [`check`] of a simulation: `as_of` already parsed (shared by every member), one policy,
/// booked fields ignored ([`Booked::Ignore`]).
pub fn check_until<'a>(
    versions: &Versions,
    history: &HistoryView<'a>,
    as_of: Instant,
) -> Result<CheckedRequest<'a>, Error> {
    check_parsed(versions, history, Ok(as_of), Booked::Ignore)
}

fn check_parsed<'a>(
    versions: &Versions,
    history: &HistoryView<'a>,
    as_of: Result<Instant, Error>,
    booked: Booked,
) -> Result<CheckedRequest<'a>, Error> {
    let joined_at = time(history.member.joined_at, "member.joined_at")?;
    let input = &history.events;
    if input.len() > MAX_EVENTS {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            "events",
            format!("a replay may have at most {MAX_EVENTS} events"),
        ));
    }
    let mut events = Vec::with_capacity(input.len());
    let mut fault = None;
    // Ids seen so far: a short history is scanned by fingerprint (a byte comparison only
    // when two fingerprints agree), a long one uses a set.
    let mut ids = crate::ids::IdIndex::default();
    let mut prints = [0u64; 32];
    for (i, e) in input.iter().enumerate() {
        let seen = if let Some(p) = prints.get_mut(i) {
            *p = fingerprint(e.id);
            let p = *p;
            prints
                .iter()
                .zip(input)
                .take(i)
                .any(|(&q, x)| q == p && x.id == e.id)
        } else {
            if i == 32 {
                ids.reserve(input.len());
                for (j, x) in input.iter().take(32).enumerate() {
                    ids.insert(x.id, j);
                }
            }
            !ids.insert(e.id, i)
        };
        match check_event(versions, booked, i, e, joined_at, seen) {
            Ok(c) => events.push(c),
            Err(err) => {
                fault = Some((i, err));
                break;
            }
        }
    }
    // `as_of` comes after `events` in the request: an event's fault is reported first.
    let as_of = match as_of {
        Ok(t) if t >= joined_at => t,
        Ok(_) => {
            return Err(fault.map(|(_, e)| e).unwrap_or_else(|| {
                Error::invalid_request("as_of", "as_of must not be before member.joined_at")
            }))
        }
        Err(e) => return Err(fault.map(|(_, f)| f).unwrap_or(e)),
    };
    Ok(CheckedRequest {
        member_id: history.member.id,
        status: history.member.status,
        joined_at,
        as_of,
        events,
        fault,
    })
}

/// A cheap summary of an id: equal ids have equal fingerprints.
fn fingerprint(id: &str) -> u64 {
    let b = id.as_bytes();
    let word = |s: &[u8]| s.iter().take(8).fold(0u64, |w, &c| (w << 8) | u64::from(c));
    let tail = b.get(b.len().saturating_sub(8)..).unwrap_or_default();
    word(b) ^ word(tail).rotate_left(29) ^ (b.len() as u64).rotate_right(8)
}

fn check_event<'a>(
    versions: &Versions,
    booked: Booked,
    i: usize,
    e: &EventView<'a>,
    joined_at: Instant,
    duplicate: bool,
) -> Result<Checked<'a>, Error> {
    // The path is written only for an error: this runs for every event.
    let p = EventPath(i);
    if duplicate {
        return Err(Error::new(
            ErrorCode::DuplicateEventId,
            format!("{p}.id"),
            format!("event id {} is used by an earlier event", Quoted(e.id)),
        ));
    }
    let at = Instant::parse_rfc3339(e.at).map_err(|err| {
        Error::invalid_request(format!("{p}.at"), format!("{}: {err}", Quoted(e.at)))
    })?;
    if at < joined_at {
        return Err(Error::invalid_request(
            format!("{p}.at"),
            "events before member.joined_at are not allowed",
        ));
    }
    // Fields of other types are an error, in the order they are declared: a bit per field in
    // that order, so the usual event (only its own fields) costs one mask test.
    // Currency, time zone and level ids are every version's (SPEC §3.1).
    let policy = versions.first().policy;
    use EventType as T;
    let allowed: u16 = match e.kind {
        T::Purchase => 0b111 | (1 << 13) | (1 << 14),
        T::Refund => 0b11 << 3,
        T::Adjust => (1 << 5) | (1 << 6) | (1 << 7),
        T::OpeningBalance => (1 << 5) | (1 << 8),
        T::SetTier => (1 << 9) | (1 << 10),
        T::Status => 1 << 11,
        T::RedeemReward => 1 << 12,
    };
    let present = [
        e.cart.is_some(),
        e.redeem_points.is_some(),
        e.earn.is_some(),
        e.order_id.is_some(),
        e.lines.is_some(),
        e.points.is_some(),
        e.reason.is_some(),
        e.counts_for_tier.is_some(),
        e.expires_at.is_some(),
        e.tier.is_some(),
        e.locked_until.is_some(),
        e.status.is_some(),
        e.reward_id.is_some(),
        e.policy_digest.is_some(),
        e.quoted_member.is_some(),
    ]
    .iter()
    .enumerate()
    .fold(0u16, |m, (i, &is)| m | (u16::from(is) << i));
    let stray = present & !allowed;
    if stray != 0 {
        const FIELDS: [&str; 15] = [
            "cart",
            "redeem_points",
            "earn",
            "order_id",
            "lines",
            "points",
            "reason",
            "counts_for_tier",
            "expires_at",
            "tier",
            "locked_until",
            "status",
            "reward_id",
            "policy_digest",
            "quoted_member",
        ];
        let name = FIELDS
            .get(stray.trailing_zeros() as usize)
            .copied()
            .unwrap_or_default();
        return Err(Error::invalid_request(
            format!("{p}.{name}"),
            format!("a {} event has no field {name}", e.kind.as_str()),
        ));
    }
    let missing = |name: &str| {
        Error::invalid_request(
            format!("{p}.{name}"),
            format!("a {} event needs {name}", e.kind.as_str()),
        )
    };
    let points_in_range = |v: i64, min: i64| -> Result<i64, Error> {
        if !(min.max(-MAX_POINTS)..=MAX_POINTS).contains(&v) {
            return Err(Error::invalid_request(
                format!("{p}.points"),
                format!("points must be an integer from {min} to {MAX_POINTS}"),
            ));
        }
        Ok(v)
    };
    let body = match e.kind {
        T::Purchase => {
            let c = e.cart.as_ref().ok_or_else(|| missing("cart"))?;
            if let Some(cat) = c.at {
                let cart_at = Instant::parse_rfc3339(cat).map_err(|err| {
                    Error::invalid_request(
                        format!("{p}.cart.at"),
                        format!("{}: {err}", Quoted(cat)),
                    )
                })?;
                if cart_at != at {
                    return Err(Error::invalid_request(
                        format!("{p}.cart.at"),
                        "cart.at, when given, must be the event's instant",
                    ));
                }
            }
            // The cart's `at` is the event's, parsed above.
            let (lines, subtotal) = crate::quote::check_lines(&c.lines, &policy.currency, "cart")
                .map_err(|err| err.within(&p.to_string()))?;
            let (version, quoted) = match booked {
                Booked::Ignore => (0, None),
                Booked::Honour => {
                    let version = match e.policy_digest {
                        None => versions.index_at(at),
                        Some(d) => versions.by_digest(d).ok_or_else(|| {
                            Error::new(
                                ErrorCode::UnknownPolicy,
                                format!("{p}.policy_digest"),
                                format!(
                                    "no policy version of this request has digest {}",
                                    Quoted(d)
                                ),
                            )
                        })?,
                    };
                    let quoted = match &e.quoted_member {
                        None => None,
                        Some(q) => Some(quoted_state(policy, q, p)?),
                    };
                    (version, quoted)
                }
            };
            Body::Purchase {
                cart: CheckedCart {
                    id: e.id,
                    store: c.store,
                    channel: c.channel,
                    at,
                    lines,
                    subtotal,
                },
                redeem: e.redeem_points.unwrap_or_default(),
                earn: e.earn.unwrap_or(true),
                version,
                quoted,
            }
        }
        T::Refund => {
            let order_id = e.order_id.ok_or_else(|| missing("order_id"))?;
            if let Some(lines) = &e.lines {
                for (j, l) in lines.iter().enumerate() {
                    if !(1..=MAX_POINTS).contains(&l.quantity) {
                        return Err(Error::invalid_request(
                            format!("{p}.lines[{j}].quantity"),
                            "quantity must be an integer of at least 1",
                        ));
                    }
                }
            }
            Body::Refund {
                order_id,
                lines: e.lines.clone(),
            }
        }
        T::Adjust => Body::Adjust {
            points: points_in_range(e.points.ok_or_else(|| missing("points"))?, -MAX_POINTS)?,
            counts_for_tier: e.counts_for_tier.unwrap_or(false),
        },
        T::OpeningBalance => {
            let points = points_in_range(e.points.ok_or_else(|| missing("points"))?, 0)?;
            let expires_at = match e.expires_at {
                None => None,
                Some(s) => {
                    let x = Instant::parse_rfc3339(s).map_err(|err| {
                        Error::invalid_request(
                            format!("{p}.expires_at"),
                            format!("{}: {err}", Quoted(s)),
                        )
                    })?;
                    if x <= at {
                        return Err(Error::invalid_request(
                            format!("{p}.expires_at"),
                            "expires_at must be after the event's at",
                        ));
                    }
                    Some(x)
                }
            };
            Body::OpeningBalance { points, expires_at }
        }
        T::SetTier => {
            let t = e.tier.ok_or_else(|| missing("tier"))?;
            let tier = policy.level_index(t).ok_or_else(|| {
                Error::new(
                    ErrorCode::UnknownTier,
                    format!("{p}.tier"),
                    format!("unknown tier {}", Quoted(t)),
                )
            })?;
            let locked_until = match e.locked_until {
                None => None,
                Some(s) => Some(Instant::parse_rfc3339(s).map_err(|err| {
                    Error::invalid_request(
                        format!("{p}.locked_until"),
                        format!("{}: {err}", Quoted(s)),
                    )
                })?),
            };
            Body::SetTier { tier, locked_until }
        }
        T::Status => Body::Status(e.status.ok_or_else(|| missing("status"))?),
        T::RedeemReward => {
            let r = e.reward_id.ok_or_else(|| missing("reward_id"))?;
            // The rewards of the version in force at the event.
            let reward = versions
                .get(versions.index_at(at))
                .policy
                .rewards
                .iter()
                .position(|x| x.id == r)
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::UnknownReward,
                        format!("{p}.reward_id"),
                        format!("unknown reward {}", Quoted(r)),
                    )
                })?;
            Body::RedeemReward { reward }
        }
    };
    Ok(Checked {
        index: i,
        id: e.id,
        at,
        body,
    })
}

/// A `quoted_member` as the member state a quote starts from: its tier a level id of the
/// policies (`unknown_tier` otherwise), its points within the points range.
fn quoted_state(
    policy: &crate::policy::Policy,
    q: &QuotedMemberView,
    p: EventPath,
) -> Result<MemberState, Error> {
    let tier = match q.tier {
        None => 0,
        Some(t) => policy.level_index(t).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownTier,
                format!("{p}.quoted_member.tier"),
                format!("unknown tier {}", Quoted(t)),
            )
        })?,
    };
    if !(-MAX_POINTS..=MAX_POINTS).contains(&q.points) {
        return Err(Error::invalid_request(
            format!("{p}.quoted_member.points"),
            format!(
                "points must be an integer from {} to {MAX_POINTS}",
                -MAX_POINTS
            ),
        ));
    }
    Ok(MemberState {
        status: q.status,
        tier,
        points: q.points,
    })
}

/// `events[i]`, written only when an error needs it.
#[derive(Clone, Copy)]
struct EventPath(usize);

impl std::fmt::Display for EventPath {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "events[{}]", self.0)
    }
}
