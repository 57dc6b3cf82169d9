//! Fuzz regressions (issue 8): every input under `tests/fixtures/fuzz/<target>/` once made
//! a fuzz target crash, hang or break an invariant. Each is replayed here through the very
//! same target body and checks the fuzzer ran (`fuzz/src/lib.rs`, included below), so the
//! fix stays under a plain `cargo test`, without nightly or cargo-fuzz.
//!
//! A hang shows as this test running far past its usual second: the inputs are small, and
//! the core's time is linear in the input, so no timing is asserted here.
//!
//! Must not: read `../shared`, or skip a target directory it does not know.

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::path::{Path, PathBuf};

use fuzz_checks::{run, Target};

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz")
}

/// The committed inputs of one target, sorted by name.
fn inputs(target: Target) -> Vec<PathBuf> {
    let dir = regressions_dir().join(target.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_regression_directory_names_a_target() {
    let known: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    let entries = std::fs::read_dir(regressions_dir()).expect("tests/fixtures/fuzz exists");
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            !path.is_dir() || known.contains(&name),
            "{} is not a fuzz target's directory (known: {known:?})",
            path.display()
        );
    }
}

#[test]
fn committed_fuzz_findings_stay_fixed() {
    let mut replayed = 0;
    for target in Target::ALL {
        for path in inputs(target) {
            let data = std::fs::read(&path).expect("readable regression input");
            // A panic here names the target and file: the regression is back.
            let outcome = std::panic::catch_unwind(|| run(target, &data));
            assert!(
                outcome.is_ok(),
                "{} regressed on {}",
                target.name(),
                path.display()
            );
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs under tests/fixtures/fuzz"
    );
}
