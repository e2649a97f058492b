//! Values computed for every record of an entity rather than a yes/no for
//! the whole query: whether a condition holds, and how many records a chain
//! reaches. Lead scoring turns them into points; both back ends compute
//! them (`sql::per_record_sql`, `eval::per_record`) with the meaning of the
//! plan they come from, so their answers are the same.

use serde::{Deserialize, Serialize};

use super::{Aggregate, AggregateFn, PlanExpr};

/// One value per record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordValue {
    /// 1 where the condition holds for the record, else 0 (SPEC 2.3's
    /// two-valued meaning: a comparison on a missing value is 0).
    Holds(PlanExpr),
    /// `count(chain)` of the record: how many distinct records the chain
    /// reaches. The aggregate's function must be `count`.
    Count(Aggregate),
}

impl RecordValue {
    /// `Err` with a message when the value cannot be computed as asked (a
    /// `Count` of another function).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            RecordValue::Count(a) if a.function != AggregateFn::Count => {
                Err(format!("{a} is not a count"))
            }
            _ => Ok(()),
        }
    }
}

/// The values of every record: `ids` ascending, and per [`RecordValue`] one
/// column with a value per id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecordValues {
    pub ids: Vec<uuid::Uuid>,
    pub columns: Vec<Vec<i64>>,
}
