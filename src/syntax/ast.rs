//! The untyped syntax tree of a segment, exactly as written. Names are not yet
//! resolved against a schema; that is the checker's job (`crate::check`).
//!
//! Every node carries a [`Span`]; spans are ignored by equality, so two trees
//! compare equal when they mean the same text modulo layout and comments.

use chrono::{DateTime, NaiveDate, Utc};
pub use compact_str::CompactString;
use serde::{Deserialize, Serialize};

pub use crate::plan::AggregateFn;
use crate::span::Span;

/// A segment library: `segment NAME = query` definitions in any order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Library {
    pub segments: Vec<SegmentDef>,
}

/// One `segment NAME = query` definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentDef {
    pub name: Ident,
    pub query: Query,
    pub span: Span,
}

/// `ENTITY [where expr]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Query {
    pub entity: Ident,
    pub filter: Option<Expr>,
    pub span: Span,
}

/// A name as written (entity, field, relationship or segment); matched
/// case-insensitively later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ident {
    pub name: CompactString,
    pub span: Span,
}

/// `NAME { "." NAME }`: zero or more many-to-one hops, then a field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    /// `true` / `false`.
    Bool(bool),
    Not(Box<Expr>),
    /// Two or more operands. A parenthesized `and` inside an `and` stays nested,
    /// so the tree keeps the grouping the author wrote.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Has(Has),
    /// `in SEGMENT_NAME`.
    InSegment(Ident),
    Predicate(Predicate),
    /// `count(lead(status = "Open")) >= 2` (SPEC 2.5). Boxed, as the
    /// largest variant: every node is as large as the largest held inline.
    Aggregate(Box<AggregateTest>),
}

/// An aggregate and the test on its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregateTest {
    pub aggregate: Aggregate,
    pub test: AggregateCheck,
}

/// `count(hop.hop)` or `sum(hop.hop.field)` (also `avg`, `min`, `max`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub function: AggregateFn,
    /// One or more hops, as written.
    pub chain: Vec<ChainHop>,
    /// The field after the last hop: always for `sum`/`avg`/`min`/`max`,
    /// never for `count`.
    pub field: Option<Ident>,
    /// From the function's name to the closing parenthesis.
    pub span: Span,
}

/// `RELATION [via REL_NAME] [(expr)]`: one step of an aggregate's chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainHop {
    pub relation: Ident,
    pub via: Option<Ident>,
    pub filter: Option<Box<Expr>>,
    pub span: Span,
}

/// The tests an aggregate's value can take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "form")]
pub enum AggregateCheck {
    /// `aggregate cmp value`.
    Compare { op: CmpOp, value: Literal },
    /// `aggregate is [not] null`.
    IsNull { negated: bool },
    /// `aggregate [not] between low and high` (inclusive).
    Between {
        negated: bool,
        low: Literal,
        high: Literal,
    },
}

/// `has [quant] RELATION [via REL_NAME] [(expr)]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Has {
    pub quantifier: Quantifier,
    pub relation: Ident,
    pub via: Option<Ident>,
    pub filter: Option<Box<Expr>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// Plain `has`: at least one.
    Any,
    /// `has no`.
    No,
    AtLeast(u64),
    AtMost(u64),
    Exactly(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Every operator.
    pub const ALL: [CmpOp; 6] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ];

    /// The operator as written (`!=`).
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl TextOp {
    /// The operator as written (`starts with`).
    pub fn keyword(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "starts with",
            TextOp::EndsWith => "ends with",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "form")]
pub enum Predicate {
    /// `path cmp value`.
    Compare {
        path: Path,
        op: CmpOp,
        value: Literal,
    },
    /// `path is [not] null`.
    IsNull { path: Path, negated: bool },
    /// `path [not] in [v, ...]`.
    InList {
        path: Path,
        negated: bool,
        values: Vec<Literal>,
    },
    /// `path [not] between low and high` (inclusive). The bounds are
    /// boxed: held inline, they made this the largest predicate, and every
    /// node of the tree as large.
    Between {
        path: Path,
        negated: bool,
        low: Box<Literal>,
        high: Box<Literal>,
    },
    /// `path [not] contains|starts with|ends with "text"`.
    Text {
        path: Path,
        negated: bool,
        op: TextOp,
        pattern: Literal,
    },
    /// A boolean field alone: `path = true`.
    BoolField { path: Path },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Literal {
    pub kind: LiteralKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiteralKind {
    /// A double-quoted string, escapes already decoded. Held inline up to
    /// 24 bytes, as most literals are: one allocation fewer per literal
    /// to make and to free.
    String(CompactString),
    Integer(i64),
    Decimal(f64),
    Bool(bool),
    Date(NaiveDate),
    /// Always UTC; an offset in the source is converted when parsing.
    DateTime(DateTime<Utc>),
    /// `now` or `today`, optionally `± duration`.
    Relative(Relative),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relative {
    pub anchor: Anchor,
    pub offset: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The reference time (a date-time).
    Now,
    /// The reference time's UTC date.
    Today,
}

/// A signed duration as written (`- 30d`); kept in its unit so `fmt` can print
/// it back the way the author wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duration {
    pub negative: bool,
    pub amount: u64,
    pub unit: TimeUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    #[serde(rename = "s")]
    Seconds,
    #[serde(rename = "min")]
    Minutes,
    #[serde(rename = "h")]
    Hours,
    #[serde(rename = "d")]
    Days,
    #[serde(rename = "w")]
    Weeks,
}

impl TimeUnit {
    pub fn seconds(self) -> i64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3_600,
            TimeUnit::Days => 86_400,
            TimeUnit::Weeks => 604_800,
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "min",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
            TimeUnit::Weeks => "w",
        }
    }
}

impl Duration {
    /// Signed length in seconds, or `None` if it does not fit in an i64.
    pub fn total_seconds(&self) -> Option<i64> {
        let amount = i64::try_from(self.amount).ok()?;
        let secs = amount.checked_mul(self.unit.seconds())?;
        Some(if self.negative { -secs } else { secs })
    }
}

/// A scoring model file (SPEC 6): one or more `model NAME on ENTITY { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ModelFile {
    pub models: Vec<ModelDef>,
}

/// One `model NAME on ENTITY { settings and rules }`, as written. Each
/// setting is kept as a list of every time it was written, so the checker
/// can point at a second `sales ready` rather than the parser dropping it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDef {
    pub name: Ident,
    pub entity: Ident,
    /// Every `sales ready at T`, in written order (exactly one is valid).
    pub sales_ready: Vec<Setting>,
    /// Every `grades ...` line, in written order (at most one is valid).
    pub grades: Vec<GradeList>,
    /// Every `max score N`, in written order (at most one is valid).
    pub max_score: Vec<Setting>,
    /// The rules in written order.
    pub rules: Vec<RuleDef>,
    /// From `model` to the closing brace.
    pub span: Span,
}

/// A setting with one number (`sales ready at 100`, `max score 200`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub amount: Amount,
    /// The whole setting, from its first keyword to the number.
    pub span: Span,
}

/// A whole number as written in a model: a threshold, points, a cap. Signed
/// so a negative one parses and the checker can say what to write instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Amount {
    pub value: i64,
    pub span: Span,
}

/// `grades "A" at 80, "B" at 50`: the line as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeList {
    pub grades: Vec<GradeDef>,
    pub span: Span,
}

/// `"A" at 80`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeDef {
    /// The label, escapes decoded.
    pub label: String,
    pub minimum: Amount,
    pub span: Span,
}

/// `add N if EXPR`, `subtract N per CHAIN [up to M]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleDef {
    pub sign: RuleSign,
    pub points: Amount,
    pub kind: RuleKindDef,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSign {
    Add,
    Subtract,
}

impl RuleSign {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            RuleSign::Add => "add",
            RuleSign::Subtract => "subtract",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKindDef {
    /// `if EXPR`: an expression on the model's entity.
    If(Expr),
    /// `per CHAIN [up to M]`: points per record that `count(CHAIN)` counts.
    Per {
        /// One or more hops, the same as an aggregate's chain.
        chain: Vec<ChainHop>,
        cap: Option<Amount>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser moves each node several times and gathers thousands of
    /// them in one list, so their size is a large part of its speed
    /// (benches/README.md, "Compile pipeline at 10,000 nodes"): a variant
    /// held inline that grows a node past this should be boxed instead.
    #[test]
    fn nodes_stay_small() {
        assert!(
            std::mem::size_of::<Expr>() <= 120,
            "{}",
            std::mem::size_of::<Expr>()
        );
    }

    /// Boxed variants and inline strings serialize as the plain values they
    /// hold, and read back into the same tree.
    #[test]
    fn the_tree_reads_back_from_its_json() {
        let text = concat!(
            r#"contact where city = "Rome" and email contains "a-literal-longer-than-24-bytes" "#,
            r#"and birth_date between 1970-01-01 and 1990-12-31 "#,
            r#"and count(lead via lead_parent_contact(topic = "x\"y")) >= 2"#,
        );
        let query = crate::syntax::parse_query(text).expect("parses");
        let json = serde_json::to_value(&query).expect("serializes");
        let filter = serde_json::to_string(&json["filter"]).expect("prints");
        for plain in [
            r#""name":"city""#,
            r#""string":"a-literal-longer-than-24-bytes""#,
            r#""low":{"kind":{"date":"1970-01-01"}"#,
            r#""string":"x\"y""#,
        ] {
            assert!(filter.contains(plain), "{plain} not in {filter}");
        }
        let back: Query = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, query);
    }
}
