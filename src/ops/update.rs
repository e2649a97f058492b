//! `update` (SPEC §4): set fields on every record of a segment.
//!
//! The segment's ids come from the SQL generator and are collected in a
//! temporary table by the database itself (no ids travel through segql);
//! then one `UPDATE` sets the fields of exactly the records whose values
//! differ (a NULL-safe comparison), so "changed" counts real changes and a
//! repeated update changes nothing.

use serde::Serialize;

use super::assign::Assignment;
use super::checks::verify_columns;
use super::UpdateOptions;
use crate::db::{Param, Transaction};
use crate::error::{Error, Result};
use crate::plan::{Plan, Value};
use crate::schema::Schema;
use crate::sql::{sqlite, SqlQuery};

/// What an update did (or, with `dry_run`, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Records in the segment.
    pub matched: u64,
    /// Records of the segment whose values differed and were set.
    pub changed: u64,
}

const OPERATION: &str = "update";
const TARGET: &str = "segql_target";

/// The value as it is stored (SPEC §3.1), resolved at `now`.
fn param(value: &Option<Value>, options: &UpdateOptions, span: crate::span::Span) -> Result<Param> {
    let Some(value) = value else {
        return Ok(Param::Null);
    };
    let resolved = value
        .resolve(options.now)
        .ok_or_else(|| Error::InvalidValue {
            message: "the time is outside the years 0000 to 9999".into(),
            span,
        })?;
    Ok(match resolved {
        Value::Text(s) => Param::Text(s),
        Value::Integer(i) => Param::Int(i),
        Value::Decimal(x) => Param::Real(x),
        Value::Bool(b) => Param::Bool(b),
        Value::Uuid(u) => Param::Text(u.hyphenated().to_string()),
        Value::Choice { code, .. } => Param::Int(code),
        Value::Date(d) => Param::Text(d.format(sqlite::DATE_FORMAT).to_string()),
        Value::DateTime(t) => Param::Text(t.format(sqlite::DATETIME_FORMAT).to_string()),
        Value::TodayPlusDays(_) | Value::NowPlusSeconds { .. } => {
            return Err(Error::Internal {
                message: "a relative time survived resolution".into(),
            })
        }
    })
}

/// Run an update inside the caller's open transaction; `ids` is the plan's
/// id query compiled for this connection's dialect.
pub(crate) fn run(
    conn: &mut dyn Transaction,
    schema: &Schema,
    plan: &Plan,
    ids: &SqlQuery,
    assignments: &[Assignment],
    options: &UpdateOptions,
) -> Result<UpdateReport> {
    let entity = schema.entity(&plan.entity).ok_or_else(|| Error::Internal {
        message: format!("the plan's entity '{}' is not in the schema", plan.entity),
    })?;
    if assignments.is_empty() {
        return Err(Error::InvalidValue {
            message: "nothing to set".into(),
            span: crate::span::Span::default(),
        });
    }
    let mut targets = Vec::with_capacity(assignments.len());
    for a in assignments {
        if !a.field.entity.eq_ignore_ascii_case(&entity.name) {
            return Err(Error::InvalidValue {
                message: format!(
                    "{}.{} is not a field of {}, which the segment selects",
                    a.field.entity, a.field.field, entity.name
                ),
                span: a.span,
            });
        }
        let field = entity
            .field(&a.field.field)
            .ok_or_else(|| Error::Internal {
                message: format!("field '{}' is not on {}", a.field.field, entity.name),
            })?;
        let value = param(&a.value, options, a.span)?;
        if let (Param::Text(text), Some(why)) = (&value, conn.dialect().text_refuses_nul()) {
            if let Some(at) = text.chars().position(|c| c == '\0') {
                return Err(Error::InvalidValue {
                    message: format!(
                        "{why}: the value set on {} holds it at character {}",
                        a.field.field,
                        at + 1
                    ),
                    span: a.span,
                });
            }
        }
        targets.push((field, value));
    }
    let key = entity
        .key_field()
        .map(|f| f.column.clone())
        .ok_or_else(|| Error::Internal {
            message: format!("{} has no key field", entity.name),
        })?;
    let mut columns: Vec<&str> = vec![&key];
    columns.extend(targets.iter().map(|(f, _)| f.column.as_str()));
    let d = conn.dialect();
    // Before the segment is selected: a writer already inside (link-orphans,
    // another update) finishes first, and the selection sees its changes.
    // The lock is the transaction's first statement: on PostgreSQL its
    // snapshot is taken after it (see `Transaction::lock_for_writing`).
    conn.lock_for_writing(&[&d.quote_ident(&entity.table)])?;
    conn.verify_layout(schema, plan)?;
    verify_columns(conn, OPERATION, &entity.table, &columns)?;
    conn.execute(
        &format!("DROP TABLE IF EXISTS {}", d.temp_table(TARGET)),
        &[],
    )?;
    let matched = conn.fill_ids_from_query(TARGET, ids)?;

    let mut sets = Vec::new();
    let mut differs = Vec::new();
    let mut params = Vec::new();
    for (i, (field, value)) in targets.iter().enumerate() {
        let column = d.quote_ident(&field.column);
        let placeholder = d.text_param(i + 1, &field.ty);
        differs.push(d.null_safe_not_equal(&column, &placeholder));
        sets.push(format!("{column} = {placeholder}"));
        params.push(value.clone());
    }
    let changed = conn.execute(
        &format!(
            "UPDATE {table} SET {sets} WHERE {key} IN (SELECT id FROM {target}) AND ({differs})",
            table = d.quote_ident(&entity.table),
            sets = sets.join(", "),
            key = d.quote_ident(&key),
            target = d.temp_table(TARGET),
            differs = differs.join(" OR "),
        ),
        &params,
    )?;
    conn.execute(
        &format!("DROP TABLE IF EXISTS {}", d.temp_table(TARGET)),
        &[],
    )?;
    Ok(UpdateReport {
        dry_run: options.dry_run,
        matched,
        changed,
    })
}
