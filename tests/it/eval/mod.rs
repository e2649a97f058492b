//! The in-memory engine: semantics, loading from SQLite, agreement with SQL.

mod aggregates;
mod semantics;
mod snapshot;
mod sqlite;
mod vs_sql;
