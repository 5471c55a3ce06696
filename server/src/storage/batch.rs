//! Rows of one table inserted many per statement: the bulk writers' (the import, the loader,
//! the report rows) one way of writing a multi-row INSERT on both databases.

/// A value of a batched row.
pub enum V {
    I(i64),
    S(String),
    O(Option<String>),
    OI(Option<i64>),
}

/// Rows of one table, inserted [`super::rows_per_insert`] per statement.
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

    /// Inserts the rows, many per statement (with anonymous parameters on SQLite:
    /// [`super::placeholders`] says why), and empties the batch.
    pub async fn flush(&mut self, c: &mut impl super::writer::Write) -> Result<(), sqlx::Error> {
        let per = super::rows_per_insert(c, self.cols.len());
        let mut rows = std::mem::take(&mut self.rows).into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<V>> = rows.by_ref().take(per).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}{}",
                self.table,
                self.cols.join(", "),
                super::placeholders(c, chunk.len(), self.cols.len()),
                self.on_conflict
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk.into_iter().flatten() {
                q = match v {
                    V::I(x) => q.bind(x),
                    V::S(s) => q.bind(s),
                    V::O(s) => q.bind(s),
                    V::OI(x) => q.bind(x),
                };
            }
            c.write(q).await?;
        }
        Ok(())
    }
}
