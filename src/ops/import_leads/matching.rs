//! Lead matching of `import-leads` (SPEC §7): which lead each row of the
//! file creates or updates.
//!
//! A row's *key* is its email (trimmed, ASCII letters lower-cased) and, with
//! `email+topic`, its topic (exact); a row without one never matches. Rows
//! are taken in file order: a row whose key an open lead has (status Open or
//! missing) updates the best such lead — the earliest `created_on` (leads
//! without one last), then the smallest id — and otherwise creates a lead,
//! which later rows with its key then update while it is open. A row whose
//! status closes the lead it updates or creates takes that lead out of the
//! running for later rows.
//!
//! Only the keys travel to the database, which ranks the open leads that
//! have them (see `mod.rs`); the walk over the rows is done here, over small
//! integers, so a million-row file costs a few bytes per row.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

/// How rows find the lead they update (`--match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MatchMode {
    /// Email and topic (the default).
    #[serde(rename = "email+topic")]
    EmailTopic,
    /// Email alone.
    #[serde(rename = "email")]
    Email,
    /// Never: every row creates a lead.
    #[serde(rename = "none")]
    None,
}

impl MatchMode {
    /// The name `--match` takes.
    pub fn name(self) -> &'static str {
        match self {
            MatchMode::EmailTopic => "email+topic",
            MatchMode::Email => "email",
            MatchMode::None => "none",
        }
    }
}

/// A row's email as matching compares it: trimmed of ASCII whitespace and
/// with ASCII letters (only those) lower-cased, as `link-orphans` does.
pub(super) fn normalize_email(email: &str) -> String {
    email
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_ascii_lowercase()
}

/// The distinct keys of a file, each numbered in order of first use.
#[derive(Debug, Default)]
pub(super) struct Keys {
    /// Normalized email and (with `email+topic`) topic, by key number.
    pub list: Vec<(String, Option<String>)>,
    index: HashMap<(String, Option<String>), u32>,
}

impl Keys {
    /// The number of `key`, given one when it is new.
    pub fn intern(&mut self, key: (String, Option<String>)) -> u32 {
        if let Some(&k) = self.index.get(&key) {
            return k;
        }
        let k = self.list.len() as u32;
        self.list.push(key.clone());
        self.index.insert(key, k);
        k
    }
}

/// What matching needs to know of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RowKey {
    /// Its key's number; `None` when the row has no key.
    pub key: Option<u32>,
    /// Whether its status cell closes the lead (a status other than Open).
    pub closes: bool,
}

/// The leads of an import: what each row writes to.
#[derive(Debug, Default)]
pub(super) struct Targets {
    /// Every lead written, existing ones first (in order of first use),
    /// then new ones.
    pub ids: Vec<Uuid>,
    /// How many of `ids` are existing leads.
    pub existing: usize,
    /// Per row, its lead (an index into `ids`).
    pub row_target: Vec<u32>,
    /// Per lead of `ids`, how many rows write to it.
    pub rows: Vec<u32>,
}

impl Targets {
    /// Whether lead `t` is created by the import.
    pub fn is_new(&self, t: u32) -> bool {
        t as usize >= self.existing
    }
}

/// Walk the rows in file order. `candidates[k]` are the open leads with
/// key `k`, best first.
pub(super) fn assign(rows: &[RowKey], candidates: &[Vec<Uuid>]) -> Targets {
    // Existing leads are numbered first; new ones are numbered after the
    // walk (their count is known only then), so they are collected apart.
    let mut existing: Vec<Uuid> = Vec::new();
    let mut existing_index: HashMap<Uuid, u32> = HashMap::new();
    // Per key: how many of its candidates are closed (always the best ones
    // first, since only the lead a row updates can be closed by it) and its
    // open new lead.
    let mut next_candidate = vec![0usize; candidates.len()];
    let mut open_new: Vec<Option<u32>> = vec![None; candidates.len()];
    enum Pick {
        Existing(u32),
        New(u32),
    }
    let mut picks = Vec::with_capacity(rows.len());
    let mut new_count: u32 = 0;
    let fresh = |count: &mut u32| {
        let n = *count;
        *count += 1;
        n
    };
    for row in rows {
        let pick = match row.key.map(|k| k as usize) {
            Some(k) if next_candidate[k] < candidates[k].len() => {
                let id = candidates[k][next_candidate[k]];
                if row.closes {
                    next_candidate[k] += 1;
                }
                let index = *existing_index.entry(id).or_insert_with(|| {
                    existing.push(id);
                    (existing.len() - 1) as u32
                });
                Pick::Existing(index)
            }
            Some(k) => match open_new[k] {
                Some(n) => {
                    if row.closes {
                        open_new[k] = None;
                    }
                    Pick::New(n)
                }
                None => {
                    let n = fresh(&mut new_count);
                    if !row.closes {
                        open_new[k] = Some(n);
                    }
                    Pick::New(n)
                }
            },
            None => Pick::New(fresh(&mut new_count)),
        };
        picks.push(pick);
    }
    let base = existing.len() as u32;
    let mut ids = existing;
    ids.extend((0..new_count).map(|_| Uuid::new_v4()));
    let mut counts = vec![0u32; ids.len()];
    let row_target: Vec<u32> = picks
        .into_iter()
        .map(|p| {
            let t = match p {
                Pick::Existing(i) => i,
                Pick::New(n) => base + n,
            };
            counts[t as usize] += 1;
            t
        })
        .collect();
    Targets {
        ids,
        existing: base as usize,
        row_target,
        rows: counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: Option<u32>, closes: bool) -> RowKey {
        RowKey { key, closes }
    }

    #[test]
    fn rows_update_the_best_open_lead_or_the_one_an_earlier_row_made() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        // Key 0 has two open leads (a best); key 1 has none.
        let candidates = vec![vec![a, b], vec![]];
        let rows = [
            row(Some(0), false),
            row(Some(1), false),
            row(Some(1), false),
            row(None, false),
            row(Some(0), true),
            row(Some(0), false),
        ];
        let t = assign(&rows, &candidates);
        assert_eq!(t.existing, 2);
        assert_eq!(t.ids[..2], [a, b]);
        // a, new lead 2 twice, new lead 3, a (closing it), then b.
        assert_eq!(t.row_target, [0, 2, 2, 3, 0, 1]);
        assert_eq!(t.rows, [2, 1, 2, 1]);
        assert!(t.is_new(2) && !t.is_new(1));
    }

    #[test]
    fn a_closed_new_lead_is_not_matched_again() {
        let t = assign(&[row(Some(0), true), row(Some(0), false)], &[vec![]]);
        assert_eq!(t.row_target, [0, 1]);
    }

    #[test]
    fn emails_are_trimmed_and_ascii_folded_only() {
        assert_eq!(normalize_email(" \tAnn@X.io\r\n"), "ann@x.io");
        assert_eq!(normalize_email("ÉVE@x.io"), "Éve@x.io");
    }
}
