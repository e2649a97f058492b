//! What the command-line tests of the write commands (`score`, `view`,
//! `refresh`) share: running the binary, reading its output, a demo
//! database.

use std::process::{Command, Output};

use chrono::{TimeZone, Utc};
use segql::demo::{generate_sqlite, DemoOptions};

pub(super) fn segql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .env("SEGQL_CACHE_DIR", test_cache_dir())
        .env_remove("SEGQL_TEST_PAUSE")
        .env_remove("SEGQL_TEST_PAUSE_FILE")
        .output()
        .expect("segql runs")
}

/// Where the commands run by the tests keep their memory-store snapshots:
/// under the build's directory, not the user's cache.
pub(super) fn test_cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("segql-cache")
}

pub(super) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(super) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(super) fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// A demo database (300 contacts) in a fresh directory.
pub(super) fn demo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crm.db");
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    generate_sqlite(&path, &DemoOptions::new(300, 7, now)).expect("demo");
    let db = path.to_str().expect("a UTF-8 path").to_string();
    (dir, db)
}
