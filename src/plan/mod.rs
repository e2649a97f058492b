//! The typed plan: what the checker produces and every later stage consumes
//! (optimizer, SQL generator, in-memory evaluator, bulk operations, the
//! command line). It depends on no stage: the stages depend on it.
//!
//! | file         | concern                                                  |
//! |--------------|----------------------------------------------------------|
//! | `mod.rs`     | the plan types and their operators                       |
//! | `display.rs` | plans printed back as segment text                       |
//! | `fields.rs`  | the root entity's fields a plan tests (result columns)   |
//! | `fold.rs`    | the bottom-up [`Fold`] that never recurses               |
//! | `measure.rs` | size and depth, measured without recursion               |
//!
//! Names are resolved to the schema's canonical spelling, literals to typed
//! values (choice labels to codes), dotted paths to `Related` hops, `in NAME`
//! to the segment's own plan (or, for `why` only, a [`PlanExpr::Segment`]
//! node around it), and guards to ANDed expressions.
//!
//! Meaning is SPEC §2.3's two-valued logic: every atom is *positive* — false
//! when its field is NULL — and negation is always an explicit [`PlanExpr::Not`],
//! the exact complement. So `a != v` is `Not(a = v)`, `a is null` is
//! `Not(IsNotNull)`, `a not in [..]` is `Not(InList)`.

mod display;
mod fields;
mod fold;
mod measure;
mod name;
mod per_record;

use chrono::{DateTime, NaiveDate, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

pub(crate) use display::quoted;
pub use fields::root_fields;
pub(crate) use fold::{child_count, fold_in_place_normalizing, fold_normalizing, FoldInPlace};
pub use fold::{Fold, NewNodes};
pub(crate) use measure::reaches_depth;
pub use measure::{depth, measure, Measure};
pub use name::Name;
pub use per_record::{RecordValue, RecordValues};

/// A checked query: the ids of `entity` records satisfying `filter`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Canonical entity name (as in the schema).
    pub entity: String,
    pub filter: PlanExpr,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanExpr {
    Const(bool),
    Not(Box<PlanExpr>),
    And(Vec<PlanExpr>),
    Or(Vec<PlanExpr>),
    /// Counts related records satisfying `filter` (evaluated on the related
    /// entity) and tests the count with `quantifier`.
    Related(Related),
    /// A test on one field of the current entity.
    Field(FieldTest),
    /// A test on a value aggregated over related records (SPEC 2.5).
    /// Boxed, as the largest variant: every node is as large as the largest
    /// held inline, and the checker and the optimizer move nodes by value.
    Aggregate(Box<AggregateTest>),
    /// `in NAME`, kept as a node: the library segment's name and its own
    /// filter. It means exactly its `filter`. The checker makes it only when
    /// asked ([`crate::check::check_keeping_segments`], for `why`); every
    /// other plan has the segment's filter inlined instead.
    Segment(SegmentRef),
}

/// A library segment used with `in NAME` (see [`PlanExpr::Segment`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentRef {
    /// The name as the definition spells it.
    pub name: String,
    /// The segment's own filter, on the same entity as the node.
    pub filter: Box<PlanExpr>,
}

impl PlanExpr {
    /// `PlanExpr::Aggregate` of `test`, boxed.
    pub fn aggregate(test: AggregateTest) -> PlanExpr {
        PlanExpr::Aggregate(Box::new(test))
    }

    /// The expression with every [`PlanExpr::Segment`] replaced by its
    /// filter: the plan every engine runs. Iterative, as a [`Fold`].
    pub fn without_segments(self) -> PlanExpr {
        struct Strip;
        impl Fold for Strip {
            fn fold_segment(&mut self, segment: SegmentRef) -> PlanExpr {
                *segment.filter
            }
        }
        Strip.fold_expr(self)
    }

    /// Whether a [`PlanExpr::Segment`] is anywhere in the expression.
    pub fn has_segments(&self) -> bool {
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            match expr {
                PlanExpr::Segment(_) => return true,
                PlanExpr::Const(_) | PlanExpr::Field(_) => {}
                PlanExpr::Not(inner) => stack.push(inner),
                PlanExpr::And(items) | PlanExpr::Or(items) => stack.extend(items),
                PlanExpr::Related(related) => stack.push(&related.filter),
                PlanExpr::Aggregate(test) => {
                    stack.extend(test.aggregate.chain.iter().map(|hop| &hop.filter))
                }
            }
        }
        false
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Related {
    pub link: Link,
    pub quantifier: Quantifier,
    pub filter: Box<PlanExpr>,
}

/// One hop along a relationship, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// The relationship's name, e.g. `lead_parent_contact`.
    pub relationship: Name,
    pub direction: Direction,
    /// Entity the hop starts from.
    pub from: Name,
    /// Entity the hop arrives at; `filter` is evaluated there.
    pub to: Name,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Many-to-one: child to its (zero or one) parent.
    ToParent,
    /// One-to-many: parent to its children.
    ToChildren,
}

/// How many related records must satisfy the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// At least one (`has R`).
    Any,
    /// None (`has no R`); the exact complement of `Any`.
    No,
    AtLeast(u64),
    AtMost(u64),
    Exactly(u64),
}

impl Quantifier {
    /// Whether `count` matching related records satisfy this quantifier.
    pub fn accepts(self, count: u64) -> bool {
        match self {
            Quantifier::Any => count >= 1,
            Quantifier::No => count == 0,
            Quantifier::AtLeast(n) => count >= n,
            Quantifier::AtMost(n) => count <= n,
            Quantifier::Exactly(n) => count == n,
        }
    }

    /// The quantifier accepting exactly the counts this one rejects, if
    /// there is one. (`exactly N` has none: its complement is two ranges.)
    pub fn complement(self) -> Option<Quantifier> {
        match self {
            Quantifier::Any => Some(Quantifier::No),
            Quantifier::No => Some(Quantifier::Any),
            Quantifier::AtLeast(0) => None,
            Quantifier::AtLeast(n) => Some(Quantifier::AtMost(n - 1)),
            Quantifier::AtMost(n) => n.checked_add(1).map(Quantifier::AtLeast),
            Quantifier::Exactly(_) => None,
        }
    }
}

/// `count(chain) >= 2`, `max(chain.field) < now - 90d`, `avg(..) is null`:
/// a positive test on an aggregate's value, false when the value is missing
/// (`avg`, `min`, `max` of no values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregateTest {
    pub aggregate: Aggregate,
    /// Only `Compare`, `IsNotNull` and `Between`: the language has no other
    /// test on an aggregate. Values are typed as [`Aggregate::value_type`].
    pub test: Test,
}

impl AggregateTest {
    /// Whether the test holds for a record that reaches no records (or only
    /// records with the field missing): known without data, since `count`
    /// and `sum` of nothing are 0 and the others are missing. Back ends use
    /// it to decide whether records absent from a grouped result pass, the
    /// optimizer to know that a test implies the chain reaches something.
    pub fn holds_on_empty(&self) -> bool {
        if self.aggregate.empty_value().is_none() {
            // A positive test on a missing value is false (SPEC 2.3).
            return false;
        }
        // The value is 0: only the sign of each bound matters.
        let zero_vs = |value: &Value| match value {
            Value::Integer(n) => Some(0.cmp(n)),
            Value::Decimal(x) => 0.0f64.partial_cmp(x),
            _ => None,
        };
        use std::cmp::Ordering::{Equal, Greater, Less};
        match &self.test {
            Test::IsNotNull => true,
            Test::Compare { op, value } => match (op, zero_vs(value)) {
                (CmpOp::Eq, Some(order)) => order == Equal,
                (CmpOp::Lt, Some(order)) => order == Less,
                (CmpOp::Le, Some(order)) => order != Greater,
                (CmpOp::Gt, Some(order)) => order == Greater,
                (CmpOp::Ge, Some(order)) => order != Less,
                (_, None) => false,
            },
            Test::Between { low, high } => {
                matches!(zero_vs(low), Some(Greater | Equal))
                    && matches!(zero_vs(high), Some(Less | Equal))
            }
            Test::InList(_) | Test::Text { .. } => false,
        }
    }
}

/// An aggregate over the records reached through a chain of hops.
///
/// The records aggregated are the **distinct** records of the last hop's
/// entity reachable from the current record through records that pass every
/// hop's filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub function: AggregateFn,
    /// One or more hops; the first starts at the current entity, each next
    /// one at the entity the one before arrives at.
    pub chain: Vec<Hop>,
    /// The field of the last hop's entity that is aggregated; `None` for
    /// `count`, `Some` for every other function.
    pub field: Option<FieldRef>,
}

/// One hop of an aggregate's chain: a relationship and the filter its
/// records must pass (`Const(true)` when none was written), evaluated on
/// `link.to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    pub link: Link,
    pub filter: PlanExpr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFn {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggregateFn {
    /// Every function.
    pub const ALL: [AggregateFn; 5] = [
        AggregateFn::Count,
        AggregateFn::Sum,
        AggregateFn::Avg,
        AggregateFn::Min,
        AggregateFn::Max,
    ];

    /// The function as segql writes it (`count`).
    pub fn keyword(self) -> &'static str {
        match self {
            AggregateFn::Count => "count",
            AggregateFn::Sum => "sum",
            AggregateFn::Avg => "avg",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
        }
    }
}

impl Aggregate {
    /// The type of the aggregate's value: `count` is an integer, `avg` a
    /// decimal, `sum`, `min` and `max` have their field's type.
    pub fn value_type(&self) -> ValueType {
        match (self.function, &self.field) {
            (AggregateFn::Count, _) | (_, None) => ValueType::Integer,
            (AggregateFn::Avg, Some(_)) => ValueType::Decimal,
            (_, Some(field)) => field.ty,
        }
    }

    /// The value over no records: 0 for `count` and `sum`, missing (`None`)
    /// for `avg`, `min` and `max`.
    pub fn empty_value(&self) -> Option<Value> {
        match self.function {
            AggregateFn::Count => Some(Value::Integer(0)),
            AggregateFn::Sum => Some(match self.value_type() {
                ValueType::Decimal => Value::Decimal(0.0),
                _ => Value::Integer(0),
            }),
            AggregateFn::Avg | AggregateFn::Min | AggregateFn::Max => None,
        }
    }

    /// Whether the value can be missing: never for `count` and `sum`.
    pub fn can_be_missing(&self) -> bool {
        self.empty_value().is_none()
    }

    /// Whether distinct end records must be found explicitly: a hop to a
    /// parent after a hop to children can reach one record along several
    /// paths (`lead.account` from a contact), which would count it twice.
    /// Chains of children only, or of parents only, never meet again.
    pub fn fans_in(&self) -> bool {
        let mut seen_children = false;
        for hop in &self.chain {
            match hop.link.direction {
                Direction::ToChildren => seen_children = true,
                Direction::ToParent if seen_children => return true,
                Direction::ToParent => {}
            }
        }
        false
    }

    /// The entity whose records are aggregated.
    pub fn target(&self) -> &str {
        self.chain.last().map_or("", |hop| hop.link.to.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldTest {
    pub field: FieldRef,
    pub test: Test,
}

/// A resolved field: canonical entity and field names and its storage type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldRef {
    pub entity: Name,
    pub field: Name,
    pub ty: ValueType,
}

/// A field's type as far as comparisons care (choices compare by code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Uuid,
    Text,
    Integer,
    Decimal,
    Bool,
    Date,
    #[serde(rename = "datetime")]
    DateTime,
    Choice,
}

/// A positive test: false whenever the field is NULL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// `field op value`.
    Compare { op: CmpOp, value: Value },
    /// The field has a value.
    IsNotNull,
    /// The field equals one of the values.
    InList(Vec<Value>),
    /// `low <= field <= high`. The bounds are boxed: held inline, they
    /// made this the largest test, and every plan node as large.
    Between { low: Box<Value>, high: Box<Value> },
    /// ASCII-case-insensitive, literal (no wildcards) substring test.
    Text { op: TextOp, pattern: String },
}

/// Comparison operators of the plan. `!=` is not here: it is `Not(Eq)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Test {
    /// `low <= field <= high`, the bounds boxed.
    pub fn between(low: Value, high: Value) -> Test {
        Test::Between {
            low: Box::new(low),
            high: Box::new(high),
        }
    }
}

impl CmpOp {
    /// The operator as segql and SQL both write it.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// Text pattern operators of the plan: ASCII-case-insensitive and literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl TextOp {
    /// The operator as segql writes it (`starts with`).
    pub fn keyword(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "starts with",
            TextOp::EndsWith => "ends with",
        }
    }
}

/// A typed literal. Its variant matches the field's [`ValueType`], except that
/// integer and decimal fields accept both `Integer` and `Decimal` values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Text(String),
    Integer(i64),
    Decimal(f64),
    Bool(bool),
    Uuid(uuid::Uuid),
    /// A choice's integer code; the label is kept for display, inline
    /// up to 24 bytes (every literal of a choice field names one).
    Choice {
        code: i64,
        label: CompactString,
    },
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    /// `today ± days`, for date fields; resolved against the reference time.
    TodayPlusDays(i64),
    /// `now ± seconds` (or `today ± whole days` on a date-time field, then
    /// `midnight` is true); resolved against the reference time.
    NowPlusSeconds {
        seconds: i64,
        midnight: bool,
    },
}

impl Value {
    /// Replace a relative time by the absolute value it has at `now`.
    /// Absolute values are returned unchanged. `None` when the result leaves
    /// the supported years 0000..=9999 (dates are stored as fixed-width text,
    /// whose order is only chronological inside that range).
    pub fn resolve(&self, now: DateTime<Utc>) -> Option<Value> {
        use chrono::Datelike;
        let in_range = |year: i32| (0..=9999).contains(&year);
        match self {
            Value::TodayPlusDays(days) => {
                let date = now.date_naive();
                let date = date.checked_add_signed(chrono::Duration::try_days(*days)?)?;
                in_range(date.year()).then_some(Value::Date(date))
            }
            Value::NowPlusSeconds { seconds, midnight } => {
                let base = if *midnight {
                    now.date_naive().and_hms_opt(0, 0, 0)?.and_utc()
                } else {
                    now
                };
                let at = base.checked_add_signed(chrono::Duration::try_seconds(*seconds)?)?;
                in_range(at.year()).then_some(Value::DateTime(at))
            }
            other => Some(other.clone()),
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// The checker builds and the optimizer's walk moves every node by
    /// value: boxing the aggregate (136 bytes inline) took the checker's
    /// run on 10,000 nodes from 1.30 to 1.00 ms, and boxing the bounds of
    /// `between` (104 to 88 bytes) about 7% more. A variant that grows a
    /// node past this should be boxed instead.
    #[test]
    fn plan_nodes_stay_small() {
        let size = std::mem::size_of::<PlanExpr>();
        assert!(size <= 88, "{size}");
        let size = std::mem::size_of::<Test>();
        assert!(size <= 40, "{size}");
    }
}
