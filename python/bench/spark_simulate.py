"""Times loyalty_engine.spark.simulate in a local Spark against `loyalty simulate` on the same
NDJSON file, and checks that the two reports are byte-identical. Not a test: a measurement
(scripts/bench-spark.sh runs it; the numbers are in docs/scaling.md).

    python spark_simulate.py --members FILE --loyalty target/release/loyalty \
        --master 'local[2]' --partitions 8 --draft D.json --baseline B.json --as-of T
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", required=True)
    ap.add_argument("--loyalty", required=True)
    ap.add_argument("--draft", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--expected-redemption", default="0.7")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    cmd = [a.loyalty, "simulate", "--policy", a.draft, "--members", a.members, "--as-of", a.as_of,
           "--expected-redemption", a.expected_redemption, "--threads", str(a.threads)]
    if a.baseline:
        cmd[4:4] = ["--baseline", a.baseline]
    t = time.perf_counter()
    cli = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    cli_s = time.perf_counter() - t
    print(f"loyalty simulate --threads {a.threads}: {cli_s:.2f} s", flush=True)

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import loyalty_engine as le
    from loyalty_engine import spark as les

    t = time.perf_counter()
    spark = (SparkSession.builder.master(a.master).appName("loyalty-bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    start_s = time.perf_counter() - t
    print(f"Spark session ({a.master}) start: {start_s:.2f} s", flush=True)

    draft = open(a.draft, encoding="utf-8").read()
    baseline = open(a.baseline, encoding="utf-8").read() if a.baseline else None
    runs = {"read_members": [], "read.text": []}
    for run in range(3):
        for how in runs:
            t = time.perf_counter()
            if how == "read_members":
                # (index, member): rejected members numbered by line, as the CLI does.
                df = les.read_members(spark, a.members, a.partitions)
            else:
                # One column of lines, no index (fine when no member is rejected).
                df = spark.read.text(a.members).withColumnRenamed("value", "member")
                df = df.repartition(a.partitions)
            report = les.simulate(df, draft, baseline, a.as_of, a.expected_redemption)
            s = time.perf_counter() - t
            same = le.to_json(report) == cli
            runs[how].append(s)
            print(f"run {run + 1}, {how}, {df.rdd.getNumPartitions()} partitions: {s:.2f} s, "
                  f"byte-identical to the CLI: {same}", flush=True)
            if not same:
                return 1
    spark.stop()
    rep = json.loads(cli)
    print(json.dumps({"members": rep["members"], "rejected": len(rep["rejected"]),
                      "cli_s": round(cli_s, 2), "spark_start_s": round(start_s, 2),
                      "spark_runs_s": {k: [round(x, 2) for x in v] for k, v in runs.items()},
                      "driver_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
