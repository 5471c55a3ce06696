//! `loyalty serve import` (docs/migration.md, "Into the server"): the converted NDJSON and then
//! the exports themselves into one SQLite database — exit status, the job on stdout, the report
//! file, a second import that changes nothing, and `loyalty serve check` after it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/import")
        .join(name)
}

fn csv_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    v.sort();
    v
}

fn loyalty(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(args)
        .env_remove("LOYALTY_DB_URL")
        .output()
        .unwrap()
}

fn job(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn ndjson_then_exports_into_one_database() {
    let dir = fixture("sk-shop");
    let out = std::env::temp_dir().join(format!("le-serve-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let members = out.join("members.ndjson");
    let mut args: Vec<std::ffi::OsString> = vec!["import".into(), "--mapping".into()];
    args.push(dir.join("mapping.json").into());
    args.extend(["--policy".into(), dir.join("policy.json").into()]);
    args.extend([
        "--out".into(),
        members.clone().into(),
        "--allow-rejects".into(),
    ]);
    args.extend(csv_files(&dir).into_iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    assert_eq!(loyalty(&refs).status.code(), Some(0));

    let db = format!("sqlite://{}/loyalty.db", out.display());
    let report = out.join("job-report.json");
    let base: Vec<std::ffi::OsString> = vec![
        "serve".into(),
        "import".into(),
        "--db".into(),
        db.clone().into(),
        "--data-dir".into(),
        out.clone().into(),
        "--publish-policy".into(),
        dir.join("policy.json").into(),
        "--report".into(),
        report.clone().into(),
    ];
    let run = |extra: Vec<std::ffi::OsString>| {
        let all: Vec<std::ffi::OsString> = base.iter().cloned().chain(extra).collect();
        let refs: Vec<&std::ffi::OsStr> = all.iter().map(|a| a.as_os_str()).collect();
        loyalty(&refs)
    };
    // The NDJSON: the four members of the exports, clean.
    let o = run(vec!["--members".into(), members.clone().into()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let j = job(&o);
    assert_eq!(j["state"], "done");
    assert_eq!(j["source"], "ndjson");
    assert_eq!(j["counts"]["members_created"], 4);
    assert_eq!(j["counts"]["members_rejected"], 0);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["import"]["id"], j["id"]);
    assert_eq!(r["report"], Value::Null);

    // The exports themselves: the same four members (unchanged), and the engine's report with
    // its 7 rejected rows — not clean, exit 1.
    let mut extra: Vec<std::ffi::OsString> =
        vec!["--mapping".into(), dir.join("mapping.json").into()];
    extra.extend(csv_files(&dir).into_iter().map(Into::into));
    let o = run(extra);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let j = job(&o);
    assert_eq!(j["source"], "exports");
    assert_eq!(j["counts"]["members_created"], 0);
    assert_eq!(j["counts"]["members_unchanged"], 4);
    assert_eq!(j["counts"]["events_written"], 0);
    assert_eq!(j["summary"]["rows_rejected"], 7);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["report"]["rejected"].as_array().unwrap().len(), 7);
    assert_eq!(r["report"]["rejected"][0]["file"], "zakaznici.csv");

    // Every imported balance equals its replay.
    let o = loyalty(&[
        "serve".as_ref(),
        "check".as_ref(),
        "--db".as_ref(),
        db.as_ref(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["members"], 4);
    assert_eq!(c["differences"], serde_json::json!([]));

    // A database made by an import has no admin until `loyalty serve admin` makes one; its
    // password is printed once (the server's test checks that it logs in).
    let admin = |user: &str| {
        let o = loyalty(&[
            "serve".as_ref(),
            "admin".as_ref(),
            "--db".as_ref(),
            db.as_ref(),
            "--user".as_ref(),
            user.as_ref(),
        ]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = admin("owner");
    assert_eq!(code, Some(0), "{stderr}");
    let password = stdout
        .strip_prefix("admin user: owner\nadmin password: ")
        .and_then(|p| p.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        password.len() == 24 && password.bytes().all(|b| b.is_ascii_hexdigit()),
        "{password}"
    );
    assert!(stderr.contains("owner created"), "{stderr}");
    let (code, stdout, stderr) = admin("owner");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains(password), "a reset gives another password");
    assert!(stderr.contains("owner has a new password"), "{stderr}");
    let (code, _, stderr) = admin("two words");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--user"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}

/// `serve check`, `admin`, `backup` and the source of `copy` work on a programme that exists: a
/// SQLite path naming no file is refused (exit 2, the path in the message) and nothing is
/// created there — a mistyped path must not "check" a new, empty programme as fine.
#[test]
fn operations_refuse_a_database_that_does_not_exist() {
    let dir = std::env::temp_dir().join(format!("loyalty-missing-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("typo").join("loyalty.db");
    let url = format!("sqlite://{}", path.display());
    let out = dir.join("backup.db");
    let to = format!("sqlite://{}", dir.join("copy.db").display());
    let runs: [Vec<&std::ffi::OsStr>; 4] = [
        vec!["check".as_ref(), "--db".as_ref(), url.as_ref()],
        vec![
            "admin".as_ref(),
            "--db".as_ref(),
            url.as_ref(),
            "--user".as_ref(),
            "a".as_ref(),
        ],
        vec![
            "backup".as_ref(),
            "--db".as_ref(),
            url.as_ref(),
            "--out".as_ref(),
            out.as_ref(),
        ],
        vec![
            "copy".as_ref(),
            "--from".as_ref(),
            url.as_ref(),
            "--to".as_ref(),
            to.as_ref(),
        ],
    ];
    for args in runs {
        let mut all: Vec<&std::ffi::OsStr> = vec!["serve".as_ref()];
        all.extend(args);
        let o = loyalty(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {err}");
        assert!(
            err.contains("no database at") && err.contains("typo"),
            "{all:?}: {err}"
        );
        assert!(!path.exists(), "{all:?} created {}", path.display());
    }
    assert!(!dir.join("copy.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
