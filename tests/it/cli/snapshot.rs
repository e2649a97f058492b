//! `segql run --engine memory` through the snapshot cache: the second run
//! reads the snapshot the first saved, `--no-cache` neither reads nor
//! writes one, and a cache that cannot be written only warns.

use std::path::Path;
use std::process::{Command, Output};

use super::run::{code, demo, stderr, stdout};

const QUERY: &str = r#"contact where has lead(status = "Open") and not do_not_email"#;
const NOW: &str = "2025-06-01T12:00:00Z";

fn run(cache: &Path, db: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run", "--db", db, "--now", NOW, "--engine", "memory", "--format", "ids", "--timing",
    ];
    args.extend_from_slice(extra);
    args.push(QUERY);
    let o = Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(&args)
        .env("SEGQL_CACHE_DIR", cache)
        .output()
        .expect("segql runs");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    o
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn the_second_run_reads_the_snapshot_and_no_cache_bypasses_it() {
    let (dir, db) = demo();
    let cache = dir.path().join("cache");
    let bypassed = run(&cache, &db, &["--no-cache"]);
    assert!(!cache.exists(), "--no-cache wrote {:?}", files(&cache));
    assert!(
        !stderr(&bypassed).contains("snapshot"),
        "{}",
        stderr(&bypassed)
    );

    let first = run(&cache, &db, &[]);
    assert!(!stderr(&first).contains("(snapshot)"), "{}", stderr(&first));
    let saved = files(&cache);
    assert_eq!(saved.len(), 1, "{saved:?}");
    let written = std::fs::metadata(&saved[0]).unwrap().modified().unwrap();

    let second = run(&cache, &db, &[]);
    assert!(
        stderr(&second).contains("load (snapshot)"),
        "{}",
        stderr(&second)
    );
    let again = run(&cache, &db, &["--no-cache"]);
    assert!(!stderr(&again).contains("(snapshot)"), "{}", stderr(&again));
    assert_eq!(files(&cache), saved);
    assert_eq!(
        std::fs::metadata(&saved[0]).unwrap().modified().unwrap(),
        written
    );

    assert!(!stdout(&first).is_empty());
    for o in [&first, &second, &again] {
        assert_eq!(stdout(o), stdout(&bypassed));
    }
}

#[test]
fn a_cache_that_cannot_be_written_only_warns() {
    let (dir, db) = demo();
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, "not a directory").unwrap();
    let o = run(&blocked, &db, &[]);
    assert!(
        stderr(&o).contains("warning: cannot save a snapshot"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), stdout(&run(&blocked, &db, &["--no-cache"])));
}

#[test]
fn explain_counts_on_the_memory_engine_saves_and_reads_a_snapshot() {
    let (dir, db) = demo();
    let cache = dir.path().join("cache");
    let explain = |extra: &[&str]| {
        let mut args = vec![
            "explain", "--db", &db, "--now", NOW, "--counts", "--engine", "memory",
        ];
        args.extend_from_slice(extra);
        args.push(QUERY);
        let o = Command::new(env!("CARGO_BIN_EXE_segql"))
            .args(&args)
            .env("SEGQL_CACHE_DIR", &cache)
            .output()
            .expect("segql runs");
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o)
    };
    let fresh = explain(&["--no-cache"]);
    assert!(files(&cache).is_empty());
    assert_eq!(explain(&[]), fresh);
    let saved = files(&cache);
    assert_eq!(saved.len(), 1);
    let written = std::fs::metadata(&saved[0]).unwrap().modified().unwrap();
    assert_eq!(explain(&[]), fresh);
    assert_eq!(
        std::fs::metadata(&saved[0]).unwrap().modified().unwrap(),
        written
    );
}
