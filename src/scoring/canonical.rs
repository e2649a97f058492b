//! Model files in the schema's spelling: the entity, and in every rule the
//! names and choice labels, as `segql fmt` writes a query with the schema at
//! hand (`check::canonicalize`). A part that does not resolve stays as
//! written, so a model file with errors still formats.

use crate::check;
use crate::schema::Schema;
use crate::syntax::ast::{self, Expr, ExprKind, ModelDef, ModelFile, RuleDef, RuleKindDef};

use super::check::count_at_least_zero;

/// Rewrite every model of `file` into the schema's spelling, where it
/// resolves.
pub fn canonicalize_models(file: &mut ModelFile, schema: &Schema) {
    for model in &mut file.models {
        canonicalize_model(model, schema);
    }
}

fn canonicalize_model(model: &mut ModelDef, schema: &Schema) {
    let mut entity_only = query(&model.entity, None);
    if check::canonicalize(&mut entity_only, schema).is_ok() {
        model.entity.name = entity_only.entity.name;
    }
    for rule in &mut model.rules {
        canonicalize_rule(rule, &model.entity, schema);
    }
}

/// One rule, on the model's (already canonical) entity.
pub(super) fn canonicalize_rule(rule: &mut RuleDef, entity: &ast::Ident, schema: &Schema) {
    match &mut rule.kind {
        RuleKindDef::If(condition) => {
            let mut q = query(entity, Some(condition.clone()));
            if check::canonicalize(&mut q, schema).is_ok() {
                if let Some(filter) = q.filter {
                    *condition = filter;
                }
            }
        }
        RuleKindDef::Per { chain, .. } => {
            let mut q = query(entity, Some(count_at_least_zero(chain, rule.span)));
            if check::canonicalize(&mut q, schema).is_ok() {
                if let Some(Expr {
                    kind: ExprKind::Aggregate(test),
                    ..
                }) = q.filter
                {
                    *chain = test.aggregate.chain;
                }
            }
        }
    }
}

fn query(entity: &ast::Ident, filter: Option<Expr>) -> ast::Query {
    ast::Query {
        entity: entity.clone(),
        filter,
        span: entity.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;
    use crate::syntax::{format_models, parse_models};

    #[test]
    fn names_and_labels_take_the_schema_spelling_where_they_resolve() {
        let mut file = parse_models(
            "model m on LEAD { sales ready at 1\n\
             add 1 if SOURCE = \"trade show\"\n\
             add 2 per Contact.INTERACTION(Type = \"email opened\")\n\
             add 3 if nosuchfield = 1 and Source = \"web\" }",
        )
        .unwrap();
        canonicalize_models(&mut file, &crm_schema());
        assert_eq!(
            format_models(&file),
            "model m on lead {\n  sales ready at 1\n  add 1 if source = \"Trade Show\"\n  \
             add 2 per contact.interaction(type = \"Email Opened\")\n  \
             add 3 if nosuchfield = 1 and Source = \"web\"\n}\n"
        );
    }
}
