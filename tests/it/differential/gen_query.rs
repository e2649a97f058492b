//! Random well-typed segment text over a schema.
//!
//! Queries are generated as a small tree ([`GExpr`]) so that proptest can
//! shrink a failing query, then rendered to text with the fewest parentheses
//! the precedence rules allow and with keywords and names in a random case.
//! Everything is derived from the schema model: the predicates a field gets
//! follow its type, `has` follows every relationship in both directions
//! (sometimes naming it with `via`), dotted paths follow many-to-one hops.
//! Literals come from the same pools as the data (`pools`).

use std::collections::HashMap;

use proptest::prelude::*;
use segql::schema::{Entity, FieldType, Schema};

use super::pools;

/// How deep expressions nest (`and`/`or`/`not`/`has` each take one level);
/// `has` can therefore nest four deep under a top-level connective.
pub const MAX_DEPTH: u32 = 5;

/// A generated boolean expression.
#[derive(Clone, Debug)]
pub enum GExpr {
    Const(bool),
    Not(Box<GExpr>),
    And(Vec<GExpr>),
    Or(Vec<GExpr>),
    Has {
        quant: GQuant,
        reach: String,
        via: Option<String>,
        filter: Option<Box<GExpr>>,
    },
    /// `in NAME` (the name as written, in some case).
    InSegment(String),
    Pred {
        path: Vec<String>,
        pred: GPred,
    },
    /// `func(hop.hop[.field]) test`; the test is a `Cmp`, `IsNull` or
    /// `Between` predicate tail.
    Aggregate {
        func: &'static str,
        chain: Vec<GHop>,
        field: Option<String>,
        test: GPred,
    },
}

/// One hop of an aggregate's chain, written as in `has`.
#[derive(Clone, Debug)]
pub struct GHop {
    pub reach: String,
    pub via: Option<String>,
    pub filter: Option<Box<GExpr>>,
}

#[derive(Clone, Copy, Debug)]
pub enum GQuant {
    Any,
    No,
    AtLeast(u64),
    AtMost(u64),
    Exactly(u64),
}

/// A predicate on a path; literals are kept as the text to write.
#[derive(Clone, Debug)]
pub enum GPred {
    Cmp(&'static str, String),
    IsNull(bool),
    In(bool, Vec<String>),
    Between(bool, String, String),
    Text(bool, &'static str, String),
    Bare,
}

/// How keywords and names are cased in the rendered text.
#[derive(Clone, Copy, Debug)]
pub enum Case {
    Lower,
    Upper,
    Title,
}

/// A generated query: `entity [where filter]`, with or without the `email`
/// guard (only meaningful on `contact`).
#[derive(Clone, Debug)]
pub struct GQuery {
    pub entity: String,
    pub filter: Option<GExpr>,
    pub guard: bool,
    pub case: Case,
}

/// A small library: per entity, `<entity>_a` and `<entity>_b`, where `_b`
/// may use `_a`.
#[derive(Clone, Debug)]
pub struct GLibrary {
    pub segments: Vec<(String, String, Option<GExpr>)>,
}

fn cased(word: &str, case: Case) -> String {
    match case {
        Case::Lower => word.to_string(),
        Case::Upper => word.to_ascii_uppercase(),
        Case::Title => {
            let mut out = String::new();
            let mut start = true;
            for c in word.chars() {
                out.push(if start { c.to_ascii_uppercase() } else { c });
                start = c == ' ' || c == '.';
            }
            out
        }
    }
}

/// A string literal, escaped; non-ASCII sometimes written as `\u{..}`.
pub fn string_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c if !c.is_ascii() && i % 2 == 0 => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Binding strength, for minimal parentheses.
fn strength(e: &GExpr) -> u8 {
    match e {
        GExpr::Or(_) => 0,
        GExpr::And(_) => 1,
        _ => 2,
    }
}

impl GExpr {
    /// The expression as segment text.
    pub fn render(&self, case: Case) -> String {
        let kw = |w: &str| cased(w, case);
        let operand = |e: &GExpr, min: u8| {
            let text = e.render(case);
            if strength(e) < min {
                format!("({text})")
            } else {
                text
            }
        };
        match self {
            GExpr::Const(b) => kw(if *b { "true" } else { "false" }),
            GExpr::Not(inner) => format!("{} {}", kw("not"), operand(inner, 2)),
            GExpr::And(items) => items
                .iter()
                .map(|e| operand(e, 2))
                .collect::<Vec<_>>()
                .join(&format!(" {} ", kw("and"))),
            GExpr::Or(items) => items
                .iter()
                .map(|e| operand(e, 1))
                .collect::<Vec<_>>()
                .join(&format!(" {} ", kw("or"))),
            GExpr::Has {
                quant,
                reach,
                via,
                filter,
            } => {
                let mut out = kw("has");
                match quant {
                    GQuant::Any => {}
                    GQuant::No => out.push_str(&format!(" {}", kw("no"))),
                    GQuant::AtLeast(n) => out.push_str(&format!(" {} {n}", kw("at least"))),
                    GQuant::AtMost(n) => out.push_str(&format!(" {} {n}", kw("at most"))),
                    GQuant::Exactly(n) => out.push_str(&format!(" {} {n}", kw("exactly"))),
                }
                out.push_str(&format!(" {}", kw(reach)));
                if let Some(via) = via {
                    out.push_str(&format!(" {} {}", kw("via"), kw(via)));
                }
                if let Some(filter) = filter {
                    out.push_str(&format!("({})", filter.render(case)));
                }
                out
            }
            GExpr::InSegment(name) => format!("{} {}", kw("in"), kw(name)),
            GExpr::Aggregate {
                func,
                chain,
                field,
                test,
            } => {
                let mut subject = format!("{}(", kw(func));
                for (i, hop) in chain.iter().enumerate() {
                    if i > 0 {
                        subject.push('.');
                    }
                    subject.push_str(&kw(&hop.reach));
                    if let Some(via) = &hop.via {
                        subject.push_str(&format!(" {} {}", kw("via"), kw(via)));
                    }
                    if let Some(filter) = &hop.filter {
                        subject.push_str(&format!("({})", filter.render(case)));
                    }
                }
                if let Some(field) = field {
                    subject.push_str(&format!(".{}", kw(field)));
                }
                subject.push(')');
                render_pred(&subject, test, case)
            }
            GExpr::Pred { path, pred } => render_pred(&kw(&path.join(".")), pred, case),
        }
    }
}

/// `subject` (a path or an aggregate) followed by the predicate's tail.
fn render_pred(path: &str, pred: &GPred, case: Case) -> String {
    let kw = |w: &str| cased(w, case);
    let not = |n: bool| {
        if n {
            format!("{} ", kw("not"))
        } else {
            String::new()
        }
    };
    match pred {
        GPred::Cmp(op, v) => format!("{path} {op} {}", kw_lit(v, case)),
        GPred::IsNull(negated) => {
            format!("{path} {} {}{}", kw("is"), not(*negated), kw("null"))
        }
        GPred::In(negated, values) => {
            let vs: Vec<String> = values.iter().map(|v| kw_lit(v, case)).collect();
            format!("{path} {}{} [{}]", not(*negated), kw("in"), vs.join(", "))
        }
        GPred::Between(negated, lo, hi) => format!(
            "{path} {}{} {} {} {}",
            not(*negated),
            kw("between"),
            kw_lit(lo, case),
            kw("and"),
            kw_lit(hi, case)
        ),
        GPred::Text(negated, op, pattern) => {
            format!(
                "{path} {}{} {}",
                not(*negated),
                kw(op),
                string_literal(pattern)
            )
        }
        GPred::Bare => path.to_string(),
    }
}

/// Keyword-like literals (`true`, `now - 30d`) follow the case; strings,
/// numbers and dates are written as they are.
fn kw_lit(v: &str, case: Case) -> String {
    if v.starts_with('"') || v.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return v.to_string();
    }
    // Only the anchor of `now - 30d` is a keyword; the unit stays as written.
    match v.split_once(' ') {
        Some((anchor, rest)) => format!("{} {rest}", cased(anchor, case)),
        None => cased(v, case),
    }
}

impl GQuery {
    pub fn render(&self) -> String {
        let entity = cased(&self.entity, self.case);
        match &self.filter {
            None => entity,
            Some(f) => format!(
                "{entity} {} {}",
                cased("where", self.case),
                f.render(self.case)
            ),
        }
    }

    /// The guards to check with.
    pub fn guards(&self) -> Vec<String> {
        if self.guard && self.entity == "contact" {
            vec!["email".to_string()]
        } else {
            Vec::new()
        }
    }
}

impl GLibrary {
    pub fn render(&self) -> String {
        self.segments
            .iter()
            .map(|(name, entity, filter)| {
                let q = GQuery {
                    entity: entity.clone(),
                    filter: filter.clone(),
                    guard: false,
                    case: Case::Lower,
                };
                format!("segment {name} = {}\n", q.render())
            })
            .collect()
    }
}

fn select_str(pool: &'static [&'static str]) -> BoxedStrategy<String> {
    proptest::sample::select(pool)
        .prop_map(str::to_string)
        .boxed()
}

/// A label in a random case: as declared, lower, upper.
fn label_strategy(labels: Vec<String>) -> BoxedStrategy<String> {
    (proptest::sample::select(labels), 0..3u8)
        .prop_map(|(l, c)| {
            let l = match c {
                0 => l,
                1 => l.to_lowercase(),
                _ => l.to_uppercase(),
            };
            string_literal(&l)
        })
        .boxed()
}

/// Literals a field of this type compares with.
fn literal_strategy(ty: &FieldType) -> BoxedStrategy<String> {
    match ty {
        FieldType::Text => proptest::sample::select(pools::TEXTS)
            .prop_map(string_literal)
            .boxed(),
        FieldType::Integer | FieldType::Decimal => prop_oneof![
            select_str(pools::INTEGER_LITERALS),
            select_str(pools::DECIMAL_LITERALS),
        ]
        .boxed(),
        FieldType::Bool => prop_oneof![Just("true".to_string()), Just("false".to_string())].boxed(),
        FieldType::Date => {
            prop_oneof![3 => select_str(pools::DATES), 2 => select_str(pools::RELATIVE_DATES)]
                .boxed()
        }
        FieldType::DateTime => prop_oneof![
            4 => select_str(pools::DATETIMES),
            1 => select_str(pools::DATETIME_OFFSET_LITERALS),
            1 => select_str(pools::DATES),
            3 => select_str(pools::RELATIVE_DATETIMES),
        ]
        .boxed(),
        FieldType::Choice(set) => {
            label_strategy(set.options.iter().map(|o| o.label.clone()).collect())
        }
        FieldType::Uuid => (0..pools::UUID_POOL, proptest::bool::weighted(0.2))
            .prop_map(|(i, upper)| {
                // Mostly lowercase, as stored; sometimes upper case, which
                // names the same uuid.
                let text = pools::uuid(i).to_string();
                format!("\"{}\"", if upper { text.to_uppercase() } else { text })
            })
            .boxed(),
    }
}

/// Every predicate form the field's type allows.
fn predicate_strategy(ty: &FieldType, nullable: bool) -> BoxedStrategy<GPred> {
    let lit = literal_strategy(ty);
    let ordered = ty.is_ordered();
    let eq_ops: &'static [&'static str] = &["=", "!="];
    let all_ops: &'static [&'static str] = &["=", "!=", "<", "<=", ">", ">="];
    let ops = if ordered { all_ops } else { eq_ops };
    let mut forms: Vec<(u32, BoxedStrategy<GPred>)> = vec![
        (
            6,
            (proptest::sample::select(ops), lit.clone())
                .prop_map(|(op, v)| GPred::Cmp(op, v))
                .boxed(),
        ),
        (
            if nullable { 2 } else { 1 },
            any::<bool>().prop_map(GPred::IsNull).boxed(),
        ),
        (
            2,
            (any::<bool>(), proptest::collection::vec(lit.clone(), 1..=4))
                .prop_map(|(n, vs)| GPred::In(n, vs))
                .boxed(),
        ),
    ];
    if ordered {
        forms.push((
            2,
            (any::<bool>(), lit.clone(), lit)
                .prop_map(|(n, lo, hi)| GPred::Between(n, lo, hi))
                .boxed(),
        ));
    }
    if matches!(ty, FieldType::Text) {
        let ops: &'static [&'static str] = &["contains", "starts with", "ends with"];
        forms.push((
            5,
            (
                any::<bool>(),
                proptest::sample::select(ops),
                proptest::sample::select(pools::PATTERNS),
            )
                .prop_map(|(n, op, p)| GPred::Text(n, op, p.to_string()))
                .boxed(),
        ));
    }
    if matches!(ty, FieldType::Bool) {
        forms.push((4, Just(GPred::Bare).boxed()));
    }
    proptest::strategy::Union::new_weighted(forms).boxed()
}

/// The aggregates over records of `end`: `count`, `sum`/`avg` of each
/// number field, `min`/`max` of each ordered one, each with the tests its
/// value takes (comparisons, `is [not] null`, `[not] between`).
fn aggregate_tests(end: &Entity) -> Vec<(&'static str, Option<String>, BoxedStrategy<GPred>)> {
    let count_values = || select_str(&["-1", "0", "1", "2", "3", "1.5"]);
    let number_values = || {
        prop_oneof![
            select_str(pools::INTEGER_LITERALS),
            select_str(pools::DECIMAL_LITERALS),
        ]
        .boxed()
    };
    let mut out = vec![("count", None, value_tests(count_values()))];
    for field in &end.fields {
        if field.ty.is_number() {
            for func in ["sum", "avg"] {
                out.push((func, Some(field.name.clone()), value_tests(number_values())));
            }
        }
        if field.ty.is_ordered() {
            for func in ["min", "max"] {
                let values = literal_strategy(&field.ty);
                out.push((func, Some(field.name.clone()), value_tests(values)));
            }
        }
    }
    out
}

/// The tests on an aggregate's value, with literals from `values`.
fn value_tests(values: BoxedStrategy<String>) -> BoxedStrategy<GPred> {
    let ops: &'static [&'static str] = &["=", "!=", "<", "<=", ">", ">="];
    prop_oneof![
        6 => (proptest::sample::select(ops), values.clone()).prop_map(|(op, v)| GPred::Cmp(op, v)),
        1 => any::<bool>().prop_map(GPred::IsNull),
        2 => (any::<bool>(), values.clone(), values)
            .prop_map(|(n, lo, hi)| GPred::Between(n, lo, hi)),
    ]
    .boxed()
}

/// Builds and memoizes the expression strategies of one schema.
pub struct QueryGen {
    schema: Schema,
    memo: HashMap<(String, u32, bool), BoxedStrategy<GExpr>>,
}

/// A hop from an entity: how it is written and where it arrives.
#[derive(Clone)]
struct Hop {
    reach: String,
    relationship: String,
    to: String,
    to_parent: bool,
}

impl QueryGen {
    pub fn new(schema: Schema) -> Self {
        QueryGen {
            schema,
            memo: HashMap::new(),
        }
    }

    fn entity(&self, name: &str) -> &Entity {
        self.schema
            .entity(name)
            .unwrap_or_else(|| panic!("entity {name} is in the schema"))
    }

    /// Every relationship from `entity`, in both directions.
    fn hops(&self, entity: &str) -> Vec<Hop> {
        let mut hops = Vec::new();
        for r in &self.schema.relationships {
            if r.child == entity {
                hops.push(Hop {
                    reach: r.parent_reach.clone(),
                    relationship: r.name.clone(),
                    to: r.parent.clone(),
                    to_parent: true,
                });
            }
            if r.parent == entity {
                hops.push(Hop {
                    reach: r.child.clone(),
                    relationship: r.name.clone(),
                    to: r.child.clone(),
                    to_parent: false,
                });
            }
        }
        hops
    }

    /// Predicates on the entity's own fields and on fields reached by up to
    /// two many-to-one hops (`contact.account.industry` from `lead`).
    fn predicate_atoms(&self, entity: &str, hops_left: u32) -> Vec<(u32, BoxedStrategy<GExpr>)> {
        let mut atoms = Vec::new();
        let weight = if hops_left == 2 { 8 } else { 1 };
        for field in &self.entity(entity).fields {
            let name = field.name.clone();
            let pred = predicate_strategy(&field.ty, field.nullable);
            atoms.push((
                weight,
                pred.prop_map(move |pred| GExpr::Pred {
                    path: vec![name.clone()],
                    pred,
                })
                .boxed(),
            ));
        }
        if hops_left > 0 {
            for hop in self.hops(entity).into_iter().filter(|h| h.to_parent) {
                for (w, atom) in self.predicate_atoms(&hop.to, hops_left - 1) {
                    let reach = hop.reach.clone();
                    atoms.push((
                        w,
                        atom.prop_map(move |e| match e {
                            GExpr::Pred { mut path, pred } => {
                                path.insert(0, reach.clone());
                                GExpr::Pred { path, pred }
                            }
                            other => other,
                        })
                        .boxed(),
                    ));
                }
            }
        }
        atoms
    }

    fn leaf(&self, entity: &str, segments: bool) -> BoxedStrategy<GExpr> {
        let mut atoms = self.predicate_atoms(entity, 2);
        let total: u32 = atoms.iter().map(|(w, _)| *w).sum();
        atoms.push((total / 30 + 1, any::<bool>().prop_map(GExpr::Const).boxed()));
        if segments {
            let names = vec![format!("{entity}_a"), format!("{entity}_b")];
            atoms.push((
                total / 12 + 1,
                (proptest::sample::select(names), any::<bool>())
                    .prop_map(|(n, upper)| {
                        GExpr::InSegment(if upper { n.to_ascii_uppercase() } else { n })
                    })
                    .boxed(),
            ));
        }
        proptest::strategy::Union::new_weighted(atoms).boxed()
    }

    fn quantifier() -> BoxedStrategy<GQuant> {
        prop_oneof![
            4 => Just(GQuant::Any),
            2 => Just(GQuant::No),
            1 => (0..=3u64).prop_map(GQuant::AtLeast),
            1 => (0..=3u64).prop_map(GQuant::AtMost),
            1 => (0..=3u64).prop_map(GQuant::Exactly),
        ]
        .boxed()
    }

    /// Expressions over `entity` nesting at most `depth` levels; `segments`
    /// allows `in NAME` atoms.
    pub fn expr(&mut self, entity: &str, depth: u32, segments: bool) -> BoxedStrategy<GExpr> {
        let key = (entity.to_string(), depth, segments);
        if let Some(s) = self.memo.get(&key) {
            return s.clone();
        }
        let leaf = self.leaf(entity, segments);
        let strategy = if depth == 0 {
            leaf
        } else {
            let sub = self.expr(entity, depth - 1, segments);
            let mut forms: Vec<(u32, BoxedStrategy<GExpr>)> = vec![
                (10, leaf),
                (2, sub.clone().prop_map(|e| GExpr::Not(Box::new(e))).boxed()),
                (
                    3,
                    proptest::collection::vec(sub.clone(), 2..=3)
                        .prop_map(GExpr::And)
                        .boxed(),
                ),
                (
                    3,
                    proptest::collection::vec(sub, 2..=3)
                        .prop_map(GExpr::Or)
                        .boxed(),
                ),
            ];
            forms.extend(self.aggregates(entity, depth, segments));
            for hop in self.hops(entity) {
                let inner = self.expr(&hop.to, depth - 1, segments);
                let Hop {
                    reach,
                    relationship,
                    to_parent,
                    ..
                } = hop;
                let weight = if to_parent { 2 } else { 4 };
                forms.push((
                    weight,
                    (
                        Self::quantifier(),
                        any::<bool>(),
                        proptest::option::weighted(0.85, inner),
                    )
                        .prop_map(move |(quant, via, filter)| GExpr::Has {
                            quant,
                            reach: reach.clone(),
                            via: via.then(|| relationship.clone()),
                            filter: filter.map(Box::new),
                        })
                        .boxed(),
                ));
            }
            proptest::strategy::Union::new_weighted(forms).boxed()
        };
        self.memo.insert(key, strategy.clone());
        strategy
    }

    /// Aggregate tests over every chain of one to three hops from `entity`
    /// (both directions, sometimes with `via`), each hop maybe filtered, with
    /// every function its last entity's fields allow and a test on the
    /// value typed to match.
    fn aggregates(
        &mut self,
        entity: &str,
        depth: u32,
        segments: bool,
    ) -> Vec<(u32, BoxedStrategy<GExpr>)> {
        let mut forms = Vec::new();
        let mut paths: Vec<Vec<Hop>> = self.hops(entity).into_iter().map(|h| vec![h]).collect();
        let mut all = paths.clone();
        for _ in 1..3 {
            let mut longer = Vec::new();
            for path in &paths {
                let last = &path[path.len() - 1].to;
                for hop in self.hops(last) {
                    let mut next = path.clone();
                    next.push(hop);
                    longer.push(next);
                }
            }
            all.extend(longer.iter().cloned());
            paths = longer;
        }
        // Filters stay shallow: the chain is the point.
        let filter_depth = depth.saturating_sub(2).min(1);
        for path in all {
            let hops: Vec<BoxedStrategy<GHop>> = path
                .iter()
                .map(|hop| {
                    let filter = self.expr(&hop.to, filter_depth, segments);
                    let (reach, relationship) = (hop.reach.clone(), hop.relationship.clone());
                    (
                        proptest::bool::weighted(0.2),
                        proptest::option::weighted(0.5, filter),
                    )
                        .prop_map(move |(via, filter)| GHop {
                            reach: reach.clone(),
                            via: via.then(|| relationship.clone()),
                            filter: filter.map(Box::new),
                        })
                        .boxed()
                })
                .collect();
            let end = self.entity(&path[path.len() - 1].to).clone();
            // Longer chains are rarer, so one-hop aggregates stay common.
            let weight = match path.len() {
                1 => 6,
                2 => 2,
                _ => 1,
            };
            for (func, field, test) in aggregate_tests(&end) {
                forms.push((
                    weight,
                    (hops.clone(), test)
                        .prop_map(move |(chain, test)| GExpr::Aggregate {
                            func,
                            chain,
                            field: field.clone(),
                            test,
                        })
                        .boxed(),
                ));
            }
        }
        // All aggregates together weigh about as much as one `has` form.
        let total: u32 = forms.iter().map(|(w, _)| *w).sum();
        if total == 0 {
            return Vec::new();
        }
        vec![(4, proptest::strategy::Union::new_weighted(forms).boxed())]
    }

    /// Chains of one to three hops from `entity` (both directions,
    /// sometimes with `via`), each hop filtered about half the time by an
    /// expression nesting at most `filter_depth` levels: the `count(..)`
    /// subjects of the aggregates, for `per` rules of scoring models.
    pub fn chain(&mut self, entity: &str, filter_depth: u32) -> BoxedStrategy<Vec<GHop>> {
        let mut paths: Vec<Vec<Hop>> = self.hops(entity).into_iter().map(|h| vec![h]).collect();
        let mut all = paths.clone();
        for _ in 1..3 {
            let mut longer = Vec::new();
            for path in &paths {
                for hop in self.hops(&path[path.len() - 1].to) {
                    let mut next = path.clone();
                    next.push(hop);
                    longer.push(next);
                }
            }
            all.extend(longer.iter().cloned());
            paths = longer;
        }
        let mut forms: Vec<(u32, BoxedStrategy<Vec<GHop>>)> = Vec::new();
        for path in all {
            let hops: Vec<BoxedStrategy<GHop>> = path
                .iter()
                .map(|hop| {
                    let filter = self.expr(&hop.to, filter_depth, false);
                    let (reach, relationship) = (hop.reach.clone(), hop.relationship.clone());
                    (
                        proptest::bool::weighted(0.2),
                        proptest::option::weighted(0.5, filter),
                    )
                        .prop_map(move |(via, filter)| GHop {
                            reach: reach.clone(),
                            via: via.then(|| relationship.clone()),
                            filter: filter.map(Box::new),
                        })
                        .boxed()
                })
                .collect();
            // As in `aggregates`: one-hop chains stay the most common.
            let weight = match path.len() {
                1 => 6,
                2 => 2,
                _ => 1,
            };
            forms.push((weight, hops.boxed()));
        }
        proptest::strategy::Union::new_weighted(forms).boxed()
    }

    /// Whole queries: a root entity (contact most often), an optional filter,
    /// maybe the `email` guard, and a case style.
    pub fn query(&mut self) -> BoxedStrategy<GQuery> {
        let mut roots: Vec<(u32, BoxedStrategy<GQuery>)> = Vec::new();
        let names: Vec<String> = self
            .schema
            .entities
            .iter()
            .map(|e| e.name.clone())
            .collect();
        for name in names {
            let expr = self.expr(&name, MAX_DEPTH, true);
            let weight = if name == "contact" { 4 } else { 1 };
            let case =
                prop_oneof![6 => Just(Case::Lower), 1 => Just(Case::Upper), 1 => Just(Case::Title)];
            roots.push((
                weight,
                (proptest::option::weighted(0.95, expr), any::<bool>(), case)
                    .prop_map(move |(filter, guard, case)| GQuery {
                        entity: name.clone(),
                        filter,
                        guard,
                        case,
                    })
                    .boxed(),
            ));
        }
        proptest::strategy::Union::new_weighted(roots).boxed()
    }

    /// A library with `<entity>_a` and `<entity>_b` for every entity;
    /// `_b` refers to `_a` about half the time.
    pub fn library(&mut self) -> BoxedStrategy<GLibrary> {
        let names: Vec<String> = self
            .schema
            .entities
            .iter()
            .map(|e| e.name.clone())
            .collect();
        let mut parts = Vec::new();
        for name in names {
            let a = self.expr(&name, 2, false);
            let b = self.expr(&name, 2, false);
            let n = name.clone();
            parts.push(
                (proptest::option::weighted(0.9, a), b, 0..3u8)
                    .prop_map(move |(a, b, link)| {
                        let a_ref = GExpr::InSegment(format!("{n}_a"));
                        let b = match link {
                            0 => b,
                            1 => GExpr::And(vec![a_ref, b]),
                            _ => GExpr::Or(vec![b, GExpr::Not(Box::new(a_ref))]),
                        };
                        vec![
                            (format!("{n}_b"), n.clone(), Some(b)),
                            (format!("{n}_a"), n.clone(), a),
                        ]
                    })
                    .boxed(),
            );
        }
        parts
            .prop_map(|parts| GLibrary {
                segments: parts.into_iter().flatten().collect(),
            })
            .boxed()
    }
}

/// A proptest runner whose random draws follow `seed` alone, so a run can
/// be replayed.
pub fn seeded_runner(seed: u64) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}
