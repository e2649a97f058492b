//! The `starts with` tests of one column under one `or`, written as one
//! test where the dialect asks for it ([`Dialect::tests_prefixes_at_once`]):
//!
//! ```sql
//! left(lower(t0.last_name COLLATE "C"), length($3)) IN ($3, $4, $5)
//! ```
//!
//! for `last_name starts with "Oka" or last_name starts with "Ros" or
//! last_name starts with "Nie"`, where PostgreSQL otherwise folds the
//! column once per test. The needles are grouped by their length in
//! characters and in bytes, so that `length(first needle)` is the length of
//! every needle of the group in whatever way the database counts.
//!
//! The merged test is the `or` of the tests it replaces in three-valued
//! logic too: NULL for a NULL column, and otherwise whether the folded
//! column begins with one of the needles. So it may stand wherever the
//! `or` stands; it is written only for an `or` reached without a `not`
//! ([`Generator::expr`]'s `negated`), where the operands are these tests.
//!
//! [`Dialect::tests_prefixes_at_once`]: super::Dialect::tests_prefixes_at_once

use super::generator::{Generator, Scope};
use super::tree::SqlExpr;
use super::SqlParam;
use crate::error::Result;
use crate::plan::{FieldRef, FieldTest, PlanExpr, Test, TextOp};

/// `item` and its needle when it is a `starts with` test that can be
/// merged with others of its field: a non-empty needle (an empty one is
/// `field is not null`).
fn prefix_test(item: &PlanExpr) -> Option<(&FieldTest, &str)> {
    match item {
        PlanExpr::Field(
            test @ FieldTest {
                test:
                    Test::Text {
                        op: TextOp::StartsWith,
                        pattern,
                    },
                ..
            },
        ) if !pattern.is_empty() => Some((test, pattern)),
        _ => None,
    }
}

/// The field that [`prefix_test`] finds `item` tests.
fn prefix_field(item: &PlanExpr) -> Option<&FieldRef> {
    prefix_test(item).map(|(test, _)| &test.field)
}

impl Generator<'_> {
    /// The SQL of the operands of the `or` of `items` (not negated), with
    /// the `starts with` tests of each field that has two or more among
    /// them written as one, where the first of them stood.
    pub(super) fn or_operands_with_prefixes_at_once(
        &mut self,
        items: &[PlanExpr],
        scope: &Scope,
    ) -> Result<Vec<SqlExpr>> {
        // The fields with more than one test; a schema has few fields.
        let mut counts: Vec<(&FieldRef, usize)> = Vec::new();
        for field in items.iter().filter_map(prefix_field) {
            match counts.iter_mut().find(|(seen, _)| *seen == field) {
                Some((_, n)) => *n += 1,
                None => counts.push((field, 1)),
            }
        }
        counts.retain(|&(_, n)| n > 1);
        let mut parts = Vec::with_capacity(items.len());
        let mut written: Vec<&FieldRef> = Vec::new();
        for item in items {
            let merged = prefix_field(item).filter(|field| counts.iter().any(|(f, _)| f == field));
            match merged {
                None => parts.push(self.expr(item, scope, false)?),
                Some(field) if written.contains(&field) => {}
                Some(field) => {
                    written.push(field);
                    let tests = items
                        .iter()
                        .filter_map(prefix_test)
                        .filter(|(test, _)| &test.field == field);
                    parts.push(self.prefixes_at_once(tests.collect(), scope)?);
                }
            }
        }
        Ok(parts)
    }

    /// One test that the column of `tests` (all `starts with` of one
    /// field) begins with one of their needles: a
    /// [`Dialect::starts_with_any`](super::Dialect::starts_with_any) per
    /// length of needle, under an `OR` where there are several.
    fn prefixes_at_once(
        &mut self,
        tests: Vec<(&FieldTest, &str)>,
        scope: &Scope,
    ) -> Result<SqlExpr> {
        // Needles by (characters, bytes), in the order first seen.
        let mut groups: Vec<((usize, usize), Vec<String>)> = Vec::new();
        for &(test, pattern) in &tests {
            let subject = || format!("{}.{}", test.field.entity, test.field.field);
            self.refuse_nul(&subject, &test.test)?;
            let needle = pattern.to_ascii_lowercase();
            let length = (needle.chars().count(), needle.len());
            let operand = self.bind_operand(SqlParam::Text(needle));
            let placeholder = self.operand_text(&operand);
            match groups.iter_mut().find(|(seen, _)| *seen == length) {
                Some((_, needles)) => needles.push(placeholder),
                None => groups.push((length, vec![placeholder])),
            }
        }
        let column = match tests.first() {
            Some(&(test, _)) => self.field_column(test, scope)?,
            None => return Ok(SqlExpr::Const(false)),
        };
        let tests = groups
            .iter()
            .map(|(_, needles)| {
                let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
                let sql = self.dialect.starts_with_any(&column, &needles);
                self.atom(&[&sql])
            })
            .collect();
        Ok(SqlExpr::or(tests))
    }
}
