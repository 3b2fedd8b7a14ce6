//! Every kept crasher (`tests/fuzz/crashers/<target>/`) and corpus file
//! (`tests/fuzz/corpus/<target>/`) replayed on stable through the functions the fuzz targets
//! call: each must return (accepted, or refused with a code), never panic.
//! `UPDATE_FUZZ_CORPUS=1` rewrites the seed corpora from the demo data first.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use onsite_testkit::fuzz::{TARGETS, seed_corpus};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_crasher_and_corpus_file_returns_a_result_or_a_typed_refusal() {
    if std::env::var_os("UPDATE_FUZZ_CORPUS").is_some() {
        for (target, name, bytes) in seed_corpus() {
            let dir = fuzz_dir().join("corpus").join(target);
            std::fs::create_dir_all(&dir).expect("the corpus directory is writable");
            std::fs::write(dir.join(name), bytes).expect("the corpus file is writable");
        }
    }
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, run) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(
            !corpus.is_empty(),
            "target {target} has a committed seed corpus (UPDATE_FUZZ_CORPUS=1 writes it)"
        );
        for path in corpus
            .into_iter()
            .chain(files(&fuzz_dir().join("crashers").join(target)))
        {
            let bytes = std::fs::read(&path).expect("a kept input is readable");
            replayed += 1;
            if catch_unwind(AssertUnwindSafe(|| run(&bytes))).is_err() {
                failures.push(format!("{target}: {}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "these kept inputs panicked instead of returning a typed refusal:\n{}",
        failures.join("\n")
    );
    assert!(replayed > 0, "something was replayed");
}
