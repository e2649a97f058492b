//! Checks, before a query runs, that a database has the tables and columns a
//! plan uses, so a database in the wrong layout gives an error that names
//! what is missing instead of a bare SQL error (or, worse, wrong answers).

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::generator::{column, entity};
use crate::error::{Error, Result};
use crate::plan::{Direction, Plan, PlanExpr};
use crate::schema::{Entity, FieldType, Schema};

/// A column a plan reads, and why.
struct Use {
    /// `entity.field`, for the message.
    field: String,
    ty: FieldType,
}

/// Table → column → use, in a stable order for stable messages.
type Needs = BTreeMap<String, (String, BTreeMap<String, Use>)>;

/// Checks that the SQLite database has every table and column `plan` uses
/// (as mapped by `schema`). The error names each missing table or column.
pub fn verify_layout_sqlite(conn: &Connection, schema: &Schema, plan: &Plan) -> Result<()> {
    let needs = needs(schema, plan)?;
    let mut problems = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(super::sqlite_exec::database)?;
    for (table, (entity, columns)) in &needs {
        let present = stmt
            .query_map([table], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(super::sqlite_exec::database)?;
        if present.is_empty() {
            problems.push(format!("no table '{table}' (for entity {entity})"));
            continue;
        }
        for (col, usage) in columns {
            // SQLite matches column names ignoring ASCII case.
            if !present.iter().any(|p| p.eq_ignore_ascii_case(col)) {
                problems.push(format!(
                    "table '{table}' has no column '{col}' (for field {})",
                    usage.field
                ));
            }
        }
    }
    report(problems)
}

/// Checks that the PostgreSQL database (tables on the search path) has every
/// table and column `plan` uses, with the types segql binds (SPEC §3.1).
pub fn verify_layout_postgres(
    client: &mut postgres::Client,
    schema: &Schema,
    plan: &Plan,
) -> Result<()> {
    let needs = needs(schema, plan)?;
    let mut problems = Vec::new();
    let stmt = client
        .prepare(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_name = $1 AND table_schema = ANY (current_schemas(false))",
        )
        .map_err(super::postgres_exec::database)?;
    for (table, (entity, columns)) in &needs {
        let rows = client
            .query(&stmt, &[table])
            .map_err(super::postgres_exec::database)?;
        let present: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, postgres::Error>>()
            .map_err(super::postgres_exec::database)?;
        if present.is_empty() {
            problems.push(format!("no table '{table}' (for entity {entity})"));
            continue;
        }
        for (col, usage) in columns {
            match present.iter().find(|(name, _)| name == col) {
                None => problems.push(format!(
                    "table '{table}' has no column '{col}' (for field {})",
                    usage.field
                )),
                Some((_, found)) => {
                    let accepted = postgres_types(&usage.ty);
                    if !accepted.contains(&found.as_str()) {
                        problems.push(format!(
                            "column '{table}.{col}' has type {found}, but field {} ({}) needs {}",
                            usage.field,
                            usage.ty.name(),
                            accepted[0]
                        ));
                    }
                }
            }
        }
    }
    report(problems)
}

/// The `information_schema` type names whose values segql can bind and
/// read for a field type; the first is the one SPEC §3.1 prescribes.
fn postgres_types(ty: &FieldType) -> &'static [&'static str] {
    match ty {
        FieldType::Uuid => &["uuid"],
        FieldType::Text => &["text", "character varying", "character"],
        FieldType::Integer | FieldType::Choice(_) => &["bigint"],
        FieldType::Decimal => &["double precision"],
        FieldType::Bool => &["boolean"],
        FieldType::Date => &["date"],
        FieldType::DateTime => &["timestamp with time zone"],
    }
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

fn walk(needs: &mut Needs, schema: &Schema, at: &Entity, e: &PlanExpr) -> Result<()> {
    match e {
        PlanExpr::Const(_) => Ok(()),
        PlanExpr::Not(inner) => walk(needs, schema, at, inner),
        PlanExpr::And(items) | PlanExpr::Or(items) => items
            .iter()
            .try_for_each(|item| walk(needs, schema, at, item)),
        PlanExpr::Field(test) => need(needs, at, &test.field.field),
        PlanExpr::Related(r) => {
            let rel = schema
                .relationship(&r.link.relationship)
                .ok_or_else(|| Error::Internal {
                    message: format!(
                        "the plan uses relationship '{}', which the schema lacks",
                        r.link.relationship
                    ),
                })?;
            let to = entity(schema, &r.link.to)?;
            match r.link.direction {
                Direction::ToChildren => {
                    need(needs, at, &at.key)?;
                    need(needs, to, &rel.child_field)?;
                }
                Direction::ToParent => {
                    need(needs, at, &rel.child_field)?;
                    need(needs, to, &to.key)?;
                }
            }
            walk(needs, schema, to, &r.filter)
        }
    }
}
