//! Plan to SQL: walks the typed plan once, pushing negation down to the
//! atoms so that SQL's three-valued logic never shows through.
//!
//! The plan's atoms are positive (false on NULL) and `Not` is the exact
//! complement (SPEC §2.3). A positive atom is written as a DBA would write it
//! (`t0.role = ?1`): where it yields NULL, the surrounding `AND`/`OR`/`WHERE`
//! are monotone, so NULL acts exactly like false. Only a *negated* atom needs
//! care, and it is written null-safe (`t0.city IS NOT ?1`,
//! `(t0.score >= ?2 OR t0.score IS NULL)`), so it is never NULL. `NOT EXISTS`
//! and `COUNT(*)` comparisons are never NULL either. `x IN (SELECT ...)` can
//! be NULL (a NULL `x`, or NULLs in the set), so it appears only positively,
//! where NULL and false mean the same.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::dialect::{push_decimal, Dialect};
use super::tree::{
    Count, Grouped, Groups, InSet, ListSelect, Membership, Renderer, SqlExpr, Subquery, Texts,
    Written, GROUP_KEY,
};
use super::SqlParam;
use crate::error::{Error, Result};
use crate::plan::{
    CmpOp, Direction, FieldTest, Link, PlanExpr, Quantifier, Related, Test, TextOp, Value,
    ValueType,
};
use crate::schema::{Entity, Field, Relationship, Schema};
use crate::span::Span;

/// How the literals of a query reach its SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Literals {
    /// One bind parameter per literal; relative times are resolved at the
    /// reference time `now` (every query that runs, SPEC §2.1).
    Bound { now: DateTime<Utc> },
    /// Written into the SQL text as the dialect's escaped literals
    /// ([`Dialect::literal`]), relative times as expressions of the
    /// database's clock, read whenever the statement runs: for a database
    /// view (SPEC §7), which has no parameters and outlives the command.
    /// A relative time must still lie in the years 0000 to 9999 at
    /// `checked_at` (the moment the view is made), as it must for a run.
    Inline { checked_at: DateTime<Utc> },
}

/// The state of one translation: where the parameters go.
pub(crate) struct Generator<'a> {
    pub schema: &'a Schema,
    pub dialect: &'a dyn Dialect,
    pub literals: Literals,
    /// One per literal, in the order the literals appear in the SQL (none
    /// with [`Literals::Inline`]).
    pub params: Vec<SqlParam>,
    /// The integer `sum` aggregates the SQL computes (as segql prints
    /// them), so that a database's overflow error can name them.
    pub integer_sums: Vec<String>,
    /// Session settings the SQL is best run with (see
    /// [`crate::sql::SqlQuery::settings`]).
    pub settings: Vec<(&'static str, &'static str)>,
    /// Whether the condition being written sits under an `OR` of its
    /// (sub)query's `WHERE`, where a planner cannot make `IN` a semi-join.
    pub(super) under_or: bool,
    /// Parents LEFT JOINed beside the query's own table (see
    /// [`JoinedParent`]); empty unless the caller joins them.
    pub(super) joined_parents: Vec<JoinedParent>,
    /// Whether every subquery is correlated with its outer row, set when
    /// the query's root is pinned to a few keys ([`pins_the_key`]): a
    /// grouped or `IN` subquery would then aggregate or scan a whole child
    /// table for the sake of a handful of rows, where a correlated one
    /// reads only theirs through the child's foreign-key index (`segql
    /// why` of a `count(interaction(..))` at 1M contacts read 10M
    /// interactions per node).
    pub(super) correlate: bool,
    /// Whether the condition being written is on the rows of a parent
    /// table, in the subquery of a many-to-one hop. A `has` of that
    /// parent's children is then a correlated `EXISTS`: the parent's rows
    /// that pass its other tests are few beside the child table, and each
    /// probes the child's foreign-key index, where `IN (SELECT ...)`
    /// would read every matching child row. At 1M contacts,
    /// `account.industry = "Retail" and has account(employees >= 1000 and
    /// has lead(status = "Open"))` took 1.18 s with `IN` on SQLite and
    /// 0.17 s written by hand with `EXISTS` (benches/README.md).
    pub(super) on_parent_rows: bool,
    /// Whether a `has` (or `has no`) of the root's children under an `OR`
    /// of the root's `WHERE` may become a joined set of keys
    /// ([`Generator::joined_keys_test`]); set for a
    /// query's root in dialects that join them
    /// ([`Dialect::joins_has_under_or`]).
    pub(super) join_keys_under_or: bool,
    /// Whether the query's root `WHERE` is an `OR` written for a scan of
    /// the root's table ([`Dialect::scans_for_a_root_or`]): a counted
    /// `has` of the root's children under it tests the groups that pass
    /// with a correlated `EXISTS` ([`Generator::counted_groups_test`]).
    pub(super) scans_root_or: bool,
    /// Whether a counted `has` of the root's children under a root `OR`
    /// written for a scan is a correlated `COUNT(*)` probed per row
    /// ([`crate::sql::RootOrCounts::PerRow`]), not the groups that pass.
    pub(super) counts_per_row: bool,
    /// Whether the query's root `WHERE` is an `OR` of `has` of the root's
    /// children alone ([`is_or_of_child_lists`]) in a dialect that writes
    /// it as one list ([`Dialect::lists_an_or_of_children`]): each is an
    /// `IN` list, and [`Generator::union_lists`] merges them.
    pub(super) lists_root_or: bool,
    /// The `LEFT JOIN` clauses of the joined sets of keys so far, each
    /// starting on a new line.
    pub(super) joined_keys: Vec<String>,
    /// The identifiers quoted so far (see [`Generator::push_quoted`]).
    quoted: RefCell<Vec<Quoted>>,
    /// The text of every condition ([`SqlExpr::Atom`]) written so far,
    /// one after the other.
    pub(super) text: Texts,
    /// The qualified column of the field test being written, kept to be
    /// written into again by the next: a field test wrote a string for it.
    column: String,
    /// The placeholders of the text test being written, kept to be
    /// written into again by the next (see [`Generator::text_test`]).
    placeholders: RefCell<Vec<String>>,
}

/// An identifier as the dialect quotes it, and the name itself where that
/// differs: most names stay bare, and then the one string is both.
struct Quoted {
    name: Option<String>,
    quoted: Rc<str>,
}

impl Quoted {
    fn is(&self, name: &str) -> bool {
        self.name.as_deref().unwrap_or(&*self.quoted) == name
    }
}

/// At most this many `SELECT`s in one list merged by
/// [`Generator::union_lists`]; SQLite refuses compound `SELECT`s of more
/// than 500.
const MAX_UNION: usize = 64;

/// At most this many identifiers are remembered quoted: a query names a
/// few tables and columns, each many times.
const QUOTED_NAMES: usize = 32;

/// At most this many joined sets of keys per query; further `has` under an
/// `OR` keep their subqueries. PostgreSQL searches the order of at most
/// `join_collapse_limit` (8) joins as one problem.
const MAX_JOINED_KEYS: usize = 6;

/// At most this many keys pin a query's root (see [`pins_the_key`]).
const FEW_KEYS: usize = 16;

/// Whether `filter`, a query's root `WHERE`, is an `OR` of at most
/// [`MAX_UNION`] `has` of the root's children, each one a related row must
/// exist for (`has`, `has at least 2`, not `has at most 2`): the root's
/// keys in one list of their `SELECT`s, joined by `UNION ALL`, answer it.
pub(super) fn is_or_of_child_lists(filter: &PlanExpr) -> bool {
    let PlanExpr::Or(items) = filter else {
        return false;
    };
    (2..=MAX_UNION).contains(&items.len())
        && items.iter().all(|item| match item {
            PlanExpr::Related(r) => {
                r.link.direction == Direction::ToChildren
                    && match shape(r.link.direction, r.quantifier, false) {
                        Shape::Exists => true,
                        Shape::Count(op, n) => !compare_count(op, 0, n),
                        Shape::Always | Shape::Never | Shape::NotExists => false,
                    }
            }
            _ => false,
        })
}

/// Whether `filter`, the root's filter, keeps at most [`FEW_KEYS`] records
/// by their key: the key tested with `=` or `in`, alone or as an operand of
/// the top `and`.
pub(super) fn pins_the_key(filter: &PlanExpr, root: &Entity) -> bool {
    let pins = |e: &PlanExpr| match e {
        PlanExpr::Field(t) if t.field.field == root.key => match &t.test {
            Test::Compare { op: CmpOp::Eq, .. } => true,
            Test::InList(values) => values.len() <= FEW_KEYS,
            _ => false,
        },
        _ => false,
    };
    match filter {
        PlanExpr::And(items) => items.iter().any(pins),
        other => pins(other),
    }
}

/// A parent table the caller joins once beside the query's own table
/// (`LEFT JOIN contact AS p1 ON p1.id = t0.contact_id`), so that a test on
/// the parent reads its columns instead of a subquery per test. A key is
/// unique, so the join adds no rows. Its alias is `p{depth}`.
pub(crate) struct JoinedParent {
    /// The alias of the table the parent is joined to (`t0`, or another
    /// joined parent's).
    pub from: Alias,
    pub relationship: crate::plan::Name,
    pub depth: usize,
    /// An inner `JOIN`: every row has the parent, so tests need not ask
    /// whether it exists. Otherwise a `LEFT JOIN`, whose parent columns
    /// are NULL for rows without one.
    pub inner: bool,
}

/// The table a condition is evaluated on and its alias (`t0` for the query's
/// own table, `t1` one subquery down, and so on).
pub(crate) struct Scope<'a> {
    pub entity: &'a Entity,
    pub depth: usize,
    /// The depth of the subqueries of conditions on this table: `depth + 1`,
    /// or past the tables joined beside it (an aggregate's chain), so that
    /// no alias inside them hides one of those.
    pub next: usize,
    /// Whether the table is a [`JoinedParent`] (alias `p{depth}`) rather
    /// than the table of a (sub)query (alias `t{depth}`).
    pub joined: bool,
}

impl Scope<'_> {
    pub fn alias(&self) -> Alias {
        Alias::new(if self.joined { 'p' } else { 't' }, self.depth)
    }

    /// Appends [`Scope::alias`] to `out`.
    fn push_alias(&self, out: &mut String) {
        self.alias().push_to(out);
    }
}

/// A table's alias in a query: a letter and a number (`t1`, `p2`, `g3`).
/// Kept as the two, not as text: a segment of 10,000 nodes has over a
/// thousand subqueries, and a string for each alias was one allocation of
/// the SQL stage in fifteen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Alias {
    letter: u8,
    number: usize,
}

impl Alias {
    /// The alias `letter` then `number`; `letter` is ASCII.
    pub fn new(letter: char, number: usize) -> Alias {
        debug_assert!(letter.is_ascii_lowercase());
        Alias {
            letter: letter as u8,
            number,
        }
    }

    /// Appends the alias to `out`.
    pub fn push_to(self, out: &mut String) {
        out.push(char::from(self.letter));
        push_decimal(out, self.number);
    }
}

impl std::fmt::Display for Alias {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", char::from(self.letter), self.number)
    }
}

/// A literal where a condition uses it.
#[derive(Clone)]
pub(super) enum Operand {
    /// Bind parameter `n` (1-based, bound already), written as the
    /// dialect's placeholder where the condition is written.
    Param(usize),
    /// SQL text: an inline literal, or an expression of the database's
    /// clock (see [`Literals::Inline`]).
    Sql(String),
}

/// A field condition after its literals have become parameters.
#[derive(Clone)]
pub(super) enum Cond {
    /// False for every row.
    Never,
    /// True for every row whose field has a value.
    NotNull,
    Cmp(CmpOp, Operand),
    Between(Operand, Operand),
    In(Vec<Operand>),
    /// The needle, ASCII-lowercased and non-empty, and the parameters
    /// of [`Dialect::text_test_params`].
    Text(TextOp, String, Vec<Operand>),
}

impl Cond {
    /// Whether [`Generator::render_cond`] writes it on the value prepared
    /// for ordering: a comparison other than `=`, or a range.
    fn orders(&self) -> bool {
        match self {
            Cond::Cmp(op, _) => *op != CmpOp::Eq,
            Cond::Between(..) => true,
            _ => false,
        }
    }
}

/// What a `Related` test asks of the matching related rows.
enum Shape {
    Always,
    Never,
    Exists,
    NotExists,
    /// `COUNT(*) op n`.
    Count(&'static str, i64),
}

impl<'a> Generator<'a> {
    /// A generator binding every literal as a parameter, relative times
    /// resolved at `now`.
    pub fn new(schema: &'a Schema, dialect: &'a dyn Dialect, now: DateTime<Utc>) -> Self {
        Self::with_literals(schema, dialect, Literals::Bound { now })
    }

    pub fn with_literals(schema: &'a Schema, dialect: &'a dyn Dialect, literals: Literals) -> Self {
        Generator {
            schema,
            dialect,
            literals,
            params: Vec::new(),
            integer_sums: Vec::new(),
            settings: Vec::new(),
            under_or: false,
            joined_parents: Vec::new(),
            correlate: false,
            on_parent_rows: false,
            join_keys_under_or: false,
            scans_root_or: false,
            counts_per_row: false,
            lists_root_or: false,
            joined_keys: Vec::new(),
            quoted: RefCell::new(Vec::new()),
            text: Texts::default(),
            column: String::new(),
            placeholders: RefCell::new(Vec::new()),
        }
    }

    /// Adds `param` and returns the placeholder to write where the
    /// condition is; with inline literals, the value as the dialect's SQL
    /// literal instead.
    pub(super) fn bind_operand(&mut self, param: SqlParam) -> Operand {
        match self.literals {
            Literals::Bound { .. } => {
                self.params.push(param);
                Operand::Param(self.params.len())
            }
            Literals::Inline { .. } => Operand::Sql(self.dialect.literal(&param)),
        }
    }

    /// Appends `operand` as SQL to `out`.
    fn push_operand(&self, operand: &Operand, out: &mut String) {
        match operand {
            Operand::Param(n) => self.dialect.push_placeholder(*n, &self.params[n - 1], out),
            Operand::Sql(sql) => out.push_str(sql),
        }
    }

    /// `operand` as SQL.
    pub(super) fn operand_text(&self, operand: &Operand) -> String {
        let mut out = String::new();
        self.push_operand(operand, &mut out);
        out
    }

    /// The condition `parts` say, one after the other, written into
    /// [`Generator::text`].
    pub(super) fn atom(&mut self, parts: &[&str]) -> SqlExpr {
        SqlExpr::Atom(self.written(parts))
    }

    /// `parts`, one after the other, written into [`Generator::text`].
    pub(super) fn written(&mut self, parts: &[&str]) -> Written {
        self.text.write(|out| push_all(out, parts))
    }

    /// What `write` writes into [`Generator::text`], given the rest of
    /// the generator to read (its quoted names, parameters, dialect).
    fn write_text(&mut self, write: impl FnOnce(&Self, &mut String)) -> Written {
        let mut text = std::mem::take(&mut self.text);
        let written = text.write(|out| write(self, out));
        self.text = text;
        written
    }

    /// [`Generator::qualified`], written into [`Generator::text`]: a
    /// `has` names two columns, and a string for each was two of the
    /// SQL stage's allocations per subquery.
    fn written_qualified(&mut self, scope: &Scope, column: &str) -> Written {
        self.write_text(|generator, out| generator.push_qualified(scope, column, out))
    }

    /// Adds `param` and writes its placeholder into [`Generator::text`];
    /// with inline literals, the value as the dialect's SQL literal.
    pub(super) fn bind_written(&mut self, param: SqlParam) -> Written {
        let operand = self.bind_operand(param);
        self.write_text(|generator, out| generator.push_operand(&operand, out))
    }

    pub fn quote(&self, name: &str) -> String {
        let mut quoted = String::new();
        self.push_quoted(name, &mut quoted);
        quoted
    }

    /// Appends `name` quoted by the dialect to `out`. A segment names the
    /// same few columns thousands of times, and the dialect's quoting (a
    /// new string, and a search of the reserved words) was a twelfth of
    /// the SQL stage; each name is quoted once and then copied.
    fn push_quoted(&self, name: &str, out: &mut String) {
        out.push_str(&self.quote_shared(name));
    }

    /// `name` quoted by the dialect, as [`Generator::quote`], in the one
    /// copy the generator keeps: every subquery names its table, and a
    /// string each was an allocation per `has`.
    pub(super) fn quote_shared(&self, name: &str) -> Rc<str> {
        let mut known = self.quoted.borrow_mut();
        if let Some(known) = known.iter().find(|known| known.is(name)) {
            return Rc::clone(&known.quoted);
        }
        let quoted: Rc<str> = self.dialect.quote_ident(name).into();
        if known.len() < QUOTED_NAMES {
            let name = (*quoted != *name).then(|| name.to_string());
            known.push(Quoted {
                name,
                quoted: Rc::clone(&quoted),
            });
        }
        quoted
    }

    /// `column` of `scope`'s table as SQL, `t1.contact_id`: one string
    /// built in place, for every field test and relationship writes one or
    /// two (formatting the alias and the whole reference apart were two
    /// allocations more each).
    pub(super) fn qualified(&self, scope: &Scope, column: &str) -> String {
        let mut out = String::with_capacity(column.len() + 8);
        self.push_qualified(scope, column, &mut out);
        out
    }

    /// Appends [`Generator::qualified`] to `out`.
    fn push_qualified(&self, scope: &Scope, column: &str, out: &mut String) {
        scope.push_alias(out);
        out.push('.');
        self.push_quoted(column, out);
    }

    /// `e` (or its complement when `negated`) as a SQL condition on `scope`.
    pub fn expr(&mut self, e: &PlanExpr, scope: &Scope, negated: bool) -> Result<SqlExpr> {
        let marks = (
            self.params.len(),
            self.integer_sums.len(),
            self.settings.len(),
            self.joined_keys.len(),
        );
        let sql = self.expr_unfolded(e, scope, negated)?;
        if let SqlExpr::Const(_) = sql {
            // The expression folded to a constant (`has at least 0 lead(..)`,
            // `x = 1 and false`): the parameters its parts bound appear
            // nowhere, and databases reject unused parameters; nor is a
            // set its parts joined needed.
            self.params.truncate(marks.0);
            self.integer_sums.truncate(marks.1);
            self.settings.truncate(marks.2);
            self.joined_keys.truncate(marks.3);
        }
        Ok(sql)
    }

    fn expr_unfolded(&mut self, e: &PlanExpr, scope: &Scope, negated: bool) -> Result<SqlExpr> {
        Ok(match e {
            PlanExpr::Const(b) => SqlExpr::Const(*b != negated),
            PlanExpr::Not(inner) => self.expr(inner, scope, !negated)?,
            PlanExpr::Segment(segment) => self.expr(&segment.filter, scope, negated)?,
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                // De Morgan: under negation AND becomes OR and back.
                let is_and = matches!(e, PlanExpr::And(_)) != negated;
                let outer = self.under_or;
                self.under_or |= !is_and && items.len() > 1;
                let parts = if !is_and && !negated && self.dialect.tests_prefixes_at_once() {
                    self.or_operands_with_prefixes_at_once(items, scope)
                } else {
                    self.each_expr(items, scope, negated)
                };
                self.under_or = outer;
                if is_and {
                    SqlExpr::and(parts?)
                } else if self.dialect.unions_lists_under_or() || self.lists_root_or {
                    let mut or = SqlExpr::or(parts?);
                    self.union_lists(&mut or);
                    or
                } else {
                    SqlExpr::or(parts?)
                }
            }
            PlanExpr::Related(related) => self.related(related, scope, negated)?,
            PlanExpr::Field(test) => self.field(test, scope, negated)?,
            PlanExpr::Aggregate(test) => self.aggregate(test, scope, negated)?,
        })
    }

    /// Merges the `IN (SELECT ...)` lists of one column among the operands
    /// of the `OR` `or` into the first of them, at most [`MAX_UNION`]
    /// `SELECT`s to a list ([`Dialect::unions_lists_under_or`]). `x IN (a)
    /// OR x IN (b)` holds exactly where `x IN (a UNION ALL b)` does; either
    /// may be NULL where the other is false, which an `OR` in a `WHERE`
    /// reads alike, and `IN` is written only where no `NOT` is above it.
    fn union_lists(&self, or: &mut SqlExpr) {
        let SqlExpr::Or(items) = or else {
            return;
        };
        if items
            .iter()
            .filter(|item| matches!(item, SqlExpr::In(_)))
            .count()
            < 2
        {
            return;
        }
        let mut kept: Vec<SqlExpr> = Vec::with_capacity(items.len());
        // The index in `kept` of the open list of each column.
        let mut open: Vec<(&str, usize)> = Vec::new();
        for item in std::mem::take(items) {
            let SqlExpr::In(set) = item else {
                kept.push(item);
                continue;
            };
            let outer = set.outer.of(&self.text);
            let at = open.iter().find(|&&(column, _)| column == outer);
            // A list merged under an inner `OR` brings all its `SELECT`s.
            let list = at.and_then(|&(_, at)| match &mut kept[at] {
                SqlExpr::In(list) if list.selects() + set.selects() <= MAX_UNION => Some(list),
                _ => None,
            });
            match list {
                Some(list) => {
                    let InSet { first, more, .. } = *set;
                    list.more.push(first);
                    list.more.extend(more);
                }
                None => {
                    open.retain(|&(column, _)| column != outer);
                    open.push((outer, kept.len()));
                    kept.push(SqlExpr::In(set));
                }
            }
        }
        *or = SqlExpr::or(kept);
    }

    /// [`Generator::expr`] of each of `items`, into a list of their number:
    /// collecting through `Result` could not know it and grew the list of
    /// a segment's top `or` (thousands of conditions) a dozen times.
    fn each_expr(
        &mut self,
        items: &[PlanExpr],
        scope: &Scope,
        negated: bool,
    ) -> Result<Vec<SqlExpr>> {
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            parts.push(self.expr(item, scope, negated)?);
        }
        Ok(parts)
    }

    /// The schema's relationship that `link` follows.
    pub(super) fn relationship(&self, link: &Link) -> Result<&'a Relationship> {
        self.schema.relationship(&link.relationship).ok_or_else(|| {
            internal(format!(
                "the plan uses relationship '{}', which the schema lacks",
                link.relationship
            ))
        })
    }

    /// Where `link` leads from `from`: a scope at `depth`, and the columns
    /// (on `from`'s table, then on the new scope's) that join them.
    pub(super) fn hop(
        &self,
        link: &Link,
        from: &Scope,
        depth: usize,
    ) -> Result<(Scope<'a>, String, String)> {
        let (inner, outer_col, inner_col) = self.hop_columns(link, from, depth)?;
        let outer_col = self.qualified(from, outer_col);
        let inner_col = self.qualified(&inner, inner_col);
        Ok((inner, outer_col, inner_col))
    }

    /// [`Generator::hop`], the two columns by their names alone.
    fn hop_columns<'s>(
        &self,
        link: &Link,
        from: &Scope<'s>,
        depth: usize,
    ) -> Result<(Scope<'a>, &'s str, &'a str)> {
        let rel = self.relationship(link)?;
        let target = entity(self.schema, &link.to)?;
        let inner = Scope {
            entity: target,
            depth,
            next: depth + 1,
            joined: false,
        };
        let (outer_field, inner_field) = match link.direction {
            Direction::ToChildren => (&from.entity.key, &rel.child_field),
            Direction::ToParent => (&rel.child_field, &target.key),
        };
        let outer_col = column_name(from.entity, outer_field)?;
        let inner_col = column_name(target, inner_field)?;
        Ok((inner, outer_col, inner_col))
    }

    /// Joins the parent `link` reaches from `from` beside the query's
    /// table: registers it (see [`JoinedParent`]) and returns its scope and
    /// the clause to write after the `FROM`, on a line of its own --
    /// `LEFT JOIN`, or `JOIN` when `inner`.
    pub(super) fn join_parent(
        &mut self,
        link: &Link,
        from: &Scope,
        inner: bool,
    ) -> Result<(Scope<'a>, String)> {
        let rel = self.relationship(link)?;
        let depth = self.joined_parents.len() + 1;
        let target = entity(self.schema, &link.to)?;
        let parent = Scope {
            entity: target,
            depth,
            next: from.next,
            joined: true,
        };
        self.joined_parents.push(JoinedParent {
            from: from.alias(),
            relationship: link.relationship.clone(),
            depth,
            inner,
        });
        let clause = format!(
            "\n{} {} AS {} ON {} = {}",
            if inner { "JOIN" } else { "LEFT JOIN" },
            self.quote(&target.table),
            parent.alias(),
            self.qualified(&parent, column_name(target, &target.key)?),
            self.qualified(from, column_name(from.entity, &rel.child_field)?),
        );
        Ok((parent, clause))
    }

    /// The joined parent that `link` reaches from `scope`, if the caller
    /// joined it.
    pub(super) fn joined_parent(&self, link: &Link, scope: &Scope) -> Option<Scope<'a>> {
        self.find_joined_parent(link, scope)
            .map(|(parent, _)| parent)
    }

    /// [`Generator::joined_parent`], and whether its join is inner.
    fn find_joined_parent(&self, link: &Link, scope: &Scope) -> Option<(Scope<'a>, bool)> {
        if link.direction != Direction::ToParent {
            return None;
        }
        let from = scope.alias();
        let joined = self
            .joined_parents
            .iter()
            .find(|p| p.from == from && p.relationship == link.relationship)?;
        let parent = Scope {
            entity: self.schema.entity(&link.to)?,
            depth: joined.depth,
            next: scope.next,
            joined: true,
        };
        Some((parent, joined.inner))
    }

    /// A test of a joined parent: its columns, beside the current row's.
    /// Under a `LEFT JOIN` the parent exists when its key is not NULL (a
    /// key is never NULL); under an inner `JOIN` it always does.
    fn related_joined(
        &mut self,
        r: &Related,
        parent: &Scope,
        inner: bool,
        negated: bool,
    ) -> Result<SqlExpr> {
        let key = self.qualified(parent, column_name(parent.entity, &parent.entity.key)?);
        let (parent_found, parent_missing) = match inner {
            true => (SqlExpr::Const(true), SqlExpr::Const(false)),
            false => (
                self.atom(&[&key, " IS NOT NULL"]),
                self.atom(&[&key, " IS NULL"]),
            ),
        };
        Ok(match shape(r.link.direction, r.quantifier, negated) {
            Shape::Always => SqlExpr::Const(true),
            Shape::Never => SqlExpr::Const(false),
            Shape::Exists => SqlExpr::and(vec![parent_found, self.expr(&r.filter, parent, false)?]),
            Shape::NotExists => {
                SqlExpr::or(vec![parent_missing, self.expr(&r.filter, parent, true)?])
            }
            Shape::Count(..) => {
                return Err(internal(format!(
                    "a count of parents over {}",
                    r.link.relationship
                )))
            }
        })
    }

    fn related(&mut self, r: &Related, scope: &Scope, negated: bool) -> Result<SqlExpr> {
        if let Some((parent, inner)) = self.find_joined_parent(&r.link, scope) {
            return self.related_joined(r, &parent, inner, negated);
        }
        let (inner, outer_name, inner_name) = self.hop_columns(&r.link, scope, scope.next)?;
        let outer_col = self.written_qualified(scope, outer_name);
        let inner_col = self.written_qualified(&inner, inner_name);
        let (target, inner_alias) = (inner.entity, inner.alias());
        // The filter is the subquery's own WHERE: no `OR` above it there.
        let outer = std::mem::replace(&mut self.under_or, false);
        let outer_rows = std::mem::replace(
            &mut self.on_parent_rows,
            r.link.direction == Direction::ToParent,
        );
        let filter = self.expr(&r.filter, &inner, false);
        self.under_or = outer;
        self.on_parent_rows = outer_rows;
        let filter = filter?;
        let shape = shape(r.link.direction, r.quantifier, negated);
        if filter == SqlExpr::Const(false) {
            // No related row can match: decide with a count of zero.
            return Ok(SqlExpr::Const(match shape {
                Shape::Always | Shape::NotExists => true,
                Shape::Never | Shape::Exists => false,
                Shape::Count(op, n) => compare_count(op, 0, n),
            }));
        }
        let mut sub = Subquery {
            table: self.quote_shared(&target.table),
            alias: inner_alias,
            joins: Vec::new(),
            correlation: None,
            filter,
        };
        if self.joins_keys_here(r, scope, &shape) {
            let (found, having) = match shape {
                Shape::Count(op, n) => {
                    // A count that zero satisfies is the complement of the
                    // groups that fail it: a record without related rows
                    // finds no key and must pass.
                    let zero_passes = compare_count(op, 0, n);
                    let op = if zero_passes { complement(op) } else { op };
                    (
                        !zero_passes,
                        Some((op, self.bind_written(SqlParam::Integer(n)))),
                    )
                }
                _ => (matches!(shape, Shape::Exists), None),
            };
            return Ok(self.joined_keys_test(&sub, inner_col, outer_col, found, having));
        }
        // Under a root `OR` written for a scan a count tests the groups
        // that pass, or, where the runner found few rows reach it, counts
        // per row below (a correlated `COUNT(*)`, probed only for the rows
        // the cheaper tests before it left).
        let counted_under_root_or =
            matches!(shape, Shape::Count(..)) && self.tests_counted_groups_here(r, scope);
        if let Shape::Count(op, n) = shape {
            if counted_under_root_or && !self.counts_per_row {
                return Ok(self.counted_groups_test(sub, inner_col, outer_col, (op, n), scope));
            }
        }
        // Where a match must exist, an uncorrelated `IN (SELECT ...)` runs
        // the subquery once (SQLite builds a temporary index of its result,
        // PostgreSQL a semi-join) -- unless it sits under an `OR` in a
        // dialect where that is slow (see `in_subquery_under_or`). Where
        // none may exist, `IN` cannot be negated safely (NULLs, and
        // PostgreSQL's NOT IN cannot use an anti-join), so those stay
        // correlated `NOT EXISTS` / `COUNT(*)`.
        let correlated = |generator: &mut Self| {
            generator.write_text(|generator, out| {
                generator.push_qualified(&inner, inner_name, out);
                out.push_str(" = ");
                generator.push_qualified(scope, outer_name, out);
            })
        };
        let probes_per_parent = self.on_parent_rows && r.link.direction == Direction::ToChildren;
        let uncorrelated_in = !(self.correlate || probes_per_parent || counted_under_root_or)
            && (!self.under_or
                || self.dialect.in_subquery_under_or()
                || (self.lists_root_or && scope.depth == 0));
        Ok(match shape {
            Shape::Always => SqlExpr::Const(true),
            Shape::Never => SqlExpr::Const(false),
            Shape::Exists if !uncorrelated_in => {
                sub.correlation = Some(correlated(self));
                SqlExpr::Exists {
                    negated: false,
                    sub: Box::new(sub),
                }
            }
            Shape::Exists => InSet::one(
                outer_col,
                ListSelect {
                    column: inner_col,
                    sub,
                    having: None,
                },
            ),
            Shape::NotExists => {
                sub.correlation = Some(correlated(self));
                SqlExpr::Exists {
                    negated: true,
                    sub: Box::new(sub),
                }
            }
            Shape::Count(op, n) if uncorrelated_in && !compare_count(op, 0, n) => {
                let having = Some((op, self.bind_written(SqlParam::Integer(n))));
                InSet::one(
                    outer_col,
                    ListSelect {
                        column: inner_col,
                        sub,
                        having,
                    },
                )
            }
            Shape::Count(op, n) => {
                sub.correlation = Some(correlated(self));
                SqlExpr::Count(Box::new(Count {
                    sub,
                    op,
                    rhs: self.bind_written(SqlParam::Integer(n)),
                }))
            }
        })
    }

    /// Whether the `has` `r` on `scope`, of the given shape, becomes a
    /// joined set of keys.
    fn joins_keys_here(&self, r: &Related, scope: &Scope, shape: &Shape) -> bool {
        self.join_keys_under_or
            && self.under_or
            && scope.depth == 0
            && !scope.joined
            && r.link.direction == Direction::ToChildren
            && matches!(shape, Shape::Exists | Shape::NotExists | Shape::Count(..))
            && self.joined_keys.len() < MAX_JOINED_KEYS
    }

    /// Whether the counted `has` `r` on `scope` tests its groups with a
    /// correlated `EXISTS` ([`Generator::counted_groups_test`]): on the
    /// root's rows, under a root `OR` written for a scan.
    fn tests_counted_groups_here(&self, r: &Related, scope: &Scope) -> bool {
        self.scans_root_or
            && self.under_or
            && scope.depth == 0
            && !scope.joined
            && r.link.direction == Direction::ToChildren
    }

    /// A counted `has` under a root `OR` written for a scan: whether the
    /// row's key (`outer_col`) is among the keys of `sub`'s rows whose
    /// count passes, as an `EXISTS` over those groups (or `NOT EXISTS`
    /// over the groups that fail, where a count of zero passes):
    ///
    /// ```sql
    /// EXISTS (
    ///   SELECT 1
    ///   FROM (
    ///     SELECT t1.contact_id AS grp FROM lead AS t1
    ///     GROUP BY t1.contact_id HAVING COUNT(*) >= $9
    ///   ) AS g1
    ///   WHERE g1.grp = t0.id
    /// )
    /// ```
    ///
    /// PostgreSQL plans it as a subplan it hashes once where the groups fit
    /// in `work_mem`, and otherwise probes per row, the correlation pushed
    /// into the grouped subquery and so onto the child's foreign-key
    /// index. A correlated `COUNT(*)` has no hashed form, and an
    /// uncorrelated `IN` no indexed one (it rescans the groups per row).
    fn counted_groups_test(
        &mut self,
        sub: Subquery,
        inner_col: Written,
        outer_col: Written,
        (op, n): (&'static str, i64),
        scope: &Scope,
    ) -> SqlExpr {
        // A count that zero satisfies is the complement of the groups
        // that fail it: a record without related rows has no group.
        let zero_passes = compare_count(op, 0, n);
        let op = if zero_passes { complement(op) } else { op };
        let operand = self.bind_operand(SqlParam::Integer(n));
        let having = SqlExpr::Atom(self.write_text(|generator, out| {
            push_all(out, &["COUNT(*) ", op, " "]);
            generator.push_operand(&operand, out);
        }));
        let fetches_rows = sub.filters_or_joins();
        SqlExpr::Grouped(Box::new(Grouped {
            outer: outer_col,
            membership: Membership::Exists {
                negated: zero_passes,
                alias: Alias::new('g', scope.next),
            },
            groups: Groups {
                key: inner_col,
                rows: sub,
                distinct: None,
                having,
                fetches_rows,
            },
        }))
    }

    /// Joins the distinct keys `sub` selects (`inner_col`) to the root's
    /// `outer_col` once, for a `has` under an `OR` of the root's `WHERE`,
    /// and tests that the row found one (`found`) or found none:
    ///
    /// ```sql
    /// LEFT JOIN (
    ///     SELECT DISTINCT t1.contact_id AS grp
    ///     FROM subscription AS t1
    ///     WHERE t1.list = $2
    ///   ) AS s1 ON s1.grp = t0.id
    /// ```
    ///
    /// and `s1.grp IS NOT NULL` (`IS NULL` for `has no`) in the `WHERE`,
    /// never NULL itself. Under an `OR`, PostgreSQL cannot make `EXISTS` a
    /// semi-join; it keeps a subplan, hashed or probed per row as the
    /// executor finds cheaper, but costs the plan as if probed per row. At
    /// 1M contacts that cost (12.9M) hid what matters, and the planner
    /// walked the contact's key index at random to merge with the leads
    /// (5.5 s; 2.2 s with the set joined, 2.7 s written by hand as a
    /// `UNION`). An uncorrelated `IN` is hashed only while it fits in
    /// `work_mem`, and otherwise rescans its rows for every contact.
    ///
    /// A count (`having`) groups the keys instead (`SELECT t1.contact_id
    /// AS grp .. GROUP BY t1.contact_id HAVING COUNT(*) >= $3`): as a
    /// correlated `COUNT(*)`, probed per contact, it took 14.1 s at 1M
    /// contacts, where the joined groups take 3.9 s.
    fn joined_keys_test(
        &mut self,
        sub: &Subquery,
        inner_col: Written,
        outer_col: Written,
        found: bool,
        having: Option<(&'static str, Written)>,
    ) -> SqlExpr {
        let alias = format!("s{}", self.joined_keys.len() + 1);
        let mut clause = String::from("\nLEFT JOIN (");
        let renderer = Renderer {
            dialect: self.dialect,
            text: &self.text,
        };
        let inner_col = inner_col.of(&self.text);
        match having {
            None => renderer.distinct_keys(inner_col, sub, 4, &mut clause),
            Some((op, rhs)) => {
                let rhs = rhs.of(&self.text);
                renderer.counted_keys(inner_col, sub, (op, rhs), 4, &mut clause)
            }
        }
        clause.push_str(&format!(
            "\n  ) AS {alias} ON {alias}.{GROUP_KEY} = {}",
            outer_col.of(&self.text)
        ));
        self.joined_keys.push(clause);
        let test = if found { " IS NOT NULL" } else { " IS NULL" };
        self.atom(&[&alias, ".", GROUP_KEY, test])
    }

    /// The schema's field that `t` tests, on `scope`'s entity.
    fn schema_field(&self, t: &FieldTest, scope: &Scope<'a>) -> Result<&'a Field> {
        scope.entity.field(&t.field.field).ok_or_else(|| {
            internal(format!(
                "the plan uses field {}.{}, which the schema lacks",
                t.field.entity, t.field.field
            ))
        })
    }

    /// The column that `t` tests, qualified by `scope`'s alias.
    pub(super) fn field_column(&self, t: &FieldTest, scope: &Scope<'a>) -> Result<String> {
        Ok(self.qualified(scope, &self.schema_field(t, scope)?.column))
    }

    fn field(&mut self, t: &FieldTest, scope: &Scope, negated: bool) -> Result<SqlExpr> {
        let field = self.schema_field(t, scope)?;
        // Into the string kept for it (see `Generator::column`).
        let mut col = std::mem::take(&mut self.column);
        col.clear();
        self.push_qualified(scope, &field.column, &mut col);
        let nullable = field.nullable && !field.name.eq_ignore_ascii_case(&scope.entity.key);
        let sql = self.field_on(t, &col, nullable, negated);
        self.column = col;
        sql
    }

    /// [`Generator::field`] on its column `col`.
    fn field_on(
        &mut self,
        t: &FieldTest,
        col: &str,
        nullable: bool,
        negated: bool,
    ) -> Result<SqlExpr> {
        let ty = t.field.ty;
        // `not flag` on a bool that cannot be NULL reads best as `flag = false`.
        if let (
            false,
            true,
            Test::Compare {
                op: CmpOp::Eq,
                value: Value::Bool(b),
            },
        ) = (nullable, negated, &t.test)
        {
            let p = self.bind_operand(self.dialect.bool_param(!b));
            return Ok(self.render_cond(Cond::Cmp(CmpOp::Eq, p), col, col, false, false));
        }
        let subject = || format!("{}.{}", t.field.entity, t.field.field);
        self.refuse_nul(&subject, &t.test)?;
        let cond = self.cond(ty, &t.test)?;
        // Only text is prepared for ordering, and only an ordering test
        // reads it; other columns order as they are.
        let ordered =
            (ty == ValueType::Text && cond.orders()).then(|| self.dialect.text_for_ordering(col));
        let ordered = ordered.as_deref().unwrap_or(col);
        Ok(self.render_cond(cond, col, ordered, nullable, negated))
    }

    /// An error when the dialect cannot hold U+0000 in text and a text
    /// literal of `test` has one, naming what is tested (`subject`, called
    /// only then: every field test passes here), the test and where in the
    /// literal it is.
    pub(super) fn refuse_nul(&self, subject: &dyn Fn() -> String, test: &Test) -> Result<()> {
        let Some(why) = self.dialect.text_refuses_nul() else {
            return Ok(());
        };
        let (what, at) = match test {
            Test::IsNotNull => return Ok(()),
            Test::Compare { op, value } => (op.symbol(), nul_position(text_values([value]))),
            Test::InList(values) => ("in", nul_position(text_values(values))),
            Test::Between { low, high } => {
                ("between", nul_position(text_values([&**low, &**high])))
            }
            Test::Text { op, pattern } => (op.keyword(), nul_position([pattern.as_str()])),
        };
        match at {
            None => Ok(()),
            Some(at) => Err(Error::InvalidValue {
                message: format!(
                    "{why}: the literal of `{} {what} ...` holds it at character {}",
                    subject(),
                    at + 1
                ),
                span: Span::default(),
            }),
        }
    }

    /// The literals of `test` turned into parameters.
    pub(super) fn cond(&mut self, ty: ValueType, test: &Test) -> Result<Cond> {
        Ok(match test {
            Test::IsNotNull => Cond::NotNull,
            Test::Compare { op, value } => self.compare(ty, *op, value)?,
            Test::Between { low, high } => {
                if ty == ValueType::Integer {
                    // Via the two bounds, which handle decimal literals.
                    let lo = self.compare(ty, CmpOp::Ge, low)?;
                    let hi = self.compare(ty, CmpOp::Le, high)?;
                    match (lo, hi) {
                        (Cond::Never, _) | (_, Cond::Never) => Cond::Never,
                        (Cond::NotNull, other) | (other, Cond::NotNull) => other,
                        (Cond::Cmp(_, a), Cond::Cmp(_, b)) => Cond::Between(a, b),
                        _ => return Err(internal("unexpected integer bound".into())),
                    }
                } else {
                    let a = self.param(ty, low)?;
                    let b = self.param(ty, high)?;
                    Cond::Between(a, b)
                }
            }
            Test::InList(values) => {
                let mut placeholders = Vec::with_capacity(values.len());
                for value in values {
                    match (ty, value) {
                        (ValueType::Integer, Value::Decimal(x)) => {
                            // Only a whole number can equal an integer.
                            if let Some(i) = exact_int(*x) {
                                placeholders.push(self.bind_operand(SqlParam::Integer(i)));
                            }
                        }
                        _ => placeholders.push(self.param(ty, value)?),
                    }
                }
                if placeholders.is_empty() {
                    Cond::Never
                } else {
                    Cond::In(placeholders)
                }
            }
            Test::Text { op, pattern } => {
                if pattern.is_empty() {
                    // Every text contains, starts and ends with "".
                    Cond::NotNull
                } else {
                    let needle = pattern.to_ascii_lowercase();
                    let params = self.dialect.text_test_params(*op, &needle);
                    let operands = params.into_iter().map(|p| self.bind_operand(p));
                    Cond::Text(*op, needle, operands.collect())
                }
            }
        })
    }

    /// `field op value`. An integer field compared with a decimal literal
    /// becomes an exact integer comparison (`n < 2.5` is `n < 3`), which
    /// keeps indexes usable and avoids lossy casts.
    fn compare(&mut self, ty: ValueType, op: CmpOp, value: &Value) -> Result<Cond> {
        let x = match (ty, value) {
            (ValueType::Integer, Value::Decimal(x)) => *x,
            _ => return Ok(Cond::Cmp(op, self.param(ty, value)?)),
        };
        if x.is_nan() {
            return Ok(Cond::Never);
        }
        let (bound, above_all_means_all) = match op {
            CmpOp::Eq => {
                return Ok(match exact_int(x) {
                    Some(i) => Cond::Cmp(op, self.bind_operand(SqlParam::Integer(i))),
                    None => Cond::Never,
                })
            }
            CmpOp::Lt | CmpOp::Ge => (x.ceil(), op == CmpOp::Lt),
            CmpOp::Le | CmpOp::Gt => (x.floor(), op == CmpOp::Le),
        };
        // 2^63 is exactly representable; anything from it up exceeds i64.
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        Ok(if bound >= TWO_63 {
            if above_all_means_all {
                Cond::NotNull
            } else {
                Cond::Never
            }
        } else if bound < -TWO_63 {
            if above_all_means_all {
                Cond::Never
            } else {
                Cond::NotNull
            }
        } else {
            // In range and whole, so the conversion is exact.
            Cond::Cmp(op, self.bind_operand(SqlParam::Integer(bound as i64)))
        })
    }

    /// A literal as a parameter of a field of type `ty`, relative times
    /// resolved against the reference time.
    fn param(&mut self, ty: ValueType, value: &Value) -> Result<Operand> {
        let (now, at) = match self.literals {
            Literals::Bound { now } => (now, "reference time"),
            Literals::Inline { checked_at } => (checked_at, "the current time"),
        };
        // Only a relative time is resolved into a new value: cloning every
        // other literal would copy each choice's label only to drop it.
        let resolved = match value {
            Value::TodayPlusDays(_) | Value::NowPlusSeconds { .. } => {
                Cow::Owned(value.resolve(now).ok_or_else(|| Error::InvalidValue {
                    message: format!(
                        "{} is outside the supported years 0000 to 9999 at {at} {}",
                        describe_relative(value),
                        now.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                    span: Span::default(),
                })?)
            }
            absolute => Cow::Borrowed(absolute),
        };
        if let Literals::Inline { .. } = self.literals {
            if let Some(clock) = self.clock(ty, value)? {
                return Ok(Operand::Sql(clock));
            }
        }
        let d = self.dialect;
        let param = match (ty, resolved.as_ref()) {
            (ValueType::Text, Value::Text(s)) => SqlParam::Text(s.clone()),
            (ValueType::Integer, &Value::Integer(i)) => SqlParam::Integer(i),
            (ValueType::Decimal, &Value::Decimal(x)) => SqlParam::Real(x),
            // Exact for |i| <= 2^53; decimal fields hold f64 anyway.
            (ValueType::Decimal, &Value::Integer(i)) => SqlParam::Real(i as f64),
            (ValueType::Choice, &Value::Choice { code, .. }) => SqlParam::Integer(code),
            (ValueType::Choice, &Value::Integer(code)) => SqlParam::Integer(code),
            (ValueType::Bool, &Value::Bool(b)) => d.bool_param(b),
            (ValueType::Uuid, &Value::Uuid(u)) => d.uuid_param(u),
            (ValueType::Date, &Value::Date(date)) => d.date_param(date),
            (ValueType::DateTime, &Value::DateTime(at)) => d.datetime_param(at),
            // A date on a date-time field means that day at 00:00:00Z.
            (ValueType::DateTime, Value::Date(date)) => {
                d.datetime_param(date.and_time(chrono::NaiveTime::MIN).and_utc())
            }
            (ty, other) => {
                return Err(internal(format!(
                    "a {ty:?} field compared with the literal {other:?}"
                )))
            }
        };
        Ok(self.bind_operand(param))
    }

    /// A relative time as an expression of the database's clock, in the
    /// form the dialect stores a value of type `ty`; `None` for an absolute
    /// value. Only with [`Literals::Inline`]: a bound query resolves
    /// relative times at its reference time instead.
    fn clock(&self, ty: ValueType, value: &Value) -> Result<Option<String>> {
        let d = self.dialect;
        Ok(Some(match (ty, value) {
            (ValueType::Date, Value::TodayPlusDays(days)) => d.today_plus_days(*days),
            (ValueType::DateTime, Value::NowPlusSeconds { seconds, midnight }) => {
                if *midnight {
                    d.midnight_plus_seconds(*seconds)
                } else {
                    d.now_plus_seconds(*seconds)
                }
            }
            // `today ± days` on a date-time field: that day at 00:00:00Z.
            (ValueType::DateTime, Value::TodayPlusDays(days)) => {
                let seconds = days.checked_mul(86_400).ok_or_else(|| {
                    internal(format!("today {days:+}d in seconds leaves 64 bits"))
                })?;
                d.midnight_plus_seconds(seconds)
            }
            (ty, relative @ (Value::TodayPlusDays(_) | Value::NowPlusSeconds { .. })) => {
                return Err(internal(format!(
                    "a {ty:?} field compared with the relative time {relative:?}"
                )))
            }
            _ => return Ok(None),
        }))
    }

    /// `cond` on the value `col` (or its complement when `negated`), never
    /// NULL when negated, written into [`Generator::text`]. `ordered` is
    /// `col` prepared for ordering comparisons
    /// ([`Dialect::text_for_ordering`] for text); `nullable` says whether
    /// `col` can be NULL.
    pub(super) fn render_cond(
        &mut self,
        cond: Cond,
        col: &str,
        ordered: &str,
        nullable: bool,
        negated: bool,
    ) -> SqlExpr {
        let mut constant = None;
        let written = self.write_text(|generator, out| {
            constant = generator.write_cond(cond, col, ordered, nullable, negated, out);
        });
        match constant {
            Some(b) => SqlExpr::Const(b),
            None => SqlExpr::Atom(written),
        }
    }

    /// Writes the condition of [`Generator::render_cond`] to `out`, or
    /// returns the constant it is.
    fn write_cond(
        &self,
        cond: Cond,
        col: &str,
        ordered: &str,
        nullable: bool,
        negated: bool,
        out: &mut String,
    ) -> Option<bool> {
        let d = self.dialect;
        let ordered = |op: CmpOp| if op == CmpOp::Eq { col } else { ordered };
        // A negated atom on a nullable column must be true where it is
        // NULL: `(... OR col IS NULL)`.
        let or_null = negated && nullable;
        let open = |out: &mut String| {
            if or_null {
                out.push('(');
            }
        };
        let close = |out: &mut String| {
            if or_null {
                push_all(out, &[" OR ", col, " IS NULL)"]);
            }
        };
        match (cond, negated) {
            (Cond::Never, neg) => return Some(neg),
            (Cond::NotNull, neg) if !nullable => return Some(!neg),
            (Cond::NotNull, false) => push_all(out, &[col, " IS NOT NULL"]),
            (Cond::NotNull, true) => push_all(out, &[col, " IS NULL"]),
            (Cond::Cmp(CmpOp::Eq, p), true) if nullable => {
                out.push_str(&d.null_safe_not_equal(col, &self.operand_text(&p)));
            }
            (Cond::In(ps), true) if ps.len() == 1 && nullable => {
                out.push_str(&d.null_safe_not_equal(col, &self.operand_text(&ps[0])));
            }
            (Cond::Cmp(op, p), neg) => {
                let symbol = match (neg, op) {
                    (false, op) => op.symbol(),
                    (true, CmpOp::Eq) => "<>",
                    (true, CmpOp::Lt) => ">=",
                    (true, CmpOp::Le) => ">",
                    (true, CmpOp::Gt) => "<=",
                    (true, CmpOp::Ge) => "<",
                };
                open(out);
                push_all(out, &[ordered(op), " ", symbol, " "]);
                self.push_operand(&p, out);
                close(out);
            }
            (Cond::Between(a, b), neg) => {
                open(out);
                out.push_str(ordered(CmpOp::Lt));
                out.push_str(if neg { " NOT BETWEEN " } else { " BETWEEN " });
                self.push_operand(&a, out);
                out.push_str(" AND ");
                self.push_operand(&b, out);
                close(out);
            }
            (Cond::In(ps), neg) => {
                open(out);
                out.push_str(col);
                match ps.as_slice() {
                    [p] => {
                        out.push_str(if neg { " <> " } else { " = " });
                        self.push_operand(p, out);
                    }
                    ps => {
                        out.push_str(if neg { " NOT IN (" } else { " IN (" });
                        for (i, p) in ps.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            self.push_operand(p, out);
                        }
                        out.push(')');
                    }
                }
                close(out);
            }
            (Cond::Text(op, needle, operands), neg) => {
                open(out);
                if neg {
                    out.push_str("NOT (");
                }
                self.push_text_test(op, col, &needle, &operands, out);
                if neg {
                    out.push(')');
                }
                close(out);
            }
        }
        None
    }

    /// [`Dialect::push_text_test`] with the placeholders of `operands`,
    /// written into the strings kept for them: a segment of 10,000 nodes
    /// wrote 1,500 of them, and a list, for its 1,000 text tests.
    fn push_text_test(
        &self,
        op: TextOp,
        col: &str,
        needle: &str,
        operands: &[Operand],
        out: &mut String,
    ) {
        let mut placeholders = self.placeholders.borrow_mut();
        if placeholders.len() < operands.len() {
            placeholders.resize_with(operands.len(), String::new);
        }
        for (placeholder, operand) in placeholders.iter_mut().zip(operands) {
            placeholder.clear();
            self.push_operand(operand, placeholder);
        }
        let placeholders = &placeholders[..operands.len()];
        self.dialect
            .push_text_test(op, col, needle, placeholders, out);
    }
}

/// `parts`, one after the other.
fn push_all(out: &mut String, parts: &[&str]) {
    parts.iter().for_each(|part| out.push_str(part));
}

/// The text among `values`.
fn text_values<'v>(values: impl IntoIterator<Item = &'v Value>) -> impl Iterator<Item = &'v str> {
    values.into_iter().filter_map(|v| match v {
        Value::Text(s) => Some(s.as_str()),
        _ => None,
    })
}

/// Where (in characters) the first of `literals` that holds U+0000 holds
/// it. Every text test of a segment passes here, so it looks for the byte
/// before it counts characters, and gathers nothing.
fn nul_position<'v>(literals: impl IntoIterator<Item = &'v str>) -> Option<usize> {
    literals
        .into_iter()
        .find(|literal| literal.as_bytes().contains(&0))
        .and_then(|literal| literal.chars().position(|c| c == '\0'))
}

/// Normalizes a quantifier to what SQL must test, given that a parent is
/// unique (at most one) and counts of children are never negative.
fn shape(direction: Direction, quantifier: Quantifier, negated: bool) -> Shape {
    // Counts beyond i64 cannot occur; clamping keeps every test exact.
    let n = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let to_parent = direction == Direction::ToParent;
    let positive = match quantifier {
        Quantifier::Any | Quantifier::AtLeast(1) => Shape::Exists,
        Quantifier::No | Quantifier::AtMost(0) | Quantifier::Exactly(0) => Shape::NotExists,
        Quantifier::AtLeast(0) => Shape::Always,
        Quantifier::Exactly(1) if to_parent => Shape::Exists,
        Quantifier::AtLeast(_) | Quantifier::Exactly(_) if to_parent => Shape::Never,
        Quantifier::AtMost(_) if to_parent => Shape::Always,
        Quantifier::AtLeast(k) => Shape::Count(">=", n(k)),
        Quantifier::AtMost(k) => Shape::Count("<=", n(k)),
        Quantifier::Exactly(k) => Shape::Count("=", n(k)),
    };
    if !negated {
        return positive;
    }
    match positive {
        Shape::Always => Shape::Never,
        Shape::Never => Shape::Always,
        Shape::Exists => Shape::NotExists,
        Shape::NotExists => Shape::Exists,
        Shape::Count(op, k) => Shape::Count(complement(op), k),
    }
}

/// The comparison that holds exactly where `op` does not.
fn complement(op: &'static str) -> &'static str {
    match op {
        ">=" => "<",
        "<" => ">=",
        "<=" => ">",
        ">" => "<=",
        "=" => "<>",
        _ => "=",
    }
}

/// Whether `r` holds only for records that have the parent it reaches
/// (`has account(..)`, `has exactly 1 account(..)`).
pub(super) fn requires_the_parent(r: &Related) -> bool {
    r.link.direction == Direction::ToParent
        && matches!(shape(r.link.direction, r.quantifier, false), Shape::Exists)
}

fn compare_count(op: &str, count: i64, n: i64) -> bool {
    match op {
        ">=" => count >= n,
        "<=" => count <= n,
        ">" => count > n,
        "<" => count < n,
        "=" => count == n,
        _ => count != n,
    }
}

/// `x` as an i64 when it is a whole number in range.
fn exact_int(x: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    (x.fract() == 0.0 && (-TWO_63..TWO_63).contains(&x)).then_some(x as i64)
}

fn describe_relative(value: &Value) -> String {
    match value {
        Value::TodayPlusDays(days) => format!("today {:+}d", days),
        Value::NowPlusSeconds {
            seconds,
            midnight: true,
        } => format!("today {:+}s", seconds),
        Value::NowPlusSeconds { seconds, .. } => format!("now {:+}s", seconds),
        other => format!("{other:?}"),
    }
}

pub(crate) fn entity<'s>(schema: &'s Schema, name: &str) -> Result<&'s Entity> {
    schema.entity(name).ok_or_else(|| {
        internal(format!(
            "the plan uses entity '{name}', which the schema lacks"
        ))
    })
}

/// The column of field `name` on `entity`.
pub(crate) fn column(entity: &Entity, name: &str) -> Result<String> {
    column_name(entity, name).map(str::to_string)
}

/// [`column`], borrowed from the schema.
fn column_name<'e>(entity: &'e Entity, name: &str) -> Result<&'e str> {
    entity
        .field(name)
        .map(|f| f.column.as_str())
        .ok_or_else(|| {
            internal(format!(
                "the schema names field {}.{name}, which {} lacks",
                entity.name, entity.name
            ))
        })
}

pub(super) fn internal(message: String) -> Error {
    Error::Internal { message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;
    use crate::sql::{Postgres, Spark, Sqlite};

    /// The error names the character (not the byte) where the first
    /// literal holding U+0000 holds it; literals without one pass.
    #[test]
    fn nul_position_counts_characters_in_the_first_literal_holding_one() {
        assert_eq!(nul_position(["plain", "also plain"]), None);
        assert_eq!(nul_position(["plain", "é\0x", "\0"]), Some(1));
        assert_eq!(nul_position(["ab\0"]), Some(2));
        let values = [Value::Integer(0), Value::Text("Łó\0".into())];
        assert_eq!(nul_position(text_values(&values)), Some(2));
    }

    #[test]
    fn remembered_quotes_are_the_dialects_own() {
        let schema = crm_schema();
        let now = DateTime::<Utc>::MIN_UTC;
        let names: Vec<String> = ["contact", "order", "Mixed", "a\"b", "a`b", "t0", "contact"]
            .into_iter()
            .map(String::from)
            // Past the most remembered, too.
            .chain((0..QUOTED_NAMES + 5).map(|i| format!("c{i}")))
            .collect();
        for dialect in [&Sqlite as &dyn Dialect, &Postgres, &Spark] {
            let generator = Generator::new(&schema, dialect, now);
            for _ in 0..2 {
                for name in &names {
                    assert_eq!(generator.quote(name), dialect.quote_ident(name));
                }
            }
            let scope = Scope {
                entity: entity(&schema, "contact").unwrap(),
                depth: 3,
                next: 4,
                joined: true,
            };
            let spark_quoted = if dialect.name() == "spark" {
                "`order`"
            } else {
                "\"order\""
            };
            assert_eq!(
                generator.qualified(&scope, "order"),
                format!("p3.{spark_quoted}")
            );
        }
    }
}
