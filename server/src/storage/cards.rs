//! Card types, card batches, card states (issue 14), the folded names members are searched by,
//! and the erasure of a member's personal data.

use sqlx::{AnyConnection, Row};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The columns of a card row the bulk writers (the import, the loader) give, in their order.
pub const BULK_COLS: &[&str] = &["number", "member_id", "type", "state", "issued_at"];

/// A name folded for search: decomposed (NFD), combining marks dropped, `đ` → `d`, lower case,
/// runs of white space as one space. `Nguyễn Văn Đức` → `nguyen van duc`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CardType {
    pub id: String,
    pub name: String,
    /// The digits every number of the type starts with.
    pub prefix: String,
    /// Digits in all, check digit included.
    pub length: i64,
    /// `luhn` or `none`.
    pub check_digit: String,
    /// The next sequence number handed out.
    pub next_seq: i64,
}

impl CardType {
    /// Digits of the sequence part.
    fn seq_digits(&self) -> usize {
        let check = usize::from(self.check_digit == "luhn");
        (self.length as usize).saturating_sub(self.prefix.len() + check)
    }

    /// The number of sequence `seq`: prefix, zero-padded sequence, check digit. None when the
    /// sequence does not fit the length.
    pub fn number(&self, seq: i64) -> Option<String> {
        let w = self.seq_digits();
        let body = format!("{}{:0w$}", self.prefix, seq, w = w);
        if body.len() != self.prefix.len() + w || seq < 0 {
            return None;
        }
        Some(if self.check_digit == "luhn" {
            format!("{body}{}", crate::demo::luhn(&body))
        } else {
            body
        })
    }

    /// Checks a number typed or scanned against the type's format: Err(why).
    pub fn check(&self, number: &str) -> Result<(), String> {
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("a {} card number has digits only", self.id));
        }
        if number.len() as i64 != self.length {
            return Err(format!(
                "a {} card number has {} digits",
                self.id, self.length
            ));
        }
        if !number.starts_with(&self.prefix) {
            return Err(format!(
                "a {} card number starts with {}",
                self.id, self.prefix
            ));
        }
        if self.check_digit == "luhn" {
            let (body, last) = number.split_at(number.len() - 1);
            if crate::demo::luhn(body).to_string() != last {
                return Err("the check digit is wrong (mistyped number?)".into());
            }
        }
        Ok(())
    }
}

const TYPE_COLS: &str = "id, name, prefix, length, check_digit, next_seq";

fn card_type(r: &sqlx::any::AnyRow) -> CardType {
    CardType {
        id: r.get(0),
        name: r.get(1),
        prefix: r.get(2),
        length: r.get(3),
        check_digit: r.get(4),
        next_seq: r.get(5),
    }
}

pub async fn types(c: &mut AnyConnection) -> Result<Vec<CardType>, sqlx::Error> {
    let q = format!("SELECT {TYPE_COLS} FROM card_types ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(c).await?;
    Ok(rows.iter().map(card_type).collect())
}

pub async fn get_type(c: &mut AnyConnection, id: &str) -> Result<Option<CardType>, sqlx::Error> {
    let q = format!("SELECT {TYPE_COLS} FROM card_types WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(card_type))
}

pub async fn insert_type(
    c: &mut AnyConnection,
    t: &CardType,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO card_types (id, name, prefix, length, check_digit, next_seq, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.prefix)
    .bind(t.length)
    .bind(&t.check_digit)
    .bind(t.next_seq)
    .bind(now)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Takes `n` sequence numbers of a type (the row is locked by the update until the
/// transaction ends): the first of them.
pub async fn take_seq(c: &mut AnyConnection, type_id: &str, n: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE card_types SET next_seq = next_seq + $2 WHERE id = $1")
        .bind(type_id)
        .bind(n)
        .execute(&mut *c)
        .await?;
    let r = sqlx::query("SELECT next_seq FROM card_types WHERE id = $1")
        .bind(type_id)
        .fetch_one(c)
        .await?;
    Ok(r.get::<i64, _>(0) - n)
}

/// A card with everything kept about it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CardRow {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `active`, `unassigned`, `blocked` or `retired`.
    pub state: String,
    pub member_id: Option<String>,
    pub batch_id: Option<String>,
    pub replaced_by: Option<String>,
    pub issued_at: i64,
    pub state_at: Option<i64>,
}

const CARD_COLS: &str =
    "number, type, state, member_id, batch_id, replaced_by, issued_at, state_at";

fn card_row(r: &sqlx::any::AnyRow) -> CardRow {
    CardRow {
        number: r.get(0),
        kind: r.get(1),
        state: r.get(2),
        member_id: r.get(3),
        batch_id: r.get(4),
        replaced_by: r.get(5),
        issued_at: r.get(6),
        state_at: r.get(7),
    }
}

pub async fn card(c: &mut AnyConnection, number: &str) -> Result<Option<CardRow>, sqlx::Error> {
    let q = format!("SELECT {CARD_COLS} FROM cards WHERE number = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(number)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(card_row))
}

pub async fn cards_of(c: &mut AnyConnection, member_id: &str) -> Result<Vec<CardRow>, sqlx::Error> {
    let q =
        format!("SELECT {CARD_COLS} FROM cards WHERE member_id = $1 ORDER BY issued_at, number");
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(member_id)
        .fetch_all(c)
        .await?;
    Ok(rows.iter().map(card_row).collect())
}

pub async fn batch_cards(
    c: &mut AnyConnection,
    batch_id: &str,
) -> Result<Vec<CardRow>, sqlx::Error> {
    let q = format!("SELECT {CARD_COLS} FROM cards WHERE batch_id = $1 ORDER BY number");
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(batch_id)
        .fetch_all(c)
        .await?;
    Ok(rows.iter().map(card_row).collect())
}

/// A new card; false when the number exists (numbers are never reused).
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    c: &mut AnyConnection,
    number: &str,
    member_id: Option<&str>,
    kind: &str,
    state: &str,
    batch_id: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO cards (number, member_id, type, state, issued_at, batch_id, state_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $5) ON CONFLICT DO NOTHING",
    )
    .bind(number)
    .bind(member_id)
    .bind(kind)
    .bind(state)
    .bind(now)
    .bind(batch_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Binds a card to a member in a state (activation, a move to another member).
pub async fn set(
    c: &mut AnyConnection,
    number: &str,
    member_id: Option<&str>,
    state: &str,
    replaced_by: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cards SET member_id = $2, state = $3, replaced_by = COALESCE($4, replaced_by), \
         state_at = $5 WHERE number = $1",
    )
    .bind(number)
    .bind(member_id)
    .bind(state)
    .bind(replaced_by)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub first: String,
    pub last: String,
    pub count: i64,
    pub created_at: i64,
    pub created_by: String,
    /// Cards of the batch still unassigned.
    pub unassigned: i64,
}

pub async fn insert_batch(c: &mut AnyConnection, b: &Batch) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO card_batches (id, type, first_number, last_number, count, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&b.id)
    .bind(&b.kind)
    .bind(&b.first)
    .bind(&b.last)
    .bind(b.count)
    .bind(b.created_at)
    .bind(&b.created_by)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn batches(c: &mut AnyConnection) -> Result<Vec<Batch>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT b.id, b.type, b.first_number, b.last_number, b.count, b.created_at, b.created_by, \
         CAST((SELECT COUNT(*) FROM cards k WHERE k.batch_id = b.id AND k.state = 'unassigned') AS BIGINT) \
         FROM card_batches b ORDER BY b.created_at DESC, b.id",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Batch {
            id: r.get(0),
            kind: r.get(1),
            first: r.get(2),
            last: r.get(3),
            count: r.get(4),
            created_at: r.get(5),
            created_by: r.get(6),
            unassigned: r.get(7),
        })
        .collect())
}

/// Sets a phone where there was none (an anonymous card's member bound to a person), with
/// the name and the enrolling store. False when the member already has a phone.
pub async fn set_phone_once(
    c: &mut AnyConnection,
    id: &str,
    phone: &str,
    name: Option<&str>,
    store: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE members SET phone = $2, name = COALESCE($3, name), search_name = COALESCE($4, search_name), \
         home_store = COALESCE($5, home_store) WHERE id = $1 AND phone IS NULL",
    )
    .bind(id)
    .bind(phone)
    .bind(name)
    .bind(name.map(fold))
    .bind(store)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Name, e-mail and enrolling store of a member (what `members::Member` does not carry).
pub async fn member_extra(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<(Option<String>, Option<String>, Option<i64>)>, sqlx::Error> {
    let r = sqlx::query("SELECT email, home_store, erased_at FROM members WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| (r.get(0), r.get(1), r.get(2))))
}

pub async fn set_home_store(
    c: &mut AnyConnection,
    id: &str,
    store: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE members SET home_store = $2 WHERE id = $1")
        .bind(id)
        .bind(store)
        .execute(c)
        .await?;
    Ok(())
}

/// Erases a member's personal data wherever it was kept: the member row (name, phone, e-mail),
/// the audit entries about the member or naming the phone, the stored idempotent answers that
/// carry the member, the outbox payloads, one-time codes and sessions. Events, orders and card
/// numbers stay (the programme's totals do not change). Returns the rows changed per table.
pub async fn erase(
    c: &mut AnyConnection,
    id: &str,
    phone: Option<&str>,
    now: i64,
) -> Result<serde_json::Value, sqlx::Error> {
    let quoted_id = format!("%{}%", serde_json::Value::from(id));
    let phone_like = phone.map(|p| format!("%{p}%"));
    let members = sqlx::query(
        "UPDATE members SET name = NULL, phone = NULL, email = NULL, search_name = NULL, erased_at = $2 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected();
    let audit = sqlx::query(
        "UPDATE audit SET detail = $2 WHERE target = $1 OR detail LIKE $3 OR ($4 IS NOT NULL AND detail LIKE $4)",
    )
    .bind(id)
    .bind(r#"{"erased":true}"#)
    .bind(&quoted_id)
    .bind(&phone_like)
    .execute(&mut *c)
    .await?
    .rows_affected();
    let erased_answer = serde_json::json!({ "error": { "code": "invalid_state",
        "message": "this answer carried personal data of a member since erased", "path": "" } })
    .to_string();
    let idem = sqlx::query(
        "UPDATE idempotency SET status = 409, response = $1 WHERE response LIKE $2 OR ($3 IS NOT NULL AND response LIKE $3)",
    )
    .bind(&erased_answer)
    .bind(&quoted_id)
    .bind(&phone_like)
    .execute(&mut *c)
    .await?
    .rows_affected();
    let rows = sqlx::query("SELECT id, kind FROM outbox WHERE member_id = $1")
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
    for r in &rows {
        let (oid, kind): (String, String) = (r.get(0), r.get(1));
        let payload =
            serde_json::json!({ "id": oid, "kind": kind, "member_id": id, "erased": true })
                .to_string();
        sqlx::query("UPDATE outbox SET payload = $2 WHERE id = $1")
            .bind(&oid)
            .bind(payload)
            .execute(&mut *c)
            .await?;
    }
    sqlx::query("DELETE FROM otps WHERE member_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    let sessions = sqlx::query("DELETE FROM sessions WHERE kind <> 'admin' AND subject = $1")
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected();
    let cards = sqlx::query(
        "UPDATE cards SET state = 'retired', state_at = $2 WHERE member_id = $1 AND state <> 'blocked'",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(serde_json::json!({
        "members": members, "audit": audit, "idempotency": idem, "outbox": rows.len(),
        "sessions": sessions, "cards_retired": cards,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_without_diacritics() {
        assert_eq!(fold("  Nguyễn   Văn Đức "), "nguyen van duc");
        assert_eq!(fold("TRẦN THỊ HƯƠNG"), "tran thi huong");
        // Typed decomposed (NFD) or composed, the same.
        assert_eq!(fold("Nguye\u{302}\u{303}n"), "nguyen");
    }

    #[test]
    fn numbers_carry_their_check_digit() {
        let t = CardType {
            id: "standard".into(),
            name: "Standard".into(),
            prefix: "8800".into(),
            length: 13,
            check_digit: "luhn".into(),
            next_seq: 1,
        };
        // 880000000001, Luhn by hand from the right: 1×2 = 2, the zeros, 8×2 = 16 → 7, 8:
        // 17, so the check digit is 3 (the demo's card 1).
        assert_eq!(t.number(1).unwrap(), "8800000000013");
        assert_eq!(t.number(1).unwrap(), crate::demo::card_number(1));
        assert!(t.check("8800000000013").is_ok());
        assert!(t
            .check("8800000000017")
            .unwrap_err()
            .contains("check digit"));
        assert!(t.check("880000000001").unwrap_err().contains("13 digits"));
        assert!(t
            .check("9900000000013")
            .unwrap_err()
            .contains("starts with"));
        assert!(t.number(1_000_000_000).is_none());
    }
}
