//! [`RecordValue`]s of every record as one `SELECT`, shaped as a DBA would
//! write a scoring query:
//!
//! ```sql
//! SELECT t0.id AS id,
//!   CASE WHEN t0.source = ?1 THEN 1 ELSE 0 END AS v0,
//!   CASE WHEN p1.id IS NOT NULL AND p1.role = ?2 THEN 1 ELSE 0 END AS v1,
//!   COALESCE(c2.n2, 0) AS v2,
//!   COALESCE(c2.n3, 0) AS v3
//! FROM lead AS t0
//! LEFT JOIN contact AS p1 ON p1.id = t0.contact_id
//! LEFT JOIN (
//!   SELECT grp, SUM(x2) AS n2, SUM(x3) AS n3
//!   FROM (
//!     SELECT t1.contact_id AS grp,
//!       CASE WHEN t1.type = ?3 THEN 1 ELSE 0 END AS x2,
//!       CASE WHEN t1.type = ?4 THEN 1 ELSE 0 END AS x3
//!     FROM interaction AS t1
//!     WHERE t1.contact_id IS NOT NULL
//!   ) AS r
//!   WHERE x2 = 1 OR x3 = 1
//!   GROUP BY grp
//! ) AS c2 ON c2.grp = p1.id
//! WHERE p1.id IS NOT NULL
//! ```
//!
//! - **Parents are joined once.** Every parent that a condition reaches
//!   through to-one paths from the root (`contact.role`, `contact.account.
//!   industry`, `has contact`) is LEFT JOINed beside the root table, once
//!   per path, and the conditions read its columns: one index lookup per
//!   record, instead of one subquery per condition. A key is unique, so the
//!   joins add no rows; a missing parent is a row of NULLs, which its key
//!   being NULL tells apart (see `Generator::related_joined`).
//! - **Counts start where the parent is.** `count(contact.interaction(..))`
//!   from a lead counts the interactions of the lead's contact: the leading
//!   to-one hops (without filters) become joined parents, and the counting
//!   starts there, grouped by the child's foreign key alone.
//! - **One pass per child table.** Counts over the same one-hop chain from
//!   the same table (several rules over a contact's interactions) share one
//!   grouped pass with a conditional sum per count, where each would
//!   otherwise read the whole child table again. Only rows that some count
//!   wants are grouped.
//! - Records that reach nothing get 0 (`COALESCE`, the LEFT JOIN).
//!
//! A condition's `CASE WHEN` sees SQL's NULL where a positive atom meets a
//! missing value, and takes the `ELSE`: 0, exactly the plan's false.

use chrono::{DateTime, Utc};

use super::aggregate::Chain;
use super::generator::{column, entity, internal, Generator, Scope};
use super::tree::{Renderer, SqlExpr};
use super::{Dialect, SqlQuery};
use crate::error::Result;
use crate::plan::{Aggregate, Direction, Link, PlanExpr, RecordValue};
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
    let mut query = per_record_select(entity_name, rows, values, schema, dialect, now)?;
    query.sql.push_str("\nORDER BY id");
    Ok(query)
}

/// [`per_record_sql`] in no particular order: for a statement that stores
/// the values (`INSERT .. SELECT`), where ordering would only cost a sort or
/// make the database walk the key's index.
pub fn per_record_select(
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
        joined: false,
    };
    let key = format!(
        "{}.{}",
        scope.alias(),
        generator.quote(&column(root, &root.key)?)
    );
    let mut parents = ParentJoins::default();
    for expr in values
        .iter()
        .filter_map(|v| match v {
            RecordValue::Holds(e) => Some(e),
            RecordValue::Count(_) => None,
        })
        .chain([rows])
    {
        parents.reached_by(&mut generator, expr, &scope)?;
    }

    let mut selected = vec![format!("{key} AS id")];
    let mut counts: Vec<Count> = Vec::new();
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
                        let renderer = Renderer {
                            dialect,
                            text: &generator.text,
                        };
                        renderer.expr(&cond, 4, &mut text);
                        text.push_str(" THEN 1 ELSE 0 END");
                        text
                    }
                };
                selected.push(format!("{text} AS {name}"));
            }
            RecordValue::Count(aggregate) => {
                let (start, rest) = parents.count_start(&mut generator, aggregate, &scope)?;
                let mark = generator.params.len();
                let Some(chain) = generator.chain(&rest, &start)? else {
                    // A hop's filter is false: nothing is ever reached, and
                    // the parameters the other hops bound appear nowhere.
                    generator.params.truncate(mark);
                    selected.push(format!("0 AS {name}"));
                    continue;
                };
                let (group_key, count, _) = generator.value(&rest, &chain, start.next)?;
                let shareable = chain.rows.joins.is_empty() && !rest.fans_in();
                selected.push(String::new()); // filled in below, in place
                counts.push(Count {
                    value: i,
                    chain,
                    group_key,
                    count,
                    shareable,
                });
            }
        }
    }

    let mut joins = parents.sql;
    for group in group_counts(counts) {
        let alias = format!("c{}", group[0].value);
        let outer = group[0].chain.outer.clone();
        joins.push_str("\nLEFT JOIN (");
        if let [only] = group.as_slice() {
            let mut rows = only.chain.rows.clone();
            // Before the key's own test, which reads only the key.
            let fetches_rows = rows.filters_or_joins();
            if only.chain.key_nullable {
                let not_null = generator.atom(&[&only.chain.key, " IS NOT NULL"]);
                let filter = std::mem::replace(&mut rows.filter, SqlExpr::Const(true));
                rows.filter = SqlExpr::and(vec![filter, not_null]);
            }
            let n = format!("n{}", only.value);
            let renderer = Renderer {
                dialect,
                text: &generator.text,
            };
            renderer.grouped_values(
                &only.group_key,
                &only.count,
                &n,
                &rows,
                fetches_rows,
                2,
                &mut joins,
            );
        } else {
            let renderer = Renderer {
                dialect,
                text: &generator.text,
            };
            shared_pass(&renderer, &group, &mut joins);
        }
        joins.push_str(&format!("\n) AS {alias} ON {alias}.grp = {outer}"));
        for count in &group {
            selected[count.value + 1] = format!(
                "COALESCE({alias}.n{}, 0) AS {}",
                count.value,
                value_column(count.value)
            );
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
        let renderer = Renderer {
            dialect,
            text: &generator.text,
        };
        renderer.expr(&filter, 2, &mut sql);
    }
    Ok(SqlQuery {
        sql,
        params: generator.params,
        integer_sums: generator.integer_sums,
        settings: generator.settings,
    })
}

/// One count value, its chain built, before it is rendered.
struct Count<'a> {
    /// Its index among the values.
    value: usize,
    chain: Chain<'a>,
    group_key: String,
    /// `COUNT(*)` or `COUNT(DISTINCT ..)`.
    count: String,
    /// Whether it can share a grouped pass: one hop, each row one record.
    shareable: bool,
}

/// The counts in groups that share one grouped pass (same table, same
/// group key, same outer column), in the order of their first value.
fn group_counts(counts: Vec<Count<'_>>) -> Vec<Vec<Count<'_>>> {
    let mut groups: Vec<Vec<Count>> = Vec::new();
    for count in counts {
        let same = |other: &Count| {
            other.shareable
                && count.shareable
                && other.chain.rows.table == count.chain.rows.table
                && other.chain.rows.alias == count.chain.rows.alias
                && other.chain.key == count.chain.key
                && other.chain.outer == count.chain.outer
        };
        match groups.iter_mut().find(|g| same(&g[0])) {
            Some(group) => group.push(count),
            None => groups.push(vec![count]),
        }
    }
    groups
}

/// Several one-hop counts over the same table in one grouped pass: each
/// count's filter becomes a 0/1 column, summed per group, and only rows
/// that some count wants are grouped.
fn shared_pass(renderer: &Renderer, group: &[Count], out: &mut String) {
    let first = &group[0].chain;
    let mut flags = Vec::with_capacity(group.len());
    let mut sums = Vec::with_capacity(group.len());
    let mut wanted = Vec::with_capacity(group.len());
    for count in group {
        let x = format!("x{}", count.value);
        let mut flag = String::new();
        match &count.chain.rows.filter {
            SqlExpr::Const(true) => flag.push('1'),
            filter => {
                flag.push_str("CASE WHEN ");
                renderer.expr(filter, 8, &mut flag);
                flag.push_str(" THEN 1 ELSE 0 END");
            }
        }
        flags.push(format!("{flag} AS {x}"));
        sums.push(format!("SUM({x}) AS n{}", count.value));
        wanted.push(format!("{x} = 1"));
    }
    out.push_str(&format!("\n  SELECT grp, {}", sums.join(", ")));
    out.push_str(&format!(
        "\n  FROM (\n    SELECT {} AS grp,\n      {}\n    FROM {} AS {}",
        first.key,
        flags.join(",\n      "),
        first.rows.table,
        first.rows.alias
    ));
    if first.key_nullable {
        out.push_str(&format!("\n    WHERE {} IS NOT NULL", first.key));
    }
    out.push_str(&format!(
        "\n  ) AS r\n  WHERE {}\n  GROUP BY grp",
        wanted.join(" OR ")
    ));
}

/// The parents joined beside the root table, and their `LEFT JOIN`s.
#[derive(Default)]
struct ParentJoins {
    sql: String,
}

impl ParentJoins {
    /// Joins every parent that `expr` reaches from `scope` through to-one
    /// hops (inside `not`, `and`, `or` and the parents' own filters; not
    /// inside subqueries, which have tables of their own).
    fn reached_by<'a>(
        &mut self,
        generator: &mut Generator<'a>,
        expr: &PlanExpr,
        scope: &Scope<'a>,
    ) -> Result<()> {
        match expr {
            PlanExpr::Not(inner) => self.reached_by(generator, inner, scope),
            PlanExpr::And(items) | PlanExpr::Or(items) => items
                .iter()
                .try_for_each(|item| self.reached_by(generator, item, scope)),
            PlanExpr::Related(r) if r.link.direction == Direction::ToParent => {
                let parent = self.join(generator, &r.link, scope)?;
                self.reached_by(generator, &r.filter, &parent)
            }
            _ => Ok(()),
        }
    }

    /// Where a count over `aggregate` from `scope` starts: past its leading
    /// to-one hops without filters (joined here), as long as a hop remains.
    /// A record without that parent reaches nothing, and the parent's key
    /// (NULL then) meets no group.
    fn count_start<'a>(
        &mut self,
        generator: &mut Generator<'a>,
        aggregate: &Aggregate,
        scope: &Scope<'a>,
    ) -> Result<(Scope<'a>, Aggregate)> {
        let mut start = Scope { ..*scope };
        let mut skipped = 0;
        for hop in &aggregate.chain[..aggregate.chain.len().saturating_sub(1)] {
            if hop.link.direction != Direction::ToParent || hop.filter != PlanExpr::Const(true) {
                break;
            }
            start = self.join(generator, &hop.link, &start)?;
            skipped += 1;
        }
        let rest = Aggregate {
            chain: aggregate.chain[skipped..].to_vec(),
            ..aggregate.clone()
        };
        Ok((start, rest))
    }

    /// The scope of the parent `link` reaches from `from`, joined once.
    fn join<'a>(
        &mut self,
        generator: &mut Generator<'a>,
        link: &Link,
        from: &Scope<'a>,
    ) -> Result<Scope<'a>> {
        if let Some(joined) = generator.joined_parent(link, from) {
            return Ok(joined);
        }
        let (scope, clause) = generator.join_parent(link, from, false)?;
        self.sql.push_str(&clause);
        Ok(scope)
    }
}
