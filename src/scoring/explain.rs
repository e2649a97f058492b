//! `score --explain LEAD_ID`: how each model arrives at one lead's score —
//! every rule with what it counted and the points it gave, the total, the
//! score, the grade and the threshold. Computed with the same per-record
//! values as the scoring itself, for that one lead.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::compute::{rule_values, scores_from_values, LeadGroups};
use super::model::{Model, RuleKind};
use crate::error::{Error, Result};
use crate::plan::{CmpOp, FieldRef, FieldTest, PlanExpr, Test, Value, ValueType};
use crate::schema::Schema;
use crate::Engine;

/// One lead under one model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeadExplanation {
    pub model: String,
    pub rules: Vec<RuleExplanation>,
    /// The sum of the rules' points, before the limits.
    pub total: i64,
    /// `total` limited to `0 ..= max score`.
    pub score: i64,
    pub max_score: Option<i64>,
    pub grade: Option<String>,
    pub sales_ready_at: i64,
    pub sales_ready: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleExplanation {
    /// The rule as written in the schema's spelling.
    pub rule: String,
    /// For `per`: the records counted; for `if`: 1 when the condition
    /// holds, else 0.
    pub count: i64,
    pub points: i64,
}

/// Why lead `id` has its scores. Errors: an unknown lead id
/// ([`Error::UnknownRecord`]); a lead scoring does not score (no contact,
/// or closed) is explained all the same, with a note in `scored`.
pub fn explain(
    engine: Engine<'_>,
    schema: &Schema,
    models: &[Model],
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Scored, Vec<LeadExplanation>)> {
    let Some(first) = models.first() else {
        return Ok((Scored::Yes, Vec::new()));
    };
    let lead = schema
        .entity(&first.entity)
        .ok_or_else(|| Error::Internal {
            message: format!("model entity '{}' is not in the schema", first.entity),
        })?;
    let key = lead.key_field().ok_or_else(|| Error::Internal {
        message: format!("{} has no key", lead.name),
    })?;
    let this_lead = PlanExpr::Field(FieldTest {
        field: FieldRef {
            entity: lead.name.as_str().into(),
            field: key.name.as_str().into(),
            ty: ValueType::Uuid,
        },
        test: Test::Compare {
            op: CmpOp::Eq,
            value: Value::Uuid(id),
        },
    });
    let groups = LeadGroups::of(schema, &lead.name)?;
    // All values in one go: the lead's group, then each model's rules.
    let mut values = vec![
        crate::plan::RecordValue::Holds(groups.scored.clone()),
        crate::plan::RecordValue::Holds(groups.without_contact.clone()),
    ];
    let first_rule: Vec<usize> = models
        .iter()
        .scan(values.len(), |at, m| {
            let start = *at;
            *at += m.rules.len();
            Some(start)
        })
        .collect();
    for model in models {
        values.extend(rule_values(model));
    }
    let found = crate::per_record(&lead.name, &this_lead, &values, engine, schema, now)?;
    if found.ids.is_empty() {
        return Err(Error::UnknownRecord {
            entity: lead.name.clone(),
            id: id.to_string(),
            hint: Some(format!(
                "pick an id from `segql run --format ids '{}'`",
                lead.name
            )),
        });
    }
    let scored = match (found.columns[0][0], found.columns[1][0]) {
        (1, _) => Scored::Yes,
        (_, 1) => Scored::NoContact,
        _ => Scored::Closed,
    };
    let mut out = Vec::with_capacity(models.len());
    for (model, &start) in models.iter().zip(&first_rule) {
        let columns = found.columns[start..start + model.rules.len()].to_vec();
        let one = crate::plan::RecordValues {
            ids: found.ids.clone(),
            columns: columns.clone(),
        };
        let result = scores_from_values(model, &one)
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal {
                message: "a lead without a score".into(),
            })?;
        let rules: Vec<RuleExplanation> = model
            .rules
            .iter()
            .zip(&columns)
            .map(|(rule, column)| {
                let count = match rule.kind {
                    RuleKind::If(_) => column[0].min(1),
                    RuleKind::Per { .. } => column[0],
                };
                RuleExplanation {
                    rule: rule.text.clone(),
                    count,
                    points: rule.points_for(count.max(0) as u64),
                }
            })
            .collect();
        let total = rules.iter().map(|r| i128::from(r.points)).sum::<i128>();
        out.push(LeadExplanation {
            model: model.name.clone(),
            rules,
            total: total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            score: result.score,
            max_score: model.max_score,
            grade: result.grade,
            sales_ready_at: model.sales_ready_at,
            sales_ready: result.sales_ready,
        });
    }
    Ok((scored, out))
}

/// Whether `score` scores the lead explained (SPEC 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scored {
    Yes,
    /// Not scored: no contact (run `link-orphans` first).
    NoContact,
    /// Not scored: Qualified or Disqualified.
    Closed,
}
