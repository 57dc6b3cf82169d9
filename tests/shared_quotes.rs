//! Dev-set floors for the quote stage on PolNeAR dev (`../shared/data/quotes`), through the
//! real `eval quotes` command and scorer. Needs the `shared-data` feature and `python3`;
//! fails loudly when the shared folder is missing.
#![cfg(feature = "shared-data")]

use std::path::PathBuf;
use std::process::Command;

use wire_enricher::eval::quotes::{run, Args};

fn shared() -> PathBuf {
    let dir = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        dir.join("data/quotes").is_dir(),
        "shared data not found at {}: set WIRE_ENRICHER_SHARED",
        dir.display()
    );
    dir
}

/// Runs the eval on `split` and returns the scorer's JSON figures.
fn figures(split: &str) -> serde_json::Value {
    let shared = shared();
    let gold = shared.join("data/quotes").join(split);
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let args = Args {
        input: gold.clone(),
        out: out.path().to_path_buf(),
        all_segments: false,
        no_score: true,
    };
    run(&args).expect("eval quotes runs");
    let o = Command::new("python3")
        .arg(shared.join("data/score.py"))
        .arg("--gold")
        .arg(&gold)
        .arg("--pred")
        .arg(out.path())
        .args(["--task", "quotes", "--json"])
        .output()
        .expect("python3 runs the scorer");
    assert!(
        o.status.success(),
        "scorer failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("scorer JSON");
    eprintln!("{split}: {}", v["quotes"]);
    v
}

fn f1(v: &serde_json::Value, metric: &str) -> f64 {
    v["quotes"][metric]["f1"].as_f64().expect("f1 figure")
}

/// Floors a little below the figures last measured (span F1 0.9715, quote+speaker F1
/// 0.9162 on PolNeAR dev; 0.949 and 0.840 when this test was written): a regression guard,
/// not a target.
#[test]
fn polnear_dev_floors() {
    let v = figures("polnear-dev.jsonl");
    let span = f1(&v, "lenient");
    let e2e = f1(&v, "quote_speaker");
    assert!(span >= 0.965, "quote span F1 {span:.4} fell below 0.965");
    assert!(e2e >= 0.905, "quote+speaker F1 {e2e:.4} fell below 0.905");
}
