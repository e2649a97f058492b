//! Known disagreements, excluded from generation until they are fixed.
//!
//! Each entry names the bug, the engine that is wrong and the narrowest test
//! that recognizes an affected query; every one also has a fixture under
//! `tests/regressions/`. Remove an entry as soon as its bug is fixed: the
//! fixture then guards against its return and the generator covers the
//! whole language again.

use super::gen_query::{GExpr, GLibrary, GQuery};

/// A known bug: its description and a test for the queries it affects.
pub struct KnownBug {
    pub description: &'static str,
    pub affects: fn(&GExpr) -> bool,
}

/// The bugs currently excluded.
pub const KNOWN_BUGS: &[KnownBug] = &[];

/// A known bug recognized by its symptom: a substring of an engine's error.
/// Used where the affected queries have no simple shape; a failure whose
/// report contains the symptom is counted as skipped, not checked.
pub struct KnownError {
    pub description: &'static str,
    pub symptoms: &'static [&'static str],
}

/// The bugs currently recognized by their symptom.
pub const KNOWN_ERRORS: &[KnownError] = &[];

/// The known error a failure report shows, if any.
pub fn known_error(report: &str) -> Option<&'static KnownError> {
    KNOWN_ERRORS
        .iter()
        .find(|k| k.symptoms.iter().any(|s| report.contains(s)))
}

/// Whether any sub-expression of `e` satisfies `f`.
pub fn any_node(e: &GExpr, f: &dyn Fn(&GExpr) -> bool) -> bool {
    if f(e) {
        return true;
    }
    match e {
        GExpr::Not(inner) => any_node(inner, f),
        GExpr::And(items) | GExpr::Or(items) => items.iter().any(|i| any_node(i, f)),
        GExpr::Has {
            filter: Some(inner),
            ..
        } => any_node(inner, f),
        GExpr::Aggregate { chain, .. } => chain
            .iter()
            .filter_map(|hop| hop.filter.as_deref())
            .any(|inner| any_node(inner, f)),
        _ => false,
    }
}

/// The first known bug that `query` (with the segments of `library` it may
/// use) would run into, if any.
pub fn affected_by(query: &GQuery, library: &GLibrary) -> Option<&'static KnownBug> {
    let filter = query.filter.as_ref()?;
    let uses_segments = any_node(filter, &|e| matches!(e, GExpr::InSegment(_)));
    KNOWN_BUGS.iter().find(|bug| {
        any_node(filter, &bug.affects)
            || (uses_segments
                && library
                    .segments
                    .iter()
                    .filter_map(|(_, _, f)| f.as_ref())
                    .any(|f| any_node(f, &bug.affects)))
    })
}
