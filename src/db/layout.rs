//! Checks, before a query runs, that a database has the tables and columns a
//! plan uses, so a database in the wrong layout gives an error that names
//! what is missing instead of a bare SQL error (or, worse, wrong answers).
//! The drivers read their catalogs; the rules are here, once.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::plan::{Direction, Link, Plan, PlanExpr};
use crate::schema::{Entity, FieldType, Schema};
use crate::sql::{column, entity, Dialect};

/// A column a plan reads, and why.
struct Use {
    /// `entity.field`, for the message.
    field: String,
    ty: FieldType,
}

/// Table → column → use, in a stable order for stable messages.
type Needs = BTreeMap<String, (String, BTreeMap<String, Use>)>;

/// A column as a database's catalog lists it.
pub(crate) struct CatalogColumn {
    pub name: String,
    /// The catalog's name of its type, where the driver checks types.
    pub data_type: Option<String>,
}

/// Checks that a database has every table and column `plan` uses (as mapped
/// by `schema`); the error names each missing table or column.
///
/// `columns` lists a table's columns (none: no such table). Where it gives
/// their types, `accepted` lists the catalog's type names segql can bind and
/// read for a field type, the one SPEC §3.1 prescribes first.
pub(crate) fn verify(
    schema: &Schema,
    plan: &Plan,
    dialect: &dyn Dialect,
    accepted: fn(&FieldType) -> Vec<&'static str>,
    mut columns: impl FnMut(&str) -> Result<Vec<CatalogColumn>>,
) -> Result<()> {
    let needs = needs(schema, plan)?;
    let mut problems = Vec::new();
    for (table, (entity, wanted)) in &needs {
        let present = columns(table)?;
        if present.is_empty() {
            problems.push(format!("no table '{table}' (for entity {entity})"));
            continue;
        }
        for (col, usage) in wanted {
            match present
                .iter()
                .find(|p| dialect.same_column_name(&p.name, col))
            {
                None => problems.push(format!(
                    "table '{table}' has no column '{col}' (for field {})",
                    usage.field
                )),
                Some(CatalogColumn {
                    data_type: Some(found),
                    ..
                }) => {
                    let accepted = accepted(&usage.ty);
                    if !accepted.contains(&found.as_str()) {
                        problems.push(format!(
                            "column '{table}.{col}' has type {found}, but field {} ({}) needs {}",
                            usage.field,
                            usage.ty.name(),
                            accepted[0]
                        ));
                    }
                }
                Some(_) => {}
            }
        }
    }
    report(problems)
}

fn report(problems: Vec<String>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Database {
            message: format!(
                "the database does not have the layout the schema describes: {}",
                problems.join("; ")
            ),
        })
    }
}

fn needs(schema: &Schema, plan: &Plan) -> Result<Needs> {
    let mut needs = Needs::new();
    let root = entity(schema, &plan.entity)?;
    need(&mut needs, root, &root.key)?;
    walk(&mut needs, schema, root, &plan.filter)?;
    Ok(needs)
}

fn need(needs: &mut Needs, entity: &Entity, field: &str) -> Result<()> {
    let col = column(entity, field)?;
    let ty = entity
        .field(field)
        .map(|f| f.ty.clone())
        .unwrap_or(FieldType::Text);
    let (_, columns) = needs
        .entry(entity.table.clone())
        .or_insert_with(|| (entity.name.clone(), BTreeMap::new()));
    columns.entry(col).or_insert_with(|| Use {
        field: format!("{}.{field}", entity.name),
        ty,
    });
    Ok(())
}

fn walk<'s>(needs: &mut Needs, schema: &'s Schema, at: &'s Entity, e: &PlanExpr) -> Result<()> {
    match e {
        PlanExpr::Const(_) => Ok(()),
        PlanExpr::Not(inner) => walk(needs, schema, at, inner),
        PlanExpr::And(items) | PlanExpr::Or(items) => items
            .iter()
            .try_for_each(|item| walk(needs, schema, at, item)),
        PlanExpr::Field(test) => need(needs, at, &test.field.field),
        PlanExpr::Related(r) => {
            let to = need_link(needs, schema, at, &r.link)?;
            walk(needs, schema, to, &r.filter)
        }
        PlanExpr::Segment(segment) => walk(needs, schema, at, &segment.filter),
        PlanExpr::Aggregate(test) => {
            let mut from = at;
            for hop in &test.aggregate.chain {
                let to = need_link(needs, schema, from, &hop.link)?;
                walk(needs, schema, to, &hop.filter)?;
                from = to;
            }
            match &test.aggregate.field {
                Some(field) => need(needs, from, &field.field),
                None => need(needs, from, &from.key),
            }
        }
    }
}

/// The columns that following `link` from `at` reads; returns the entity
/// it arrives at.
fn need_link<'s>(
    needs: &mut Needs,
    schema: &'s Schema,
    at: &'s Entity,
    link: &Link,
) -> Result<&'s Entity> {
    let rel = schema
        .relationship(&link.relationship)
        .ok_or_else(|| Error::Internal {
            message: format!(
                "the plan uses relationship '{}', which the schema lacks",
                link.relationship
            ),
        })?;
    let to = entity(schema, &link.to)?;
    match link.direction {
        Direction::ToChildren => {
            need(needs, at, &at.key)?;
            need(needs, to, &rel.child_field)?;
        }
        Direction::ToParent => {
            need(needs, at, &rel.child_field)?;
            need(needs, to, &to.key)?;
        }
    }
    Ok(to)
}
