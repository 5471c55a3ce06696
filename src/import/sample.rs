//! Synthetic CSV exports for benchmarks (`loyalty import-sample`, hidden): a VND fashion chain
//! with `customers` customers and about `transactions` transaction rows, written in customer
//! order for customers / balances / tiers and in time-shuffled order for transactions (as a
//! POS export by date would be), plus the mapping file. Deterministic for a seed.

use crate::generate::SplitMix64;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

const SKUS: [(&str, &str, i64); 6] = [
    ("TEE-01", "apparel", 250_000),
    ("JEAN-02", "apparel", 590_000),
    ("RUN-42", "shoes", 1_200_000),
    ("SAND-7", "shoes", 450_000),
    ("BAG-3", "accessories", 320_000),
    ("GIFT-500", "gift_card", 500_000),
];
const NAMES: [&str; 6] = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Cường",
    "Phạm Thu Dương",
    "Hoàng Đức Long",
    "Vũ Ngọc Ánh",
];
const TIERS: [&str; 3] = ["member", "silver", "gold"];

/// Writes `customers.csv`, `balances.csv`, `tiers.csv`, `transactions.csv` and
/// `mapping.json` into `dir`.
pub fn write_sample(dir: &Path, customers: u64, transactions: u64, seed: u64) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = SplitMix64::new(seed);
    let mut c = BufWriter::with_capacity(1 << 20, File::create(dir.join("customers.csv"))?);
    let mut b = BufWriter::with_capacity(1 << 20, File::create(dir.join("balances.csv"))?);
    let mut t = BufWriter::with_capacity(1 << 20, File::create(dir.join("tiers.csv"))?);
    c.write_all("\u{feff}Mã KH,Số điện thoại,Số thẻ,Họ tên,Trạng thái,Ngày tham gia\n".as_bytes())?;
    b.write_all(b"customer_id,points,expiry\n")?;
    t.write_all(b"customer_id,tier,locked_until\n")?;
    for i in 0..customers {
        let status = match rng.below(100) {
            0 => "Chưa kích hoạt",
            1 => "Đã khóa",
            _ => "Hoạt động",
        };
        let name = NAMES
            .get(rng.below(NAMES.len() as u64) as usize)
            .copied()
            .unwrap_or("");
        let day = 1 + rng.below(28);
        let month = 1 + rng.below(12);
        writeln!(
            c,
            "KH{i:08},0{:03}.{:03}.{:03},{:010},\"{name}\",{status},{day:02}/{month:02}/2024",
            900 + i / 1_000_000 % 100,
            i / 1000 % 1000,
            i % 1000,
            7_000_000_000u64 + i
        )?;
        if rng.chance(800) {
            writeln!(b, "KH{i:08},{},31/12/2027", rng.range(1, 5000))?;
        }
        let tier = TIERS
            .get(rng.below(3) as usize)
            .copied()
            .unwrap_or("member");
        writeln!(t, "KH{i:08},{tier},")?;
    }
    c.flush()?;
    b.flush()?;
    t.flush()?;
    let mut x = BufWriter::with_capacity(1 << 20, File::create(dir.join("transactions.csv"))?);
    x.write_all(b"order_id,customer_id,time,sku,category,quantity,amount,refund_of\n")?;
    let mut rows = 0u64;
    let mut order = 0u64;
    while rows < transactions {
        order += 1;
        let who = rng.below(customers.max(1));
        // Roughly time-ordered: the export is by date.
        let day = (order * 365 / (transactions / 2).max(1)).min(364);
        let (m, d) = (1 + day / 31 % 12, 1 + day % 28);
        let (h, min) = (8 + rng.below(13), rng.below(60));
        let time = format!("2025-{m:02}-{d:02} {h:02}:{min:02}");
        let lines = 1 + rng.below(3);
        let mut first = None;
        for _ in 0..lines {
            let (sku, cat, price) = SKUS
                .get(rng.below(SKUS.len() as u64) as usize)
                .copied()
                .unwrap_or(("TEE-01", "apparel", 250_000));
            let q = 1 + rng.below(2) as i64;
            writeln!(
                x,
                "HD{order:09},KH{who:08},{time},{sku},{cat},{q},{},",
                price * q
            )?;
            first.get_or_insert((sku, cat, price));
            rows += 1;
        }
        if rng.chance(20) {
            if let Some((sku, cat, price)) = first {
                writeln!(
                    x,
                    "TR{order:09},KH{who:08},2025-12-31 10:00,{sku},{cat},1,{price},HD{order:09}"
                )?;
                rows += 1;
            }
        }
    }
    x.flush()?;
    std::fs::write(dir.join("mapping.json"), MAPPING)?;
    Ok(())
}

const MAPPING: &str = r#"{
  "cutover": "2026-01-01T00:00:00+07:00",
  "time_zone": "Asia/Ho_Chi_Minh",
  "currency": "VND",
  "default_country": "VN",
  "tiers": ["member", "silver", "gold"],
  "statuses": { "Hoạt động": "active", "Chưa kích hoạt": "inactive", "Đã khóa": "excluded" },
  "files": [
    { "file": "customers.csv", "kind": "customers", "date_format": "%d/%m/%Y",
      "columns": { "customer_id": "Mã KH", "phone": "Số điện thoại", "card": "Số thẻ",
                   "name": "Họ tên", "status": "Trạng thái", "joined_at": "Ngày tham gia" } },
    { "file": "balances.csv", "kind": "balances", "date_format": "%d/%m/%Y",
      "columns": { "customer_id": "customer_id", "points": "points", "expiry": "expiry" } },
    { "file": "tiers.csv", "kind": "tiers",
      "columns": { "customer_id": "customer_id", "tier": "tier", "locked_until": "locked_until" } },
    { "file": "transactions.csv", "kind": "transactions",
      "columns": { "order_id": "order_id", "customer_id": "customer_id", "time": "time",
                   "sku": "sku", "category": "category", "quantity": "quantity",
                   "amount": "amount", "refund_of": "refund_of" } }
  ]
}
"#;
