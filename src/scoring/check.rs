//! Checking a model file: [`ModelFile`] to checked [`Model`]s, every
//! independent error at once (SPEC 2.4), each with its place.
//!
//! Rule conditions and chains go through the query checker itself — an
//! `if` rule is checked as the query `ENTITY where EXPR`, a `per` rule as
//! `ENTITY where count(CHAIN) >= 0` — so names, types, labels and limits
//! mean in a model exactly what they mean in a segment, with the same
//! messages. What is particular to models is checked here: the settings,
//! the grades, the scored entity, and that no rule reads what scoring
//! writes.

use crate::check::{self, Warning};
use crate::error::{Error, Result};
use crate::optimize::optimize;
use crate::plan::{Aggregate, AggregateFn, Plan, PlanExpr};
use crate::schema::{Entity, FieldType, Schema};
use crate::span::Span;
use crate::syntax::ast::{
    self, Amount, Expr, ExprKind, Literal, LiteralKind, ModelDef, ModelFile, Predicate, RuleDef,
    RuleKindDef, RuleSign, Setting,
};
use crate::syntax::format_rule;
use crate::Options;

use super::canonical::canonicalize_rule;
use super::model::{Grade, Model, Rule, RuleKind};

/// The fields scoring writes on the lead entity, which rules may not read.
pub const SCORE_FIELD: &str = "score";
pub const SALES_READY_FIELD: &str = "sales_ready";

/// Check every model of `file` against `schema`: the models in file order,
/// or every error found (at most [`check::MAX_ERRORS`]).
pub fn check_models(
    file: &ModelFile,
    schema: &Schema,
) -> std::result::Result<Vec<Model>, Vec<Error>> {
    check_models_with_warnings(file, schema).0
}

/// [`check_models`], and the [`Warning`]s of the rules' conditions: text
/// that checks but most likely does not say what was meant (as for queries,
/// e.g. `between` with its bounds reversed).
pub fn check_models_with_warnings(
    file: &ModelFile,
    schema: &Schema,
) -> (std::result::Result<Vec<Model>, Vec<Error>>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut models = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for def in &file.models {
        let name = def.name.name.as_str();
        if names.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
            errors.push(Error::DuplicateModel {
                name: name.to_string(),
                span: def.name.span,
            });
        } else {
            names.push(name);
        }
        match check_model(def, schema, &mut warnings) {
            Ok(model) => models.push(model),
            Err(mut found) => errors.append(&mut found),
        }
        if errors.len() >= check::MAX_ERRORS {
            errors.truncate(check::MAX_ERRORS);
            break;
        }
    }
    let outcome = if errors.is_empty() {
        Ok(models)
    } else {
        Err(errors)
    };
    (outcome, warnings)
}

/// The entities of `schema` a model can be on (SPEC 6: an integer `score`
/// and a bool `sales_ready` field).
pub fn scorable_entities(schema: &Schema) -> Vec<&Entity> {
    schema
        .entities
        .iter()
        .filter(|entity| unscorable(entity).is_none())
        .collect()
}

/// Why `entity` cannot be scored, or `None` when it can.
fn unscorable(entity: &Entity) -> Option<String> {
    let problem = |name: &str, ty: FieldType, kind: &str| match entity.field(name) {
        None => Some(format!("it has no `{name}` field")),
        Some(field) if std::mem::discriminant(&field.ty) != std::mem::discriminant(&ty) => {
            Some(format!(
                "its `{}` field is {}, not {kind}",
                field.name,
                field.ty.name()
            ))
        }
        Some(_) => None,
    };
    let problems: Vec<String> = [
        problem(SCORE_FIELD, FieldType::Integer, "integer"),
        problem(SALES_READY_FIELD, FieldType::Bool, "bool"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!problems.is_empty()).then(|| {
        format!(
            "{} (a model is on the entity with an integer `score` and a bool `sales_ready`)",
            problems.join(" and ")
        )
    })
}

/// One model: its own errors, and those of its rules.
fn check_model(
    def: &ModelDef,
    schema: &Schema,
    warnings: &mut Vec<Warning>,
) -> std::result::Result<Model, Vec<Error>> {
    let mut errors = Vec::new();
    let model = def.name.name.as_str();
    let entity = match check::check_all(
        &ast::Query {
            entity: def.entity.clone(),
            filter: None,
            span: def.entity.span,
        },
        &Options::new(schema),
    ) {
        Ok(plan) => schema.entity(&plan.entity),
        Err(found) => {
            errors.extend(found);
            None
        }
    };
    if let Some(reason) = entity.and_then(unscorable) {
        errors.push(Error::NotScorable {
            model: model.to_string(),
            entity: def.entity.name.to_string(),
            reason,
            scorable: scorable_entities(schema)
                .iter()
                .map(|e| e.name.clone())
                .collect(),
            span: def.entity.span,
        });
    }

    let sales_ready_at = match once(&def.sales_ready, model, "sales ready at", &mut errors) {
        Some(threshold) => at_least_zero(
            threshold,
            "the `sales ready at` threshold",
            "scores are never below 0",
            &mut errors,
        ),
        None => {
            errors.push(Error::MissingThreshold {
                model: model.to_string(),
                span: def.name.span,
            });
            0
        }
    };
    let max_score = once(&def.max_score, model, "max score", &mut errors)
        .map(|max| at_least_zero(max, "`max score`", "scores are never below 0", &mut errors));
    for extra in def.grades.iter().skip(1) {
        errors.push(duplicate_setting(model, "grades", extra.span));
    }
    let grades = def
        .grades
        .first()
        .map_or_else(Vec::new, |first| grades(first, model, &mut errors));

    if let Some(max) = max_score {
        unreachable_above(def, max, sales_ready_at, warnings);
    }

    if let Some(extra) = def.rules.get(MAX_RULES) {
        errors.push(Error::InvalidValue {
            message: format!(
                "a model has at most {MAX_RULES} rules; split '{}' into several models",
                def.name.name
            ),
            span: extra.span,
        });
    }
    let mut rules = Vec::with_capacity(def.rules.len());
    for rule in &def.rules {
        // Wrong points do not stop the check of the rule's condition.
        let points = rule_points(rule, &mut errors);
        // Without a known entity the rule's names cannot be checked.
        let Some(entity) = entity else { continue };
        match check_rule(rule, points.unwrap_or(0), entity, schema, warnings) {
            Ok(rule) => rules.push(rule),
            Err(found) => errors.extend(found),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let entity = entity.ok_or_else(|| {
        vec![Error::Internal {
            message: "a model checked without its entity".into(),
        }]
    })?;
    Ok(Model {
        name: model.to_string(),
        entity: entity.name.clone(),
        sales_ready_at,
        grades,
        max_score,
        rules,
    })
}

/// Warnings for a threshold or grade minimum above `max score`: no lead
/// can reach it, which checks but cannot be what was meant.
fn unreachable_above(def: &ModelDef, max: i64, sales_ready_at: i64, warnings: &mut Vec<Warning>) {
    let help = Some(format!(
        "scores are limited to 0 ..= {max} by `max score {max}`: lower the number or raise `max score`"
    ));
    if let Some(setting) = def.sales_ready.first().filter(|_| sales_ready_at > max) {
        warnings.push(Warning {
            message: format!(
                "no lead can be sales-ready: `sales ready at {sales_ready_at}` is above `max score {max}`"
            ),
            help: help.clone(),
            span: setting.span,
        });
    }
    let grades = def.grades.first().map_or(&[][..], |list| &list.grades[..]);
    for grade in grades.iter().filter(|g| g.minimum.value > max) {
        warnings.push(Warning {
            message: format!(
                "no lead can get grade {}: its minimum {} is above `max score {max}`",
                crate::syntax::fmt::quote(&grade.label),
                grade.minimum.value
            ),
            help: help.clone(),
            span: grade.span,
        });
    }
}

/// The one occurrence of a setting; every further one is an error.
fn once<'a>(
    written: &'a [Setting],
    model: &str,
    setting: &str,
    errors: &mut Vec<Error>,
) -> Option<&'a Amount> {
    for extra in written.iter().skip(1) {
        errors.push(duplicate_setting(model, setting, extra.span));
    }
    written.first().map(|first| &first.amount)
}

fn duplicate_setting(model: &str, setting: &str, span: Span) -> Error {
    Error::DuplicateSetting {
        model: model.to_string(),
        setting: setting.to_string(),
        span,
    }
}

/// The amount's value, or an error (and 0) when it is negative.
fn at_least_zero(amount: &Amount, what: &str, why: &str, errors: &mut Vec<Error>) -> i64 {
    if amount.value >= 0 {
        return amount.value;
    }
    errors.push(Error::InvalidValue {
        message: format!("{what} must be 0 or more ({why}), not {}", amount.value),
        span: amount.span,
    });
    0
}

/// The grades, highest minimum first: strictly descending minimums,
/// distinct labels, no negative minimum.
fn grades(list: &ast::GradeList, model: &str, errors: &mut Vec<Error>) -> Vec<Grade> {
    let mut grades: Vec<Grade> = Vec::with_capacity(list.grades.len());
    for (i, grade) in list.grades.iter().enumerate() {
        let minimum = at_least_zero(
            &grade.minimum,
            "a grade's minimum",
            "scores are never below 0",
            errors,
        );
        if list.grades[..i].iter().any(|g| g.label == grade.label) {
            errors.push(Error::DuplicateGrade {
                label: grade.label.clone(),
                model: model.to_string(),
                span: grade.span,
            });
        } else if let Some(previous) = i.checked_sub(1).map(|p| &list.grades[p]) {
            if grade.minimum.value >= previous.minimum.value {
                errors.push(Error::GradeOrder {
                    label: grade.label.clone(),
                    minimum: grade.minimum.value,
                    previous: previous.label.clone(),
                    previous_minimum: previous.minimum.value,
                    span: grade.span,
                });
            }
        }
        grades.push(Grade {
            label: grade.label.clone(),
            minimum,
        });
    }
    grades
}

/// The most points one match of a rule gives or takes. With at most
/// [`MAX_RULE_POINTS`] per match, fewer than 2^32 records counted and at most
/// [`MAX_RULES`] rules, no sum of points leaves
/// the i64 range, so SQL's integer arithmetic and the memory engine's agree
/// without overflow checks.
pub const MAX_RULE_POINTS: i64 = 1_000_000;

/// The most rules one model has (see [`MAX_RULE_POINTS`]).
pub const MAX_RULES: usize = 1_000;

/// The rule's signed points, or `None` (and an error) when the written
/// number, or the cap of a `per` rule, is negative.
fn rule_points(rule: &RuleDef, errors: &mut Vec<Error>) -> Option<i64> {
    let before = errors.len();
    let written = rule.points.value;
    if written < 0 {
        let (instead, other) = match rule.sign {
            RuleSign::Add => ("subtract", "add"),
            RuleSign::Subtract => ("add", "subtract"),
        };
        errors.push(Error::InvalidValue {
            message: format!(
                "points must be 0 or more, not {written}: write `{instead} {}` instead of `{other} {written}`",
                written.unsigned_abs()
            ),
            span: rule.points.span,
        });
    }
    if written > MAX_RULE_POINTS {
        errors.push(Error::InvalidValue {
            message: format!(
                "a rule gives at most {MAX_RULE_POINTS} points per match, not {written} \
                 (so that every engine sums scores exactly in 64-bit integers)"
            ),
            span: rule.points.span,
        });
    }
    if let RuleKindDef::Per { cap: Some(cap), .. } = &rule.kind {
        at_least_zero(
            cap,
            "the cap of `up to`",
            "it is the most points the rule adds or takes away",
            errors,
        );
    }
    if errors.len() > before {
        return None;
    }
    Some(match rule.sign {
        RuleSign::Add => written,
        RuleSign::Subtract => -written,
    })
}

/// A rule's condition or chain, checked by the query checker on `entity`.
fn check_rule(
    rule: &RuleDef,
    points: i64,
    entity: &Entity,
    schema: &Schema,
    warnings: &mut Vec<Warning>,
) -> std::result::Result<Rule, Vec<Error>> {
    let options = Options::new(schema);
    let mut checked = |query: ast::Query| {
        let (outcome, mut found) = check::check_with_warnings(&query, &options);
        warnings.append(&mut found);
        outcome
    };
    let query = |filter: Expr| ast::Query {
        entity: ast::Ident {
            name: entity.name.as_str().into(),
            span: filter.span,
        },
        span: rule.span,
        filter: Some(filter),
    };
    let kind = match &rule.kind {
        RuleKindDef::If(expr) => {
            let plan = checked(query(expr.clone()))?;
            refuse_score_reads(&plan.filter, entity, expr, rule.span)?;
            RuleKind::If(optimize(plan).filter)
        }
        RuleKindDef::Per { chain, cap } => {
            let expr = count_at_least_zero(chain, rule.span);
            let plan = checked(query(expr.clone()))?;
            refuse_score_reads(&plan.filter, entity, &expr, rule.span)?;
            let PlanExpr::Aggregate(test) = plan.filter else {
                return Err(vec![Error::Internal {
                    message: "a `per` chain did not check to a count".into(),
                }]);
            };
            RuleKind::Per {
                count: optimize_hops(test.aggregate),
                cap: cap.as_ref().map(|c| c.value),
            }
        }
    };
    // The text in the schema's spelling: it names what was checked.
    let mut canonical = rule.clone();
    let entity_name = ast::Ident {
        name: entity.name.as_str().into(),
        span: rule.span,
    };
    canonicalize_rule(&mut canonical, &entity_name, schema);
    Ok(Rule {
        text: format_rule(&canonical),
        points,
        kind,
    })
}

/// `count(CHAIN) >= 0`: the expression whose check resolves a `per` chain
/// exactly as an aggregate's.
pub(super) fn count_at_least_zero(chain: &[ast::ChainHop], span: Span) -> Expr {
    let chain_span = match (chain.first(), chain.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => span,
    };
    Expr {
        kind: ExprKind::Aggregate(Box::new(ast::AggregateTest {
            aggregate: ast::Aggregate {
                function: AggregateFn::Count,
                chain: chain.to_vec(),
                field: None,
                span: chain_span,
            },
            test: ast::AggregateCheck::Compare {
                op: ast::CmpOp::Ge,
                value: Literal {
                    kind: LiteralKind::Integer(0),
                    span: chain_span,
                },
            },
        })),
        span: chain_span,
    }
}

/// Each hop's filter optimized as the filter of a query on the hop's
/// entity, which is what it is.
fn optimize_hops(mut count: Aggregate) -> Aggregate {
    for hop in &mut count.chain {
        let filter = std::mem::replace(&mut hop.filter, PlanExpr::Const(true));
        hop.filter = optimize(Plan {
            entity: hop.link.to.to_string(),
            filter,
        })
        .filter;
    }
    count
}

/// An error if the checked `plan` reads the scored entity's `score` or
/// `sales_ready` anywhere (a path, a `has` filter, a chain's filter, an
/// aggregate's field), pointing at where `written` names it.
fn refuse_score_reads(
    plan: &PlanExpr,
    entity: &Entity,
    written: &Expr,
    fallback: Span,
) -> std::result::Result<(), Vec<Error>> {
    let Some(field) = score_read(plan, &entity.name) else {
        return Ok(());
    };
    Err(vec![Error::ReadsScore {
        entity: entity.name.clone(),
        span: name_span(written, &field).unwrap_or(fallback),
        field,
    }])
}

/// The written field (`score` or `sales_ready`) of `entity` that `plan`
/// reads, if any. Walks with its own stack: plans may be deep.
fn score_read(plan: &PlanExpr, entity: &str) -> Option<String> {
    let written = |field: &crate::plan::FieldRef| {
        (field.entity == entity
            && [SCORE_FIELD, SALES_READY_FIELD]
                .iter()
                .any(|f| field.field.eq_ignore_ascii_case(f)))
        .then(|| field.field.to_string())
    };
    let mut stack = vec![plan];
    while let Some(expr) = stack.pop() {
        match expr {
            PlanExpr::Const(_) => {}
            PlanExpr::Not(inner) => stack.push(inner),
            PlanExpr::Segment(segment) => stack.push(&segment.filter),
            // Reversed, so the first operand is looked at first.
            PlanExpr::And(items) | PlanExpr::Or(items) => stack.extend(items.iter().rev()),
            PlanExpr::Related(related) => stack.push(&related.filter),
            PlanExpr::Field(test) => {
                if let Some(field) = written(&test.field) {
                    return Some(field);
                }
            }
            PlanExpr::Aggregate(test) => {
                if let Some(field) = test.aggregate.field.as_ref().and_then(written) {
                    return Some(field);
                }
                stack.extend(test.aggregate.chain.iter().rev().map(|hop| &hop.filter));
            }
        }
    }
    None
}

/// The span of the first path or aggregate field in `expr` that ends in
/// `field` (case-insensitive).
fn name_span(expr: &Expr, field: &str) -> Option<Span> {
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match &expr.kind {
            ExprKind::Bool(_) | ExprKind::InSegment(_) => {}
            ExprKind::Not(inner) => stack.push(inner),
            ExprKind::And(items) | ExprKind::Or(items) => stack.extend(items.iter().rev()),
            ExprKind::Has(has) => stack.extend(has.filter.as_deref()),
            ExprKind::Predicate(predicate) => {
                let path = predicate_path(predicate);
                if path
                    .segments
                    .last()
                    .is_some_and(|last| last.name.eq_ignore_ascii_case(field))
                {
                    return Some(path.span);
                }
            }
            ExprKind::Aggregate(test) => {
                if let Some(name) = &test.aggregate.field {
                    if name.name.eq_ignore_ascii_case(field) {
                        return Some(test.aggregate.span);
                    }
                }
                stack.extend(
                    test.aggregate
                        .chain
                        .iter()
                        .rev()
                        .filter_map(|hop| hop.filter.as_deref()),
                );
            }
        }
    }
    None
}

fn predicate_path(predicate: &Predicate) -> &ast::Path {
    match predicate {
        Predicate::Compare { path, .. }
        | Predicate::IsNull { path, .. }
        | Predicate::InList { path, .. }
        | Predicate::Between { path, .. }
        | Predicate::Text { path, .. }
        | Predicate::BoolField { path } => path,
    }
}

/// Parse and check a model file in one step: the checked models, or every
/// error (a syntax error comes alone).
pub fn parse_and_check(text: &str, schema: &Schema) -> std::result::Result<Vec<Model>, Vec<Error>> {
    let file = crate::syntax::parse_models(text).map_err(|e| vec![e])?;
    check_models(&file, schema)
}

/// [`check_models`]' first error, for callers that stop at one.
pub fn check_models_first(file: &ModelFile, schema: &Schema) -> Result<Vec<Model>> {
    check_models(file, schema).map_err(|errors| {
        errors.into_iter().next().unwrap_or(Error::Internal {
            message: "a model check failed without an error".into(),
        })
    })
}
