//! Operations that write: link-orphans and update, on SQLite and PostgreSQL.

mod concurrent;
mod kill;
mod link_orphans;
mod link_orphans_pg;
mod paused;
mod score_fixture;
mod update;
