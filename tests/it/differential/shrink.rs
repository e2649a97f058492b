//! Minimizing a failing case: greedy, structural, one step at a time.
//!
//! proptest's generic shrinking knows little about the shape of a query (a
//! union of alternatives cannot drop to a sub-expression), so a failing case
//! is reduced here instead: replace a node by one of its children or by a
//! constant, drop operands and list values, drop `has` filters; remove rows
//! from the data; empty the library's segments. Each step is kept only if
//! the case still fails.

use super::gen_data::DataSet;
use super::gen_query::{GExpr, GHop, GLibrary, GPred, GQuant, GQuery};

/// Simpler variants of `e`, roughly simplest first.
pub fn expr_candidates(e: &GExpr) -> Vec<GExpr> {
    let mut out = Vec::new();
    if !matches!(e, GExpr::Const(_)) {
        out.push(GExpr::Const(true));
        out.push(GExpr::Const(false));
    }
    match e {
        GExpr::Const(_) | GExpr::InSegment(_) => {}
        GExpr::Not(inner) => {
            out.push((**inner).clone());
            for c in expr_candidates(inner) {
                out.push(GExpr::Not(Box::new(c)));
            }
        }
        GExpr::And(items) | GExpr::Or(items) => {
            let rebuild = |items: Vec<GExpr>| match e {
                GExpr::And(_) => GExpr::And(items),
                _ => GExpr::Or(items),
            };
            out.extend(items.iter().cloned());
            if items.len() > 2 {
                for i in 0..items.len() {
                    let mut fewer = items.clone();
                    fewer.remove(i);
                    out.push(rebuild(fewer));
                }
            }
            for (i, item) in items.iter().enumerate() {
                for c in expr_candidates(item) {
                    let mut changed = items.clone();
                    changed[i] = c;
                    out.push(rebuild(changed));
                }
            }
        }
        GExpr::Has {
            quant,
            reach,
            via,
            filter,
        } => {
            let with =
                |quant: GQuant, via: Option<String>, filter: Option<Box<GExpr>>| GExpr::Has {
                    quant,
                    reach: reach.clone(),
                    via,
                    filter,
                };
            if filter.is_some() {
                out.push(with(*quant, via.clone(), None));
            }
            if via.is_some() {
                out.push(with(*quant, None, filter.clone()));
            }
            if !matches!(quant, GQuant::Any) {
                out.push(with(GQuant::Any, via.clone(), filter.clone()));
            }
            if let Some(f) = filter {
                for c in expr_candidates(f) {
                    out.push(with(*quant, via.clone(), Some(Box::new(c))));
                }
            }
        }
        GExpr::Aggregate {
            func,
            chain,
            field,
            test,
        } => {
            let with = |chain: Vec<GHop>, test: GPred| GExpr::Aggregate {
                func,
                chain,
                field: field.clone(),
                test,
            };
            for (i, hop) in chain.iter().enumerate() {
                if hop.via.is_some() {
                    let mut simpler = chain.clone();
                    simpler[i].via = None;
                    out.push(with(simpler, test.clone()));
                }
                if let Some(filter) = &hop.filter {
                    let mut simpler = chain.clone();
                    simpler[i].filter = None;
                    out.push(with(simpler.clone(), test.clone()));
                    for c in expr_candidates(filter) {
                        simpler[i].filter = Some(Box::new(c));
                        out.push(with(simpler.clone(), test.clone()));
                    }
                }
            }
            match test {
                GPred::Between(true, lo, hi) => out.push(with(
                    chain.clone(),
                    GPred::Between(false, lo.clone(), hi.clone()),
                )),
                GPred::IsNull(true) => out.push(with(chain.clone(), GPred::IsNull(false))),
                _ => {}
            }
        }
        GExpr::Pred { path, pred } => {
            let with = |pred: GPred| GExpr::Pred {
                path: path.clone(),
                pred,
            };
            match pred {
                GPred::In(negated, values) if values.len() > 1 => {
                    for i in 0..values.len() {
                        let mut fewer = values.clone();
                        fewer.remove(i);
                        out.push(with(GPred::In(*negated, fewer)));
                    }
                }
                GPred::In(true, values) => out.push(with(GPred::In(false, values.clone()))),
                GPred::Between(true, lo, hi) => {
                    out.push(with(GPred::Between(false, lo.clone(), hi.clone())))
                }
                GPred::Text(true, op, p) => out.push(with(GPred::Text(false, op, p.clone()))),
                GPred::IsNull(true) => out.push(with(GPred::IsNull(false))),
                _ => {}
            }
        }
    }
    out
}

/// Simpler variants of a query.
pub fn query_candidates(q: &GQuery) -> Vec<GQuery> {
    let mut out = Vec::new();
    if q.guard {
        out.push(GQuery {
            guard: false,
            ..q.clone()
        });
    }
    if !matches!(q.case, super::gen_query::Case::Lower) {
        out.push(GQuery {
            case: super::gen_query::Case::Lower,
            ..q.clone()
        });
    }
    if let Some(f) = &q.filter {
        out.push(GQuery {
            filter: None,
            ..q.clone()
        });
        for c in expr_candidates(f) {
            out.push(GQuery {
                filter: Some(c),
                ..q.clone()
            });
        }
    }
    out
}

/// The data set with rows removed: whole tables, halves, then single rows.
pub fn data_candidates(d: &DataSet) -> Vec<DataSet> {
    let mut out = Vec::new();
    for (t, table) in d.tables.iter().enumerate() {
        let n = table.rows.len();
        if n == 0 {
            continue;
        }
        let mut ranges = vec![(0, n)];
        if n > 2 {
            ranges.push((0, n / 2));
            ranges.push((n / 2, n));
        }
        ranges.extend((0..n).map(|i| (i, i + 1)));
        for (from, to) in ranges {
            let mut smaller = d.clone();
            smaller.tables[t].rows.drain(from..to);
            out.push(smaller);
        }
    }
    out
}

/// The library with one segment's filter removed or simplified.
pub fn library_candidates(l: &GLibrary) -> Vec<GLibrary> {
    let mut out = Vec::new();
    for (i, (_, _, filter)) in l.segments.iter().enumerate() {
        if let Some(f) = filter {
            let mut none = l.clone();
            none.segments[i].2 = None;
            out.push(none);
            for c in expr_candidates(f) {
                let mut simpler = l.clone();
                simpler.segments[i].2 = Some(c);
                out.push(simpler);
            }
        }
    }
    out
}

/// Takes the first candidate that still fails, again and again, until none
/// does or the budget is spent. Records the latest failure in `report`.
pub fn greedy<T>(
    start: T,
    candidates: impl Fn(&T) -> Vec<T>,
    mut fails: impl FnMut(&T) -> Option<String>,
    budget: &mut usize,
    report: &mut String,
) -> T {
    let mut current = start;
    'outer: loop {
        for candidate in candidates(&current) {
            if *budget == 0 {
                break 'outer;
            }
            *budget -= 1;
            if let Some(r) = fails(&candidate) {
                *report = r;
                current = candidate;
                continue 'outer;
            }
        }
        break;
    }
    current
}
