//! `/v1/imports` (admin): upload a live programme's exports with their mapping, or member
//! NDJSON, and follow the background job that loads them (`crate::import`; docs/migration.md,
//! "Into the server").

use crate::app::App;
use crate::auth::Auth;
use crate::http::{json_response, ok_json, ApiError};
use crate::import::{self, Job, Source};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use loyalty_engine::import::mapping::Mapping;
use serde_json::json;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// The largest upload: 16 GiB (the 1 M customers / 20 M rows exports are 1.4 GB).
pub const MAX_UPLOAD_BYTES: usize = 16 << 30;
/// The largest mapping part.
const MAX_MAPPING_BYTES: usize = 1 << 20;

/// A file name from an upload: its base name, without path separators or `..`.
fn safe_name(name: &str) -> Result<String, ApiError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "." || base == ".." || base.len() > 255 || base.contains('\0') {
        return Err(ApiError::invalid(
            "files",
            format!("{name:?} is not a usable file name"),
        ));
    }
    Ok(base.to_string())
}

/// Streams an upload into a file, at most `limit` bytes in all (`total` counts across parts).
async fn save<S, E>(
    mut stream: S,
    path: &std::path::Path,
    total: &mut usize,
) -> Result<(), ApiError>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut f = tokio::fs::File::create(path)
        .await
        .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid("", format!("the upload broke off: {e}")))?;
        *total += chunk.len();
        if *total > MAX_UPLOAD_BYTES {
            return Err(ApiError::TooLarge {
                message: format!("an import is at most {MAX_UPLOAD_BYTES} bytes"),
                path: String::new(),
            });
        }
        f.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
    }
    f.flush()
        .await
        .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

/// Reads the upload into the job's folder: the source it describes.
async fn receive(app: &App, req: Request, dir: &std::path::Path) -> Result<Source, ApiError> {
    let files_dir = dir.join("files");
    tokio::fs::create_dir_all(&files_dir)
        .await
        .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", files_dir.display())))?;
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut total = 0usize;
    if ctype.starts_with("application/x-ndjson") || ctype.starts_with("application/jsonl") {
        let file = files_dir.join("members.ndjson");
        let stream = req.into_body().into_data_stream();
        save(stream, &file, &mut total).await?;
        return Ok(Source::Ndjson { file });
    }
    if !ctype.starts_with("multipart/form-data") {
        return Err(ApiError::invalid(
            "",
            "send multipart/form-data (a `mapping` part and the exports as `files` parts, or a `members` part) or application/x-ndjson (member lines)",
        ));
    }
    let mut mp = Multipart::from_request(req, app)
        .await
        .map_err(|e| ApiError::invalid("", format!("not a multipart body: {e}")))?;
    let mut mapping: Option<Mapping> = None;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut members: Option<PathBuf> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::invalid(
                    "",
                    format!("the multipart body is broken: {e}"),
                ))
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "mapping" => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| ApiError::invalid("mapping", format!("unreadable: {e}")))?;
                if text.len() > MAX_MAPPING_BYTES {
                    return Err(ApiError::TooLarge {
                        message: format!("the mapping is longer than {MAX_MAPPING_BYTES} bytes"),
                        path: "mapping".into(),
                    });
                }
                let mut de = serde_json::Deserializer::from_str(&text);
                let m: Mapping = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                    let p = e.path().to_string();
                    let path = if p == "." {
                        "mapping".to_string()
                    } else {
                        format!("mapping.{p}")
                    };
                    ApiError::invalid(path, e.inner().to_string())
                })?;
                mapping = Some(m);
            }
            "files" | "file" => {
                let base = safe_name(field.file_name().unwrap_or_default())?;
                let path = files_dir.join(&base);
                if files.contains(&path) {
                    return Err(ApiError::invalid(
                        "files",
                        format!("{base} is uploaded twice"),
                    ));
                }
                save(field, &path, &mut total).await?;
                files.push(path);
            }
            "members" => {
                if members.is_some() {
                    return Err(ApiError::invalid("members", "one `members` part at most"));
                }
                let path = files_dir.join("members.ndjson");
                save(field, &path, &mut total).await?;
                members = Some(path);
            }
            other => {
                return Err(ApiError::invalid(
                    other,
                    format!(
                        "unknown part {other:?}: the parts are `mapping` and `files`, or `members`"
                    ),
                ))
            }
        }
    }
    match (mapping, members) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "members",
            "send a mapping with its exports, or members, not both",
        )),
        (None, Some(file)) => {
            if !files.is_empty() {
                return Err(ApiError::invalid(
                    "files",
                    "exports need their `mapping` part",
                ));
            }
            Ok(Source::Ndjson { file })
        }
        (Some(m), None) => {
            for (i, f) in m.files.iter().enumerate() {
                if !files
                    .iter()
                    .any(|p| p.file_name().is_some_and(|n| *n == *f.file))
                {
                    return Err(ApiError::invalid(
                        format!("mapping.files[{i}].file"),
                        format!("the mapping describes {} but it was not uploaded", f.file),
                    ));
                }
            }
            for p in &files {
                let base = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !m.files.iter().any(|f| f.file == base) {
                    return Err(ApiError::invalid(
                        "files",
                        format!("{base} is not described by the mapping"),
                    ));
                }
            }
            Ok(Source::Exports {
                mapping: Box::new(m),
                files,
            })
        }
        (None, None) => Err(ApiError::invalid(
            "",
            "nothing to import: send a `mapping` part with `files` parts, or a `members` part",
        )),
    }
}

/// Starts an import job: the exports with their mapping (multipart: a `mapping` part, JSON as
/// in docs/migration.md, and one `files` part per export, CSV or `.xlsx`, named as the mapping
/// names it), or member NDJSON (multipart `members` part, or the body itself as
/// `application/x-ndjson`; lines may carry `phone`, `name` and `cards` beside `member` and
/// `events`). 202 with the job; follow it at `/v1/imports/{id}`.
#[utoipa::path(post, path = "/v1/imports", tag = "admin",
    request_body(description = "multipart/form-data (`mapping` + `files`, or `members`), or member NDJSON",
        content(("multipart/form-data"), ("application/x-ndjson"))),
    responses((status = 202, description = "the job (as GET /v1/imports/{id}); Location names it", body = Object),
        (status = 400), (status = 401), (status = 403), (status = 413)))]
pub async fn create(
    State(app): State<App>,
    auth: Auth,
    req: Request,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let now = app.clock.now_ms();
    let id = import::new_id(now);
    let dir = app.data_dir.join("imports").join(&id);
    let source = match receive(&app, req, &dir).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            return Err(e);
        }
    };
    let job = Job {
        id: id.clone(),
        source,
        work_dir: dir.clone(),
        memory_budget: import::DEFAULT_MEMORY,
    };
    if let Err(e) = import::create(&app.db, &job, &format!("admin:{user}"), now).await {
        let _ = tokio::fs::remove_dir_all(&dir).await;
        return Err(e.into());
    }
    let db = app.db.clone();
    let clock = app.clock.clone();
    tokio::spawn(async move {
        let _ = import::run(db, clock, job).await;
    });
    let mut c = app.db.read.acquire().await?;
    let status = import::status(&mut c, &id)
        .await?
        .ok_or_else(|| ApiError::internal("the job vanished"))?;
    let mut r = json_response(StatusCode::ACCEPTED, status.to_string());
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/imports/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most 100 (default 20).
    pub limit: Option<i64>,
}

/// The latest import jobs, newest first.
#[utoipa::path(get, path = "/v1/imports", tag = "admin", params(ListQuery),
    responses((status = 200, description = "`{ items: [job] }`", body = Object), (status = 401), (status = 403)))]
pub async fn list(
    State(app): State<App>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1 to 100"));
    }
    import::mark_interrupted(&app.db, app.clock.now_ms()).await?;
    let mut c = app.db.read.acquire().await?;
    let items = import::list(&mut c, limit).await?;
    Ok(ok_json(json!({ "items": items }).to_string()))
}

/// One import job: `state` (queued, running, done, failed), `phase` (reading the exports,
/// storing members, reporting), `progress` (`fraction` once the members are being stored),
/// `counts` (members created, unchanged, conflicting, rejected; events and cards written),
/// the engine report's `summary` (exports), the `error` of a failed job, and `report` — the
/// URL of the full report once done.
#[utoipa::path(get, path = "/v1/imports/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "the job", body = Object), (status = 401), (status = 403), (status = 404)))]
pub async fn get(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    import::mark_interrupted(&app.db, app.clock.now_ms()).await?;
    let mut c = app.db.read.acquire().await?;
    match import::status(&mut c, &id).await? {
        Some(s) => Ok(ok_json(s.to_string())),
        None => Err(ApiError::not_found("id", format!("no import {id}"))),
    }
}

/// The report of a finished job, JSON: `{ import, conflicts, rejected, report }` — the job as
/// it ended; members not written because a different one exists, and phones or cards not
/// stored because another member holds them (`{ member_id, line, reason }`); members rejected
/// (a line that is not a member, a history that does not replay); and the engine's integrity
/// report of the exports (docs/migration.md, "Report"; null for NDJSON).
#[utoipa::path(get, path = "/v1/imports/{id}/report", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "the report (JSON, streamed)", body = Object), (status = 404), (status = 409, description = "invalid_state: the job has not finished")))]
pub async fn report(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let Some(s) = import::status(&mut c, &id).await? else {
        return Err(ApiError::not_found("id", format!("no import {id}")));
    };
    if s["state"] != "done" {
        return Err(ApiError::invalid_state(format!(
            "import {id} is {}: its report is ready when it is done",
            s["state"].as_str().unwrap_or_default()
        )));
    }
    drop(c);
    let db = app.db.clone();
    let stream = futures_util::stream::unfold(0i64, move |n| {
        let db = db.clone();
        let id = id.clone();
        async move {
            let chunk = match db.read.acquire().await {
                Ok(mut c) => import::report_chunk(&mut c, &id, n).await,
                Err(e) => Err(e),
            };
            match chunk {
                Ok(Some(text)) => Some((Ok::<_, std::io::Error>(text), n + 1)),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), i64::MAX)),
            }
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}
