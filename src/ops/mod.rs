//! Data-changing operations: `link-orphans` (SPEC §5), `update` (SPEC §4),
//! `score` (SPEC 6), `import-leads` (SPEC §7), `view` (SPEC §7, in `view.rs`)
//! and `refresh` (SPEC 8); and `advise`, which only reads: the indexes a
//! database needs for segments (`advise.rs`).
//!
//! Each operation runs as a few set-based statements in ONE transaction of a
//! [`Backend`], the same statements on every database (the differences are
//! the dialect's). A run either commits all of its changes or none: an
//! error, a lock held by another writer, a dry run or a killed process leave
//! the database as it was.
//!
//! Locking is the driver's: SQLite runs start with `BEGIN IMMEDIATE` (the
//! write lock up front, so no other writer can slip in between our reads and
//! writes) and wait at most [`LOCK_WAIT`] for it, setting that busy timeout
//! on the connection; PostgreSQL runs set `lock_timeout` to the same bound
//! and lock the tables they change.

// The crate's one error type is large by design (spans, suggestions); these
// functions return it once per run, never in a loop that would feel its size.
#![allow(clippy::result_large_err)]

mod advise;
mod assign;
mod checks;
mod import_leads;
mod link_orphans;
mod refresh;
mod score;
mod update;
mod view;

use chrono::{DateTime, Utc};

use crate::db::{in_transaction, Backend};
use crate::error::Result;
use crate::plan::Plan;
use crate::schema::Schema;
use crate::sql;

pub use crate::db::LOCK_WAIT;
pub use advise::{advise, Advice, AdviseQuery, IndexAdvice, Reason, ServedNeed, SELECTIVE_SHARE};
pub use assign::{parse_assignments, Assignment};
pub use import_leads::{import_leads, ImportOptions, ImportReport, MatchMode};
pub use link_orphans::{LeadLink, LinkReport};
pub use refresh::{
    segment_plans, RefreshReport, RefreshTotals, SegmentPlan, SegmentReport, SEGMENT_CHANGE_TABLE,
    SEGMENT_MEMBER_TABLE,
};
pub use score::{GradeCount, ModelReport, ScoreReport, LEAD_SCORE_TABLE};
pub use update::UpdateReport;
pub use view::{
    check_view_name, create_view, drop_view, ViewAction, ViewOptions, ViewReport, MAX_VIEW_NAME,
};

/// Options of a link-orphans run.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// Compute the same report, but roll everything back.
    pub dry_run: bool,
    /// The reference time: `created_on` of new contacts (whole seconds are kept).
    pub now: DateTime<Utc>,
}

/// Link every orphaned lead of the database to a contact (SPEC §5), in one
/// transaction that keeps other writers off the lead and contact tables
/// (readers go on), waiting at most [`LOCK_WAIT`] for them.
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
pub fn link_orphans(
    db: &mut dyn Backend,
    schema: &Schema,
    options: &LinkOptions,
) -> Result<LinkReport> {
    in_transaction(db, options.dry_run, |tx| {
        link_orphans::run(tx, schema, options)
    })
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
/// segment `plan` selects, in one transaction; waiting for locks held by
/// other writers is bounded by [`LOCK_WAIT`]. The segment is selected with the
/// SQL generator; only records whose values differ are written, so `changed`
/// counts real changes.
///
/// Errors: [`crate::Error::Database`] when a table or column the segment or
/// the assignments use is missing (nothing is changed) or another writer
/// holds the lock longer than [`LOCK_WAIT`]; [`crate::Error::InvalidValue`]
/// when a relative time leaves the years 0000 to 9999 or an assignment is not
/// on the segment's entity.
pub fn update(
    db: &mut dyn Backend,
    schema: &Schema,
    plan: &Plan,
    assignments: &[Assignment],
    options: &UpdateOptions,
) -> Result<UpdateReport> {
    let ids = sql::to_sql(plan, schema, db.dialect(), &id_query(options))?;
    in_transaction(db, options.dry_run, |tx| {
        update::run(tx, schema, plan, &ids, assignments, options)
    })
}

fn id_query(options: &UpdateOptions) -> sql::SqlOptions {
    sql::SqlOptions::new(false, options.now)
}

/// Which engine computes the scores of `score`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreEngine {
    /// One SQL statement per model, run by the database.
    Database,
    /// The memory engine, over the tables and columns the models read,
    /// loaded inside the transaction (with the write lock held), so the
    /// scores written are those of the data the transaction sees.
    Memory,
}

/// Options of a scoring run.
#[derive(Clone, Debug)]
pub struct ScoreOptions {
    /// Compute the same report, but roll everything back.
    pub dry_run: bool,
    /// The reference time: what `now` and `today` mean in the rules, and
    /// `scored_on` of the rows written.
    pub now: DateTime<Utc>,
    pub engine: ScoreEngine,
}

/// Score every lead every model scores (SPEC 6) and write the results in
/// one transaction: `lead_score` rows (the table is created when missing)
/// and the leads' `score` (the highest of the models) and `sales_ready`
/// (any model). Only values that change are written; the report counts
/// what happened.
///
/// Errors: [`crate::Error::Database`] when the database lacks a table or
/// column the models read or scoring writes (nothing is changed), or when
/// another writer holds the lock longer than [`LOCK_WAIT`];
/// [`crate::Error::Schema`] when the lead entity lacks what scoring needs.
pub fn score(
    db: &mut dyn Backend,
    schema: &Schema,
    models: &[crate::scoring::Model],
    options: &ScoreOptions,
) -> Result<ScoreReport> {
    in_transaction(db, options.dry_run, |tx| {
        score::run(tx, schema, models, options)
    })
}

/// Which engine computes the members of `refresh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshEngine {
    /// Each segment's SQL, run by the database into a temporary table.
    Database,
    /// The memory engine, over stores loaded inside the transaction (with
    /// the write lock held); its ids are written through a temporary table.
    Memory,
}

/// Options of a refresh.
#[derive(Clone, Debug)]
pub struct RefreshOptions {
    /// Compute the same report, but roll everything back.
    pub dry_run: bool,
    /// The reference time: what `now` and `today` mean in the segments,
    /// and `since` and `at` of the rows written.
    pub now: DateTime<Utc>,
    pub engine: RefreshEngine,
    /// Names of audience guards ANDed into every segment.
    pub guards: Vec<String>,
}

/// Refresh the segments `names` of `library` (every segment when empty)
/// (SPEC 8): in one transaction, record in `segment_change` each record
/// that joined or left a segment since its last refresh (`at` = the
/// reference time, `seq` increasing) and bring `segment_member` up to date
/// (`since` = the reference time of the refresh it joined at). Both tables
/// are created when missing. Segments of earlier refreshes that are not
/// refreshed now are left as they are. A segment's name is kept as the
/// library spells it.
///
/// Errors: nothing is written when any of them occurs.
/// [`crate::Error::UnknownSegment`] for a name the library does not
/// define; [`crate::Error::BrokenSegment`] naming a segment that does not
/// check ([`segment_plans`] gives all the errors); [`crate::Error::Database`]
/// when a table or column a segment reads is missing, or another writer
/// holds the lock longer than [`LOCK_WAIT`].
pub fn refresh(
    db: &mut dyn Backend,
    schema: &Schema,
    library: &crate::syntax::ast::Library,
    names: &[String],
    options: &RefreshOptions,
) -> Result<RefreshReport> {
    let segments = segment_plans(schema, library, names, &options.guards).map_err(|errors| {
        errors
            .into_iter()
            .next()
            .unwrap_or_else(|| crate::Error::Internal {
                message: "a segment failed to check without an error".into(),
            })
    })?;
    refresh_segments(db, schema, &segments, options)
}

/// [`refresh`] of segments already planned by [`segment_plans`]
/// (`options.guards` is not applied again).
pub fn refresh_segments(
    db: &mut dyn Backend,
    schema: &Schema,
    segments: &[SegmentPlan],
    options: &RefreshOptions,
) -> Result<RefreshReport> {
    in_transaction(db, options.dry_run, |tx| {
        refresh::run(tx, schema, segments, options)
    })
}
