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

// ---- Issue 18: exports as merchants have them --------------------------------------------

/// Imports `files` (name, contents) with `mapping` (JSON) from a fresh directory, without a
/// policy: the report, its rejected rows and the member lines.
fn import_files(
    name: &str,
    mapping: &str,
    files: &[(&str, &[u8])],
) -> (Report, Vec<Rejected>, Vec<String>) {
    let dir = tmp(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (n, bytes) in files {
        std::fs::write(dir.join(n), bytes).unwrap();
    }
    import_paths(&dir, mapping, files.iter().map(|f| dir.join(f.0)).collect())
}

fn import_paths(
    dir: &Path,
    mapping: &str,
    files: Vec<PathBuf>,
) -> (Report, Vec<Rejected>, Vec<String>) {
    let opts = Options {
        mapping: serde_json::from_str(mapping).unwrap(),
        files,
        policy: None,
        temp_dir: dir.join("tmp"),
        memory_budget: 1 << 20,
    };
    let mut out = Vec::new();
    let report = import::import(&opts, &mut out).unwrap();
    let rejected = report.rejected.take().unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let _ = std::fs::remove_dir_all(dir);
    (report, rejected, lines)
}

fn line_of<'a>(lines: &'a [String], id: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with(&format!("{{\"member\":{{\"id\":\"{id}\"")))
        .unwrap_or_else(|| panic!("no member {id} in {lines:#?}"))
}

fn events(line: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["events"].as_array().unwrap().clone()
}

/// A VND shop: customers `c.csv` (id, phone, status, points, tier) and transactions `x.csv`.
fn vn_mapping(extra_tx: &str) -> String {
    format!(
        r#"{{ "cutover": "2026-10-01T00:00:00+07:00", "time_zone": "Asia/Ho_Chi_Minh",
             "currency": "VND", "default_country": "VN", "tiers": ["member", "silver", "gold"],
             "tier_names": {{ "Vàng": "gold" }},
             "statuses": {{ "Đã khóa": "excluded", "Hoạt động": "active" }},
             "files": [
               {{ "file": "c.csv", "kind": "customers",
                  "columns": {{ "customer_id": "id", "phone": "phone", "status": "status",
                               "points": "points", "tier": "tier" }} }},
               {{ "file": "x.csv", "kind": "transactions", "time_format": "%d/%m/%Y %H:%M" {extra_tx},
                  "columns": {{ "order_id": "order", "customer_id": "id", "phone": "phone",
                               "time": "time", "sku": "sku", "quantity": "qty",
                               "amount": "amount", "refund_of": "of" }} }} ] }}"#
    )
}

const VN_CUSTOMERS: &[u8] = b"id,phone,status,points,tier\n\
KH1,0980000001,,100,\n\
KH2,0980000002,,,\n\
KH3,0980000001,,,\n";

#[test]
fn crlf_files_report_the_same_lines_as_lf_files() {
    let src = fixture("vn-fashion");
    let dir = tmp("crlf");
    std::fs::create_dir_all(&dir).unwrap();
    for f in csv_files(&src) {
        let text = std::fs::read(&f).unwrap();
        let mut crlf = Vec::new();
        for b in text {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        std::fs::write(dir.join(f.file_name().unwrap()), crlf).unwrap();
    }
    for f in ["mapping.json", "policy.json"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let (lf, lf_lines) = run(&src, true, 1 << 20, "crlf-lf");
    let (crlf, crlf_lines) = run(&dir, true, 1 << 20, "crlf-crlf");
    let (a, b) = (lf.rejected.take().unwrap(), crlf.rejected.take().unwrap());
    assert_eq!(a, b);
    // The first data row is line 2 (the header is line 1): the bad phone of KH007 is on line 8.
    has(&b, "pos_customers.csv", 8, Some("Điện thoại"), "bad phone");
    has(&b, "transactions.csv", 19, Some("ma_kh"), "no customer id");
    let lines = |r: &Report| r.conflicts.iter().map(|c| c.line).collect::<Vec<_>>();
    assert_eq!(lines(&crlf), [7, 6]);
    assert_eq!(lines(&lf), lines(&crlf));
    assert_eq!(lf_lines, crlf_lines);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_line_rejected_for_its_identity_rejects_its_whole_order() {
    let tx = b"order,id,phone,time,sku,qty,amount,of\n\
HD1,KH1,,01/03/2026 10:00,A,1,100000,\n\
HD1,KH9,,01/03/2026 10:00,B,1,50000,\n\
HD2,KH2,,02/03/2026 10:00,A,1,100000,\n\
HD2,,09800,02/03/2026 10:00,B,1,50000,\n\
HD3,KH2,,03/03/2026 10:00,A,1,100000,\n\
HD3,,,03/03/2026 10:00,B,1,50000,\n\
HD4,KH2,,04/03/2026 10:00,A,1,100000,\n\
HD4,,0980000001,04/03/2026 10:00,B,1,50000,\n\
HD5,KH2,,05/03/2026 10:00,A,1,70000,\n";
    let (report, r, lines) = import_files(
        "identity-order",
        &vn_mapping(""),
        &[("c.csv", VN_CUSTOMERS), ("x.csv", tx)],
    );
    has(
        &r,
        "x.csv",
        2,
        None,
        "order \"HD1\" has a rejected line (x.csv:3)",
    );
    has(&r, "x.csv", 3, Some("id"), "unknown customer (id KH9)");
    has(
        &r,
        "x.csv",
        4,
        None,
        "order \"HD2\" has a rejected line (x.csv:5)",
    );
    has(&r, "x.csv", 5, Some("phone"), "bad phone");
    has(
        &r,
        "x.csv",
        6,
        None,
        "order \"HD3\" has a rejected line (x.csv:7)",
    );
    has(&r, "x.csv", 7, Some("id"), "no customer id, card or phone");
    has(
        &r,
        "x.csv",
        8,
        None,
        "order \"HD4\" has a rejected line (x.csv:9)",
    );
    has(&r, "x.csv", 9, Some("phone"), "shared by several members");
    assert_eq!(r.len(), 8, "{r:#?}");
    // Only HD5 is carried over; KH1 keeps no partial HD1.
    let kh2 = events(line_of(&lines, "KH2"));
    assert_eq!(kh2.len(), 1);
    assert_eq!(kh2[0]["id"], "HD5");
    assert!(events(line_of(&lines, "KH1"))
        .iter()
        .all(|e| e["type"] != "purchase"));
    let t = &report.totals;
    assert_eq!((t.transaction_rows_in, t.transaction_rows_out), (5, 1));
    assert_eq!(t.purchases_out, 1);
    assert!(t.balanced);
}

#[test]
fn trunk_zero_after_the_country_code_matches_the_customer() {
    let mapping = r#"{ "cutover": "2026-10-01T00:00:00+07:00", "time_zone": "Asia/Ho_Chi_Minh",
        "default_country": "VN", "files": [
          { "file": "c.csv", "kind": "customers", "columns": { "customer_id": "id", "phone": "phone" } },
          { "file": "b.csv", "kind": "balances", "columns": { "phone": "phone", "points": "points" } } ] }"#;
    let (report, r, lines) = import_files(
        "trunk",
        mapping,
        &[
            ("c.csv", b"id,phone\nKH1,0903 000 003\n"),
            ("b.csv", b"phone,points\n\"+84 (0) 903 000 003\",100\n"),
        ],
    );
    assert!(r.is_empty(), "{r:#?}");
    assert!(report.clean);
    let e = events(line_of(&lines, "KH1"));
    assert_eq!(e[0]["type"], "opening_balance");
    assert_eq!(e[0]["points"], 100);
}

/// A KiotViet-style `.xlsx` export written by a real spreadsheet writer: number cells (phones,
/// amounts), date-time cells, an empty row, the customer and time only on an order's first
/// line (fill-down), walk-in sales, a return with a negative amount, and a status typed in
/// decomposed Unicode.
#[test]
fn xlsx_exports_from_a_spreadsheet_writer() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tmp("xlsx");
    std::fs::create_dir_all(&dir).unwrap();
    let when = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let at = |d: u8, h: u16, m: u8| {
        ExcelDateTime::from_ymd(2026, 3, d)
            .unwrap()
            .and_hms(h, m, 0)
            .unwrap()
    };
    // Customers, on a sheet named as KiotViet names it, after an empty first sheet.
    let mut book = Workbook::new();
    book.add_worksheet().set_name("Ghi chú").unwrap();
    let ws = book.add_worksheet();
    ws.set_name("Khách hàng").unwrap();
    for (c, h) in ["Mã KH", "Điện thoại", "Trạng thái", "Điểm"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "KH1").unwrap();
    ws.write_number(1, 1, 980000001.0).unwrap(); // the leading 0 lost as a number
    ws.write_string(1, 2, "Hoạt động").unwrap();
    ws.write_number(1, 3, 1200.0).unwrap();
    // Row 3 left empty.
    ws.write_string(3, 0, "KH2").unwrap();
    ws.write_string(3, 1, "0980 000 002").unwrap();
    ws.write_string(3, 2, "\u{110}a\u{303} kho\u{301}a")
        .unwrap(); // "Đã khóa", decomposed
    ws.write_number(3, 3, 300.0).unwrap();
    ws.write_string(4, 0, "KH3").unwrap();
    ws.write_string(4, 1, "09800").unwrap();
    book.save(dir.join("khach.xlsx")).unwrap();

    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let head = [
        "Mã hóa đơn",
        "Thời gian",
        "Mã KH",
        "Khách hàng",
        "Mã hàng",
        "SL",
        "Thành tiền",
        "Trả cho",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // HD1: two lines, customer and time on the first only; the second amount typed as text
    // with the file's decimal comma convention (`.` groups thousands).
    ws.write_string(1, 0, "HD1").unwrap();
    ws.write_datetime_with_format(1, 1, at(1, 10, 15), &when)
        .unwrap();
    ws.write_string(1, 2, "KH1").unwrap();
    ws.write_string(1, 3, "Nguyễn Thị Hồng").unwrap();
    ws.write_string(1, 4, "A").unwrap();
    ws.write_number(1, 5, 2.0).unwrap();
    ws.write_number(1, 6, 1450000.0).unwrap();
    ws.write_string(2, 0, "HD1").unwrap();
    ws.write_string(2, 4, "B").unwrap();
    ws.write_number(2, 5, 1.0).unwrap();
    ws.write_string(2, 6, "250.000 đ").unwrap();
    // A walk-in sale of two lines: skipped, not rejected.
    ws.write_string(3, 0, "HD2").unwrap();
    ws.write_datetime_with_format(3, 1, at(2, 9, 0), &when)
        .unwrap();
    ws.write_string(3, 3, "Khách lẻ").unwrap();
    ws.write_string(3, 4, "A").unwrap();
    ws.write_number(3, 5, 1.0).unwrap();
    ws.write_number(3, 6, 725000.0).unwrap();
    ws.write_string(4, 0, "HD2").unwrap();
    ws.write_string(4, 4, "B").unwrap();
    ws.write_number(4, 5, 1.0).unwrap();
    ws.write_number(4, 6, 250000.0).unwrap();
    // A return of one A from HD1, its amount negative as KiotViet writes it.
    ws.write_string(5, 0, "TH1").unwrap();
    ws.write_datetime_with_format(5, 1, at(5, 16, 30), &when)
        .unwrap();
    ws.write_string(5, 2, "KH1").unwrap();
    ws.write_string(5, 4, "A").unwrap();
    ws.write_number(5, 5, -1.0).unwrap();
    ws.write_number(5, 6, -725000.0).unwrap();
    ws.write_string(5, 7, "HD1").unwrap();
    // An unparseable amount on row 7: its line number is the spreadsheet's row number.
    ws.write_string(6, 0, "HD3").unwrap();
    ws.write_datetime_with_format(6, 1, at(6, 8, 0), &when)
        .unwrap();
    ws.write_string(6, 2, "KH2").unwrap();
    ws.write_string(6, 4, "A").unwrap();
    ws.write_string(6, 6, "n/a").unwrap();
    book.save(dir.join("hoa_don.xlsx")).unwrap();

    let mapping = r#"{ "cutover": "2026-10-01T00:00:00+07:00", "time_zone": "Asia/Ho_Chi_Minh",
        "currency": "VND", "default_country": "VN",
        "statuses": { "Hoạt động": "active", "Đã khóa": "excluded" },
        "files": [
          { "file": "khach.xlsx", "kind": "customers", "sheet": "Khách hàng",
            "columns": { "customer_id": "Mã KH", "phone": "Điện thoại", "status": "Trạng thái", "points": "Điểm" } },
          { "file": "hoa_don.xlsx", "kind": "transactions", "decimal_separator": ",",
            "fill_down": ["customer_id", "name", "time"], "walk_in": ["khách lẻ"],
            "columns": { "order_id": "Mã hóa đơn", "time": "Thời gian", "customer_id": "Mã KH",
                         "name": "Khách hàng", "sku": "Mã hàng", "quantity": "SL",
                         "amount": "Thành tiền", "refund_of": "Trả cho" } } ] }"#;
    let files = vec![dir.join("khach.xlsx"), dir.join("hoa_don.xlsx")];
    let (report, r, lines) = import_paths(&dir, mapping, files);
    has(
        &r,
        "khach.xlsx",
        5,
        Some("Điện thoại"),
        "bad phone \"09800\"",
    );
    has(
        &r,
        "hoa_don.xlsx",
        7,
        Some("Thành tiền"),
        "unparseable amount \"n/a\"",
    );
    assert_eq!(r.len(), 2, "{r:#?}");
    assert_eq!(report.rows_skipped, 2);
    let f = &report.files[1];
    assert_eq!(
        (
            f.delimiter.as_str(),
            f.rows,
            f.accepted,
            f.rejected,
            f.skipped
        ),
        ("xlsx", 6, 3, 1, 2)
    );
    let kh1 = line_of(&lines, "KH1");
    let e = events(kh1);
    assert_eq!(e[0]["id"], "HD1");
    assert_eq!(e[0]["at"], "2026-03-01T10:15:00+07:00");
    assert_eq!(
        e[0]["cart"]["lines"],
        serde_json::json!([
            { "id": "1", "sku": "A", "quantity": 2, "unit_price": "725000" },
            { "id": "2", "sku": "B", "quantity": 1, "unit_price": "250000" }
        ])
    );
    assert_eq!(
        e[1],
        serde_json::json!({ "id": "refund:TH1", "type": "refund", "at": "2026-03-05T16:30:00+07:00",
                            "order_id": "HD1", "lines": [{ "line_id": "1", "quantity": 1 }] })
    );
    assert_eq!(e[2]["points"], 1200);
    // KH2's decomposed "Đã khóa" is the mapping's precomposed status.
    let kh2 = events(line_of(&lines, "KH2"));
    assert_eq!(kh2.last().unwrap()["status"], "excluded");
    let got = replay_all(
        &engine(&fixture("vn-fashion")),
        &lines,
        "2026-10-01T00:00:00+07:00",
    );
    assert_eq!(
        got["KH1"],
        (1200, "member".to_string(), "active".to_string())
    );
    assert_eq!(
        got["KH2"],
        (300, "member".to_string(), "excluded".to_string())
    );
}

#[test]
fn fill_down_stops_at_the_next_order() {
    // HD2 names no customer on its first line: it must not inherit HD1's.
    let tx = b"order,id,phone,time,sku,qty,amount,of\n\
HD1,KH1,,01/03/2026 10:00,A,1,100000,\n\
HD1,,,,B,1,50000,\n\
HD2,,,02/03/2026 10:00,A,1,100000,\n\
HD2,,,,B,1,50000,\n";
    let (_, r, lines) = import_files(
        "fill",
        &vn_mapping(r#", "fill_down": ["customer_id", "time"]"#),
        &[("c.csv", VN_CUSTOMERS), ("x.csv", tx)],
    );
    has(&r, "x.csv", 4, Some("id"), "no customer id, card or phone");
    has(&r, "x.csv", 5, Some("id"), "no customer id, card or phone");
    assert_eq!(r.len(), 2, "{r:#?}");
    let e = events(line_of(&lines, "KH1"));
    assert_eq!(e[0]["cart"]["lines"].as_array().unwrap().len(), 2);
    assert_eq!(e[0]["at"], "2026-03-01T10:00:00+07:00");
}

#[test]
fn walk_in_sales_are_counted_not_rejected() {
    let mapping = vn_mapping(r#", "walk_in": ["Khách lẻ"]"#);
    let tx = "order,id,phone,time,sku,qty,amount,of\n\
HD1,Khách lẻ,,01/03/2026 10:00,A,1,100000,\n\
HD1,KHÁCH LẺ,,01/03/2026 10:00,B,1,50000,\n\
HD2,KH1,,02/03/2026 10:00,A,1,100000,\n";
    let (report, r, lines) = import_files(
        "walkin",
        &mapping,
        &[("c.csv", VN_CUSTOMERS), ("x.csv", tx.as_bytes())],
    );
    assert!(r.is_empty(), "{r:#?}");
    assert_eq!(report.rows_skipped, 2);
    assert_eq!(report.files[1].skipped, 2);
    assert_eq!(report.files[1].accepted, 1);
    assert!(report.totals.balanced);
    assert_eq!(events(line_of(&lines, "KH1"))[0]["id"], "HD2");
    // Without the option, each walk-in line is an unknown customer.
    let (_, r, _) = import_files(
        "walkin-off",
        &vn_mapping(""),
        &[("c.csv", VN_CUSTOMERS), ("x.csv", tx.as_bytes())],
    );
    assert_eq!(r.len(), 2);
}

#[test]
fn offsets_without_colon_zero_fractions_and_negative_returns() {
    // A Vietnamese export: `.` groups thousands, `,` before decimals.
    let mapping =
        vn_mapping(r#", "decimal_separator": ",""#).replace("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M");
    let tx = "order,id,phone,time,sku,qty,amount,of\n\
HD1,KH1,,2026-03-01 10:00:00 +0700,A,2,\"1.450.000,00 đ\",\n\
HD2,KH1,,2026-03-02T03:00:00+0000,A,1,\"250000,0\",\n\
TH1,KH1,,2026-03-03T10:00:00+07,A,-1,-725000,HD1\n\
HD3,KH1,,2026-03-04 10:00,A,1,-5,\n\
HD4,KH1,,2026-03-05 10:00,A,1,\"1.000,50\",\n";
    let (_, r, lines) = import_files(
        "conventions",
        &mapping,
        &[("c.csv", VN_CUSTOMERS), ("x.csv", tx.as_bytes())],
    );
    // A sale's amount stays non-negative; half a dong is not a zero fraction.
    has(&r, "x.csv", 5, Some("amount"), "negative amount \"-5\"");
    has(
        &r,
        "x.csv",
        6,
        Some("amount"),
        "unparseable amount \"1.000,50\"",
    );
    assert_eq!(r.len(), 2, "{r:#?}");
    let e = events(line_of(&lines, "KH1"));
    assert_eq!(e[0]["at"], "2026-03-01T10:00:00+07:00");
    assert_eq!(e[0]["cart"]["lines"][0]["unit_price"], "725000");
    assert_eq!(e[1]["at"], "2026-03-02T10:00:00+07:00");
    assert_eq!(e[1]["cart"]["lines"][0]["unit_price"], "250000");
    assert_eq!(e[2]["id"], "refund:TH1");
    assert_eq!(e[2]["at"], "2026-03-03T10:00:00+07:00");
    assert_eq!(
        e[2]["lines"],
        serde_json::json!([{ "line_id": "1", "quantity": 1 }])
    );
}

#[test]
fn decomposed_statuses_and_tier_names_are_the_mapping_s() {
    let customers = "id,phone,status,points,tier\n\
KH1,0980000001,\u{110}a\u{303} kho\u{301}a,,Va\u{300}ng\n\
KH2,0980000002,\u{110}ã khóa,,Vàng\n";
    let (_, r, lines) = import_files(
        "nfc",
        &vn_mapping(""),
        &[
            ("c.csv", customers.as_bytes()),
            ("x.csv", b"order,id,phone,time,sku,qty,amount,of\n"),
        ],
    );
    assert!(r.is_empty(), "{r:#?}");
    for id in ["KH1", "KH2"] {
        let e = events(line_of(&lines, id));
        assert_eq!(e[0]["tier"], "gold", "{id}");
        assert_eq!(e[1]["status"], "excluded", "{id}");
    }
}

// ---- The ambiguities of docs/migration.md, settled -----------------------------------------

#[test]
fn returns_carry_the_order_prefix_and_take_a_split_line_in_line_order() {
    let mapping = vn_mapping(r#", "order_prefix": "web-""#);
    let tx = b"order,id,phone,time,sku,qty,amount,of\n\
HD1,KH1,,01/03/2026 10:00,BAG,3,1000000,\n\
R1,KH1,,02/03/2026 10:00,BAG,1,,HD1\n\
R2,KH1,,03/03/2026 10:00,BAG,2,,HD1\n";
    let (report, r, lines) = import_files(
        "prefix",
        &mapping,
        &[("c.csv", VN_CUSTOMERS), ("x.csv", tx)],
    );
    assert!(r.is_empty(), "{r:#?}");
    assert!(report.totals.balanced);
    let e = events(line_of(&lines, "KH1"));
    assert_eq!(e[0]["id"], "web-HD1");
    assert_eq!(
        e[0]["cart"]["lines"],
        serde_json::json!([
            { "id": "1", "sku": "BAG", "quantity": 2, "unit_price": "333333" },
            { "id": "2", "sku": "BAG", "quantity": 1, "unit_price": "333334" }
        ])
    );
    // One bag back: the first half (333,333); then two: what is left of it, then the other.
    assert_eq!(
        e[1],
        serde_json::json!({ "id": "refund:web-R1", "type": "refund", "at": "2026-03-02T10:00:00+07:00",
                            "order_id": "web-HD1", "lines": [{ "line_id": "1", "quantity": 1 }] })
    );
    assert_eq!(
        e[2]["lines"],
        serde_json::json!([{ "line_id": "1", "quantity": 1 }, { "line_id": "2", "quantity": 1 }])
    );
    assert_eq!(e[2]["id"], "refund:web-R2");
}

#[test]
fn the_cutover_writes_balance_then_tier_then_status_and_no_nulls() {
    let customers = "id,phone,status,points,tier\nKH1,0980000001,Đã khóa,250,Vàng\n";
    let (_, r, lines) = import_files(
        "cutover",
        &vn_mapping(""),
        &[
            ("c.csv", customers.as_bytes()),
            ("x.csv", b"order,id,phone,time,sku,qty,amount,of\n"),
        ],
    );
    assert!(r.is_empty(), "{r:#?}");
    let line = line_of(&lines, "KH1");
    let kinds: Vec<String> = events(line)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["opening_balance", "set_tier", "status"]);
    // No expiry and no lock: the keys are absent, never null.
    assert!(!line.contains("null"), "{line}");
    assert!(
        !line.contains("expires_at") && !line.contains("locked_until"),
        "{line}"
    );
    // The excluded member still holds the migrated balance and tier.
    let got = replay_all(
        &engine(&fixture("vn-fashion")),
        &lines,
        "2026-10-01T00:00:00+07:00",
    );
    assert_eq!(
        got["KH1"],
        (250, "gold".to_string(), "excluded".to_string())
    );
}

#[test]
fn an_unknown_id_does_not_fall_back_to_a_known_phone_or_card() {
    let mapping = r#"{ "cutover": "2026-10-01T00:00:00+07:00", "time_zone": "Asia/Ho_Chi_Minh",
        "default_country": "VN", "files": [
          { "file": "c.csv", "kind": "customers", "columns": { "customer_id": "id", "phone": "phone", "card": "card" } },
          { "file": "b.csv", "kind": "balances", "columns": { "customer_id": "id", "phone": "phone", "card": "card", "points": "points" } } ] }"#;
    let (_, r, lines) = import_files(
        "fallback",
        mapping,
        &[
            ("c.csv", b"id,phone,card\nKH1,0980000001,VF-1\n"),
            (
                "b.csv",
                b"id,phone,card,points\nKH404,0980000001,,100\nKH405,,VF-1,100\n,0980000001,,40\n",
            ),
        ],
    );
    has(
        &r,
        "b.csv",
        2,
        Some("id"),
        "unknown customer (id KH404): not in any customers file; its phone is a known customer's",
    );
    has(&r, "b.csv", 3, Some("id"), "its card is a known customer's");
    assert_eq!(r.len(), 2, "{r:#?}");
    // Without an id, the phone names the member.
    assert_eq!(events(line_of(&lines, "KH1"))[0]["points"], 40);
}

#[test]
fn members_handed_to_a_library_sink_equal_the_ndjson() {
    let dir = fixture("vn-fashion");
    let (nd_report, ndjson) = run(&dir, false, 1 << 20, "sink-ndjson");
    let mapping: Mapping =
        serde_json::from_str(&std::fs::read_to_string(dir.join("mapping.json")).unwrap()).unwrap();
    let opts = Options {
        mapping,
        files: csv_files(&dir),
        policy: None,
        temp_dir: tmp("sink"),
        memory_budget: 1 << 20,
    };
    let mut got: Vec<String> = Vec::new();
    let mut points = 0;
    let report = import::import_to(&opts, &mut |m: &import::ImportedMember| {
        let h = m.history()?;
        assert_eq!(h.member.id, m.id);
        points += m.opening_points;
        got.push(m.json.to_string());
        Ok(())
    })
    .unwrap();
    let _ = std::fs::remove_dir_all(&opts.temp_dir);
    assert_eq!(got, ndjson);
    assert_eq!(points, report.totals.opening_points_out);
    assert_eq!(
        report.rejected.take().unwrap(),
        nd_report.rejected.take().unwrap()
    );
}
