//! The in-memory store: per entity, one typed column per loaded field, and
//! per relationship prebuilt index arrays both ways (child → parent row,
//! parent → children in CSR form).
//!
//! Records are sorted by key whenever the key is held: always for stores
//! built from Rust values or loaded without a plan, and for the entities a
//! plan needs keys of (its root, the parent side of every relationship it
//! follows, and any entity whose key it tests). An entity a plan reaches
//! only as the child side of relationships, without testing its key, is
//! loaded without keys, its rows in the order they were read: nothing then
//! asks for one of its records by key or lists its ids, so sorting them
//! would be wasted work.
//!
//! A store is built once — from a database ([`Store::load`]) or from Rust
//! values ([`super::StoreBuilder`]) — and then answers any number of segments.

use std::sync::OnceLock;

use uuid::Uuid;

use super::array::Array;
use super::bitmap::Bitmap;
use super::column::Column;
use super::keys::KeyIndex;
use super::threads;
use crate::error::{Error, Result};

/// Row index meaning "no parent" in [`LinkIndex::parent_of`].
pub(crate) const NONE: u32 = u32::MAX;

/// Columnar data of several entities and the links between them.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub(crate) tables: Vec<Table>,
    pub(crate) links: Vec<LinkIndex>,
}

/// The records of one entity.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// Canonical entity name.
    pub(crate) entity: String,
    /// Name of the key field; tests on it run over `keys`.
    pub(crate) key_field: String,
    /// Number of records.
    pub(crate) rows: usize,
    /// Keys in ascending order; row `i` is the record with key `keys[i]`.
    /// `None` when the keys were not loaded; the rows are then in the order
    /// they were read (see the module docs).
    pub(crate) keys: Option<KeyIndex>,
    /// Loaded fields by canonical name.
    pub(crate) columns: Vec<(String, Column)>,
    /// Foreign keys resolved while loading: per relationship name, the
    /// parent row of every row ([`NONE`] for none). Taken (emptied) when the
    /// store's links are built.
    pub(crate) resolved: Vec<(String, Vec<u32>)>,
}

/// Both directions of one many-to-one relationship.
#[derive(Clone, Debug)]
pub(crate) struct LinkIndex {
    pub(crate) relationship: String,
    /// Index of the child (many side) table in [`Store::tables`].
    pub(crate) child: usize,
    /// Index of the parent (one side) table.
    pub(crate) parent: usize,
    /// Per child row, the parent's row or [`NONE`] (null or dangling key).
    pub(crate) parent_of: Array<u32>,
    /// Number of parent rows.
    parents: usize,
    /// The parent → children direction, built on first use: a whole-column
    /// `has` with an existence test needs only `parent_of`, so a one-shot
    /// run often never asks for it.
    csr: OnceLock<Csr>,
}

/// Per parent row `p`, its children are `children[offsets[p]..offsets[p + 1]]`,
/// ascending.
#[derive(Clone, Debug)]
struct Csr {
    offsets: Vec<u32>,
    children: Vec<u32>,
}

impl LinkIndex {
    /// Builds the index from the child's foreign keys `fks` (a row's value
    /// counts only where `valid` says it is not null).
    pub(crate) fn build(
        relationship: &str,
        child: usize,
        parent: usize,
        fks: &[u128],
        valid: Option<&Bitmap>,
        parent_keys: &KeyIndex,
    ) -> LinkIndex {
        let mut parent_of = find_all(parent_keys, fks);
        if let Some(valid) = valid {
            for (row, p) in parent_of.iter_mut().enumerate() {
                if !valid.get(row) {
                    *p = NONE;
                }
            }
        }
        LinkIndex::with_parents(
            relationship,
            child,
            parent,
            parent_of.into(),
            parent_keys.keys().len(),
        )
    }

    /// The index from the parent row of every child row (`parents` rows in
    /// the parent table).
    pub(crate) fn with_parents(
        relationship: &str,
        child: usize,
        parent: usize,
        parent_of: Array<u32>,
        parents: usize,
    ) -> LinkIndex {
        LinkIndex {
            relationship: relationship.to_string(),
            child,
            parent,
            parent_of,
            parents,
            csr: OnceLock::new(),
        }
    }

    /// Number of rows in the parent table.
    pub(crate) fn parents(&self) -> usize {
        self.parents
    }

    fn csr(&self) -> &Csr {
        self.csr.get_or_init(|| {
            let mut offsets = vec![0u32; self.parents + 1];
            for &p in &self.parent_of {
                if p != NONE {
                    offsets[p as usize + 1] += 1;
                }
            }
            for i in 1..offsets.len() {
                offsets[i] += offsets[i - 1];
            }
            let mut fill = offsets.clone();
            let mut children = vec![0u32; offsets.last().copied().unwrap_or(0) as usize];
            for (c, &p) in self.parent_of.iter().enumerate() {
                if p != NONE {
                    let slot = &mut fill[p as usize];
                    children[*slot as usize] = c as u32;
                    *slot += 1;
                }
            }
            Csr { offsets, children }
        })
    }

    /// Per parent row `p`, its number of children is `offsets[p + 1] - offsets[p]`.
    pub(crate) fn offsets(&self) -> &[u32] {
        &self.csr().offsets
    }

    /// The child rows of parent row `p`, ascending.
    pub(crate) fn children_of(&self, p: usize) -> &[u32] {
        let csr = self.csr();
        &csr.children[csr.offsets[p] as usize..csr.offsets[p + 1] as usize]
    }
}

/// The row of each of `fks` among `parent_keys` ([`NONE`] if missing), the
/// look-ups shared among the cores when there are many.
fn find_all(parent_keys: &KeyIndex, fks: &[u128]) -> Vec<u32> {
    let threads = threads::for_items(fks.len(), 1 << 16);
    if threads < 2 {
        return parent_keys.find_each(fks, NONE);
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = fks
            .chunks(fks.len().div_ceil(threads))
            .map(|part| scope.spawn(move || parent_keys.find_each(part, NONE)))
            .collect();
        let mut out = Vec::with_capacity(fks.len());
        for part in parts {
            match part.join() {
                Ok(rows) => out.extend(rows),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

impl Table {
    pub(crate) fn column(&self, field: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(field))
            .map(|(_, c)| c)
    }
}

impl Store {
    pub(crate) fn table_index(&self, entity: &str) -> Option<usize> {
        self.tables
            .iter()
            .position(|t| t.entity.eq_ignore_ascii_case(entity))
    }

    pub(crate) fn table(&self, entity: &str) -> Result<(usize, &Table)> {
        let i = self.table_index(entity).ok_or_else(|| Error::Database {
            message: format!("the in-memory store holds no records of entity '{entity}'"),
        })?;
        Ok((i, &self.tables[i]))
    }

    pub(crate) fn link(&self, relationship: &str) -> Result<&LinkIndex> {
        self.links
            .iter()
            .find(|l| l.relationship.eq_ignore_ascii_case(relationship))
            .ok_or_else(|| Error::Database {
                message: format!(
                    "the in-memory store holds no index for relationship '{relationship}'"
                ),
            })
    }

    /// Number of records of `entity`, if the store holds that entity.
    pub fn len(&self, entity: &str) -> Option<usize> {
        self.table_index(entity).map(|i| self.tables[i].rows)
    }

    /// Whether the store holds no entity at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The ids of all records of `entity`, ascending (empty if the entity
    /// or its keys were not loaded).
    pub fn ids(&self, entity: &str) -> Vec<Uuid> {
        self.table_index(entity)
            .and_then(|i| self.tables[i].keys.as_ref())
            .map(|keys| keys.keys().iter().map(|&k| Uuid::from_u128(k)).collect())
            .unwrap_or_default()
    }

    /// Names of the loaded fields of `entity` with their storage form
    /// (`i16`, `text-dict`, ...), in load order; for diagnostics.
    pub fn columns(&self, entity: &str) -> Vec<(String, &'static str)> {
        self.table_index(entity)
            .map(|i| {
                self.tables[i]
                    .columns
                    .iter()
                    .map(|(n, c)| (n.clone(), c.storage()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Total number of stored values (rows × loaded columns, keys included
    /// where loaded).
    pub fn value_count(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.rows * (t.columns.len() + t.keys.is_some() as usize))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_look_ups_agree_with_one_pass() {
        let spread = |i: u128| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        let keys: Vec<u128> = (0..100_000).map(spread).collect();
        let (index, _) = KeyIndex::sort(&keys);
        let fks: Vec<u128> = (0..(1 << 17) + 5).map(|i| spread(i * 3 / 2)).collect();
        assert_eq!(find_all(&index, &fks), index.find_each(&fks, NONE));
    }

    #[test]
    fn link_index_both_ways() {
        let (parents, _) = KeyIndex::sort(&[30u128, 10, 20]);
        let fks = [20, 30, 10, 20, 99];
        let valid = Bitmap::from_fn(5, |i| i != 1);
        let l = LinkIndex::build("r", 0, 1, &fks, Some(&valid), &parents);
        assert_eq!(*l.parent_of, [1, NONE, 0, 1, NONE]);
        assert_eq!(l.children_of(0), &[2]);
        assert_eq!(l.children_of(1), &[0, 3]);
        assert_eq!(l.children_of(2), &[] as &[u32]);
    }
}
