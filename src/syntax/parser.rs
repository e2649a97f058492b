//! pest behind a thin wall: the crate-private grammar type and one small
//! function per rule that turns a [`Pair`] into an AST node.
//!
//! The public entry points (`parse_query` and friends in `mod.rs`) check the
//! size and depth limits first, then call [`run`], which parses on a thread
//! with a large stack when the query nests deeply, so the recursive descent
//! of pest and of this builder never overflows the caller's stack.

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use crate::error::{limits::MAX_IN_LIST, Error, Result};
use crate::span::{SourceKind, Span};

use super::ast::{
    Aggregate, AggregateCheck, AggregateFn, AggregateTest, ChainHop, CmpOp, Expr, ExprKind, Has,
    Ident, Library, Literal, Path, Predicate, Quantifier, Query, SegmentDef, TextOp,
};
use super::expected::syntax_error;
use super::literal::{build_literal, build_string, count_value};

#[derive(Parser)]
#[grammar = "../grammar/segql.pest"]
pub(crate) struct SegqlParser;

/// Nesting below which parsing runs on the caller's thread. Deeper queries
/// get a thread of their own with [`BIG_STACK`] bytes of stack: in a debug
/// build pest's recursive descent takes some 40 KB of stack per nesting
/// level, so even a 256-deep query would overflow a 2 MiB thread.
const INLINE_DEPTH: usize = 8;
const BIG_STACK: usize = 64 << 20;

/// Parses `text` as `rule` and builds the result with `build`; `depth` is the
/// nesting the pre-scan measured.
pub(crate) fn run<T, F>(
    text: &str,
    source: SourceKind,
    rule: Rule,
    depth: usize,
    build: F,
) -> Result<T>
where
    T: Send,
    F: FnOnce(Pair<'_, Rule>, &Builder) -> Result<T> + Send,
{
    let work = move || {
        let builder = Builder { source };
        let mut pairs =
            SegqlParser::parse(rule, text).map_err(|e| syntax_error(text, source, &e))?;
        let top = pairs
            .next()
            .ok_or_else(|| internal("the parser returned nothing"))?;
        build(top, &builder)
    };
    if depth < INLINE_DEPTH {
        return work();
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("segql-parse".into())
            .stack_size(BIG_STACK)
            .spawn_scoped(scope, work)
            .map_err(|e| internal(&format!("cannot start the parser thread: {e}")))?;
        handle
            .join()
            .unwrap_or_else(|_| Err(internal("the parser thread panicked")))
    })
}

/// The characters of the grammar's `WHITESPACE`.
const BLANKS: [char; 5] = [' ', '\t', '\r', '\n', '\u{FEFF}'];

/// The rules that end in `EOI`, whose last leaf is the end of the text.
fn is_input(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::query_input
            | Rule::library_input
            | Rule::expr_input
            | Rule::literal_input
            | Rule::models_input
    )
}

/// Where the rightmost leaf under `pair` ends (at least at its start).
fn leaf_end(pair: &Pair<'_, Rule>) -> usize {
    let mut last = pair.clone();
    while let Some(child) = last.clone().into_inner().next_back() {
        last = child;
    }
    last.as_span().end().max(pair.as_span().start())
}

pub(crate) fn internal(message: &str) -> Error {
    Error::Internal {
        message: message.to_string(),
    }
}

/// Builds AST nodes from pairs; knows which text its spans point into.
pub(crate) struct Builder {
    pub source: SourceKind,
}

impl Builder {
    /// The span of `pair` without trailing blanks and comments. pest's span
    /// of a rule ending in an optional or repeated part includes the blank
    /// skipped before trying that part; the last token of the rule (its
    /// rightmost leaf, always an atomic rule) ends where the text does.
    ///
    /// Walking down to that leaf costs a count of the children at every
    /// level (pest's `into_inner`), for every node built. Where the pair's
    /// text holds no comment and the rule ends in no `EOI` (only the
    /// `*_input` rules do), what follows the last token can only be blanks,
    /// so trimming them gives the same end without the walk; it is most of
    /// the cost of spans, a tenth of parsing.
    pub fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = pair.as_span().start();
        let text = pair.as_str();
        if !text.contains('#') && !is_input(pair.as_rule()) {
            let kept = text.trim_end_matches(BLANKS).len();
            return Span::new(start, start + kept, self.source);
        }
        Span::new(start, leaf_end(pair), self.source)
    }

    /// The children of `pair` that carry meaning: keywords and punctuation
    /// are skipped because their rule already told us what they are.
    pub(super) fn parts<'i>(&self, pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
        pair.into_inner().filter(|p| !is_noise(p.as_rule()))
    }

    pub fn query_input(&self, pair: Pair<'_, Rule>) -> Result<Query> {
        let query = self
            .parts(pair)
            .find(|p| p.as_rule() == Rule::query)
            .ok_or_else(|| internal("query_input without a query"))?;
        self.query(query)
    }

    pub fn library_input(&self, pair: Pair<'_, Rule>) -> Result<Library> {
        let segments = self
            .parts(pair)
            .filter(|p| p.as_rule() == Rule::segment_def)
            .map(|p| self.segment_def(p))
            .collect::<Result<_>>()?;
        Ok(Library { segments })
    }

    pub fn expr_input(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let expr = self
            .parts(pair)
            .find(|p| p.as_rule() == Rule::or_expr)
            .ok_or_else(|| internal("expr_input without an expression"))?;
        self.expr(expr)
    }

    pub fn literal_input(&self, pair: Pair<'_, Rule>) -> Result<Literal> {
        let literal = self
            .parts(pair)
            .find(|p| p.as_rule() == Rule::literal)
            .ok_or_else(|| internal("literal_input without a literal"))?;
        build_literal(self, literal)
    }

    fn segment_def(&self, pair: Pair<'_, Rule>) -> Result<SegmentDef> {
        let span = self.span(&pair);
        let mut parts = self.parts(pair);
        let name = self.name(parts.next())?;
        let query = self.query(next(&mut parts, "segment_def")?)?;
        Ok(SegmentDef { name, query, span })
    }

    fn query(&self, pair: Pair<'_, Rule>) -> Result<Query> {
        let span = self.span(&pair);
        let mut parts = self.parts(pair);
        let entity = self.name(parts.next())?;
        let filter = parts.next().map(|p| self.expr(p)).transpose()?;
        Ok(Query {
            entity,
            filter,
            span,
        })
    }

    /// A wrapper rule around `ident` (`entity_name`, `field_name`, ...).
    pub(super) fn name(&self, pair: Option<Pair<'_, Rule>>) -> Result<Ident> {
        let pair = pair.ok_or_else(|| internal("a name is missing"))?;
        Ok(Ident {
            name: pair.as_str().trim().into(),
            span: self.span(&pair),
        })
    }

    /// Any expression rule: `or_expr`, `and_expr`, `unary`, `group` or a primary.
    pub fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::or_expr => self.chain(pair, span, ExprKind::Or),
            Rule::and_expr => self.chain(pair, span, ExprKind::And),
            Rule::unary => {
                let mut inner = pair.into_inner();
                let first = next(&mut inner, "unary")?;
                if first.as_rule() == Rule::kw_not {
                    let operand = self.expr(next(&mut inner, "unary")?)?;
                    Ok(Expr {
                        kind: ExprKind::Not(Box::new(operand)),
                        span,
                    })
                } else {
                    self.expr(first)
                }
            }
            Rule::group => {
                let inner = next(&mut self.parts(pair), "group")?;
                let expr = self.expr(inner)?;
                // The group's span includes its parentheses.
                Ok(Expr { span, ..expr })
            }
            Rule::kw_true => Ok(Expr {
                kind: ExprKind::Bool(true),
                span,
            }),
            Rule::kw_false => Ok(Expr {
                kind: ExprKind::Bool(false),
                span,
            }),
            Rule::has => self.has(pair, span),
            Rule::member => {
                let name = self.name(self.parts(pair).next())?;
                Ok(Expr {
                    kind: ExprKind::InSegment(name),
                    span,
                })
            }
            Rule::aggregate_test => Ok(Expr {
                kind: ExprKind::Aggregate(Box::new(self.aggregate_test(pair)?)),
                span,
            }),
            Rule::predicate => Ok(Expr {
                kind: ExprKind::Predicate(self.predicate(pair)?),
                span,
            }),
            other => Err(internal(&format!(
                "unexpected rule {other:?} in an expression"
            ))),
        }
    }

    /// `a op b op c` becomes one n-ary node; a single operand is itself.
    fn chain(
        &self,
        pair: Pair<'_, Rule>,
        span: Span,
        make: fn(Vec<Expr>) -> ExprKind,
    ) -> Result<Expr> {
        let mut operands = self
            .parts(pair)
            .map(|p| self.expr(p))
            .collect::<Result<Vec<_>>>()?;
        if operands.len() == 1 {
            return operands.pop().ok_or_else(|| internal("empty chain"));
        }
        Ok(Expr {
            kind: make(operands),
            span,
        })
    }

    fn has(&self, pair: Pair<'_, Rule>, span: Span) -> Result<Expr> {
        let mut quantifier = Quantifier::Any;
        let mut relation = None;
        let mut via = None;
        let mut filter = None;
        for part in self.parts(pair) {
            match part.as_rule() {
                Rule::quantifier => quantifier = self.quantifier(part)?,
                Rule::relation_name => relation = Some(self.name(Some(part))?),
                Rule::via => via = Some(self.name(self.parts(part).next())?),
                Rule::group => filter = Some(Box::new(self.expr(part)?)),
                other => return Err(internal(&format!("unexpected {other:?} in has"))),
            }
        }
        let relation = relation.ok_or_else(|| internal("has without a relation"))?;
        Ok(Expr {
            kind: ExprKind::Has(Has {
                quantifier,
                relation,
                via,
                filter,
            }),
            span,
        })
    }

    fn quantifier(&self, pair: Pair<'_, Rule>) -> Result<Quantifier> {
        let mut make: Option<fn(u64) -> Quantifier> = None;
        let mut count = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_no => return Ok(Quantifier::No),
                Rule::kw_least => make = Some(Quantifier::AtLeast),
                Rule::kw_most => make = Some(Quantifier::AtMost),
                Rule::kw_exactly => make = Some(Quantifier::Exactly),
                Rule::count => count = Some(count_value(part.as_str(), self.span(&part))?),
                _ => {}
            }
        }
        match (make, count) {
            (Some(make), Some(n)) => Ok(make(n)),
            _ => Err(internal("incomplete quantifier")),
        }
    }

    fn predicate(&self, pair: Pair<'_, Rule>) -> Result<Predicate> {
        let mut inner = pair.into_inner();
        let path = self.path(next(&mut inner, "predicate")?)?;
        let Some(tail) = inner.next() else {
            return Ok(Predicate::BoolField { path });
        };
        let Tail {
            rule,
            negated,
            op_text,
            values,
        } = self.tail(tail)?;
        if rule == Rule::list_tail {
            if values.len() > MAX_IN_LIST {
                let span = values[MAX_IN_LIST].span.to(values[values.len() - 1].span);
                return Err(Error::TooManyValues {
                    count: values.len(),
                    limit: MAX_IN_LIST,
                    span,
                });
            }
            return Ok(Predicate::InList {
                path,
                negated,
                values,
            });
        }
        let mut values = values.into_iter();
        let mut value = || {
            values
                .next()
                .ok_or_else(|| internal("predicate without a value"))
        };
        Ok(match rule {
            Rule::cmp_tail => Predicate::Compare {
                path,
                op: cmp_op(&op_text)?,
                value: value()?,
            },
            Rule::null_tail => Predicate::IsNull { path, negated },
            Rule::between_tail => Predicate::Between {
                path,
                negated,
                low: Box::new(value()?),
                high: Box::new(value()?),
            },
            Rule::text_tail => Predicate::Text {
                path,
                negated,
                op: text_op(&op_text),
                pattern: value()?,
            },
            other => return Err(internal(&format!("unexpected predicate tail {other:?}"))),
        })
    }

    /// What follows a field or an aggregate: `cmp_tail`, `null_tail`,
    /// `list_tail`, `between_tail` or `text_tail`, taken apart.
    fn tail(&self, tail: Pair<'_, Rule>) -> Result<Tail> {
        let rule = tail.as_rule();
        let mut negated = false;
        let mut op_text = String::new();
        let mut values = Vec::new();
        let mut bad_op = None;
        for part in tail.into_inner() {
            match part.as_rule() {
                Rule::kw_not => negated = true,
                Rule::cmp_op => op_text = part.as_str().to_string(),
                Rule::bad_cmp_op => bad_op = Some(part),
                Rule::text_op => op_text = part.as_str().to_ascii_lowercase(),
                Rule::literal => values.push(build_literal(self, part)?),
                Rule::pattern => {
                    let inner = next(&mut part.into_inner(), "pattern")?;
                    values.push(self.pattern(inner)?);
                }
                _ => {}
            }
        }
        if let Some(op) = bad_op {
            return Err(bad_operator(self, &op));
        }
        Ok(Tail {
            rule,
            negated,
            op_text,
            values,
        })
    }

    /// `aggregate (cmp_tail | null_tail | between_tail)`.
    fn aggregate_test(&self, pair: Pair<'_, Rule>) -> Result<AggregateTest> {
        let mut inner = pair.into_inner();
        let aggregate = self.aggregate(next(&mut inner, "aggregate test")?)?;
        let Tail {
            rule,
            negated,
            op_text,
            values,
        } = self.tail(next(&mut inner, "aggregate test")?)?;
        let mut values = values.into_iter();
        let mut value = || {
            values
                .next()
                .ok_or_else(|| internal("aggregate test without a value"))
        };
        let test = match rule {
            Rule::cmp_tail => AggregateCheck::Compare {
                op: cmp_op(&op_text)?,
                value: value()?,
            },
            Rule::null_tail => AggregateCheck::IsNull { negated },
            Rule::between_tail => AggregateCheck::Between {
                negated,
                low: value()?,
                high: value()?,
            },
            other => return Err(internal(&format!("unexpected aggregate tail {other:?}"))),
        };
        Ok(AggregateTest { aggregate, test })
    }

    /// `agg_fn ( hop { . hop } )`; for every function but `count` the last
    /// hop is the field, and must be a bare name.
    fn aggregate(&self, pair: Pair<'_, Rule>) -> Result<Aggregate> {
        let span = self.span(&pair);
        let mut function = None;
        let mut chain = Vec::new();
        for part in self.parts(pair) {
            match part.as_rule() {
                Rule::agg_fn => function = Some(agg_fn(part.as_str())?),
                Rule::hop => chain.push(self.hop(part)?),
                other => return Err(internal(&format!("unexpected {other:?} in an aggregate"))),
            }
        }
        let function = function.ok_or_else(|| internal("aggregate without a function"))?;
        if function == AggregateFn::Count {
            return Ok(Aggregate {
                function,
                chain,
                field: None,
                span,
            });
        }
        let name = function.keyword();
        let last = match chain.pop() {
            Some(last) if !chain.is_empty() => last,
            _ => {
                return Err(Error::Syntax {
                    message: format!("{name} needs a field after the relationship"),
                    expected: vec!["`.` and a field name".into()],
                    span: Span { start: span.end.saturating_sub(1), ..span },
                    hint: Some(format!(
                        "{name} adds up a field of the related records, e.g. `{name}(lead.estimated_value)`; \
                         count(...) counts the records themselves"
                    )),
                })
            }
        };
        if last.via.is_some() || last.filter.is_some() {
            return Err(Error::Syntax {
                message: format!(
                    "{name} ends with a field, not a relationship: '{}' has a via or a filter",
                    last.relation.name
                ),
                expected: vec!["`.` and a field name".into()],
                span: last.span,
                hint: Some(format!(
                    "write the field after the last relationship, e.g. `{name}(lead(status = \"Open\").estimated_value)`"
                )),
            });
        }
        Ok(Aggregate {
            function,
            chain,
            field: Some(last.relation),
            span,
        })
    }

    pub(super) fn hop(&self, pair: Pair<'_, Rule>) -> Result<ChainHop> {
        let span = self.span(&pair);
        let mut relation = None;
        let mut via = None;
        let mut filter = None;
        for part in self.parts(pair) {
            match part.as_rule() {
                Rule::relation_name => relation = Some(self.name(Some(part))?),
                Rule::via => via = Some(self.name(self.parts(part).next())?),
                Rule::group => filter = Some(Box::new(self.expr(part)?)),
                other => return Err(internal(&format!("unexpected {other:?} in a hop"))),
            }
        }
        Ok(ChainHop {
            relation: relation.ok_or_else(|| internal("a hop without a relation"))?,
            via,
            filter,
            span,
        })
    }

    /// The pattern of `contains`/`starts with`/`ends with`: a string only.
    fn pattern(&self, pair: Pair<'_, Rule>) -> Result<Literal> {
        match pair.as_rule() {
            Rule::string => build_string(self, pair),
            _ => Err(super::literal::single_quoted(self, &pair)),
        }
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Result<Path> {
        let span = self.span(&pair);
        let segments = pair
            .into_inner()
            .map(|p| self.name(Some(p)))
            .collect::<Result<_>>()?;
        Ok(Path { segments, span })
    }
}

/// A predicate's or aggregate's tail, taken apart.
struct Tail {
    rule: Rule,
    negated: bool,
    op_text: String,
    values: Vec<Literal>,
}

fn agg_fn(text: &str) -> Result<AggregateFn> {
    let text = text.to_ascii_lowercase();
    AggregateFn::ALL
        .into_iter()
        .find(|f| f.keyword() == text)
        .ok_or_else(|| internal(&format!("unknown aggregate function {text}")))
}

/// Keyword and punctuation rules: the structure already says what they mean.
fn is_noise(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::EOI
            | Rule::kw_where
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_has
            | Rule::kw_via
            | Rule::kw_in
            | Rule::kw_segment
            | Rule::open_paren
            | Rule::close_paren
            | Rule::open_bracket
            | Rule::close_bracket
            | Rule::comma
            | Rule::def_eq
    )
}

fn next<'i>(
    pairs: &mut impl Iterator<Item = Pair<'i, Rule>>,
    what: &str,
) -> Result<Pair<'i, Rule>> {
    pairs
        .next()
        .ok_or_else(|| internal(&format!("{what} is missing a part")))
}

fn cmp_op(text: &str) -> Result<CmpOp> {
    CmpOp::ALL
        .into_iter()
        .find(|op| op.symbol() == text)
        .ok_or_else(|| internal(&format!("unknown operator {text}")))
}

fn text_op(text: &str) -> TextOp {
    if text.starts_with("contains") {
        TextOp::Contains
    } else if text.starts_with("starts") {
        TextOp::StartsWith
    } else {
        TextOp::EndsWith
    }
}

/// `==`, `<>` and friends: say what segql writes instead.
fn bad_operator(builder: &Builder, op: &Pair<'_, Rule>) -> Error {
    let written = op.as_str();
    let instead = match written {
        "==" => "=",
        "<>" => "!=",
        "=<" => "<=",
        _ => ">=",
    };
    Error::Syntax {
        message: format!("unknown operator '{written}'; segql writes it `{instead}`"),
        expected: vec!["a comparison operator (=, !=, <, <=, >, >=)".to_string()],
        span: builder.span(op),
        hint: Some(format!("use `{instead}` instead of `{written}`")),
    }
}

#[cfg(test)]
mod tests {
    use pest::Parser as _;

    use super::{leaf_end, Builder, Rule, SegqlParser};
    use crate::span::SourceKind;
    use crate::syntax::ast::{AggregateCheck, AggregateFn, ExprKind, Predicate, Quantifier};
    use crate::syntax::{format_expr, parse_expr, parse_query};

    /// The tree of `text` in canonical text with every group parenthesized,
    /// so a test can state the grouping it expects.
    fn shape(text: &str) -> String {
        fn walk(e: &crate::syntax::ast::Expr) -> String {
            match &e.kind {
                ExprKind::And(items) => format!(
                    "and({})",
                    items.iter().map(walk).collect::<Vec<_>>().join(", ")
                ),
                ExprKind::Or(items) => format!(
                    "or({})",
                    items.iter().map(walk).collect::<Vec<_>>().join(", ")
                ),
                ExprKind::Not(inner) => format!("not({})", walk(inner)),
                _ => format_expr(e),
            }
        }
        walk(&parse_expr(text, SourceKind::Query).unwrap())
    }

    #[test]
    fn spans_by_trimming_end_at_the_last_leaf() {
        let builder = Builder {
            source: SourceKind::Query,
        };
        let texts = [
            "contact where role = \"decision maker\" and has lead(topic = \"x\")  ",
            "contact where (a or b)\t\n and not c between 1 and 2 \u{feff}",
            "contact where has at least 2 interaction ( type = \"E\" ) or x is not null ",
            "contact where created_on >= now - 30d and birth_date < 1990-01-01 ",
            "contact where x in [1, 2, ] and y not contains 'z' and d > today + 1d ",
            "contact where count(lead(status = \"Open\")) >= 2 and in vip ",
            "contact where a # a comment\n and b # another\n",
            "contact where t = \"# not a comment \" and u ",
            "contact where sum(lead.score) between 1 and 2 or account.city = \"P\" ",
            "contact   ",
        ];
        for text in texts {
            let pairs = SegqlParser::parse(Rule::query_input, text).unwrap();
            for pair in pairs.flatten() {
                let span = builder.span(&pair);
                assert_eq!(
                    span.end as usize,
                    leaf_end(&pair),
                    "{:?} in {text:?}",
                    pair.as_rule()
                );
            }
        }
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        assert_eq!(shape("a or b and c"), "or(a, and(b, c))");
        assert_eq!(shape("a and b or c"), "or(and(a, b), c)");
        assert_eq!(shape("not a and b"), "and(not(a), b)");
        assert_eq!(shape("not not a or b"), "or(not(not(a)), b)");
        assert_eq!(shape("not (a or b)"), "not(or(a, b))");
    }

    #[test]
    fn chains_are_flat_but_author_groups_stay_nested() {
        assert_eq!(shape("a and b and c and d"), "and(a, b, c, d)");
        assert_eq!(shape("a or b or c"), "or(a, b, c)");
        assert_eq!(shape("(a and b) and c"), "and(and(a, b), c)");
        assert_eq!(shape("a or (b or c)"), "or(a, or(b, c))");
        assert_eq!(shape("((a))"), "a");
    }

    #[test]
    fn between_keeps_its_own_and() {
        assert_eq!(
            shape("x between 1 and 2 and y"),
            "and(x between 1 and 2, y)"
        );
        assert_eq!(
            shape("x not between 1 and 2 or y"),
            "or(x not between 1 and 2, y)"
        );
    }

    #[test]
    fn keywords_are_case_insensitive_and_need_a_word_boundary() {
        let q = parse_query("CONTACT WHERE NOT Order AND nowhere Or isbn").unwrap();
        assert_eq!(q.entity.name, "CONTACT");
        assert_eq!(
            shape("NOT Order AND nowhere Or isbn"),
            "or(and(not(Order), nowhere), isbn)"
        );
        // Field names of the default schema that look like keywords.
        assert_eq!(
            shape("list = \"x\" and type = 1 and source = 2"),
            "and(list = \"x\", type = 1, source = 2)"
        );
    }

    #[test]
    fn has_forms() {
        let q = parse_query(
            "contact where has at least 3 interaction via interaction_contact(type = 1)",
        )
        .unwrap();
        let Some(ExprKind::Has(has)) = q.filter.map(|f| f.kind) else {
            panic!("expected has")
        };
        assert_eq!(has.quantifier, Quantifier::AtLeast(3));
        assert_eq!(has.relation.name, "interaction");
        assert_eq!(
            has.via.map(|v| v.name).as_deref(),
            Some("interaction_contact")
        );
        assert!(has.filter.is_some());
        for (text, quantifier) in [
            ("has lead", Quantifier::Any),
            ("has no lead", Quantifier::No),
            ("has at most 0 lead", Quantifier::AtMost(0)),
            ("has exactly 2 lead", Quantifier::Exactly(2)),
            // A relationship called `no` is still a name when no name follows.
            ("has no(x)", Quantifier::Any),
        ] {
            match parse_expr(text, SourceKind::Query).unwrap().kind {
                ExprKind::Has(h) => assert_eq!(h.quantifier, quantifier, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn aggregate_forms() {
        let expr = parse_expr(
            "SUM(lead(status = \"Open\").account via lead_parent_account.employees) not between 1 and 2",
            SourceKind::Query,
        )
        .unwrap();
        let ExprKind::Aggregate(test) = expr.kind else {
            panic!("expected an aggregate, got {:?}", expr.kind)
        };
        let aggregate = &test.aggregate;
        assert_eq!(aggregate.function, AggregateFn::Sum);
        let hops: Vec<&str> = aggregate
            .chain
            .iter()
            .map(|h| h.relation.name.as_str())
            .collect();
        assert_eq!(hops, ["lead", "account"]);
        assert!(aggregate.chain[0].filter.is_some());
        assert_eq!(
            aggregate.chain[1].via.as_ref().map(|v| v.name.as_str()),
            Some("lead_parent_account")
        );
        assert_eq!(
            aggregate.field.as_ref().map(|f| f.name.as_str()),
            Some("employees")
        );
        assert!(matches!(
            test.test,
            AggregateCheck::Between { negated: true, .. }
        ));

        // `count` has no field: every name is a hop.
        let ExprKind::Aggregate(test) =
            parse_expr("count(contact.interaction) is null", SourceKind::Query)
                .unwrap()
                .kind
        else {
            panic!("expected an aggregate")
        };
        assert_eq!(test.aggregate.chain.len(), 2);
        assert_eq!(test.aggregate.field, None);
        assert_eq!(test.test, AggregateCheck::IsNull { negated: false });

        // A field called like a function is still a field.
        assert!(matches!(
            parse_expr("max = 3", SourceKind::Query).unwrap().kind,
            ExprKind::Predicate(_)
        ));
        // Only comparisons, `is null` and `between` test an aggregate.
        assert!(parse_expr("count(lead) in [1, 2]", SourceKind::Query).is_err());
        assert!(parse_expr("count(lead)", SourceKind::Query).is_err());
        assert!(parse_expr("avg(lead) > 1", SourceKind::Query).is_err());
    }

    #[test]
    fn predicate_forms() {
        let forms = [
            "a = 1",
            "a != 1",
            "a < 1",
            "a <= 1",
            "a > 1",
            "a >= 1",
            "a is null",
            "a is not null",
            "a in [1, 2]",
            "a not in [1]",
            "a between 1 and 2",
            "a not between 1 and 2",
            "a contains \"x\"",
            "a not contains \"x\"",
            "a starts with \"x\"",
            "a ends with \"x\"",
            "a not ends with \"x\"",
            "a.b.c",
        ];
        for text in forms {
            let e = parse_expr(text, SourceKind::Query).unwrap();
            assert!(matches!(e.kind, ExprKind::Predicate(_)), "{text}");
            assert_eq!(format_expr(&e), text);
        }
        let e = parse_expr("a in [1, 2,]", SourceKind::Query).unwrap();
        assert!(
            matches!(e.kind, ExprKind::Predicate(Predicate::InList { ref values, .. }) if values.len() == 2)
        );
    }

    /// Queries shallower than `INLINE_DEPTH` parse on the caller's thread;
    /// they must leave most of an ordinary 2 MiB thread stack to the caller.
    #[test]
    fn inline_parses_fit_in_a_small_stack() {
        let n = super::INLINE_DEPTH - 1;
        for text in [
            format!("contact where {}x = 1{}", "(".repeat(n), ")".repeat(n)),
            format!("contact where {}x", "not ".repeat(n)),
            format!(
                "contact where {}x = 1{}",
                "has lead(".repeat(n),
                ")".repeat(n)
            ),
        ] {
            let parsed = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn(move || parse_query(&text).is_ok())
                .unwrap()
                .join()
                .unwrap();
            assert!(parsed);
        }
    }

    #[test]
    fn layout_is_free_and_a_byte_order_mark_is_blank() {
        let canonical = parse_query("contact where a = 1 and b").unwrap();
        for text in [
            "\u{FEFF}contact where a = 1 and b",
            "contact\r\nwhere\ta=1\n  and b # done",
            "# leading comment\ncontact where a=1 and#x\nb",
        ] {
            assert_eq!(parse_query(text).unwrap(), canonical, "{text:?}");
        }
    }

    #[test]
    fn spans_are_byte_offsets_tagged_with_their_source() {
        let e = parse_expr("é = 1 or in seg", SourceKind::Guard);
        assert!(e.is_err(), "names are ASCII");
        let e = parse_expr("x = \"é\" or in seg", SourceKind::Guard).unwrap();
        let ExprKind::Or(items) = e.kind else {
            panic!()
        };
        assert_eq!((items[1].span.start, items[1].span.end), (12, 18));
        assert!(matches!(items[1].span.source, SourceKind::Guard));
    }
}
