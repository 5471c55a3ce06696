//! `loyalty simulate` (SPEC §5): the same report with any thread count, from a file or stdin.

use loyalty_engine::generate::{member_line, GenerateOptions, Plan};

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/docs/examples/{name}.json",
        concat!(env!("CARGO_MANIFEST_DIR"), "/..")
    ))
    .unwrap()
}

fn lines(profile: &str, members: u64, seed: u64, months: u32) -> Vec<String> {
    let plan = Plan::new(&GenerateOptions {
        members,
        seed,
        months,
        profile: profile.into(),
        as_of: None,
    })
    .unwrap();
    (0..members).map(|i| member_line(&plan, i)).collect()
}

const SK_AS_OF: &str = "2026-10-01T00:00:00+02:00";

fn request_json(draft: &str, baseline: &str, members: &[String], as_of: &str) -> String {
    format!(
        r#"{{"policy":{draft},"baseline":{baseline},"members":[{}],"as_of":"{as_of}"}}"#,
        members.join(",")
    )
}

#[test]
fn cli_simulate_is_the_same_with_any_thread_count_and_goes_on_after_bad_lines() {
    let dir = std::env::temp_dir().join(format!("loyalty-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("members.ndjson");
    let mut members = lines("sk-grocery", 300, 11, 6);
    members.insert(100, "{not json".into());
    members.insert(200, String::new()); // blank: skipped, keeps its line number
    std::fs::write(&file, members.join("\n") + "\n").unwrap();
    // The same lines with CRLF ends, blank lines of spaces and CRs, and no final line end.
    let crlf = dir.join("members-crlf.ndjson");
    let mut other = members.clone();
    other.insert(150, " \r".into());
    other.insert(0, "\t".into());
    std::fs::write(&crlf, other.join("\r\n")).unwrap();
    let run_on = |file: &std::path::Path, stdin: bool, threads: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_loyalty"));
        cmd.args(["simulate", "--policy"])
            .arg(format!(
                "{}/docs/examples/sk-grocery-draft.json",
                concat!(env!("CARGO_MANIFEST_DIR"), "/..")
            ))
            .arg("--baseline")
            .arg(format!(
                "{}/docs/examples/sk-grocery-baseline.json",
                concat!(env!("CARGO_MANIFEST_DIR"), "/..")
            ))
            .arg("--members");
        // From a file or from standard input: same lines, same numbers.
        if stdin {
            cmd.arg("-").stdin(std::fs::File::open(file).unwrap());
        } else {
            cmd.arg(file);
        }
        let out = cmd
            .args(["--as-of", SK_AS_OF, "--threads", threads])
            .output()
            .unwrap();
        assert!(out.status.success());
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let run = |threads: &str| run_on(&file, false, threads);
    let (one, err1) = run("1");
    assert_eq!(run_on(&file, true, "2").0, one);
    // One blank line more before the bad one (and one after it): only its path moves.
    let (shifted, err_crlf) = run_on(&crlf, false, "2");
    assert_eq!(run_on(&crlf, true, "2").0, shifted);
    assert_eq!(shifted.replace("members[101]", "members[100]"), one);
    assert!(
        err_crlf.contains("line 102: invalid_request at members[101]"),
        "{err_crlf}"
    );
    let (two, _) = run("2");
    let (four, _) = run("4");
    assert_eq!(one, two);
    assert_eq!(one, four);
    assert!(
        err1.contains("line 101: invalid_request at members[100]"),
        "{err1}"
    );
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["members"], 300);
    assert_eq!(v["rejected"].as_array().unwrap().len(), 1, "{one}");
    // The same members through the library give the same report.
    let good: Vec<String> = members
        .iter()
        .filter(|m| m.starts_with("{\"member"))
        .cloned()
        .collect();
    let lib = loyalty_engine::api::simulate_json(&request_json(
        &example("sk-grocery-draft"),
        &example("sk-grocery-baseline"),
        &good,
        SK_AS_OF,
    ));
    let lib: serde_json::Value = serde_json::from_str(&lib).unwrap();
    // The same figures without the malformed line.
    assert_eq!(lib["points"], v["points"]);
    assert_eq!(lib["by_month"], v["by_month"]);
    assert_eq!(lib["diff"], v["diff"]);
    std::fs::remove_dir_all(&dir).ok();
}
