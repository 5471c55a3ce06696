//! Policies by digest and their published versions.

use sqlx::{AnyConnection, Row};

/// A published version: in force from `effective_at` (epoch ms).
#[derive(Clone, Debug)]
pub struct Version {
    pub effective_at: i64,
    pub digest: String,
    pub document: String,
    pub published_at: i64,
}

pub async fn insert(
    c: &mut AnyConnection,
    digest: &str,
    document: &str,
    now: i64,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO policies (digest, document, created_at, created_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (digest) DO NOTHING",
    )
    .bind(digest)
    .bind(document)
    .bind(now)
    .bind(by)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn document(c: &mut AnyConnection, digest: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT document FROM policies WHERE digest = $1")
        .bind(digest)
        .fetch_optional(c)
        .await?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

/// Every published version, ascending `effective_at`.
pub async fn versions(c: &mut AnyConnection) -> Result<Vec<Version>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT v.effective_at, v.digest, p.document, v.published_at FROM policy_versions v \
         JOIN policies p ON p.digest = v.digest ORDER BY v.effective_at",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Version {
            effective_at: r.get(0),
            digest: r.get(1),
            document: r.get(2),
            published_at: r.get(3),
        })
        .collect())
}

/// The published versions as one text (`storage::joined`, `$2` / `$3` the separators): each
/// version's instant, digest and publishing instant, without the documents — read with another
/// statement's rows (a booking's events), the documents then come from [`with_documents`].
pub const VERSIONS_AGG: &str =
    "(SELECT string_agg(CAST(effective_at AS TEXT) || $2 || digest || $2 \
     || CAST(published_at AS TEXT), $3) FROM policy_versions)";

/// [`VERSIONS_AGG`]'s text as versions, ascending `effective_at`, with their documents: kept by
/// digest in this process (a digest names one document, so a kept one is never stale), read
/// from the database the first time. None when the text does not split (the caller reads
/// [`versions`]).
pub async fn with_documents(
    c: &mut AnyConnection,
    text: Option<&str>,
) -> Result<Option<Vec<Version>>, sqlx::Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static DOCUMENTS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let Some(text) = text else {
        return Ok(Some(Vec::new()));
    };
    let Some(records) = super::joined::split(text, 3) else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let (Ok(effective_at), Ok(published_at)) = (r[0].parse(), r[2].parse()) else {
            return Ok(None);
        };
        let digest = r[1].to_string();
        let kept = DOCUMENTS
            .get_or_init(Default::default)
            .lock()
            .ok()
            .and_then(|m| m.get(&digest).cloned());
        let document = match kept {
            Some(d) => d,
            None => {
                let Some(d) = document(c, &digest).await? else {
                    return Ok(None);
                };
                if let Ok(mut m) = DOCUMENTS.get_or_init(Default::default).lock() {
                    m.insert(digest.clone(), d.clone());
                }
                d
            }
        };
        out.push(Version {
            effective_at,
            digest,
            document,
            published_at,
        });
    }
    out.sort_by_key(|v| v.effective_at);
    Ok(Some(out))
}

pub async fn publish(
    c: &mut AnyConnection,
    digest: &str,
    effective_at: i64,
    now: i64,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO policy_versions (effective_at, digest, published_at, published_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (effective_at) DO NOTHING",
    )
    .bind(effective_at)
    .bind(digest)
    .bind(now)
    .bind(by)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stored policies, newest first, with the instants they were published from.
pub async fn list(c: &mut AnyConnection) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT digest, created_at, created_by FROM policies ORDER BY created_at DESC, digest",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}
