//! Aggregate tests (SPEC §2.5) to SQL: `count(lead(status = "Open")) >= 2`
//! becomes one grouped subquery over the chain's tables, joined, that a
//! database computes once for the whole query:
//!
//! ```sql
//! t0.id IN (
//!   SELECT t1.contact_id FROM lead AS t1 WHERE t1.status = ?1
//!   GROUP BY t1.contact_id HAVING COUNT(*) >= ?2
//! )
//! ```
//!
//! A grouped subquery only sees records that reach at least one row, so
//! the test on the value over no rows is decided here, statically
//! ([`AggregateTest::holds_on_empty`]). Where it fails, a record passes if
//! its group passes (`IN`, as above). Where it holds (`count(..) < 2`,
//! `sum(..) <= 5`), a record passes unless its group fails: `NOT EXISTS`
//! over the groups where the test is false, as a derived table. Negation
//! swaps the two. `NOT EXISTS` rather than `NOT IN`: it is never NULL, and
//! PostgreSQL makes it an anti-join, while its `NOT IN` rescans the set per
//! row once the set outgrows `work_mem`. Under an `OR`, where `IN` cannot
//! be a semi-join, dialects that say so (`Dialect::in_subquery_under_or`)
//! get `EXISTS` over the same derived table.
//!
//! The grouping key is the first hop's column that meets the current
//! record: a child's foreign key (no join back to the current table; its
//! NULLs left out, as they reach no record), or a
//! parent's key (the current record's foreign key is then the outer value).
//! Later hops are joins; every hop's filter sits in the `WHERE`. Where the
//! chain fans in, `COUNT(DISTINCT ..)` counts records once and `sum`/`avg`
//! run over a `SELECT DISTINCT` derived table. `avg`/`min`/`max` `is not
//! null` is an existence test, with no groups.

use super::generator::{column, internal, Alias, Cond, Generator, Scope};
use super::tree::{
    Distinct, Grouped, Groups, InSet, Join, ListSelect, Membership, SqlExpr, Subquery, GROUP_KEY,
};
use crate::error::Result;
use crate::plan::{Aggregate, AggregateFn, AggregateTest, Direction, PlanExpr, Test, ValueType};

/// The chain's tables joined and filtered, as seen from the current record.
pub(super) struct Chain<'a> {
    /// The current record's column that meets the first hop.
    pub outer: String,
    /// The first hop's column that meets the current record: the group key.
    pub key: String,
    /// Whether `key` can be NULL (a child's foreign key).
    pub key_nullable: bool,
    pub rows: Subquery,
    /// The last hop's scope: the records aggregated.
    pub last: Scope<'a>,
}

/// An aggregate's chain without its leading parent (see
/// [`Generator::skip_parent`]).
struct SkippedParent<'a> {
    /// The chain from the parent on.
    rest: Aggregate,
    /// The parent's scope, as the chain would have reached it.
    parent: Scope<'a>,
    /// The current record's foreign key to the parent.
    outer: String,
    /// `EXISTS` of that parent.
    exists: SqlExpr,
}

impl<'a> Generator<'a> {
    /// `t` (or its complement when `negated`) on records of `scope`.
    pub(super) fn aggregate(
        &mut self,
        t: &AggregateTest,
        scope: &Scope,
        negated: bool,
    ) -> Result<SqlExpr> {
        let agg = &t.aggregate;
        if let Test::InList(_) | Test::Text { .. } = t.test {
            return Err(internal(format!("{agg} with a test of a field only")));
        }
        let empty_holds = t.holds_on_empty();
        // Only where the record passes through its group alone: elsewhere a
        // missing parent must pass, and the guard would have to be negated.
        let passes_in_group = empty_holds == negated;
        let parent_skipped = if passes_in_group {
            self.skip_parent(agg, scope)?
        } else {
            None
        };
        // The chain as written: from the parent, where skipped.
        let (chain_agg, chain_scope) = match &parent_skipped {
            Some(skip) => (&skip.rest, &skip.parent),
            None => (agg, scope),
        };
        // The chain's rows are joined, not a parent's few: their `has` keep
        // the uncorrelated form (see `Generator::on_parent_rows`).
        let outer_rows = std::mem::replace(&mut self.on_parent_rows, false);
        let chain = self.chain(chain_agg, chain_scope);
        self.on_parent_rows = outer_rows;
        let chain = chain?.map(|mut chain| {
            if let Some(skip) = &parent_skipped {
                chain.outer = skip.outer.clone();
            }
            chain
        });
        let guard = |expr: SqlExpr| match &parent_skipped {
            // After the test: the groups, computed once, leave few records
            // to look the parent up for.
            Some(skip) => SqlExpr::and(vec![expr, skip.exists.clone()]),
            None => expr,
        };
        let Some(mut chain) = chain else {
            // A hop's filter is false: every record reaches nothing.
            return Ok(SqlExpr::Const(empty_holds != negated));
        };
        self.refuse_nul(&|| agg.to_string(), &t.test)?;
        let cond = self.cond(agg.value_type(), &t.test)?;
        let uncorrelated_in =
            !self.correlate && (!self.under_or || self.dialect.in_subquery_under_or());
        if self.correlate {
            // Only the groups of the outer row (see `Generator::correlate`).
            chain.rows.correlation = Some(self.written(&[&chain.key, " = ", &chain.outer]));
        }
        match cond {
            Cond::Never => return Ok(SqlExpr::Const(negated)),
            Cond::NotNull if !agg.can_be_missing() => return Ok(SqlExpr::Const(!negated)),
            Cond::NotNull => {
                // `avg`, `min` or `max` has a value exactly when a record
                // reached has the field: an existence test, no groups.
                let col = self.value_column(agg, &chain.last)?;
                chain.rows.filter = SqlExpr::and(vec![
                    std::mem::replace(&mut chain.rows.filter, SqlExpr::Const(true)),
                    self.atom(&[&col, " IS NOT NULL"]),
                ]);
                return Ok(guard(if !negated && uncorrelated_in {
                    let select = ListSelect {
                        column: self.written(&[&chain.key]),
                        sub: chain.rows,
                        having: None,
                    };
                    InSet::one(self.written(&[&chain.outer]), select)
                } else {
                    chain.rows.correlation = Some(self.written(&[&chain.key, " = ", &chain.outer]));
                    SqlExpr::Exists {
                        negated,
                        sub: Box::new(chain.rows),
                    }
                }));
            }
            _ => {}
        }
        // Whether the groups read a column besides the key: a hop's filter,
        // a join, or the field aggregated (before the key's own test).
        let fetches_rows = chain.rows.filters_or_joins() || agg.function != AggregateFn::Count;
        if chain.key_nullable {
            // Rows of no record (orphans) would make a group of their own,
            // worth nothing but its cost (and a sum that may overflow).
            // After the hops' filters: SQLite tests a scanned row's terms
            // in the order written, and the key is one more column to read
            // for every row (agg_lead_clicks at 1M: 1.61 s first, 1.35 s
            // last).
            let not_null = self.atom(&[&chain.key, " IS NOT NULL"]);
            let filter = std::mem::replace(&mut chain.rows.filter, SqlExpr::Const(true));
            chain.rows.filter = SqlExpr::and(vec![filter, not_null]);
        }
        let (key, value, distinct) = self.value(agg, &chain, scope.next)?;
        if agg.function == AggregateFn::Sum && agg.value_type() == ValueType::Integer {
            self.integer_sums.push(agg.to_string());
        }
        // Where the empty set passes, the groups that fail decide instead.
        let checked =
            self.checked_sum(agg, (chain_agg, chain_scope), &chain, &cond, empty_holds)?;
        let having = match checked {
            Some(having) => having,
            None => self.render_cond(cond, &value, &value, agg.can_be_missing(), empty_holds),
        };
        let in_groups = empty_holds == negated;
        let membership = if in_groups && uncorrelated_in {
            Membership::In
        } else {
            Membership::Exists {
                negated: !in_groups,
                alias: Alias::new('g', scope.next),
            }
        };
        let outer = self.written(&[&chain.outer]);
        let key = self.written(&[&key]);
        Ok(guard(SqlExpr::Grouped(Box::new(Grouped {
            outer,
            membership,
            groups: Groups {
                key,
                rows: chain.rows,
                distinct,
                having,
                fetches_rows,
            },
        }))))
    }

    /// For a chain that goes up to a parent without a filter and then down
    /// to its children (`contact.interaction(..)` from a lead), the chain
    /// without that parent: its children grouped by their own foreign key,
    /// met by the record's foreign key, and a check that the parent exists
    /// (a dangling key reaches nothing, even where orphaned children share
    /// it). The parent's table, joined to every child row, was most of the
    /// work of such a count on SQLite.
    fn skip_parent(&mut self, agg: &Aggregate, scope: &Scope) -> Result<Option<SkippedParent<'a>>> {
        let [first, second, ..] = agg.chain.as_slice() else {
            return Ok(None);
        };
        if first.link.direction != Direction::ToParent
            || first.filter != PlanExpr::Const(true)
            || second.link.direction != Direction::ToChildren
        {
            return Ok(None);
        }
        let (parent, outer, parent_key) = self.hop(&first.link, scope, scope.next)?;
        let exists = SqlExpr::Exists {
            negated: false,
            sub: Box::new(Subquery {
                table: self.quote_shared(&parent.entity.table),
                alias: parent.alias(),
                joins: Vec::new(),
                correlation: Some(self.written(&[&parent_key, " = ", &outer])),
                filter: SqlExpr::Const(true),
            }),
        };
        Ok(Some(SkippedParent {
            rest: Aggregate {
                chain: agg.chain[1..].to_vec(),
                ..agg.clone()
            },
            parent,
            outer,
            exists,
        }))
    }

    /// The chain's tables joined, with every hop's filter; `None` when a
    /// filter is false.
    pub(super) fn chain(&mut self, agg: &Aggregate, scope: &Scope) -> Result<Option<Chain<'a>>> {
        // The filters are the subquery's own WHERE: no `OR` above them there.
        let outer_or = std::mem::replace(&mut self.under_or, false);
        let chain = self.joined(agg, scope);
        self.under_or = outer_or;
        chain
    }

    fn joined(&mut self, agg: &Aggregate, scope: &Scope) -> Result<Option<Chain<'a>>> {
        let mut hops = agg.chain.iter();
        let first = hops
            .next()
            .ok_or_else(|| internal(format!("{agg} has no relationship")))?;
        // The chain's tables are t(n), t(n+1), ...; subqueries in their
        // filters go past them all.
        let after_chain = scope.next + agg.chain.len();
        let (mut at, outer, key) = self.hop(&first.link, scope, scope.next)?;
        at.next = after_chain;
        let key_nullable = match first.link.direction {
            Direction::ToChildren => {
                let rel = self.schema.relationship(&first.link.relationship);
                let field = rel.and_then(|r| at.entity.field(&r.child_field));
                field.is_none_or(|f| f.nullable)
            }
            Direction::ToParent => false,
        };
        let (table, alias) = (self.quote_shared(&at.entity.table), at.alias());
        let mut filters = vec![self.expr(&first.filter, &at, false)?];
        let mut joins = Vec::new();
        for hop in hops {
            let (mut next, from_col, to_col) = self.hop(&hop.link, &at, at.depth + 1)?;
            next.next = after_chain;
            joins.push(Join {
                table: self.quote_shared(&next.entity.table),
                alias: next.alias(),
                on: format!("{to_col} = {from_col}"),
            });
            filters.push(self.expr(&hop.filter, &next, false)?);
            at = next;
        }
        let filter = SqlExpr::and(filters);
        if filter == SqlExpr::Const(false) {
            return Ok(None);
        }
        Ok(Some(Chain {
            outer,
            key,
            key_nullable,
            rows: Subquery {
                table,
                alias,
                joins,
                correlation: None,
                filter,
            },
            last: at,
        }))
    }

    /// The aggregated field's column on the last hop's table.
    pub(super) fn value_column(&self, agg: &Aggregate, last: &Scope) -> Result<String> {
        let field = agg
            .field
            .as_ref()
            .ok_or_else(|| internal(format!("{agg} names no field")))?;
        let col = column(last.entity, &field.field)?;
        Ok(format!("{}.{}", last.alias(), self.quote(&col)))
    }

    /// The group key as selected, the aggregate's value over a group, and
    /// the derived table that first makes the records distinct where a
    /// `sum` or `avg` would otherwise see one record once per path to it.
    /// (`COUNT(DISTINCT ..)` does that itself; `min` and `max` need not.)
    pub(super) fn value(
        &self,
        agg: &Aggregate,
        chain: &Chain,
        depth: usize,
    ) -> Result<(String, String, Option<Distinct>)> {
        let last = &chain.last;
        let record = format!(
            "{}.{}",
            last.alias(),
            self.quote(&column(last.entity, &last.entity.key)?)
        );
        let function = agg.function;
        if function == AggregateFn::Count {
            let count = if agg.fans_in() {
                format!("COUNT(DISTINCT {record})")
            } else {
                "COUNT(*)".to_string()
            };
            return Ok((chain.key.clone(), count, None));
        }
        let col = self.value_column(agg, last)?;
        let ty = agg.field.as_ref().map_or(ValueType::Integer, |f| f.ty);
        let distinct_rows =
            agg.fans_in() && matches!(function, AggregateFn::Sum | AggregateFn::Avg);
        let (key, col, distinct) = if distinct_rows {
            let alias = format!("d{depth}");
            let columns = vec![
                (chain.key.clone(), GROUP_KEY),
                (record, "rec"),
                (col, "val"),
            ];
            (
                format!("{alias}.{GROUP_KEY}"),
                format!("{alias}.val"),
                Some(Distinct { alias, columns }),
            )
        } else {
            (chain.key.clone(), col, None)
        };
        let d = self.dialect;
        let value = match (function, ty) {
            (AggregateFn::Sum, ValueType::Integer) => d.sum_integers(&col),
            (AggregateFn::Sum, ValueType::Decimal) => d.sum_decimals(&col),
            (AggregateFn::Avg, ValueType::Integer) => d.avg_integers(&col),
            (AggregateFn::Avg, ValueType::Decimal) => d.avg_decimals(&col),
            // Text in code-point order, whatever the column's collation.
            (AggregateFn::Min | AggregateFn::Max, ValueType::Text) => {
                format!("{}({})", sql_name(function), d.text_for_ordering(&col))
            }
            // Choices by code, dates and date-times as stored (both in
            // time order).
            (
                AggregateFn::Min | AggregateFn::Max,
                ValueType::Integer
                | ValueType::Decimal
                | ValueType::Choice
                | ValueType::Date
                | ValueType::DateTime,
            ) => format!("{}({col})", sql_name(function)),
            (_, ty) => return Err(internal(format!("{agg} over a {ty:?} field"))),
        };
        Ok((key, value, distinct))
    }
}

/// `MIN`, `MAX`, ...
fn sql_name(function: AggregateFn) -> String {
    function.keyword().to_ascii_uppercase()
}

#[cfg(test)]
mod tests;
