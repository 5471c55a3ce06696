//! Rows of one table inserted many per statement: the bulk writers' (the import, the loader,
//! the report rows) one way of writing a multi-row INSERT on both databases.

use sqlx::any::AnyArguments;
use sqlx::Arguments;

use super::writer::Write;

/// A value of a batched row.
pub enum V {
    I(i64),
    S(String),
    O(Option<String>),
    OI(Option<i64>),
}

/// Rows of one table, inserted many per statement ([`insert`]).
pub struct Batch {
    table: &'static str,
    cols: Vec<&'static str>,
    rows: Vec<Vec<V>>,
    /// `ON CONFLICT …` after the rows ([`Batch::sums`]).
    on_conflict: String,
}

impl Batch {
    pub fn new(table: &'static str, cols: &[&'static str]) -> Batch {
        Batch {
            table,
            cols: cols.to_vec(),
            rows: Vec::new(),
            on_conflict: String::new(),
        }
    }

    /// Rows added to the sums stored under their key (a row is its `key` columns, then its
    /// `values`): `ON CONFLICT (key) DO UPDATE SET v = table.v + excluded.v`, many rows per
    /// statement. A key may appear once per batch.
    pub fn sums(table: &'static str, key: &[&'static str], values: &[&'static str]) -> Batch {
        let sets: Vec<String> = values
            .iter()
            .map(|v| format!("{v} = {table}.{v} + excluded.{v}"))
            .collect();
        Batch {
            table,
            cols: key.iter().chain(values).copied().collect(),
            rows: Vec::new(),
            on_conflict: format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                key.join(", "),
                sets.join(", ")
            ),
        }
    }

    pub fn push(&mut self, row: Vec<V>) {
        debug_assert_eq!(row.len(), self.cols.len());
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Inserts the rows ([`insert`]) and empties the batch.
    pub async fn flush(&mut self, c: &mut impl Write) -> Result<(), sqlx::Error> {
        let rows = std::mem::take(&mut self.rows);
        let table = Table {
            name: self.table,
            cols: &self.cols,
            tail: &self.on_conflict,
        };
        insert(c, &table, rows, |row, out| {
            for v in row {
                match v {
                    V::I(x) => out.int(Some(x)),
                    V::OI(x) => out.int(x),
                    V::S(s) => out.string(Some(s)),
                    V::O(s) => out.string(s),
                }
            }
        })
        .await
    }
}

/// Where [`insert`] writes: a table's columns, and what follows the rows (an
/// `ON CONFLICT …`, or nothing).
pub struct Table<'a> {
    pub name: &'a str,
    pub cols: &'a [&'a str],
    pub tail: &'a str,
}

/// The values of a statement's rows, each row's one per column in order.
#[derive(Default)]
pub struct Values(AnyArguments);

impl Values {
    // Adding an integer or a text to the Any driver's list cannot fail.
    pub fn int(&mut self, v: Option<i64>) {
        let _ = self.0.add(v);
    }
    pub fn text(&mut self, v: Option<&str>) {
        let _ = self.0.add(v);
    }
    /// A text given by value: moved into the list, not copied. (The Any driver encodes an
    /// `Option` by reference, which copies its text: the value goes in unwrapped.)
    pub fn string(&mut self, v: Option<String>) {
        let _ = match v {
            Some(s) => self.0.add(s),
            None => self.0.add(None::<String>),
        };
    }
}

/// Inserts `rows` into `t`, `values` giving a row's values: many rows per statement
/// ([`super::rows_per_insert`]), with anonymous parameters on SQLite ([`super::placeholders`]
/// says why).
pub async fn insert<R>(
    c: &mut impl Write,
    t: &Table<'_>,
    rows: impl IntoIterator<Item = R>,
    values: impl Fn(R, &mut Values),
) -> Result<(), sqlx::Error> {
    let per = super::rows_per_insert(c, t.cols.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<R> = rows.by_ref().take(per).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}{}",
            t.name,
            t.cols.join(", "),
            super::placeholders(c, chunk.len(), t.cols.len()),
            t.tail
        );
        let mut v = Values::default();
        for r in chunk {
            values(r, &mut v);
        }
        c.write(sqlx::query_with(sqlx::AssertSqlSafe(sql), v.0))
            .await?;
    }
    Ok(())
}
