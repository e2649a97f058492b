//! Data-changing operations: `link-orphans` (SPEC §5) and `update` (SPEC §4).
//!
//! Each operation runs as a few set-based statements in ONE transaction, the
//! same statements on SQLite and PostgreSQL (see `conn`). A run either
//! commits all of its changes or none: an error, a lock held by another
//! writer, a dry run or a killed process leave the database as it was.
//!
//! Locking: SQLite runs start with `BEGIN IMMEDIATE` (the write lock up
//! front, so no other writer can slip in between our reads and writes) and
//! wait at most [`LOCK_WAIT`] for it; PostgreSQL runs set `lock_timeout` to
//! the same bound. Note that the SQLite functions set that busy timeout on the
//! connection they are given.

// The crate's one error type is large by design (spans, suggestions); these
// functions return it once per run, never in a loop that would feel its size.
#![allow(clippy::result_large_err)]

mod assign;
mod conn;
mod link_orphans;
mod update;

use chrono::{DateTime, Utc};
use rusqlite::TransactionBehavior;

use crate::error::Result;
use crate::plan::Plan;
use crate::schema::Schema;
use crate::sql;
use conn::{pg_error, sqlite_error, PgConn, SqliteConn};

pub use assign::{parse_assignments, Assignment};
pub use conn::LOCK_WAIT;
pub use link_orphans::{LeadLink, LinkReport};
pub use update::UpdateReport;

/// Options of a link-orphans run.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// Compute the same report, but roll everything back.
    pub dry_run: bool,
    /// The reference time: `created_on` of new contacts (whole seconds are kept).
    pub now: DateTime<Utc>,
}

/// Link every orphaned lead of a SQLite database to a contact (SPEC §5), in
/// one `BEGIN IMMEDIATE` transaction.
///
/// Emails match when equal after trimming ASCII whitespace and lower-casing
/// ASCII letters (other characters must be equal). Among matching contacts
/// the one that is not marketing-only wins, then the earliest `created_on`
/// (contacts without one come last), then the smallest id. Emails no contact
/// has get one new marketing-only contact each, made from the earliest of
/// their leads (by `created_on`, leads without one last, then by id): its
/// first and last name, its email trimmed, its account, a new v4 uuid and
/// `created_on = options.now`. Leads with a missing or blank email are
/// skipped and counted. A second run changes nothing.
///
/// Errors: [`crate::Error::Database`] when the database lacks a table or
/// column the schema's lead and contact entities name (nothing is changed), or
/// when another connection holds the write lock longer than [`LOCK_WAIT`];
/// [`crate::Error::Schema`] when the schema lacks the lead or contact fields.
pub fn link_orphans_sqlite(
    conn: &mut rusqlite::Connection,
    schema: &Schema,
    options: &LinkOptions,
) -> Result<LinkReport> {
    in_sqlite_transaction(conn, options.dry_run, |tx| {
        link_orphans::run(&mut SqliteConn(tx), schema, options)
    })
}

/// [`link_orphans_sqlite`] for PostgreSQL: the same rules and report, in one
/// transaction that first locks the lead and contact tables against other
/// writers (readers go on), waiting at most [`LOCK_WAIT`].
pub fn link_orphans_postgres(
    client: &mut postgres::Client,
    schema: &Schema,
    options: &LinkOptions,
) -> Result<LinkReport> {
    in_postgres_transaction(client, options.dry_run, |tx| {
        link_orphans::run(&mut PgConn(tx), schema, options)
    })
}

/// Runs `work` in one `BEGIN IMMEDIATE` transaction (the write lock up front,
/// waiting at most [`LOCK_WAIT`] for it) and commits, or rolls back on a dry
/// run. On an error the transaction is dropped, which rolls back.
fn in_sqlite_transaction<T>(
    conn: &mut rusqlite::Connection,
    dry_run: bool,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    conn.busy_timeout(LOCK_WAIT).map_err(sqlite_error)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    let done = work(&tx)?;
    if dry_run {
        tx.rollback().map_err(sqlite_error)?;
    } else {
        tx.commit().map_err(sqlite_error)?;
    }
    Ok(done)
}

/// [`in_sqlite_transaction`] for PostgreSQL: waiting for locks held by other
/// writers is bounded by `lock_timeout` = [`LOCK_WAIT`].
fn in_postgres_transaction<T>(
    client: &mut postgres::Client,
    dry_run: bool,
    work: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let mut tx = client.transaction().map_err(pg_error)?;
    set_lock_timeout(&mut tx)?;
    let done = work(&mut tx)?;
    if dry_run {
        tx.rollback().map_err(pg_error)?;
    } else {
        tx.commit().map_err(pg_error)?;
    }
    Ok(done)
}

fn set_lock_timeout(tx: &mut postgres::Transaction<'_>) -> Result<()> {
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{}ms'",
        LOCK_WAIT.as_millis()
    ))
    .map_err(pg_error)
}

/// Options of an update.
#[derive(Clone, Debug)]
pub struct UpdateOptions {
    /// Compute the same report, but roll everything back.
    pub dry_run: bool,
    /// The reference time: what `now` and `today` mean, in the segment and
    /// in the values set.
    pub now: DateTime<Utc>,
}

/// Set `assignments` (from [`parse_assignments`]) on every record of the
/// segment `plan` selects in a SQLite database, in one `BEGIN IMMEDIATE`
/// transaction. The segment is selected with the SQL generator; only records
/// whose values differ are written, so `changed` counts real changes.
///
/// Errors: [`crate::Error::Database`] when a table or column the segment or
/// the assignments use is missing (nothing is changed) or another writer
/// holds the lock longer than [`LOCK_WAIT`]; [`crate::Error::InvalidValue`]
/// when a relative time leaves the years 0000 to 9999 or an assignment is not
/// on the segment's entity.
pub fn update_sqlite(
    conn: &mut rusqlite::Connection,
    schema: &Schema,
    plan: &Plan,
    assignments: &[Assignment],
    options: &UpdateOptions,
) -> Result<UpdateReport> {
    let ids = sql::to_sql(plan, schema, &sql::Sqlite, &id_query(options))?;
    in_sqlite_transaction(conn, options.dry_run, |tx| {
        sql::verify_layout_sqlite(tx, schema, plan)?;
        let mut conn = SqliteConn(tx);
        update::run(&mut conn, schema, plan, &ids, assignments, options)
    })
}

/// [`update_sqlite`] for PostgreSQL: one transaction; waiting for row locks
/// held by other writers is bounded by [`LOCK_WAIT`].
pub fn update_postgres(
    client: &mut postgres::Client,
    schema: &Schema,
    plan: &Plan,
    assignments: &[Assignment],
    options: &UpdateOptions,
) -> Result<UpdateReport> {
    let ids = sql::to_sql(plan, schema, &sql::Postgres, &id_query(options))?;
    sql::verify_layout_postgres(client, schema, plan)?;
    in_postgres_transaction(client, options.dry_run, |tx| {
        update::run(&mut PgConn(tx), schema, plan, &ids, assignments, options)
    })
}

fn id_query(options: &UpdateOptions) -> sql::SqlOptions {
    sql::SqlOptions {
        count: false,
        now: options.now,
    }
}
