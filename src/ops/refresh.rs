//! `refresh` (SPEC 8): keep the members of library segments in
//! `segment_member` and append who joined and who left to `segment_change`.
//!
//! Per segment, its members are collected in the temporary table
//! `segql_members(id)`: by the database running the segment's SQL (`INSERT
//! ... SELECT`), or from the memory engine's ids, sent in one batch. From
//! there four set-based statements, the same on every database: the joined
//! changes (members not yet in `segment_member`), the left changes (rows of
//! `segment_member` no longer members), the deletion of those rows and the
//! insertion of the new ones. Nothing is written for a segment whose members
//! did not change, so a second refresh of the same data at the same
//! reference time writes nothing.

use std::collections::BTreeSet;

use serde::Serialize;

use super::checks::verify_columns;
use super::{RefreshEngine, RefreshOptions};
use crate::check;
use crate::db::{Param, Transaction};
use crate::error::{suggest, Error, Result};
use crate::eval::Store;
use crate::plan::{Plan, PlanExpr};
use crate::schema::{FieldType, Schema};
use crate::span::Span;
use crate::sql::{sqlite, to_sql, SqlOptions};
use crate::syntax::ast::{Expr, ExprKind, Ident, Library, Query};

/// The members of each refreshed segment (SPEC 8).
pub const SEGMENT_MEMBER_TABLE: &str = "segment_member";
/// Every change of membership, in `seq` order (SPEC 8).
pub const SEGMENT_CHANGE_TABLE: &str = "segment_change";
const MEMBERS: &str = "segql_members";
const NUMBERED: &str = "segql_member_ids";
const OPERATION: &str = "refresh";
const SAVEPOINT: &str = "segql_refresh_lock";

/// One library segment to refresh: its name as the library spells it and
/// its checked, optimized plan (guards included).
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentPlan {
    pub name: String,
    pub plan: Plan,
}

/// What a refresh did (or, with `dry_run`, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// The report's format version, for tools.
    pub format: u32,
    pub dry_run: bool,
    /// One entry per refreshed segment, in the order refreshed.
    pub segments: Vec<SegmentReport>,
    /// The sums over the segments.
    pub total: RefreshTotals,
}

/// One segment's refresh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SegmentReport {
    pub segment: String,
    /// Its root entity (whose ids `record_id` holds).
    pub entity: String,
    /// Records in the segment now.
    pub members: u64,
    /// Members now that were not before.
    pub joined: u64,
    /// Members before that are not now.
    pub left: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefreshTotals {
    pub segments: u64,
    pub members: u64,
    pub joined: u64,
    pub left: u64,
}

impl RefreshReport {
    /// Whether the refresh changed (or would change) nothing.
    pub fn unchanged(&self) -> bool {
        self.total.joined == 0 && self.total.left == 0
    }
}

/// The plans of the segments `names` names (any ASCII case), or of every
/// segment of `library` when `names` is empty (each name once, in the
/// library's order), each checked as `ENTITY where in NAME` would be, with
/// `guards` ANDed in, and optimized.
///
/// Errors, all of them: a name the library does not define
/// ([`Error::UnknownSegment`]); a segment that does not check, first as an
/// [`Error::BrokenSegment`] naming it, then the errors of its definition.
pub fn segment_plans(
    schema: &Schema,
    library: &Library,
    names: &[String],
    guards: &[String],
) -> std::result::Result<Vec<SegmentPlan>, Vec<Error>> {
    let defined = |name: &str| {
        library
            .segments
            .iter()
            .find(|d| d.name.name.eq_ignore_ascii_case(name))
    };
    let mut wanted = Vec::new();
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    if names.is_empty() {
        for def in &library.segments {
            if seen.insert(def.name.name.to_ascii_lowercase()) {
                wanted.push(def);
            }
        }
    } else {
        for name in names {
            match defined(name) {
                Some(def) => {
                    if seen.insert(def.name.name.to_ascii_lowercase()) {
                        wanted.push(def);
                    }
                }
                None => errors.push(Error::UnknownSegment {
                    name: name.clone(),
                    suggestion: suggest(
                        name,
                        library.segments.iter().map(|d| d.name.name.as_str()),
                    ),
                    span: Span::default(),
                }),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let options = crate::Options {
        schema,
        library: Some(library),
        guards,
        optimize: true,
    };
    let mut plans = Vec::with_capacity(wanted.len());
    for def in wanted {
        // `ENTITY where in NAME`: the library's own rules (duplicates,
        // cycles, the segments it uses) decide whether it checks.
        let name = Ident {
            name: def.name.name.clone(),
            span: def.name.span,
        };
        let query = Query {
            entity: def.query.entity.clone(),
            filter: Some(Expr {
                kind: ExprKind::InSegment(name),
                span: def.name.span,
            }),
            span: def.span,
        };
        match check::check_all(&query, &options) {
            Ok(plan) => plans.push(SegmentPlan {
                name: def.name.name.to_string(),
                plan: crate::optimize::optimize(plan),
            }),
            Err(mut found) => {
                // Name the segment first, unless the checker did or the
                // fault is not in the library (a guard the entity lacks).
                let named = found.iter().any(|e| match e {
                    Error::BrokenSegment { name, .. } => name.eq_ignore_ascii_case(&def.name.name),
                    Error::UnknownGuard { .. } => true,
                    _ => false,
                });
                if !named {
                    found.insert(
                        0,
                        Error::BrokenSegment {
                            name: def.name.name.to_string(),
                            errors: found.len(),
                            span: def.name.span,
                        },
                    );
                }
                errors.extend(found);
            }
        }
    }
    if errors.is_empty() {
        Ok(plans)
    } else {
        Err(errors)
    }
}

pub(crate) fn run(
    conn: &mut dyn Transaction,
    schema: &Schema,
    segments: &[SegmentPlan],
    options: &RefreshOptions,
) -> Result<RefreshReport> {
    let d = conn.dialect();
    // The key type of `record_id`: that of the segments' root entities
    // (segql's record keys are uuids), which must agree.
    let mut key_type: Option<&FieldType> = None;
    let mut entity_tables = Vec::new();
    for segment in segments {
        let entity = schema
            .entity(&segment.plan.entity)
            .ok_or_else(|| Error::Internal {
                message: format!("entity '{}' is not in the schema", segment.plan.entity),
            })?;
        let ty = entity
            .key_field()
            .map(|f| &f.ty)
            .ok_or_else(|| Error::Schema {
                message: format!("{} has no key field", entity.name),
            })?;
        match key_type {
            Some(first) if d.column_type(first) != d.column_type(ty) => {
                return Err(Error::Schema {
                    message: format!(
                        "refresh keeps the ids of every segment in one column, but the keys of {} and of an other segment's entity are stored as different types",
                        entity.name
                    ),
                })
            }
            Some(_) => {}
            None => key_type = Some(ty),
        }
        let table = d.quote_ident(&entity.table);
        if !entity_tables.contains(&table) {
            entity_tables.push(table);
        }
    }
    let key_type = d.column_type(key_type.unwrap_or(&FieldType::Uuid));
    let member_table = d.quote_ident(SEGMENT_MEMBER_TABLE);
    let change_table = d.quote_ident(SEGMENT_CHANGE_TABLE);

    // The lock comes first: on PostgreSQL the snapshot every later read
    // sees is taken by the first statement that is not a lock (see
    // `Transaction::lock_for_writing`), and the members written must be
    // computed against the `segment_member` rows the last refresh
    // committed. Usually both tables exist and that lock is all. On the
    // first refresh they do not: the failed lock is undone (a savepoint;
    // neither it nor the lock takes a snapshot), the root entities' tables
    // are locked instead (they exist, so two first refreshes queue there
    // rather than race to create the same tables), and the tables are
    // created, then locked. Should another refresh have created and
    // written them in between, this one's stale snapshot ends in a key or
    // serialization error, never in wrong rows: nothing is written then.
    // (A lock that timed out takes the same way and times out again: the
    // tables cannot be looked up first, since that query would take the
    // snapshot before the lock.)
    conn.execute(&format!("SAVEPOINT {SAVEPOINT}"), &[])?;
    let ours = [member_table.as_str(), change_table.as_str()];
    // (SQLite's lock is the transaction's own: that first lock always
    // succeeds, and the tables are created under it when missing.)
    match conn.lock_for_writing(&ours) {
        Ok(()) => {
            conn.execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}"), &[])?;
            create_tables(conn, key_type)?;
        }
        Err(_) => {
            conn.execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"), &[])?;
            conn.execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}"), &[])?;
            let tables: Vec<&str> = entity_tables.iter().map(String::as_str).collect();
            if !tables.is_empty() {
                conn.lock_for_writing(&tables)?;
            }
            create_tables(conn, key_type)?;
            conn.lock_for_writing(&ours)?;
        }
    }
    for segment in segments {
        conn.verify_layout(schema, &segment.plan)?;
    }

    // The memory engine's members, from stores loaded here, with the lock
    // held, so they are of the data the transaction sees.
    let computed = match options.engine {
        RefreshEngine::Database => None,
        RefreshEngine::Memory => Some(members_in_memory(conn, schema, segments, options)?),
    };

    let now = options.now.format(sqlite::DATETIME_FORMAT).to_string();
    let mut report = RefreshReport {
        format: 1,
        dry_run: options.dry_run,
        segments: Vec::with_capacity(segments.len()),
        total: RefreshTotals::default(),
    };
    let members = d.temp_table(MEMBERS);
    let name = d.text_param(1, &FieldType::Text);
    let at = d.text_param(2, &FieldType::DateTime);
    for (i, segment) in segments.iter().enumerate() {
        conn.execute(&format!("DROP TABLE IF EXISTS {members}"), &[])?;
        let count = match computed.as_ref().and_then(|c| c.get(i)) {
            Some(ids) => {
                conn.execute(
                    &format!("DROP TABLE IF EXISTS {}", d.temp_table(NUMBERED)),
                    &[],
                )?;
                conn.fill_numbered_ids(NUMBERED, ids)?;
                conn.execute(
                    &format!("CREATE TEMP TABLE {MEMBERS} (id {key_type} PRIMARY KEY)"),
                    &[],
                )?;
                let n = conn.execute(
                    &format!(
                        "INSERT INTO {members} (id) SELECT id FROM {}",
                        d.temp_table(NUMBERED)
                    ),
                    &[],
                )?;
                conn.execute(
                    &format!("DROP TABLE IF EXISTS {}", d.temp_table(NUMBERED)),
                    &[],
                )?;
                n
            }
            None => {
                let query = to_sql(
                    &segment.plan,
                    schema,
                    d,
                    &SqlOptions::new(false, options.now),
                )?;
                conn.fill_ids_from_query(MEMBERS, &query)?
            }
        };
        let params = [Param::Text(segment.name.clone()), Param::Text(now.clone())];
        let new_members = format!(
            "FROM {members} AS t WHERE NOT EXISTS \
             (SELECT 1 FROM {member_table} AS m WHERE m.segment = {name} AND m.record_id = t.id)"
        );
        let gone = format!(
            "FROM {member_table} AS m WHERE m.segment = {name} AND NOT EXISTS \
             (SELECT 1 FROM {members} AS t WHERE t.id = m.record_id)"
        );
        let joined = conn.execute(
            &format!(
                "INSERT INTO {change_table} (segment, record_id, change, at) \
                 SELECT {name}, t.id, 'joined', {at} {new_members} ORDER BY t.id"
            ),
            &params,
        )?;
        let left = conn.execute(
            &format!(
                "INSERT INTO {change_table} (segment, record_id, change, at) \
                 SELECT {name}, m.record_id, 'left', {at} {gone} ORDER BY m.record_id"
            ),
            &params,
        )?;
        if left > 0 {
            let deleted = conn.execute(
                &format!(
                    "DELETE FROM {member_table} WHERE segment = {name} AND NOT EXISTS \
                     (SELECT 1 FROM {members} AS t WHERE t.id = {member_table}.record_id)"
                ),
                &params[..1],
            )?;
            if deleted != left {
                return Err(Error::Internal {
                    message: format!(
                        "refresh of '{}' recorded {left} left but removed {deleted} members",
                        segment.name
                    ),
                });
            }
        }
        if joined > 0 {
            let added = conn.execute(
                &format!(
                    "INSERT INTO {member_table} (segment, record_id, since) \
                     SELECT {name}, t.id, {at} {new_members}"
                ),
                &params,
            )?;
            if added != joined {
                return Err(Error::Internal {
                    message: format!(
                        "refresh of '{}' recorded {joined} joined but added {added} members",
                        segment.name
                    ),
                });
            }
        }
        conn.execute(&format!("DROP TABLE IF EXISTS {members}"), &[])?;
        report.total.segments += 1;
        report.total.members += count;
        report.total.joined += joined;
        report.total.left += left;
        report.segments.push(SegmentReport {
            segment: segment.name.clone(),
            entity: segment.plan.entity.clone(),
            members: count,
            joined,
            left,
        });
    }
    Ok(report)
}

/// `segment_member` and `segment_change`, created when missing (SPEC 8),
/// and checked.
fn create_tables(conn: &mut dyn Transaction, key_type: &str) -> Result<()> {
    let d = conn.dialect();
    let text = d.column_type(&FieldType::Text);
    let datetime = d.column_type(&FieldType::DateTime);
    conn.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (segment {text} NOT NULL, \
             record_id {key_type} NOT NULL, since {datetime} NOT NULL, \
             PRIMARY KEY (segment, record_id))",
            table = d.quote_ident(SEGMENT_MEMBER_TABLE),
        ),
        &[],
    )?;
    conn.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (seq {seq}, segment {text} NOT NULL, \
             record_id {key_type} NOT NULL, change {text} NOT NULL \
             CHECK (change IN ('joined', 'left')), at {datetime} NOT NULL)",
            table = d.quote_ident(SEGMENT_CHANGE_TABLE),
            seq = d.increasing_key_column(),
        ),
        &[],
    )?;
    verify_columns(
        conn,
        OPERATION,
        SEGMENT_MEMBER_TABLE,
        &["segment", "record_id", "since"],
    )?;
    verify_columns(
        conn,
        OPERATION,
        SEGMENT_CHANGE_TABLE,
        &["seq", "segment", "record_id", "change", "at"],
    )
}

/// The memory engine's members of every segment, in their order: one store
/// per root entity, holding what that entity's segments read.
fn members_in_memory(
    conn: &mut dyn Transaction,
    schema: &Schema,
    segments: &[SegmentPlan],
    options: &RefreshOptions,
) -> Result<Vec<Vec<uuid::Uuid>>> {
    let mut out: Vec<Option<Vec<uuid::Uuid>>> = vec![None; segments.len()];
    let mut entities: Vec<&str> = Vec::new();
    for segment in segments {
        if !entities.contains(&segment.plan.entity.as_str()) {
            entities.push(&segment.plan.entity);
        }
    }
    for entity in entities {
        let filters: Vec<&PlanExpr> = segments
            .iter()
            .filter(|s| s.plan.entity == entity)
            .map(|s| &s.plan.filter)
            .collect();
        let reads = crate::run::reading_plan(entity, filters, &[]);
        let store: Store = conn.load_store(schema, Some(&reads))?;
        for (i, segment) in segments.iter().enumerate() {
            if segment.plan.entity == entity {
                out[i] = Some(crate::eval::evaluate(&segment.plan, &store, options.now)?);
            }
        }
    }
    out.into_iter()
        .map(|ids| {
            ids.ok_or_else(|| Error::Internal {
                message: "a segment's members were not computed".into(),
            })
        })
        .collect()
}
