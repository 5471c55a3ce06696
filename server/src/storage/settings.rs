//! Programme settings that are not the policy's (SPEC §8.1), as key → JSON text.

use sqlx::{AnyConnection, Row};

pub const HOLD_MINUTES: &str = "hold_minutes";
pub const COUNTRY: &str = "country";
pub const WIDGET_ORIGINS: &str = "widget_origins";
pub const WIDGET_SECRET: &str = "widget_secret";
pub const PROGRAMME_NAME: &str = "programme_name";
/// The most rows a background export may have (default 100,000,000).
pub const EXPORT_MAX_ROWS: &str = "export_max_rows";
/// A background export's CSV part size in bytes (default 1,048,576).
pub const EXPORT_PART_BYTES: &str = "export_part_bytes";
/// The fewest members an import builds the report rows' secondary indexes at its end for
/// (`reports::indexes`; default 100,000, 0 never).
pub const IMPORT_INDEXES_AT: &str = "import_indexes_at";

pub async fn get(c: &mut AnyConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(c)
        .await?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

pub async fn set(c: &mut AnyConnection, key: &str, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn all(c: &mut AnyConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT key, value FROM settings ORDER BY key")
        .fetch_all(c)
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
