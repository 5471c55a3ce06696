//! Long reads: every row of one query handed to a visitor, for a report that reads millions of
//! rows and keeps a few counts (the frequency and customers reports with a store, tier or
//! status filter, which read the period's purchases member by member).
//!
//! On SQLite the query runs on a read-only connection of its own (rusqlite, over the same
//! libsqlite3 that sqlx links) in a blocking thread, and each row is visited in the thread that
//! steps the statement. Through sqlx every row is handed from the connection's thread to the
//! async task and converted twice (SQLite's value, then `Any`'s): ≈ 1.3 µs a row measured,
//! 13 s for the 9.9 M purchases of a 1,000,000-member database, against ≈ 0.1 µs here
//! (docs/reports.md, "Benchmark"). On PostgreSQL the rows are streamed through sqlx.

use super::{Db, Kind};
use futures_util::TryStreamExt;
use sqlx::Row;

/// A parameter of the query (`$1`, `$2`, … in the SQL).
#[derive(Clone, Debug)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// The most columns a scan's query selects.
pub const MAX_COLS: usize = 8;

/// What reads the rows: their columns as text (the queries select text columns only; NULL is
/// read as "").
pub trait Visit: Send + 'static {
    fn row(&mut self, cols: &[&str]);
}

/// A visitor of rows in member order that can read a range of members on its own: what
/// [`each_by_member`] splits the members among.
pub trait Part: Visit + Clone {
    /// After a range's last row (the member being read is complete).
    fn finish(&mut self);
    /// Adds the counts of another range of members.
    fn merge(&mut self, other: Self);
}

/// Members per range below which [`each_by_member`] reads in one piece.
const MEMBERS_PER_PART: i64 = 50_000;

/// The number of ranges a test forces (0: from the number of members). No count may depend on
/// it, so a test forcing it cannot change what another one running at the same time reads.
static FORCED_PARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes [`each_by_member`] read in `n` ranges whatever the number of members (0: undo).
pub fn force_parts(n: usize) {
    FORCED_PARTS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// [`each`] over ranges of members at once, one per core (at most 4), each read by a clone of
/// `v` and the clones merged: `sql` holds `{members}` where the range's condition goes (`AND
/// member_id >= … AND member_id < …`) and must give each member's rows together (`ORDER BY
/// member_id, …`). On SQLite a connection and a thread per range; on PostgreSQL a connection
/// per range, so its backends scan in parallel too. The ranges are cut at member ids that
/// share the members out evenly (`members`, in the database's own order).
pub async fn each_by_member<V: Part>(
    db: &Db,
    sql: &str,
    binds: Vec<Bind>,
    v: V,
) -> Result<V, String> {
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4) as i64;
    let mut c = db.read.acquire().await.map_err(|e| e.to_string())?;
    let members: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM members")
        .fetch_one(&mut *c)
        .await
        .map_err(|e| e.to_string())?;
    let parts = match FORCED_PARTS.load(std::sync::atomic::Ordering::Relaxed) as i64 {
        0 => (members / MEMBERS_PER_PART).clamp(1, cores),
        n => n.min(members).max(1),
    };
    let mut cuts: Vec<String> = Vec::new();
    for i in 1..parts {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM members ORDER BY id LIMIT 1 OFFSET $1")
                .bind(members * i / parts)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| e.to_string())?;
        cuts.extend(id.filter(|id| cuts.last() != Some(id)));
    }
    drop(c);
    let mut tasks = Vec::new();
    for i in 0..=cuts.len() {
        let (mut cond, mut b) = (String::new(), binds.clone());
        if i > 0 {
            b.push(Bind::Text(cuts[i - 1].clone()));
            cond.push_str(&format!(" AND member_id >= ${}", b.len()));
        }
        if let Some(hi) = cuts.get(i) {
            b.push(Bind::Text(hi.clone()));
            cond.push_str(&format!(" AND member_id < ${}", b.len()));
        }
        let (db, sql, v) = (db.clone(), sql.replace("{members}", &cond), v.clone());
        tasks.push(tokio::spawn(async move {
            let mut v = each(&db, sql, b, v).await?;
            v.finish();
            Ok::<V, String>(v)
        }));
    }
    let mut all: Option<V> = None;
    for t in tasks {
        let part = t.await.map_err(|e| e.to_string())??;
        match &mut all {
            Some(a) => a.merge(part),
            None => all = Some(part),
        }
    }
    Ok(all.unwrap_or(v))
}

/// Runs `sql` with `binds` and gives each row to `v`, in the query's order; returns `v`.
pub async fn each<V: Visit>(db: &Db, sql: String, binds: Vec<Bind>, v: V) -> Result<V, String> {
    if db.kind == Kind::Sqlite && db.sqlite_file.is_some() {
        with_sqlite(db, move |conn| sqlite(conn, &sql, &binds, v)).await
    } else {
        streamed(db, sql, binds, v).await.map_err(|e| e.to_string())
    }
}

/// Runs `f` in a blocking thread with a read-only connection of its own to the server's SQLite
/// file (rusqlite, over the same libsqlite3 that sqlx links): for reads of millions of rows,
/// each handled in the thread that steps the statement.
pub async fn with_sqlite<R: Send + 'static>(
    db: &Db,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R> + Send + 'static,
) -> Result<R, String> {
    use rusqlite::OpenFlags;
    let Some(file) = db.sqlite_file.clone() else {
        return Err("not a SQLite database".into());
    };
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        f(&conn)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// `sql` prepared on `conn` with `binds` bound by name: `$k` is the k-th bind wherever it first
/// appears in the SQL.
pub fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    binds: &[Bind],
) -> rusqlite::Result<rusqlite::Statement<'c>> {
    let mut st = conn.prepare(sql)?;
    for (i, b) in binds.iter().enumerate() {
        let Some(at) = st.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        match b {
            Bind::Text(t) => st.raw_bind_parameter(at, t)?,
            Bind::Int(n) => st.raw_bind_parameter(at, n)?,
        }
    }
    Ok(st)
}

fn sqlite<V: Visit>(
    conn: &rusqlite::Connection,
    sql: &str,
    binds: &[Bind],
    mut v: V,
) -> rusqlite::Result<V> {
    use rusqlite::types::ValueRef;
    let mut st = prepare(conn, sql, binds)?;
    let n = st.column_count();
    if n > MAX_COLS {
        return Err(rusqlite::Error::InvalidColumnIndex(n));
    }
    let mut ints: Vec<String> = vec![String::new(); n];
    let mut rows = st.raw_query();
    while let Some(r) = rows.next()? {
        let mut cols: [&str; MAX_COLS] = [""; MAX_COLS];
        for (i, int) in ints.iter_mut().enumerate() {
            cols[i] = match r.get_ref(i)? {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or_default(),
                ValueRef::Integer(x) => {
                    int.clear();
                    int.push_str(itoa::Buffer::new().format(x));
                    int.as_str()
                }
                _ => "",
            };
        }
        v.row(&cols[..n]);
    }
    Ok(v)
}

async fn streamed<V: Visit>(
    db: &Db,
    sql: String,
    binds: Vec<Bind>,
    mut v: V,
) -> Result<V, sqlx::Error> {
    let mut c = db.read.acquire().await?;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(n) => q.bind(n),
        };
    }
    let mut rows = q.fetch(&mut *c);
    while let Some(r) = rows.try_next().await? {
        let n = r.len();
        if n > MAX_COLS {
            return Err(sqlx::Error::ColumnIndexOutOfBounds {
                index: n,
                len: MAX_COLS,
            });
        }
        let mut cols: [&str; MAX_COLS] = [""; MAX_COLS];
        for (i, col) in cols.iter_mut().enumerate().take(n) {
            *col = r.try_get::<Option<&str>, _>(i)?.unwrap_or_default();
        }
        v.row(&cols[..n]);
    }
    Ok(v)
}
