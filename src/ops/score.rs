//! `score` (SPEC 6): every scoring model of a file scores every lead it
//! scores, and the results are written in one transaction.
//!
//! The scores are computed by the database (one statement per model, see
//! [`crate::scoring::score_sql`]) or by the memory engine, into the
//! temporary table `segql_scores(lead_id, model, score, grade,
//! sales_ready)`. From there the writes are the same for both, set-based:
//! one upsert of the `lead_score` rows whose values differ, and one update
//! of the leads whose highest score or sales-ready flag differs (gathered
//! first, with their previous flag, into `segql_lead_changes`). Rows that
//! do not change are not written, so scoring the same data at the same
//! reference time twice writes nothing the second time.
//!
//! The report costs few passes over the data: the model reports are one
//! grouping of the scores, newly and no longer sales-ready are counted
//! among the changed leads, and only the two skipped groups are counted on
//! `lead` itself.

use std::collections::BTreeMap;

use serde::Serialize;

use super::checks::verify_columns;
use super::{ScoreEngine, ScoreOptions};
use crate::db::{Param, Transaction};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::schema::{Entity, FieldType, Schema};
use crate::scoring::{score_sql, LeadGroups, LeadScore, Model};
use crate::sql::{sqlite, to_sql, SqlOptions, SqlParam};

/// The table of scores, one row per scored lead and model (SPEC 6).
pub const LEAD_SCORE_TABLE: &str = "lead_score";
const SCORES: &str = "segql_scores";
/// The scored leads whose `score` or `sales_ready` changes.
const CHANGES: &str = "segql_lead_changes";
const OPERATION: &str = "score";
/// Rows per `INSERT` when the memory engine's scores are written.
const ROWS_PER_INSERT: usize = 500;

/// What a scoring run did (or, with `dry_run`, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScoreReport {
    /// The report's format version, for tools.
    pub format: u32,
    pub dry_run: bool,
    /// Leads scored (by every model).
    pub scored: u64,
    /// Leads left alone for want of a contact (`link-orphans` first).
    pub skipped_no_contact: u64,
    /// Leads left alone because Qualified or Disqualified.
    pub skipped_closed: u64,
    /// Scored leads now sales-ready that were not before (missing = not).
    pub newly_sales_ready: u64,
    /// Scored leads sales-ready before and not now.
    pub no_longer_sales_ready: u64,
    /// `lead_score` rows written (new, or with a changed value).
    pub rows_written: u64,
    /// Leads whose `score` or `sales_ready` changed.
    pub leads_updated: u64,
    pub models: Vec<ModelReport>,
}

/// One model's results over the scored leads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelReport {
    pub name: String,
    /// Leads this model says are sales-ready.
    pub sales_ready: u64,
    /// Leads per grade, in the model's order, then those with no grade.
    pub grades: Vec<GradeCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GradeCount {
    /// `None`: the leads no grade's minimum reaches.
    pub grade: Option<String>,
    pub leads: u64,
}

/// The scores computed outside the database (by the memory engine), per
/// model in the order of `models`.
type Computed = Vec<Vec<LeadScore>>;

pub(crate) fn run(
    conn: &mut dyn Transaction,
    schema: &Schema,
    models: &[Model],
    options: &ScoreOptions,
) -> Result<ScoreReport> {
    let Some(first) = models.first() else {
        return Err(Error::InvalidValue {
            message: "the model file has no model".into(),
            span: Default::default(),
        });
    };
    let lead = schema
        .entity(&first.entity)
        .ok_or_else(|| Error::Internal {
            message: format!("model entity '{}' is not in the schema", first.entity),
        })?;
    if let Some(other) = models
        .iter()
        .find(|m| !m.entity.eq_ignore_ascii_case(&lead.name))
    {
        return Err(Error::InvalidValue {
            message: format!(
                "all models of a file score one entity: '{}' is on {}, '{}' on {}",
                first.name, first.entity, other.name, other.entity
            ),
            span: Default::default(),
        });
    }
    let columns = LeadColumns::of(lead)?;
    let groups = LeadGroups::of(schema, &lead.name)?;
    let d = conn.dialect();
    let lead_table = d.quote_ident(&lead.table);
    // The lock is the transaction's first statement: on PostgreSQL its
    // snapshot is taken after it (see `Transaction::lock_for_writing`).
    conn.lock_for_writing(&[&lead_table])?;
    verify_columns(
        conn,
        OPERATION,
        &lead.table,
        &[&columns.key, &columns.score, &columns.sales_ready],
    )?;
    for model in models {
        let plan = crate::run::reading_plan(
            &lead.name,
            [&groups.scored],
            &crate::scoring::rule_values(model),
        );
        conn.verify_layout(schema, &plan)?;
    }
    // Loaded here, with the write lock held, not before the transaction: a
    // writer that commits while this run waits for the lock must be in the
    // data the memory engine scores, as it is in what the SQL engine reads.
    let computed = match options.engine {
        ScoreEngine::Database => None,
        ScoreEngine::Memory => Some(score_in_memory(conn, schema, models, &groups, options)?),
    };
    let computed = computed.as_ref();
    create_lead_score(conn, lead)?;

    // The new scores, from the database's own statements or the memory engine's.
    conn.execute(
        &format!("DROP TABLE IF EXISTS {}", d.temp_table(SCORES)),
        &[],
    )?;
    conn.execute(
        &format!(
            "CREATE TEMP TABLE {SCORES} (lead_id {uuid} NOT NULL, model TEXT NOT NULL, \
             score BIGINT NOT NULL, grade TEXT, sales_ready INTEGER NOT NULL)",
            uuid = d.column_type(&FieldType::Uuid)
        ),
        &[],
    )?;
    let scores = d.temp_table(SCORES);
    for (i, model) in models.iter().enumerate() {
        match computed.and_then(|c| c.get(i)) {
            Some(rows) => insert_scores(conn, &model.name, rows)?,
            None => {
                let mut query = score_sql(model, &groups.scored, schema, d, options.now)?;
                query.params.push(SqlParam::Text(model.name.clone()));
                let name = d.text_param(query.params.len(), &FieldType::Text);
                conn.execute_query(
                    &format!(
                        "INSERT INTO {scores} (lead_id, model, score, grade, sales_ready) \
                         SELECT id, {name}, score, grade, sales_ready FROM ({}) AS s",
                        query.sql
                    ),
                    &query,
                )?;
            }
        }
    }

    analyze(conn, &scores)?;
    let model_reports = model_reports(conn, models)?;
    // Every model scores the same leads, so any model's rows count them.
    let scored = model_reports
        .first()
        .map_or(0, |m| m.grades.iter().map(|g| g.leads).sum());
    let mut report = ScoreReport {
        format: 1,
        dry_run: options.dry_run,
        scored,
        skipped_no_contact: count_plan(conn, schema, &lead.name, &groups.without_contact, options)?,
        skipped_closed: count_plan(conn, schema, &lead.name, &groups.closed, options)?,
        newly_sales_ready: 0,
        no_longer_sales_ready: 0,
        rows_written: 0,
        leads_updated: 0,
        models: model_reports,
    };

    // What the leads' own fields become: the highest score of any model,
    // sales-ready when any model says so. Only the leads where that differs
    // from what they hold are kept, with their previous flag: every lead
    // that becomes or stops being sales-ready is among them, so the report
    // counts it there, and the update joins only them.
    let (score_col, ready_col, key_col) = (
        d.quote_ident(&columns.score),
        d.quote_ident(&columns.sales_ready),
        d.quote_ident(&columns.key),
    );
    let changes = d.temp_table(CHANGES);
    conn.execute(&format!("DROP TABLE IF EXISTS {changes}"), &[])?;
    conn.execute(
        &d.create_temp_as(
            CHANGES,
            &format!(
                "SELECT x.lead_id, x.score, x.ready, COALESCE(l.{ready_col}, FALSE) = TRUE AS was_ready \
                 FROM (SELECT lead_id, MAX(score) AS score, MAX(sales_ready) AS ready \
                 FROM {scores} GROUP BY lead_id) AS x \
                 JOIN {lead_table} AS l ON l.{key_col} = x.lead_id WHERE {} OR {}",
                d.null_safe_not_equal(&format!("l.{score_col}"), "x.score"),
                d.null_safe_not_equal(&format!("l.{ready_col}"), "(x.ready = 1)"),
            ),
        ),
        &[],
    )?;
    analyze(conn, &changes)?;
    let counts = conn.query_text(
        &format!(
            "SELECT CAST(COUNT(CASE WHEN ready = 1 AND NOT was_ready THEN 1 END) AS TEXT), \
             CAST(COUNT(CASE WHEN ready = 0 AND was_ready THEN 1 END) AS TEXT) FROM {changes}"
        ),
        &[],
    )?;
    let count = |i: usize| -> Result<u64> {
        counts
            .first()
            .and_then(|row| row.get(i).cloned().flatten())
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| Error::Internal {
                message: format!("no count {i} from {changes}"),
            })
    };
    report.newly_sales_ready = count(0)?;
    report.no_longer_sales_ready = count(1)?;

    let table = d.quote_ident(LEAD_SCORE_TABLE);
    let now = options.now.format(sqlite::DATETIME_FORMAT).to_string();
    report.rows_written = conn.execute(
        &format!(
            "INSERT INTO {table} (lead_id, model, score, grade, sales_ready, scored_on) \
             SELECT n.lead_id, n.model, n.score, n.grade, n.sales_ready = 1, {now} \
             FROM {scores} AS n LEFT JOIN {table} AS o ON o.lead_id = n.lead_id AND o.model = n.model \
             WHERE o.lead_id IS NULL OR o.score <> n.score OR {grade_differs} \
             OR (o.sales_ready = TRUE) <> (n.sales_ready = 1) \
             ON CONFLICT (lead_id, model) DO UPDATE SET score = excluded.score, \
             grade = excluded.grade, sales_ready = excluded.sales_ready, scored_on = excluded.scored_on",
            now = d.text_param(1, &FieldType::DateTime),
            grade_differs = d.null_safe_not_equal("o.grade", "n.grade"),
        ),
        &[Param::Text(now)],
    )?;
    report.leads_updated = conn.execute(
        &format!(
            "UPDATE {lead_table} SET {score_col} = c.score, {ready_col} = (c.ready = 1) \
             FROM {changes} AS c WHERE {lead_table}.{key_col} = c.lead_id"
        ),
        &[],
    )?;
    conn.execute(&format!("DROP TABLE IF EXISTS {changes}"), &[])?;
    conn.execute(&format!("DROP TABLE IF EXISTS {scores}"), &[])?;
    Ok(report)
}

/// The memory engine's scores of every model, from one store holding what
/// all of them read, loaded inside the transaction.
fn score_in_memory(
    conn: &mut dyn Transaction,
    schema: &Schema,
    models: &[Model],
    groups: &LeadGroups,
    options: &ScoreOptions,
) -> Result<Computed> {
    let Some(first) = models.first() else {
        return Ok(Vec::new());
    };
    let values: Vec<_> = models
        .iter()
        .flat_map(crate::scoring::rule_values)
        .collect();
    let reads = crate::run::reading_plan(
        &first.entity,
        [&groups.scored, &groups.without_contact, &groups.closed],
        &values,
    );
    let store = conn.load_store(schema, Some(&reads))?;
    models
        .iter()
        .map(|model| {
            let values = crate::eval::per_record(
                &model.entity,
                &groups.scored,
                &crate::scoring::rule_values(model),
                &store,
                options.now,
            )?;
            Ok(crate::scoring::scores_from_values(model, &values))
        })
        .collect()
}

/// The lead entity's columns scoring reads and writes.
struct LeadColumns {
    key: String,
    score: String,
    sales_ready: String,
}

impl LeadColumns {
    fn of(lead: &Entity) -> Result<LeadColumns> {
        let column = |name: &str| {
            lead.field(name)
                .map(|f| f.column.clone())
                .ok_or_else(|| Error::Schema {
                    message: format!("scoring needs the field {}.{name}", lead.name),
                })
        };
        Ok(LeadColumns {
            key: column(&lead.key)?,
            score: column(crate::scoring::SCORE_FIELD)?,
            sales_ready: column(crate::scoring::SALES_READY_FIELD)?,
        })
    }
}

/// `lead_score`, created when missing (SPEC 6), and checked when present.
fn create_lead_score(conn: &mut dyn Transaction, lead: &Entity) -> Result<()> {
    let d = conn.dialect();
    let key_type = lead
        .key_field()
        .map(|f| d.column_type(&f.ty))
        .unwrap_or_else(|| d.column_type(&FieldType::Uuid));
    conn.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (lead_id {key_type} NOT NULL, model {text} NOT NULL, \
             score {int} NOT NULL, grade {text}, sales_ready {boolean} NOT NULL, \
             scored_on {datetime} NOT NULL, PRIMARY KEY (lead_id, model))",
            table = d.quote_ident(LEAD_SCORE_TABLE),
            text = d.column_type(&FieldType::Text),
            int = d.column_type(&FieldType::Integer),
            boolean = d.column_type(&FieldType::Bool),
            datetime = d.column_type(&FieldType::DateTime),
        ),
        &[],
    )?;
    verify_columns(
        conn,
        OPERATION,
        LEAD_SCORE_TABLE,
        &[
            "lead_id",
            "model",
            "score",
            "grade",
            "sales_ready",
            "scored_on",
        ],
    )
}

/// Writes the memory engine's scores of one model into `segql_scores`, a
/// few hundred rows per statement.
fn insert_scores(conn: &mut dyn Transaction, model: &str, rows: &[LeadScore]) -> Result<()> {
    let d = conn.dialect();
    let table = d.temp_table(SCORES);
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len());
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for row in chunk {
            let n = params.len();
            values.push(format!(
                "({}, {}, {}, {}, {})",
                d.text_param(n + 1, &FieldType::Uuid),
                d.text_param(n + 2, &FieldType::Text),
                d.text_param(n + 3, &FieldType::Integer),
                d.text_param(n + 4, &FieldType::Text),
                d.text_param(n + 5, &FieldType::Integer),
            ));
            params.push(Param::Text(row.lead_id.hyphenated().to_string()));
            params.push(Param::Text(model.to_string()));
            params.push(Param::Int(row.score));
            params.push(row.grade.clone().map_or(Param::Null, Param::Text));
            params.push(Param::Int(i64::from(row.sales_ready)));
        }
        conn.execute(
            &format!(
                "INSERT INTO {table} (lead_id, model, score, grade, sales_ready) VALUES {}",
                values.join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

/// How many leads `filter` selects, counted by the database (no ids
/// leave it or land in a table).
fn count_plan(
    conn: &mut dyn Transaction,
    schema: &Schema,
    entity: &str,
    filter: &crate::plan::PlanExpr,
    options: &ScoreOptions,
) -> Result<u64> {
    let plan = Plan {
        entity: entity.to_string(),
        filter: filter.clone(),
    };
    let options = SqlOptions::new(true, options.now);
    let query = to_sql(&plan, schema, conn.dialect(), &options)?;
    conn.query_count(&query)
}

/// Gathers the planner statistics of a filled temporary table, where the
/// database needs them (see [`crate::sql::Dialect::analyze_temp_table`]).
fn analyze(conn: &mut dyn Transaction, table: &str) -> Result<()> {
    if let Some(sql) = conn.dialect().analyze_temp_table(table) {
        conn.execute(&sql, &[])?;
    }
    Ok(())
}

/// Every model's report, from one pass over the scores (models have
/// distinct names: the checker refuses a second model of one name).
fn model_reports(conn: &mut dyn Transaction, models: &[Model]) -> Result<Vec<ModelReport>> {
    let rows = conn.query_text(
        &format!(
            "SELECT model, grade, CAST(COUNT(*) AS TEXT), CAST(SUM(sales_ready) AS TEXT) \
             FROM {} GROUP BY model, grade",
            conn.dialect().temp_table(SCORES)
        ),
        &[],
    )?;
    // (model, grade) -> (leads, sales-ready leads)
    let mut counts: BTreeMap<(String, Option<String>), (u64, u64)> = BTreeMap::new();
    for row in rows {
        let text = |i: usize| row.get(i).cloned().flatten();
        let number = |i: usize| -> u64 { text(i).and_then(|t| t.parse().ok()).unwrap_or(0) };
        let model = text(0).ok_or_else(|| Error::Internal {
            message: "a score without its model".into(),
        })?;
        counts.insert((model, text(1)), (number(2), number(3)));
    }
    Ok(models
        .iter()
        .map(|model| {
            let mut take = |grade: Option<&str>| {
                counts
                    .remove(&(model.name.clone(), grade.map(str::to_string)))
                    .unwrap_or((0, 0))
            };
            let mut sales_ready = 0;
            let mut grades: Vec<GradeCount> = model
                .grades
                .iter()
                .map(|g| {
                    let (leads, ready) = take(Some(&g.label));
                    sales_ready += ready;
                    GradeCount {
                        grade: Some(g.label.clone()),
                        leads,
                    }
                })
                .collect();
            let (leads, ready) = take(None);
            grades.push(GradeCount { grade: None, leads });
            ModelReport {
                name: model.name.clone(),
                sales_ready: sales_ready + ready,
                grades,
            }
        })
        .collect())
}
