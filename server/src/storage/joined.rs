//! Rows read as **one text**: `string_agg` of each row's fields with control-character
//! separators, split back here. sqlx's SQLite driver hands every row from the connection's
//! thread to the async task, two thread switches a row, which cost more than the reading (a
//! 1,247-event history: 2,500 switches; `serve check` of a million members: 24.6 M); a text per
//! member costs two. JSON text never holds a raw control character; an id or a name that does
//! is found by [`split`] and the caller reads the rows one by one. Same SQL on SQLite (3.44+)
//! and PostgreSQL. The aggregate has no `ORDER BY` (on SQLite it sorted the joined records
//! through a temporary B-tree, a third of the database thread's time on a long history): each
//! record carries its order and the caller sorts.

/// Separates the fields of a record.
pub const FIELD: char = '\u{1f}';
/// Separates records.
pub const RECORD: char = '\u{1e}';

/// `sql` (text: the statements here are built, not literal) with `$1` bound to a member and
/// `$2` / `$3` to [`FIELD`] and [`RECORD`], the placeholders its [`agg`]s name; further values
/// may be bound after them.
pub fn member_query(
    sql: String,
    member_id: &str,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(member_id)
        .bind(FIELD.to_string())
        .bind(RECORD.to_string())
}

/// `string_agg(f₁ || F || f₂ …, R)` of SQL text expressions, with `field` and `record` the
/// placeholders bound to [`FIELD`] and [`RECORD`] (`FIELD.to_string()`).
pub fn agg(fields: &[&str], field: &str, record: &str) -> String {
    format!(
        "string_agg({}, {record})",
        fields.join(&format!(" || {field} || "))
    )
}

/// An integer column as text for [`agg`].
pub fn int(col: &str) -> String {
    format!("CAST({col} AS TEXT)")
}

/// A nullable text column for [`agg`]: `=` and the text, or empty for NULL (read back by
/// [`opt`]).
pub fn nullable(col: &str) -> String {
    format!("COALESCE('=' || {col}, '')")
}

/// A [`nullable`] field read back.
pub fn opt(field: &str) -> Option<String> {
    field.strip_prefix('=').map(str::to_string)
}

/// The records of [`agg`]'s text, `n` fields each; None when a field held a separator (the
/// count does not match).
pub fn split(joined: &str, n: usize) -> Option<Vec<Vec<&str>>> {
    joined
        .split(RECORD)
        .map(|record| {
            let fields: Vec<&str> = record.split(FIELD).collect();
            (fields.len() == n).then_some(fields)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_back_or_refuse_a_stray_separator() {
        let joined = format!("1{FIELD}=a{FIELD}{RECORD}2{FIELD}{FIELD}x");
        let v = split(&joined, 3).unwrap();
        assert_eq!(v, vec![vec!["1", "=a", ""], vec!["2", "", "x"]]);
        assert_eq!((opt(v[0][1]), opt(v[1][1])), (Some("a".into()), None));
        assert!(split(&format!("1{FIELD}a{FIELD}b{FIELD}c"), 3).is_none());
        assert!(split(&format!("1{FIELD}a{RECORD}b"), 2).is_none());
        assert_eq!(
            agg(&["a", &int("b")], "$2", "$3"),
            "string_agg(a || $2 || CAST(b AS TEXT), $3)"
        );
    }
}
