//! Checking expressions: AST [`Expr`] to [`PlanExpr`] over one entity.
//!
//! Lowering follows the plan's rule that atoms are positive: `!=`, `is null`,
//! `not in`, `not between` and `not contains` become `Not` of the positive
//! test, and a dotted path wraps the test in many-to-one `Related` hops
//! *inside* that `Not`, so a missing parent makes the positive form false and
//! the negative form true.
//!
//! The walk keeps its own stack instead of recursing, so no input depth can
//! exhaust the call stack; plans deeper than [`MAX_PLAN_DEPTH`] are refused.

use crate::error::limits::{MAX_IN_LIST, MAX_PLAN_DEPTH, MAX_PLAN_NODES};
use crate::error::{Error, Result};
use crate::schema::{Entity, FieldType, Schema};
use crate::span::Span;
use crate::syntax::ast::{self, Expr, ExprKind, Literal, Predicate};

use super::aggregate;
use super::elsewhere;
use super::library::Segments;
use super::names::PlanNames;
use super::resolve::{self, Hop};
use super::types::{describe_literal, value_type, Target};
use super::warnings::{self, Warning};
use crate::plan::{
    self, Aggregate, AggregateFn, AggregateTest, CmpOp, FieldRef, FieldTest, Link, PlanExpr,
    Quantifier, Related, SegmentRef, Test, TextOp, Value,
};

/// Checks expressions against one schema, inlining already-checked segments.
pub(crate) struct Checker<'a> {
    pub schema: &'a Schema,
    pub segments: &'a Segments<'a>,
    /// Plan nodes built so far, including inlined segments.
    pub nodes: usize,
    /// Errors found so far (SPEC 2.4: every independent error, once). The
    /// node at fault is checked no further and stands in as `true`.
    pub errors: Vec<Error>,
    /// Warnings found so far (see [`super::warnings`]).
    pub warnings: Vec<Warning>,
    /// The names the plan shares.
    names: PlanNames,
}

impl<'a> Checker<'a> {
    pub fn new(schema: &'a Schema, segments: &'a Segments<'a>) -> Self {
        Checker {
            schema,
            segments,
            nodes: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            names: PlanNames::default(),
        }
    }

    /// Note an error in one node and go on with the others; limits and
    /// internal errors end the check (the plan is not worth finishing).
    fn recover(&mut self, error: Error, done: &mut Vec<PlanExpr>) -> Result<()> {
        if !is_local(&error) {
            return Err(error);
        }
        // Past the cap the rest is checked, but no longer reported.
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        }
        done.push(PlanExpr::Const(true));
        Ok(())
    }

    /// Count `n` more plan nodes, refusing plans over [`MAX_PLAN_NODES`].
    pub fn add_nodes(&mut self, n: usize, span: Span) -> Result<()> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_PLAN_NODES {
            return Err(Error::TooManyNodes {
                limit: MAX_PLAN_NODES,
                span,
            });
        }
        Ok(())
    }

    /// Check `expr` on records of `entity`; `depth` is the plan depth at
    /// which the result will sit (1 for a query's filter).
    ///
    /// The walk uses an explicit stack of tasks rather than recursion: a
    /// debug build spends kilobytes of stack per recursive level on the large
    /// `Result`s in flight, and a tree may be a thousand levels deep.
    /// The first error found, if any, is returned; [`Checker::errors`] has
    /// them all.
    pub fn expr(&mut self, expr: &Expr, entity: &'a Entity, depth: usize) -> Result<PlanExpr> {
        let plan = self.expr_all(expr, entity, depth)?;
        match self.errors.first() {
            Some(first) => Err(first.clone()),
            None => Ok(plan),
        }
    }

    /// [`Checker::expr`], going on past the errors of single nodes: `Ok`
    /// with the errors in [`Checker::errors`] (the plan is then not a
    /// meaningful one), `Err` for an error that ends the check.
    pub fn expr_all(&mut self, expr: &Expr, entity: &'a Entity, depth: usize) -> Result<PlanExpr> {
        let mut tasks = vec![Task::Visit(expr, entity, depth)];
        let mut done: Vec<PlanExpr> = Vec::new();
        while let Some(task) = tasks.pop() {
            match task {
                Task::Visit(expr, entity, depth) => {
                    self.visit(expr, entity, depth, &mut tasks, &mut done)?
                }
                Task::Not => {
                    let inner = pop(&mut done)?;
                    done.push(PlanExpr::Not(Box::new(inner)));
                }
                Task::And(n) | Task::Or(n) => {
                    let Some(start) = done.len().checked_sub(n) else {
                        return Err(missing_operand());
                    };
                    let items = done.split_off(start);
                    done.push(match task {
                        Task::And(_) => PlanExpr::And(items),
                        _ => PlanExpr::Or(items),
                    });
                }
                Task::Constant(value) => done.push(PlanExpr::Const(value)),
                Task::Aggregate {
                    function,
                    links,
                    field,
                    test,
                    negated,
                } => {
                    let Some(start) = done.len().checked_sub(links.len()) else {
                        return Err(missing_operand());
                    };
                    let filters = done.split_off(start);
                    let chain = links
                        .into_iter()
                        .zip(filters)
                        .map(|(link, filter)| plan::Hop { link, filter })
                        .collect();
                    let positive = PlanExpr::aggregate(AggregateTest {
                        aggregate: Aggregate {
                            function,
                            chain,
                            field,
                        },
                        test,
                    });
                    done.push(if negated {
                        PlanExpr::Not(Box::new(positive))
                    } else {
                        positive
                    });
                }
                Task::Related(link, quantifier) => {
                    let filter = pop(&mut done)?;
                    done.push(PlanExpr::Related(Related {
                        link,
                        quantifier,
                        filter: Box::new(filter),
                    }));
                }
            }
        }
        match (done.pop(), done.is_empty()) {
            (Some(plan), true) => Ok(plan),
            _ => Err(missing_operand()),
        }
    }

    /// One node: leaves go straight to `done`; inner nodes schedule their
    /// children, then the task that assembles them.
    fn visit<'e>(
        &mut self,
        expr: &'e Expr,
        entity: &'a Entity,
        depth: usize,
        tasks: &mut Vec<Task<'e, 'a>>,
        done: &mut Vec<PlanExpr>,
    ) -> Result<()> {
        if depth > MAX_PLAN_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_PLAN_DEPTH,
                span: expr.span,
            });
        }
        let children = |items: &'e [Expr]| {
            items
                .iter()
                .rev()
                .map(move |e| Task::Visit(e, entity, depth + 1))
        };
        match &expr.kind {
            ExprKind::Bool(b) => {
                self.add_nodes(1, expr.span)?;
                done.push(PlanExpr::Const(*b));
            }
            ExprKind::Not(inner) => {
                self.add_nodes(1, expr.span)?;
                tasks.push(Task::Not);
                tasks.push(Task::Visit(inner, entity, depth + 1));
            }
            ExprKind::And(items) => {
                self.add_nodes(1, expr.span)?;
                tasks.push(Task::And(items.len()));
                tasks.extend(children(items));
            }
            ExprKind::Or(items) => {
                self.add_nodes(1, expr.span)?;
                tasks.push(Task::Or(items.len()));
                tasks.extend(children(items));
            }
            ExprKind::Has(has) => {
                self.add_nodes(1, expr.span)?;
                let hop =
                    match resolve::has_hop(self.schema, entity, &has.relation, has.via.as_ref()) {
                        Ok(hop) => hop,
                        // Without the hop the filter has no entity to check on.
                        Err(error) => return self.recover(error, done),
                    };
                let link = hop.link(&mut self.names);
                tasks.push(Task::Related(link, quantifier(has.quantifier)));
                match &has.filter {
                    Some(filter) => tasks.push(Task::Visit(filter, hop.to, depth + 1)),
                    None => {
                        if depth + 1 > MAX_PLAN_DEPTH {
                            return Err(Error::TooDeep {
                                limit: MAX_PLAN_DEPTH,
                                span: expr.span,
                            });
                        }
                        self.add_nodes(1, expr.span)?;
                        done.push(PlanExpr::Const(true));
                    }
                }
            }
            ExprKind::InSegment(name) => match self.segment(name, entity, depth) {
                Ok(plan) => done.push(plan),
                Err(error) => self.recover(error, done)?,
            },
            ExprKind::Predicate(p) => match self.predicate(p, entity, depth, expr.span) {
                Ok(plan) => done.push(plan),
                Err(error) => self.recover(error, done)?,
            },
            ExprKind::Aggregate(test) => {
                if let Err(error) = self.aggregate(test, entity, depth, expr.span, tasks) {
                    self.recover(error, done)?;
                }
            }
        }
        Ok(())
    }

    /// An aggregate test: its shell waits on the task stack while the hop
    /// filters are checked, each on its hop's entity, one level deeper per
    /// hop (as the nested `has` it reads like).
    fn aggregate<'e>(
        &mut self,
        test: &'e ast::AggregateTest,
        entity: &'a Entity,
        depth: usize,
        span: Span,
        tasks: &mut Vec<Task<'e, 'a>>,
    ) -> Result<()> {
        let written = &test.aggregate;
        let resolved = aggregate::resolve(self.schema, entity, written)?;
        if let (Some(field), Some(ident)) = (resolved.field, &written.field) {
            aggregate::check_field(written.function, resolved.end, field, ident.span)?;
        }
        let context = format!("{}(...)", written.function.keyword());
        let (test_, negated) =
            aggregate::lower_test(&test.test, written.function, &resolved, &context)?;
        if let (ast::AggregateCheck::Between { low, high, .. }, Test::Between { low: l, high: h }) =
            (&test.test, &test_)
        {
            self.warnings
                .extend(warnings::reversed_between((low, l), (high, h), negated));
        }
        let hops = resolved.hops.len();
        if depth + hops + usize::from(negated) > MAX_PLAN_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_PLAN_DEPTH,
                span: written.span,
            });
        }
        self.add_nodes(1 + hops + usize::from(negated), span)?;
        tasks.push(Task::Aggregate {
            function: written.function,
            links: resolved
                .hops
                .iter()
                .map(|hop| hop.link(&mut self.names))
                .collect(),
            field: resolved.field_ref(&mut self.names),
            test: test_,
            negated,
        });
        for (i, (hop, resolved_hop)) in written.chain.iter().zip(&resolved.hops).enumerate().rev() {
            match &hop.filter {
                Some(filter) => tasks.push(Task::Visit(filter, resolved_hop.to, depth + 1 + i)),
                None => tasks.push(Task::Constant(true)),
            }
        }
        Ok(())
    }

    fn segment(&mut self, name: &ast::Ident, entity: &Entity, depth: usize) -> Result<PlanExpr> {
        let segment = self.segments.checked(name)?;
        if !segment.entity.eq_ignore_ascii_case(&entity.name) {
            return Err(Error::SegmentEntityMismatch {
                name: segment.name.clone(),
                expected: entity.name.clone(),
                found: segment.entity.clone(),
                span: name.span,
            });
        }
        // The segment's root takes this node's place, at this depth.
        if depth - 1 + segment.depth > MAX_PLAN_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_PLAN_DEPTH,
                span: name.span,
            });
        }
        self.add_nodes(segment.nodes, name.span)?;
        let filter = segment.filter.clone();
        Ok(if self.segments.keep_names {
            PlanExpr::Segment(SegmentRef {
                name: segment.name.clone(),
                filter: Box::new(filter),
            })
        } else {
            filter
        })
    }

    /// A predicate on `path`: hops up the path, then the field test, negated
    /// outside the hops when the predicate is a negative form.
    #[inline(never)]
    fn predicate(
        &mut self,
        predicate: &Predicate,
        entity: &'a Entity,
        depth: usize,
        span: Span,
    ) -> Result<PlanExpr> {
        let path = predicate_path(predicate);
        let resolved = resolve::path(self.schema, entity, path)
            .map_err(|e| elsewhere::annotate(e, self.schema, entity, predicate))?;
        let target = Target {
            entity: resolved.entity,
            field: resolved.field,
        };
        let (test, negated) = lower(predicate, &target, path.span, &mut self.warnings)?;
        let depth_needed = depth + resolved.hops.len() + usize::from(negated);
        if depth_needed > MAX_PLAN_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_PLAN_DEPTH,
                span,
            });
        }
        self.add_nodes(1 + resolved.hops.len() + usize::from(negated), span)?;
        let field = FieldRef {
            entity: self.names.of(&target.entity.name),
            field: self.names.of(&target.field.name),
            ty: value_type(&target.field.ty),
        };
        let positive = wrap_hops(
            &resolved.hops,
            PlanExpr::Field(FieldTest { field, test }),
            &mut self.names,
        );
        Ok(if negated {
            PlanExpr::Not(Box::new(positive))
        } else {
            positive
        })
    }
}

/// A written comparison as the plan's positive operator, and whether the
/// written one is its negation (`!=` is `not =`).
pub(crate) fn positive_op(op: ast::CmpOp) -> (CmpOp, bool) {
    match op {
        ast::CmpOp::Eq => (CmpOp::Eq, false),
        ast::CmpOp::Ne => (CmpOp::Eq, true),
        ast::CmpOp::Lt => (CmpOp::Lt, false),
        ast::CmpOp::Le => (CmpOp::Le, false),
        ast::CmpOp::Gt => (CmpOp::Gt, false),
        ast::CmpOp::Ge => (CmpOp::Ge, false),
    }
}

/// Most errors a check reports at once; past them it stops.
pub const MAX_ERRORS: usize = 50;

/// Whether `error` is about one node only, so that checking the others
/// still finds independent errors. Limits are about the whole plan.
pub(crate) fn is_local(error: &Error) -> bool {
    !matches!(
        error,
        Error::TooDeep { .. }
            | Error::TooManyNodes { .. }
            | Error::TooLarge { .. }
            | Error::Internal { .. }
            | Error::Schema { .. }
    )
}

/// Work on the explicit stack of [`Checker::expr`].
enum Task<'e, 'a> {
    /// Check this expression on this entity at this plan depth.
    Visit(&'e Expr, &'a Entity, usize),
    /// Wrap the last result in `Not`.
    Not,
    /// Gather the last n results into `And` / `Or`.
    And(usize),
    Or(usize),
    /// Wrap the last result as the filter of this hop.
    Related(Link, Quantifier),
    /// A constant result: the filter of a hop written without one.
    Constant(bool),
    /// The last `links.len()` results are the hop filters of this aggregate.
    Aggregate {
        function: AggregateFn,
        links: Vec<Link>,
        field: Option<FieldRef>,
        test: Test,
        negated: bool,
    },
}

fn pop(done: &mut Vec<PlanExpr>) -> Result<PlanExpr> {
    done.pop().ok_or_else(missing_operand)
}

fn missing_operand() -> Error {
    Error::Internal {
        message: "the checker's work stack lost an operand".into(),
    }
}

fn quantifier(q: ast::Quantifier) -> Quantifier {
    match q {
        ast::Quantifier::Any => Quantifier::Any,
        ast::Quantifier::No => Quantifier::No,
        ast::Quantifier::AtLeast(n) => Quantifier::AtLeast(n),
        ast::Quantifier::AtMost(n) => Quantifier::AtMost(n),
        ast::Quantifier::Exactly(n) => Quantifier::Exactly(n),
    }
}

pub(crate) fn predicate_path(p: &Predicate) -> &ast::Path {
    match p {
        Predicate::Compare { path, .. }
        | Predicate::IsNull { path, .. }
        | Predicate::InList { path, .. }
        | Predicate::Between { path, .. }
        | Predicate::Text { path, .. }
        | Predicate::BoolField { path } => path,
    }
}

/// `a.b.f op v` is `Related{a, Any, Related{b, Any, test}}`.
fn wrap_hops(hops: &[Hop], test: PlanExpr, names: &mut PlanNames) -> PlanExpr {
    hops.iter().rev().fold(test, |inner, hop| {
        PlanExpr::Related(Related {
            link: hop.link(names),
            quantifier: Quantifier::Any,
            filter: Box::new(inner),
        })
    })
}

/// The positive field test of a predicate, and whether it is negated.
fn lower(
    p: &Predicate,
    target: &Target,
    path_span: Span,
    found: &mut Vec<Warning>,
) -> Result<(Test, bool)> {
    Ok(match p {
        Predicate::Compare { op, value, .. } => {
            let (op, negated) = positive_op(*op);
            if op != CmpOp::Eq {
                require_ordered(target, op.symbol(), path_span)?;
            }
            let value = target.value(value)?;
            (Test::Compare { op, value }, negated)
        }
        Predicate::IsNull { negated, .. } => (Test::IsNotNull, !negated),
        Predicate::InList {
            negated, values, ..
        } => {
            if values.len() > MAX_IN_LIST {
                return Err(Error::TooManyValues {
                    count: values.len(),
                    limit: MAX_IN_LIST,
                    span: path_span,
                });
            }
            let values = values
                .iter()
                .map(|v| target.value(v))
                .collect::<Result<Vec<Value>>>()?;
            (Test::InList(values), *negated)
        }
        Predicate::Between {
            negated, low, high, ..
        } => {
            require_ordered(target, "between", path_span)?;
            let (low_value, high_value) = (target.value(low)?, target.value(high)?);
            found.extend(warnings::reversed_between(
                (low, &low_value),
                (high, &high_value),
                *negated,
            ));
            (Test::between(low_value, high_value), *negated)
        }
        Predicate::Text {
            negated,
            op,
            pattern,
            ..
        } => {
            let op = match op {
                ast::TextOp::Contains => TextOp::Contains,
                ast::TextOp::StartsWith => TextOp::StartsWith,
                ast::TextOp::EndsWith => TextOp::EndsWith,
            };
            let name = op.keyword();
            if target.field.ty != FieldType::Text {
                return Err(Error::TypeMismatch {
                    context: format!("`{name}`"),
                    expected: "a text field".into(),
                    found: target.described(),
                    span: path_span,
                });
            }
            let pattern = text_pattern(pattern, name)?;
            (Test::Text { op, pattern }, *negated)
        }
        Predicate::BoolField { .. } => {
            if target.field.ty != FieldType::Bool {
                return Err(Error::TypeMismatch {
                    context: "a field alone as a condition".into(),
                    expected: format!(
                        "a bool field (compare it instead, e.g. `{} is not null`)",
                        target.field.name
                    ),
                    found: target.described(),
                    span: path_span,
                });
            }
            let value = Value::Bool(true);
            (
                Test::Compare {
                    op: CmpOp::Eq,
                    value,
                },
                false,
            )
        }
    })
}

fn text_pattern(pattern: &Literal, op: &str) -> Result<String> {
    match &pattern.kind {
        ast::LiteralKind::String(s) => Ok(s.to_string()),
        other => Err(Error::TypeMismatch {
            context: format!("`{op}`"),
            expected: "text in double quotes".into(),
            found: describe_literal(other),
            span: pattern.span,
        }),
    }
}

/// Ordering (`<` `<=` `>` `>=` `between`) applies to text, numbers, dates,
/// date-times and ordered choices.
fn require_ordered(target: &Target, op: &str, span: Span) -> Result<()> {
    match &target.field.ty {
        ty if ty.is_ordered() => Ok(()),
        FieldType::Choice(_) => Err(Error::NotOrdered {
            entity: target.entity.name.clone(),
            field: target.field.name.clone(),
            span,
        }),
        _ => Err(Error::TypeMismatch {
            context: format!("`{op}`"),
            expected: ORDERED_FIELD.into(),
            found: target.described(),
            span,
        }),
    }
}

/// What an ordering test or `min`/`max` expects, in an error.
pub(crate) const ORDERED_FIELD: &str =
    "an ordered field (text, integer, decimal, date, datetime or ordered choice)";
