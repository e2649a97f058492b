//! Which records an aggregate reduces, for each record it is asked about:
//! the distinct records of the chain's last hop reachable through records
//! that pass every hop's filter (SPEC §2.5).
//!
//! A chain is split where it starts going down. Its leading hops to parents
//! lead each start record to at most one record, its *group* ([`ancestors`]);
//! the rest of the chain is then reduced once per group, and a start record
//! takes its group's result. What remains after the leading parents is one
//! of three shapes, each with its own way of listing (group, end record)
//! pairs ([`Pairs`]):
//!
//! - nothing: the group is itself the end record;
//! - hops to children only: every end record has exactly one group, found
//!   by following parent arrays up, so one pass over the end entity lists
//!   every pair once, with no search and no duplicate;
//! - hops to children and then to parents (`lead.account` from a contact):
//!   paths can meet. Each record of the lowest entity gives a (group, end)
//!   pair from parent arrays read in order; a counting sort puts them in
//!   group order, and each group marks the end records it listed with its
//!   own number, which needs no reset between groups ([`grouped`]);
//! - anything else (down, up, and down again): each group walks its chain
//!   breadth first, marking records the same way.

use std::borrow::Cow;

use super::super::bitmap::Bitmap;
use super::super::compile::{Node, Run};
use super::super::store::{LinkIndex, NONE};
use crate::plan::Direction;

/// One hop of a compiled chain.
pub(crate) struct Hop<'a> {
    pub(crate) link: &'a LinkIndex,
    pub(crate) direction: Direction,
    /// Runs over the records the hop arrives at.
    pub(crate) filter: Node<'a>,
    /// Number of records of the entity the hop arrives at.
    pub(crate) rows: usize,
}

impl Hop<'_> {
    /// The records passing the hop's filter; `None` when all do.
    pub(crate) fn passing(&self) -> Run<Option<Bitmap>> {
        match self.filter {
            Node::Const(true, _) => Ok(None),
            _ => self.filter.eval_all().map(Some),
        }
    }
}

/// Whether `row` is in `set` (`None` holds every row).
#[inline(always)]
fn holds(set: Option<&Bitmap>, row: usize) -> bool {
    set.is_none_or(|s| s.get(row))
}

/// Calls `f` on every row of `0..rows` in `set` (`None`: every row).
#[inline(always)]
fn each_row(set: Option<&Bitmap>, rows: usize, f: impl FnMut(usize)) {
    match set {
        Some(s) => s.for_each_one(f),
        None => (0..rows).for_each(f),
    }
}

/// For leading hops to parents (at least one), the record each start
/// record reaches, or [`NONE`] when a parent is missing or fails its hop's
/// filter. `passing` holds each hop's filter result.
pub(crate) fn ancestors(hops: &[Hop<'_>], passing: &[Option<Bitmap>]) -> Vec<u32> {
    let step = |hop: &Hop<'_>, keep: Option<&Bitmap>, r: u32| {
        if r == NONE {
            return NONE;
        }
        let p = hop.link.parent_of[r as usize];
        if p != NONE && holds(keep, p as usize) {
            p
        } else {
            NONE
        }
    };
    let mut hops = hops.iter().zip(passing);
    let Some((first, keep)) = hops.next() else {
        return Vec::new();
    };
    let mut up: Vec<u32> = match keep {
        Some(keep) => first
            .link
            .parent_of
            .iter()
            .map(|&p| {
                if p != NONE && keep.get(p as usize) {
                    p
                } else {
                    NONE
                }
            })
            .collect(),
        None => first.link.parent_of.to_vec(),
    };
    for (hop, keep) in hops {
        for r in &mut up {
            *r = step(hop, keep.as_ref(), *r);
        }
    }
    up
}

/// For a chain of hops to children (the last one excluded), the group of
/// every record the next-to-last hop arrives at: its ancestor at the start
/// of the chain, or [`NONE`] when some record on the way fails its filter.
/// `None` when the chain has a single hop (the parent is the group).
pub(crate) fn groups_above(hops: &[Hop<'_>], passing: &[Option<Bitmap>]) -> Option<Vec<u32>> {
    let mut via: Option<Vec<u32>> = None;
    for (hop, keep) in hops.iter().zip(passing) {
        let parent_of = &hop.link.parent_of;
        let keep = keep.as_ref();
        let next = (0..parent_of.len())
            .map(|r| {
                let p = parent_of[r];
                if p == NONE || !holds(keep, r) {
                    NONE
                } else {
                    via.as_ref().map_or(p, |v| v[p as usize])
                }
            })
            .collect();
        via = Some(next);
    }
    via
}

/// The end records of each group for a chain of hops to children and then
/// to parents only (`lead.account` from a contact, the usual way paths
/// meet), group by group: `ends[offsets[g]..offsets[g + 1]]`, possibly
/// repeated (see [`Pairs::Grouped`]).
pub(crate) struct Grouped {
    offsets: Vec<u32>,
    ends: Vec<u32>,
    /// Records of the end entity.
    targets: usize,
}

/// [`Grouped`] for `hops` when they go down and then only up; `None` for
/// other shapes. Each record of the lowest entity gives one (group, end)
/// pair: its group by following parent arrays up as [`Pairs::Up`] does, its
/// end record by following the remaining hops' parent arrays. Both read the
/// lowest entity's arrays in order; a counting sort then puts the pairs in
/// group order. That replaces the walk's reads at random places, one per
/// record, by passes in order over arrays.
pub(crate) fn grouped(
    hops: &[Hop<'_>],
    passing: &[Option<Bitmap>],
    only: Option<&Bitmap>,
    groups: usize,
) -> Option<Grouped> {
    let down = hops
        .iter()
        .take_while(|h| h.direction == Direction::ToChildren)
        .count();
    let up_from = hops[down..]
        .iter()
        .all(|h| h.direction == Direction::ToParent);
    if down == 0 || down == hops.len() || !up_from {
        return None;
    }
    let via = groups_above(&hops[..down - 1], &passing[..down - 1]);
    let lowest = &hops[down - 1];
    let keep_lowest = passing[down - 1].as_ref();
    let last = hops.len() - 1;
    let end_of = |b: usize| {
        let mut e = b as u32;
        for (i, hop) in hops.iter().enumerate().skip(down) {
            let keep = if i == last { only } else { passing[i].as_ref() };
            let p = hop.link.parent_of[e as usize];
            if p == NONE || !holds(keep, p as usize) {
                return NONE;
            }
            e = p;
        }
        e
    };
    let parent_of = &lowest.link.parent_of;
    let mut offsets = vec![0u32; groups + 1];
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (b, &p) in parent_of.iter().enumerate() {
        if p == NONE || !holds(keep_lowest, b) {
            continue;
        }
        let g = via.as_ref().map_or(p, |v| v[p as usize]);
        if g == NONE {
            continue;
        }
        let e = end_of(b);
        if e != NONE {
            offsets[g as usize + 1] += 1;
            pairs.push((g, e));
        }
    }
    for g in 0..groups {
        offsets[g + 1] += offsets[g];
    }
    let mut fill = offsets.clone();
    let mut ends = vec![0u32; pairs.len()];
    for (g, e) in pairs {
        let slot = &mut fill[g as usize];
        ends[*slot as usize] = e;
        *slot += 1;
    }
    Some(Grouped {
        offsets,
        ends,
        targets: hops[last].rows,
    })
}

/// The (group, end record) pairs an aggregate reduces, each listed once.
pub(crate) enum Pairs<'x> {
    /// The chain ended at the group: each group in `only` is its own end
    /// record.
    Itself {
        groups: usize,
        only: Option<&'x Bitmap>,
    },
    /// Hops to children only: end record `e` (if in `only`) belongs to
    /// `parent_of[e]`, or to `via[parent_of[e]]` for longer chains.
    Up {
        parent_of: &'x [u32],
        via: Option<&'x [u32]>,
        only: Option<&'x Bitmap>,
    },
    /// Paths that can meet: each of `groups` walks `hops`, keeping the
    /// records in `passing` (for the last hop: in `only`).
    Walk {
        hops: &'x [Hop<'x>],
        passing: &'x [Option<Bitmap>],
        only: Option<&'x Bitmap>,
        groups: usize,
    },
    /// Paths that can meet, listed group by group by [`grouped`]; a group's
    /// repeated end records are skipped by marking each with the group's
    /// number, which needs no reset between groups.
    Grouped(&'x Grouped),
    /// One group, 0, and its end records (the single-record path).
    List(&'x [u32]),
}

impl Pairs<'_> {
    /// Calls `f(group, end)` for every pair.
    #[inline(always)]
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, usize)) {
        match *self {
            Pairs::Itself { groups, only } => each_row(only, groups, |g| f(g, g)),
            Pairs::Up {
                parent_of,
                via: None,
                only,
            } => each_row(only, parent_of.len(), |e| {
                let g = parent_of[e];
                if g != NONE {
                    f(g as usize, e);
                }
            }),
            Pairs::Up {
                parent_of,
                via: Some(via),
                only,
            } => each_row(only, parent_of.len(), |e| {
                let p = parent_of[e];
                if p != NONE {
                    let g = via[p as usize];
                    if g != NONE {
                        f(g as usize, e);
                    }
                }
            }),
            Pairs::Walk {
                hops,
                passing,
                only,
                groups,
            } => walk_all(hops, passing, only, groups, f),
            Pairs::Grouped(grouped) => {
                let Grouped {
                    offsets,
                    ends,
                    targets,
                } = grouped;
                let mut mark = vec![NONE; *targets];
                for g in 0..offsets.len() - 1 {
                    for &e in &ends[offsets[g] as usize..offsets[g + 1] as usize] {
                        if mark[e as usize] != g as u32 {
                            mark[e as usize] = g as u32;
                            f(g, e as usize);
                        }
                    }
                }
            }
            Pairs::List(ends) => ends.iter().for_each(|&e| f(0, e as usize)),
        }
    }
}

/// Hops after which a record can be reached twice: to a parent, after a
/// hop to children.
fn meets(hops: &[Hop<'_>]) -> Vec<bool> {
    let mut below = false;
    hops.iter()
        .map(|h| match h.direction {
            Direction::ToChildren => {
                below = true;
                false
            }
            Direction::ToParent => below,
        })
        .collect()
}

/// [`Pairs::Walk`]: per group, a breadth-first walk down the chain, one
/// frontier per hop. Where paths can meet, `mark[r] == g` says group `g`
/// already reached `r`; group numbers only grow, so marks never need
/// clearing. The frontiers are reused from group to group.
fn walk_all(
    hops: &[Hop<'_>],
    passing: &[Option<Bitmap>],
    only: Option<&Bitmap>,
    groups: usize,
    mut f: impl FnMut(usize, usize),
) {
    let meets = meets(hops);
    let mut marks: Vec<Vec<u32>> = hops
        .iter()
        .zip(&meets)
        .map(|(h, &m)| if m { vec![NONE; h.rows] } else { Vec::new() })
        .collect();
    let last = hops.len().saturating_sub(1);
    let (mut here, mut next) = (Vec::new(), Vec::new());
    for g in 0..groups {
        here.clear();
        here.push(g as u32);
        for (i, hop) in hops.iter().enumerate() {
            let keep = if i == last { only } else { passing[i].as_ref() };
            next.clear();
            match hop.direction {
                Direction::ToChildren => {
                    for &r in &here {
                        let children = hop.link.children_of(r as usize);
                        next.extend(children.iter().filter(|&&c| holds(keep, c as usize)));
                    }
                }
                Direction::ToParent => {
                    let mark = &mut marks[i];
                    for &r in &here {
                        let p = hop.link.parent_of[r as usize];
                        if p == NONE || !holds(keep, p as usize) {
                            continue;
                        }
                        if meets[i] {
                            if mark[p as usize] == g as u32 {
                                continue;
                            }
                            mark[p as usize] = g as u32;
                        }
                        next.push(p);
                    }
                }
            }
            std::mem::swap(&mut here, &mut next);
            if here.is_empty() {
                break;
            }
        }
        for &e in &here {
            f(g, e as usize);
        }
    }
}

/// The distinct end records reachable from record `start` through `hops`
/// (which begin with a hop to children, or are empty), keeping those
/// `keep_end` accepts: the single-record path, which tests filters record by
/// record instead of evaluating them over whole entities.
pub(crate) fn reach_one(
    hops: &[Hop<'_>],
    start: usize,
    keep_end: impl Fn(usize) -> bool,
) -> Run<Vec<u32>> {
    let meets = meets(hops);
    let mut here = vec![start as u32];
    let mut next = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        next.clear();
        match hop.direction {
            Direction::ToChildren => {
                for &r in &here {
                    for &c in hop.link.children_of(r as usize) {
                        if hop.filter.test(c as usize)? {
                            next.push(c);
                        }
                    }
                }
            }
            Direction::ToParent => {
                for &r in &here {
                    let p = hop.link.parent_of[r as usize];
                    if p != NONE && hop.filter.test(p as usize)? {
                        next.push(p);
                    }
                }
                if meets[i] {
                    next.sort_unstable();
                    next.dedup();
                }
            }
        }
        std::mem::swap(&mut here, &mut next);
        if here.is_empty() {
            break;
        }
    }
    here.retain(|&e| keep_end(e as usize));
    Ok(here)
}

/// `a ∧ b` where either may be absent (all rows), borrowing when one is.
pub(crate) fn both<'x>(a: Option<&'x Bitmap>, b: Option<&'x Bitmap>) -> Option<Cow<'x, Bitmap>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let mut a = a.clone();
            a.and_with(b);
            Some(Cow::Owned(a))
        }
        (Some(x), None) | (None, Some(x)) => Some(Cow::Borrowed(x)),
        (None, None) => None,
    }
}
