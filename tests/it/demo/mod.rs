//! The demo data generator, into SQLite and PostgreSQL.

mod generate;
mod pg;
