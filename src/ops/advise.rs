//! `segql advise`: the indexes, and the planner statistics, that a
//! database needs for the segments it runs. Reads the catalog (and counts
//! rows for the selectivity rule below); changes nothing.
//!
//! What the generated SQL searches, and so what is advised (README,
//! "Indexes for your segments"):
//! - every relationship a segment walks (`has`, a dotted path, an
//!   aggregate's chain): an index on the child's foreign key, which every
//!   `IN (SELECT fk ...)` and join probes;
//! - a `has` down to children with field tests: one index on the child's
//!   equality-tested fields, then at most one range-tested field, then the
//!   foreign key, e.g. `interaction (type, occurred_on, contact_id)`. The
//!   child subquery then reads only the index entries of the matching rows,
//!   which also hold the key it returns, instead of scanning the child
//!   table;
//! - a count (`has at least N`) or an aggregate, whose subquery groups the
//!   rows by the foreign key: the equality-tested fields, then the foreign
//!   key, then the range-tested and the aggregated field, e.g.
//!   `interaction (type, contact_id, occurred_on)`: the matching entries
//!   come in key order (no sort for the groups) and cover the subquery;
//! - a field test ANDed at the top of the segment's own filter, when it
//!   keeps at most [`SELECTIVE_SHARE`] of the table's rows (counted): the
//!   most selective such field. Above that share a scan reads less than a
//!   random fetch per matching row. Text searches (`contains`, `starts
//!   with`, `ends with`) are case-insensitive and match inside values, so no
//!   index serves them.
//!
//! An existing index whose leading columns are the advised ones (in order)
//! serves the same searches and is not advised again. `ANALYZE` is advised
//! when a table the segments read has no statistics, and on SQLite also
//! after new indexes (SQLite keeps no statistics of an index it has not
//! analyzed, and guesses it selective).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Backend, TableIndex};
use crate::error::{Error, Result};
use crate::plan::{CmpOp, Direction, Link, Plan, PlanExpr, Quantifier, Test};
use crate::schema::{Entity, Schema};
use crate::sql::{self, SqlOptions, SqlQuery};

/// The largest share of a table's rows a top-level field test of a segment
/// may keep for an index on the field to be advised (see the module docs).
pub const SELECTIVE_SHARE: f64 = 0.05;

/// At most this many tested fields lead a child index (before the key).
const MAX_FILTER_COLUMNS: usize = 3;

/// A segment to advise for: a name for the reasons and its plan.
#[derive(Clone, Debug)]
pub struct AdviseQuery {
    /// How the reasons name it: a library segment's name, `query 1`, ...
    pub name: String,
    pub plan: Plan,
}

/// What [`advise`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// Indexes to create, in the order of the tables in the schema.
    pub indexes: Vec<IndexAdvice>,
    /// Indexes the segments need that the database has already (an index
    /// whose leading columns are the needed ones), with the one that serves.
    pub existing: Vec<ServedNeed>,
    /// Why `ANALYZE` should run, if it should.
    pub analyze: Option<String>,
}

/// One index to create.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexAdvice {
    pub table: String,
    pub columns: Vec<String>,
    /// `table_col1_col2_idx`: the demo layout's names for its key indexes.
    pub name: String,
    /// `CREATE INDEX IF NOT EXISTS ...;` in the database's dialect.
    pub statement: String,
    pub reasons: Vec<Reason>,
}

/// A need the database serves already.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServedNeed {
    pub table: String,
    pub columns: Vec<String>,
    /// The existing index that serves it.
    pub index: String,
}

/// Which segment needs an index, for which part of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reason {
    pub query: String,
    /// The part of the segment, as segql writes it.
    pub predicate: String,
}

/// An index some part of a segment would search.
#[derive(Clone, Debug)]
struct Need {
    table: String,
    columns: Vec<String>,
    reason: Reason,
}

/// The indexes (and statistics) `queries` would use on `db`, whose tables
/// are `schema`'s. With no queries, the foreign keys of every relationship
/// of the schema: the searches of any `has`. Reads only: the catalog and,
/// for the selectivity rule, row counts (relative times at `now`).
///
/// Errors: [`Error::Database`] naming a table the schema maps and the
/// database lacks; [`Error::Unavailable`] where the database's catalog
/// cannot be read (Spark).
pub fn advise(
    db: &mut dyn Backend,
    schema: &Schema,
    queries: &[AdviseQuery],
    now: DateTime<Utc>,
) -> Result<Advice> {
    let mut needs = Vec::new();
    if queries.is_empty() {
        for rel in &schema.relationships {
            let (child, fk) = foreign_key(schema, &rel.child, &rel.child_field)?;
            needs.push(Need {
                table: child.table.clone(),
                columns: vec![fk],
                reason: Reason {
                    query: "every relationship".into(),
                    predicate: format!("has {} (from {})", rel.child, rel.parent),
                },
            });
        }
    }
    for query in queries {
        db.verify_layout(schema, &query.plan)?;
        let root = entity(schema, &query.plan.entity)?;
        let mut walk = Walk {
            schema,
            query: &query.name,
            needs: &mut needs,
        };
        walk.expr(&query.plan.filter)?;
        if let Some(need) = selective_root_field(db, schema, root, query, now)? {
            needs.push(need);
        }
    }
    collect(db, schema, needs)
}

/// Turns needs into advice: merged per index, checked against the catalog.
fn collect(db: &mut dyn Backend, schema: &Schema, needs: Vec<Need>) -> Result<Advice> {
    // (table, columns) -> reasons, in the schema's table order.
    let order = |table: &str| schema.entities.iter().position(|e| e.table == table);
    let mut merged: BTreeMap<(Option<usize>, String, Vec<String>), Vec<Reason>> = BTreeMap::new();
    for need in needs {
        let reasons = merged
            .entry((order(&need.table), need.table, need.columns))
            .or_default();
        if !reasons.contains(&need.reason) {
            reasons.push(need.reason);
        }
    }
    // An index that another needed one starts with is served by it.
    let keys: Vec<(String, Vec<String>)> = merged
        .keys()
        .map(|(_, table, columns)| (table.clone(), columns.clone()))
        .collect();
    let mut advice = Advice {
        indexes: Vec::new(),
        existing: Vec::new(),
        analyze: None,
    };
    let mut inherited: BTreeMap<(String, Vec<String>), Vec<Reason>> = BTreeMap::new();
    let mut catalog: BTreeMap<String, Vec<TableIndex>> = BTreeMap::new();
    let mut unanalyzed = Vec::new();
    let dialect = db.dialect();
    for ((_, table, columns), reasons) in merged {
        if !catalog.contains_key(&table) {
            catalog.insert(table.clone(), db.indexes(&table)?);
            if !db.has_statistics(&table)? {
                unanalyzed.push(table.clone());
            }
        }
        if let Some(index) = catalog[&table].iter().find(|i| i.starts_with(&columns)) {
            advice.existing.push(ServedNeed {
                table,
                columns,
                index: index.name.clone(),
            });
            continue;
        }
        // The longest needed index that starts with these columns serves
        // this need too, and takes its reasons (it comes later: the map
        // orders a prefix before its extensions).
        let longer = keys
            .iter()
            .filter(|(t, c)| *t == table && c.len() > columns.len() && c.starts_with(&columns))
            .max_by_key(|(_, c)| c.len());
        if let Some(longer) = longer {
            inherited.entry(longer.clone()).or_default().extend(reasons);
            continue;
        }
        let mut reasons = reasons;
        for reason in inherited
            .remove(&(table.clone(), columns.clone()))
            .unwrap_or_default()
        {
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        let name = format!("{table}_{}_idx", columns.join("_"));
        let quoted: Vec<String> = columns.iter().map(|c| dialect.quote_ident(c)).collect();
        let statement = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({});",
            dialect.quote_ident(&name),
            dialect.quote_ident(&table),
            quoted.join(", ")
        );
        reasons.sort();
        advice.indexes.push(IndexAdvice {
            table,
            columns,
            name,
            statement,
            reasons,
        });
    }
    advice.analyze = if !unanalyzed.is_empty() {
        Some(format!(
            "the query planner has no statistics on {}",
            unanalyzed.join(", ")
        ))
    } else if !advice.indexes.is_empty() && dialect.name() == "sqlite" {
        Some("SQLite has no statistics on new indexes until ANALYZE runs".into())
    } else {
        None
    };
    Ok(advice)
}

/// The walk of one segment's plan, collecting what its subqueries search.
struct Walk<'a> {
    schema: &'a Schema,
    query: &'a str,
    needs: &'a mut Vec<Need>,
}

impl Walk<'_> {
    fn expr(&mut self, expr: &PlanExpr) -> Result<()> {
        match expr {
            PlanExpr::Const(_) | PlanExpr::Field(_) => Ok(()),
            PlanExpr::Not(inner) => self.expr(inner),
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                items.iter().try_for_each(|item| self.expr(item))
            }
            PlanExpr::Segment(segment) => self.expr(&segment.filter),
            PlanExpr::Related(related) => {
                // `has`/`has no` test membership; a count groups the rows.
                let grouped = !matches!(related.quantifier, Quantifier::Any | Quantifier::No);
                let shape = Shape {
                    grouped,
                    aggregated: None,
                };
                self.hop(&related.link, &related.filter, shape, &expr.to_string())?;
                self.expr(&related.filter)
            }
            PlanExpr::Aggregate(test) => {
                let aggregate = &test.aggregate;
                let predicate = aggregate.to_string();
                for (i, hop) in aggregate.chain.iter().enumerate() {
                    let last = i + 1 == aggregate.chain.len();
                    let aggregated = match &aggregate.field {
                        Some(field) if last => Some(sql::column(
                            entity(self.schema, &field.entity)?,
                            &field.field,
                        )?),
                        _ => None,
                    };
                    let shape = Shape {
                        grouped: true,
                        aggregated,
                    };
                    self.hop(&hop.link, &hop.filter, shape, &predicate)?;
                    self.expr(&hop.filter)?;
                }
                Ok(())
            }
        }
    }

    /// The needs of one hop: the foreign key, and, when the hop goes down
    /// to children, an index of the child's tested fields and the key.
    fn hop(&mut self, link: &Link, filter: &PlanExpr, shape: Shape, predicate: &str) -> Result<()> {
        let rel = self
            .schema
            .relationships
            .iter()
            .find(|r| r.name == link.relationship)
            .ok_or_else(|| internal(format!("no relationship {}", link.relationship)))?;
        let (child, fk) = foreign_key(self.schema, &rel.child, &rel.child_field)?;
        let reason = Reason {
            query: self.query.to_string(),
            predicate: predicate.to_string(),
        };
        self.needs.push(Need {
            table: child.table.clone(),
            columns: vec![fk.clone()],
            reason: reason.clone(),
        });
        if link.direction == Direction::ToChildren {
            let (mut columns, range) = searched_columns(child, filter)?;
            let mut after_key: Vec<String> = range.into_iter().chain(shape.aggregated).collect();
            after_key.dedup();
            after_key.retain(|c| !columns.contains(c) && *c != fk);
            if !columns.is_empty() || !after_key.is_empty() {
                if shape.grouped {
                    // Equalities, then the key: the matching entries come in
                    // key order, so the groups need no sort, and the range
                    // and aggregated fields after it make the index cover
                    // the subquery.
                    columns.push(fk);
                    columns.extend(after_key);
                } else {
                    // Equalities and the range narrow the search; the key
                    // last makes the index cover `SELECT fk`.
                    columns.extend(after_key);
                    columns.push(fk);
                }
                self.needs.push(Need {
                    table: child.table.clone(),
                    columns,
                    reason,
                });
            }
        }
        Ok(())
    }
}

/// How a hop's subquery reads its rows.
struct Shape {
    /// Grouped by the foreign key (a count or an aggregate), not a
    /// membership test.
    grouped: bool,
    /// The column an aggregate reads on this hop's rows.
    aggregated: Option<String>,
}

/// The columns of `entity` an index can search for `filter`: the fields
/// it tests for equality (`=`, `in`) at its top level (at most
/// [`MAX_FILTER_COLUMNS`]), and the first one it tests with a range.
fn searched_columns(entity: &Entity, filter: &PlanExpr) -> Result<(Vec<String>, Option<String>)> {
    let mut equal = Vec::new();
    let mut range = None;
    for item in conjuncts(filter) {
        let PlanExpr::Field(test) = item else {
            continue;
        };
        if test.field.entity != entity.name {
            continue;
        }
        let column = sql::column(entity, &test.field.field)?;
        match &test.test {
            Test::Compare { op: CmpOp::Eq, .. } | Test::InList(_) => {
                if !equal.contains(&column) {
                    equal.push(column);
                }
            }
            Test::Compare { .. } | Test::Between { .. } => {
                range.get_or_insert(column);
            }
            Test::IsNotNull | Test::Text { .. } => {}
        }
    }
    equal.truncate(MAX_FILTER_COLUMNS);
    let range = range.filter(|column| !equal.contains(column));
    Ok((equal, range))
}

/// The items of a top-level `and`, or the expression itself.
fn conjuncts(expr: &PlanExpr) -> &[PlanExpr] {
    match expr {
        PlanExpr::And(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// The most selective field test ANDed at the top of the segment's filter,
/// as a need, when it keeps at most [`SELECTIVE_SHARE`] of the rows.
fn selective_root_field(
    db: &mut dyn Backend,
    schema: &Schema,
    root: &Entity,
    query: &AdviseQuery,
    now: DateTime<Utc>,
) -> Result<Option<Need>> {
    let mut best: Option<(f64, String, &PlanExpr)> = None;
    let mut total = None;
    for item in conjuncts(&query.plan.filter) {
        let PlanExpr::Field(test) = item else {
            continue;
        };
        if matches!(test.test, Test::IsNotNull | Test::Text { .. })
            || test.field.entity != root.name
        {
            continue;
        }
        let column = sql::column(root, &test.field.field)?;
        let total = match total {
            Some(total) => total,
            None => *total.insert(count(db, schema, &root.name, PlanExpr::Const(true), now)?),
        };
        if total == 0 {
            return Ok(None);
        }
        let share = count(db, schema, &root.name, item.clone(), now)? as f64 / total as f64;
        if share <= SELECTIVE_SHARE && best.as_ref().is_none_or(|(s, ..)| share < *s) {
            best = Some((share, column, item));
        }
    }
    Ok(best.map(|(share, column, item)| Need {
        table: root.table.clone(),
        columns: vec![column],
        reason: Reason {
            query: query.name.clone(),
            predicate: format!("{item} (keeps {:.2}% of {})", share * 100.0, root.name),
        },
    }))
}

/// How many records of `entity` pass `filter`, counted by the database.
fn count(
    db: &mut dyn Backend,
    schema: &Schema,
    entity: &str,
    filter: PlanExpr,
    now: DateTime<Utc>,
) -> Result<u64> {
    let plan = Plan {
        entity: entity.to_string(),
        filter,
    };
    let options = SqlOptions::new(true, now);
    let query: SqlQuery = sql::to_sql(&plan, schema, db.dialect(), &options)?;
    db.query_count(&query)
}

fn entity<'a>(schema: &'a Schema, name: &str) -> Result<&'a Entity> {
    schema
        .entity(name)
        .ok_or_else(|| internal(format!("no entity {name}")))
}

/// The child entity and the column of its foreign-key field.
fn foreign_key<'a>(schema: &'a Schema, child: &str, field: &str) -> Result<(&'a Entity, String)> {
    let child = entity(schema, child)?;
    let column = sql::column(child, field)?;
    Ok((child, column))
}

fn internal(message: String) -> Error {
    Error::Internal { message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::SqliteBackend;
    use crate::schema::crm_schema;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-15T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("a date-time")
    }

    /// The default layout's tables, without indexes but the keys', and
    /// `contacts` contacts of which `french` live in France.
    fn database(contacts: usize, french: usize) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::demo::create_tables(&mut SqliteBackend::new(&conn), &crm_schema()).unwrap();
        for i in 0..contacts {
            let country = if i < french { "France" } else { "Spain" };
            conn.execute(
                "INSERT INTO contact (id, country) VALUES (?1, ?2)",
                (format!("{i:08}-0000-4000-8000-000000000000"), country),
            )
            .unwrap();
        }
        conn
    }

    fn advice(conn: &rusqlite::Connection, segments: &[&str]) -> Advice {
        let schema = crm_schema();
        let queries: Vec<AdviseQuery> = segments
            .iter()
            .enumerate()
            .map(|(i, text)| AdviseQuery {
                name: format!("q{}", i + 1),
                plan: crate::plan(text, &crate::Options::new(&schema)).unwrap(),
            })
            .collect();
        advise(&mut SqliteBackend::new(conn), &schema, &queries, now()).unwrap()
    }

    fn advised(advice: &Advice) -> Vec<String> {
        advice
            .indexes
            .iter()
            .map(|i| format!("{} ({})", i.table, i.columns.join(", ")))
            .collect()
    }

    #[test]
    fn a_child_index_leads_with_equalities_then_one_range_then_the_key() {
        let conn = database(0, 0);
        let a = advice(
            &conn,
            &[
                r#"contact where has interaction(occurred_on >= now - 30d and type = "Email Opened" and detail contains "x" and occurred_on < now)"#,
            ],
        );
        assert_eq!(
            advised(&a),
            [
                "interaction (contact_id)",
                "interaction (type, occurred_on, contact_id)"
            ]
        );
        assert_eq!(a.indexes[1].reasons[0].query, "q1");
        assert!(a.analyze.is_some());
    }

    #[test]
    fn an_index_whose_leading_columns_match_serves() {
        let conn = database(0, 0);
        conn.execute_batch(
            "CREATE INDEX by_type ON interaction (type, contact_id, occurred_on);
             CREATE INDEX by_contact ON interaction (contact_id, id);",
        )
        .unwrap();
        let a = advice(
            &conn,
            &[r#"contact where has interaction(type = "Email Opened")"#],
        );
        assert!(a.indexes.is_empty(), "{:?}", a.indexes);
        let served: Vec<&str> = a.existing.iter().map(|s| s.index.as_str()).collect();
        assert_eq!(served, ["by_contact", "by_type"]);
    }

    #[test]
    fn parents_are_reached_through_the_childs_key_and_aggregates_walk_every_hop() {
        let conn = database(0, 0);
        let a = advice(
            &conn,
            &[
                r#"lead where count(contact.interaction(type = "Email Clicked")) >= 2 and account.industry = "Retail""#,
            ],
        );
        assert_eq!(
            advised(&a),
            [
                "lead (account_id)",
                "lead (contact_id)",
                "interaction (contact_id)",
                "interaction (type, contact_id)"
            ]
        );
        // A count with a window and an aggregated field: equalities, the
        // key, then the rest.
        let grouped = advice(
            &conn,
            &[
                r#"contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#,
                r#"contact where max(lead(status = "Open").score) > 50"#,
            ],
        );
        assert_eq!(
            advised(&grouped),
            [
                "lead (contact_id)",
                "lead (status, contact_id, score)",
                "interaction (contact_id)",
                "interaction (type, contact_id, occurred_on)"
            ]
        );
        // `has no interaction(type = ..)` needs (type, contact_id), which the
        // longer index serves: one index, both reasons.
        let both = advice(
            &conn,
            &[
                r#"contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)"#,
                r#"contact where has no interaction(type = "Email Clicked")"#,
            ],
        );
        assert_eq!(
            advised(&both),
            [
                "interaction (contact_id)",
                "interaction (type, contact_id, occurred_on)"
            ]
        );
        let reasons: Vec<&str> = both.indexes[1]
            .reasons
            .iter()
            .map(|r| r.query.as_str())
            .collect();
        assert_eq!(reasons, ["q1", "q2"]);
    }

    #[test]
    fn a_root_field_is_indexed_only_when_selective() {
        let conn = database(200, 4);
        conn.execute_batch("ANALYZE").unwrap();
        let rare = advice(
            &conn,
            &[r#"contact where country = "France" and email contains "a""#],
        );
        assert_eq!(advised(&rare), ["contact (country)"]);
        assert!(rare.indexes[0].reasons[0].predicate.contains("keeps 2.00%"));
        let common = advice(&conn, &[r#"contact where country = "Spain""#]);
        assert!(common.indexes.is_empty(), "{:?}", common.indexes);
        // Statistics exist: only the new index asks for ANALYZE.
        assert!(common.analyze.is_none(), "{:?}", common.analyze);
        // No index serves a text search.
        let text = advice(&conn, &[r#"contact where email ends with "@x.org""#]);
        assert!(text.indexes.is_empty(), "{:?}", text.indexes);
    }

    #[test]
    fn without_queries_every_foreign_key() {
        let conn = database(0, 0);
        let a = advice(&conn, &[]);
        assert_eq!(a.indexes.len(), 5, "{:?}", a.indexes);
        assert_eq!(
            a.indexes[0].statement,
            "CREATE INDEX IF NOT EXISTS contact_account_id_idx ON contact (account_id);"
        );
        assert!(a.analyze.as_deref().unwrap().contains("no statistics"));
    }

    #[test]
    fn a_missing_table_is_named() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let schema = crm_schema();
        let plan = crate::plan("contact where has lead", &crate::Options::new(&schema)).unwrap();
        let queries = [AdviseQuery {
            name: "q".into(),
            plan,
        }];
        let error = advise(&mut SqliteBackend::new(&conn), &schema, &queries, now()).unwrap_err();
        assert!(error.to_string().contains("contact"), "{error}");
    }
}
