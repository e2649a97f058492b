//! A small SQL expression tree between the plan and the text: it folds
//! constants and flattens `AND`/`OR`, then renders readable, indented SQL
//! (one condition per line, nested subqueries indented under their parent).

use super::dialect::Dialect;

/// A SQL condition that the generator has already made two-valued where
/// needed; rendering adds no meaning, only layout.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SqlExpr {
    Const(bool),
    /// A one-line condition, e.g. `t0.role = ?1`.
    Atom(String),
    And(Vec<SqlExpr>),
    Or(Vec<SqlExpr>),
    /// `[NOT] EXISTS (SELECT 1 FROM ...)`.
    Exists {
        negated: bool,
        sub: Subquery,
    },
    /// `outer IN (SELECT column FROM ... [GROUP BY column HAVING COUNT(*) op rhs])`:
    /// an uncorrelated subquery, which databases evaluate once for the
    /// whole query instead of once per outer row.
    In {
        outer: String,
        column: String,
        sub: Subquery,
        having: Option<(&'static str, String)>,
    },
    /// `(SELECT COUNT(*) FROM ...) op rhs`.
    Count {
        sub: Subquery,
        op: &'static str,
        rhs: String,
    },
}

/// A subquery over one related table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Subquery {
    /// Quoted table name.
    pub table: String,
    pub alias: String,
    /// The join condition with the outer row, e.g. `t1.contact_id = t0.id`;
    /// `None` for an uncorrelated subquery.
    pub correlation: Option<String>,
    pub filter: Box<SqlExpr>,
}

impl SqlExpr {
    /// Conjunction with constants folded and nested conjunctions flattened.
    pub fn and(items: Vec<SqlExpr>) -> SqlExpr {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                SqlExpr::Const(true) => {}
                SqlExpr::Const(false) => return SqlExpr::Const(false),
                SqlExpr::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => SqlExpr::Const(true),
            1 => out.pop().unwrap_or(SqlExpr::Const(true)),
            _ => SqlExpr::And(out),
        }
    }

    /// Disjunction with constants folded and nested disjunctions flattened.
    pub fn or(items: Vec<SqlExpr>) -> SqlExpr {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                SqlExpr::Const(false) => {}
                SqlExpr::Const(true) => return SqlExpr::Const(true),
                SqlExpr::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => SqlExpr::Const(false),
            1 => out.pop().unwrap_or(SqlExpr::Const(false)),
            _ => SqlExpr::Or(out),
        }
    }
}

/// Renders expressions; `indent` is the column at which continuation lines
/// of the expression (its `AND`/`OR` keywords, a closing parenthesis) start.
pub(crate) struct Renderer<'d> {
    pub dialect: &'d dyn Dialect,
}

impl Renderer<'_> {
    pub fn expr(&self, e: &SqlExpr, indent: usize, out: &mut String) {
        match e {
            SqlExpr::Const(b) => out.push_str(self.dialect.bool_literal(*b)),
            SqlExpr::Atom(text) => out.push_str(text),
            SqlExpr::And(items) => self.junction(items, "AND", indent, out),
            SqlExpr::Or(items) => self.junction(items, "OR", indent, out),
            SqlExpr::Exists { negated, sub } => {
                out.push_str(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
                self.subquery("1", sub, indent + 2, out);
                newline(indent, out);
                out.push(')');
            }
            SqlExpr::In {
                outer,
                column,
                sub,
                having,
            } => {
                out.push_str(outer);
                out.push_str(" IN (");
                self.subquery(column, sub, indent + 2, out);
                if let Some((op, rhs)) = having {
                    newline(indent + 2, out);
                    out.push_str(&format!("GROUP BY {column}"));
                    newline(indent + 2, out);
                    out.push_str(&format!("HAVING COUNT(*) {op} {rhs}"));
                }
                newline(indent, out);
                out.push(')');
            }
            SqlExpr::Count { sub, op, rhs } => {
                out.push('(');
                self.subquery("COUNT(*)", sub, indent + 2, out);
                newline(indent, out);
                out.push_str(") ");
                out.push_str(op);
                out.push(' ');
                out.push_str(rhs);
            }
        }
    }

    fn junction(&self, items: &[SqlExpr], keyword: &str, indent: usize, out: &mut String) {
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

    /// `SELECT what FROM table AS alias WHERE correlation AND filter`, each
    /// clause on its own line at `indent`.
    fn subquery(&self, what: &str, sub: &Subquery, indent: usize, out: &mut String) {
        newline(indent, out);
        out.push_str("SELECT ");
        out.push_str(what);
        newline(indent, out);
        out.push_str(&format!("FROM {} AS {}", sub.table, sub.alias));
        let mut conditions: Vec<&SqlExpr> = match &*sub.filter {
            SqlExpr::Const(true) => Vec::new(),
            SqlExpr::And(items) => items.iter().collect(),
            other => vec![other],
        };
        let correlation = sub.correlation.clone().map(SqlExpr::Atom);
        if let Some(c) = &correlation {
            conditions.insert(0, c);
        }
        for (i, item) in conditions.into_iter().enumerate() {
            if i == 0 {
                newline(indent, out);
                out.push_str("WHERE ");
            } else {
                newline(indent + 2, out);
                out.push_str("AND ");
            }
            self.operand(item, indent + 2, out);
        }
    }
}

fn newline(indent: usize, out: &mut String) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Sqlite;

    fn atom(s: &str) -> SqlExpr {
        SqlExpr::Atom(s.to_string())
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
    fn nested_subqueries_are_indented_under_their_parent() {
        let e = SqlExpr::and(vec![
            atom("t0.a = ?1"),
            SqlExpr::or(vec![atom("t0.b = ?2"), atom("t0.c = ?3")]),
            SqlExpr::Exists {
                negated: true,
                sub: Subquery {
                    table: "lead".into(),
                    alias: "t1".into(),
                    correlation: Some("t1.contact_id = t0.id".into()),
                    filter: Box::new(atom("t1.score > ?4")),
                },
            },
        ]);
        let mut out = String::new();
        Renderer { dialect: &Sqlite }.expr(&e, 2, &mut out);
        assert_eq!(
            out,
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
