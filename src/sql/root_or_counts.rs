//! How a counted `has` (`has at least 60 interaction`) of the root's
//! children under a root `or` written for a scan
//! ([`Dialect::scans_for_a_root_or`], PostgreSQL) is counted: over the
//! groups of the whole child table, which PostgreSQL hashes once, or per
//! row through the child's foreign-key index, for only the rows the
//! `or`'s cheaper tests leave.
//!
//! Which is faster is a matter of the data, which `compile` does not see:
//! at 1M contacts the groups of 10M interactions took 835 ms to hash where
//! 50,827 contacts reached the count (0.3 s counted per row, the SQL a DBA
//! would write for `wide_or_50`), and over 1.5M leads the hash is the
//! faster (`wide_or`, 227,000 contacts reaching it). PostgreSQL's own
//! row estimates for negated text tests were several times too low to
//! choose by (benches/README.md, "Every shape at 1M, one run, and a quiet
//! PostgreSQL run"). So a runner that can ask the database does:
//!
//! 1. [`question`]: whether the plan has such a count, over which child
//!    tables, and the plan of the records reaching it (those failing
//!    every test the SQL makes before it);
//! 2. with the tables' sizes (the catalog's estimates, good for whole
//!    tables), [`worth_counting`] says whether the hash is dear enough to
//!    pay for counting those records ([`reach_query`]: over a sample of a
//!    large table, [`sample_percent`], scaled up by [`estimate`]), and
//!    [`choose`] decides by that count.
//!
//! Both forms give the same records; only their speed differs.

use chrono::{DateTime, Utc};

use super::{
    entity, root_or_operands, to_sampled_sql, to_sql, Dialect, Postgres, RootForm, SqlOptions,
    SqlQuery,
};
use crate::error::Result;
use crate::plan::{Direction, Plan, PlanExpr, Quantifier};
use crate::schema::Schema;

/// How a counted `has` of the root's children under a root `or` written
/// for a scan is tested.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootOrCounts {
    /// `EXISTS` over the groups of the child table that pass (PostgreSQL
    /// hashes them once where they fit in `work_mem`): what `compile`
    /// writes.
    #[default]
    Groups,
    /// A correlated `COUNT(*)` per row that reaches it, through the
    /// child's foreign-key index.
    PerRow,
}

/// What to ask the database before choosing [`RootOrCounts`].
#[derive(Clone, Debug, PartialEq)]
pub struct CountQuestion {
    /// The root's table.
    pub root_table: String,
    /// The child table of each counted `has` under the root `or`.
    pub child_tables: Vec<String>,
    /// The root's records that fail every test the SQL makes before the
    /// `or`'s first count (the tests of their own columns, then the
    /// operands written before it), and so reach it: at most those are
    /// counted per row. `None` where nothing comes before it (every
    /// record reaches).
    pub reach: Option<Plan>,
}

/// The [`CountQuestion`] of `plan` compiled for `dialect`, or `None` where
/// its SQL has no counted `has` under a root `or` written for a scan (then
/// [`RootOrCounts`] changes nothing).
pub fn question(
    plan: &Plan,
    schema: &Schema,
    dialect: &dyn Dialect,
) -> Result<Option<CountQuestion>> {
    let root = entity(schema, &plan.entity)?;
    if !RootForm::of(&plan.filter, root, dialect).scans_root_or {
        return Ok(None);
    }
    let Some((items, negated)) = root_or_operands(&plan.filter) else {
        return Ok(None);
    };
    // The child table of each counted `has`, operand by operand.
    let counted: Vec<Vec<&str>> = items
        .iter()
        .map(|item| {
            let mut children = Vec::new();
            counted_children(item, &mut children);
            children
        })
        .collect();
    let child_tables = counted
        .iter()
        .flatten()
        .map(|child| Ok(entity(schema, child)?.table.clone()))
        .collect::<Result<Vec<String>>>()?;
    if child_tables.is_empty() {
        return Ok(None);
    }
    // The SQL tests the `or`'s own-row operands first, then the others in
    // the order written (`own_row_tests_first`): a record reaches the
    // first count when it fails all of those before it.
    let (own, others): (Vec<_>, Vec<_>) = items
        .iter()
        .zip(&counted)
        .partition(|(item, _)| reads_own_row_only(item));
    let first_count = others
        .iter()
        .position(|(_, children)| !children.is_empty())
        .unwrap_or(others.len());
    let before: Vec<PlanExpr> = own
        .into_iter()
        .chain(others.into_iter().take(first_count))
        .map(|(item, _)| {
            let operand = item.clone();
            if negated {
                PlanExpr::Not(Box::new(operand))
            } else {
                operand
            }
        })
        .collect();
    let reach = (!before.is_empty()).then(|| Plan {
        entity: plan.entity.clone(),
        filter: PlanExpr::Not(Box::new(match before.len() {
            1 => before.into_iter().next().expect("one operand"),
            _ => PlanExpr::Or(before),
        })),
    });
    Ok(Some(CountQuestion {
        root_table: root.table.clone(),
        child_tables,
        reach,
    }))
}

/// Pushes onto `children` the entity of each counted `has` of the root's
/// children in `expr`, an operand of the root `or` (not those under
/// another `has`).
fn counted_children<'e>(expr: &'e PlanExpr, children: &mut Vec<&'e str>) {
    match expr {
        PlanExpr::Not(inner) => counted_children(inner, children),
        PlanExpr::And(items) | PlanExpr::Or(items) => {
            for item in items {
                counted_children(item, children);
            }
        }
        PlanExpr::Segment(segment) => counted_children(&segment.filter, children),
        PlanExpr::Related(related)
            if related.link.direction == Direction::ToChildren
                && is_counted(related.quantifier) =>
        {
            children.push(&related.link.to)
        }
        PlanExpr::Related(_) | PlanExpr::Const(_) | PlanExpr::Field(_) | PlanExpr::Aggregate(_) => {
        }
    }
}

/// Whether a quantifier over children needs their count (not merely one
/// or none of them).
fn is_counted(quantifier: Quantifier) -> bool {
    match quantifier {
        Quantifier::Any | Quantifier::No => false,
        Quantifier::AtLeast(n) => n >= 2,
        Quantifier::AtMost(n) | Quantifier::Exactly(n) => n >= 1,
    }
}

/// Whether `expr` reads only the record's own columns: the tests the SQL
/// puts before its subqueries. (A dotted path to a parent may be joined
/// and tested first too; leaving it out only makes the count of reaching
/// records larger, and the choice keeps the groups more often.)
fn reads_own_row_only(expr: &PlanExpr) -> bool {
    match expr {
        PlanExpr::Const(_) | PlanExpr::Field(_) => true,
        PlanExpr::Not(inner) => reads_own_row_only(inner),
        PlanExpr::And(items) | PlanExpr::Or(items) => items.iter().all(reads_own_row_only),
        PlanExpr::Segment(segment) => reads_own_row_only(&segment.filter),
        PlanExpr::Related(_) | PlanExpr::Aggregate(_) => false,
    }
}

/// PostgreSQL's time to hash the groups of one child row (835 ms for the
/// 10M interactions of `has at least 60 interaction` at 1M contacts, under
/// `EXPLAIN ANALYZE`).
const HASH_NS_PER_CHILD_ROW: f64 = 83.0;
/// Its time to count one record's children through the foreign-key index
/// (0.3 s for the 50,827 contacts of `wide_or_50` that reach the count,
/// about 10 interactions each).
const PROBE_NS_PER_RECORD: f64 = 6_000.0;
/// Its time per root record to count those that reach the count, the
/// tests before it probed per record: 2.0-2.4 µs over a 1% sample for
/// `wide_or_50` at 1M contacts (0.93-1.19 µs over the whole table, a
/// parallel scan).
const COUNT_NS_PER_ROOT_RECORD: f64 = 2_000.0;
/// The count of reaching records is made only where the hash would cost
/// at least this many times as much: it is then at most a quarter of what
/// it may save, and of what it adds where the hash stays.
const COUNT_PAYS_AT: f64 = 4.0;

/// Whether counting the records that reach the counts can pay: the hash of
/// the children (`child_rows`, one per counted `has`) against the count of
/// a sample of the `root_rows` records ([`sample_percent`]), or of all of
/// them where they are few. Over 1M contacts (10,000 sampled, about 20
/// ms): 10M interactions (0.83 s to hash) and 1.5M leads (0.12 s) both
/// pay; over 1,000 contacts, counted whole, 10,000 interactions do not.
pub fn worth_counting(root_rows: f64, child_rows: &[f64]) -> bool {
    let hash: f64 = child_rows.iter().sum::<f64>() * HASH_NS_PER_CHILD_ROW;
    let counted = match sample_percent(root_rows) {
        Some(percent) => root_rows * percent / 100.0,
        None => root_rows,
    };
    hash >= COUNT_PAYS_AT * counted * COUNT_NS_PER_ROOT_RECORD
}

/// Root tables of up to this many records have the records reaching the
/// counts counted whole; larger ones through a sample of about
/// [`SAMPLED_RECORDS`]. The exact count is a query of its own, the tests
/// before the first count included: 0.93-1.19 s for `wide_or_50` at 1M
/// contacts (its `has lead` and `has subscription` probed for 237,000
/// contacts), more than the hash it would save.
const COUNTED_WHOLE_UP_TO: f64 = 50_000.0;
/// About this many records are sampled to estimate how many reach the
/// counts. For `wide_or_50` at 1M contacts a sample of 1% of the pages
/// took 20-24 ms and estimated 56,000 where 50,827 reach the count (2%:
/// 38 ms, 54,750).
const SAMPLED_RECORDS: f64 = 10_000.0;

/// The percentage of the root table's pages to sample when estimating
/// how many of its `root_rows` records reach the counts, or `None` to
/// count them all.
pub fn sample_percent(root_rows: f64) -> Option<f64> {
    (root_rows > COUNTED_WHOLE_UP_TO).then(|| (100.0 * SAMPLED_RECORDS / root_rows).min(100.0))
}

/// PostgreSQL's query counting the records of `reach` (a
/// [`CountQuestion::reach`]) at reference time `now`: all of them, or
/// those of a sample of `percent` of the root table's pages
/// (`TABLESAMPLE SYSTEM`, the same pages every time), which [`estimate`]
/// scales up.
pub fn reach_query(
    reach: &Plan,
    schema: &Schema,
    now: DateTime<Utc>,
    percent: Option<f64>,
) -> Result<SqlQuery> {
    let options = SqlOptions::new(true, now);
    match percent {
        None => to_sql(reach, schema, &Postgres, &options),
        Some(percent) => {
            let sample = format!("TABLESAMPLE SYSTEM ({percent:.4}) REPEATABLE (0)");
            to_sampled_sql(reach, schema, &Postgres, &options, &sample)
        }
    }
}

/// The records reaching the counts, from the count of [`reach_query`]
/// with `percent`.
pub fn estimate(counted: u64, percent: Option<f64>) -> f64 {
    match percent {
        None => counted as f64,
        Some(percent) => counted as f64 * 100.0 / percent,
    }
}

/// The faster form for `reaching` records reaching the counts over
/// children of `child_rows` rows (one per counted `has`): per row where
/// probing each count for each of them costs less than hashing every
/// child table.
pub fn choose(reaching: f64, child_rows: &[f64]) -> RootOrCounts {
    let hash: f64 = child_rows.iter().sum::<f64>() * HASH_NS_PER_CHILD_ROW;
    let probes = reaching * child_rows.len() as f64 * PROBE_NS_PER_RECORD;
    if probes < hash {
        RootOrCounts::PerRow
    } else {
        RootOrCounts::Groups
    }
}

#[cfg(test)]
mod tests;
