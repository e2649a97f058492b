//! Opening the database a command works on: a `--db` spec (a SQLite file or
//! a PostgreSQL URL, see `segql::db::open`), or the built-in demo data held
//! in an in-memory SQLite database.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use segql::db::{self, Access, Backend, SqliteBackend};

use super::failure::{io_failure, Failure};

/// Contacts in the built-in demo data set used when `run` gets no `--db`:
/// small enough to generate in a blink, large enough to be interesting.
pub const BUILTIN_DEMO_CONTACTS: usize = 2_000;
/// Seed of the built-in demo data, so its answers are stable.
pub const BUILTIN_DEMO_SEED: u64 = 42;

/// Open `spec`; a database that cannot be opened is a usage error.
pub fn open(spec: &str, access: Access) -> Result<Box<dyn Backend>, Failure> {
    db::open(spec, access).map_err(|e| Failure::usage(format!("error: {e}")))
}

/// `--db`, or without it the built-in demo data set — said in one line on
/// stderr unless `quiet`, because demo figures look just like real ones and
/// a forgotten `--db` must not pass unnoticed.
pub fn open_or_demo(
    spec: Option<&str>,
    now: DateTime<Utc>,
    quiet: bool,
) -> Result<Box<dyn Backend>, Failure> {
    match spec {
        Some(spec) => open(spec, Access::ReadOnly),
        None => {
            if !quiet {
                eprintln!("{}", demo_notice(now));
            }
            builtin_demo(now)
        }
    }
}

/// The note printed when no `--db` is given.
pub fn demo_notice(now: DateTime<Utc>) -> String {
    format!(
        "note: no --db given: using the built-in demo data ({BUILTIN_DEMO_CONTACTS} contacts, \
         dated before {}); pass --db FILE or --db postgresql://... for your data, --quiet to hide this note",
        now.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// The built-in demo data set, generated in memory with `now` as its
/// reference time so relative segments (`now - 30d`) find records.
fn builtin_demo(now: DateTime<Utc>) -> Result<Box<dyn Backend>, Failure> {
    let mut conn = Connection::open_in_memory()
        .map_err(|e| io_failure("cannot open an in-memory database", e))?;
    let options = segql::demo::DemoOptions::new(BUILTIN_DEMO_CONTACTS, BUILTIN_DEMO_SEED, now);
    segql::demo::generate_into(&mut conn, &options)
        .map_err(|e| io_failure("cannot build the demo data", e))?;
    Ok(Box::new(SqliteBackend::new(conn)))
}

/// The cache of memory-store snapshots a one-shot command loads through,
/// unless `--no-cache` (or no cache directory can be found).
pub fn store_cache(no_cache: bool) -> Option<segql::eval::StoreCache> {
    if no_cache {
        None
    } else {
        segql::eval::StoreCache::from_env()
    }
}

/// Says on stderr (unless `quiet`) that the loaded store could not be
/// saved for the next run; the command itself goes on.
pub fn report_store_source(source: Option<&segql::eval::StoreSource>, quiet: bool) {
    if let (Some(segql::eval::StoreSource::NotSaved(why)), false) = (source, quiet) {
        eprintln!("warning: {why}");
    }
}
