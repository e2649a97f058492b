//! Operations that write: link-orphans and update, on SQLite and PostgreSQL.

mod kill;
mod link_orphans;
mod link_orphans_pg;
mod update;
