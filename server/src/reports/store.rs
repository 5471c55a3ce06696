//! The report tables (migration 0003): a member's facts (the engine's `report::member_facts`
//! of its stored events) and the sums by day, kept equal to them.
//!
//! - [`refresh`]: in the transaction that appends a member's event (or replays it because time
//!   changed its figures), the member's facts are recomputed, the day sums adjusted by the
//!   difference with the facts stored before (a late event re-opens exactly the days it
//!   touches), and the member's rows replaced.
//! - [`rebuild`]: everything from the events (a migrated database, the loader).
//! - [`compare`]: what `loyalty serve check` runs — recompute from the events, compare with
//!   every stored row.

use crate::ledger;
use crate::storage::batch::{Batch, V};
use crate::storage::events::Stored;
use crate::storage::members::Member;
use crate::storage::policies::Version;
use crate::storage::writer::{Statements, Write};
use crate::storage::Tx;
use loyalty_engine::report::{Flow, MemberFacts, Point};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// Sums of the flow columns, in the rpt_day column order.
pub const DAY_COLS: [&str; 13] = [
    "orders",
    "refunds",
    "redemptions",
    "gross",
    "discount",
    "redeemed_amount",
    "paid",
    "redeemed",
    "earned",
    "clawed_back",
    "adjusted",
    "expired",
    "opening",
];

/// (day, store, channel, card_type, tier, status)
pub type DayKey = (String, String, String, String, String, String);
/// (day, card_type, tier, status)
pub type BalKey = (String, String, String, String);
/// (day, from, to, card_type, status)
pub type MoveKey = (String, String, String, String, String);

/// A member's (or many members') contribution to the sums.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub day: BTreeMap<DayKey, [i64; 13]>,
    pub balance: BTreeMap<BalKey, [i64; 3]>,
    pub moves: BTreeMap<MoveKey, i64>,
    /// Purchases by pairs of days (`rpt_cells`, the frequency and customers reports).
    pub cells: super::cells::Cells,
}

fn add<const N: usize>(a: &mut [i64; N], b: &[i64; N], sign: i64) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += sign * y;
    }
}

impl Sums {
    /// Adds (sign 1) or takes away (sign −1) one member's facts.
    pub fn add_member(
        &mut self,
        flows: &[Flow],
        points: &[Point],
        card_type: &str,
        cards: &[(String, i64)],
        sign: i64,
    ) {
        self.add_days(flows, points, card_type, sign, (0, 0));
        let member = super::cells::Member {
            flows,
            points,
            card: card_type,
            cards,
        };
        super::cells::add_member(&mut self.cells, member, sign);
    }

    /// Adds the difference `new` − `old` of one member's facts, without counting what both
    /// begin with: a flow adds to its own day, a state to its day and the one before it (and
    /// the cells: `cells::add_change`). Returns how many (flows, states) both begin with (none
    /// when the card type changed, which is in every row).
    pub fn add_change(
        &mut self,
        old: super::cells::Member,
        new: super::cells::Member,
    ) -> (usize, usize) {
        let from = if old.card == new.card {
            (
                common_prefix(old.flows, new.flows),
                common_prefix(old.points, new.points),
            )
        } else {
            (0, 0)
        };
        self.add_days(new.flows, new.points, new.card, 1, from);
        self.add_days(old.flows, old.points, old.card, -1, from);
        super::cells::add_change(&mut self.cells, old, new);
        from
    }

    /// The day, balance and move sums of one member's facts: of its flows and states from
    /// `from` = (flow, state) on.
    fn add_days(
        &mut self,
        flows: &[Flow],
        points: &[Point],
        card_type: &str,
        sign: i64,
        from: (usize, usize),
    ) {
        for f in flows.iter().skip(from.0) {
            let v = [
                f.orders,
                f.refunds,
                i64::from(f.orders > 0 && f.redeemed > 0),
                f.gross,
                f.discount,
                f.redeemed_amount,
                f.paid,
                f.redeemed,
                f.earned,
                f.clawed_back,
                f.adjusted,
                f.expired,
                f.opening,
            ];
            if v.iter().all(|x| *x == 0) {
                continue;
            }
            let k = (
                f.day.clone(),
                f.store.clone().unwrap_or_default(),
                f.channel.clone().unwrap_or_default(),
                card_type.to_string(),
                f.tier.clone(),
                f.status.to_string(),
            );
            add(self.day.entry(k).or_insert([0; 13]), &v, sign);
        }
        let mut prev: Option<&Point> = from.1.checked_sub(1).and_then(|i| points.get(i));
        for p in points.iter().skip(from.1) {
            if let Some(q) = prev {
                let k = (
                    p.day.clone(),
                    card_type.to_string(),
                    q.tier.clone(),
                    q.status.to_string(),
                );
                add(
                    self.balance.entry(k).or_insert([0; 3]),
                    &[1, q.available, q.pending],
                    -sign,
                );
                if q.tier != p.tier {
                    let k = (
                        p.day.clone(),
                        q.tier.clone(),
                        p.tier.clone(),
                        card_type.to_string(),
                        p.status.to_string(),
                    );
                    *self.moves.entry(k).or_insert(0) += sign;
                }
            }
            let k = (
                p.day.clone(),
                card_type.to_string(),
                p.tier.clone(),
                p.status.to_string(),
            );
            add(
                self.balance.entry(k).or_insert([0; 3]),
                &[1, p.available, p.pending],
                sign,
            );
            prev = Some(p);
        }
    }

    /// Adds another sum (sign 1) or takes it away (−1).
    pub fn merge(&mut self, o: &Sums, sign: i64) {
        for (k, v) in &o.day {
            add(self.day.entry(k.clone()).or_insert([0; 13]), v, sign);
        }
        for (k, v) in &o.balance {
            add(self.balance.entry(k.clone()).or_insert([0; 3]), v, sign);
        }
        for (k, v) in &o.moves {
            *self.moves.entry(k.clone()).or_insert(0) += sign * v;
        }
        for (k, v) in &o.cells {
            add(self.cells.entry(k.clone()).or_insert([0; 14]), v, sign);
        }
    }

    /// No key at all (nothing to write).
    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
            && self.balance.is_empty()
            && self.moves.is_empty()
            && self.cells.is_empty()
    }

    /// Drops the keys whose sums are all zero (what a comparison ignores).
    pub fn prune(&mut self) {
        self.day.retain(|_, v| v.iter().any(|x| *x != 0));
        self.balance.retain(|_, v| v.iter().any(|x| *x != 0));
        self.moves.retain(|_, v| *v != 0);
        self.cells.retain(|_, v| v.iter().any(|x| *x != 0));
    }
}

/// The cards bound to a member as (type, local day number of issue), by issue.
pub type CardDays = Vec<(String, i64)>;

/// The member's cards ([`CardDays`]) and its card type: its first card's (by issue), "" without
/// a card.
pub async fn cards(
    c: &mut AnyConnection,
    versions: &[Version],
    member_id: &str,
) -> Result<(String, CardDays), String> {
    let rows = sqlx::query(
        "SELECT type, issued_at FROM cards WHERE member_id = $1 ORDER BY issued_at, number",
    )
    .bind(member_id)
    .fetch_all(c)
    .await
    .map_err(|e| e.to_string())?;
    card_days(versions, rows.iter().map(|r| (r.get(0), r.get(1))))
}

/// Cards as (type, issue instant), by issue, as [`cards`] gives them: the first one's type and
/// each one's local day of issue.
fn card_days(
    versions: &[Version],
    cards: impl Iterator<Item = (String, i64)>,
) -> Result<(String, CardDays), String> {
    let list = cards
        .map(|(t, issued_at)| Ok((t, ledger::local_day_number(versions, issued_at)?)))
        .collect::<Result<CardDays, String>>()?;
    let first = list.first().map(|c| c.0.clone()).unwrap_or_default();
    Ok((first, list))
}

/// The cards a member's stored rows were counted with (none: never computed).
pub async fn stored_cards(c: &mut AnyConnection, member_id: &str) -> Result<CardDays, String> {
    let r = sqlx::query("SELECT cards FROM rpt_members WHERE member_id = $1")
        .bind(member_id)
        .fetch_optional(c)
        .await
        .map_err(|e| e.to_string())?;
    counted_cards(r.map(|r| r.get(0)), member_id)
}

/// `rpt_members.cards` read back (none: never computed).
fn counted_cards(text: Option<String>, member_id: &str) -> Result<CardDays, String> {
    match text {
        None => Ok(vec![]),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| format!("rpt_members.cards of {member_id}: {e}")),
    }
}

/// [`CardDays`] as stored in `rpt_members.cards`.
pub fn cards_json(cards: &[(String, i64)]) -> String {
    serde_json::to_string(cards).unwrap_or_else(|_| "[]".into())
}

/// The instant a member's facts are computed as of: its cache's (the figures every other
/// answer shows), else its latest event or joining.
pub fn as_of_for(cached_at: Option<i64>, member: &Member, events: &[Stored]) -> i64 {
    cached_at.unwrap_or_else(|| {
        events
            .iter()
            .map(|e| e.at)
            .max()
            .unwrap_or(member.joined_at)
            .max(member.joined_at)
    })
}

/// The engine's report facts of a member's stored events as of `as_of`.
pub fn facts(
    versions: &[Version],
    member: &Member,
    events: &[Stored],
    as_of: i64,
) -> Result<MemberFacts, String> {
    ledger::facts(versions, member, events, as_of).map_err(|e| facts_error(&member.id, &e))
}

/// [`facts`]' error text for the engine's error `e` on member `member_id`.
pub fn facts_error(member_id: &str, e: &loyalty_engine::Error) -> String {
    format!(
        "report facts of {member_id} fail: {} at {}: {}",
        e.code.as_str(),
        e.path,
        e.message
    )
}

/// The facts stored for a member, with the card type they were summed under: its `rpt_flows`
/// and `rpt_points` rows read as one row (`storage::joined`: a booking read ≈ 50 rows here,
/// each a hand-off between SQLite's thread and the async task), or row by row when a field
/// held a separator.
pub async fn stored(
    c: &mut AnyConnection,
    member_id: &str,
) -> Result<(MemberFacts, String), sqlx::Error> {
    let (flows, points) = stored_fields();
    let row = crate::storage::joined::member_query(
        format!(
            "SELECT (SELECT {flows} FROM rpt_flows WHERE member_id = $1), \
             (SELECT {points} FROM rpt_points WHERE member_id = $1)"
        ),
        member_id,
    )
    .fetch_one(&mut *c)
    .await?;
    let (f, p): (Option<String>, Option<String>) = (row.get(0), row.get(1));
    match split_stored(
        f.as_deref().unwrap_or_default(),
        p.as_deref().unwrap_or_default(),
    ) {
        Some(out) => Ok(out),
        None => stored_rows(c, member_id).await,
    }
}

/// [`stored`]'s aggregates of the `rpt_flows` and `rpt_points` rows ([`FLOW_COLS`],
/// [`POINT_COLS`], without the member's id), with `$2` / `$3` the separators.
fn stored_fields() -> (String, String) {
    use crate::storage::joined::{agg, int, nullable};
    let fields = |cols: &[&str]| -> String {
        let f: Vec<String> = cols[1..]
            .iter()
            .map(|&c| match c {
                "event_id" | "order_id" => nullable(c),
                "kind" | "day" | "store" | "channel" | "card_type" | "tier" | "status" => {
                    c.to_string()
                }
                _ => int(c),
            })
            .collect();
        agg(
            &f.iter().map(String::as_str).collect::<Vec<_>>(),
            "$2",
            "$3",
        )
    };
    (fields(FLOW_COLS), fields(POINT_COLS))
}

/// A member's stored report rows and cards as [`member_now_and_stored`] reads them: its flows,
/// its points, the cards they were counted with, its cards now — four texts of one row.
pub struct StoredTexts([Option<String>; 4]);

impl StoredTexts {
    /// The four columns (`$1` the member, `$2` / `$3` the separators of `storage::joined`).
    pub fn columns() -> Vec<String> {
        let (flows, points) = stored_fields();
        vec![
            format!("(SELECT {flows} FROM rpt_flows WHERE member_id = $1)"),
            format!("(SELECT {points} FROM rpt_points WHERE member_id = $1)"),
            "(SELECT cards FROM rpt_members WHERE member_id = $1)".to_string(),
            "(SELECT string_agg(type || $2 || CAST(issued_at AS TEXT), $3 \
             ORDER BY issued_at, number) FROM cards WHERE member_id = $1)"
                .to_string(),
        ]
    }

    /// The texts of [`StoredTexts::columns`], in their order.
    pub fn of(mut v: Vec<Option<String>>) -> StoredTexts {
        v.resize(4, None);
        let mut it = v.into_iter();
        StoredTexts(std::array::from_fn(|_| it.next().flatten()))
    }
}

/// What [`plan`] compares: the member's cards and card type now ([`cards`]), its stored facts
/// and their card type ([`stored`]) and the cards they were counted with ([`stored_cards`]) —
/// read in one statement (one hand-off to SQLite's thread instead of three), or one by one when
/// a field holds a separator.
async fn member_now_and_stored(
    c: &mut AnyConnection,
    versions: &[Version],
    member_id: &str,
    read: Option<StoredTexts>,
) -> Result<((String, CardDays), (MemberFacts, String), CardDays), String> {
    let e = |e: sqlx::Error| e.to_string();
    let texts = match read {
        Some(t) => t,
        None => {
            let sql = format!("SELECT {}", StoredTexts::columns().join(", "));
            let row = crate::storage::joined::member_query(sql, member_id)
                .fetch_one(&mut *c)
                .await
                .map_err(e)?;
            StoredTexts::of((0..4).map(|i| row.get(i)).collect())
        }
    };
    let [f, p, counted, now] = texts.0;
    let read_now = || -> Option<CardDays> {
        let Some(now) = now.as_deref() else {
            return Some(Vec::new());
        };
        crate::storage::joined::split(now, 2)?
            .into_iter()
            .map(|r| Some((r[0].to_string(), r[1].parse::<i64>().ok()?)))
            .collect()
    };
    let (Some(stored_facts), Some(now)) = (
        split_stored(
            f.as_deref().unwrap_or_default(),
            p.as_deref().unwrap_or_default(),
        ),
        read_now(),
    ) else {
        let now = cards(c, versions, member_id).await?;
        let stored_facts = stored(c, member_id).await.map_err(e)?;
        return Ok((now, stored_facts, stored_cards(c, member_id).await?));
    };
    Ok((
        card_days(versions, now.into_iter())?,
        stored_facts,
        counted_cards(counted, member_id)?,
    ))
}

/// [`stored`]'s joined texts read back (rows in `n` order); None when a field held a separator.
fn split_stored(flows: &str, points: &str) -> Option<(MemberFacts, String)> {
    use crate::storage::joined::{opt, split};
    let n = |s: &str| s.parse::<i64>().ok();
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut f: Vec<(i64, Flow, &str)> = Vec::new();
    if !flows.is_empty() {
        for r in split(flows, 23)? {
            // FLOW_COLS' order: n, at, day, kind, event_id, order_id, store, channel,
            // card_type, tier, status, then the sums.
            let flow = Flow {
                kind: static_kind(r[3]),
                event_id: opt(r[4]),
                at_ms: n(r[1])?,
                day: r[2].to_string(),
                order_id: opt(r[5]),
                store: text(r[6]),
                channel: text(r[7]),
                tier: r[9].to_string(),
                status: static_status(r[10]),
                orders: n(r[11])?,
                refunds: n(r[12])?,
                gross: n(r[13])?,
                discount: n(r[14])?,
                redeemed_amount: n(r[15])?,
                paid: n(r[16])?,
                redeemed: n(r[17])?,
                earned: n(r[18])?,
                clawed_back: n(r[19])?,
                adjusted: n(r[20])?,
                expired: n(r[21])?,
                opening: n(r[22])?,
            };
            f.push((n(r[0])?, flow, r[8]));
        }
    }
    let mut p: Vec<(i64, Point, &str)> = Vec::new();
    if !points.is_empty() {
        // POINT_COLS' order: n, at, day, available, pending, tier, status, card_type.
        for r in split(points, 8)? {
            let point = Point {
                at_ms: n(r[1])?,
                day: r[2].to_string(),
                available: n(r[3])?,
                pending: n(r[4])?,
                tier: r[5].to_string(),
                status: static_status(r[6]),
            };
            p.push((n(r[0])?, point, r[7]));
        }
    }
    f.sort_by_key(|(n, ..)| *n);
    p.sort_by_key(|(n, ..)| *n);
    // The card type of the last row, points after flows (as the row-by-row reading keeps it).
    let card = p
        .last()
        .map(|x| x.2)
        .or_else(|| f.last().map(|x| x.2))
        .unwrap_or_default()
        .to_string();
    Some((
        MemberFacts {
            flows: f.into_iter().map(|(_, x, _)| x).collect(),
            points: p.into_iter().map(|(_, x, _)| x).collect(),
        },
        card,
    ))
}

/// [`stored`] a row at a time.
async fn stored_rows(
    c: &mut AnyConnection,
    member_id: &str,
) -> Result<(MemberFacts, String), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, event_id, at, day, order_id, store, channel, tier, status, orders, refunds, \
         gross, discount, redeemed_amount, paid, redeemed, earned, clawed_back, adjusted, expired, \
         opening, card_type FROM rpt_flows WHERE member_id = $1 ORDER BY n",
    )
    .bind(member_id)
    .fetch_all(&mut *c)
    .await?;
    let mut card = String::new();
    let mut flows = Vec::with_capacity(rows.len());
    for r in &rows {
        card = r.get(21);
        let opt = |s: String| if s.is_empty() { None } else { Some(s) };
        flows.push(Flow {
            kind: static_kind(&r.get::<String, _>(0)),
            event_id: r.get(1),
            at_ms: r.get(2),
            day: r.get(3),
            order_id: r.get(4),
            store: opt(r.get(5)),
            channel: opt(r.get(6)),
            tier: r.get(7),
            status: static_status(&r.get::<String, _>(8)),
            orders: r.get(9),
            refunds: r.get(10),
            gross: r.get(11),
            discount: r.get(12),
            redeemed_amount: r.get(13),
            paid: r.get(14),
            redeemed: r.get(15),
            earned: r.get(16),
            clawed_back: r.get(17),
            adjusted: r.get(18),
            expired: r.get(19),
            opening: r.get(20),
        });
    }
    let rows = sqlx::query(
        "SELECT at, day, available, pending, tier, status, card_type FROM rpt_points \
         WHERE member_id = $1 ORDER BY n",
    )
    .bind(member_id)
    .fetch_all(&mut *c)
    .await?;
    let mut points = Vec::with_capacity(rows.len());
    for r in &rows {
        card = r.get(6);
        points.push(Point {
            at_ms: r.get(0),
            day: r.get(1),
            available: r.get(2),
            pending: r.get(3),
            tier: r.get(4),
            status: static_status(&r.get::<String, _>(5)),
        });
    }
    Ok((MemberFacts { flows, points }, card))
}

fn static_kind(s: &str) -> &'static str {
    match s {
        "purchase" => "purchase",
        "refund" => "refund",
        "adjust" => "adjust",
        "opening_balance" => "opening_balance",
        "set_tier" => "set_tier",
        "status" => "status",
        "redeem_reward" => "redeem_reward",
        "expire" => "expire",
        _ => "other",
    }
}

fn static_status(s: &str) -> &'static str {
    match s {
        "active" => "active",
        "inactive" => "inactive",
        "excluded" => "excluded",
        "unassigned" => "unassigned",
        _ => "other",
    }
}

/// The columns of `rpt_flows` and `rpt_points`, in the order [`Rows`] writes them.
pub const FLOW_COLS: &[&str] = &[
    "member_id",
    "n",
    "at",
    "day",
    "kind",
    "event_id",
    "order_id",
    "store",
    "channel",
    "card_type",
    "tier",
    "status",
    "orders",
    "refunds",
    "gross",
    "discount",
    "redeemed_amount",
    "paid",
    "redeemed",
    "earned",
    "clawed_back",
    "adjusted",
    "expired",
    "opening",
];
pub const POINT_COLS: &[&str] = &[
    "member_id",
    "n",
    "at",
    "day",
    "available",
    "pending",
    "tier",
    "status",
    "card_type",
];

/// Report rows of one member or of many (the import's and the loader's batches), written as
/// multi-row INSERTs.
pub struct Rows {
    flows: Batch,
    points: Batch,
    as_ofs: Batch,
}

impl Default for Rows {
    fn default() -> Self {
        Rows {
            flows: Batch::new("rpt_flows", FLOW_COLS),
            points: Batch::new("rpt_points", POINT_COLS),
            as_ofs: Batch::new("rpt_members", &["member_id", "as_of", "card_type", "cards"]),
        }
    }
}

impl Rows {
    /// A member's rows from flow `from_flow` and point `from_point` on (the rows before are in
    /// place).
    pub fn push(
        &mut self,
        member_id: &str,
        f: &MemberFacts,
        card_type: &str,
        from_flow: usize,
        from_point: usize,
    ) {
        for (n, r) in f.flows.iter().enumerate().skip(from_flow) {
            self.flows.push(vec![
                V::S(member_id.to_string()),
                V::I(n as i64),
                V::I(r.at_ms),
                V::S(r.day.clone()),
                V::S(r.kind.into()),
                V::O(r.event_id.clone()),
                V::O(r.order_id.clone()),
                V::S(r.store.clone().unwrap_or_default()),
                V::S(r.channel.clone().unwrap_or_default()),
                V::S(card_type.into()),
                V::S(r.tier.clone()),
                V::S(r.status.into()),
                V::I(r.orders),
                V::I(r.refunds),
                V::I(r.gross),
                V::I(r.discount),
                V::I(r.redeemed_amount),
                V::I(r.paid),
                V::I(r.redeemed),
                V::I(r.earned),
                V::I(r.clawed_back),
                V::I(r.adjusted),
                V::I(r.expired),
                V::I(r.opening),
            ]);
        }
        for (n, p) in f.points.iter().enumerate().skip(from_point) {
            self.points.push(vec![
                V::S(member_id.to_string()),
                V::I(n as i64),
                V::I(p.at_ms),
                V::S(p.day.clone()),
                V::I(p.available),
                V::I(p.pending),
                V::S(p.tier.clone()),
                V::S(p.status.into()),
                V::S(card_type.into()),
            ]);
        }
    }

    /// The instant the facts of a member that has no `rpt_members` row yet are as of, and the
    /// cards its `act` cells were counted with.
    pub fn push_as_of(
        &mut self,
        member_id: &str,
        as_of: i64,
        card_type: &str,
        cards: &[(String, i64)],
    ) {
        self.as_ofs.push(vec![
            V::S(member_id.to_string()),
            V::I(as_of),
            V::S(card_type.into()),
            V::S(cards_json(cards)),
        ]);
    }

    pub async fn flush(&mut self, c: &mut impl Write) -> Result<(), sqlx::Error> {
        self.flows.flush(c).await?;
        self.points.flush(c).await?;
        self.as_ofs.flush(c).await
    }
}

/// Writes a member's report rows from flow `from_flow` and point `from_point` on (the rows before
/// are in place).
pub async fn insert_rows(
    c: &mut impl Write,
    member_id: &str,
    f: &MemberFacts,
    card_type: &str,
    from_flow: usize,
    from_point: usize,
) -> Result<(), sqlx::Error> {
    let mut rows = Rows::default();
    rows.push(member_id, f, card_type, from_flow, from_point);
    rows.flush(c).await
}

/// How many leading items two lists share.
fn common_prefix<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Adds a difference to the day sums in `shard` (migration 0007; multi-row upserts, one
/// statement per table for a member's difference; keys whose difference is zero are not
/// touched).
pub async fn apply(c: &mut impl Write, d: &Sums, shard: i64) -> Result<(), sqlx::Error> {
    let s = |x: &String| V::S(x.clone());
    let mut day = Batch::sums(
        "rpt_day",
        &[
            "day",
            "store",
            "channel",
            "card_type",
            "tier",
            "status",
            "shard",
        ],
        &DAY_COLS,
    );
    for (k, v) in d.day.iter().filter(|(_, v)| v.iter().any(|x| *x != 0)) {
        let mut row = vec![
            s(&k.0),
            s(&k.1),
            s(&k.2),
            s(&k.3),
            s(&k.4),
            s(&k.5),
            V::I(shard),
        ];
        row.extend(v.iter().map(|x| V::I(*x)));
        day.push(row);
    }
    day.flush(c).await?;
    let mut balance = Batch::sums(
        "rpt_balance",
        &["day", "card_type", "tier", "status", "shard"],
        &["members", "available", "pending"],
    );
    for (k, v) in d.balance.iter().filter(|(_, v)| v.iter().any(|x| *x != 0)) {
        let mut row = vec![s(&k.0), s(&k.1), s(&k.2), s(&k.3), V::I(shard)];
        row.extend(v.iter().map(|x| V::I(*x)));
        balance.push(row);
    }
    balance.flush(c).await?;
    let mut moves = Batch::sums(
        "rpt_moves",
        &[
            "day",
            "from_tier",
            "to_tier",
            "card_type",
            "status",
            "shard",
        ],
        &["members"],
    );
    for (k, v) in d.moves.iter().filter(|(_, v)| **v != 0) {
        let row = vec![
            s(&k.0),
            s(&k.1),
            s(&k.2),
            s(&k.3),
            s(&k.4),
            V::I(shard),
            V::I(*v),
        ];
        moves.push(row);
    }
    moves.flush(c).await?;
    super::cells::apply(c, &d.cells, shard).await
}

/// Recomputes one member's facts as of `as_of` and brings every report table up to date with
/// them, in the caller's transaction (the one that stored the event, or the refresh's): the
/// member's rows now, the day sums when the transaction commits (`Tx::sums`).
pub async fn refresh(
    c: &mut Tx,
    versions: &[Version],
    member: &Member,
    events: &[Stored],
    as_of: i64,
) -> Result<(), String> {
    let new = facts(versions, member, events, as_of)?;
    let change = plan(c, versions, &member.id, new, as_of, None).await?;
    write(c, change).await
}

/// What [`refresh`] writes for one member, read and computed before it writes anything (a
/// booking that keeps its writes to send them together reads first: `Tx::defer_writes`).
pub struct Change {
    member_id: String,
    as_of: i64,
    card: String,
    cards: CardDays,
    /// The rows from flow `.1` and point `.2` on, with the sums' difference; None: unchanged.
    rows: Option<(MemberFacts, usize, usize, Sums)>,
    old_flows: usize,
    old_points: usize,
}

/// [`refresh`]'s reads and computing: the member's stored facts and cards against `new`, its
/// facts as of `as_of` ([`facts`]). `read`: the stored rows as read earlier in this
/// transaction, with nothing written to them since (`ledger::load_for_booking`); else
/// they are read here.
pub async fn plan(
    c: &mut Tx,
    versions: &[Version],
    member_id: &str,
    new: MemberFacts,
    as_of: i64,
    read: Option<StoredTexts>,
) -> Result<Change, String> {
    let ((card, cards), (old, old_card), old_cards) =
        member_now_and_stored(c, versions, member_id, read).await?;
    let mut change = Change {
        member_id: member_id.to_string(),
        as_of,
        card,
        cards,
        rows: None,
        old_flows: old.flows.len(),
        old_points: old.points.len(),
    };
    if old == new && old_card == change.card && old_cards == change.cards {
        return Ok(change);
    }
    let mut d = Sums::default();
    let old_m = super::cells::Member {
        flows: &old.flows,
        points: &old.points,
        card: &old_card,
        cards: &old_cards,
    };
    let new_m = super::cells::Member {
        flows: &new.flows,
        points: &new.points,
        card: &change.card,
        cards: &change.cards,
    };
    // Only the rows after the common beginning are rewritten: a new event usually appends rows
    // and leaves the history before it as it was (a new card type changes them all).
    let (kf, kp) = d.add_change(old_m, new_m);
    change.rows = Some((new, kf, kp, d));
    Ok(change)
}

/// [`refresh`]'s writes: the member's rows and `as_of`, and its sums' difference to the
/// transaction's (written at commit).
pub async fn write(c: &mut Tx, change: Change) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let Change {
        member_id,
        as_of,
        card,
        cards,
        rows,
        old_flows,
        old_points,
    } = change;
    if let Some((new, kf, kp, d)) = rows {
        c.sums.merge(&d, 1);
        for (t, k, len) in [("rpt_flows", kf, old_flows), ("rpt_points", kp, old_points)] {
            if k < len {
                let q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {t} WHERE member_id = $1 AND n >= $2"
                )))
                .bind(&member_id)
                .bind(k as i64);
                c.write(q).await.map_err(e)?;
            }
        }
        insert_rows(c, &member_id, &new, &card, kf, kp)
            .await
            .map_err(e)?;
    }
    set_as_of(c, &member_id, as_of, &card, &cards)
        .await
        .map_err(e)
}

/// A member with no report rows yet (an import's new member, a card batch's anonymous one): its
/// facts, computed by the caller (the import computes them on its reading thread), and the
/// instant they are as of. Its cards (and so its card type) are read from the database.
pub struct NewFacts<'a> {
    pub member_id: &'a str,
    pub facts: &'a MemberFacts,
    pub as_of: i64,
}

/// The report rows of members that have none yet, with their day sums added once for all of
/// them: a few multi-row INSERTs and upserts per batch instead of some per member.
pub async fn add_new(c: &mut AnyConnection, members: &[NewFacts<'_>]) -> Result<(), sqlx::Error> {
    new_rows(c, members).await?.write_all(c).await
}

/// What [`add_new`] writes, with the members' cards read from the database (once for all of
/// them: the `act` cells count them).
pub async fn new_rows(
    c: &mut AnyConnection,
    members: &[NewFacts<'_>],
) -> Result<NewRows, sqlx::Error> {
    let versions = crate::storage::policies::versions(c).await?;
    let mut cards: std::collections::HashMap<String, CardDays> = Default::default();
    let ids: Vec<&str> = members.iter().map(|m| m.member_id).collect();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT member_id, type, issued_at FROM cards WHERE member_id IN ({}) ORDER BY \
             member_id, issued_at, number",
            crate::storage::placeholders(c, chunk.len(), 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *c).await? {
            let day =
                ledger::local_day_number(&versions, r.get(2)).map_err(sqlx::Error::Protocol)?;
            cards.entry(r.get(0)).or_default().push((r.get(1), day));
        }
    }
    NewRows::of(c.is_sqlite(), members, |id| {
        cards.get(id).map(Vec::as_slice).unwrap_or_default()
    })
}

/// What [`add_new`] writes for members that have none yet — their rows, and their sums added
/// to the stored ones — computed without the database from each member's cards (as `cards`
/// lists them: type and issued day, in the order of issue) and kept as statements: the import
/// builds them on its reading thread, beside the engine's work, for a batch whose cards it
/// knows, so that its writer only sends them. The `rpt_cells` sums are kept apart: an import
/// adds its batches' cells once, when the job ends ([`super::deferred`]).
pub struct NewRows {
    statements: Statements,
    cells: super::cells::Cells,
}

impl NewRows {
    /// The rows and sums of `members`, as statements for SQLite (`sqlite`) or PostgreSQL.
    pub fn of<'c>(
        sqlite: bool,
        members: &[NewFacts<'_>],
        cards_of: impl Fn(&str) -> &'c [(String, i64)],
    ) -> Result<Self, sqlx::Error> {
        let mut total = Sums::default();
        // A member of an import's batch adds ≈ 17 cells the others of the batch do not (69,000
        // for 4,000 members of the 100,000-customer exports): the map made that size at once
        // rather than grown through a dozen rehashes.
        total.cells.reserve(members.len() * 16);
        let mut rows = Rows::default();
        for m in members {
            let cards = cards_of(m.member_id);
            // Its first card's type, as `cards` gives it.
            let card_type = cards.first().map(|c| c.0.as_str()).unwrap_or_default();
            total.add_member(&m.facts.flows, &m.facts.points, card_type, cards, 1);
            rows.push(m.member_id, m.facts, card_type, 0, 0);
            rows.push_as_of(m.member_id, m.as_of, card_type, cards);
        }
        total.prune();
        let cells = std::mem::take(&mut total.cells);
        let mut kept = Statements::new(sqlite);
        Statements::keep(async {
            rows.flush(&mut kept).await?;
            apply(&mut kept, &total, 0).await
        })?;
        Ok(NewRows {
            statements: kept,
            cells,
        })
    }

    /// Inserts the rows and adds the sums but the cells, which it returns (for the caller to
    /// add: [`super::deferred`]).
    pub async fn write(self, c: &mut AnyConnection) -> Result<super::cells::Cells, sqlx::Error> {
        self.statements.run(c).await?;
        Ok(self.cells)
    }

    /// Inserts the rows and adds every sum.
    pub async fn write_all(self, c: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let cells = self.write(c).await?;
        super::cells::apply(c, &cells, 0).await
    }
}

/// Records the instant a member's facts are computed as of.
pub async fn set_as_of(
    c: &mut impl Write,
    member_id: &str,
    as_of: i64,
    card_type: &str,
    cards: &[(String, i64)],
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO rpt_members (member_id, as_of, card_type, cards) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (member_id) DO UPDATE SET as_of = excluded.as_of, card_type = \
         excluded.card_type, cards = excluded.cards",
    )
    .bind(member_id)
    .bind(as_of)
    .bind(card_type)
    .bind(cards_json(cards));
    c.write(q).await
}

/// The instant a member's stored facts are as of (None: never computed).
pub async fn stored_as_of(
    c: &mut AnyConnection,
    member_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let r = sqlx::query("SELECT as_of FROM rpt_members WHERE member_id = $1")
        .bind(member_id)
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| r.get::<i64, _>(0)))
}

/// [`refresh`] of a member loaded by id (member creation, card changes).
pub async fn refresh_id(c: &mut Tx, member_id: &str) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let Some(member) = crate::storage::members::get(c, member_id)
        .await
        .map_err(e)?
    else {
        return Ok(());
    };
    let versions = crate::storage::policies::versions(c).await.map_err(e)?;
    if versions.is_empty() {
        return Ok(());
    }
    let events = crate::storage::events::of_member(c, member_id)
        .await
        .map_err(e)?;
    let cached = ledger::last_look(c, member_id)
        .await
        .map_err(|e| e.body())?;
    let as_of = as_of_for(cached, &member, &events);
    refresh(c, &versions, &member, &events, as_of).await
}

/// Every member's id and cache instant, in id order.
async fn member_ids(c: &mut AnyConnection) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, cached_at FROM members ORDER BY id")
        .fetch_all(c)
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The sums as stored (zero rows left out).
pub async fn stored_sums(c: &mut AnyConnection) -> Result<Sums, sqlx::Error> {
    let mut s = Sums::default();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT day, store, channel, card_type, tier, status, {} FROM rpt_day",
        DAY_COLS.join(", ")
    )))
    .fetch_all(&mut *c)
    .await?;
    for r in &rows {
        let mut v = [0i64; 13];
        for (i, x) in v.iter_mut().enumerate() {
            *x = r.get(6 + i);
        }
        // Summed over the shards.
        let k = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        add(s.day.entry(k).or_insert([0; 13]), &v, 1);
    }
    let rows = sqlx::query(
        "SELECT day, card_type, tier, status, members, available, pending FROM rpt_balance",
    )
    .fetch_all(&mut *c)
    .await?;
    for r in &rows {
        let k = (r.get(0), r.get(1), r.get(2), r.get(3));
        add(
            s.balance.entry(k).or_insert([0; 3]),
            &[r.get(4), r.get(5), r.get(6)],
            1,
        );
    }
    let rows =
        sqlx::query("SELECT day, from_tier, to_tier, card_type, status, members FROM rpt_moves")
            .fetch_all(&mut *c)
            .await?;
    for r in &rows {
        *s.moves
            .entry((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .or_insert(0) += r.get::<i64, _>(5);
    }
    s.cells = super::cells::stored(c).await?;
    s.prune();
    Ok(s)
}

/// Empties the report tables and fills them from the events (one transaction). Returns the
/// number of members.
pub async fn rebuild(db: &crate::storage::Db, now: i64) -> Result<u64, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut tx = db.begin().await.map_err(e)?;
    for t in [
        "rpt_flows",
        "rpt_points",
        "rpt_day",
        "rpt_balance",
        "rpt_moves",
        "rpt_members",
        "rpt_cells",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t}")))
            .execute(&mut *tx)
            .await
            .map_err(e)?;
    }
    let versions = crate::storage::policies::versions(&mut tx)
        .await
        .map_err(e)?;
    let mut total = Sums::default();
    let mut n = 0;
    if !versions.is_empty() {
        // The next due instant looks as far ahead as the versions' expiry notices.
        let notice_days = ledger::notice_days(&versions).map_err(|e| e.body())?;
        for (id, cached) in member_ids(&mut tx).await.map_err(e)? {
            let Some(member) = crate::storage::members::get(&mut tx, &id)
                .await
                .map_err(e)?
            else {
                continue;
            };
            let events = crate::storage::events::of_member(&mut tx, &id)
                .await
                .map_err(e)?;
            // A member written without the server (a test's seed, an old import) that it never
            // looked at: its facts as of now, and the job scheduled for when time next changes
            // its figures (its first look then writes its cache and notices, as for any member).
            let as_of = match cached {
                Some(c) => c,
                None if !events.is_empty() => {
                    let as_of = ledger::as_of(now, &events);
                    let state = ledger::replay(&versions, &member, &events, None, as_of)
                        .map_err(|out| format!("member {id} does not replay: {out}"))?;
                    sqlx::query(
                        "UPDATE members SET next_due_at = $2 WHERE id = $1 AND cached_at IS NULL \
                         AND next_due_at IS NULL",
                    )
                    .bind(&id)
                    .bind(state.next_due(as_of, notice_days))
                    .execute(&mut *tx)
                    .await
                    .map_err(e)?;
                    as_of
                }
                None => as_of_for(None, &member, &events),
            };
            let f = facts(&versions, &member, &events, as_of)?;
            let (card, cards) = cards(&mut tx, &versions, &id).await?;
            total.add_member(&f.flows, &f.points, &card, &cards, 1);
            insert_rows(&mut tx, &id, &f, &card, 0, 0)
                .await
                .map_err(e)?;
            set_as_of(&mut tx, &id, as_of, &card, &cards)
                .await
                .map_err(e)?;
            n += 1;
        }
    }
    total.prune();
    apply(&mut tx, &total, 0).await.map_err(e)?;
    for key in ["built", "cells"] {
        sqlx::query(
            "INSERT INTO rpt_meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    Ok(n)
}

/// Fills the report tables once, on the first start after the migration (0003, and 0006 for
/// `rpt_cells`: a database built before it is rebuilt once), and counts the cells again after
/// an import that stopped before adding its own ([`super::deferred::recover`]) or before
/// building the indexes it dropped ([`super::indexes::recover`]).
pub async fn ensure_built(db: &crate::storage::Db, now: i64) -> Result<(), String> {
    let mut c = db.read.acquire().await.map_err(|e| e.to_string())?;
    let built = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM rpt_meta WHERE key = 'built' OR key = 'cells'",
    )
    .fetch_one(&mut *c)
    .await
    .map_err(|e| e.to_string())?
    .get::<i64, _>(0)
        == 2;
    drop(c);
    if !built {
        rebuild(db, now).await?;
    }
    // An import that stopped before adding its cells, or before building the indexes it
    // dropped.
    super::deferred::recover(db).await?;
    super::indexes::recover(db, now).await?;
    Ok(())
}

/// Recomputes every member's facts and every sum from the events and compares them with the
/// stored rows: one difference description per member or table that differs.
pub async fn compare(c: &mut AnyConnection) -> Result<Vec<serde_json::Value>, String> {
    let e = |e: sqlx::Error| e.to_string();
    let versions = crate::storage::policies::versions(c).await.map_err(e)?;
    let mut diffs = Vec::new();
    if versions.is_empty() {
        return Ok(diffs);
    }
    let mut total = Sums::default();
    for (id, cached) in member_ids(c).await.map_err(e)? {
        let Some(member) = crate::storage::members::get(c, &id).await.map_err(e)? else {
            continue;
        };
        let events = crate::storage::events::of_member(c, &id).await.map_err(e)?;
        let as_of = match stored_as_of(c, &id).await.map_err(e)? {
            Some(t) => t,
            None => as_of_for(cached, &member, &events),
        };
        let f = match facts(&versions, &member, &events, as_of) {
            Ok(f) => f,
            Err(m) => {
                diffs.push(serde_json::json!({ "member_id": id, "problem": m }));
                continue;
            }
        };
        let (card, cards) = cards(c, &versions, &id).await?;
        total.add_member(&f.flows, &f.points, &card, &cards, 1);
        let (old, old_card) = stored(c, &id).await.map_err(e)?;
        let old_cards = stored_cards(c, &id).await?;
        if old != f
            || (old_card != card && !(f.flows.is_empty() && f.points.is_empty()))
            || (old_cards != cards && !f.points.is_empty())
        {
            diffs.push(serde_json::json!({
                "member_id": id,
                "problem": "report rows differ from the events",
                "stored": { "flows": old.flows.len(), "points": old.points.len(), "card_type": old_card, "cards": old_cards },
                "recomputed": { "flows": f.flows.len(), "points": f.points.len(), "card_type": card, "cards": cards },
            }));
        }
    }
    total.prune();
    let stored = stored_sums(c).await.map_err(e)?;
    let mut delta = total.clone();
    delta.merge(&stored, -1);
    delta.prune();
    for (k, v) in delta.day.iter().take(20) {
        diffs.push(serde_json::json!({ "table": "rpt_day", "key": [k.0, k.1, k.2, k.3, k.4, k.5], "recomputed_minus_stored": v }));
    }
    for (k, v) in delta.balance.iter().take(20) {
        diffs.push(serde_json::json!({ "table": "rpt_balance", "key": [k.0, k.1, k.2, k.3], "recomputed_minus_stored": v }));
    }
    for (k, v) in delta.moves.iter().take(20) {
        diffs.push(serde_json::json!({ "table": "rpt_moves", "key": [k.0, k.1, k.2, k.3, k.4], "recomputed_minus_stored": v }));
    }
    let mut cells: Vec<_> = delta.cells.iter().collect();
    cells.sort_unstable();
    for (k, v) in cells.into_iter().take(20) {
        diffs.push(serde_json::json!({ "table": "rpt_cells", "key": [k.0, k.1, k.2, k.3, k.4], "columns": super::cells::KINDS, "recomputed_minus_stored": v }));
    }
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::joined::{FIELD, RECORD};

    /// A booking's one statement for the member's cards and stored rows reads what the three
    /// statements read, and falls back to them when a field holds a separator.
    #[tokio::test]
    async fn one_statement_reads_what_three_do() {
        let dir = std::env::temp_dir().join(format!(
            "loyalty-store-{}-{}",
            std::process::id(),
            crate::storage::random_hex(4)
        ));
        let db = crate::storage::Db::open(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .unwrap();
        let doc = crate::demo::spec_policy();
        let digest = loyalty_engine::Engine::from_json(&doc)
            .unwrap()
            .policy_digest()
            .to_string();
        let versions = [Version {
            effective_at: 0,
            digest,
            document: doc,
            published_at: 0,
        }];
        let mut c = db.write.acquire().await.unwrap();
        let t = crate::clock::parse_rfc3339("2026-03-01T10:00:00+07:00").unwrap();
        for (member, cards) in [
            (
                "m-1",
                vec![
                    ("C2", "standard", t),
                    ("C1", "vip", t),
                    ("C0", "virtual", t + 1),
                ],
            ),
            ("m-2", vec![("C3", "odd\u{1f}type", t)]),
            ("m-3", vec![]),
        ] {
            sqlx::query(
                "INSERT INTO members (id, status, joined_at, created_at, version) \
                 VALUES ($1, 'active', $2, $2, 0)",
            )
            .bind(member)
            .bind(t)
            .execute(&mut *c)
            .await
            .unwrap();
            for (number, kind, at) in cards {
                sqlx::query(
                    "INSERT INTO cards (number, member_id, type, state, issued_at) \
                     VALUES ($1, $2, $3, 'active', $4)",
                )
                .bind(number)
                .bind(member)
                .bind(kind)
                .bind(at)
                .execute(&mut *c)
                .await
                .unwrap();
            }
        }
        set_as_of(&mut *c, "m-1", t, "vip", &[("vip".into(), 20_513)])
            .await
            .unwrap();
        for member in ["m-1", "m-2", "m-3"] {
            let one = member_now_and_stored(&mut c, &versions, member, None)
                .await
                .unwrap();
            let three = (
                cards(&mut c, &versions, member).await.unwrap(),
                stored(&mut c, member).await.unwrap(),
                stored_cards(&mut c, member).await.unwrap(),
            );
            assert_eq!(one, three, "{member}");
            // The same texts read with the member's lock (a one-call booking's first read).
            let locked = crate::storage::events::lock_member_with_events_and_versions(
                &mut c,
                member,
                &StoredTexts::columns(),
                |q| q,
            )
            .await
            .unwrap()
            .unwrap();
            assert_eq!(locked.member.id, member);
            let read = Some(StoredTexts::of(locked.more));
            let with_lock = member_now_and_stored(&mut c, &versions, member, read)
                .await
                .unwrap();
            assert_eq!(with_lock, three, "{member}");
        }
        let (now, _, counted) = member_now_and_stored(&mut c, &versions, "m-1", None)
            .await
            .unwrap();
        // By issue, then number: C1 (vip) before C2 (standard) at the same instant.
        assert_eq!(now.0, "vip");
        assert_eq!(
            now.1.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["vip", "standard", "virtual"]
        );
        assert_eq!(counted, vec![("vip".to_string(), 20_513)]);
        drop(c);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A member's report rows joined as `stored` reads them (out of order, a NULL and an empty
    /// text) come back as the rows, in `n` order, with the last point's card type.
    #[test]
    fn stored_rows_split_back_in_order() {
        let row = |fields: &[&str]| fields.join(&FIELD.to_string());
        // In FLOW_COLS' order (without the member's id).
        let flows = [
            row(&[
                "1",
                "1700",
                "2026-02-01",
                "expire",
                "",
                "",
                "",
                "",
                "standard",
                "silver",
                "active",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
                "-40",
                "0",
            ]),
            row(&[
                "0",
                "1600",
                "2026-01-31",
                "purchase",
                "=e-1",
                "=o-1",
                "hcm-01",
                "pos",
                "standard",
                "member",
                "active",
                "1",
                "0",
                "300000",
                "0",
                "0",
                "300000",
                "0",
                "300",
                "0",
                "0",
                "0",
                "0",
            ]),
        ]
        .join(&RECORD.to_string());
        let points = row(&[
            "0",
            "1600",
            "2026-01-31",
            "300",
            "0",
            "member",
            "active",
            "vip",
        ]);
        let (facts, card) = split_stored(&flows, &points).unwrap();
        assert_eq!(card, "vip");
        assert_eq!(facts.flows.len(), 2);
        let (a, b) = (&facts.flows[0], &facts.flows[1]);
        assert_eq!(
            (
                a.kind,
                a.event_id.as_deref(),
                a.order_id.as_deref(),
                a.store.as_deref()
            ),
            ("purchase", Some("e-1"), Some("o-1"), Some("hcm-01"))
        );
        assert_eq!(
            (a.gross, a.paid, a.earned, a.at_ms),
            (300000, 300000, 300, 1600)
        );
        assert_eq!(
            (b.kind, b.event_id.as_deref(), b.store.as_deref(), b.expired),
            ("expire", None, None, -40)
        );
        assert_eq!(facts.points.len(), 1);
        assert_eq!(
            (facts.points[0].available, facts.points[0].tier.as_str()),
            (300, "member")
        );
        // No points: the last flow's card type; a field with a separator: refused.
        assert_eq!(split_stored(&flows, "").unwrap().1, "standard");
        let bad = flows.replacen("e-1", &format!("e{FIELD}1"), 1);
        assert!(split_stored(&bad, &points).is_none());
    }

    /// `Sums::add_change` equals adding the new facts and taking the old ones away, when flows
    /// and states are appended, changed, inserted or removed, and when the card type changes.
    #[test]
    fn a_change_adds_what_the_whole_member_would() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let day = |i: u64| format!("2026-02-{:02}", 1 + i % 28);
        let tiers = ["member", "silver", "gold"];
        let flow = |next: &mut dyn FnMut(u64) -> u64| Flow {
            kind: ["purchase", "adjust", "expire"][next(3) as usize],
            at_ms: next(1000) as i64,
            day: day(next(28)),
            store: [Some("hcm-01".to_string()), None][next(2) as usize].clone(),
            tier: tiers[next(3) as usize].into(),
            status: "active",
            orders: next(2) as i64,
            gross: next(500_000) as i64,
            earned: next(300) as i64,
            ..Flow::default()
        };
        let point = |next: &mut dyn FnMut(u64) -> u64| Point {
            at_ms: next(1000) as i64,
            day: day(next(28)),
            available: next(900) as i64,
            pending: next(50) as i64,
            tier: tiers[next(3) as usize].into(),
            status: ["active", "inactive"][next(2) as usize],
        };
        let cards = vec![("standard".to_string(), 739_600)];
        for _ in 0..300 {
            let old_f: Vec<Flow> = (0..next(12)).map(|_| flow(&mut next)).collect();
            let old_p: Vec<Point> = (0..1 + next(12)).map(|_| point(&mut next)).collect();
            let (mut new_f, mut new_p) = (old_f.clone(), old_p.clone());
            let mut card = "standard";
            match next(6) {
                0 => new_f.push(flow(&mut next)),
                1 => new_p.push(point(&mut next)),
                2 if !new_f.is_empty() => {
                    let i = next(new_f.len() as u64) as usize;
                    new_f[i].gross += 1;
                }
                3 => {
                    let i = next(new_p.len() as u64) as usize;
                    new_p.insert(i, point(&mut next));
                }
                4 if new_p.len() > 1 => {
                    new_p.remove(next(new_p.len() as u64) as usize);
                }
                5 => card = "vip",
                _ => {}
            }
            let member = |flows, points, card| super::super::cells::Member {
                flows,
                points,
                card,
                cards: &cards,
            };
            let mut whole = Sums::default();
            whole.add_member(&new_f, &new_p, card, &cards, 1);
            whole.add_member(&old_f, &old_p, "standard", &cards, -1);
            whole.prune();
            let mut change = Sums::default();
            change.add_change(
                member(&old_f, &old_p, "standard"),
                member(&new_f, &new_p, card),
            );
            change.prune();
            assert_eq!(change, whole);
        }
    }
}
