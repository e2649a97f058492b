//! A small SQL expression tree between the plan and the text: it folds
//! constants and flattens `AND`/`OR`, then renders readable, indented SQL
//! (one condition per line, nested subqueries indented under their parent).

use std::rc::Rc;

use super::dialect::Dialect;
use super::generator::Alias;

/// A SQL condition that the generator has already made two-valued where
/// needed; rendering adds no meaning, only layout.
///
/// Conditions are moved a lot (returned through `Result`s, gathered into
/// and spliced between lists), so the variants with subqueries keep them
/// behind a box: a condition is 32 bytes, where the largest variant held
/// inline made every one of them a few hundred.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SqlExpr {
    Const(bool),
    /// A one-line condition, e.g. `t0.role = ?1`, in the text the
    /// generator writes every condition into (see [`Written`]).
    Atom(Written),
    And(Vec<SqlExpr>),
    Or(Vec<SqlExpr>),
    /// `[NOT] EXISTS (SELECT 1 FROM ...)`.
    Exists {
        negated: bool,
        sub: Box<Subquery>,
    },
    /// `outer IN (SELECT column FROM ... [GROUP BY ...])`: see [`InSet`].
    In(Box<InSet>),
    /// `(SELECT COUNT(*) FROM ...) op rhs`.
    Count(Box<Count>),
    /// Whether `outer` is (or is not) the key of one of the [`Groups`]:
    /// see [`Grouped`].
    Grouped(Box<Grouped>),
    /// A decimal sum of a group tested against constants, exactly only
    /// where summing doubles cannot decide (see `checked_sum.rs`).
    CheckedSum(Box<CheckedSum>),
}

/// Where a condition's text lies in the [`Texts`] the generator writes
/// all conditions of a query into, which the [`Renderer`] copies from. A
/// segment of 10,000 nodes wrote a string per condition, and a column
/// and a placeholder string for most of them: some 12,700 of the SQL
/// stage's 37,600 allocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    chunk: usize,
    start: usize,
    end: usize,
}

impl Written {
    /// The condition's text in `texts`, where it was written.
    pub fn of<'t>(&self, texts: &'t Texts) -> &'t str {
        &texts.chunks[self.chunk][self.start..self.end]
    }
}

/// The text of a query's conditions, one after the other, in strings of
/// about [`Texts::CHUNK`] bytes: one string grown by doubling copied all
/// it held at each step and left up to half of it unused, which took the
/// SQL stage's peak of memory past what glibc keeps between queries
/// (page faults on every query of 10,000 nodes, 8% of its time).
#[derive(Debug, Default)]
pub(crate) struct Texts {
    chunks: Vec<String>,
}

impl Texts {
    /// How many bytes a string of conditions holds, give or take the
    /// last condition: well below glibc's threshold for a mapping of its
    /// own (128 KiB).
    const CHUNK: usize = 32 << 10;
    /// A string with fewer free bytes than this is full; a condition past
    /// them grows it.
    const SLACK: usize = 1 << 10;

    /// Writes a condition with `write` and returns where it lies.
    pub fn write(&mut self, write: impl FnOnce(&mut String)) -> Written {
        let full = self
            .chunks
            .last()
            .is_none_or(|last| last.capacity() - last.len() < Self::SLACK);
        if full {
            self.chunks.push(String::with_capacity(Self::CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        let out = &mut self.chunks[chunk];
        let start = out.len();
        write(out);
        Written {
            chunk,
            start,
            end: out.len(),
        }
    }
}

/// `outer IN (SELECT column FROM ... [GROUP BY column HAVING COUNT(*) op rhs])`:
/// an uncorrelated subquery, which databases evaluate once for the
/// whole query instead of once per outer row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InSet {
    pub outer: Written,
    /// The list's first `SELECT`.
    pub first: ListSelect,
    /// Its further `SELECT`s, each after `UNION ALL`: the lists of other
    /// `IN`s of `outer` under the same `OR`, merged (see
    /// [`Dialect::unions_lists_under_or`]). Apart from `first`, so that
    /// the many lists of one `SELECT` allocate no list of them.
    pub more: Vec<ListSelect>,
}

impl InSet {
    /// `outer IN (first)`.
    pub fn one(outer: Written, first: ListSelect) -> SqlExpr {
        SqlExpr::In(Box::new(InSet {
            outer,
            first,
            more: Vec::new(),
        }))
    }

    /// How many `SELECT`s the list has.
    pub fn selects(&self) -> usize {
        1 + self.more.len()
    }
}

/// One `SELECT column FROM ... [GROUP BY column HAVING COUNT(*) op rhs]`
/// of an [`InSet`]'s list.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListSelect {
    pub column: Written,
    pub sub: Subquery,
    pub having: Option<(&'static str, Written)>,
}

/// `(SELECT COUNT(*) FROM ...) op rhs`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Count {
    pub sub: Subquery,
    pub op: &'static str,
    pub rhs: Written,
}

/// `outer IN (SELECT key ... GROUP BY key HAVING ...)`, or `[NOT] EXISTS`
/// over those groups as a derived table (see [`Membership`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grouped {
    pub outer: Written,
    pub membership: Membership,
    pub groups: Groups,
}

/// `CASE WHEN zero OR (far AND ...) THEN quick ELSE (SELECT exact FROM
/// rows) END test`, over the columns of a derived table of the groups:
///
/// ```sql
/// SELECT alias.grp FROM (
///   SELECT key AS grp, <values> FROM ... GROUP BY key
/// ) AS alias
/// WHERE CASE ... END test
/// ```
///
/// not a `HAVING`: PostgreSQL plans a query level with a subquery
/// expression without parallel workers, and then took the grouping from a
/// walk of the foreign key's index (4.5 s at 1M contacts, where a scan and
/// a sort take 2 s).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CheckedSum {
    pub alias: String,
    /// The derived table's columns besides the key: (expression, name).
    pub values: Vec<(String, &'static str)>,
    /// True where every value is zero.
    pub zero: String,
    /// True together where `quick` is far enough from the constants.
    pub far: Vec<String>,
    /// The sum of doubles.
    pub quick: String,
    /// The exact sum over `rows`, which are correlated with the group.
    pub exact: String,
    pub rows: Subquery,
    /// The comparison after the value, e.g. `> $2`.
    pub test: String,
}

/// A subquery over related tables: one, or a chain of them joined.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Subquery {
    /// Quoted table name.
    pub table: Rc<str>,
    pub alias: Alias,
    /// Further tables, each joined to one before it.
    pub joins: Vec<Join>,
    /// The join condition with the outer row, e.g. `t1.contact_id = t0.id`;
    /// `None` for an uncorrelated subquery.
    pub correlation: Option<Written>,
    pub filter: SqlExpr,
}

impl Subquery {
    /// Whether its rows are filtered or joined: then grouping them reads
    /// columns besides the key (see [`Dialect::group_by_key`]).
    pub fn filters_or_joins(&self) -> bool {
        !matches!(self.filter, SqlExpr::Const(true)) || !self.joins.is_empty()
    }
}

/// `JOIN table AS alias ON on` inside a [`Subquery`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Join {
    /// Quoted table name.
    pub table: Rc<str>,
    pub alias: Alias,
    /// e.g. `t2.id = t1.account_id`.
    pub on: String,
}

/// The keys of the groups of a subquery's rows that pass `having`:
/// `SELECT key FROM ... GROUP BY key HAVING ...`, uncorrelated, so a
/// database computes it once for the whole query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Groups {
    /// The column grouped by: one of `rows`, or [`GROUP_KEY`] of the
    /// `distinct` table.
    pub key: Written,
    pub rows: Subquery,
    /// When set, `rows` are first made distinct in a derived table.
    pub distinct: Option<Distinct>,
    /// Held in place: a [`Grouped`] is boxed already.
    pub having: SqlExpr,
    /// Whether the groups read a column of `rows` besides `key`: a filter,
    /// a join, an aggregated field (see [`Dialect::group_by_key`]).
    pub fetches_rows: bool,
}

/// `(SELECT DISTINCT expr AS name, ... FROM ...) AS alias`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Distinct {
    pub alias: String,
    /// Expressions over the subquery's rows and the names they get.
    pub columns: Vec<(String, &'static str)>,
}

/// How a [`SqlExpr::Grouped`] tests its outer value against the groups.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Membership {
    /// `outer IN (SELECT key ...)`.
    In,
    /// `[NOT] EXISTS (SELECT 1 FROM (SELECT key AS grp ...) AS alias WHERE
    /// alias.grp = outer)`: never NULL, and a planner can make it an
    /// anti-join (or a semi-join where `IN` cannot be one).
    Exists { negated: bool, alias: Alias },
}

/// The most operands one `AND`/`OR` chain is written with. Databases parse
/// `a OR b OR c ...` into a tree as deep as the chain is long, and SQLite
/// refuses trees deeper than 1,000 ("Expression tree is too large"), which
/// an `or` of a few thousand tests reaches; longer junctions are written as
/// parenthesized chains of at most this many, nested as needed, which keeps
/// the depth at this many per level of nesting.
pub(crate) const MAX_CHAIN: usize = 100;

/// The name of the group key column of a derived table.
pub(crate) const GROUP_KEY: &str = "grp";

impl SqlExpr {
    /// Conjunction with constants folded and nested conjunctions flattened.
    pub fn and(items: Vec<SqlExpr>) -> SqlExpr {
        SqlExpr::junction(items, true)
    }

    /// Disjunction with constants folded and nested disjunctions flattened.
    pub fn or(items: Vec<SqlExpr>) -> SqlExpr {
        SqlExpr::junction(items, false)
    }

    /// `items` under `AND` (`is_and`) or `OR`. A list with no constant and
    /// no nested list of its kind (most lists) is kept as it is, rather
    /// than moved item by item into a new one.
    fn junction(mut items: Vec<SqlExpr>, is_and: bool) -> SqlExpr {
        // `false` decides an `AND`, `true` an `OR`; the other is no item.
        if items
            .iter()
            .any(|item| matches!(item, SqlExpr::Const(b) if *b != is_and))
        {
            return SqlExpr::Const(!is_and);
        }
        let spliced = |item: &SqlExpr| match item {
            SqlExpr::Const(_) => true,
            SqlExpr::And(_) => is_and,
            SqlExpr::Or(_) => !is_and,
            _ => false,
        };
        if items.iter().any(spliced) {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    SqlExpr::Const(_) => {}
                    SqlExpr::And(inner) if is_and => out.extend(inner),
                    SqlExpr::Or(inner) if !is_and => out.extend(inner),
                    other => out.push(other),
                }
            }
            items = out;
        }
        match items.len() {
            0 => SqlExpr::Const(is_and),
            1 => items.pop().unwrap_or(SqlExpr::Const(is_and)),
            _ if is_and => SqlExpr::And(items),
            _ => SqlExpr::Or(items),
        }
    }
}

/// Renders expressions; `indent` is the column at which continuation lines
/// of the expression (its `AND`/`OR` keywords, a closing parenthesis) start.
pub(crate) struct Renderer<'d> {
    pub dialect: &'d dyn Dialect,
    /// The text the conditions were written into (see [`Written`]).
    pub text: &'d Texts,
}

impl Renderer<'_> {
    pub fn expr(&self, e: &SqlExpr, indent: usize, out: &mut String) {
        match e {
            SqlExpr::Const(b) => out.push_str(self.dialect.bool_literal(*b)),
            SqlExpr::Atom(written) => out.push_str(written.of(self.text)),
            SqlExpr::And(items) => self.junction(items, "AND", indent, out),
            SqlExpr::Or(items) => self.junction(items, "OR", indent, out),
            SqlExpr::Exists { negated, sub } => {
                out.push_str(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
                self.subquery(&["1"], sub, indent + 2, out);
                newline(indent, out);
                out.push(')');
            }
            SqlExpr::In(set) => {
                out.push_str(set.outer.of(self.text));
                out.push_str(" IN (");
                self.list_select(&set.first, indent + 2, out);
                for select in &set.more {
                    newline(indent + 2, out);
                    out.push_str("UNION ALL");
                    self.list_select(select, indent + 2, out);
                }
                newline(indent, out);
                out.push(')');
            }
            SqlExpr::Count(count) => {
                let Count { sub, op, rhs } = &**count;
                out.push('(');
                self.subquery(&["COUNT(*)"], sub, indent + 2, out);
                newline(indent, out);
                out.push_str(") ");
                out.push_str(op);
                out.push(' ');
                out.push_str(rhs.of(self.text));
            }
            SqlExpr::Grouped(grouped) => self.grouped(grouped, indent, out),
            SqlExpr::CheckedSum(sum) => {
                out.push_str("CASE");
                newline(indent + 2, out);
                out.push_str(&format!("WHEN {}", sum.zero));
                for (i, far) in sum.far.iter().enumerate() {
                    newline(indent + 4, out);
                    out.push_str(if i == 0 { "OR (" } else { "  AND " });
                    out.push_str(far);
                }
                out.push(')');
                newline(indent + 2, out);
                out.push_str(&format!("THEN {}", sum.quick));
                newline(indent + 2, out);
                out.push_str("ELSE (");
                self.subquery(&[&sum.exact], &sum.rows, indent + 4, out);
                newline(indent + 2, out);
                out.push(')');
                newline(indent, out);
                out.push_str("END ");
                out.push_str(&sum.test);
            }
        }
    }

    /// `SELECT column FROM ... [GROUP BY column HAVING COUNT(*) op rhs]`,
    /// one `SELECT` of an [`InSet`]'s list.
    fn list_select(&self, select: &ListSelect, indent: usize, out: &mut String) {
        let ListSelect {
            column,
            sub,
            having,
        } = select;
        let column = column.of(self.text);
        self.subquery(&[column], sub, indent, out);
        if let Some((op, rhs)) = having {
            self.count_having(column, sub, (op, rhs.of(self.text)), indent, out);
        }
    }

    fn grouped(&self, grouped: &Grouped, indent: usize, out: &mut String) {
        let Grouped {
            outer,
            membership,
            groups,
        } = grouped;
        let outer = outer.of(self.text);
        match membership {
            Membership::In => {
                out.push_str(outer);
                out.push_str(" IN (");
                self.groups(groups, false, indent + 2, out);
            }
            Membership::Exists { negated, alias } => {
                out.push_str(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
                let inner = indent + 2;
                newline(inner, out);
                out.push_str("SELECT 1");
                newline(inner, out);
                out.push_str("FROM (");
                self.groups(groups, true, inner + 2, out);
                newline(inner, out);
                out.push_str(") AS ");
                alias.push_to(out);
                newline(inner, out);
                out.push_str("WHERE ");
                alias.push_to(out);
                push_all(out, &[".", GROUP_KEY, " = ", outer]);
            }
        }
        newline(indent, out);
        out.push(')');
    }

    /// `SELECT DISTINCT key AS grp FROM ...`, each clause on its own line
    /// at `indent`.
    pub fn distinct_keys(&self, key: &str, sub: &Subquery, indent: usize, out: &mut String) {
        self.subquery(&["DISTINCT ", key, " AS ", GROUP_KEY], sub, indent, out);
    }

    /// `SELECT key AS grp FROM ... GROUP BY key HAVING COUNT(*) op rhs`:
    /// the keys of the groups whose count of rows passes.
    pub fn counted_keys(
        &self,
        key: &str,
        sub: &Subquery,
        (op, rhs): (&str, &str),
        indent: usize,
        out: &mut String,
    ) {
        self.subquery(&[key, " AS ", GROUP_KEY], sub, indent, out);
        self.count_having(key, sub, (op, rhs), indent, out);
    }

    /// `GROUP BY key HAVING COUNT(*) op rhs` after `sub`'s clauses.
    /// Counting rows reads a column besides the key only where they are
    /// filtered.
    fn count_having(
        &self,
        key: &str,
        sub: &Subquery,
        (op, rhs): (&str, &str),
        indent: usize,
        out: &mut String,
    ) {
        newline(indent, out);
        self.group_by(key, sub, sub.filters_or_joins(), out);
        newline(indent, out);
        out.push_str("HAVING COUNT(*) ");
        out.push_str(op);
        out.push(' ');
        out.push_str(rhs);
    }

    /// `SELECT key FROM ... GROUP BY key HAVING ...`, the key named
    /// [`GROUP_KEY`] when `named`.
    fn groups(&self, g: &Groups, named: bool, indent: usize, out: &mut String) {
        if let SqlExpr::CheckedSum(sum) = &g.having {
            return self.checked_groups(g, sum, indent, out);
        }
        let key = g.key.of(self.text);
        let already_named = key
            .strip_suffix(GROUP_KEY)
            .is_some_and(|table| table.ends_with('.'));
        let what: &[&str] = if named && !already_named {
            &[key, " AS ", GROUP_KEY]
        } else {
            &[key]
        };
        match &g.distinct {
            None => self.subquery(what, &g.rows, indent, out),
            Some(distinct) => {
                newline(indent, out);
                out.push_str("SELECT ");
                push_all(out, what);
                newline(indent, out);
                out.push_str("FROM (");
                let columns: Vec<String> = distinct
                    .columns
                    .iter()
                    .map(|(expr, name)| format!("{expr} AS {name}"))
                    .collect();
                let what = format!("DISTINCT {}", columns.join(", "));
                self.subquery(&[&what], &g.rows, indent + 2, out);
                newline(indent, out);
                out.push_str(&format!(") AS {}", distinct.alias));
            }
        }
        newline(indent, out);
        let fetches_rows = g.fetches_rows && g.distinct.is_none();
        self.group_by(key, &g.rows, fetches_rows, out);
        newline(indent, out);
        out.push_str("HAVING ");
        self.operand(&g.having, indent + 2, out);
    }

    /// The groups of a [`CheckedSum`]: its derived table, filtered. The
    /// key is selected as `alias.grp`, named [`GROUP_KEY`] either way.
    fn checked_groups(&self, g: &Groups, sum: &CheckedSum, indent: usize, out: &mut String) {
        newline(indent, out);
        out.push_str(&format!("SELECT {}.{GROUP_KEY}", sum.alias));
        newline(indent, out);
        out.push_str("FROM (");
        let key = g.key.of(self.text);
        let mut what = format!("{key} AS {GROUP_KEY}");
        for (expr, name) in &sum.values {
            what.push_str(&format!(", {expr} AS {name}"));
        }
        self.grouped_by(&[&what], key, &g.rows, g.fetches_rows, indent + 2, out);
        newline(indent, out);
        out.push_str(&format!(") AS {}", sum.alias));
        newline(indent, out);
        out.push_str("WHERE ");
        self.expr(&g.having, indent + 2, out);
    }

    fn junction(&self, items: &[SqlExpr], keyword: &str, indent: usize, out: &mut String) {
        if items.len() > MAX_CHAIN {
            // Groups of MAX_CHAIN^k items, k as small as keeps the groups
            // within MAX_CHAIN.
            let mut size = MAX_CHAIN;
            while items.len().div_ceil(size) > MAX_CHAIN {
                size *= MAX_CHAIN;
            }
            for (i, group) in items.chunks(size).enumerate() {
                if i > 0 {
                    newline(indent, out);
                    out.push_str(keyword);
                    out.push(' ');
                }
                out.push('(');
                self.junction(group, keyword, indent + 2, out);
                out.push(')');
            }
            return;
        }
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                newline(indent, out);
                out.push_str(keyword);
                out.push(' ');
            }
            self.operand(item, indent, out);
        }
    }

    /// One operand of a junction. A junction inside the other junction
    /// needs parentheses; its own continuation lines go one step further in.
    fn operand(&self, item: &SqlExpr, indent: usize, out: &mut String) {
        if matches!(item, SqlExpr::And(_) | SqlExpr::Or(_)) {
            out.push('(');
            self.expr(item, indent + 2, out);
            out.push(')');
        } else {
            self.expr(item, indent, out);
        }
    }

    /// `SELECT key AS grp, value AS name FROM ... GROUP BY key`: a value per
    /// group, as a derived table to join. `fetches_rows` as in [`Groups`].
    #[allow(clippy::too_many_arguments)]
    pub fn grouped_values(
        &self,
        key: &str,
        value: &str,
        name: &str,
        rows: &Subquery,
        fetches_rows: bool,
        indent: usize,
        out: &mut String,
    ) {
        let what = [key, " AS ", GROUP_KEY, ", ", value, " AS ", name];
        self.grouped_by(&what, key, rows, fetches_rows, indent, out);
    }

    /// `SELECT what FROM ... GROUP BY key`.
    fn grouped_by(
        &self,
        what: &[&str],
        key: &str,
        rows: &Subquery,
        fetches_rows: bool,
        indent: usize,
        out: &mut String,
    ) {
        self.subquery(what, rows, indent, out);
        newline(indent, out);
        self.group_by(key, rows, fetches_rows, out);
    }

    /// `GROUP BY key` as the dialect writes it for `rows`. A correlated
    /// subquery finds its one group through the key's index, whatever it
    /// reads.
    fn group_by(&self, key: &str, rows: &Subquery, fetches_rows: bool, out: &mut String) {
        let fetches_rows = fetches_rows && rows.correlation.is_none();
        out.push_str("GROUP BY ");
        self.dialect.push_group_by_key(key, fetches_rows, out);
    }

    /// `SELECT what FROM table AS alias WHERE correlation AND filter`, each
    /// clause on its own line at `indent`; `what` is given in pieces.
    fn subquery(&self, what: &[&str], sub: &Subquery, indent: usize, out: &mut String) {
        newline(indent, out);
        out.push_str("SELECT ");
        push_all(out, what);
        newline(indent, out);
        push_all(out, &["FROM ", &sub.table, " AS "]);
        sub.alias.push_to(out);
        for join in &sub.joins {
            newline(indent, out);
            push_all(out, &["JOIN ", &join.table, " AS "]);
            join.alias.push_to(out);
            push_all(out, &[" ON ", &join.on]);
        }
        let conditions: &[SqlExpr] = match &sub.filter {
            SqlExpr::Const(true) => &[],
            // (A longer one is one operand, grouped by `junction`.)
            SqlExpr::And(items) if items.len() < MAX_CHAIN => items,
            other => std::slice::from_ref(other),
        };
        // The correlation, an atom, comes first.
        let mut first = true;
        let mut clause = |out: &mut String| {
            if std::mem::take(&mut first) {
                newline(indent, out);
                out.push_str("WHERE ");
            } else {
                newline(indent + 2, out);
                out.push_str("AND ");
            }
        };
        if let Some(correlation) = sub.correlation {
            clause(out);
            out.push_str(correlation.of(self.text));
        }
        for item in conditions {
            clause(out);
            self.operand(item, indent + 2, out);
        }
    }
}

/// `parts`, one after the other.
fn push_all(out: &mut String, parts: &[&str]) {
    parts.iter().for_each(|part| out.push_str(part));
}

/// A line break and `indent` spaces, copied from [`SPACES`] rather than
/// pushed one by one: the SQL has a line per condition.
fn newline(indent: usize, out: &mut String) {
    out.push('\n');
    let mut left = indent;
    while left > 0 {
        let run = left.min(SPACES.len());
        out.push_str(&SPACES[..run]);
        left -= run;
    }
}

const SPACES: &str = "                                                                ";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Sqlite;

    thread_local! {
        /// The tests' conditions, written as the generator writes them
        /// (see [`Written`]), and where each text was written: the same
        /// text is the same atom, so atoms compare as their texts.
        static TEXT: std::cell::RefCell<(Texts, std::collections::HashMap<String, Written>)> =
            Default::default();
    }

    fn atom(s: &str) -> SqlExpr {
        SqlExpr::Atom(written(s))
    }

    /// Where `s` was written (the first time it was asked for).
    fn written(s: &str) -> Written {
        TEXT.with_borrow_mut(|(text, written)| {
            *written
                .entry(s.to_string())
                .or_insert_with(|| text.write(|out| out.push_str(s)))
        })
    }

    /// `e` rendered by [`Renderer::expr`] at `indent`.
    fn render(e: &SqlExpr, indent: usize) -> String {
        TEXT.with_borrow(|(text, _)| {
            let mut out = String::new();
            Renderer {
                dialect: &Sqlite,
                text,
            }
            .expr(e, indent, &mut out);
            out
        })
    }

    #[test]
    fn constants_fold_and_junctions_flatten() {
        assert_eq!(
            SqlExpr::and(vec![SqlExpr::Const(true), atom("a")]),
            atom("a")
        );
        assert_eq!(
            SqlExpr::and(vec![atom("a"), SqlExpr::Const(false)]),
            SqlExpr::Const(false)
        );
        assert_eq!(SqlExpr::or(vec![]), SqlExpr::Const(false));
        assert_eq!(
            SqlExpr::or(vec![atom("a"), SqlExpr::or(vec![atom("b"), atom("c")])]),
            SqlExpr::Or(vec![atom("a"), atom("b"), atom("c")])
        );
    }

    #[test]
    fn a_list_with_nothing_to_fold_is_kept() {
        let items = vec![
            atom("a"),
            atom("b"),
            SqlExpr::or(vec![atom("c"), atom("d")]),
        ];
        let buffer = items.as_ptr();
        match SqlExpr::and(items) {
            SqlExpr::And(kept) => assert_eq!(kept.as_ptr(), buffer),
            other => panic!("not an AND: {other:?}"),
        }
        // A decisive constant anywhere decides, a neutral one goes.
        assert_eq!(
            SqlExpr::or(vec![atom("a"), SqlExpr::Const(false), atom("b")]),
            SqlExpr::Or(vec![atom("a"), atom("b")])
        );
        assert_eq!(
            SqlExpr::or(vec![atom("a"), SqlExpr::Const(true), SqlExpr::Const(false)]),
            SqlExpr::Const(true)
        );
        assert_eq!(SqlExpr::and(vec![]), SqlExpr::Const(true));
    }

    #[test]
    fn a_condition_stays_small() {
        // Conditions move through every `Result` and list of the
        // generator; subqueries stay behind their box.
        assert!(std::mem::size_of::<SqlExpr>() <= 32);
    }

    #[test]
    fn long_junctions_are_written_as_groups_of_at_most_max_chain() {
        let items: Vec<SqlExpr> = (0..MAX_CHAIN * MAX_CHAIN + 1)
            .map(|i| atom(&format!("a{i}")))
            .collect();
        let out = render(&SqlExpr::Or(items), 0);
        // Two groups: MAX_CHAIN groups of MAX_CHAIN, then the last item.
        let last = MAX_CHAIN * MAX_CHAIN;
        assert!(out.starts_with("((a0\n    OR a1"), "{}", &out[..40]);
        assert!(
            out.ends_with(&format!("\nOR (a{last})")),
            "{}",
            &out[out.len() - 40..]
        );
        let atoms: Vec<&str> = out
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .filter(|word| word.starts_with('a'))
            .collect();
        let expected: Vec<String> = (0..=last).map(|i| format!("a{i}")).collect();
        assert_eq!(atoms, expected);
        // No chain is longer than MAX_CHAIN: no line run of one depth.
        assert_eq!(out.matches("OR (").count(), MAX_CHAIN);
    }

    #[test]
    fn conditions_past_a_full_string_start_the_next() {
        let mut texts = Texts::default();
        let long = "x".repeat(3 * Texts::SLACK);
        let written: Vec<(Written, String)> = (0..Texts::CHUNK)
            .map(|i| {
                let text = if i % 97 == 3 {
                    long.clone()
                } else {
                    format!("c{i}")
                };
                (texts.write(|out| out.push_str(&text)), text)
            })
            .collect();
        assert!(texts.chunks.len() > 1);
        for (at, text) in &written {
            assert_eq!(at.of(&texts), text);
        }
    }

    #[test]
    fn line_breaks_indent_by_any_width() {
        for indent in 0..3 * SPACES.len() {
            let mut out = String::from("x");
            newline(indent, &mut out);
            assert_eq!(out, format!("x\n{}", " ".repeat(indent)));
        }
    }

    #[test]
    fn subquery_clauses_put_the_correlation_first_and_group_junctions() {
        let sub = |correlation: Option<&str>, filter: SqlExpr| Subquery {
            table: "interaction".into(),
            alias: Alias::new('t', 2),
            joins: vec![Join {
                table: "\"lead\"".into(),
                alias: Alias::new('t', 3),
                on: "t3.id = t2.lead_id".into(),
            }],
            correlation: correlation.map(written),
            filter,
        };
        let render = |e: SqlExpr| render(&e, 70);
        let pad = |n: usize| " ".repeat(n);
        // Correlated, filtered by an `OR`: parenthesized after the correlation.
        let or = SqlExpr::or(vec![atom("t2.a = ?1"), atom("t2.b = ?2")]);
        let exists = SqlExpr::Exists {
            negated: false,
            sub: Box::new(sub(Some("t2.contact_id = t0.id"), or)),
        };
        let (i, j) = (pad(72), pad(74));
        assert_eq!(
            render(exists),
            format!(
                "EXISTS (\n{i}SELECT 1\n{i}FROM interaction AS t2\n{i}JOIN \"lead\" AS t3 ON t3.id = t2.lead_id\n{i}WHERE t2.contact_id = t0.id\n{j}AND (t2.a = ?1\n{j}  OR t2.b = ?2)\n{})",
                pad(70)
            )
        );
        // Uncorrelated, an `AND` of its own conditions, counted.
        let and = SqlExpr::and(vec![atom("t2.a = ?1"), atom("t2.b = ?2")]);
        let set = InSet::one(
            written("t0.id"),
            ListSelect {
                column: written("t2.contact_id"),
                sub: sub(None, and),
                having: Some((">=", written("?3"))),
            },
        );
        assert_eq!(
            render(set),
            format!(
                "t0.id IN (\n{i}SELECT t2.contact_id\n{i}FROM interaction AS t2\n{i}JOIN \"lead\" AS t3 ON t3.id = t2.lead_id\n{i}WHERE t2.a = ?1\n{j}AND t2.b = ?2\n{i}GROUP BY +t2.contact_id\n{i}HAVING COUNT(*) >= ?3\n{})",
                pad(70)
            )
        );
        // Correlated and unfiltered: the correlation alone; an `AND` of
        // MAX_CHAIN or more is one operand, in parentheses.
        let count = |filter| {
            SqlExpr::Count(Box::new(Count {
                sub: sub(Some("t2.contact_id = t0.id"), filter),
                op: "<",
                rhs: written("?9"),
            }))
        };
        assert!(render(count(SqlExpr::Const(true)))
            .contains(&format!("WHERE t2.contact_id = t0.id\n{}) < ?9", pad(70))));
        let long = SqlExpr::and((0..MAX_CHAIN).map(|k| atom(&format!("a{k}"))).collect());
        assert!(render(count(long)).contains(&format!(
            "WHERE t2.contact_id = t0.id\n{j}AND (a0\n{}AND a1",
            pad(76)
        )));
    }

    #[test]
    fn nested_subqueries_are_indented_under_their_parent() {
        let e = SqlExpr::and(vec![
            atom("t0.a = ?1"),
            SqlExpr::or(vec![atom("t0.b = ?2"), atom("t0.c = ?3")]),
            SqlExpr::Exists {
                negated: true,
                sub: Box::new(Subquery {
                    table: "lead".into(),
                    alias: Alias::new('t', 1),
                    joins: Vec::new(),
                    correlation: Some(written("t1.contact_id = t0.id")),
                    filter: atom("t1.score > ?4"),
                }),
            },
        ]);
        assert_eq!(
            render(&e, 2),
            "t0.a = ?1
  AND (t0.b = ?2
    OR t0.c = ?3)
  AND NOT EXISTS (
    SELECT 1
    FROM lead AS t1
    WHERE t1.contact_id = t0.id
      AND t1.score > ?4
  )"
        );
    }
}
