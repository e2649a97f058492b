//! The in-memory store: per entity, records sorted by key with one typed
//! column per loaded field, and per relationship prebuilt index arrays both
//! ways (child → parent row, parent → children in CSR form).
//!
//! A store is built once — from SQLite ([`Store::load_sqlite`]) or from Rust
//! values ([`super::StoreBuilder`]) — and then answers any number of segments.

use uuid::Uuid;

use super::column::Column;
use crate::error::{Error, Result};

/// Row index meaning "no parent" in [`LinkIndex::parent_of`].
pub(crate) const NONE: u32 = u32::MAX;

/// Columnar data of several entities and the links between them.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub(crate) tables: Vec<Table>,
    pub(crate) links: Vec<LinkIndex>,
}

/// The records of one entity, sorted ascending by key.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// Canonical entity name.
    pub(crate) entity: String,
    /// Name of the key field; tests on it run over `keys`.
    pub(crate) key_field: String,
    /// Keys in ascending order; row `i` is the record with key `keys[i]`.
    pub(crate) keys: Vec<u128>,
    /// Loaded fields by canonical name.
    pub(crate) columns: Vec<(String, Column)>,
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
    pub(crate) parent_of: Vec<u32>,
    /// Per parent row `p`, its children are `children[offsets[p]..offsets[p + 1]]`.
    pub(crate) offsets: Vec<u32>,
    pub(crate) children: Vec<u32>,
}

impl LinkIndex {
    /// Builds both directions from the child's foreign keys (`None` = null).
    pub(crate) fn build(
        relationship: &str,
        child: usize,
        parent: usize,
        foreign_keys: impl Iterator<Item = Option<u128>>,
        parent_keys: &[u128],
    ) -> LinkIndex {
        let parent_of: Vec<u32> = foreign_keys
            .map(|fk| {
                fk.and_then(|k| parent_keys.binary_search(&k).ok())
                    .map_or(NONE, |p| p as u32)
            })
            .collect();
        let mut offsets = vec![0u32; parent_keys.len() + 1];
        for &p in &parent_of {
            if p != NONE {
                offsets[p as usize + 1] += 1;
            }
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut fill = offsets.clone();
        let mut children = vec![0u32; offsets.last().copied().unwrap_or(0) as usize];
        for (c, &p) in parent_of.iter().enumerate() {
            if p != NONE {
                let slot = &mut fill[p as usize];
                children[*slot as usize] = c as u32;
                *slot += 1;
            }
        }
        LinkIndex {
            relationship: relationship.to_string(),
            child,
            parent,
            parent_of,
            offsets,
            children,
        }
    }

    /// The child rows of parent row `p`, ascending.
    pub(crate) fn children_of(&self, p: usize) -> &[u32] {
        &self.children[self.offsets[p] as usize..self.offsets[p + 1] as usize]
    }
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
        self.table_index(entity).map(|i| self.tables[i].keys.len())
    }

    /// Whether the store holds no entity at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The ids of all records of `entity`, ascending (empty if not loaded).
    pub fn ids(&self, entity: &str) -> Vec<Uuid> {
        self.table_index(entity)
            .map(|i| {
                self.tables[i]
                    .keys
                    .iter()
                    .map(|&k| Uuid::from_u128(k))
                    .collect()
            })
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

    /// Total number of stored values (rows × loaded columns, keys included).
    pub fn value_count(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.keys.len() * (t.columns.len() + 1))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_index_both_ways() {
        let parents = [10u128, 20, 30];
        let fks = [Some(20), None, Some(10), Some(20), Some(99)];
        let l = LinkIndex::build("r", 0, 1, fks.into_iter(), &parents);
        assert_eq!(l.parent_of, vec![1, NONE, 0, 1, NONE]);
        assert_eq!(l.children_of(0), &[2]);
        assert_eq!(l.children_of(1), &[0, 3]);
        assert_eq!(l.children_of(2), &[] as &[u32]);
    }
}
