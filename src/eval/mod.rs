//! The in-memory back end: a columnar [`Store`] and an evaluator that runs a
//! checked [`Plan`] over it.
//!
//! The plan is compiled once into a tree of kernels bound to the store's
//! columns and relationship indexes ([`Program`]). Evaluating a segment runs
//! each kernel over whole columns, combining dense bitmaps; the field tests
//! of one `and`, or of a `has` filter made of nothing else, run together
//! over cache-sized ranges of rows instead (`fused.rs`); checking a single
//! record ([`contains`]) walks the same tree for that record only, touching
//! just the related rows it reaches. Both follow SPEC §2.3 and §2.5 exactly
//! as the SQL back end does, so the two return the same records.
//! Aggregates (`count(lead) >= 2`, `max(...) < now - 90d`) are reduced per
//! record in one pass over the related column (`aggregate/`); an integer
//! `sum` outside the i64 range is the one way running can fail.

// The crate's one error type is large by design (rich diagnostics); errors
// are rare and off the hot path, so boxing them would buy nothing here.
#![allow(clippy::result_large_err)]

mod aggregate;
mod array;
mod bitmap;
mod builder;
pub(crate) mod column;
/// The aggregates' arithmetic, for showing their values (`inside`).
pub(crate) use aggregate::exact::{div_round, exact_sum};
mod compile;
mod contains;
mod counts;
mod fused;
mod kernels;
mod keys;
mod load_sqlite;
mod pending;
mod per_record;
mod snapshot;
mod store;
mod threads;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use builder::StoreBuilder;
pub use counts::{count_children, node_counts, reads_as_atom, NodeCounts};
pub use per_record::per_record;
pub use snapshot::{StoreCache, StoreSource};
pub use store::Store;

use crate::error::Result;
use crate::plan::Plan;
use compile::{Node, Overflow};
use keys::KeyIndex;

/// A plan compiled against one store; run it as often as needed, from any
/// thread.
pub struct Program<'a> {
    root: Node<'a>,
    keys: &'a KeyIndex,
}

/// Compiles `plan` against `store`, resolving relative times at `now`.
/// Fails when the store lacks an entity, column or relationship the plan
/// uses, or a relative time leaves the supported years.
pub fn compile<'a>(plan: &Plan, store: &'a Store, now: DateTime<Utc>) -> Result<Program<'a>> {
    let (index, table) = store.table(&plan.entity)?;
    Ok(Program {
        root: compile::compile(&plan.filter, store, index, now)?,
        keys: compile::table_keys(table)?,
    })
}

/// Running a program fails only when the data makes an integer `sum` leave
/// the `i64` range ([`crate::Error::SumOverflow`], SPEC §2.5).
impl Program<'_> {
    /// The ids of the matching records, ascending.
    pub fn ids(&self) -> Result<Vec<Uuid>> {
        Ok(self
            .root
            .eval_all()
            .map_err(Overflow::into_error)?
            .iter_ones()
            .map(|row| Uuid::from_u128(self.keys.keys()[row]))
            .collect())
    }

    /// The number of matching records.
    pub fn count(&self) -> Result<usize> {
        Ok(self.root.eval_all().map_err(Overflow::into_error)?.count())
    }

    /// Whether the record `id` matches; false when the store has no such
    /// record. Only the rows reachable from that record are examined.
    pub fn contains(&self, id: Uuid) -> Result<bool> {
        match self.keys.find(id.as_u128()) {
            Some(row) => self.root.test(row).map_err(Overflow::into_error),
            None => Ok(false),
        }
    }
}

/// The ids of `plan`'s records in `store` at reference time `now`, ascending.
pub fn evaluate(plan: &Plan, store: &Store, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    compile(plan, store, now)?.ids()
}

/// The number of records `plan` selects.
pub fn count(plan: &Plan, store: &Store, now: DateTime<Utc>) -> Result<usize> {
    compile(plan, store, now)?.count()
}

/// Whether record `id` is in `plan`'s segment, without evaluating the whole
/// segment (for real-time checks of one record at a time).
pub fn contains(plan: &Plan, store: &Store, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    compile(plan, store, now)?.contains(id)
}
