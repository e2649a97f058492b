//! Operations that write: link-orphans, update, score and view, on SQLite
//! and PostgreSQL.

mod concurrent;
mod kill;
mod link_orphans;
mod link_orphans_pg;
mod paused;
mod score;
mod score_fixture;
mod update;
mod view;
