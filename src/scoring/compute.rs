//! The scores of the leads a model scores, computed two ways with one
//! meaning: from per-record values in memory ([`scores_from_values`], the
//! arithmetic of [`Model::score_of`] and friends), or by one SQL statement
//! ([`score_sql`]) that does the same arithmetic in the database, over the
//! per-record `SELECT` of [`crate::sql::per_record_sql`]:
//!
//! ```sql
//! SELECT id, score,
//!   CASE WHEN score >= 40 THEN ?7 WHEN score >= 25 THEN ?8 END AS grade,
//!   CASE WHEN score >= 40 THEN 1 ELSE 0 END AS sales_ready
//! FROM (SELECT id, CASE WHEN total < 0 THEN 0 WHEN total > 100 THEN 100
//!                  ELSE total END AS score
//!       FROM (SELECT id, v0 * 20 + CASE WHEN v1 * 10 > 20 THEN 20
//!                                  ELSE v1 * 10 END - v2 * 30 AS total
//!             FROM (<per-record values>) AS v) AS t) AS s
//! ```
//!
//! The checker bounds points and rules ([`super::MAX_RULE_POINTS`],
//! [`super::MAX_RULES`]) so that no sum leaves 64 bits: the database's
//! integers and the memory engine's saturating ones never differ.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Model, RuleKind};
use crate::error::{Error, Result};
use crate::plan::{PlanExpr, RecordValue, RecordValues};
use crate::schema::{FieldType, Schema};
use crate::sql::{per_record_select, value_column, Dialect, SqlParam, SqlQuery};

/// One lead's result under one model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeadScore {
    pub lead_id: Uuid,
    pub score: i64,
    pub grade: Option<String>,
    pub sales_ready: bool,
}

/// The three groups of leads SPEC 6 tells apart, as plans on the lead
/// entity.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadGroups {
    /// Scored: the contact exists and the status is neither Qualified nor
    /// Disqualified (Open, or missing).
    pub scored: PlanExpr,
    /// Not scored for want of a contact (`link-orphans` gives them one).
    pub without_contact: PlanExpr,
    /// Not scored because closed (a contact, but Qualified or Disqualified).
    pub closed: PlanExpr,
}

impl LeadGroups {
    /// The groups on `entity` of `schema`, which must have a `contact`
    /// relationship and a `status` choice with the labels Qualified and
    /// Disqualified, as the lead of the built-in schema has.
    pub fn of(schema: &Schema, entity: &str) -> Result<LeadGroups> {
        let closed = r#"status in ["Qualified", "Disqualified"]"#;
        let plan = |filter: &str| -> Result<PlanExpr> {
            let text = format!("{entity} where {filter}");
            let options = crate::Options {
                optimize: true,
                ..crate::Options::new(schema)
            };
            crate::plan(&text, &options)
                .map(|plan| plan.filter)
                .map_err(|e| Error::Schema {
                    message: format!(
                        "scoring needs {entity} to have a `contact` relationship and a `status` \
                         choice with the labels Qualified and Disqualified: {e}"
                    ),
                })
        };
        Ok(LeadGroups {
            scored: plan(&format!("has contact and not {closed}"))?,
            without_contact: plan("not has contact")?,
            closed: plan(&format!("has contact and {closed}"))?,
        })
    }
}

/// What each rule of `model` reads of a lead: whether its condition holds,
/// or its count.
pub fn rule_values(model: &Model) -> Vec<RecordValue> {
    model
        .rules
        .iter()
        .map(|rule| match &rule.kind {
            RuleKind::If(condition) => RecordValue::Holds(condition.clone()),
            RuleKind::Per { count, .. } => RecordValue::Count(count.clone()),
        })
        .collect()
}

/// The scores of the leads of `values` (computed from [`rule_values`]).
pub fn scores_from_values(model: &Model, values: &RecordValues) -> Vec<LeadScore> {
    values
        .ids
        .iter()
        .enumerate()
        .map(|(row, &lead_id)| {
            let points = model
                .rules
                .iter()
                .zip(&values.columns)
                .map(|(rule, column)| rule.points_for(column[row].max(0) as u64));
            let score = model.score_of(points);
            LeadScore {
                lead_id,
                score,
                grade: model.grade_of(score).map(str::to_string),
                sales_ready: model.is_sales_ready(score),
            }
        })
        .collect()
}

/// One statement selecting `id, score, grade, sales_ready` (0 or 1) of
/// every lead of `model`'s entity for which `rows` holds, in no particular
/// order (it feeds an `INSERT`).
pub fn score_sql(
    model: &Model,
    rows: &PlanExpr,
    schema: &Schema,
    dialect: &dyn Dialect,
    now: DateTime<Utc>,
) -> Result<SqlQuery> {
    let values = rule_values(model);
    let mut query = per_record_select(&model.entity, rows, &values, schema, dialect, now)?;
    let mut terms = Vec::with_capacity(model.rules.len());
    for (i, rule) in model.rules.iter().enumerate() {
        let v = value_column(i);
        let size = rule.points.unsigned_abs();
        let magnitude = match rule.kind {
            RuleKind::Per { cap: Some(cap), .. } => {
                format!("CASE WHEN {v} * {size} > {cap} THEN {cap} ELSE {v} * {size} END")
            }
            // A condition's value is 0 or 1: points × value.
            _ => format!("{v} * {size}"),
        };
        let sign = if rule.points < 0 { "-" } else { "+" };
        terms.push(format!("{sign} ({magnitude})"));
    }
    let total = if terms.is_empty() {
        "0".to_string()
    } else {
        format!("0 {}", terms.join(" "))
    };
    let clamped = match model.max_score {
        Some(max) => {
            format!("CASE WHEN total < 0 THEN 0 WHEN total > {max} THEN {max} ELSE total END")
        }
        None => "CASE WHEN total < 0 THEN 0 ELSE total END".to_string(),
    };
    let mut grade = String::from("NULL");
    if !model.grades.is_empty() {
        grade = String::from("CASE");
        for g in &model.grades {
            query.params.push(SqlParam::Text(g.label.clone()));
            let label = dialect.text_param(query.params.len(), &FieldType::Text);
            grade.push_str(&format!(" WHEN score >= {} THEN {label}", g.minimum));
        }
        grade.push_str(" END");
    }
    let ready = format!(
        "CASE WHEN score >= {} THEN 1 ELSE 0 END",
        model.sales_ready_at
    );
    query.sql = format!(
        "SELECT id, score, {grade} AS grade, {ready} AS sales_ready\nFROM (\n\
         SELECT id, {clamped} AS score\nFROM (\n\
         SELECT id, {total} AS total\nFROM (\n{}\n) AS v\n) AS t\n) AS s",
        query.sql
    );
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;

    #[test]
    fn the_lead_groups_are_the_specs() {
        let groups = LeadGroups::of(&crm_schema(), "lead").expect("the built-in lead");
        let show = |e: &PlanExpr| {
            crate::plan::Plan {
                entity: "lead".into(),
                filter: e.clone(),
            }
            .to_string()
        };
        assert!(
            show(&groups.scored).contains("has contact"),
            "{}",
            show(&groups.scored)
        );
        assert!(
            show(&groups.without_contact).contains("has no contact"),
            "{}",
            show(&groups.without_contact)
        );
        let err = LeadGroups::of(&crm_schema(), "contact").unwrap_err();
        assert!(err.to_string().contains("`contact` relationship"), "{err}");
    }
}
