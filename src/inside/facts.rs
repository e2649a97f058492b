//! The facts that decide a test for one record (`segql why`, SPEC §8): a
//! field's value, or the related records a `has` counts and an aggregate
//! reduces (their number, the value, up to three ids). Facts are read from
//! the database by SQL whatever engine gave the verdicts: they are shown,
//! not decided on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{is_record, reversed};
use crate::db::Backend;
use crate::error::{Error, Result};
use crate::eval::{div_round, exact_sum};
use crate::plan::{quoted, Aggregate, AggregateFn, FieldRef, Plan, PlanExpr, Quantifier, Related};
use crate::schema::{FieldType, Schema};

/// Related ids shown per fact.
pub const SHOWN_IDS: usize = 3;

/// What decided a test for one record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// The record's value of `field`, as a literal (`"Employee"`, `42`);
    /// `None` when missing.
    Field {
        field: String,
        value: Option<String>,
    },
    /// The related records of `entity` that pass the `has` filter: how many,
    /// and the first ids (ascending).
    Related {
        entity: String,
        count: u64,
        ids: Vec<Uuid>,
    },
    /// The records of `entity` an aggregate reduces: how many, the first
    /// ids, and the aggregate's value (`None` when missing).
    Aggregate {
        entity: String,
        count: u64,
        ids: Vec<Uuid>,
        value: Option<String>,
    },
}

/// Where facts come from: the database, for record `id` of `entity`.
pub(crate) struct FactSource<'a> {
    pub db: &'a mut dyn Backend,
    pub schema: &'a Schema,
    pub now: DateTime<Utc>,
    pub entity: &'a str,
    pub id: Uuid,
}

impl FactSource<'_> {
    /// The fact of a leaf of the tree; `None` for constants.
    pub fn fact(&mut self, expr: &PlanExpr) -> Result<Option<Fact>> {
        match expr {
            PlanExpr::Not(inner) => self.fact(inner),
            PlanExpr::Field(test) => self.field(&test.field).map(Some),
            PlanExpr::Related(related) => self.related(related).map(Some),
            PlanExpr::Aggregate(test) => self.aggregate(&test.aggregate).map(Some),
            // An `in NAME` node's facts are those of the tests below it.
            PlanExpr::Const(_) | PlanExpr::And(_) | PlanExpr::Or(_) | PlanExpr::Segment(_) => {
                Ok(None)
            }
        }
    }

    fn field(&mut self, field: &FieldRef) -> Result<Fact> {
        let values = self.values(&field.entity, &field.field, &[self.id])?;
        let ty = self.field_type(&field.entity, &field.field)?;
        Ok(Fact::Field {
            field: field.field.to_string(),
            value: values
                .into_iter()
                .next()
                .flatten()
                .map(|stored| literal(&ty, stored)),
        })
    }

    /// `has R(e)`: the records of R that pass `e` and link to this record.
    fn related(&mut self, related: &Related) -> Result<Fact> {
        let reached = PlanExpr::And(vec![
            (*related.filter).clone(),
            PlanExpr::Related(Related {
                link: reversed(&related.link),
                quantifier: Quantifier::Any,
                filter: Box::new(is_record(self.schema, self.entity, self.id)?),
            }),
        ]);
        let ids = self.ids(&related.link.to, reached)?;
        Ok(Fact::Related {
            entity: related.link.to.to_string(),
            count: ids.len() as u64,
            ids: ids.into_iter().take(SHOWN_IDS).collect(),
        })
    }

    /// The distinct records at the end of the chain reachable from this
    /// record through records passing every hop's filter (SPEC §2.5),
    /// found by walking the chain backwards, and the aggregate over them.
    fn aggregate(&mut self, aggregate: &Aggregate) -> Result<Fact> {
        let mut reached = is_record(self.schema, self.entity, self.id)?;
        for hop in &aggregate.chain {
            reached = PlanExpr::And(vec![
                hop.filter.clone(),
                PlanExpr::Related(Related {
                    link: reversed(&hop.link),
                    quantifier: Quantifier::Any,
                    filter: Box::new(reached),
                }),
            ]);
        }
        let target = aggregate.target().to_string();
        let ids = self.ids(&target, reached)?;
        let value = match (&aggregate.function, &aggregate.field) {
            (AggregateFn::Count, _) | (_, None) => Some(ids.len().to_string()),
            (function, Some(field)) => {
                let values = self.values(&target, &field.field, &ids)?;
                let ty = self.field_type(&target, &field.field)?;
                reduce(*function, &ty, values.into_iter().flatten().collect())
            }
        };
        Ok(Fact::Aggregate {
            entity: target,
            count: ids.len() as u64,
            ids: ids.into_iter().take(SHOWN_IDS).collect(),
            value,
        })
    }

    fn ids(&mut self, entity: &str, filter: PlanExpr) -> Result<Vec<Uuid>> {
        let plan = Plan {
            entity: entity.to_string(),
            filter,
        };
        self.db.ids(self.schema, &plan, self.now)
    }

    fn field_type(&self, entity: &str, field: &str) -> Result<FieldType> {
        self.schema
            .entity(entity)
            .and_then(|e| e.field(field))
            .map(|f| f.ty.clone())
            .ok_or_else(|| Error::Internal {
                message: format!("{entity}.{field} is not in the schema"),
            })
    }

    /// `field` of the records `ids` of `entity`, as stored.
    fn values(&mut self, entity: &str, field: &str, ids: &[Uuid]) -> Result<Vec<Option<String>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let schema_entity = self.schema.entity(entity).ok_or_else(|| Error::Internal {
            message: format!("entity '{entity}' is not in the schema"),
        })?;
        let schema_field = schema_entity.field(field).ok_or_else(|| Error::Internal {
            message: format!("{entity}.{field} is not in the schema"),
        })?;
        let rows = self.db.records(schema_entity, &[schema_field], ids)?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_iter().next().flatten())
            .collect())
    }
}

/// A stored value as the language writes it: text and choice labels
/// quoted, booleans as `true`/`false`, the rest as stored.
fn literal(ty: &FieldType, stored: String) -> String {
    match ty {
        FieldType::Text | FieldType::Uuid => quoted(&stored),
        FieldType::Choice(set) => match stored.parse::<i64>().ok().and_then(|c| set.by_code(c)) {
            Some(option) => quoted(&option.label),
            None => stored,
        },
        FieldType::Bool => match stored.as_str() {
            "1" | "t" | "true" => "true".to_string(),
            "0" | "f" | "false" => "false".to_string(),
            _ => stored,
        },
        _ => stored,
    }
}

/// The aggregate of the non-missing stored `values` of type `ty`, as a
/// literal for display: `sum` of none is 0, `avg`/`min`/`max` of none
/// missing. Sums and means are the engines' (SPEC §2.5): a decimal sum the
/// double nearest the exact sum, a mean that sum over the count, an integer
/// mean the exact quotient rounded once -- so the value shown is the one
/// the verdict was reached on. Ordered choices compare by code, numbers by
/// value, text, dates and date-times by their stored text (code point
/// order, and a fixed-width sortable form).
fn reduce(function: AggregateFn, ty: &FieldType, values: Vec<String>) -> Option<String> {
    let numbers = || values.iter().filter_map(|v| v.parse::<f64>().ok());
    let integer_sum = || {
        values
            .iter()
            .filter_map(|v| v.parse::<i128>().ok())
            .sum::<i128>()
    };
    let integers = matches!(ty, FieldType::Integer);
    match function {
        AggregateFn::Count => Some(values.len().to_string()),
        AggregateFn::Sum if integers => Some(integer_sum().to_string()),
        AggregateFn::Sum => Some(exact_sum(numbers()).to_string()),
        AggregateFn::Avg if values.is_empty() => None,
        AggregateFn::Avg if integers => {
            Some(div_round(integer_sum(), values.len() as u64).to_string())
        }
        AggregateFn::Avg => Some((exact_sum(numbers()) / values.len() as f64).to_string()),
        AggregateFn::Min | AggregateFn::Max => {
            let key = |v: &String| -> (f64, String) {
                match ty {
                    FieldType::Integer | FieldType::Decimal | FieldType::Choice(_) => {
                        (v.parse::<f64>().unwrap_or(f64::NAN), String::new())
                    }
                    _ => (0.0, v.clone()),
                }
            };
            let better = |a: &String, b: &String| {
                let (ka, kb) = (key(a), key(b));
                let order =
                    ka.0.partial_cmp(&kb.0)
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then_with(|| ka.1.cmp(&kb.1));
                match function {
                    AggregateFn::Max => order.is_gt(),
                    _ => order.is_lt(),
                }
            };
            let mut best: Option<&String> = None;
            for value in &values {
                if best.is_none_or(|b| better(value, b)) {
                    best = Some(value);
                }
            }
            best.map(|b| literal(ty, b.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(function: AggregateFn, ty: FieldType, values: &[&str]) -> Option<String> {
        reduce(
            function,
            &ty,
            values.iter().map(|v| v.to_string()).collect(),
        )
    }

    #[test]
    fn sums_and_means_are_shown_as_the_engines_compute_them() {
        use AggregateFn::{Avg, Sum};
        let (dec, int) = (FieldType::Decimal, FieldType::Integer);
        // Added naively, 1e16 + 1 rounds back to 1e16 and the total is 0.
        assert_eq!(
            shown(Sum, dec.clone(), &["1e16", "1", "-1e16"]).unwrap(),
            "1"
        );
        assert_eq!(
            shown(Sum, dec.clone(), &["0.1", "0.7"]).unwrap(),
            "0.7999999999999999"
        );
        // The rounded sum over the count (SQLite's AVG), not the exact mean.
        assert_eq!(
            shown(Avg, dec.clone(), &["0.1", "0.1", "0.1"]).unwrap(),
            "0.10000000000000002"
        );
        // i64::MAX - 0.5 rounds to 2^63; the sum of the doubles would too,
        // but not 8406726523254726.33..., whose doubles sum to ...180.
        assert_eq!(
            shown(
                Avg,
                int.clone(),
                &["8406726523254726", "8406726523254726", "8406726523254727"]
            )
            .unwrap(),
            "8406726523254726"
        );
        assert_eq!(shown(Avg, int.clone(), &[]), None);
        assert_eq!(shown(Sum, dec, &[]).unwrap(), "0");
    }
}
