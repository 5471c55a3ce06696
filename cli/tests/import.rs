//! `loyalty import` (docs/migration.md): exit status and the integrity report on disk.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/import")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("le-import-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
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

#[test]
fn cli_exit_status_and_report() {
    let dir = fixture("sk-shop");
    let out = tmp("cli");
    std::fs::create_dir_all(&out).unwrap();
    let bin = env!("CARGO_BIN_EXE_loyalty");
    let args = |extra: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("import")
            .arg("--mapping")
            .arg(dir.join("mapping.json"))
            .arg("--policy")
            .arg(dir.join("policy.json"))
            .arg("--out")
            .arg(out.join("members.ndjson"))
            .arg("--report")
            .arg(out.join("report.json"))
            .args(extra)
            .args(csv_files(&dir));
        c.output().unwrap()
    };
    let o = args(&[]);
    assert_eq!(o.status.code(), Some(1), "rejected rows fail the import");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["rows_rejected"], 7);
    assert_eq!(report["rejected"][0]["file"], "zakaznici.csv");
    assert_eq!(report["totals"]["balanced"], true);
    let o = args(&["--allow-rejects"]);
    assert_eq!(o.status.code(), Some(0));
    let members = std::fs::read_to_string(out.join("members.ndjson")).unwrap();
    assert_eq!(members.lines().count(), 4);
    assert!(members.contains("\"Z-100\""));
    // A mapping naming a column the file lacks stops the import (exit 2), no partial report.
    let mut bad = Command::new(bin);
    let m = out.join("mapping.json");
    std::fs::write(
        &m,
        std::fs::read_to_string(dir.join("mapping.json"))
            .unwrap()
            .replace("\"Telefón\"", "\"Mobil\""),
    )
    .unwrap();
    let o = bad
        .args(["import", "--mapping"])
        .arg(&m)
        .arg("--out")
        .arg(out.join("x.ndjson"))
        .args(csv_files(&dir))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no column \"Mobil\""));
    let _ = std::fs::remove_dir_all(out);
}
