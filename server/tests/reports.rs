//! Reports (issue 15) on SQLite and (with `LOYALTY_TEST_PG`) PostgreSQL: a fixture programme of
//! twelve members, two stores, two card types, a refund, an expiry, a downgrade and an offline
//! overdraft, every figure computed by hand (docs/reports.md walks through them); the points
//! report equal to the sum of every member's replay at the period's end; `serve check` finding
//! no difference after randomized histories with late events; CSV answers and the background
//! export.

mod support;

use loyalty_server::reports::purchases::{self, Plan};
use loyalty_server::storage::{self, members, Db};
use serde_json::{json, Value};
use support::*;

const JOINED: i64 = 1_767_200_400_000; // 2026-01-01T00:00:00+07:00
const DAY: i64 = 86_400_000;

/// A member written before the server starts (like an import): joined `joined`, one card, and
/// the given events.
async fn put_member(
    db: &Db,
    id: &str,
    status: &str,
    joined: i64,
    card: &str,
    kind: &str,
    events: &[Value],
) {
    let mut tx = db.begin().await.unwrap();
    members::insert(
        &mut tx,
        id,
        status,
        joined,
        None,
        Some("Trần Thị Bình"),
        joined,
    )
    .await
    .unwrap();
    members::insert_card(&mut tx, card, Some(id), kind, "active", joined)
        .await
        .unwrap();
    for (i, e) in events.iter().enumerate() {
        let at = loyalty_server::clock::parse_rfc3339(e["at"].as_str().unwrap()).unwrap();
        storage::events::append(
            &mut tx,
            id,
            i as i64 + 1,
            e["id"].as_str().unwrap(),
            e["type"].as_str().unwrap(),
            at,
            &e.to_string(),
            joined,
            "test",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// The fixture's members (m-001 is the support seed: silver, 300 points, card C-001).
async fn fixture(b: Backend) -> TestServer {
    let url = fresh_db(b).await;
    seed(&url).await;
    let db = Db::open(&url).await.unwrap();
    for (i, id) in (2..=12).map(|i| (i, format!("m-{i:03}"))) {
        let card = format!("C-{i:03}");
        let kind = if i >= 7 { "vip" } else { "standard" };
        let status = if i == 10 { "inactive" } else { "active" };
        let joined = if i == 12 { JOINED + 44 * DAY } else { JOINED }; // m-012: 2026-02-14
        let events: Vec<Value> = match i {
            6 => vec![
                json!({ "id": "ob", "type": "opening_balance", "at": "2026-01-01T00:00:00+07:00", "points": 100, "expires_at": "2026-02-15T00:00:00+07:00" }),
            ],
            9 => vec![
                json!({ "id": "st", "type": "set_tier", "at": "2026-01-01T00:00:00+07:00", "tier": "gold" }),
            ],
            _ => vec![],
        };
        put_member(&db, id.as_str(), status, joined, &card, kind, &events).await;
    }
    // A second published version from 20 February: a point is worth 2,000 VND (sales booked
    // offline still name the first, which prices them).
    let mut v2 = spec_policy();
    v2["redemption"]["point_value"] = json!("2000");
    let v2 = v2.to_string();
    let checked: Value = serde_json::from_str(&loyalty_engine::api::validate_json(&v2)).unwrap();
    let digest = checked["policy_digest"].as_str().unwrap();
    let mut tx = db.begin().await.unwrap();
    storage::policies::insert(&mut tx, digest, &v2, JOINED, "test")
        .await
        .unwrap();
    storage::policies::publish(&mut tx, digest, JOINED + 50 * DAY, JOINED, "test")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Two pre-issued cards nobody holds yet.
    let mut tx = db.begin().await.unwrap();
    for n in ["C-900", "C-901"] {
        members::insert_card(&mut tx, n, None, "standard", "unassigned", JOINED)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Every member's first look, as an import's loader writes it (`loyalty serve check`
    // expects a cache wherever there are events).
    let mut tx = db.begin().await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM members ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    for id in ids {
        let l = loyalty_server::ledger::load(&mut tx, &id)
            .await
            .unwrap()
            .unwrap();
        let as_of = loyalty_server::ledger::as_of(T0, &l.events);
        let st =
            loyalty_server::ledger::replay(&l.versions, &l.member, &l.events, None, as_of).unwrap();
        members::cache(
            &mut tx,
            &id,
            as_of,
            st.available(),
            st.pending(),
            &st.tier(),
            &st.status(),
            st.next_due(as_of, 30),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    TestServer::on(b, &url).await
}

/// An offline sale (SPEC §8.5) as the till quoted it: one apparel line.
#[allow(clippy::too_many_arguments)]
async fn sale(
    s: &TestServer,
    key: &str,
    doc: &str,
    member: Value,
    card: &str,
    at: &str,
    store: &str,
    channel: &str,
    price: &str,
    redeem: i64,
) -> String {
    let cart = json!({ "id": doc, "at": at, "store": store, "channel": channel,
        "lines": [{ "id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 1, "unit_price": price }] });
    let (req, q) = quote(&member, cart, json!(redeem));
    let body = format!(
        r#"{{"document_no":{},"card":{},"quote_request":{},"quote":{},"confirm":false,"offline":true}}"#,
        json!(doc),
        json!(card),
        req,
        q.text
    );
    let (st, a) = s
        .post_text("/v1/orders", key, Some(&format!("k-{doc}")), &body)
        .await;
    assert_eq!(st, 201, "{doc}: {a}");
    let v: Value = serde_json::from_str(&a).unwrap();
    v["order_id"].as_str().unwrap().to_string()
}

fn m(id: &str, tier: &str, points: i64) -> Value {
    json!({ "id": id, "status": "active", "tier": tier, "points": points })
}

/// Books the fixture's February 2026 (weekdays only: no weekend bonus).
async fn february(s: &TestServer, admin: &Admin) {
    let hcm = s.till_key("hcm-01-t1").await;
    let hn = s.till_key("hn-01-t1").await;
    let at = |d: &str| format!("2026-02-{d}T10:00:00+07:00");
    // m-002: two orders a week apart (10 + 10 points).
    sale(
        s,
        &hcm,
        "D-1",
        m("m-002", "member", 0),
        "C-002",
        &at("02"),
        "hcm-01",
        "pos",
        "1000000",
        0,
    )
    .await;
    sale(
        s,
        &hcm,
        "D-2",
        m("m-002", "member", 10),
        "C-002",
        &at("09"),
        "hcm-01",
        "pos",
        "1000000",
        0,
    )
    .await;
    // m-003: 2,000,000 (20 points), refunded whole a week later.
    let o = sale(
        s,
        &hn,
        "D-3",
        m("m-003", "member", 0),
        "C-003",
        &at("03"),
        "hn-01",
        "pos",
        "2000000",
        0,
    )
    .await;
    let (st, r) = s
        .post(
            &format!("/v1/orders/{o}/refunds"),
            &hn,
            Some("rf-1"),
            &json!({ "at": at("10") }),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    // m-001 (silver, 300): 5 % off, 100 points redeemed → paid 850,000, 8 points.
    sale(
        s,
        &hcm,
        "D-4",
        m("m-001", "silver", 300),
        "C-001",
        &at("04"),
        "hcm-01",
        "pos",
        "1000000",
        100,
    )
    .await;
    // m-004: an offline till thought it had 200 points — it had none: overdraft, 8 earned.
    sale(
        s,
        &hcm,
        "D-5",
        m("m-004", "member", 200),
        "C-004",
        &at("05"),
        "hcm-01",
        "pos",
        "1000000",
        200,
    )
    .await;
    // m-005: +50 by hand.
    let (st, r) = admin
        .post(
            "/v1/members/m-005/events",
            &json!({ "type": "adjust", "at": at("05"), "points": 50, "reason": "goodwill" }),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    // m-007 (vip): a web order.
    sale(
        s,
        &hcm,
        "D-6",
        m("m-007", "member", 0),
        "C-007",
        &at("06"),
        "hcm-01",
        "web",
        "1000000",
        0,
    )
    .await;
    // m-008 (vip): four orders at hn-01 (gaps 1, 13, 7 days).
    for (i, d) in ["02", "03", "16", "23"].iter().enumerate() {
        sale(
            s,
            &hn,
            &format!("D-8{i}"),
            m("m-008", "member", 10 * i as i64),
            "C-008",
            &at(d),
            "hn-01",
            "pos",
            "1000000",
            0,
        )
        .await;
    }
    // m-009 (gold): 10 % off, 900,000 × 1.5 → 13 points.
    sale(
        s,
        &hcm,
        "D-9",
        m("m-009", "gold", 0),
        "C-009",
        &at("10"),
        "hcm-01",
        "pos",
        "1000000",
        0,
    )
    .await;
    // m-011 is excluded on 11 February.
    let (st, r) = admin
        .post(
            "/v1/members/m-011/events",
            &json!({ "type": "status", "at": at("11"), "status": "excluded" }),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    // m-012 joined 14 February: a new buyer.
    sale(
        s,
        &hn,
        "D-12",
        m("m-012", "member", 0),
        "C-012",
        &at("17"),
        "hn-01",
        "pos",
        "1000000",
        0,
    )
    .await;
}

/// `PUT /v1/settings` of one key: the status and the error's path.
async fn put_setting(a: &Admin, key: &str, value: &str) -> (u16, Option<String>) {
    let (st, e) = a
        .put("/v1/settings", &json!({ "key": key, "value": value }))
        .await;
    (st, e["error"]["path"].as_str().map(str::to_string))
}

async fn report(a: &Admin, path: &str) -> Value {
    let (st, v) = a.get(path).await;
    assert_eq!(st, 200, "{path}: {v}");
    v
}

fn by<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

/// Σ over every stored member of its replay (all published versions) as of the last instant
/// before `end` (a period's end: a lot that expires at the start of the next day still counts).
async fn replay_sums(db: &Db, end: i64) -> (i64, i64, i64) {
    let as_of = end - 1;
    let mut c = db.read.acquire().await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM members ORDER BY id")
        .fetch_all(&mut *c)
        .await
        .unwrap();
    let (mut outstanding, mut pending, mut n) = (0, 0, 0);
    for id in ids {
        let l = loyalty_server::ledger::load(&mut c, &id)
            .await
            .unwrap()
            .unwrap();
        if l.member.joined_at > as_of {
            continue;
        }
        let s =
            loyalty_server::ledger::replay(&l.versions, &l.member, &l.events, None, as_of).unwrap();
        outstanding += s.available() + s.pending();
        pending += s.pending();
        n += 1;
    }
    (outstanding, pending, n)
}

/// The frequency and customer-type figures recomputed member by member from the purchase rows
/// (what the reports read before `rpt_cells`) that pass `filters` ((`card_type` | `store` |
/// `tier` | `status`, value): the purchase's own), to compare with what they answer now.
async fn frequency_by_member(db: &Db, from: &str, to: &str, filters: &[(&str, &str)]) -> Value {
    let start = loyalty_engine::report::day_start_ms(
        &loyalty_engine::policy::Policy::from_json(
            &storage::policies::versions(&mut db.read.acquire().await.unwrap())
                .await
                .unwrap()[0]
                .document,
        )
        .unwrap(),
        from,
    )
    .unwrap();
    let mut c = db.read.acquire().await.unwrap();
    // (member, day, tier, joined_at, card_type, store, status)
    type Purchase = (String, String, String, i64, String, Option<String>, String);
    let rows: Vec<Purchase> = sqlx::query_as(
        "SELECT f.member_id, f.day, f.tier, m.joined_at, f.card_type, f.store, f.status FROM rpt_flows f \
         JOIN members m \
         ON m.id = f.member_id WHERE f.kind = 'purchase' AND f.day >= $1 AND f.day <= $2 \
         ORDER BY f.member_id, f.at, f.n",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let day = |d: &str| {
        use chrono::Datelike;
        i64::from(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .num_days_from_ce(),
        )
    };
    // member → (orders, last day, last tier, new)
    let mut members: std::collections::BTreeMap<String, (i64, i64, String, bool)> =
        Default::default();
    let mut gaps = vec![];
    let mut orders = 0;
    for (m, d, tier, joined, card, store, status) in rows {
        let keep = filters.iter().all(|(name, v)| match *name {
            "card_type" => card == *v,
            "store" => store.as_deref() == Some(*v),
            "tier" => tier == *v,
            _ => status == *v,
        });
        if !keep {
            continue;
        }
        orders += 1;
        let d = day(&d);
        let e = members
            .entry(m)
            .or_insert((0, d, String::new(), joined >= start));
        if e.0 > 0 {
            gaps.push(d - e.1);
        }
        e.0 += 1;
        e.1 = d;
        e.2 = tier;
    }
    gaps.sort();
    let mut buckets = [0i64; 5];
    let mut by_tier: std::collections::BTreeMap<String, [i64; 2]> = Default::default();
    for (n, _, tier, new) in members.values() {
        let i = match n {
            1 => 0,
            2..=3 => 1,
            4..=6 => 2,
            7..=12 => 3,
            _ => 4,
        };
        buckets[i] += 1;
        by_tier.entry(tier.clone()).or_default()[usize::from(!new)] += 1;
    }
    let mut dist = [0i64; 7];
    for g in &gaps {
        let i = [7, 14, 30, 60, 90, 180]
            .iter()
            .position(|hi| g <= hi)
            .unwrap_or(6);
        dist[i] += 1;
    }
    let median = match gaps.len() {
        0 => Value::Null,
        n if n % 2 == 1 => json!(gaps[n / 2].to_string()),
        n => {
            let s = gaps[n / 2 - 1] + gaps[n / 2];
            json!(if s % 2 == 0 {
                (s / 2).to_string()
            } else {
                format!("{}.5", s / 2)
            })
        }
    };
    json!({
        "members": members.len(), "orders": orders, "buckets": buckets, "intervals": gaps.len(),
        "median": median, "distribution": dist,
        "new": by_tier.values().map(|v| v[0]).sum::<i64>(),
        "returning": by_tier.values().map(|v| v[1]).sum::<i64>(),
        "by_tier": by_tier,
    })
}

/// The filters the frequency and customers reports are compared under: none and a card type
/// (`rpt_cells`: the card type is a cell column), a store, tier or status alone and two together
/// (read from the purchases; `status=active` with at most a card type as the cells less and
/// plus the members with other statuses, `reports::purchases::Plan::Others`).
const FILTERS: [&[(&str, &str)]; 14] = [
    &[],
    &[("card_type", "vip")],
    &[("card_type", "standard")],
    &[("store", "hcm-01")],
    &[("store", "hn-01")],
    &[("tier", "member")],
    &[("tier", "gold")],
    &[("status", "active")],
    &[("status", "inactive")],
    &[("status", "excluded")],
    &[("card_type", "vip"), ("status", "active")],
    &[("status", "active"), ("tier", "gold")],
    &[("card_type", "vip"), ("store", "hn-01")],
    &[("store", "hcm-01"), ("tier", "gold")],
];

/// The frequency and customers reports of a period equal [`frequency_by_member`]'s figures.
async fn assert_frequency_by_member(
    a: &Admin,
    db: &Db,
    from: &str,
    to: &str,
    filters: &[(&str, &str)],
) {
    let filter: String = filters.iter().map(|(k, v)| format!("&{k}={v}")).collect();
    let card_type = filters
        .iter()
        .find(|(k, _)| *k == "card_type")
        .map(|(_, v)| *v);
    let both = || async {
        let path = |r: &str| format!("/v1/reports/{r}?from={from}&to={to}{filter}");
        (
            report(a, &path("frequency")).await,
            report(a, &path("customers")).await,
        )
    };
    let (f, c) = both().await;
    // Read in three ranges of members at once (`storage::scan::each_by_member`, one per core
    // on a large database): the same answers.
    storage::scan::force_parts(3);
    let (f3, c3) = both().await;
    storage::scan::force_parts(0);
    assert_eq!(
        (&f3, &c3),
        (&f, &c),
        "in three ranges: {from}..{to} {filters:?}"
    );
    // `status=active` read both ways (the purchases the filter keeps; the cells less and plus
    // the members with a purchase of another status): the same answers.
    if filters.contains(&("status", "active")) {
        for plan in [Plan::Scan, Plan::Others] {
            purchases::force(Some(plan));
            let got = both().await;
            purchases::force(None);
            assert_eq!(
                (&got.0, &got.1),
                (&f, &c),
                "{plan:?}: {from}..{to} {filters:?}"
            );
        }
    }
    let list = |v: &Value, k: &str| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x[k].as_i64().unwrap())
            .collect()
    };
    let mut by_tier = serde_json::Map::new();
    for t in c["buyers_by_tier"].as_array().unwrap() {
        if t["new"] != 0 || t["returning"] != 0 {
            by_tier.insert(
                t["tier"].as_str().unwrap().into(),
                json!([t["new"], t["returning"]]),
            );
        }
    }
    let got = json!({
        "members": f["members"], "orders": f["orders"], "buckets": list(&f["by_orders"], "members"),
        "intervals": f["days_between"]["intervals"], "median": f["days_between"]["median"],
        "distribution": list(&f["days_between"]["distribution"], "intervals"),
        "new": c["buyers"]["new"], "returning": c["buyers"]["returning"], "by_tier": by_tier,
    });
    assert_eq!(
        got,
        frequency_by_member(db, from, to, filters).await,
        "{from}..{to} {filters:?}"
    );
    // Activated cards (the `act` cells): bound to a member whose last state by the period's end
    // is active, as the report counted them card by card.
    let policy = loyalty_engine::policy::Policy::from_json(
        &storage::policies::versions(&mut db.read.acquire().await.unwrap())
            .await
            .unwrap()[0]
            .document,
    )
    .unwrap();
    let next = (chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap()
        + chrono::Duration::days(1))
    .format("%Y-%m-%d")
    .to_string();
    let end = loyalty_engine::report::day_start_ms(&policy, &next).unwrap();
    let activated: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM cards c WHERE c.issued_at < $1 AND (c.type = $2 OR $2 = '') \
         AND c.member_id IS NOT NULL AND (SELECT p.status FROM rpt_points p WHERE p.member_id = \
         c.member_id AND p.at < $1 ORDER BY p.n DESC LIMIT 1) = 'active'",
    )
    .bind(end)
    .bind(card_type.unwrap_or(""))
    .fetch_one(&db.read)
    .await
    .unwrap();
    assert_eq!(
        c["cards"]["activated"], activated,
        "{from}..{to} {filters:?}"
    );
    assert_eq!(c["buyers"]["total"], f["members"], "{from}..{to}");
}

#[tokio::test]
async fn fixture_reports_are_the_hand_computed_figures() {
    for b in backends() {
        let s = fixture(b).await;
        let a = s.admin().await;
        february(&s, &a).await;
        let feb = "from=2026-02-01&to=2026-02-28";

        // Revenue: 12 orders, 13,000,000 − 2,000,000 refunded; discounts 50,000 + 100,000.
        let r = report(&a, &format!("/v1/reports/revenue?{feb}")).await;
        assert_eq!(
            r["totals"],
            json!({ "orders": 12, "refunds": 1, "gross_sales": "11000000", "tier_discounts": "150000",
                    "sales": "10850000", "average_basket": "904167", "redemptions": 2,
                    "points_redeemed": 300, "redeemed_amount": "300000", "paid": "10550000" }),
            "{b:?}"
        );
        let hcm = by(&r["by_store"], "store", "hcm-01");
        assert_eq!(
            (hcm["orders"].as_i64(), hcm["sales"].as_str()),
            (Some(6), Some("5850000"))
        );
        let hn = by(&r["by_store"], "store", "hn-01");
        assert_eq!(
            (
                hn["orders"].as_i64(),
                hn["refunds"].as_i64(),
                hn["sales"].as_str()
            ),
            (Some(6), Some(1), Some("5000000"))
        );
        assert_eq!(
            r["by_store"].as_array().unwrap().len(),
            2,
            "no store-less rows: {}",
            r["by_store"]
        );
        let vip = by(&r["by_card_type"], "card_type", "vip");
        assert_eq!(
            (
                vip["orders"].as_i64(),
                vip["gross_sales"].as_str(),
                vip["tier_discounts"].as_str()
            ),
            (Some(7), Some("7000000"), Some("100000"))
        );
        let std = by(&r["by_card_type"], "card_type", "standard");
        assert_eq!(
            (std["orders"].as_i64(), std["gross_sales"].as_str()),
            (Some(5), Some("4000000"))
        );
        assert_eq!(
            by(&r["by_tier"], "tier", "gold")["tier_discounts"],
            "100000"
        );
        assert_eq!(
            by(&r["by_tier"], "tier", "silver")["redeemed_amount"],
            "100000"
        );
        assert_eq!(by(&r["by_tier"], "tier", "member")["orders"], 10);
        assert_eq!(by(&r["by_channel"], "channel", "web")["orders"], 1);
        assert_eq!(by(&r["by_channel"], "channel", "pos")["orders"], 11);
        assert_eq!(
            r["by_period"],
            json!([{ "period": "2026-02", "orders": 12, "refunds": 1, "gross_sales": "11000000", "tier_discounts": "150000", "sales": "10850000", "average_basket": "904167", "redemptions": 2, "points_redeemed": 300, "redeemed_amount": "300000", "paid": "10550000" }])
        );
        // Filters: one store, one card type.
        let r = report(
            &a,
            &format!("/v1/reports/revenue?{feb}&store=hn-01&card_type=vip"),
        )
        .await;
        assert_eq!(
            (
                r["totals"]["orders"].as_i64(),
                r["totals"]["sales"].as_str()
            ),
            (Some(5), Some("5000000"))
        );
        // By week: 2 to 8 February is ISO week 6.
        let r = report(&a, &format!("/v1/reports/revenue?{feb}&group=week")).await;
        assert_eq!(by(&r["by_period"], "period", "2026-W06")["orders"], 7);

        // Points: earned 129, clawed back 20, redeemed 300, expired 100, adjusted 50.
        let p = report(
            &a,
            &format!("/v1/reports/points?{feb}&expected_redemption=0.7"),
        )
        .await;
        assert_eq!(
            p["flows"],
            json!({ "issued": 109, "earned": 129, "clawed_back": 20, "redeemed": 300, "expired": 100, "adjusted": 50, "opening_balances": 0 }),
            "{b:?}"
        );
        // 208 + 20 + 0 − 192 + 50 + 0 + 10 + 40 + 13 + 0 + 0 + 10 = 159 points; × 2,000 (the
        // version in force at the period's end) × 0.7.
        assert_eq!(
            p["at_end"],
            json!({ "members": 12, "outstanding": 159, "available": 159, "pending": 0, "point_value": "2000", "expected_redemption": "0.7", "liability": "222600" })
        );
        // January's end: the first version, 1,000 a point, × 1.
        let j = report(&a, "/v1/reports/points?from=2026-01-01&to=2026-01-31").await;
        assert_eq!(
            (
                j["at_end"]["point_value"].as_str(),
                j["at_end"]["liability"].as_str()
            ),
            (Some("1000"), Some("400000"))
        );
        assert_eq!(by(&p["by_tier"], "tier", "silver")["outstanding"], 208);
        // The same as every member's replay at the period's end (2026-03-01 00:00 +07:00).
        let end = JOINED + 59 * DAY;
        assert_eq!(replay_sums(&s.app().db, end).await, (159, 0, 12));
        // From the programme's start, the flows are the replays' totals; at 31 January the
        // outstanding is m-001's 300 + m-006's 100.
        let jan = report(&a, "/v1/reports/points?from=2026-01-01&to=2026-01-31").await;
        assert_eq!(
            (
                jan["at_end"]["outstanding"].as_i64(),
                jan["at_end"]["members"].as_i64()
            ),
            (Some(400), Some(11))
        );
        assert_eq!(
            replay_sums(&s.app().db, JOINED + 31 * DAY).await,
            (400, 0, 11)
        );

        // Frequency: six members with one order, m-002 two, m-008 four; gaps 7 | 1, 13, 7.
        let f = report(&a, &format!("/v1/reports/frequency?{feb}")).await;
        assert_eq!(
            (f["members"].as_i64(), f["orders"].as_i64()),
            (Some(8), Some(12))
        );
        assert_eq!(
            f["by_orders"],
            json!([{ "orders": "1", "members": 6 }, { "orders": "2-3", "members": 1 }, { "orders": "4-6", "members": 1 }, { "orders": "7-12", "members": 0 }, { "orders": "13+", "members": 0 }])
        );
        assert_eq!(f["days_between"]["intervals"], 4);
        assert_eq!(f["days_between"]["median"], "7");
        assert_eq!(
            f["days_between"]["distribution"][0],
            json!({ "days": "0-7", "intervals": 3 })
        );
        assert_eq!(
            f["days_between"]["distribution"][1],
            json!({ "days": "8-14", "intervals": 1 })
        );

        // Customers: eight buyers, m-012 new; 10 active, m-010 inactive, m-011 excluded;
        // 14 cards issued, 12 bound, 10 of them to active members.
        let c = report(&a, &format!("/v1/reports/customers?{feb}")).await;
        assert_eq!(c["buyers"], json!({ "total": 8, "new": 1, "returning": 7 }));
        assert_eq!(c["joined"], 1);
        assert_eq!(
            c["members_at_end"]["by_status"],
            json!([{ "status": "active", "members": 10 }, { "status": "inactive", "members": 1 }, { "status": "excluded", "members": 1 }, { "status": "unassigned", "members": 0 }])
        );
        assert_eq!(
            c["cards"],
            json!({ "issued": 14, "assigned": 12, "unassigned": 2, "activated": 10, "activation_rate": "0.7143" })
        );
        assert_eq!(
            by(&c["buyers_by_tier"], "tier", "gold"),
            &json!({ "tier": "gold", "new": 0, "returning": 1 })
        );
        // With a store filter the buyers are read from the purchases and only the joining cells
        // from rpt_cells: m-012 still joined in February; the cards are not a store's.
        let cs = report(&a, &format!("/v1/reports/customers?{feb}&store=hcm-01")).await;
        assert_eq!((&cs["joined"], &cs["cards"]), (&c["joined"], &c["cards"]));

        // Tiers: January's two set tiers are upgrades; at the end of February 10/1/1.
        let t = report(&a, "/v1/reports/tiers?from=2026-01-01&to=2026-02-28").await;
        assert_eq!(
            (t["upgrades"].as_i64(), t["downgrades"].as_i64()),
            (Some(2), Some(0))
        );
        assert_eq!(
            t["matrix"],
            json!([{ "from": "member", "to": "silver", "members": 1 }, { "from": "member", "to": "gold", "members": 1 }])
        );
        assert_eq!(
            t["members_at_end"],
            json!([{ "tier": "member", "members": 10 }, { "tier": "silver", "members": 1 }, { "tier": "gold", "members": 1 }])
        );

        // Card transactions of C-008, JSON and CSV.
        let x = report(&a, &format!("/v1/reports/transactions?{feb}&card=C-008")).await;
        let items = x["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["at"], "2026-02-02T10:00:00+07:00");
        assert_eq!(
            (
                items[0]["points_earned"].as_i64(),
                items[0]["paid"].as_str(),
                items[0]["card"].as_str(),
                items[0]["document_no"].as_str()
            ),
            (Some(10), Some("1000000"), Some("C-008"), Some("D-80"))
        );
        let csv = a
            .http
            .get(format!(
                "{}/v1/reports/transactions?{feb}&card=C-008&format=csv",
                a.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.starts_with("at,day,member_id,card,kind,"), "{text}");
        assert!(
            text.contains("2026-02-23T10:00:00+07:00,2026-02-23,m-008,C-008,purchase,"),
            "{text}"
        );

        // Checks and refusals.
        let (st, e) = a.get("/v1/reports/revenue?from=2026-02-30").await;
        assert_eq!((st, e["error"]["path"].as_str()), (400, Some("from")));
        let (st, _) = s
            .get("/v1/reports/revenue", &s.till_key("hcm-01-t1").await)
            .await;
        assert_eq!(st, 403);

        // Nothing differs from the events.
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(
            check.differences.is_empty(),
            "{b:?} {:?}",
            check.differences
        );

        // A year on, the anniversary reviews take m-001 (silver) and m-009 (gold) down: the
        // scheduled refresh re-dates them.
        s.clock().set(JOINED + 366 * DAY);
        loyalty_server::workers::refresh_due(s.app(), 1000)
            .await
            .unwrap();
        let a = s.admin().await; // (the session of a year ago has ended)
        let t = report(&a, "/v1/reports/tiers?from=2027-01-01&to=2027-01-01").await;
        assert_eq!(
            (t["upgrades"].as_i64(), t["downgrades"].as_i64()),
            (Some(0), Some(2)),
            "{b:?} {t}"
        );
        assert_eq!(
            t["matrix"],
            json!([{ "from": "silver", "to": "member", "members": 1 }, { "from": "gold", "to": "member", "members": 1 }])
        );
        assert_eq!(
            t["by_month"],
            json!([{ "month": "2027-01", "up": 0, "down": 2 }])
        );
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(
            check.differences.is_empty(),
            "{b:?} {:?}",
            check.differences
        );
        s.stop().await;
    }
}

/// A small deterministic generator (xorshift) for the randomized histories.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test]
async fn randomized_histories_keep_every_aggregate_equal_to_the_events() {
    for b in backends() {
        let s = fixture(b).await;
        let a = s.admin().await;
        let hcm = s.till_key("hcm-01-t1").await;
        let hn = s.till_key("hn-01-t1").await;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (b as u64 + 1));
        let mut booked: Vec<(String, i64, &String)> = vec![];
        for i in 0..40 {
            let who = 2 + rng.below(9) as usize; // m-002 … m-010 (not m-011 / m-012)
            let id = format!("m-{who:03}");
            // Late events in any order: a day from 2 January to 6 March.
            let day = 1 + rng.below(64) as i64;
            let at_ms = JOINED + day * DAY + 3_600_000 * (8 + rng.below(10) as i64);
            let at = loyalty_server::clock::rfc3339(at_ms);
            match rng.below(4) {
                0 | 1 => {
                    let price = format!("{}", 100_000 * (1 + rng.below(30)));
                    let doc = format!("R-{i}");
                    let status = if who == 10 { "inactive" } else { "active" };
                    let tier = if who == 9 { "gold" } else { "member" };
                    let member = json!({ "id": id, "status": status, "tier": tier, "points": 0 });
                    // A third of the sales at the second store (the store filters' cells).
                    let (key, store) = if rng.below(3) == 0 {
                        (&hn, "hn-01")
                    } else {
                        (&hcm, "hcm-01")
                    };
                    let o = sale(
                        &s,
                        key,
                        &doc,
                        member,
                        &format!("C-{who:03}"),
                        &at,
                        store,
                        "pos",
                        &price,
                        0,
                    )
                    .await;
                    booked.push((o, at_ms, key));
                }
                2 if !booked.is_empty() => {
                    let (o, order_at, key) = booked.remove(rng.below(booked.len() as u64) as usize);
                    let when = loyalty_server::clock::rfc3339(order_at.max(at_ms));
                    let (st, r) = s
                        .post(
                            &format!("/v1/orders/{o}/refunds"),
                            key,
                            Some(&format!("rf-{i}")),
                            &json!({ "at": when }),
                        )
                        .await;
                    assert_eq!(st, 201, "{r}");
                }
                _ => {
                    let points = rng.below(200) as i64 - 60;
                    let (st, r) = a
                        .post(&format!("/v1/members/{id}/events"), &json!({ "type": "adjust", "at": at, "points": points, "reason": "random" }))
                        .await;
                    assert_eq!(st, 201, "{r}");
                }
            }
        }
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(
            check.differences.is_empty(),
            "{b:?} {:?}",
            check.differences
        );
        // The frequency and customers reports (summed from rpt_cells) are the purchases counted
        // member by member, for periods that are and are not whole months.
        for (from, to) in [
            ("2026-01-01", "2026-03-31"),
            ("2026-02-01", "2026-02-28"),
            ("2026-01-09", "2026-02-17"),
            ("2026-02-03", "2026-02-03"),
        ] {
            for filters in FILTERS {
                assert_frequency_by_member(&a, &s.app().db, from, to, filters).await;
            }
        }
        // And the points report is the replays' sum at several period ends.
        for (to, end_day) in [("2026-01-20", 20), ("2026-02-14", 45), ("2026-03-06", 65)] {
            let p = report(&a, &format!("/v1/reports/points?from=2026-01-01&to={to}")).await;
            let (outstanding, pending, n) = replay_sums(&s.app().db, JOINED + end_day * DAY).await;
            assert_eq!(
                (
                    p["at_end"]["outstanding"].as_i64(),
                    p["at_end"]["pending"].as_i64(),
                    p["at_end"]["members"].as_i64()
                ),
                (Some(outstanding), Some(pending), Some(n)),
                "{b:?} {to}"
            );
        }
        s.stop().await;
    }
}

/// Starts a transaction export of the period and waits for its end: the job as it ended.
async fn export_job(a: &Admin, from: &str, to: &str) -> Value {
    let (st, job) = a
        .post(
            "/v1/reports/exports",
            &json!({ "report": "transactions", "from": from, "to": to }),
        )
        .await;
    assert_eq!(st, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        let (_, j) = a.get(&format!("/v1/reports/exports/{id}")).await;
        if j["state"] != "running" {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("export {id} still running");
}

/// A transaction export of the period run to its end: the finished job and its download.
async fn export(a: &Admin, from: &str, to: &str) -> (Value, String) {
    let done = export_job(a, from, to).await;
    assert_eq!(done["state"], "done", "{done}");
    let text = a.get_text(done["download"].as_str().unwrap()).await;
    (done, text)
}

#[tokio::test]
async fn exports_run_in_the_background_and_serve_only_finished_files() {
    for b in backends() {
        let s = fixture(b).await;
        let a = s.admin().await;
        february(&s, &a).await;
        // Parts of ≥ 4,096 bytes (the smallest the setting allows; 20 rows are ≈ 2.6 KB): set
        // through the API, refused out of range.
        for bad in ["4095", "0", "-1", "1 MB", "67108865"] {
            let refused = put_setting(&a, "export_part_bytes", bad).await;
            assert_eq!(refused, (400, Some("value".into())), "{bad}");
        }
        assert_eq!(put_setting(&a, "export_part_bytes", "4096").await.0, 200);
        // The tests' own part size, below what the API allows: the 20 rows are stored in several
        // parts, written while the query streams, and served in order.
        let mut tx = s.app().db.begin().await.unwrap();
        storage::settings::set(&mut tx, "export_part_bytes", "600")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (done, text) = export(&a, "2026-01-01", "2026-02-28").await;
        let id = done["id"].as_str().unwrap().to_string();
        // 12 purchases, 1 refund, 1 adjust, 1 status, 1 expiry, the seed's opening balance and
        // set tier, m-006's opening balance, m-009's set tier = 20 rows.
        assert_eq!(
            (done["rows_done"].as_i64(), done["progress"].as_str()),
            (Some(20), Some("1.0000"))
        );
        assert_eq!(text.lines().count(), 21, "{text}");
        let parts: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM rpt_export_parts WHERE export_id = $1",
        )
        .bind(&id)
        .fetch_one(&s.app().db.read)
        .await
        .unwrap();
        assert!(parts >= 3, "{parts} parts");
        // The header first, then member by member (ids ascending), each member's rows in the
        // order and the form of its own transaction list (the JSON/CSV path) — on SQLite read
        // in the table's order for a long period and found by the day index for a short one
        // (`export::read_by_member`).
        for (from, to) in [("2026-01-01", "2026-02-28"), ("2026-02-01", "2026-02-07")] {
            let text = if from == "2026-01-01" {
                text.clone()
            } else {
                export(&a, from, to).await.1
            };
            assert!(text.starts_with("at,day,member_id,"), "{text}");
            let mut expected = vec![];
            for i in 1..=12 {
                let r = a
                    .http
                    .get(format!(
                        "{}/v1/reports/transactions?from={from}&to={to}&member=m-{i:03}&format=csv",
                        a.base
                    ))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200);
                let csv = r.text().await.unwrap();
                expected.extend(csv.lines().skip(1).map(str::to_string));
            }
            let got: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
            assert!(got.len() >= 2, "{from}..{to}: {got:?}");
            assert_eq!(got, expected, "{from}..{to}");
        }
        // A job over the allowed size fails and says why; nothing is served.
        for bad in ["0", "-5", "five"] {
            let refused = put_setting(&a, "export_max_rows", bad).await;
            assert_eq!(refused, (400, Some("value".into())), "{bad}");
        }
        assert_eq!(put_setting(&a, "export_max_rows", "5").await.0, 200);
        let j = export_job(&a, "2026-01-01", "2026-02-28").await;
        let id = j["id"].as_str().unwrap().to_string();
        assert_eq!(j["state"], "failed", "{j}");
        assert!(
            j["error"]
                .as_str()
                .unwrap()
                .contains("20 rows, more than the 5"),
            "{j}"
        );
        assert_eq!(j["download"], Value::Null);
        let (st, e) = a.get(&format!("/v1/reports/exports/{id}/download")).await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("invalid_state"))
        );
        let (st, e) = a
            .post("/v1/reports/exports", &json!({ "report": "revenue" }))
            .await;
        assert_eq!((st, e["error"]["path"].as_str()), (400, Some("report")));
        s.stop().await;
    }
}

#[tokio::test]
async fn loaded_histories_are_summed_like_booked_ones() {
    for b in backends() {
        let s = fixture(b).await;
        let a = s.admin().await;
        // 120 generated members with 14 months of history ending 2026-03-01 (refunds, set
        // tiers, opening balances, status changes, expiry of 2025's points on 2027-01-01 not yet).
        let text = loyalty_engine::generate(&loyalty_engine::generate::GenerateOptions {
            members: 120,
            seed: 7,
            months: 14,
            profile: "vn-fashion".into(),
            as_of: Some("2026-03-01T00:00:00+07:00".into()),
        })
        .unwrap();
        let file =
            std::env::temp_dir().join(format!("reports-load-{}-{b:?}.ndjson", std::process::id()));
        std::fs::write(&file, text).unwrap();
        // A load of at least `import_indexes_at` members (and of at least as many as are
        // stored) drops rpt_flows' secondary indexes and builds them at its end, as an import
        // does: afterwards they are the migrations' own and the audit says both.
        let db = &s.app().db;
        let migrated = flow_indexes(db, b).await;
        assert_eq!(migrated.len(), 4, "{b:?}");
        let (st, _) = a
            .put(
                "/v1/settings",
                &json!({ "key": "import_indexes_at", "value": "120" }),
            )
            .await;
        assert_eq!(st, 200, "{b:?}");
        // The report sums added with every batch of 64 (a million members' cells would not
        // be held to the end).
        let r = loyalty_server::load::load_holding(db, &file, 64, 1, T0, |_| {})
            .await
            .unwrap();
        assert_eq!((r.members, r.skipped.len()), (120, 0), "{:?}", r.skipped);
        assert_eq!(flow_indexes(db, b).await, migrated, "{b:?}");
        let audited = |action: &str| {
            format!(
                "SELECT COUNT(*) FROM audit WHERE action = 'import.indexes_{action}' \
                 AND target = 'load-{T0}'"
            )
        };
        assert_eq!(
            (
                count(&s, &audited("dropped")).await,
                count(&s, &audited("built")).await
            ),
            (1, 1),
            "{b:?}"
        );
        std::fs::remove_file(&file).ok();
        assert!(r.events > 500, "{}", r.events);
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(
            check.differences.is_empty(),
            "{b:?} {:?}",
            check.differences
        );
        for (to, end) in [
            ("2025-06-30", JOINED - 184 * DAY),
            ("2026-02-28", JOINED + 59 * DAY),
        ] {
            let p = report(&a, &format!("/v1/reports/points?from=2025-01-01&to={to}")).await;
            let (outstanding, pending, n) = replay_sums(&s.app().db, end).await;
            assert_eq!(
                (
                    p["at_end"]["outstanding"].as_i64(),
                    p["at_end"]["pending"].as_i64(),
                    p["at_end"]["members"].as_i64()
                ),
                (Some(outstanding), Some(pending), Some(n)),
                "{b:?} {to}"
            );
        }
        // Frequency and customers from rpt_cells, as counted member by member (members with up
        // to 13+ orders, periods cutting months).
        for (from, to) in [
            ("2025-01-01", "2026-02-28"),
            ("2025-03-01", "2026-02-28"),
            ("2025-02-17", "2025-11-03"),
            ("2025-06-10", "2025-06-24"),
        ] {
            for filters in FILTERS {
                assert_frequency_by_member(&a, &s.app().db, from, to, filters).await;
            }
        }
        let r = report(&a, "/v1/reports/revenue?from=2025-03-01&to=2026-02-28").await;
        assert!(
            r["totals"]["orders"].as_i64().unwrap() > 500,
            "{}",
            r["totals"]
        );
        s.stop().await;
    }
}
