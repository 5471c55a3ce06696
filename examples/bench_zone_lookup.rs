//! Time of `Zone::by_name` (the name scan, the record walk and the record's validation: what
//! every policy's `time_zone` costs when the policy is read), natively:
//! `cargo run --release --example bench_zone_lookup`. Results in docs/widget.md.

use loyalty_engine::time::{zone_names, Zone};
use std::time::Instant;
fn main() {
    let names: Vec<&str> = zone_names().collect();
    let n = 200;
    let t = Instant::now();
    let mut acc = 0usize;
    for _ in 0..n {
        for name in &names {
            acc += Zone::by_name(name).map_or(0, |z| z.name().len());
        }
    }
    let per = t.elapsed().as_nanos() as f64 / (n * names.len()) as f64;
    let t = Instant::now();
    for _ in 0..20000 {
        acc += Zone::by_name("Asia/Ho_Chi_Minh").map_or(0, |z| z.name().len());
    }
    let hcm = t.elapsed().as_nanos() as f64 / 20000.0;
    println!("by_name mean over all names {per:.0} ns, Asia/Ho_Chi_Minh {hcm:.0} ns ({acc})");
}
