//! Members and cards.

use sqlx::{AnyConnection, Row};

/// The columns of a member row the bulk writers (the import, the loader) give, in their order.
pub const BULK_COLS: &[&str] = &[
    "id",
    "status",
    "joined_at",
    "phone",
    "name",
    "search_name",
    "created_at",
    "version",
    "cached_at",
    "cached_available",
    "cached_pending",
    "cached_tier",
    "cached_status",
    "next_due_at",
];

#[derive(Clone, Debug, serde::Serialize)]
pub struct Member {
    pub id: String,
    pub status: String,
    pub joined_at: i64,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub version: i64,
    /// When the cached figures were last written (the last look for notices; None: never).
    #[serde(skip)]
    pub cached_at: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Card {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub state: String,
}

pub(crate) const COLS: &str = "id, status, joined_at, phone, name, version, cached_at";

/// A member from a row whose first columns are [`COLS`].
pub(crate) fn member(r: &sqlx::any::AnyRow) -> Member {
    Member {
        id: r.get(0),
        status: r.get(1),
        joined_at: r.get(2),
        phone: r.get(3),
        name: r.get(4),
        version: r.get(5),
        cached_at: r.get(6),
    }
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<Member>, sqlx::Error> {
    let q = format!("SELECT {COLS} FROM members WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(member))
}

/// What a member's replay is made of, as the database says it in one statement
/// ([`get_with_ledger_key`]): the member's `status` and `joined_at` (its request's `member`),
/// its last `seq` (events are only appended, each with the member's next `seq` — booking,
/// import and load all write `seq` 1..n — and never deleted, so every new event raises it; its
/// count would say nothing more and cost PostgreSQL a scan of the member's events), and the
/// published versions (`effective_at@digest`, ascending). The read cache (`crate::read_cache`)
/// keeps a replayed state under it and uses it only while the database says the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerKey {
    pub status: String,
    pub joined_at: i64,
    pub last_seq: Option<i64>,
    pub versions: String,
}

impl LedgerKey {
    /// The key of what was read (the member, its events, the versions in `effective_at` order).
    pub fn of(
        member: &Member,
        events: &[super::events::Stored],
        versions: &[super::policies::Version],
    ) -> LedgerKey {
        let mut v: Vec<(i64, &str)> = versions
            .iter()
            .map(|v| (v.effective_at, v.digest.as_str()))
            .collect();
        v.sort_unstable();
        LedgerKey {
            status: member.status.clone(),
            joined_at: member.joined_at,
            last_seq: events.iter().map(|e| e.seq).max(),
            versions: versions_text(v),
        }
    }
}

/// `effective_at@digest,…` ascending.
fn versions_text(v: Vec<(i64, &str)>) -> String {
    v.iter()
        .map(|(at, d)| format!("{at}@{d}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The member and its [`LedgerKey`] in one statement (None: no such member).
pub async fn get_with_ledger_key(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<(Member, LedgerKey)>, sqlx::Error> {
    let q = format!(
        "SELECT {COLS}, \
         (SELECT CAST(MAX(seq) AS BIGINT) FROM events WHERE member_id = $1), \
         (SELECT string_agg(CAST(effective_at AS TEXT) || '@' || digest, ',') FROM policy_versions) \
         FROM members WHERE id = $1"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(c)
        .await?
    else {
        return Ok(None);
    };
    let m = member(&row);
    // The aggregate promises no order: sorted here, as LedgerKey::of sorts.
    let text: Option<String> = row.get(8);
    let mut v: Vec<(i64, &str)> = text
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (at, d) = p.split_once('@').unwrap_or((p, ""));
            (at.parse().unwrap_or(i64::MIN), d)
        })
        .collect();
    v.sort_unstable();
    let key = LedgerKey {
        status: m.status.clone(),
        joined_at: m.joined_at,
        last_seq: row.get(7),
        versions: versions_text(v),
    };
    Ok(Some((m, key)))
}

pub async fn by_phone(c: &mut AnyConnection, phone: &str) -> Result<Option<Member>, sqlx::Error> {
    let q = format!("SELECT {COLS} FROM members WHERE phone = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(phone)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(member))
}

/// The member a card belongs to (None: no such card, or an unbound one).
pub async fn card(
    c: &mut AnyConnection,
    number: &str,
) -> Result<Option<(Card, Option<String>)>, sqlx::Error> {
    let row = sqlx::query("SELECT number, type, state, member_id FROM cards WHERE number = $1")
        .bind(number)
        .fetch_optional(c)
        .await?;
    Ok(row.map(|r| {
        (
            Card {
                number: r.get(0),
                kind: r.get(1),
                state: r.get(2),
            },
            r.get(3),
        )
    }))
}

pub async fn cards_of(c: &mut AnyConnection, member_id: &str) -> Result<Vec<Card>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT number, type, state FROM cards WHERE member_id = $1 ORDER BY issued_at, number",
    )
    .bind(member_id)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Card {
            number: r.get(0),
            kind: r.get(1),
            state: r.get(2),
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    c: &mut AnyConnection,
    id: &str,
    status: &str,
    joined_at: i64,
    phone: Option<&str>,
    name: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO members (id, status, joined_at, phone, name, created_at, version, search_name) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(status)
    .bind(joined_at)
    .bind(phone)
    .bind(name)
    .bind(now)
    .bind(name.map(super::cards::fold))
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_card(
    c: &mut AnyConnection,
    number: &str,
    member_id: Option<&str>,
    kind: &str,
    state: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO cards (number, member_id, type, state, issued_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(number)
    .bind(member_id)
    .bind(kind)
    .bind(state)
    .bind(now)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The member's lock ([`lock`]; `events::lock_member_with_events_and_versions` adds a
/// `RETURNING`): `$1` the member.
pub(crate) const LOCK: &str = "UPDATE members SET version = version + 1 WHERE id = $1";

/// Bumps the member's version: on PostgreSQL this takes the row lock that serializes every
/// write concerning the member until the transaction ends. False when there is no such member.
pub async fn lock(c: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(LOCK).bind(id).execute(c).await?;
    Ok(r.rows_affected() == 1)
}

/// The replay's figures as of `at`, kept for `loyalty serve check` and the due-time sweep.
#[allow(clippy::too_many_arguments)]
pub async fn cache(
    c: &mut impl super::writer::Write,
    id: &str,
    at: i64,
    available: i64,
    pending: i64,
    tier: &str,
    status: &str,
    next_due_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "UPDATE members SET cached_at = $2, cached_available = $3, cached_pending = $4, \
         cached_tier = $5, cached_status = $6, next_due_at = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(available)
    .bind(pending)
    .bind(tier)
    .bind(status)
    .bind(next_due_at);
    c.write(q).await
}

/// What a page of members is filtered by (every part optional).
#[derive(Clone, Debug, Default)]
pub struct Filter<'a> {
    pub status: Option<&'a str>,
    pub tier: Option<&'a str>,
    /// Members enrolled at the store or with an order there.
    pub store: Option<&'a str>,
    /// Free text: the exact id, part of the id, part of the name with diacritics ignored
    /// (`fold`), part of the phone's digits, a card number.
    pub q: Option<&'a str>,
    /// The text read as a phone number, in E.164.
    pub phone: Option<&'a str>,
}

/// A page of members by id (keyset), filtered.
pub async fn page(
    c: &mut AnyConnection,
    after: &str,
    limit: i64,
    f: &Filter<'_>,
) -> Result<Vec<Member>, sqlx::Error> {
    let like = f.q.map(|q| format!("%{}%", q.trim().to_lowercase()));
    let folded = f.q.map(|q| format!("%{}%", super::cards::fold(q)));
    let digits = f.q.and_then(|q| {
        let d: String = q.chars().filter(char::is_ascii_digit).collect();
        (d.len() >= 4).then(|| format!("%{d}%"))
    });
    let sql = format!(
        "SELECT {COLS} FROM members WHERE id > $1 \
         AND ($2 IS NULL OR cached_status = $2 OR (cached_status IS NULL AND status = $2)) \
         AND ($3 IS NULL OR LOWER(id) LIKE $3 OR search_name LIKE $4 \
              OR (search_name IS NULL AND LOWER(COALESCE(name, '')) LIKE $3) \
              OR ($5 IS NOT NULL AND COALESCE(phone, '') LIKE $5) OR phone = $6 \
              OR id IN (SELECT member_id FROM cards WHERE LOWER(number) LIKE $3)) \
         AND ($7 IS NULL OR cached_tier = $7) \
         AND ($8 IS NULL OR home_store = $8 OR id IN (SELECT member_id FROM orders WHERE store_id = $8)) \
         ORDER BY id LIMIT $9"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(f.status)
        .bind(like)
        .bind(folded)
        .bind(digits)
        .bind(f.phone)
        .bind(f.tier)
        .bind(f.store)
        .bind(limit)
        .fetch_all(c)
        .await?;
    Ok(rows.iter().map(member).collect())
}

/// Ids of members whose cached figures change by time before `now` (expiry, pending points,
/// reviews, notices due).
pub async fn due(c: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id FROM members WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT $2")
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Every member id with its cached figures, for `loyalty serve check`.
pub async fn cached_all(
    c: &mut AnyConnection,
) -> Result<
    Vec<(
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    )>,
    sqlx::Error,
> {
    let rows = sqlx::query(
        "SELECT id, cached_at, cached_available, cached_pending, cached_tier, cached_status FROM members ORDER BY id",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect())
}
