//! The demo data set and the database layout.
//!
//! `generate_sqlite` writes a deterministic CRM database in the default layout
//! (SPEC §3.1) for `segql demo`; `generate_into` fills any SQLite connection,
//! which is how the CLI builds its built-in in-memory data set.
//! `create_tables` and `create_indexes` give the layout of any schema in any
//! database, and `copy_sqlite_to_postgres` moves a database into PostgreSQL,
//! so the same data can be queried through both SQL back ends.
//! `write_leads_csv` makes a file of leads from a demo database for
//! `segql import-leads`.

// The crate's one `Error` carries spans and suggestions inline; these
// functions run once per database, so the size of their error type is no cost.
#![allow(clippy::result_large_err)]

mod copy_pg;
mod ddl;
mod generate;
mod leads_csv;
mod stamp;
mod words;

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

pub use copy_pg::copy_sqlite_to_postgres;
pub use ddl::{create_indexes, create_tables};
pub use leads_csv::{write_leads_csv, LeadsCsvReport, TRADE_SHOW_TOPIC};

use crate::db::sqlite::error as sqlite_error;
use crate::error::{Error, Result};
use crate::schema::crm_schema;

/// What demo data to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    /// How many contacts; every other table is sized in proportion.
    pub contacts: usize,
    /// The random seed: the same seed and `now` give the same data.
    pub seed: u64,
    /// The reference time: dates fall in the years before it (whole seconds
    /// are used).
    pub now: DateTime<Utc>,
    /// Show a progress bar on stderr when the run takes over a second and
    /// stderr is a terminal.
    pub progress: bool,
    /// Let [`generate_sqlite`] replace a file that is not a segql demo
    /// database (`segql demo --force`).
    pub force: bool,
}

/// The SQLite `application_id` of every database [`generate_sqlite`] writes:
/// "SGQD" in ASCII. It marks a file as one `segql demo` may replace.
pub const DEMO_APPLICATION_ID: i32 = 0x5347_5144;

/// The reference time of `segql demo` without `--now`, so two runs give the
/// same database: a fixed instant, not the clock.
pub const DEFAULT_DEMO_NOW: &str = "2026-01-15T12:00:00Z";

impl DemoOptions {
    /// Options without a progress bar.
    pub fn new(contacts: usize, seed: u64, now: DateTime<Utc>) -> DemoOptions {
        DemoOptions {
            contacts,
            seed,
            now,
            progress: false,
            force: false,
        }
    }
}

/// How many rows each table received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    pub accounts: usize,
    pub contacts: usize,
    /// All leads, the orphaned ones included.
    pub leads: usize,
    /// Leads without a contact (`contact_id` is null).
    pub orphaned_leads: usize,
    pub interactions: usize,
    pub subscriptions: usize,
}

impl DemoReport {
    /// (table, rows) for every table, in the schema's order.
    pub fn tables(&self) -> [(&'static str, usize); 5] {
        [
            ("account", self.accounts),
            ("contact", self.contacts),
            ("lead", self.leads),
            ("interaction", self.interactions),
            ("subscription", self.subscriptions),
        ]
    }
}

/// Writes a demo database to `path`. The data is written to a temporary
/// file beside it and renamed into place at the end, so `path` never holds a
/// half-written database.
///
/// A file already at `path` is replaced only when it is a demo database
/// itself (its `application_id` is [`DEMO_APPLICATION_ID`]), is empty, or
/// `options.force` is set: anything else is refused with
/// [`Error::Unavailable`], so a mistyped `--out` cannot destroy a document
/// or a real CRM database.
pub fn generate_sqlite(path: &Path, options: &DemoOptions) -> Result<DemoReport> {
    let io_error = |what: &str, e: std::io::Error| Error::Database {
        message: format!("{what} {}: {e}", path.display()),
    };
    if !options.force {
        refuse_to_replace(path)?;
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".segql-demo-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_error("cannot create a file beside", e))?;
    let mut conn = rusqlite::Connection::open(temp.path()).map_err(sqlite_error)?;
    let report = generate_into(&mut conn, options)?;
    conn.pragma_update(None, "application_id", DEMO_APPLICATION_ID)
        .map_err(sqlite_error)?;
    conn.close().map_err(|(_, e)| sqlite_error(e))?;
    // A temporary file is private to its owner; a database is not.
    let mut permissions = std::fs::metadata(temp.path())
        .map_err(|e| io_error("cannot write", e))?
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    std::fs::set_permissions(temp.path(), permissions).map_err(|e| io_error("cannot write", e))?;
    temp.persist(path)
        .map_err(|e| io_error("cannot write", e.error))?;
    Ok(report)
}

/// `Err` when `path` holds something `segql demo` must not replace: a file
/// that is not empty and not a demo database, or a directory.
fn refuse_to_replace(path: &Path) -> Result<()> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        // Missing (or unreadable, which the write will report): nothing to lose.
        Err(_) => return Ok(()),
    };
    let refuse = |what: &str| Error::Unavailable {
        message: format!(
            "{} {what}; segql demo replaces only its own demo databases. \
             Choose another --out, or add --force to replace it",
            path.display()
        ),
    };
    if metadata.is_dir() {
        return Err(refuse("is a directory"));
    }
    if metadata.len() == 0 || is_demo_database(path) {
        return Ok(());
    }
    Err(refuse("exists and is not a segql demo database"))
}

/// Whether `path` is a SQLite database stamped by [`generate_sqlite`]. The
/// id is read from the file header (bytes 68..72, big-endian), so no
/// SQLite connection touches a file that may not be a database at all.
fn is_demo_database(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 72];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    read.is_ok()
        && header.starts_with(b"SQLite format 3\0")
        && i32::from_be_bytes([header[68], header[69], header[70], header[71]])
            == DEMO_APPLICATION_ID
}

/// Creates the tables of the default CRM schema in `conn` (which must not
/// have them yet) and fills them with demo data, in one transaction.
///
/// Each table's key gets a unique index rather than a declared PRIMARY KEY
/// (see `create_bulk_tables_sqlite`): building it after the load makes the
/// load almost twice as fast, and queries cannot tell the difference.
/// Journaling is off during the load, so a failure can leave a file-backed
/// `conn` damaged; `generate_sqlite` writes to a fresh file for that reason.
pub fn generate_into(conn: &mut rusqlite::Connection, options: &DemoOptions) -> Result<DemoReport> {
    let schema = crm_schema();
    let saved = SavedPragmas::read(conn)?;
    // A bulk load into a new database needs no journal and no syncing: if it
    // fails, the file is thrown away (generate_sqlite) or was in memory. A
    // second thread helps SQLite sort while it builds the indexes.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; \
         PRAGMA threads = 2;",
    )
    .map_err(sqlite_error)?;
    let mut progress = Progress::new(options);
    let loaded = (|| {
        let tx = conn.transaction().map_err(sqlite_error)?;
        ddl::create_bulk_tables_sqlite(&tx, &schema)?;
        let report = generate::load(&tx, options, &mut |done| progress.tick(done))?;
        progress.message("building indexes");
        ddl::create_key_indexes_sqlite(&tx, &schema)?;
        tx.execute_batch(&ddl::indexes_sql(&schema, &crate::sql::Sqlite))
            .map_err(sqlite_error)?;
        tx.commit().map_err(sqlite_error)?;
        Ok(report)
    })();
    progress.finish();
    let restored = saved.restore(conn);
    let report = loaded?;
    restored?;
    // Statistics for the query planner; a sample is enough and keeps it quick.
    conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE;")
        .map_err(sqlite_error)?;
    Ok(report)
}

/// The connection settings a bulk load changes, to put back afterwards.
struct SavedPragmas {
    journal_mode: String,
    synchronous: i64,
    cache_size: i64,
    threads: i64,
}

impl SavedPragmas {
    fn read(conn: &rusqlite::Connection) -> Result<SavedPragmas> {
        let get = |name: &str| {
            conn.query_row(&format!("PRAGMA {name}"), [], |row| {
                row.get::<_, rusqlite::types::Value>(0)
            })
            .map_err(sqlite_error)
        };
        let text = |v: rusqlite::types::Value| match v {
            rusqlite::types::Value::Text(t) => t,
            _ => "delete".to_string(),
        };
        let int = |v: rusqlite::types::Value| match v {
            rusqlite::types::Value::Integer(i) => i,
            _ => 0,
        };
        Ok(SavedPragmas {
            journal_mode: text(get("journal_mode")?),
            synchronous: int(get("synchronous")?),
            cache_size: int(get("cache_size")?),
            threads: int(get("threads")?),
        })
    }

    fn restore(&self, conn: &rusqlite::Connection) -> Result<()> {
        // journal_mode answers with a row, so it is read rather than executed.
        let mode = self
            .journal_mode
            .replace(|c: char| !c.is_ascii_alphabetic(), "");
        conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |_| Ok(()))
            .map_err(sqlite_error)?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {}; PRAGMA cache_size = {}; PRAGMA threads = {};",
            self.synchronous, self.cache_size, self.threads
        ))
        .map_err(sqlite_error)
    }
}

/// A progress bar that appears only once a run has lasted a second, and only
/// on a terminal.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    visible: bool,
}

impl Progress {
    fn new(options: &DemoOptions) -> Progress {
        let bar = (options.progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(options.contacts as u64),
                ProgressDrawTarget::hidden(),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>16} [{bar:30}] {pos}/{len} contacts, {elapsed} (eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("writing");
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            visible: false,
        }
    }

    fn tick(&mut self, done: usize) {
        let Some(bar) = &self.bar else { return };
        if !self.visible && self.started.elapsed() > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.visible = true;
        }
        bar.set_position(done as u64);
    }

    fn message(&mut self, text: &'static str) {
        self.tick(self.bar.as_ref().map_or(0, |b| b.position() as usize));
        if let Some(bar) = &self.bar {
            bar.set_message(text);
            // The phase has no rows to count; keep the clock moving.
            bar.enable_steady_tick(Duration::from_millis(250));
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
