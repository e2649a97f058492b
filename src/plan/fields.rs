//! The fields of the root entity a plan tests, so a result can be shown
//! with the columns its query filters on.

use super::{Plan, PlanExpr};

/// The names of the root entity's fields that `plan` tests directly, in the
/// order they first appear, each once. Tests inside `has R(...)`, dotted
/// paths (which are hops to a parent) and aggregates are on other records
/// and are left out. Walks without recursion, like [`measure`](super::measure).
pub fn root_fields(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut stack = vec![&plan.filter];
    while let Some(node) = stack.pop() {
        match node {
            PlanExpr::Not(inner) => stack.push(inner),
            PlanExpr::Segment(segment) => stack.push(&segment.filter),
            // Reversed, so the first item is popped first: query order.
            PlanExpr::And(items) | PlanExpr::Or(items) => stack.extend(items.iter().rev()),
            PlanExpr::Field(test) => {
                let field = &test.field;
                let known = names.iter().any(|n| n.eq_ignore_ascii_case(&field.field));
                if field.entity.eq_ignore_ascii_case(&plan.entity) && !known {
                    names.push(field.field.to_string());
                }
            }
            PlanExpr::Const(_) | PlanExpr::Related(_) | PlanExpr::Aggregate(_) => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::root_fields;
    use crate::schema::crm_schema;
    use crate::Options;

    fn fields(text: &str) -> Vec<String> {
        let schema = crm_schema();
        let mut options = Options::new(&schema);
        options.optimize = false;
        root_fields(&crate::plan(text, &options).expect("query checks"))
    }

    #[test]
    fn root_fields_in_query_order_once_each() {
        assert_eq!(
            fields(
                r#"contact where city = "Paris" and (not do_not_email or city = "Lyon") and role = "Employee""#
            ),
            ["city", "do_not_email", "role"]
        );
        assert!(fields("contact").is_empty());
    }

    #[test]
    fn fields_of_related_records_are_not_the_roots() {
        assert_eq!(
            fields(
                r#"contact where has lead(status = "Open") and account.name = "Contoso" and count(lead) > 1 and email is null"#
            ),
            ["email"]
        );
    }
}
