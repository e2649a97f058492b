//! Snapshots of loaded stores, so that the next one-shot run on an
//! unchanged database reads its columns from one file instead of decoding
//! them from SQLite again.
//!
//! A [`StoreCache`] is a directory of snapshot files, one per database and
//! [`Needs`] (what a plan needs loaded), named by hashes of the two. A load
//! through the cache first looks for a snapshot of the same database whose
//! validation matches the database as it is now ([`identity`]) and whose
//! needs cover the plan's ([`Needs::covers`]), the plan's own file first,
//! then the smallest; failing that it loads from the database and saves a
//! snapshot (written to a temporary file renamed into place, so a reader
//! never sees half a file), removing the database's stale ones. A snapshot
//! that is damaged, of another format version or of another state of the
//! database is never used. Failing to save is not an error of the load: the
//! store is returned with [`StoreSource::NotSaved`].
//!
//! Only SQLite files have snapshots; PostgreSQL and Spark load afresh.

mod codec;
mod identity;
mod raw;

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

use super::array::{AlignedBytes, Backing};
use super::load_sqlite::{load_needs, plain_file, Needs};
use super::store::Store;
use crate::error::Result;
use crate::plan::Plan;
use crate::schema::Schema;
use identity::Validation;

/// A directory of store snapshots (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreCache {
    dir: PathBuf,
}

/// Where a store loaded through a [`StoreCache`] came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreSource {
    /// Loaded from the database, with no snapshot read or written: the
    /// database cannot have one (not a SQLite file, a file in WAL mode with
    /// a non-empty `-wal`, a connection inside a transaction or with
    /// temporary tables), or it changed while it was read.
    Database,
    /// Read from this snapshot file.
    Snapshot(PathBuf),
    /// Loaded from the database and saved as this snapshot file.
    Saved(PathBuf),
    /// Loaded from the database; saving its snapshot failed, for this
    /// reason.
    NotSaved(String),
}

const EXTENSION: &str = "snapshot";

impl StoreCache {
    /// The cache in directory `dir` (created when the first snapshot is
    /// saved).
    pub fn new(dir: impl Into<PathBuf>) -> StoreCache {
        StoreCache { dir: dir.into() }
    }

    /// The user's cache: `$SEGQL_CACHE_DIR` if set, else
    /// `$XDG_CACHE_HOME/segql`, else `~/.cache/segql`; `None` when none of
    /// these can be found.
    pub fn from_env() -> Option<StoreCache> {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = var("SEGQL_CACHE_DIR")
            .or_else(|| {
                var("XDG_CACHE_HOME")
                    .filter(|d| d.is_absolute())
                    .map(|d| d.join("segql"))
            })
            .or_else(|| var("HOME").map(|h| h.join(".cache").join("segql")))?;
        Some(StoreCache::new(dir))
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// [`Store::from_sqlite`] through the cache.
    pub(crate) fn load_sqlite(
        &self,
        conn: &Connection,
        schema: &Schema,
        plan: Option<&Plan>,
    ) -> Result<(Store, StoreSource)> {
        let needs = Needs::of(plan, schema)?;
        let path = conn.path().unwrap_or_default();
        // Snapshots hold the arrays as little-endian memory holds them,
        // text offsets (`usize`) as 64-bit words.
        let cacheable =
            cfg!(target_endian = "little") && cfg!(target_pointer_width = "64") && plain_file(conn);
        let Some(before) = cacheable
            .then(|| Validation::of(Path::new(path), schema, &needs))
            .flatten()
        else {
            return Ok((
                load_needs(conn, schema, &needs, None)?,
                StoreSource::Database,
            ));
        };
        let prefix = format!("{:016x}-", raw::fnv(before.database.as_bytes()));
        if let Some((store, file)) = self.find(&prefix, &before, schema, &needs) {
            return Ok((store, StoreSource::Snapshot(file)));
        }
        let store = load_needs(conn, schema, &needs, None)?;
        // A commit during the load may or may not be in the store: then the
        // store is of no known state, and is not saved.
        if Validation::of(Path::new(path), schema, &needs).as_ref() != Some(&before) {
            return Ok((store, StoreSource::Database));
        }
        let source = match self.save(&prefix, &before, &needs, &store) {
            Ok(file) => StoreSource::Saved(file),
            Err(e) => StoreSource::NotSaved(format!(
                "cannot save a snapshot of the loaded store in {}: {e}",
                self.dir.display()
            )),
        };
        Ok((store, source))
    }

    /// The file of the snapshot for `needs` of the database of `prefix`.
    fn file_name(prefix: &str, needs: &Needs) -> String {
        let needs = raw::fnv(&codec::needs_bytes(needs));
        format!("{prefix}{needs:016x}.{EXTENSION}")
    }

    /// The snapshot files of the database of `prefix`.
    fn snapshots(&self, prefix: &str) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with(prefix) && name.ends_with(EXTENSION)
            })
            .collect()
    }

    /// A valid snapshot covering `needs`, read: the one for exactly
    /// `needs` first, then the others from the smallest.
    fn find(
        &self,
        prefix: &str,
        now: &Validation,
        schema: &Schema,
        needs: &Needs,
    ) -> Option<(Store, PathBuf)> {
        let own = self.dir.join(Self::file_name(prefix, needs));
        let mut candidates = Vec::new();
        for path in self.snapshots(prefix) {
            let Some((reader, header)) = open(&path) else {
                continue;
            };
            let valid = header.validation == now.for_needs(schema, &header.needs);
            if valid && header.needs.covers(needs) {
                candidates.push((path != own, header.data_len(), path, reader, header));
            }
        }
        candidates.sort_by_key(|c| (c.0, c.1));
        candidates
            .into_iter()
            .find_map(|(_, _, path, reader, header)| {
                let file = map(reader.get_ref())?;
                codec::read_store(&file, &header).map(|store| (store, path))
            })
    }

    /// Writes the snapshot of `store` and removes the database's stale
    /// ones; the snapshot's path.
    fn save(
        &self,
        prefix: &str,
        validation: &Validation,
        needs: &Needs,
        store: &Store,
    ) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let name = Self::file_name(prefix, needs);
        let target = self.dir.join(&name);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temporary = self
            .dir
            .join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
        let written = File::create(&temporary).and_then(|file| {
            let mut out = BufWriter::with_capacity(1 << 20, file);
            codec::write(&mut out, validation, needs, store)?;
            out.flush()
        });
        let renamed = written.and_then(|()| std::fs::rename(&temporary, &target));
        if let Err(e) = renamed {
            let _ = std::fs::remove_file(&temporary);
            return Err(e);
        }
        self.remove_stale(prefix, validation);
        Ok(target)
    }

    /// Removes the snapshots of the database of `prefix` that are damaged
    /// or of another state of it than `now` (best effort: a snapshot left
    /// behind is never used anyway).
    fn remove_stale(&self, prefix: &str, now: &Validation) {
        for path in self.snapshots(prefix) {
            let current = open(&path).is_some_and(|(_, header)| {
                // Another database whose path hashes alike is not ours to judge.
                !header.validation.same_database(now) || header.validation.same_state(now)
            });
            if !current {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// The snapshot file at `path`, its header read; `None` if it cannot be
/// read or is not a snapshot of this version.
fn open(path: &Path) -> Option<(BufReader<File>, codec::Header)> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let header = codec::read_header(&mut reader, len)?;
    Some((reader, header))
}

/// The whole of `file`, for a store's columns to point into: mapped, or
/// read into memory where it cannot be mapped.
fn map(file: &File) -> Option<Arc<dyn Backing>> {
    // SAFETY: the mapping is read-only and private, and snapshot files are
    // never written once renamed into place (`StoreCache::save` writes a
    // temporary file; removing a file leaves its mappings whole). A file
    // changed in place by something else than segql is outside that
    // contract, as for any memory-mapped cache.
    // The whole file is read (summed) at once: populating the mapping in
    // one call saves a page fault per page.
    match unsafe { memmap2::MmapOptions::new().populate().map(file) } {
        Ok(map) => Some(Arc::new(map)),
        Err(_) => read_whole(file),
    }
}

/// The whole of `file` read into memory, for a file that cannot be mapped.
fn read_whole(file: &File) -> Option<Arc<dyn Backing>> {
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
    let mut bytes = AlignedBytes::zeroed(len);
    let mut reader = file;
    reader.seek(SeekFrom::Start(0)).ok()?;
    reader.read_exact(bytes.bytes_mut()).ok()?;
    Some(Arc::new(bytes))
}

#[cfg(test)]
mod tests;
