//! Opening the database a command works on: a SQLite file, a PostgreSQL URL,
//! or the built-in demo data held in an in-memory SQLite database.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use super::failure::{io_failure, Failure};

/// Contacts in the built-in demo data set used when `run` gets no `--db`:
/// small enough to generate in a blink, large enough to be interesting.
pub const BUILTIN_DEMO_CONTACTS: usize = 2_000;
/// Seed of the built-in demo data, so its answers are stable.
pub const BUILTIN_DEMO_SEED: u64 = 42;

pub enum Database {
    Sqlite(Connection),
    Postgres(Box<postgres::Client>),
}

impl Database {
    /// Open `spec`: a `postgresql://` / `postgres://` URL or a SQLite file,
    /// which must exist (a typo must not silently create an empty database).
    pub fn open(spec: &str, writable: bool) -> Result<Self, Failure> {
        if spec.starts_with("postgresql://") || spec.starts_with("postgres://") {
            let client = postgres::Client::connect(spec, postgres::NoTls)
                .map_err(|e| io_failure(&format!("cannot connect to PostgreSQL at {spec}"), e))?;
            return Ok(Database::Postgres(Box::new(client)));
        }
        let path = Path::new(spec);
        if !path.is_file() {
            return Err(Failure::usage(format!(
                "error: database file {spec} does not exist (create one with `segql demo --out {spec}`)"
            )));
        }
        let flags = if writable {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| io_failure(&format!("cannot open SQLite database {spec}"), e))?;
        Ok(Database::Sqlite(conn))
    }

    /// The built-in demo data set, generated in memory with `now` as its
    /// reference time so relative segments (`now - 30d`) find records.
    pub fn builtin_demo(now: DateTime<Utc>) -> Result<Self, Failure> {
        let mut conn = Connection::open_in_memory()
            .map_err(|e| io_failure("cannot open an in-memory database", e))?;
        let options = segql::demo::DemoOptions {
            contacts: BUILTIN_DEMO_CONTACTS,
            seed: BUILTIN_DEMO_SEED,
            now,
            progress: false,
        };
        segql::demo::generate_into(&mut conn, &options)
            .map_err(|e| io_failure("cannot build the demo data", e))?;
        Ok(Database::Sqlite(conn))
    }
}
