//! [`RecordValue`]s of every record in memory: a condition is one bitmap
//! over the entity, a count one pass of the aggregate kernels that keeps the
//! per-record counts instead of testing them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::aggregate::compile_aggregate;
use super::compile::{compile, table_keys, Overflow};
use super::store::Store;
use crate::error::{Error, Result};
use crate::plan::{AggregateTest, CmpOp, PlanExpr, RecordValue, RecordValues, Test, Value};

/// The `values` of every record of `entity` for which `rows` holds, ids
/// ascending, at reference time `now`.
pub fn per_record(
    entity: &str,
    rows: &PlanExpr,
    values: &[RecordValue],
    store: &Store,
    now: DateTime<Utc>,
) -> Result<RecordValues> {
    let (index, table) = store.table(entity)?;
    let keys = table_keys(table)?.keys();
    let selected = compile(rows, store, index, now)?
        .eval_all()
        .map_err(Overflow::into_error)?;
    let chosen: Vec<usize> = selected.iter_ones().collect();
    let mut columns = Vec::with_capacity(values.len());
    for value in values {
        value
            .validate()
            .map_err(|message| Error::Internal { message })?;
        let column: Vec<i64> = match value {
            RecordValue::Holds(expr) => {
                let holds = compile(expr, store, index, now)?
                    .eval_all()
                    .map_err(Overflow::into_error)?;
                chosen
                    .iter()
                    .map(|&row| i64::from(holds.get(row)))
                    .collect()
            }
            RecordValue::Count(aggregate) => {
                // Bound with a test that every count passes; only the
                // counts are used.
                let any = AggregateTest {
                    aggregate: aggregate.clone(),
                    test: Test::Compare {
                        op: CmpOp::Ge,
                        value: Value::Integer(0),
                    },
                };
                let counts = compile_aggregate(&any, store, index, now)?
                    .counts_all()
                    .map_err(Overflow::into_error)?;
                chosen.iter().map(|&row| i64::from(counts[row])).collect()
            }
        };
        columns.push(column);
    }
    Ok(RecordValues {
        ids: chosen
            .iter()
            .map(|&row| Uuid::from_u128(keys[row]))
            .collect(),
        columns,
    })
}
