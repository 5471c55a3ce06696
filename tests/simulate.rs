//! Simulate (SPEC §5) beyond the vectors: the incremental and parallel forms give exactly the
//! one-shot answer, and the generator is deterministic and writes histories every example
//! policy accepts.

use loyalty_engine::generate::{member_line, GenerateOptions, Plan};
use loyalty_engine::simulate::{Setup, Simulator};
use loyalty_engine::SimulateRequest;

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/docs/examples/{name}.json",
        env!("CARGO_MANIFEST_DIR")
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

const VN_AS_OF: &str = "2026-10-01T00:00:00+07:00";
const SK_AS_OF: &str = "2026-10-01T00:00:00+02:00";

fn request_json(draft: &str, baseline: &str, members: &[String], as_of: &str) -> String {
    format!(
        r#"{{"policy":{draft},"baseline":{baseline},"members":[{}],"as_of":"{as_of}"}}"#,
        members.join(",")
    )
}

#[test]
fn generated_histories_replay_without_rejections() {
    for (profile, as_of) in [("vn-fashion", VN_AS_OF), ("sk-grocery", SK_AS_OF)] {
        let members = lines(profile, 300, 7, 14);
        let draft = example(&format!("{profile}-draft"));
        let base = example(&format!("{profile}-baseline"));
        let out = loyalty_engine::api::simulate_json(&request_json(&draft, &base, &members, as_of));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["rejected"], serde_json::json!([]), "{profile}: {out}");
        assert_eq!(v["members"], 300, "{profile}");
        assert!(v["points"]["issued"].as_i64().unwrap() > 0, "{profile}");
        assert!(v["points"]["redeemed"].as_i64().unwrap() > 0, "{profile}");
        assert!(v["diff"]["baseline"]["members"] == 300, "{profile}");
    }
}

#[test]
fn generator_is_deterministic_per_member() {
    let a = lines("sk-grocery", 20, 99, 6);
    let b = lines("sk-grocery", 20, 99, 6);
    assert_eq!(a, b);
    // Member i does not depend on how many members are written.
    let c = lines("sk-grocery", 5, 99, 6);
    assert_eq!(&a[..5], &c[..]);
    assert_ne!(a, lines("sk-grocery", 20, 100, 6));
    // The whole-text form is the lines joined, each ending with a newline.
    let text = loyalty_engine::generate(&GenerateOptions {
        members: 5,
        seed: 99,
        months: 6,
        profile: "sk-grocery".into(),
        as_of: None,
    })
    .unwrap();
    assert_eq!(text, c.iter().map(|l| format!("{l}\n")).collect::<String>());
    // Realistic mix: refunds, redemptions, status changes, opening balances appear.
    let all = lines("vn-fashion", 400, 1, 12).join("\n");
    for kind in [
        "\"type\":\"refund\"",
        "\"redeem_points\":",
        "\"type\":\"status\"",
        "\"type\":\"opening_balance\"",
        "\"type\":\"set_tier\"",
        "\"type\":\"adjust\"",
        "\"status\":\"unassigned\"",
        "\"status\":\"inactive\"",
    ] {
        assert!(all.contains(kind), "no {kind} in 400 generated members");
    }
}

#[test]
fn incremental_parallel_and_typed_forms_agree() {
    let members = lines("vn-fashion", 120, 3, 12);
    let mut with_bad = members.clone();
    with_bad.insert(7, r#"{"member":{"id":"bad"},"events":[]}"#.into());
    with_bad.insert(50, "17".into());
    let draft = example("vn-fashion-draft");
    let base = example("vn-fashion-baseline");
    let one_shot =
        loyalty_engine::api::simulate_json(&request_json(&draft, &base, &with_bad, VN_AS_OF));
    assert!(
        one_shot.contains(r#""path":"members[7].member.status""#),
        "{one_shot}"
    );
    assert!(one_shot.contains(r#""path":"members[50]""#), "{one_shot}");

    // Member by member.
    let header = format!(r#"{{"policy":{draft},"baseline":{base},"as_of":"{VN_AS_OF}"}}"#);
    let mut sim = Simulator::from_json(&header).unwrap();
    for m in &with_bad {
        sim.add_member_json(m);
    }
    assert_eq!(sim.members_added(), with_bad.len() as u64);
    let inc = serde_json::to_string(&sim.finish().unwrap()).unwrap();
    assert_eq!(inc, one_shot);

    // Partial sums over uneven chunks, merged in reverse order.
    let setup = Setup::from_parts(&draft, Some(&base), VN_AS_OF, None).unwrap();
    let mut parts = Vec::new();
    let mut start = 0usize;
    for size in [1usize, 13, 40, 2, 1000] {
        let end = (start + size).min(with_bad.len());
        let mut p = setup.partial();
        for (i, m) in with_bad.iter().enumerate().take(end).skip(start) {
            setup.add_member_json(&mut p, i as u64, m);
        }
        parts.push(p);
        start = end;
    }
    let mut total = setup.partial();
    for p in parts.into_iter().rev() {
        total.merge(p);
    }
    let merged = serde_json::to_string(&setup.finish(total).unwrap()).unwrap();
    assert_eq!(merged, one_shot);

    // The typed Rust API.
    let typed: SimulateRequest =
        serde_json::from_str(&request_json(&draft, &base, &members, VN_AS_OF)).unwrap();
    let typed_out = serde_json::to_string(&loyalty_engine::simulate(&typed).unwrap()).unwrap();
    let json_out =
        loyalty_engine::api::simulate_json(&request_json(&draft, &base, &members, VN_AS_OF));
    assert_eq!(typed_out, json_out);
}

#[test]
fn eval_line_keeps_the_policy_in_a_simulate_request() {
    let draft = example("vn-fashion-draft");
    let line = format!(r#"{{"op":"simulate","policy":{draft},"members":[],"as_of":"{VN_AS_OF}"}}"#);
    let out = loyalty_engine::api::eval_line(&line).unwrap();
    assert!(out.starts_with(r#"{"members":0,"#), "{out}");
    let missing = loyalty_engine::api::eval_line(r#"{"op":"simulate","members":[],"as_of":"x"}"#);
    assert_eq!(
        missing.unwrap(),
        r#"{"error":{"code":"invalid_request","message":"missing policy","path":"policy"}}"#
    );
}

/// Wherever a strict replay succeeds (no redemption needed clamping, no reward skipped), a
/// one-member simulation reports the replay's own totals: issued = earned − clawed back,
/// redeemed, expired, outstanding = available + pending, and the final tier.
#[test]
fn simulate_agrees_with_replay_member_by_member() {
    for (profile, as_of) in [("vn-fashion", VN_AS_OF), ("sk-grocery", SK_AS_OF)] {
        let draft = example(&format!("{profile}-draft"));
        let engine = loyalty_engine::Engine::from_json(&draft).unwrap();
        let mut compared = 0;
        for line in lines(profile, 120, 21, 10) {
            let replay_req = format!("{},\"as_of\":\"{as_of}\"}}", &line[..line.len() - 1]);
            let replay: serde_json::Value =
                serde_json::from_str(&engine.replay_json(&replay_req)).unwrap();
            if replay.get("error").is_some() {
                continue; // e.g. a redemption above the strict limit: simulate clamps it
            }
            compared += 1;
            let sim: serde_json::Value = serde_json::from_str(&loyalty_engine::api::simulate_json(
                &format!(r#"{{"policy":{draft},"members":[{line}],"as_of":"{as_of}"}}"#),
            ))
            .unwrap();
            let t = &replay["totals"];
            let p = &sim["points"];
            let n = |v: &serde_json::Value| v.as_i64().unwrap();
            assert_eq!(
                n(&p["issued"]),
                n(&t["earned"]) - n(&t["clawed_back"]),
                "{line}"
            );
            assert_eq!(p["redeemed"], t["redeemed"], "{line}");
            assert_eq!(p["expired"], t["expired"], "{line}");
            let outstanding = n(&replay["points"]["available"]) + n(&replay["points"]["pending"]);
            assert_eq!(n(&p["outstanding"]), outstanding, "{line}");
            let tier = replay["tier"]["id"].as_str().unwrap();
            let at_tier = sim["tiers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["tier"] == tier)
                .unwrap();
            assert_eq!(at_tier["members"], 1, "{line}");
        }
        assert!(
            compared > 30,
            "{profile}: only {compared} members replayed strictly"
        );
    }
}

/// Members split over workers that share no memory: each numbers its members from their global
/// index, writes its partial sums as JSON text, and one simulator merges them (in any order)
/// into exactly the single-run report — rejected members (unreadable lines, faults under the
/// draft, faults under the baseline only) included.
#[test]
fn partials_as_json_merge_into_the_single_run() {
    let mut members = lines("vn-fashion", 150, 11, 12);
    members.insert(3, r#"{"member":{"id":"bad"},"events":[]}"#.into());
    members.insert(40, "17".into());
    members.insert(41, "{\"member\":".into());
    let draft = example("vn-fashion-draft");
    // A baseline without the level `gold`: members whose history sets `gold` fail under the
    // baseline only (its static check differs from the draft's, too).
    let base_no_gold = example("vn-fashion-baseline").replace("\"gold\"", "\"platinum\"");
    for base in [
        None,
        Some(example("vn-fashion-baseline")),
        Some(base_no_gold),
    ] {
        let header = match &base {
            Some(b) => format!(r#"{{"policy":{draft},"baseline":{b},"as_of":"{VN_AS_OF}"}}"#),
            None => format!(r#"{{"policy":{draft},"as_of":"{VN_AS_OF}"}}"#),
        };
        let mut single = Simulator::from_json(&header).unwrap();
        for m in &members {
            single.add_member_json(m);
        }
        let single = serde_json::to_string(&single.finish().unwrap()).unwrap();
        assert!(
            single.contains(r#""path":"members[3].member.status""#),
            "{single}"
        );
        assert!(single.contains(r#""path":"members[40]""#), "{single}");
        if base.as_ref().is_some_and(|b| b.contains("platinum")) {
            assert!(single.contains("baseline: "), "{single}");
        }

        for workers in [2usize, 3] {
            for chunk in [7usize, 50] {
                // Chunks handed round-robin to the workers, each numbered from its first index.
                let mut sims: Vec<Simulator> = (0..workers)
                    .map(|_| Simulator::from_json(&header).unwrap())
                    .collect();
                let mut counts = vec![0u64; workers];
                for (c, start) in (0..members.len()).step_by(chunk).enumerate() {
                    let w = c % workers;
                    for (i, m) in members.iter().enumerate().skip(start).take(chunk) {
                        sims[w].add_member_json_at(i as u64, m);
                        counts[w] += 1;
                    }
                }
                let texts: Vec<String> = sims.iter_mut().map(|s| s.take_partial_json()).collect();
                let mut merged = Simulator::from_json(&header).unwrap();
                for (t, n) in texts.iter().zip(&counts).rev() {
                    merged.merge_json(t, *n).unwrap();
                }
                assert_eq!(merged.members_added(), members.len() as u64);
                let out = serde_json::to_string(&merged.finish().unwrap()).unwrap();
                assert_eq!(out, single, "{workers} workers, chunks of {chunk}");
                // Taking the partial out leaves empty sums behind.
                let again = sims[0].take_partial_json();
                assert!(again.contains(r#""rejected":[]"#), "{again}");
            }
        }
    }
}

#[test]
fn a_partial_that_does_not_fit_is_an_invalid_request() {
    let draft = example("vn-fashion-draft");
    let base = example("vn-fashion-baseline");
    let with = format!(r#"{{"policy":{draft},"baseline":{base},"as_of":"{VN_AS_OF}"}}"#);
    let without = format!(r#"{{"policy":{draft},"as_of":"{VN_AS_OF}"}}"#);
    let members = lines("vn-fashion", 5, 2, 6);
    let mut w = Simulator::from_json(&with).unwrap();
    for (i, m) in members.iter().enumerate() {
        w.add_member_json_at(10 + i as u64, m);
    }
    w.add_member_json_at(20, "[]");
    let good = w.take_partial_json();
    // An error's code, message and path come back exactly.
    let mut m = Simulator::from_json(&with).unwrap();
    m.merge_json(&good, 6).unwrap();
    let out = serde_json::to_string(&m.finish().unwrap()).unwrap();
    assert!(out.contains(r#""rejected":[{"member_id":null,"error":{"code":"invalid_request","message":"invalid type: sequence, expected struct MemberHistory","path":"members[20]"}}]"#), "{out}");

    let bad = |sim: &str, text: &str, n: u64| {
        let mut s = Simulator::from_json(sim).unwrap();
        let e = s.merge_json(text, n).unwrap_err();
        assert_eq!(e.code, loyalty_engine::ErrorCode::InvalidRequest, "{e}");
        assert!(e.message.starts_with("invalid partial sums: "), "{e}");
        assert_eq!(s.members_added(), 0);
        e
    };
    // The wrong member count, the wrong setup, broken or foreign text.
    bad(&with, &good, 5);
    assert_eq!(bad(&without, &good, 6).path, "baseline");
    for text in [
        "",
        "{}",
        "null",
        "[1,2]",
        &good[..good.len() - 1],
        &good.replacen("\"v\":1", "\"v\":2", 1),
        &good.replacen("\"outstanding\":\"", "\"outstanding\":\"+", 1),
        &good.replacen("\"tiers\":[", "\"tiers\":[0,", 1),
        &good.replacen("\"code\":\"invalid_request\"", "\"code\":\"oops\"", 1),
        &good.replacen("\"moved\":{", "\"moved\":{\"x\":1,", 1),
        &good.replacen("\"members\":", "\"members\":9007199254740992,\"m\":", 1),
    ] {
        bad(&with, text, 6);
    }
    let e = bad(&with, &good.replacen("\"tiers\":[", "\"tiers\":[0,", 1), 6);
    assert_eq!(e.path, "draft.tiers");
}
