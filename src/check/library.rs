//! Segment libraries: `in NAME` resolution, definition order, cycles.
//!
//! Definitions may come in any order, so segments are checked in dependency
//! order (each after the segments it uses) and `in NAME` inlines the
//! already-checked plan. Ordering and cycle detection use an explicit stack,
//! so a long chain of segments cannot exhaust the call stack either.

use std::collections::HashMap;

use crate::error::{suggest, Error, Result};
use crate::plan::{measure, Measure, PlanExpr};
use crate::schema::Schema;
use crate::span::Span;
use crate::syntax::ast::{Expr, ExprKind, Ident, Library, SegmentDef};

use super::expr::Checker;
use super::resolve;
use super::warnings::Warning;

/// A checked segment, ready to be inlined.
pub(crate) struct CheckedSegment {
    /// The name as the definition spells it.
    pub name: String,
    /// Canonical name of the segment's root entity.
    pub entity: String,
    /// With names kept, the `in NAME` nodes of the segments it uses are in
    /// it, and it is wrapped in its own at each use.
    pub filter: PlanExpr,
    pub depth: usize,
    pub nodes: usize,
}

/// Where a segment stands.
enum State {
    Unchecked,
    Checked(Box<CheckedSegment>),
    /// Its errors (how many) are in [`Segments::errors`]; an `in NAME` of
    /// it is an [`Error::BrokenSegment`] naming it.
    Failed(usize),
}

/// The segments of a library, checked on demand.
pub(crate) struct Segments<'l> {
    defs: Vec<&'l SegmentDef>,
    /// Lower-cased name to index in `defs`.
    index: HashMap<String, usize>,
    checked: Vec<State>,
    /// Second definitions of a name, by the index of the first: reported
    /// when that name is checked, so a duplicate fails only its users.
    duplicates: HashMap<usize, Vec<Error>>,
    /// Errors of the definitions checked so far, in the order found.
    pub errors: Vec<Error>,
    /// Warnings of the definitions checked so far.
    pub warnings: Vec<Warning>,
    /// `in NAME` gives a [`PlanExpr::Segment`] node around the segment's
    /// filter rather than the filter ([`super::check_keeping_segments`]).
    pub keep_names: bool,
}

impl<'l> Segments<'l> {
    /// No library: every `in NAME` is unknown.
    pub fn empty() -> Self {
        Segments {
            defs: Vec::new(),
            index: HashMap::new(),
            checked: Vec::new(),
            duplicates: HashMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            keep_names: false,
        }
    }

    /// Index a library's definitions; a name defined twice (ignoring case)
    /// is an error at its second definition, which is then left out, and
    /// the name fails to check (which definition was meant is unknown).
    pub fn new(library: Option<&'l Library>) -> Self {
        let mut segments = Segments::empty();
        let Some(library) = library else {
            return segments;
        };
        for def in &library.segments {
            let key = def.name.name.as_str().to_ascii_lowercase();
            if let Some(&first) = segments.index.get(&key) {
                segments
                    .duplicates
                    .entry(first)
                    .or_default()
                    .push(Error::DuplicateSegment {
                        name: def.name.name.to_string(),
                        span: def.name.span,
                    });
                continue;
            }
            segments.index.insert(key, segments.defs.len());
            segments.defs.push(def);
            segments.checked.push(State::Unchecked);
        }
        segments
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }

    /// The checked segment `name` refers to; [`Error::BrokenSegment`] when
    /// its definition failed to check.
    pub fn checked(&self, name: &Ident) -> Result<&CheckedSegment> {
        let Some(i) = self.lookup(&name.name) else {
            return Err(Error::UnknownSegment {
                name: name.name.to_string(),
                suggestion: suggest(&name.name, self.defs.iter().map(|d| d.name.name.as_str())),
                span: name.span,
            });
        };
        match &self.checked[i] {
            State::Checked(segment) => Ok(segment),
            State::Failed(errors) => Err(Error::BrokenSegment {
                name: self.defs[i].name.name.to_string(),
                errors: *errors,
                span: name.span,
            }),
            State::Unchecked => Err(Error::Internal {
                message: format!("segment '{}' was used before it was checked", name.name),
            }),
        }
    }

    /// Indices of the segments an expression refers to with `in NAME`.
    fn edges(&self, expr: Option<&Expr>) -> Vec<(usize, Span)> {
        references(expr)
            .into_iter()
            .filter_map(|ident| self.lookup(&ident.name).map(|i| (i, ident.span)))
            .collect()
    }

    /// Check, in dependency order, every segment `filter` uses directly or
    /// indirectly.
    pub fn check_used_by(&mut self, schema: &Schema, filter: Option<&Expr>) -> Result<()> {
        let roots: Vec<usize> = self.edges(filter).into_iter().map(|(i, _)| i).collect();
        self.check_from(schema, &roots)
    }

    /// Check every segment of the library.
    pub fn check_all(&mut self, schema: &Schema) -> Result<()> {
        let roots: Vec<usize> = (0..self.defs.len()).collect();
        self.check_from(schema, &roots)
    }

    /// Errors of single definitions are collected in [`Segments::errors`];
    /// `Err` is an error that ends the check (a cycle, a limit).
    fn check_from(&mut self, schema: &Schema, roots: &[usize]) -> Result<()> {
        for i in self.dependency_order(roots)? {
            if matches!(self.checked[i], State::Unchecked) {
                let (mut state, mut errors, warnings) = self.check_one(schema, i)?;
                self.warnings.extend(warnings);
                if let Some(duplicates) = self.duplicates.remove(&i) {
                    errors.splice(0..0, duplicates);
                    state = State::Failed(errors.len());
                }
                self.checked[i] = state;
                self.errors.extend(errors);
            }
        }
        Ok(())
    }

    fn check_one(&self, schema: &Schema, i: usize) -> Result<(State, Vec<Error>, Vec<Warning>)> {
        let def = self.defs[i];
        let entity = match resolve::entity(schema, &def.query.entity) {
            Ok(entity) => entity,
            Err(error) => return Ok((State::Failed(1), vec![error], Vec::new())),
        };
        let mut warnings = Vec::new();
        let filter = match &def.query.filter {
            Some(filter) => {
                let mut checker = Checker::new(schema, self);
                let filter = checker.expr_all(filter, entity, 1)?;
                warnings = checker.warnings;
                if !checker.errors.is_empty() {
                    let failed = State::Failed(checker.errors.len());
                    return Ok((failed, checker.errors, warnings));
                }
                filter
            }
            None => PlanExpr::Const(true),
        };
        let Measure { nodes, depth } = measure(&filter);
        let segment = CheckedSegment {
            name: def.name.name.to_string(),
            entity: entity.name.clone(),
            filter,
            depth,
            nodes,
        };
        Ok((State::Checked(Box::new(segment)), Vec::new(), warnings))
    }

    /// Segments reachable from `roots`, each after the ones it uses; a cycle
    /// is an error naming it (`a -> b -> a`) at the reference closing it.
    fn dependency_order(&self, roots: &[usize]) -> Result<Vec<usize>> {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.defs.len()];
        let mut order = Vec::new();
        for &root in roots {
            if state[root] != NEW {
                continue;
            }
            state[root] = OPEN;
            // (segment, its references, next reference to follow)
            let mut stack = vec![(root, self.edges(self.defs[root].query.filter.as_ref()), 0)];
            while let Some((node, edges, next)) = stack.last_mut() {
                let node = *node;
                let edge = edges.get(*next).copied();
                *next += 1;
                let Some((target, span)) = edge else {
                    state[node] = DONE;
                    order.push(node);
                    stack.pop();
                    continue;
                };
                match state[target] {
                    NEW => {
                        state[target] = OPEN;
                        let edges = self.edges(self.defs[target].query.filter.as_ref());
                        stack.push((target, edges, 0));
                    }
                    OPEN => {
                        let start = stack.iter().position(|(n, _, _)| *n == target).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[start..]
                            .iter()
                            .map(|(n, _, _)| self.defs[*n].name.name.to_string())
                            .collect();
                        cycle.push(self.defs[target].name.name.to_string());
                        return Err(Error::SegmentCycle { cycle, span });
                    }
                    _ => {}
                }
            }
        }
        Ok(order)
    }
}

/// Every `in NAME` in an expression, in source order, found without recursion.
fn references(expr: Option<&Expr>) -> Vec<&Ident> {
    let mut found = Vec::new();
    let mut stack: Vec<&Expr> = expr.into_iter().collect();
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::InSegment(name) => found.push(name),
            ExprKind::Not(inner) => stack.push(inner),
            ExprKind::And(items) | ExprKind::Or(items) => stack.extend(items.iter().rev()),
            ExprKind::Has(has) => stack.extend(has.filter.as_deref()),
            ExprKind::Aggregate(test) => stack.extend(
                test.aggregate
                    .chain
                    .iter()
                    .rev()
                    .filter_map(|hop| hop.filter.as_deref()),
            ),
            ExprKind::Bool(_) | ExprKind::Predicate(_) => {}
        }
    }
    found
}
