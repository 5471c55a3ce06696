//! `loyalty import` (issue 7): realistic exports under `tests/import/` — a VND fashion chain
//! with two customer sources and an EUR shop with semicolon CSV and Slovak names — every kind
//! of rejected row, and the round trip: the members written, replayed with the merchant's
//! policy at the cutover, hold the balances and tiers of the source files.

use loyalty_engine::import::{self, mapping::Mapping, Options, Rejected, Report};
use loyalty_engine::ledger::ReplayRequest;
use loyalty_engine::simulate::MemberHistory;
use loyalty_engine::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
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

fn engine(dir: &Path) -> Engine {
    Engine::from_json(&std::fs::read_to_string(dir.join("policy.json")).unwrap()).unwrap()
}

/// Imports a fixture directory; `budget` small forces sorted runs on disk.
fn run(dir: &Path, with_policy: bool, budget: usize, name: &str) -> (Report, Vec<String>) {
    let mapping: Mapping =
        serde_json::from_str(&std::fs::read_to_string(dir.join("mapping.json")).unwrap()).unwrap();
    let opts = Options {
        mapping,
        files: csv_files(dir),
        policy: with_policy.then(|| engine(dir)),
        temp_dir: tmp(name),
        memory_budget: budget,
    };
    let mut out = Vec::new();
    let report = import::import(&opts, &mut out).unwrap();
    // The rejected rows' runs are open already (unlinked files stay readable on Unix).
    let _ = std::fs::remove_dir_all(&opts.temp_dir);
    let text = String::from_utf8(out).unwrap();
    (report, text.lines().map(str::to_string).collect())
}

/// Replays every line at `as_of`: member id → (available + pending, tier, status).
fn replay_all(
    e: &Engine,
    lines: &[String],
    as_of: &str,
) -> BTreeMap<String, (i64, String, String)> {
    let mut out = BTreeMap::new();
    for l in lines {
        let h: MemberHistory = serde_json::from_str(l).unwrap();
        let id = h.member.id.clone();
        let r = e
            .replay(&ReplayRequest {
                member: h.member,
                events: h.events,
                as_of: as_of.to_string(),
            })
            .unwrap_or_else(|err| panic!("{id}: {err:?}\n{l}"));
        out.insert(
            id,
            (
                r.points.available + r.points.pending,
                r.tier.id,
                r.status.as_str().to_string(),
            ),
        );
    }
    out
}

fn has(rejected: &[Rejected], file: &str, line: u64, column: Option<&str>, reason: &str) {
    assert!(
        rejected.iter().any(|r| r.file == file
            && r.line == line
            && r.column.as_deref() == column
            && r.reason.contains(reason)),
        "no rejection {file}:{line} {column:?} {reason:?} in\n{rejected:#?}"
    );
}

#[test]
fn vn_fashion_two_customer_sources() {
    let dir = fixture("vn-fashion");
    let (report, lines) = run(&dir, true, 64 << 20, "vn");
    let r = &report.rejected.take().unwrap();
    // Every kind of rejected row, with file, line, column and reason.
    has(r, "pos_customers.csv", 8, Some("Điện thoại"), "bad phone");
    has(
        r,
        "pos_customers.csv",
        11,
        Some("Trạng thái"),
        "unknown status",
    );
    has(
        r,
        "pos_customers.csv",
        12,
        None,
        "5 fields where the header has 6",
    );
    // KH010 gives KH001's card: another customer id of the same system, not merged.
    has(
        r,
        "pos_customers.csv",
        13,
        Some("Số thẻ"),
        "card VF1001 already belongs to another customer id",
    );
    has(
        r,
        "balances.csv",
        8,
        Some("customer_id"),
        "unknown customer",
    );
    has(r, "balances.csv", 9, Some("points"), "negative balance -50");
    has(r, "balances.csv", 10, Some("points"), "unparseable integer");
    has(
        r,
        "balances.csv",
        11,
        Some("expiry"),
        "expired before the cutover",
    );
    has(
        r,
        "tiers.csv",
        6,
        Some("tier"),
        "unknown tier \"Kim cương\"",
    );
    has(
        r,
        "transactions.csv",
        7,
        None,
        "order \"HD1004\" has a rejected line",
    );
    has(
        r,
        "transactions.csv",
        8,
        Some("thanh_tien"),
        "unparseable amount",
    );
    has(
        r,
        "transactions.csv",
        9,
        Some("thoi_gian"),
        "unparseable time",
    );
    has(
        r,
        "transactions.csv",
        10,
        Some("so_hd"),
        "duplicate order id \"HD1001\"",
    );
    has(r, "transactions.csv", 11, Some("ma_kh"), "unknown customer");
    has(
        r,
        "transactions.csv",
        12,
        Some("sdt"),
        "shared by several members",
    );
    has(r, "transactions.csv", 13, Some("sdt"), "bad phone");
    has(
        r,
        "transactions.csv",
        14,
        Some("tra_hang_cho"),
        "refund of unknown order",
    );
    has(
        r,
        "transactions.csv",
        15,
        Some("so_luong"),
        "refund exceeds order",
    );
    has(
        r,
        "transactions.csv",
        17,
        Some("thoi_gian"),
        "after the cutover",
    );
    has(
        r,
        "transactions.csv",
        19,
        Some("ma_kh"),
        "no customer id, card or phone",
    );
    assert_eq!(r.len(), 20, "{r:#?}");
    assert_eq!(report.rows_rejected, 20);
    // Rows read = every data row of every file; per file rows = accepted + rejected.
    assert_eq!(report.rows_read, 12 + 5 + 12 + 5 + 18);
    for f in &report.files {
        assert_eq!(f.rows, f.accepted + f.rejected, "{f:?}");
    }
    // KH006 shares KH001's old phone, W-505 names it too: kept apart and reported.
    assert_eq!(report.conflicts.len(), 2);
    assert!(!report.clean);
    let t = &report.totals;
    assert_eq!(
        t.opening_points_in,
        1200 + 300 + 850 + 400 + 150 + 90 + 25 + 60
    );
    assert_eq!(t.opening_points_out, t.opening_points_in);
    assert_eq!(t.opening_points_replayed, Some(t.opening_points_in));
    assert!(t.balanced);
    assert!(
        report.replay_mismatches.is_empty(),
        "{:?}",
        report.replay_mismatches
    );
    // Two sources, one member base: W-501 is KH002 (same phone, written two ways), W-502 is
    // KH005, W-504 is KH003 by the mapping's link; W-503 and W-505 are web-only.
    let ids: Vec<String> = lines
        .iter()
        .map(|l| serde_json::from_str::<MemberHistory>(l).unwrap().member.id)
        .collect();
    assert_eq!(
        ids,
        [
            "KH001",
            "KH002",
            "KH003",
            "KH004",
            "KH005",
            "KH006",
            "card:VF9001",
            "card:VF9002",
            "web:W-503",
            "web:W-505"
        ]
    );
    assert_eq!(report.members_written, 10);
    // The round trip: the source balances and tiers, replayed.
    let got = replay_all(&engine(&dir), &lines, "2026-10-01T00:00:00+07:00");
    let want: BTreeMap<String, (i64, String, String)> = [
        ("KH001", 1500, "gold", "active"),
        ("KH002", 850, "silver", "active"),
        ("KH003", 150, "member", "inactive"),
        ("KH004", 90, "member", "excluded"),
        ("KH005", 400, "silver", "active"),
        ("KH006", 0, "member", "active"),
        ("card:VF9001", 25, "member", "unassigned"),
        ("card:VF9002", 0, "member", "unassigned"),
        ("web:W-503", 60, "member", "active"),
        ("web:W-505", 0, "member", "active"),
    ]
    .into_iter()
    .map(|(id, p, t, s)| (id.to_string(), (p, t.to_string(), s.to_string())))
    .collect();
    assert_eq!(got, want);
    // Imported purchases count for tiers only; the split line keeps the exact total.
    let kh005 = lines.iter().find(|l| l.contains("\"KH005\"")).unwrap();
    assert!(kh005.contains(r#""quantity":2,"unit_price":"333333"},{"id":"2","sku":"BAG-3","category":"accessories","quantity":1,"unit_price":"333334"}"#));
    assert!(kh005.contains(r#""earn":false"#));
    let kh001 = lines.iter().find(|l| l.contains("\"KH001\"")).unwrap();
    assert!(kh001.contains(r#"{"id":"refund:TH1001","type":"refund","at":"2026-01-10T11:00:00+07:00","order_id":"HD1001","lines":[{"line_id":"1","quantity":1}]}"#));
    assert!(kh001.contains(r#""expires_at":"2027-01-01T00:00:00+07:00""#));
    assert!(kh001.contains(r#""locked_until":"2027-07-01T00:00:00+07:00""#));
}

#[test]
fn sk_shop_semicolons_and_slovak_names() {
    let dir = fixture("sk-shop");
    let (report, lines) = run(&dir, true, 64 << 20, "sk");
    let r = &report.rejected.take().unwrap();
    has(r, "zakaznici.csv", 6, Some("Telefón"), "bad phone");
    has(r, "zakaznici.csv", 7, Some("Body"), "negative balance -20");
    has(
        r,
        "zakaznici.csv",
        8,
        Some("Úroveň"),
        "unknown tier \"Platinová\"",
    );
    has(
        r,
        "pokladna.csv",
        5,
        Some("Cena za kus"),
        "unparseable amount \"4,5O\"",
    );
    has(
        r,
        "pokladna.csv",
        7,
        Some("Doklad"),
        "duplicate order id \"D-2001\"",
    );
    has(
        r,
        "pokladna.csv",
        8,
        Some("Cena za kus"),
        "unparseable amount \"12,345\"",
    );
    // A cell in Latin-2 (an export from an old till): rejected, never guessed.
    has(r, "pokladna.csv", 11, Some("Kód"), "not UTF-8 text");
    assert_eq!(r.len(), 7, "{r:#?}");
    assert_eq!(report.files.first().unwrap().delimiter, ";");
    assert_eq!(report.files.get(1).unwrap().delimiter, ";", "detected");
    assert_eq!(report.conflicts.len(), 1, "Z-103 has Z-100's phone");
    assert!(report.totals.balanced);
    assert!(report.replay_mismatches.is_empty());
    let got = replay_all(&engine(&dir), &lines, "2026-10-01T00:00:00+02:00");
    let want: BTreeMap<String, (i64, String, String)> = [
        ("Z-100", 1250, "gold", "active"),
        ("Z-101", 300, "silver", "active"),
        ("Z-102", 0, "member", "inactive"),
        ("Z-103", 40, "member", "active"),
    ]
    .into_iter()
    .map(|(id, p, t, s)| (id.to_string(), (p, t.to_string(), s.to_string())))
    .collect();
    assert_eq!(got, want);
    let z100 = lines.first().unwrap();
    assert!(z100.contains(r#""unit_price":"1.19""#), "{z100}");
    assert!(z100.contains(r#""unit_price":"1000.00""#), "{z100}");
    // Card 2900101 names Z-101; the partial return refunds one unit of line 1.
    let z101 = lines.get(1).unwrap();
    assert!(z101.contains(r#""order_id":"D-2002","lines":[{"line_id":"1","quantity":1}]"#));
}

#[test]
fn output_does_not_depend_on_the_memory_budget() {
    for (name, dir) in [("vn", fixture("vn-fashion")), ("sk", fixture("sk-shop"))] {
        let (a, la) = run(&dir, false, 64 << 20, &format!("{name}-big"));
        let (b, lb) = run(&dir, false, 1, &format!("{name}-small"));
        assert_eq!(la, lb);
        let (ra, rb) = (a.rejected.take().unwrap(), b.rejected.take().unwrap());
        assert_eq!(ra, rb);
        assert!(!ra.is_empty());
    }
}

#[test]
fn synthetic_exports_import_clean_and_replay() {
    let dir = tmp("sample");
    import::sample::write_sample(&dir, 300, 3000, 7).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/vn-fashion-baseline.json"),
        dir.join("policy.json"),
    )
    .unwrap();
    // Several sorted runs (a tiny budget), the policy's replay check on every line.
    let (report, lines) = run(&dir, true, 1 << 16, "sample-run");
    assert!(report.clean, "{report:#?}");
    assert_eq!(report.members_written, 300);
    assert_eq!(lines.len(), 300);
    let t = &report.totals;
    assert!(t.transaction_rows_in >= 3000);
    assert_eq!(t.transaction_rows_out, t.transaction_rows_in);
    replay_all(&engine(&dir), &lines, "2026-01-01T00:00:00+07:00");
    let _ = std::fs::remove_dir_all(dir);
}

/// Hostile exports: cells drawn from tricky tokens (quotes, delimiters, invalid UTF-8, huge and
/// negative numbers, odd dates, reserved ids), rows of any width. The import never panics,
/// every data row is counted once as accepted or rejected, and every line written replays.
#[test]
fn hostile_exports_never_panic_and_every_row_is_accounted_for() {
    const TOKENS: &[&[u8]] = &[
        b"KH1",
        b"KH2",
        b"KH3",
        b"",
        b"\"",
        b"\"a,b\"",
        b";",
        b",",
        b"0980000001",
        b"+84980000002",
        b"09800",
        b"VF-1",
        b"VF-2",
        b"gold",
        b"silver",
        b"Kim",
        b"-5",
        b"99999999999999999999",
        b"9007199254740991",
        b"12",
        b"0",
        b"abc",
        b"31/12/2026",
        b"2026-02-30",
        b"2026-03-01 10:00",
        b"01/01/2026 10:00",
        b"2027-01-01",
        b"HD1",
        b"HD2",
        b"import:x",
        b"refund:y",
        b"\xff\xfe",
        b"1,5",
        b"1.000.000",
        b"\xc3\xa1",
        b"2",
        b"3",
        b"Ho\xe1\xba\xa1t \xc4\x91\xe1\xbb\x99ng",
    ];
    fn good(column: &str) -> &'static [&'static [u8]] {
        match column {
            "id" => &[b"KH1", b"KH2", b"KH3", b"KH4", b"KH5", b""],
            "phone" => &[b"", b"", b"0980000001", b"0980000004", b"+84 980 000 005"],
            "card" => &[b"", b"VF-1", b"VF-2", b"VF-9"],
            "status" => &[b"", b"active", b"inactive", b"unassigned"],
            "points" => &[b"12", b"0", b"300"],
            "expiry" | "locked" => &[b"", b"31/12/2026", b"2027-06-30"],
            "tier" => &[b"gold", b"silver", b"member"],
            "joined" => &[b"", b"01/01/2025"],
            "order" => &[b"HD1", b"HD2", b"HD3", b"HD4", b"HD5", b"R1"],
            "time" => &[
                b"01/01/2026 10:00",
                b"02/02/2026 11:00",
                b"03/03/2026 12:00",
            ],
            "sku" => &[b"TEE", b"RUN", b""],
            "qty" => &[b"1", b"2", b""],
            "amount" => &[b"100000", b"250000", b"1000000"],
            "of" => &[b"", b"", b"", b"HD1", b"HD2"],
            _ => &[],
        }
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    };
    let dir = tmp("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let headers: [&[&str]; 4] = [
        &[
            "id", "phone", "card", "status", "points", "expiry", "tier", "joined",
        ],
        &["id", "card", "phone", "points", "expiry"],
        &["id", "tier", "locked"],
        &["order", "id", "phone", "time", "sku", "qty", "amount", "of"],
    ];
    let names = ["c.csv", "b.csv", "t.csv", "x.csv"];
    let e = engine(&fixture("vn-fashion"));
    let (mut members, mut events, mut rejects) = (0u64, 0u64, 0u64);
    for round in 0..60 {
        let mut data_rows = 0u64;
        for (h, name) in headers.iter().zip(names) {
            let mut f = Vec::new();
            if next(2) == 0 {
                f.extend_from_slice(b"\xef\xbb\xbf");
            }
            f.extend_from_slice(h.join(",").as_bytes());
            f.push(b'\n');
            for _ in 0..next(25) {
                let width = if next(10) == 0 { next(12) } else { h.len() };
                // Mostly plausible cells (so rows get through), sometimes anything.
                let cells: Vec<Vec<u8>> = (0..width)
                    .map(|i| {
                        let good = h.get(i).map_or(&[][..], |c| good(c));
                        if good.is_empty() || next(8) == 0 {
                            TOKENS[next(TOKENS.len())].to_vec()
                        } else {
                            good[next(good.len())].to_vec()
                        }
                    })
                    .collect();
                f.extend_from_slice(&cells.join(&b","[..]));
                f.push(b'\n');
                data_rows += 1;
            }
            std::fs::write(dir.join(name), f).unwrap();
        }
        let mapping: Mapping = serde_json::from_str(
            r#"{ "cutover": "2026-10-01T00:00:00+07:00", "time_zone": "Asia/Ho_Chi_Minh",
                 "default_country": "VN", "tier_names": { "Kim": "diamond" },
                 "statuses": { "Hoạt động": "active" }, "links": [["KH2", "KH3"]],
                 "files": [
                   { "file": "c.csv", "kind": "customers", "delimiter": ",", "date_format": "%d/%m/%Y",
                     "columns": { "customer_id": "id", "phone": "phone", "card": "card", "status": "status",
                                  "points": "points", "expiry": "expiry", "tier": "tier", "joined_at": "joined" } },
                   { "file": "b.csv", "kind": "balances", "delimiter": ",",
                     "columns": { "customer_id": "id", "card": "card", "phone": "phone", "points": "points", "expiry": "expiry" } },
                   { "file": "t.csv", "kind": "tiers", "delimiter": ",",
                     "columns": { "customer_id": "id", "tier": "tier", "locked_until": "locked" } },
                   { "file": "x.csv", "kind": "transactions", "delimiter": ",", "time_format": "%d/%m/%Y %H:%M",
                     "columns": { "order_id": "order", "customer_id": "id", "phone": "phone", "time": "time",
                                  "sku": "sku", "quantity": "qty", "amount": "amount", "refund_of": "of" } } ] }"#,
        )
        .unwrap();
        let opts = Options {
            mapping,
            files: names.iter().map(|n| dir.join(n)).collect(),
            policy: Some(engine(&fixture("vn-fashion"))),
            temp_dir: dir.join("tmp"),
            memory_budget: if round % 2 == 0 { 1 } else { 1 << 20 },
        };
        let mut out = Vec::new();
        let report = import::import(&opts, &mut out).unwrap();
        let rejected = report.rejected.take().unwrap();
        // A broken quote can swallow rows into one; otherwise every data row is counted.
        assert!(report.rows_read <= data_rows, "round {round}");
        for f in &report.files {
            assert_eq!(f.rows, f.accepted + f.rejected, "round {round}: {f:?}");
        }
        assert_eq!(rejected.len() as u64, report.rows_rejected, "round {round}");
        let lines: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(lines.len() as u64, report.members_written);
        // Every line replays, or the policy check names it (e.g. a cart beyond the money
        // range: the source is wrong, and the report says so).
        for l in &lines {
            let h: MemberHistory = serde_json::from_str(l).unwrap();
            let id = h.member.id.clone();
            let ok = e
                .replay(&ReplayRequest {
                    member: h.member,
                    events: h.events,
                    as_of: "2026-10-01T00:00:00+07:00".into(),
                })
                .is_ok();
            assert!(
                ok || report
                    .replay_mismatches
                    .iter()
                    .any(|m| m.member_id == id && m.field == "replay"),
                "round {round}: {l}"
            );
        }
        members += report.members_written;
        events += report.totals.purchases_out + report.totals.refunds_out;
        rejects += report.rows_rejected;
        assert_eq!(
            report.totals.opening_points_in, report.totals.opening_points_out,
            "round {round}"
        );
    }
    // The tokens do reach every path: members, purchases and refunds, rejections.
    assert!(
        members > 100 && events > 10 && rejects > 1000,
        "{members} {events} {rejects}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
