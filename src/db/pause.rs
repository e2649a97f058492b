//! A pause inside data-changing transactions, for tests only.
//!
//! The kill and concurrency tests must know that a `segql` process is inside
//! its transaction (past its first write, or about to commit) before they
//! kill it or start a competing writer. Two environment variables ask for
//! that, and both must be set:
//!
//! - `SEGQL_TEST_PAUSE`: `after_first_write` (after the first statement that
//!   changed rows of a stored, not temporary, table) or `before_commit`
//!   (after all the work, just before a commit; a dry run's rollback does
//!   not pause);
//! - `SEGQL_TEST_PAUSE_FILE`: a path. At the pause the process creates that
//!   file (holding its process id) and waits, transaction open and locks
//!   held, until the file is removed; then it goes on.
//!
//! They are read once per process; an unknown point means no pause. Without
//! them [`in_transaction`](super::in_transaction) hands the driver's
//! transaction over as it is: production runs pay one check of a
//! once-initialized value per transaction.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use super::{Param, Transaction};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::schema::Schema;
use crate::sql::{Dialect, SqlQuery};

/// Where a transaction may pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Point {
    AfterFirstWrite,
    BeforeCommit,
}

/// The requested pause: where, and the signal file.
#[derive(Debug)]
pub(super) struct Pause {
    point: Point,
    signal: PathBuf,
}

/// How often a paused process looks whether its signal file is gone.
const POLL: Duration = Duration::from_millis(10);

/// The pause the environment asks for, read once.
pub(super) fn requested() -> Option<&'static Pause> {
    static PAUSE: OnceLock<Option<Pause>> = OnceLock::new();
    PAUSE
        .get_or_init(|| {
            let point = match std::env::var("SEGQL_TEST_PAUSE").ok()?.as_str() {
                "after_first_write" => Point::AfterFirstWrite,
                "before_commit" => Point::BeforeCommit,
                _ => return None,
            };
            let signal = PathBuf::from(std::env::var_os("SEGQL_TEST_PAUSE_FILE")?);
            Some(Pause { point, signal })
        })
        .as_ref()
}

/// Creates the signal file and waits until it is removed.
fn hold(signal: &Path) -> Result<()> {
    std::fs::write(signal, std::process::id().to_string()).map_err(|e| Error::Internal {
        message: format!(
            "SEGQL_TEST_PAUSE: cannot create the signal file {}: {e}",
            signal.display()
        ),
    })?;
    while signal.exists() {
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// Whether `sql` changes rows of a stored table: an `INSERT`, `UPDATE` or
/// `DELETE` whose target is not in a temporary schema.
fn writes_stored_table(sql: &str) -> bool {
    let mut words = sql.split_whitespace();
    let target = match words.next().map(str::to_ascii_uppercase).as_deref() {
        Some("INSERT") | Some("DELETE") => words.nth(1),
        Some("UPDATE") => words.next(),
        _ => None,
    };
    target.is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        !t.starts_with("temp.") && !t.starts_with("pg_temp.")
    })
}

/// A driver's transaction with the requested pause points.
pub(super) struct Pausing<'a> {
    pub(super) inner: &'a mut dyn Transaction,
    pub(super) pause: &'static Pause,
    pub(super) dry_run: bool,
    pub(super) wrote: bool,
}

impl Pausing<'_> {
    /// Holds at the first statement that changed a stored table, when the
    /// pause point asks for it.
    fn after_write(&mut self, sql: &str, changed: u64) -> Result<()> {
        if !self.wrote && changed > 0 && writes_stored_table(sql) {
            self.wrote = true;
            if self.pause.point == Point::AfterFirstWrite {
                hold(&self.pause.signal)?;
            }
        }
        Ok(())
    }
}

impl Transaction for Pausing<'_> {
    fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect()
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let changed = self.inner.execute(sql, params)?;
        self.after_write(sql, changed)?;
        Ok(changed)
    }

    fn query_count(&mut self, query: &SqlQuery) -> Result<u64> {
        self.inner.query_count(query)
    }

    fn execute_query(&mut self, sql: &str, query: &SqlQuery) -> Result<u64> {
        let changed = self.inner.execute_query(sql, query)?;
        self.after_write(sql, changed)?;
        Ok(changed)
    }

    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>> {
        self.inner.query_text(sql, params)
    }

    fn fill_numbered_ids(&mut self, table: &str, ids: &[uuid::Uuid]) -> Result<()> {
        self.inner.fill_numbered_ids(table, ids)
    }

    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64> {
        self.inner.fill_ids_from_query(table, query)
    }

    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>> {
        self.inner.columns(table)
    }

    fn lock_for_writing(&mut self, tables: &[&str]) -> Result<()> {
        self.inner.lock_for_writing(tables)
    }

    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()> {
        self.inner.verify_layout(schema, plan)
    }

    fn relation(&mut self, name: &str) -> Result<Option<super::Relation>> {
        self.inner.relation(name)
    }

    fn dependent_views(&mut self, name: &str) -> Result<Vec<String>> {
        self.inner.dependent_views(name)
    }

    fn load_store(&mut self, schema: &Schema, plan: Option<&Plan>) -> Result<crate::eval::Store> {
        self.inner.load_store(schema, plan)
    }

    fn before_end(&mut self) -> Result<()> {
        self.inner.before_end()?;
        if self.pause.point == Point::BeforeCommit && !self.dry_run {
            hold(&self.pause.signal)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::writes_stored_table;

    #[test]
    fn only_writes_to_stored_tables_count() {
        assert!(writes_stored_table("INSERT INTO \"contact\" (id) SELECT 1"));
        assert!(writes_stored_table("UPDATE \"lead\" SET x = 1"));
        assert!(writes_stored_table("delete from contact"));
        assert!(!writes_stored_table(
            "INSERT INTO temp.segql_new (n) VALUES (1)"
        ));
        assert!(!writes_stored_table(
            "INSERT INTO pg_temp.segql_new (n) VALUES (1)"
        ));
        assert!(!writes_stored_table(
            "CREATE TEMP TABLE segql_x AS SELECT 1"
        ));
        assert!(!writes_stored_table("DROP TABLE IF EXISTS temp.segql_x"));
    }
}
