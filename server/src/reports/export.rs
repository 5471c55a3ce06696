//! Background CSV exports of every member's transactions in a period: a job streams the rows
//! member by member (flat memory: one member's rows and one part of ≥ 1 MiB at a time), stores
//! the CSV in parts in the database with its progress, and is `done` only when the last part is
//! written — a download is served only then. A job that fails (a database error, more rows
//! than the `export_max_rows` setting) says why and keeps no parts.

use super::transactions::{
    export_query, export_rows_query, write_export_rows, write_record, HEADER,
};
use super::{Params, Query};
use crate::app::App;
use crate::http::ApiError;
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use sqlx::Row;

/// `POST /v1/reports/exports`: which report and its period and filters.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `transactions` (every member's rows of the period).
    pub report: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub store: Option<String>,
    pub card_type: Option<String>,
    pub tier: Option<String>,
    pub status: Option<String>,
}

impl ExportRequest {
    fn params(&self) -> Params {
        Params {
            from: self.from.clone(),
            to: self.to.clone(),
            store: self.store.clone(),
            card_type: self.card_type.clone(),
            tier: self.tier.clone(),
            status: self.status.clone(),
            format: Some("csv".into()),
            ..Params::default()
        }
    }
}

/// A part is stored once its CSV holds this many bytes (the `export_part_bytes` setting).
const PART_BYTES: usize = 1 << 20;
use crate::storage::settings::{
    EXPORT_MAX_ROWS as MAX_ROWS_SETTING, EXPORT_PART_BYTES as PART_BYTES_SETTING,
};

/// Checks the request, records the job and starts it. Answers the job's status.
pub async fn start(app: &App, user: &str, r: ExportRequest) -> Result<Value, ApiError> {
    if r.report != "transactions" {
        return Err(ApiError::invalid(
            "report",
            format!(
                "{:?}: the exportable report is transactions (the others are small: ?format=csv)",
                r.report
            ),
        ));
    }
    let now = app.clock.now_ms();
    let mut c = app.db.read.acquire().await?;
    let q = Query::new(&mut c, r.params(), now).await?;
    drop(c);
    let id = crate::storage::new_id("x-", now);
    let mut tx = app.db.begin().await?;
    sqlx::query(
        "INSERT INTO rpt_exports (id, report, params, state, rows_done, rows_total, bytes, error, \
         created_at, created_by, finished_at) VALUES ($1, $2, $3, 'running', 0, 0, 0, NULL, $4, $5, NULL)",
    )
    .bind(&id)
    .bind(&r.report)
    .bind(serde_json::to_string(&r).unwrap_or_default())
    .bind(now)
    .bind(user)
    .execute(&mut *tx)
    .await?;
    crate::storage::audit(
        &mut tx,
        now,
        &format!("admin:{user}"),
        "report.export",
        &id,
        &json!(r),
    )
    .await?;
    tx.commit().await?;
    let app2 = app.clone();
    let id2 = id.clone();
    tokio::spawn(async move {
        if let Err(m) = write(&app2, &id2, &q).await {
            let _ = fail(&app2, &id2, &m).await;
        }
    });
    status(app, &id).await
}

async fn fail(app: &App, id: &str, why: &str) -> Result<(), sqlx::Error> {
    let mut tx = app.db.begin().await?;
    sqlx::query("DELETE FROM rpt_export_parts WHERE export_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE rpt_exports SET state = 'failed', error = $2, finished_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(why)
    .bind(app.clock.now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

async fn write(app: &App, id: &str, q: &Query) -> Result<(), String> {
    let e = |e: sqlx::Error| format!("database error: {e}");
    let (cond, binds) = q.filters(Some("f.store"), 3);
    let cond = cond
        .replace(" card_type", " f.card_type")
        .replace(" tier", " f.tier")
        .replace(" status", " f.status");
    let mut rc = app.db.read.acquire().await.map_err(e)?;
    let mut count = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM rpt_flows f WHERE f.day >= $1 AND f.day <= $2{cond}"
    )))
    .bind(&q.from)
    .bind(&q.to);
    for b in &binds {
        count = count.bind(b);
    }
    let total: i64 = count.fetch_one(&mut *rc).await.map_err(e)?.get(0);
    let max: i64 = crate::storage::settings::get(&mut rc, MAX_ROWS_SETTING)
        .await
        .map_err(e)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000_000);
    let part_bytes: usize = crate::storage::settings::get(&mut rc, PART_BYTES_SETTING)
        .await
        .map_err(e)?
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(PART_BYTES);
    if total > max {
        return Err(format!(
            "the export has {total} rows, more than the {max} the {MAX_ROWS_SETTING} setting allows: choose a shorter period or filters"
        ));
    }
    let mut w = app.db.write.acquire().await.map_err(e)?;
    sqlx::query("UPDATE rpt_exports SET rows_total = $2 WHERE id = $1")
        .bind(id)
        .bind(total)
        .execute(&mut *w)
        .await
        .map_err(e)?;
    drop(w);
    // Parts are saved by a second task while the rows are read, so the database reads the next
    // members while the last part is written (and compressed, on PostgreSQL); two parts wait at
    // most (docs/reports.md, "Benchmark").
    let (parts, mut to_save) = tokio::sync::mpsc::channel::<Part>(2);
    let (app2, id2) = (app.clone(), id.to_string());
    let saver = tokio::spawn(async move {
        while let Some(part) = to_save.recv().await {
            save(&app2, &id2, part).await.map_err(e)?;
        }
        Ok::<(), String>(())
    });
    let by_member = read_by_member(&mut rc, q).await.map_err(e)?;
    let writer = Parts::new(part_bytes)?;
    // The reader takes the channel: the saver ends when it is done.
    let read = if app.db.kind == crate::storage::Kind::Sqlite {
        let binds = q.binds(binds);
        let sql = export_rows_query(&cond, by_member);
        sqlite_rows(&app.db, sql, binds, q.clone(), writer, parts).await
    } else {
        postgres_rows(&mut rc, &cond, &binds, by_member, q, writer, parts).await
    };
    // The saver is awaited even when the reading failed: a part it saved after `fail` deleted
    // the others would be left behind.
    let saved = saver
        .await
        .map_err(|j| format!("the export's writer stopped: {j}"))?;
    let rows = read?;
    saved?;
    let mut w = app.db.write.acquire().await.map_err(e)?;
    sqlx::query("UPDATE rpt_exports SET state = 'done', rows_done = $2, rows_total = $2, finished_at = $3 WHERE id = $1")
        .bind(id)
        .bind(rows)
        .bind(app.clock.now_ms())
        .execute(&mut *w)
        .await
        .map_err(e)?;
    Ok(())
}

/// Whether the export's rows are read in the table's own order (its primary key, member by
/// member: sequential) rather than found by the day index (a random place each): when the
/// period holds at least a quarter of the days that have rows (`export_query`).
async fn read_by_member(c: &mut sqlx::AnyConnection, q: &Query) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("SELECT MIN(day), MAX(day) FROM rpt_flows")
        .fetch_one(&mut *c)
        .await?;
    let (first, last): (Option<String>, Option<String>) = (r.get(0), r.get(1));
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(false);
    };
    let day = super::cells::day_number;
    let history = day(&last) - day(&first) + 1;
    let period = day(&q.to).min(day(&last)) - day(&q.from).max(day(&first)) + 1;
    Ok(period * 4 >= history)
}

/// One CSV part of an export and the progress after it.
struct Part {
    seq: i64,
    text: String,
    rows: i64,
    bytes: i64,
}

/// The CSV being written and what the parts handed on so far hold.
struct Parts {
    out: csv::Writer<Vec<u8>>,
    part_bytes: usize,
    rows: i64,
    seq: i64,
    bytes: i64,
    scratch: String,
}

impl Parts {
    /// The header written; a part closes at the first member's end past `part_bytes`.
    fn new(part_bytes: usize) -> Result<Parts, String> {
        let mut out = csv::Writer::from_writer(Vec::with_capacity(Self::capacity(part_bytes)));
        out.write_record(HEADER).map_err(|e| e.to_string())?;
        Ok(Parts {
            out,
            part_bytes,
            rows: 0,
            seq: 0,
            bytes: 0,
            scratch: String::with_capacity(256),
        })
    }

    fn capacity(part_bytes: usize) -> usize {
        part_bytes.min(PART_BYTES) + 65_536
    }

    /// Whether the part being written is full (checked at a member's end).
    fn full(&mut self) -> Result<bool, String> {
        self.out.flush().map_err(|e| e.to_string())?;
        Ok(self.out.get_ref().len() >= self.part_bytes)
    }

    /// Closes the part being written and starts the next one.
    fn take(&mut self) -> Result<Part, String> {
        let next = csv::Writer::from_writer(Vec::with_capacity(Self::capacity(self.part_bytes)));
        let data = std::mem::replace(&mut self.out, next)
            .into_inner()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8(data).map_err(|e| e.to_string())?;
        self.bytes += text.len() as i64;
        let part = Part {
            seq: self.seq,
            text,
            rows: self.rows,
            bytes: self.bytes,
        };
        self.seq += 1;
        Ok(part)
    }
}

/// SQLite: the rows read one by one in a blocking thread, on a connection of its own
/// (`storage::scan::with_sqlite`), and written as CSV there — no packing, no hand-off per row
/// (`export_rows_query`); each part is handed to `parts` at the first member's end past the part
/// size. Answers the number of rows, or why it stopped; a closed channel (the saver failed) ends
/// it early and the saver says why.
async fn sqlite_rows(
    db: &crate::storage::Db,
    sql: String,
    binds: Vec<crate::storage::scan::Bind>,
    q: Query,
    w: Parts,
    parts: tokio::sync::mpsc::Sender<Part>,
) -> Result<i64, String> {
    crate::storage::scan::with_sqlite(db, move |conn| {
        Ok(sqlite_parts(conn, &sql, &binds, &q, w, &parts))
    })
    .await
    .map_err(|e| format!("database error: {e}"))?
}

/// [`sqlite_rows`] in its thread.
fn sqlite_parts(
    conn: &rusqlite::Connection,
    sql: &str,
    binds: &[crate::storage::scan::Bind],
    q: &Query,
    mut w: Parts,
    parts: &tokio::sync::mpsc::Sender<Part>,
) -> Result<i64, String> {
    use rusqlite::types::ValueRef;
    let e = |e: rusqlite::Error| format!("database error: {e}");
    let mut st = crate::storage::scan::prepare(conn, sql, binds).map_err(e)?;
    let mut rows = st.raw_query();
    let mut member = String::new();
    while let Some(r) = rows.next().map_err(e)? {
        let at: i64 = r.get(0).map_err(e)?;
        let mut texts = [""; 11];
        for (i, t) in texts.iter_mut().enumerate() {
            if let ValueRef::Text(b) = r.get_ref(1 + i).map_err(e)? {
                *t = std::str::from_utf8(b).map_err(|e| e.to_string())?;
            }
        }
        let mut numbers = [0i64; 9];
        for (i, n) in numbers.iter_mut().enumerate() {
            *n = r.get(12 + i).map_err(e)?;
        }
        if member != texts[0] {
            if w.full()? && parts.blocking_send(w.take()?).is_err() {
                return Ok(w.rows);
            }
            member.clear();
            member.push_str(texts[0]);
        }
        write_record(&mut w.out, q, at, &texts, &numbers, &mut w.scratch)?;
        w.rows += 1;
    }
    let rows = w.rows;
    let _ = parts.blocking_send(w.take()?);
    Ok(rows)
}

/// PostgreSQL: the rows streamed through sqlx a member at a time (`export_query`), in one
/// transaction, where PostgreSQL is told to read them in the primary key's order for a long
/// period (otherwise it hashes a million members' texts, spilled to disk, and sorts them). Each
/// part is handed to `parts` at the first member's end past the part size; as [`sqlite_rows`].
async fn postgres_rows(
    c: &mut sqlx::AnyConnection,
    cond: &str,
    binds: &[String],
    by_member: bool,
    q: &Query,
    mut w: Parts,
    parts: tokio::sync::mpsc::Sender<Part>,
) -> Result<i64, String> {
    let e = |e: sqlx::Error| format!("database error: {e}");
    let mut tx = sqlx::Connection::begin(c).await.map_err(e)?;
    if by_member {
        for setting in ["enable_hashagg", "enable_sort"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL {setting} = off")))
                .execute(&mut *tx)
                .await
                .map_err(e)?;
        }
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(export_query(cond)))
        .bind(&q.from)
        .bind(&q.to);
    for b in binds {
        query = query.bind(b);
    }
    let mut stream = query.fetch(&mut *tx);
    loop {
        let next = stream.try_next().await.map_err(e)?;
        let done = next.is_none();
        if let Some(r) = &next {
            // One member's transactions (`export_query`).
            let text: &str = r.try_get(2).map_err(e)?;
            let n = write_export_rows(&mut w.out, q, text, &mut w.scratch)?;
            if n != r.try_get::<i64, _>(1).map_err(e)? {
                return Err(format!(
                    "the export of member {} lost rows",
                    r.get::<String, _>(0)
                ));
            }
            w.rows += n;
        }
        if (done || w.full()?) && parts.send(w.take()?).await.is_err() {
            return Ok(w.rows);
        }
        if done {
            return Ok(w.rows);
        }
    }
}

/// Stores one part and the job's progress after it.
async fn save(app: &App, id: &str, p: Part) -> Result<(), sqlx::Error> {
    let mut w = app.db.write.acquire().await?;
    sqlx::query("INSERT INTO rpt_export_parts (export_id, seq, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(p.seq)
        .bind(p.text)
        .execute(&mut *w)
        .await?;
    sqlx::query("UPDATE rpt_exports SET rows_done = $2, bytes = $3 WHERE id = $1")
        .bind(id)
        .bind(p.rows)
        .bind(p.bytes)
        .execute(&mut *w)
        .await?;
    Ok(())
}

/// A job's status: `running` (with progress), `done` (with the download link) or `failed`
/// (with why).
pub async fn status(app: &App, id: &str) -> Result<Value, ApiError> {
    let r = sqlx::query(
        "SELECT report, params, state, rows_done, rows_total, bytes, error, created_at, finished_at \
         FROM rpt_exports WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&app.db.read)
    .await?
    .ok_or_else(|| ApiError::not_found("id", format!("no export {id}")))?;
    let state: String = r.get(2);
    let (done, total): (i64, i64) = (r.get(3), r.get(4));
    Ok(json!({
        "id": id,
        "report": r.get::<String, _>(0),
        "params": serde_json::from_str::<Value>(&r.get::<String, _>(1)).unwrap_or(Value::Null),
        "state": state,
        "rows_done": done,
        "rows_total": total,
        "progress": if state == "done" { Some("1.0000".to_string()) } else { super::customers::rate(done, total) },
        "bytes": r.get::<i64, _>(5),
        "error": r.get::<Option<String>, _>(6),
        "created_at": crate::clock::rfc3339(r.get(7)),
        "finished_at": r.get::<Option<i64>, _>(8).map(crate::clock::rfc3339),
        "download": (state == "done").then(|| format!("/v1/reports/exports/{id}/download")),
    }))
}

/// The finished CSV, streamed part by part.
pub async fn download(app: &App, id: &str) -> Result<axum::response::Response, ApiError> {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let s = status(app, id).await?;
    if s["state"] != "done" {
        return Err(ApiError::Conflict {
            code: "invalid_state",
            message: format!(
                "export {id} is {}: only a finished export is served",
                s["state"].as_str().unwrap_or_default()
            ),
            path: "id".into(),
            details: None,
        });
    }
    let db = app.db.read.clone();
    let id2 = id.to_string();
    let parts = futures_util::stream::unfold(0i64, move |seq| {
        let db = db.clone();
        let id = id2.clone();
        async move {
            let r =
                sqlx::query("SELECT data FROM rpt_export_parts WHERE export_id = $1 AND seq = $2")
                    .bind(&id)
                    .bind(seq)
                    .fetch_optional(&db)
                    .await;
            match r {
                Ok(Some(row)) => Some((Ok::<_, std::io::Error>(row.get::<String, _>(0)), seq + 1)),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), i64::MAX)),
            }
        }
    });
    let mut r = (StatusCode::OK, axum::body::Body::from_stream(parts)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"transactions-{id}.csv\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
