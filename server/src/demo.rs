//! `loyalty serve --demo`: an empty database gets a demo programme — the SPEC §1 policy
//! (published), six stores with a till each, an admin, a till key, and generated members
//! (`loyalty generate`'s vn-fashion histories up to now) with phones and cards. The credentials
//! go to `loyalty-data/demo-credentials` (mode 0600), whose lines every `--demo` start prints.
//! A database that already holds a programme is left as it is.

use crate::app::App;
use crate::auth::{keys, password};
use crate::storage::{self, members, policies, settings};
use loyalty_engine::generate::{member_line, GenerateOptions, Plan};
use std::path::Path;

/// The SPEC §1 policy (the worked example's).
pub fn spec_policy() -> String {
    let v: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/vectors/quote/001-spec-worked-example.json"
    ))
    .unwrap_or_default();
    v.pointer("/request/policy")
        .cloned()
        .unwrap_or_default()
        .to_string()
}

pub const STORES: [(&str, &str); 6] = [
    ("hcm-01", "Quận 1, TP. Hồ Chí Minh"),
    ("hcm-02", "Quận 3, TP. Hồ Chí Minh"),
    ("hcm-03", "Thủ Đức, TP. Hồ Chí Minh"),
    ("hn-01", "Hoàn Kiếm, Hà Nội"),
    ("hn-02", "Cầu Giấy, Hà Nội"),
    ("dn-01", "Hải Châu, Đà Nẵng"),
];

const FAMILY: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
const MIDDLE: [&str; 4] = ["Văn", "Thị", "Minh", "Ngọc"];
const GIVEN: [&str; 10] = [
    "An", "Bình", "Châu", "Dũng", "Hà", "Hương", "Khánh", "Linh", "Phúc", "Trang",
];

/// A card number: `8800` + 8 digits + a Luhn check digit.
pub fn card_number(n: u64) -> String {
    let body = format!("8800{:08}", n % 100_000_000);
    format!("{body}{}", luhn(&body))
}

/// The Luhn check digit of a string of digits.
pub fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn credentials_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("demo-credentials")
}

fn read_credentials(data_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(credentials_path(data_dir))
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Seeds an empty database; returns the credentials file's lines.
pub async fn seed(
    app: &App,
    data_dir: &Path,
    n_members: u64,
    now: i64,
) -> Result<Vec<String>, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut c = app.db.write.acquire().await.map_err(e)?;
    let existing = policies::versions(&mut c).await.map_err(e)?;
    drop(c);
    if !existing.is_empty() {
        let lines = read_credentials(data_dir);
        if lines.is_empty() {
            return Ok(vec![format!(
                "demo: the database already holds a programme; {} has no credentials (not seeded here)",
                credentials_path(data_dir).display()
            )]);
        }
        return Ok(lines);
    }
    let admin_password = storage::random_hex(8);
    let hash = password::hash(admin_password.clone()).await?;
    let policy = spec_policy();
    let validated = loyalty_engine::api::validate_json(&policy);
    let digest = serde_json::from_str::<serde_json::Value>(&validated)
        .ok()
        .and_then(|v| {
            v.get("policy_digest")
                .and_then(|d| d.as_str())
                .map(str::to_string)
        })
        .ok_or_else(|| format!("the demo policy does not validate: {validated}"))?;
    let mut tx = app.db.begin().await.map_err(e)?;
    policies::insert(&mut tx, &digest, &policy, now, "demo")
        .await
        .map_err(e)?;
    policies::publish(&mut tx, &digest, now, now, "demo")
        .await
        .map_err(e)?;
    for (id, name) in STORES {
        sqlx::query("INSERT INTO stores (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
        sqlx::query("INSERT INTO tills (id, store_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(format!("{id}-t1"))
            .bind(id)
            .bind("Quầy 1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
    }
    sqlx::query("INSERT INTO admins (username, password_hash, created_at) VALUES ($1, $2, $3)")
        .bind("admin")
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    let (_, till_key) = keys::create(&mut tx, "till", Some("hcm-01-t1"), now)
        .await
        .map_err(e)?;
    settings::set(&mut tx, settings::COUNTRY, "VN")
        .await
        .map_err(e)?;
    settings::set(&mut tx, settings::HOLD_MINUTES, "15")
        .await
        .map_err(e)?;
    settings::set(
        &mut tx,
        settings::PROGRAMME_NAME,
        "VN Fashion Rewards (demo)",
    )
    .await
    .map_err(e)?;
    storage::audit(
        &mut tx,
        now,
        "demo",
        "demo.seed",
        "programme",
        &serde_json::json!({ "members": n_members }),
    )
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;

    let as_of = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| unreachable!()))
        .format("%Y-%m-%dT%H:%M:%S+07:00")
        .to_string();
    let plan = Plan::new(&GenerateOptions {
        members: n_members,
        seed: 2026,
        months: 18,
        profile: "vn-fashion".into(),
        as_of: Some(as_of),
    })
    .map_err(|e| e.into_body().message)?;
    let versions = {
        let mut c = app.db.read.acquire().await.map_err(e)?;
        policies::versions(&mut c).await.map_err(e)?
    };
    let mut skipped = 0u64;
    let mut out = crate::load::Histories::new(&versions, now, "demo")?;
    for i in 0..n_members {
        let line: serde_json::Value =
            serde_json::from_str(&member_line(&plan, i)).map_err(|e| e.to_string())?;
        let m = &line["member"];
        let id = m["id"].as_str().unwrap_or_default().to_string();
        let status = m["status"].as_str().unwrap_or("active").to_string();
        let joined = m["joined_at"]
            .as_str()
            .and_then(crate::clock::parse_rfc3339)
            .unwrap_or(now);
        let unassigned = status == "unassigned";
        let phone = (!unassigned).then(|| format!("+849{:08}", 10_000_000 + i));
        let name = (!unassigned).then(|| {
            format!(
                "{} {} {}",
                FAMILY[(i % 8) as usize],
                MIDDLE[(i / 8 % 4) as usize],
                GIVEN[(i / 32 % 10) as usize]
            )
        });
        let history = crate::load::History {
            events: crate::load::stored_events(&line["events"], joined),
            member: members::Member {
                id,
                status,
                joined_at: joined,
                phone,
                name,
                version: 0,
                cached_at: None,
            },
            card: card_number(i),
            card_type: if i % 10 == 0 { "vip" } else { "standard" },
            card_issued_at: now,
        };
        if out.push(history).is_err() {
            skipped += 1;
        }
        if out.queued() >= 500 {
            out.flush(&app.db).await?;
        }
    }
    out.finish(&app.db).await?;
    let mut tx = app.db.begin().await.map_err(e)?;
    // Ten anonymous pre-issued cards, not yet bound.
    for k in 0..10 {
        members::insert_card(
            &mut tx,
            &card_number(90_000_000 + k),
            None,
            "standard",
            "unassigned",
            now,
        )
        .await
        .map_err(e)?;
    }
    tx.commit().await.map_err(e)?;

    let lines = vec![
        "admin user: admin".to_string(),
        format!("admin password: {admin_password}"),
        format!("till key: {till_key}"),
        "till: hcm-01-t1".to_string(),
        "store: hcm-01".to_string(),
        format!("members: {}", n_members - skipped),
        format!("policy: {digest}"),
        format!("example card: {}", card_number(1)),
    ];
    std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
    let path = credentials_path(data_dir);
    write_private(&path, &(lines.join("\n") + "\n"))?;
    Ok(lines)
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn card_numbers_carry_a_luhn_digit() {
        // 7992739871 → check digit 3 (the usual Luhn example).
        assert_eq!(super::luhn("7992739871"), 3);
        let c = super::card_number(1);
        assert_eq!(c.len(), 13);
        assert_eq!(c, "8800000000013");
    }
}
