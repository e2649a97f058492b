//! Finding equal items in long `and`/`or` lists without comparing every
//! pair.
//!
//! Merging tests over one link gathers filters into one list, so lists grow
//! with the plan; rules that look for an item equal to another (duplicates,
//! complements, absorption) would then cost the square of the list's length
//! on every visit. A [`fingerprint`] hashes an expression's top levels only,
//! in time independent of its size, and equal expressions get equal
//! fingerprints; [`EqualItems`] uses it to narrow each search to the few
//! items that may be equal, and compares those in full.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::optimize::rules::{Kind, Kinds};
use crate::plan::{FieldRef, Link, PlanExpr, Test, Value};

/// Up to this many comparisons a search goes pair by pair: comparing two
/// different items usually stops at their first field, and building an
/// index costs more than it saves.
const PAIRWISE: usize = 512;

/// Whether a search that would take `comparisons` pairwise comparisons is
/// better done through an [`EqualItems`] index.
pub(crate) fn worth_an_index(comparisons: usize) -> bool {
    comparisons > PAIRWISE
}

/// How many levels of an expression its fingerprint looks at. Lists
/// contribute their first and last items, so a fingerprint visits at most
/// `2^LEVELS` leaves. Fewer levels, or the first item alone, let whole
/// families of distinct items collide and turn the search quadratic
/// again: every `has lead(topic = "..." and status = "Open")` looked alike
/// at three levels (the topic sits on the fourth), and so did every
/// `(status = "Open" and city = "...")` when only first items counted.
const LEVELS: usize = 4;

/// A hash of the top levels of `expr`: equal expressions have equal
/// fingerprints (the converse need not hold).
pub(crate) fn fingerprint(expr: &PlanExpr) -> u64 {
    let mut hasher = QuickHasher::default();
    write_expr(expr, LEVELS, &mut hasher);
    hasher.finish()
}

/// A fast hasher for the optimizer's own tables: one multiply per word (the
/// scheme of rustc's `FxHasher`). Fingerprints are computed on every visit
/// of a long list, and the standard hasher's resistance to chosen keys buys
/// nothing here: colliding items are only compared in full.
#[derive(Clone, Copy, Default)]
pub(crate) struct QuickHasher(u64);

/// Builds [`QuickHasher`]s, for `HashMap`s keyed by plan parts.
pub(crate) type QuickState = BuildHasherDefault<QuickHasher>;

impl QuickHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buffer = [0u8; 8];
            buffer.copy_from_slice(word);
            self.add(u64::from_le_bytes(buffer));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut buffer = [0u8; 8];
            buffer[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buffer));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    // The signed and narrower integers of the plan (counts, codes,
    // seconds, the parts of dates and times) as one word each, where
    // `Hasher`'s defaults would go through `write`'s loop over bytes.
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.add(n as u64);
    }

    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.add(n as u64);
    }
}

/// At most three words of `text`: its length and its first and last eight
/// bytes (all of it up to sixteen). Equal texts still hash alike, and the
/// names and literals of a list's items rarely share length, start and
/// end; whole names were most of a fingerprint's cost (a field test hashed
/// its entity, field and literal byte by byte, a relationship test five
/// names).
fn write_text(text: &str, hasher: &mut QuickHasher) {
    let bytes = text.as_bytes();
    hasher.add(bytes.len() as u64);
    let word = |part: &[u8]| {
        let mut buffer = [0u8; 8];
        buffer[..part.len()].copy_from_slice(part);
        u64::from_le_bytes(buffer)
    };
    if bytes.len() <= 8 {
        hasher.add(word(bytes));
    } else {
        hasher.add(word(&bytes[..8]));
        hasher.add(word(&bytes[bytes.len() - 8..]));
    }
}

/// A field by its name and type: the entity is left out, since the items
/// of one list test fields of one entity.
fn write_field(field: &FieldRef, hasher: &mut QuickHasher) {
    write_text(&field.field, hasher);
    field.ty.hash(hasher);
}

/// A link by its relationship and direction, which name its two entities.
fn write_link(link: &Link, hasher: &mut QuickHasher) {
    write_text(&link.relationship, hasher);
    link.direction.hash(hasher);
}

/// Only what `PartialEq` compares goes in, and never more than the first
/// and last items of a list or the first value of an `in` list, so the
/// cost stays bounded.
fn write_expr(expr: &PlanExpr, levels: usize, hasher: &mut QuickHasher) {
    std::mem::discriminant(expr).hash(hasher);
    if levels == 0 {
        return;
    }
    match expr {
        PlanExpr::Const(value) => value.hash(hasher),
        PlanExpr::Not(inner) => write_expr(inner, levels - 1, hasher),
        PlanExpr::Segment(segment) => {
            write_text(&segment.name, hasher);
            write_expr(&segment.filter, levels - 1, hasher);
        }
        PlanExpr::And(items) | PlanExpr::Or(items) => {
            items.len().hash(hasher);
            if let Some(first) = items.first() {
                write_expr(first, levels - 1, hasher);
            }
            if let [_, .., last] = items.as_slice() {
                write_expr(last, levels - 1, hasher);
            }
        }
        PlanExpr::Related(related) => {
            write_link(&related.link, hasher);
            related.quantifier.hash(hasher);
            write_expr(&related.filter, levels - 1, hasher);
        }
        PlanExpr::Field(test) => {
            write_field(&test.field, hasher);
            write_test(&test.test, hasher);
        }
        PlanExpr::Aggregate(test) => {
            let aggregate = &test.aggregate;
            aggregate.function.hash(hasher);
            if let Some(field) = &aggregate.field {
                write_field(field, hasher);
            }
            aggregate.chain.len().hash(hasher);
            for hop in &aggregate.chain {
                write_link(&hop.link, hasher);
            }
            if let Some(first) = aggregate.chain.first() {
                write_expr(&first.filter, levels - 1, hasher);
            }
            write_test(&test.test, hasher);
        }
    }
}

fn write_test(test: &Test, hasher: &mut QuickHasher) {
    std::mem::discriminant(test).hash(hasher);
    match test {
        Test::Compare { op, value } => {
            op.hash(hasher);
            write_value(value, hasher);
        }
        Test::IsNotNull => {}
        Test::InList(values) => {
            values.len().hash(hasher);
            if let Some(first) = values.first() {
                write_value(first, hasher);
            }
        }
        Test::Between { low, high } => {
            write_value(low, hasher);
            write_value(high, hasher);
        }
        Test::Text { op, pattern } => {
            std::mem::discriminant(op).hash(hasher);
            write_text(pattern, hasher);
        }
    }
}

fn write_value(value: &Value, hasher: &mut QuickHasher) {
    std::mem::discriminant(value).hash(hasher);
    match value {
        Value::Text(text) => write_text(text, hasher),
        Value::Integer(n) => n.hash(hasher),
        // `0.0 == -0.0`, so both hash alike; a NaN equals nothing.
        Value::Decimal(d) if *d == 0.0 => {}
        Value::Decimal(d) => d.to_bits().hash(hasher),
        Value::Bool(b) => b.hash(hasher),
        Value::Uuid(u) => u.hash(hasher),
        Value::Choice { code, label } => {
            code.hash(hasher);
            write_text(label, hasher);
        }
        Value::Date(d) => d.hash(hasher),
        Value::DateTime(t) => t.hash(hasher),
        Value::TodayPlusDays(days) => days.hash(hasher),
        Value::NowPlusSeconds { seconds, midnight } => {
            seconds.hash(hasher);
            midnight.hash(hasher);
        }
    }
}

/// A set of expressions that answers "is there one equal to this?" by
/// comparing only the members whose fingerprint matches.
///
/// Members with one fingerprint are chained through `next` rather than
/// kept in a list per fingerprint: a list per distinct item was one
/// allocation per item, most of the cost of searching a long list.
pub(crate) struct EqualItems<'a> {
    /// The index in `members` of the latest member with each fingerprint.
    latest: HashMap<u64, usize, QuickState>,
    members: Vec<&'a PlanExpr>,
    /// For each member, the index of the member added before it with the
    /// same fingerprint ([`END`] for none).
    next: Vec<usize>,
    /// The kinds of node among the members: an expression of another kind
    /// equals none of them, and is answered without its fingerprint
    /// (absorption asks of every part of every inner list whether it is
    /// one of the few plain items, most of them of kinds those lack).
    kinds: Kinds,
}

/// The end of a chain of members.
const END: usize = usize::MAX;

impl<'a> EqualItems<'a> {
    /// The set of `items`.
    pub(crate) fn new<I: IntoIterator<Item = &'a PlanExpr>>(items: I) -> Self
    where
        I::IntoIter: ExactSizeIterator,
    {
        let items = items.into_iter();
        let mut set = EqualItems::with_capacity(items.len());
        for item in items {
            set.insert(item);
        }
        set
    }

    /// An empty set with room for `capacity` members.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        EqualItems {
            latest: HashMap::with_capacity_and_hasher(capacity, QuickState::default()),
            members: Vec::with_capacity(capacity),
            next: Vec::with_capacity(capacity),
            kinds: Kinds::NONE,
        }
    }

    pub(crate) fn insert(&mut self, item: &'a PlanExpr) {
        self.insert_with(fingerprint(item), item);
    }

    /// Adds `item` unless a member equals it; whether it was added. One
    /// fingerprint where `contains` then `insert` would take two.
    pub(crate) fn insert_new(&mut self, item: &'a PlanExpr) -> bool {
        let print = fingerprint(item);
        if self.find(print, item) {
            return false;
        }
        self.insert_with(print, item);
        true
    }

    /// Whether a member equals `expr`.
    pub(crate) fn contains(&self, expr: &PlanExpr) -> bool {
        self.kinds.contains(Kind::of(expr)) && self.find(fingerprint(expr), expr)
    }

    /// Whether a member with fingerprint `print` equals `expr`.
    fn find(&self, print: u64, expr: &PlanExpr) -> bool {
        let mut at = self.latest.get(&print).copied().unwrap_or(END);
        while at != END {
            if self.members[at] == expr {
                return true;
            }
            at = self.next[at];
        }
        false
    }

    fn insert_with(&mut self, print: u64, item: &'a PlanExpr) {
        let index = self.members.len();
        self.kinds = self.kinds.with(Kind::of(item));
        let before = self.latest.insert(print, index).unwrap_or(END);
        self.members.push(item);
        self.next.push(before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::rules::build::*;
    use crate::plan::{CmpOp, Direction, Quantifier, ValueType};

    #[test]
    fn equal_expressions_have_equal_fingerprints() {
        let deep = |leaf| and(vec![or(vec![not(leaf), flag("b")]), flag("c")]);
        assert_eq!(
            fingerprint(&deep(n(CmpOp::Lt, 1))),
            fingerprint(&deep(n(CmpOp::Lt, 1)))
        );
        let zero = |d: f64| cmp(&int_field(), CmpOp::Eq, Value::Decimal(d));
        assert_eq!(zero(0.0), zero(-0.0));
        assert_eq!(fingerprint(&zero(0.0)), fingerprint(&zero(-0.0)));
    }

    #[test]
    fn lists_differing_in_their_last_item_or_fourth_level_differ() {
        let pair = |value| and(vec![flag("a"), n(CmpOp::Lt, value)]);
        assert_ne!(fingerprint(&pair(1)), fingerprint(&pair(2)));
        let deep = |value| and(vec![or(vec![not(n(CmpOp::Lt, value))]), flag("c")]);
        assert_ne!(fingerprint(&deep(1)), fingerprint(&deep(2)));
    }

    #[test]
    fn finds_equal_members_only() {
        let items = [flag("a"), n(CmpOp::Lt, 1), not(flag("a")), n(CmpOp::Lt, 2)];
        let set = EqualItems::new(&items);
        assert!(set.contains(&n(CmpOp::Lt, 2)));
        assert!(set.contains(&not(flag("a"))));
        assert!(!set.contains(&n(CmpOp::Lt, 3)));
        assert!(!set.contains(&not(flag("b"))));
        // Equal at the top four levels, different below: compared in full.
        let deep = |name| and(vec![or(vec![not(not(flag(name)))])]);
        let member = deep("a");
        let set = EqualItems::new([&member]);
        assert!(set.contains(&deep("a")));
        assert!(!set.contains(&deep("b")));
    }

    #[test]
    fn insert_new_adds_only_items_without_an_equal_member() {
        let items = [flag("a"), n(CmpOp::Lt, 1), flag("a"), n(CmpOp::Lt, 2)];
        let mut set = EqualItems::with_capacity(0);
        let added: Vec<bool> = items.iter().map(|item| set.insert_new(item)).collect();
        assert_eq!(added, [true, true, false, true]);
        assert!(set.contains(&n(CmpOp::Lt, 2)));
    }

    #[test]
    fn names_and_texts_differing_in_the_middle_are_still_told_apart() {
        // A fingerprint hashes a text's length and its first and last eight
        // bytes: texts alike there collide, and only the full comparison
        // tells them apart.
        let text = |middle: &str| {
            cmp(
                &field("t", ValueType::Text),
                CmpOp::Eq,
                Value::Text(format!("prefix--{middle}--suffix")),
            )
        };
        assert_eq!(fingerprint(&text("x")), fingerprint(&text("y")));
        let member = text("x");
        let set = EqualItems::new([&member]);
        assert!(set.contains(&text("x")));
        assert!(!set.contains(&text("y")));
        let (x, y) = (text("x"), text("y"));
        let mut set = EqualItems::with_capacity(0);
        assert!(set.insert_new(&x) && set.insert_new(&y));
        // Texts of other lengths or ends differ in the fingerprint.
        assert_ne!(fingerprint(&text("x")), fingerprint(&text("xy")));
        let short = |s: &str| {
            cmp(
                &field("t", ValueType::Text),
                CmpOp::Eq,
                Value::Text(s.into()),
            )
        };
        assert_ne!(
            fingerprint(&short("Topic 1")),
            fingerprint(&short("Topic 2"))
        );
    }

    #[test]
    fn fields_of_other_entities_and_links_to_other_entities_are_told_apart() {
        // Neither a field's entity nor a link's two entities go into the
        // fingerprint: the full comparison still sees them.
        let on = |entity: &str| {
            let mut field = field("name", ValueType::Text);
            field.entity = entity.into();
            eq(&field, Value::Text("x".into()))
        };
        let member = on("contact");
        let set = EqualItems::new([&member]);
        assert!(set.contains(&on("contact")));
        assert!(!set.contains(&on("lead")));
        let to = |entity: &str| {
            let mut link = link("owns", Direction::ToChildren);
            link.to = entity.into();
            has(&link, Quantifier::Any, flag("a"))
        };
        let (lead, again, account) = (to("lead"), to("lead"), to("account"));
        let mut set = EqualItems::with_capacity(0);
        assert!(set.insert_new(&lead));
        assert!(!set.insert_new(&again));
        assert!(set.insert_new(&account));
    }
}
