//! [`RecordValue`]s of every record as one `SELECT`: a condition is a
//! `CASE WHEN .. THEN 1 ELSE 0 END` column, a count a grouped derived table
//! LEFT JOINed once (records that reach nothing get 0):
//!
//! ```sql
//! SELECT t0.id AS id,
//!   CASE WHEN t0.source = ?1 THEN 1 ELSE 0 END AS v0,
//!   COALESCE(c1.n, 0) AS v1
//! FROM lead AS t0
//! LEFT JOIN (
//!   SELECT t1.id AS grp, COUNT(*) AS n
//!   FROM contact AS t1 JOIN interaction AS t2 ON t2.contact_id = t1.id
//!   WHERE t2.type = ?2
//!   GROUP BY t1.id
//! ) AS c1 ON c1.grp = t0.contact_id
//! WHERE ...
//! ORDER BY t0.id
//! ```
//!
//! A condition's `CASE WHEN` sees SQL's NULL where a positive atom meets a
//! missing value, and takes the `ELSE`: 0, exactly the plan's false.

use chrono::{DateTime, Utc};

use super::generator::{column, entity, internal, Generator, Scope};
use super::tree::{Renderer, SqlExpr};
use super::{Dialect, SqlQuery};
use crate::error::Result;
use crate::plan::{PlanExpr, RecordValue};
use crate::schema::Schema;

/// The column names of [`per_record_sql`]'s result: `id`, then `v0`, `v1`, ...
pub fn value_column(i: usize) -> String {
    format!("v{i}")
}

/// One `SELECT` of `id` and one column per value (`v0`, `v1`, ...) for every
/// record of `entity` for which `rows` holds, ordered by id, with the
/// literals and relative times (at `now`) as bind parameters.
pub fn per_record_sql(
    entity_name: &str,
    rows: &PlanExpr,
    values: &[RecordValue],
    schema: &Schema,
    dialect: &dyn Dialect,
    now: DateTime<Utc>,
) -> Result<SqlQuery> {
    let root = entity(schema, entity_name)?;
    let mut generator = Generator::new(schema, dialect, now);
    let scope = Scope {
        entity: root,
        depth: 0,
        next: 1,
    };
    let renderer = Renderer { dialect };
    let key = format!(
        "{}.{}",
        scope.alias(),
        generator.quote(&column(root, &root.key)?)
    );
    let mut selected = vec![format!("{key} AS id")];
    let mut joins = String::new();
    for (i, value) in values.iter().enumerate() {
        value.validate().map_err(internal)?;
        let name = value_column(i);
        match value {
            RecordValue::Holds(expr) => {
                let cond = generator.expr(expr, &scope, false)?;
                let text = match cond {
                    SqlExpr::Const(b) => i64::from(b).to_string(),
                    cond => {
                        let mut text = String::from("CASE WHEN ");
                        renderer.expr(&cond, 4, &mut text);
                        text.push_str(" THEN 1 ELSE 0 END");
                        text
                    }
                };
                selected.push(format!("{text} AS {name}"));
            }
            RecordValue::Count(aggregate) => {
                let mark = generator.params.len();
                let Some(mut chain) = generator.chain(aggregate, &scope)? else {
                    // A hop's filter is false: nothing is ever reached, and
                    // the parameters the other hops bound appear nowhere.
                    generator.params.truncate(mark);
                    selected.push(format!("0 AS {name}"));
                    continue;
                };
                if chain.key_nullable {
                    let not_null = SqlExpr::Atom(format!("{} IS NOT NULL", chain.key));
                    let rows = std::mem::replace(&mut *chain.rows.filter, SqlExpr::Const(true));
                    *chain.rows.filter = SqlExpr::and(vec![not_null, rows]);
                }
                let (group_key, count, _) = generator.value(aggregate, &chain, scope.next)?;
                let alias = format!("c{}", i + 1);
                joins.push_str("\nLEFT JOIN (");
                renderer.grouped_values(&group_key, &count, "n", &chain.rows, 2, &mut joins);
                joins.push_str(&format!("\n) AS {alias} ON {alias}.grp = {}", chain.outer));
                selected.push(format!("COALESCE({alias}.n, 0) AS {name}"));
            }
        }
    }
    let filter = generator.expr(rows, &scope, false)?;
    let mut sql = format!(
        "SELECT {}\nFROM {} AS {}",
        selected.join(",\n  "),
        generator.quote(&root.table),
        scope.alias()
    );
    sql.push_str(&joins);
    if filter != SqlExpr::Const(true) {
        sql.push_str("\nWHERE ");
        renderer.expr(&filter, 2, &mut sql);
    }
    sql.push_str(&format!("\nORDER BY {key}"));
    Ok(SqlQuery {
        sql,
        params: generator.params,
        integer_sums: generator.integer_sums,
    })
}
