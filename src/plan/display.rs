//! Plans printed back as segment text, for `explain`, optimizer traces and
//! test failures. The output is valid segql for the same schema: hops print as
//! `has ... via RELATIONSHIP`, negated atoms in their natural form (`!=`,
//! `is null`, `not in`), relative times in their largest whole unit.

use std::fmt::{self, Display, Formatter, Write};

use chrono::SecondsFormat;

use super::{Aggregate, CmpOp, Link, Plan, PlanExpr, Quantifier, Related, Test, Value};

impl Display for Plan {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.filter {
            PlanExpr::Const(true) => write!(f, "{}", self.entity),
            filter => write!(f, "{} where {}", self.entity, filter),
        }
    }
}

impl Display for PlanExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_expr(f, self, Precedence::Or)
    }
}

/// Binding strength of the context an expression is printed in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Not,
}

fn write_expr(f: &mut Formatter<'_>, expr: &PlanExpr, context: Precedence) -> fmt::Result {
    match expr {
        PlanExpr::Const(b) => write!(f, "{b}"),
        PlanExpr::Field(test) => write_test(f, &test.field.field, &test.test, false),
        PlanExpr::Aggregate(test) => write_test(f, &test.aggregate, &test.test, false),
        PlanExpr::Not(inner) => match inner.as_ref() {
            // `a != 1` binds like any atom, so it needs no parentheses.
            PlanExpr::Field(test) if has_negated_form(&test.test) => {
                write_test(f, &test.field.field, &test.test, true)
            }
            PlanExpr::Aggregate(test) if has_negated_form(&test.test) => {
                write_test(f, &test.aggregate, &test.test, true)
            }
            inner => {
                f.write_str("not ")?;
                write_expr(f, inner, Precedence::Not)
            }
        },
        PlanExpr::And(items) => write_joined(f, items, " and ", Precedence::And, context),
        PlanExpr::Or(items) => write_joined(f, items, " or ", Precedence::Or, context),
        PlanExpr::Related(related) => write_related(f, related),
        PlanExpr::Segment(segment) => write!(f, "in {}", segment.name),
    }
}

fn write_joined(
    f: &mut Formatter<'_>,
    items: &[PlanExpr],
    separator: &str,
    own: Precedence,
    context: Precedence,
) -> fmt::Result {
    if items.is_empty() {
        // An empty `and` is true, an empty `or` false.
        return write!(f, "{}", own == Precedence::And);
    }
    let parenthesize = context > own;
    if parenthesize {
        f.write_char('(')?;
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        // A nested group of the same operator keeps its parentheses so the
        // printed text has the plan's shape.
        let child_context = if own == Precedence::Or {
            Precedence::And
        } else {
            Precedence::Not
        };
        write_expr(f, item, child_context)?;
    }
    if parenthesize {
        f.write_char(')')?;
    }
    Ok(())
}

/// `count(lead via lead_parent_contact(...).account via lead_parent_account)`,
/// `sum(... .estimated_value)`: every hop as `has` prints it.
impl Display for Aggregate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.function.keyword())?;
        for (i, hop) in self.chain.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            write_hop(f, &hop.link, &hop.filter)?;
        }
        if let Some(field) = &self.field {
            write!(f, ".{}", field.field)?;
        }
        f.write_char(')')
    }
}

fn write_related(f: &mut Formatter<'_>, related: &Related) -> fmt::Result {
    f.write_str("has ")?;
    match related.quantifier {
        Quantifier::Any => {}
        Quantifier::No => f.write_str("no ")?,
        Quantifier::AtLeast(n) => write!(f, "at least {n} ")?,
        Quantifier::AtMost(n) => write!(f, "at most {n} ")?,
        Quantifier::Exactly(n) => write!(f, "exactly {n} ")?,
    }
    write_hop(f, &related.link, &related.filter)
}

/// `lead via lead_parent_contact(filter)`, as `has` and an aggregate's chain
/// write a hop: the target entity's name plus `via` is unambiguous in both
/// directions; a filter that is `true` is left out.
fn write_hop(f: &mut Formatter<'_>, link: &Link, filter: &PlanExpr) -> fmt::Result {
    write!(f, "{} via {}", link.to, link.relationship)?;
    if filter != &PlanExpr::Const(true) {
        write!(f, "({filter})")?;
    }
    Ok(())
}

fn has_negated_form(test: &Test) -> bool {
    matches!(
        test,
        Test::Compare { op: CmpOp::Eq, .. }
            | Test::IsNotNull
            | Test::InList(_)
            | Test::Between { .. }
            | Test::Text { .. }
    )
}

/// `subject` (a field name or an aggregate) under `test`, or its negation.
fn write_test(
    f: &mut Formatter<'_>,
    field: &dyn Display,
    test: &Test,
    negated: bool,
) -> fmt::Result {
    let not = if negated { "not " } else { "" };
    match test {
        Test::Compare { op, value } => {
            let op = match (op, negated) {
                (CmpOp::Eq, true) => "!=",
                (op, _) => op.symbol(),
            };
            write!(f, "{field} {op} {}", DisplayValue(value))
        }
        Test::IsNotNull => write!(f, "{field} is {}null", if negated { "" } else { "not " }),
        Test::InList(values) => {
            write!(f, "{field} {not}in [")?;
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}", DisplayValue(value))?;
            }
            f.write_char(']')
        }
        Test::Between { low, high } => {
            write!(
                f,
                "{field} {not}between {} and {}",
                DisplayValue(low),
                DisplayValue(high)
            )
        }
        Test::Text { op, pattern } => {
            write!(f, "{field} {not}{} {}", op.keyword(), quoted(pattern))
        }
    }
}

/// A value as a segql literal.
pub struct DisplayValue<'a>(pub &'a Value);

impl Display for DisplayValue<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Text(s) => f.write_str(&quoted(s)),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Decimal(x) => write!(f, "{x:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Uuid(u) => write!(f, "\"{u}\""),
            Value::Choice { label, .. } => f.write_str(&quoted(label)),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(t) => write!(f, "{}", t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            Value::TodayPlusDays(days) => write_relative(f, "today", days.saturating_mul(86_400)),
            Value::NowPlusSeconds { seconds, midnight } => {
                write_relative(f, if *midnight { "today" } else { "now" }, *seconds)
            }
        }
    }
}

fn write_relative(f: &mut Formatter<'_>, anchor: &str, seconds: i64) -> fmt::Result {
    if seconds == 0 {
        return f.write_str(anchor);
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let magnitude = seconds.unsigned_abs();
    let (amount, unit) = [(604_800, "w"), (86_400, "d"), (3_600, "h"), (60, "min")]
        .iter()
        .find(|(size, _)| magnitude.is_multiple_of(*size))
        .map_or((magnitude, "s"), |(size, unit)| (magnitude / size, *unit));
    write!(f, "{anchor} {sign} {amount}{unit}")
}

/// A string as a double-quoted segql literal, escaped so that it parses
/// back to itself (`syntax::fmt` writes strings with it too).
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FieldRef, FieldTest, ValueType};

    fn field(name: &str, ty: ValueType) -> FieldRef {
        FieldRef {
            entity: "contact".into(),
            field: name.into(),
            ty,
        }
    }

    #[test]
    fn negated_atoms_print_in_their_natural_form() {
        let role = PlanExpr::Field(FieldTest {
            field: field("role", ValueType::Choice),
            test: Test::Compare {
                op: CmpOp::Eq,
                value: Value::Choice {
                    code: 2,
                    label: "Employee".into(),
                },
            },
        });
        let email = PlanExpr::Field(FieldTest {
            field: field("email", ValueType::Text),
            test: Test::IsNotNull,
        });
        let plan = Plan {
            entity: "contact".into(),
            filter: PlanExpr::Or(vec![
                PlanExpr::Not(Box::new(role)),
                PlanExpr::And(vec![PlanExpr::Not(Box::new(email)), PlanExpr::Const(true)]),
            ]),
        };
        assert_eq!(
            plan.to_string(),
            "contact where role != \"Employee\" or email is null and true"
        );
    }

    #[test]
    fn relative_times_use_their_largest_whole_unit() {
        let now = |seconds| {
            DisplayValue(&Value::NowPlusSeconds {
                seconds,
                midnight: false,
            })
            .to_string()
        };
        assert_eq!(now(-30 * 86_400), "now - 30d");
        assert_eq!(now(-90 * 60), "now - 90min");
        assert_eq!(now(14 * 86_400), "now + 2w");
        assert_eq!(now(0), "now");
        assert_eq!(
            DisplayValue(&Value::TodayPlusDays(-1)).to_string(),
            "today - 1d"
        );
    }

    #[test]
    fn nested_groups_keep_their_parentheses() {
        let t = PlanExpr::Const(true);
        let f = PlanExpr::Const(false);
        let expr = PlanExpr::And(vec![
            PlanExpr::Or(vec![t.clone(), f.clone()]),
            PlanExpr::And(vec![t, f]),
        ]);
        assert_eq!(expr.to_string(), "(true or false) and (true and false)");
    }
}
