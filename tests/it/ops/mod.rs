//! Operations that write: link-orphans, update, score, import-leads and view,
//! on SQLite and PostgreSQL.

mod advise;
mod concurrent;
mod import_leads;
mod kill;
mod link_orphans;
mod link_orphans_pg;
mod paused;
mod refresh;
mod score;
mod score_fixture;
mod update;
mod view;
