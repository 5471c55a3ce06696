//! `loyalty serve load --members FILE.ndjson`: loads member histories (the NDJSON of
//! `loyalty generate` / `simulate`: one `{ "member", "events" }` a line) into a programme's
//! database — members, a card each, the events, the cached figures and the report rows and sums
//! (issue 15) — in batches of multi-row INSERTs, one transaction per batch of members. For
//! migrations and benchmarks; the histories must replay under the published versions (a line
//! that does not is reported and skipped). No notices are written (history is not news).

use crate::ledger;
use crate::reports::store::{self, Sums};
use crate::storage::events::Stored;
use crate::storage::members::Member;
use crate::storage::Db;
use serde_json::Value;
use std::io::BufRead;

/// A value of a batched row.
pub enum V {
    I(i64),
    S(String),
    O(Option<String>),
    OI(Option<i64>),
}

/// Rows of one table inserted many per statement.
pub struct Batch {
    table: &'static str,
    cols: &'static [&'static str],
    rows: Vec<Vec<V>>,
}

impl Batch {
    pub fn new(table: &'static str, cols: &'static [&'static str]) -> Batch {
        Batch {
            table,
            cols,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<V>) {
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Inserts the rows, many per statement (`storage::rows_per_insert`, with anonymous
    /// parameters on SQLite: `storage::placeholders` says why).
    pub async fn flush(&mut self, c: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        let per = crate::storage::rows_per_insert(c, self.cols.len());
        let rows = std::mem::take(&mut self.rows);
        for chunk in rows.chunks(per) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                self.table,
                self.cols.join(", "),
                crate::storage::placeholders(c, chunk.len(), self.cols.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = match v {
                        V::I(x) => q.bind(*x),
                        V::S(s) => q.bind(s.clone()),
                        V::O(s) => q.bind(s.clone()),
                        V::OI(x) => q.bind(*x),
                    };
                }
            }
            q.execute(&mut *c).await?;
        }
        Ok(())
    }
}

/// What a load did.
#[derive(Debug, Default, serde::Serialize)]
pub struct LoadReport {
    pub members: u64,
    pub events: u64,
    pub report_rows: u64,
    pub skipped: Vec<Value>,
    pub seconds: f64,
}

const FLOW_COLS: &[&str] = &[
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
const POINT_COLS: &[&str] = &[
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

/// Loads an NDJSON file of member histories. `batch`: members per transaction. `progress` is
/// called after every batch with the members loaded so far.
pub async fn load(
    db: &Db,
    path: &std::path::Path,
    batch: usize,
    now: i64,
    mut progress: impl FnMut(u64),
) -> Result<LoadReport, String> {
    let started = std::time::Instant::now();
    let e = |e: sqlx::Error| e.to_string();
    store::ensure_built(db, now).await?;
    let mut c = db.read.acquire().await.map_err(e)?;
    let versions = crate::storage::policies::versions(&mut c)
        .await
        .map_err(e)?;
    drop(c);
    if versions.is_empty() {
        return Err(
            "the programme has no published policy: publish one first (or --policy)".into(),
        );
    }
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
    let mut report = LoadReport::default();
    let mut total = Sums::default();
    let mut index: u64 = 0;
    // The cache's next due instant looks as far ahead as the versions' expiry notices.
    let notice_days = ledger::notice_days(&versions).map_err(|e| e.body())?;
    loop {
        let mut members = Batch::new(
            "members",
            &[
                "id",
                "status",
                "joined_at",
                "created_at",
                "version",
                "cached_at",
                "cached_available",
                "cached_pending",
                "cached_tier",
                "cached_status",
                "next_due_at",
            ],
        );
        let mut cards = Batch::new(
            "cards",
            &["number", "member_id", "type", "state", "issued_at"],
        );
        let mut events = Batch::new(
            "events",
            &[
                "member_id",
                "seq",
                "id",
                "type",
                "at",
                "body",
                "recorded_at",
                "recorded_by",
            ],
        );
        let mut flows = Batch::new("rpt_flows", FLOW_COLS);
        let mut points = Batch::new("rpt_points", POINT_COLS);
        let mut as_ofs = Batch::new("rpt_members", &["member_id", "as_of", "card_type", "cards"]);
        let mut n = 0;
        let mut eof = false;
        while n < batch {
            let Some(line) = lines.next() else {
                eof = true;
                break;
            };
            let line = line.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            index += 1;
            if line.trim().is_empty() {
                continue;
            }
            let skip = |why: String| serde_json::json!({ "line": index, "error": why });
            let v: Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(err) => {
                    report.skipped.push(skip(err.to_string()));
                    continue;
                }
            };
            let m = &v["member"];
            let (Some(id), Some(joined)) = (
                m["id"].as_str(),
                m["joined_at"]
                    .as_str()
                    .and_then(crate::clock::parse_rfc3339),
            ) else {
                report
                    .skipped
                    .push(skip("member.id and member.joined_at are required".into()));
                continue;
            };
            let status = m["status"].as_str().unwrap_or("active").to_string();
            let member = Member {
                id: id.to_string(),
                status: status.clone(),
                joined_at: joined,
                phone: None,
                name: None,
                version: 0,
                cached_at: None,
            };
            let stored: Vec<Stored> = v["events"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(k, ev)| Stored {
                    seq: k as i64 + 1,
                    id: ev["id"].as_str().unwrap_or_default().to_string(),
                    kind: ev["type"].as_str().unwrap_or_default().to_string(),
                    at: ev["at"]
                        .as_str()
                        .and_then(crate::clock::parse_rfc3339)
                        .unwrap_or(joined),
                    body: ev.to_string(),
                })
                .collect();
            let as_of = ledger::as_of(now, &stored);
            let state = match ledger::replay(&versions, &member, &stored, None, as_of) {
                Ok(s) => s,
                Err(out) => {
                    report.skipped.push(skip(out));
                    continue;
                }
            };
            let f = match store::facts(&versions, &member, &stored, as_of) {
                Ok(f) => f,
                Err(m) => {
                    report.skipped.push(skip(m));
                    continue;
                }
            };
            // A card each: every tenth member holds a `vip` card; unassigned members' cards
            // are unassigned.
            let card_type = if index % 10 == 0 { "vip" } else { "standard" };
            let card_state = if status == "unassigned" {
                "unassigned"
            } else {
                "active"
            };
            members.push(vec![
                V::S(member.id.clone()),
                V::S(status.clone()),
                V::I(joined),
                V::I(now),
                V::I(0),
                V::I(as_of),
                V::I(state.available()),
                V::I(state.pending()),
                V::S(state.tier()),
                V::S(state.status()),
                V::OI(state.next_due(as_of, notice_days)),
            ]);
            cards.push(vec![
                V::S(format!("C{}", member.id)),
                V::S(member.id.clone()),
                V::S(card_type.into()),
                V::S(card_state.into()),
                V::I(joined),
            ]);
            for ev in &stored {
                events.push(vec![
                    V::S(member.id.clone()),
                    V::I(ev.seq),
                    V::S(ev.id.clone()),
                    V::S(ev.kind.clone()),
                    V::I(ev.at),
                    V::S(ev.body.clone()),
                    V::I(now),
                    V::S("load".into()),
                ]);
            }
            for (k, r) in f.flows.iter().enumerate() {
                flows.push(vec![
                    V::S(member.id.clone()),
                    V::I(k as i64),
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
            for (k, p) in f.points.iter().enumerate() {
                points.push(vec![
                    V::S(member.id.clone()),
                    V::I(k as i64),
                    V::I(p.at_ms),
                    V::S(p.day.clone()),
                    V::I(p.available),
                    V::I(p.pending),
                    V::S(p.tier.clone()),
                    V::S(p.status.into()),
                    V::S(card_type.into()),
                ]);
            }
            // Its card, issued when it joined (the first state's day).
            let cards = vec![(
                card_type.to_string(),
                f.points
                    .first()
                    .map(|p| crate::reports::cells::day_number(&p.day))
                    .unwrap_or_default(),
            )];
            as_ofs.push(vec![
                V::S(member.id.clone()),
                V::I(as_of),
                V::S(card_type.into()),
                V::S(store::cards_json(&cards)),
            ]);
            total.add_member(&f.flows, &f.points, card_type, &cards, 1);
            report.members += 1;
            report.events += stored.len() as u64;
            report.report_rows += (f.flows.len() + f.points.len()) as u64;
            n += 1;
        }
        if !members.is_empty() {
            let mut tx = db.begin_bulk().await.map_err(e)?;
            for b in [
                &mut members,
                &mut cards,
                &mut events,
                &mut flows,
                &mut points,
                &mut as_ofs,
            ] {
                b.flush(&mut tx).await.map_err(e)?;
            }
            tx.commit().await.map_err(e)?;
            progress(report.members);
        }
        if eof {
            break;
        }
    }
    // The sums, added to what the programme already had.
    total.prune();
    let mut tx = db.begin().await.map_err(e)?;
    store::apply(&mut tx, &total).await.map_err(e)?;
    tx.commit().await.map_err(e)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Publishes `policy` (JSON text) from the beginning when the programme has none yet.
pub async fn ensure_policy(db: &Db, policy: &str, now: i64) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut tx = db.begin().await.map_err(e)?;
    if crate::storage::policies::versions(&mut tx)
        .await
        .map_err(e)?
        .is_empty()
    {
        let v: Value = serde_json::from_str(&loyalty_engine::api::validate_json(policy))
            .map_err(|e| e.to_string())?;
        let Some(digest) = v["policy_digest"].as_str() else {
            return Err(format!("the policy does not validate: {v}"));
        };
        crate::storage::policies::insert(&mut tx, digest, policy, now, "load")
            .await
            .map_err(e)?;
        crate::storage::policies::publish(&mut tx, digest, 0, now, "load")
            .await
            .map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    Ok(())
}
