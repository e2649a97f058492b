//! The parents a query's root table is joined to, in dialects that join
//! them ([`crate::sql::Dialect::joins_required_parents`]): each parent that every
//! selected record must have, because a `has` over a many-to-one link is
//! the root's filter or one of its top-level `and` operands.
//!
//! The join is inner: a record without that parent fails the filter
//! anyway, and a parent's key is unique, so no row is added or lost. Every
//! test of that parent in the query then reads the joined columns (see
//! [`Generator::joined_parent`]), under `or` and `not` too.

use super::generator::{requires_the_parent, Generator, Scope};
use crate::error::Result;
use crate::plan::{Link, PlanExpr};

/// Registers with `generator` the parents `filter` requires of `root`'s
/// rows, and theirs in turn (`lead where contact.account.industry = ..`
/// joins the contact and its account), and returns their `JOIN` clauses,
/// each on a line of its own; none unless the generator's dialect joins
/// required parents.
pub(super) fn join_required_parents(
    generator: &mut Generator,
    filter: &PlanExpr,
    root: &Scope,
) -> Result<String> {
    let mut clauses = String::new();
    if generator.dialect.joins_required_parents() {
        join_parents_of(generator, filter, root, &mut clauses)?;
    }
    Ok(clauses)
}

/// Joins to `from` the parents `filter`, a condition on `from`'s rows,
/// requires, then recurses into the conditions on each parent.
fn join_parents_of(
    generator: &mut Generator,
    filter: &PlanExpr,
    from: &Scope,
    clauses: &mut String,
) -> Result<()> {
    for (link, parent_filters) in required_parents(filter) {
        let (scope, clause) = generator.join_parent(link, from, true)?;
        clauses.push_str(&clause);
        for parent_filter in parent_filters {
            join_parents_of(generator, parent_filter, &scope, clauses)?;
        }
    }
    Ok(())
}

/// The links to parents that `filter` requires, each relationship once in
/// the order it first appears, with the filters of every `has` over it
/// (an unoptimized plan may test one parent in several operands).
fn required_parents(filter: &PlanExpr) -> Vec<(&Link, Vec<&PlanExpr>)> {
    let operands = match filter {
        PlanExpr::And(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    let mut parents: Vec<(&Link, Vec<&PlanExpr>)> = Vec::new();
    for operand in operands {
        let PlanExpr::Related(r) = operand else {
            continue;
        };
        if !requires_the_parent(r) {
            continue;
        }
        match parents
            .iter_mut()
            .find(|(link, _)| link.relationship == r.link.relationship)
        {
            Some((_, filters)) => filters.push(&r.filter),
            None => parents.push((&r.link, vec![&r.filter])),
        }
    }
    parents
}
