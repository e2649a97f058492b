//! What a snapshot is valid for: one state of one SQLite file, read through
//! one version of segql with one schema.
//!
//! A state of the file is named by its identity (device and inode), its
//! size, its modification time to the nanosecond and the file change
//! counter of its header (bytes 24..28), which SQLite bumps on every commit
//! in rollback-journal mode. Any difference in any of these means the data
//! may differ: load afresh.
//!
//! A database in WAL mode (header bytes 18 and 19 are 2) gets no snapshot:
//! its commits go to the `-wal` file and leave the counter alone, and they
//! reach the main file at a checkpoint that may change neither its size
//! nor (within the file system's clock tick) its modification time, so no
//! cheap test tells every state from the one before. Neither does a
//! database with a non-empty `-journal` (a write in progress, or an
//! interrupted one to be rolled back).

use std::io::Read;
use std::path::Path;

use super::raw::{fnv, FieldReader, Fields};
use crate::eval::load_sqlite::Needs;
use crate::schema::Schema;

/// The state of a database file and what reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Validation {
    /// The database file's canonical path.
    pub(super) database: String,
    device: u64,
    inode: u64,
    size: u64,
    modified_seconds: i64,
    modified_nanos: i64,
    change_counter: u32,
    /// [`schema_fingerprint`] of the schema the store was loaded with.
    schema: u64,
    /// The segql version, whose loader built the store.
    segql: String,
}

impl Validation {
    /// The current state of the SQLite file at `path`, read with `schema`
    /// for `needs`; `None` where it cannot have a snapshot (see the module
    /// docs) or cannot be examined.
    #[cfg(unix)]
    pub(crate) fn of(path: &Path, schema: &Schema, needs: &Needs) -> Option<Validation> {
        use std::os::unix::fs::MetadataExt;
        let database = std::fs::canonicalize(path).ok()?;
        for suffix in ["-journal", "-wal"] {
            let mut side = database.clone().into_os_string();
            side.push(suffix);
            match std::fs::metadata(&side) {
                Ok(m) if m.len() > 0 => return None,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => return None,
            }
        }
        let mut file = std::fs::File::open(&database).ok()?;
        let meta = file.metadata().ok()?;
        let mut header = [0u8; 28];
        file.read_exact(&mut header).ok()?;
        let wal_mode = header[18] == 2 || header[19] == 2;
        if &header[..16] != b"SQLite format 3\0" || wal_mode {
            return None;
        }
        Some(Validation {
            database: database.to_str()?.to_string(),
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified_seconds: meta.mtime(),
            modified_nanos: meta.mtime_nsec(),
            change_counter: u32::from_be_bytes([header[24], header[25], header[26], header[27]]),
            schema: schema_fingerprint(schema, needs),
            segql: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// The same state, read with `schema` for `needs` instead.
    pub(super) fn for_needs(&self, schema: &Schema, needs: &Needs) -> Validation {
        Validation {
            schema: schema_fingerprint(schema, needs),
            ..self.clone()
        }
    }

    /// No snapshots where the file's identity cannot be read this way.
    #[cfg(not(unix))]
    pub(crate) fn of(_path: &Path, _schema: &Schema, _needs: &Needs) -> Option<Validation> {
        None
    }

    pub(super) fn write_to(&self, f: &mut Fields) {
        f.str(&self.database);
        f.u64(self.device);
        f.u64(self.inode);
        f.u64(self.size);
        f.i64(self.modified_seconds);
        f.i64(self.modified_nanos);
        f.u32(self.change_counter);
        f.u64(self.schema);
        f.str(&self.segql);
    }

    pub(super) fn read_from(r: &mut FieldReader<'_>) -> Option<Validation> {
        Some(Validation {
            database: r.str()?,
            device: r.u64()?,
            inode: r.u64()?,
            size: r.u64()?,
            modified_seconds: r.i64()?,
            modified_nanos: r.i64()?,
            change_counter: r.u32()?,
            schema: r.u64()?,
            segql: r.str()?,
        })
    }

    /// Whether `self` and `other` describe the same state of the same file
    /// read by the same segql (the schema and needs aside).
    pub(super) fn same_state(&self, other: &Validation) -> bool {
        self.clone()
            == Validation {
                schema: self.schema,
                ..other.clone()
            }
    }

    /// Whether `self` and `other` are states of the same database file
    /// (whichever is newer).
    pub(super) fn same_database(&self, other: &Validation) -> bool {
        self.database == other.database
    }
}

/// A hash of what the load of `needs` takes from `schema`: the entities it
/// reads and the relationships it follows, as the schema defines them
/// (tables, columns, types, keys). Another schema file mapping the same
/// names differently gives another fingerprint.
fn schema_fingerprint(schema: &Schema, needs: &Needs) -> u64 {
    let mut text = String::new();
    for e in &schema.entities {
        if needs.fields.contains_key(&e.name.to_ascii_lowercase()) {
            text.push_str(&serde_json::to_string(e).unwrap_or_default());
        }
    }
    for r in &schema.relationships {
        if needs.relationships.contains(&r.name.to_ascii_lowercase()) {
            text.push_str(&serde_json::to_string(r).unwrap_or_default());
        }
    }
    fnv(text.as_bytes())
}
