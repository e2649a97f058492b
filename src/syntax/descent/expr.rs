//! Expressions: `or`/`and` chains, `not`, groups, `has`, `in SEGMENT`,
//! aggregate tests and predicates, rule by rule as the grammar has them.

use crate::error::limits::MAX_IN_LIST;
use crate::syntax::ast::{
    Aggregate, AggregateCheck, AggregateFn, AggregateTest, ChainHop, CmpOp, Expr, ExprKind, Has,
    Ident, Literal, Path, Predicate, Quantifier, TextOp,
};
use crate::syntax::literal::count_value;

use super::Descent;

/// What follows a field or an aggregate, with where it ends.
enum Tail {
    Compare(CmpOp, Literal),
    IsNull(bool),
    InList(bool, Vec<Literal>),
    Between(bool, Literal, Literal),
    Text(bool, TextOp, Literal),
}

impl Descent<'_> {
    /// `or_expr = { and_expr ~ (kw_or ~ and_expr)* }`.
    pub(super) fn or_expr(&mut self) -> Option<Expr> {
        self.chain("or", Descent::and_expr, ExprKind::Or)
    }

    /// `and_expr = { unary ~ (kw_and ~ unary)* }`.
    fn and_expr(&mut self) -> Option<Expr> {
        self.chain("and", Descent::unary, ExprKind::And)
    }

    /// Operands joined by `keyword` become one n-ary node; one operand is
    /// itself.
    fn chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Option<Expr>,
        make: fn(Vec<Expr>) -> ExprKind,
    ) -> Option<Expr> {
        let first = operand(self)?;
        let Some(second) = self.attempt(|d| {
            d.keyword(keyword)?;
            operand(d)
        }) else {
            return Some(first);
        };
        let mut operands = vec![first, second];
        while let Some(next) = self.attempt(|d| {
            d.keyword(keyword)?;
            operand(d)
        }) {
            operands.push(next);
        }
        let span = operands[0].span.to(operands[operands.len() - 1].span);
        Some(Expr {
            kind: make(operands),
            span,
        })
    }

    /// `unary = { kw_not ~ unary | primary }`. `not` is reserved, so no
    /// other alternative can start with it.
    fn unary(&mut self) -> Option<Expr> {
        if let Some(start) = self.keyword("not") {
            let operand = self.nested(Descent::unary)?;
            let span = self.span(start, operand.span.end as usize);
            return Some(Expr {
                kind: ExprKind::Not(Box::new(operand)),
                span,
            });
        }
        self.primary()
    }

    /// `primary = _{ group | kw_true | kw_false | has | member |
    /// aggregate_test | predicate }`, chosen by the first token: only an
    /// aggregate's name can start two of them (`count(` or a field called
    /// `count`), and there the aggregate is tried first.
    fn primary(&mut self) -> Option<Expr> {
        let word = self.peek_word();
        if word.is_empty() {
            return self.group();
        }
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        if is("true") || is("false") {
            let value = is("true");
            let start = self.pos;
            self.pos = self.word_end(start);
            return Some(Expr {
                kind: ExprKind::Bool(value),
                span: self.span(start, self.pos),
            });
        }
        if is("has") {
            return self.has();
        }
        if is("in") {
            return self.member();
        }
        let function = AggregateFn::ALL.into_iter().find(|f| is(f.keyword()));
        if let Some(function) = function {
            if let Some(test) = self.attempt(|d| d.aggregate_test(function)) {
                return Some(test);
            }
        }
        self.predicate()
    }

    /// `group = { open_paren ~ or_expr ~ close_paren }`: the inner
    /// expression, with a span that takes in the parentheses.
    fn group(&mut self) -> Option<Expr> {
        self.nested(|d| {
            let start = d.punct(b'(')?;
            let inner = d.or_expr()?;
            let end = d.punct(b')')? + 1;
            Some(Expr {
                span: d.span(start, end),
                ..inner
            })
        })
    }

    /// `has = { kw_has ~ quantifier? ~ relation_name ~ via? ~ group? }`.
    fn has(&mut self) -> Option<Expr> {
        let start = self.keyword("has")?;
        let quantifier = self.attempt(Descent::quantifier).unwrap_or(Quantifier::Any);
        let relation = self.name()?;
        let (via, filter, end) = self.via_and_filter(relation.span.end as usize);
        Some(Expr {
            kind: ExprKind::Has(Has {
                quantifier,
                relation,
                via,
                filter,
            }),
            span: self.span(start, end),
        })
    }

    /// `via? ~ group?` after a relationship's name that ends at `end`: the
    /// two, and where the last of the three ends.
    fn via_and_filter(&mut self, mut end: usize) -> (Option<Ident>, Option<Box<Expr>>, usize) {
        let via = self.attempt(|d| {
            d.keyword("via")?;
            d.name()
        });
        if let Some(via) = &via {
            end = via.span.end as usize;
        }
        let filter = self.attempt(Descent::group);
        if let Some(filter) = &filter {
            end = filter.span.end as usize;
        }
        (via, filter.map(Box::new), end)
    }

    /// `quantifier = { kw_no ~ &relation_name | kw_at ~ (kw_least |
    /// kw_most) ~ count | kw_exactly ~ count }`.
    fn quantifier(&mut self) -> Option<Quantifier> {
        if self.keyword("no").is_some() {
            return self.at_name().then_some(Quantifier::No);
        }
        if self.keyword("at").is_some() {
            let make = if self.keyword("least").is_some() {
                Quantifier::AtLeast
            } else if self.keyword("most").is_some() {
                Quantifier::AtMost
            } else {
                return None;
            };
            return self.count().map(make);
        }
        self.keyword("exactly")?;
        self.count().map(Quantifier::Exactly)
    }

    /// `count = @{ ASCII_DIGIT+ ~ !(ASCII_ALPHA | "_") }`.
    fn count(&mut self) -> Option<u64> {
        self.skip_blanks();
        let start = self.pos;
        let end = self.digits_end(start);
        let next = self.bytes.get(end).copied();
        if end == start || next.is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') {
            return None;
        }
        self.pos = end;
        let span = self.span(start, end);
        self.checked(count_value(&self.text[start..end], span))
    }

    /// `member = { kw_in ~ segment_name }`.
    fn member(&mut self) -> Option<Expr> {
        let start = self.keyword("in")?;
        let name = self.name()?;
        let span = self.span(start, name.span.end as usize);
        Some(Expr {
            kind: ExprKind::InSegment(name),
            span,
        })
    }

    /// `aggregate_test = { aggregate ~ (cmp_tail | null_tail | between_tail) }`.
    fn aggregate_test(&mut self, function: AggregateFn) -> Option<Expr> {
        let aggregate = self.aggregate(function)?;
        let (tail, end) = self.tail(false)?;
        let test = match tail {
            Tail::Compare(op, value) => AggregateCheck::Compare { op, value },
            Tail::IsNull(negated) => AggregateCheck::IsNull { negated },
            Tail::Between(negated, low, high) => AggregateCheck::Between { negated, low, high },
            Tail::InList(..) | Tail::Text(..) => return None,
        };
        let span = self.span(aggregate.span.start as usize, end);
        Some(Expr {
            kind: ExprKind::Aggregate(Box::new(AggregateTest { aggregate, test })),
            span,
        })
    }

    /// `aggregate = { agg_fn ~ open_paren ~ hop ~ ("." ~ hop)* ~
    /// close_paren }`; for every function but `count` the last hop is the
    /// field, a bare name (the builder's error otherwise).
    fn aggregate(&mut self, function: AggregateFn) -> Option<Aggregate> {
        self.skip_blanks();
        let start = self.pos;
        self.pos = self.word_end(start);
        let (mut chain, end) = self.nested(|d| {
            d.punct(b'(')?;
            let chain = d.separated(b'.', Descent::hop)?;
            d.reach(chain.len() - 1)?;
            Some((chain, d.punct(b')')? + 1))
        })?;
        let span = self.span(start, end);
        if function == AggregateFn::Count {
            return Some(Aggregate {
                function,
                chain,
                field: None,
                span,
            });
        }
        match chain.pop() {
            Some(last) if !chain.is_empty() && last.via.is_none() && last.filter.is_none() => {
                Some(Aggregate {
                    function,
                    chain,
                    field: Some(last.relation),
                    span,
                })
            }
            _ => self.give_up(),
        }
    }

    /// `hop = { relation_name ~ via? ~ group? }`.
    pub(super) fn hop(&mut self) -> Option<ChainHop> {
        let relation = self.name()?;
        let (via, filter, end) = self.via_and_filter(relation.span.end as usize);
        let span = self.span(relation.span.start as usize, end);
        Some(ChainHop {
            relation,
            via,
            filter,
            span,
        })
    }

    /// `predicate = { path ~ (cmp_tail | null_tail | list_tail |
    /// between_tail | text_tail)? }`.
    fn predicate(&mut self) -> Option<Expr> {
        let path = self.path()?;
        let start = path.span.start;
        let Some((tail, end)) = self.attempt(|d| d.tail(true)) else {
            let span = path.span;
            return Some(Expr {
                kind: ExprKind::Predicate(Predicate::BoolField { path }),
                span,
            });
        };
        let predicate = match tail {
            Tail::Compare(op, value) => Predicate::Compare { path, op, value },
            Tail::IsNull(negated) => Predicate::IsNull { path, negated },
            Tail::InList(negated, values) => Predicate::InList {
                path,
                negated,
                values,
            },
            Tail::Between(negated, low, high) => Predicate::Between {
                path,
                negated,
                low: Box::new(low),
                high: Box::new(high),
            },
            Tail::Text(negated, op, pattern) => Predicate::Text {
                path,
                negated,
                op,
                pattern,
            },
        };
        Some(Expr {
            kind: ExprKind::Predicate(predicate),
            span: self.span(start as usize, end),
        })
    }

    /// `path = { field_name ~ ("." ~ field_name)* }`.
    fn path(&mut self) -> Option<Path> {
        let segments = self.separated(b'.', Descent::name)?;
        self.reach(segments.len() - 1)?;
        let span = segments[0].span.to(segments[segments.len() - 1].span);
        Some(Path { segments, span })
    }

    /// The tails in the grammar's order: `cmp_tail | null_tail | list_tail
    /// | between_tail | text_tail`, the list and text ones only after a
    /// field (`of_field`). Gives the tail and where it ends.
    fn tail(&mut self, of_field: bool) -> Option<(Tail, usize)> {
        if let Some(found) = self.attempt(Descent::cmp_tail) {
            return Some(found);
        }
        if let Some(found) = self.attempt(Descent::null_tail) {
            return Some(found);
        }
        if of_field {
            if let Some(found) = self.attempt(Descent::list_tail) {
                return Some(found);
            }
        }
        if let Some(found) = self.attempt(Descent::between_tail) {
            return Some(found);
        }
        if of_field {
            return self.attempt(Descent::text_tail);
        }
        None
    }

    /// `cmp_tail = { (bad_cmp_op | cmp_op) ~ literal }`. An operator of
    /// another language (`==`, `<>`, `=<`, `=>`) is the builder's error.
    fn cmp_tail(&mut self) -> Option<(Tail, usize)> {
        self.skip_blanks();
        let rest = &self.bytes[self.pos..];
        if [b"==", b"<>", b"=<", b"=>"]
            .iter()
            .any(|bad| rest.starts_with(*bad))
        {
            return self.give_up();
        }
        let (op, len) = match rest {
            [b'!', b'=', ..] => (CmpOp::Ne, 2),
            [b'<', b'=', ..] => (CmpOp::Le, 2),
            [b'>', b'=', ..] => (CmpOp::Ge, 2),
            [b'=', ..] => (CmpOp::Eq, 1),
            [b'<', ..] => (CmpOp::Lt, 1),
            [b'>', ..] => (CmpOp::Gt, 1),
            _ => return None,
        };
        self.pos += len;
        let value = self.literal()?;
        let end = value.span.end;
        Some((Tail::Compare(op, value), end as usize))
    }

    /// `null_tail = { kw_is ~ kw_not? ~ kw_null }`.
    fn null_tail(&mut self) -> Option<(Tail, usize)> {
        self.keyword("is")?;
        let negated = self.negation()?;
        let end = self.keyword("null")? + "null".len();
        Some((Tail::IsNull(negated), end))
    }

    /// `list_tail = { kw_not? ~ kw_in ~ open_bracket ~ literal ~ (comma ~
    /// literal)* ~ comma? ~ close_bracket }`.
    fn list_tail(&mut self) -> Option<(Tail, usize)> {
        let negated = self.negation()?;
        self.keyword("in")?;
        self.punct(b'[')?;
        let values = self.separated(b',', Descent::literal)?;
        self.attempt(|d| d.punct(b','));
        let end = self.punct(b']')? + 1;
        if values.len() > MAX_IN_LIST {
            return self.give_up();
        }
        Some((Tail::InList(negated, values), end))
    }

    /// `between_tail = { kw_not? ~ kw_between ~ literal ~ kw_and ~ literal }`.
    fn between_tail(&mut self) -> Option<(Tail, usize)> {
        let negated = self.negation()?;
        self.keyword("between")?;
        let low = self.literal()?;
        self.keyword("and")?;
        let high = self.literal()?;
        let end = high.span.end;
        Some((Tail::Between(negated, low, high), end as usize))
    }

    /// `text_tail = { kw_not? ~ text_op ~ pattern }`, `text_op = {
    /// kw_contains | kw_starts ~ kw_with | kw_ends ~ kw_with }`, `pattern =
    /// { string | sq_string }` (a single-quoted one is the builder's error).
    fn text_tail(&mut self) -> Option<(Tail, usize)> {
        let negated = self.negation()?;
        let op = if self.keyword("contains").is_some() {
            TextOp::Contains
        } else if self.keyword("starts").is_some() {
            self.keyword("with")?;
            TextOp::StartsWith
        } else {
            self.keyword("ends")?;
            self.keyword("with")?;
            TextOp::EndsWith
        };
        let pattern = self.pattern()?;
        let end = pattern.span.end;
        Some((Tail::Text(negated, op, pattern), end as usize))
    }

    /// `kw_not?` at the start of a tail: whether it is there. It nests
    /// what follows one level deeper, as the depth pre-scan counts it.
    fn negation(&mut self) -> Option<bool> {
        let negated = self.attempt(|d| d.keyword("not")).is_some();
        if negated {
            self.reach(1)?;
        }
        Some(negated)
    }
}
