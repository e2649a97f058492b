//! `segql export`: every table of a schema copied out of a database as typed
//! files that a lakehouse engine reads as tables (`docs/export.md`).
//!
//! The layout is one directory per table holding one file,
//! `OUT/<table>/part-00000.parquet`: the shape Spark, and most engines that
//! read Parquet, take as a table (`CREATE TABLE contact USING parquet
//! LOCATION 'OUT/contact'`). The column types are those the Spark dialect
//! compiles for (`parquet.rs` has the table), so segql's Spark SQL runs on
//! the copy and selects what `segql run` selects on the database.
//!
//! An export is all or nothing: each table is written to a hidden
//! temporary file in its directory (Spark skips names starting with `.`),
//! and only once every table is written are the files renamed into place.
//! A table directory that holds any other visible file is refused, since
//! Spark would read that file as part of the table.

mod parquet;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use crate::db::Backend;
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, Schema};

/// The one file of a table's directory.
pub const PART_FILE: &str = "part-00000.parquet";

/// Rows per Parquet row group unless told otherwise: large enough to
/// compress well, small enough to buffer (a row group is held in memory
/// until written) and to give a cluster several pieces of a large table to
/// read in parallel.
pub const ROWS_PER_GROUP: usize = 100_000;

/// The file format of an export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Apache Parquet, typed columns (see `src/export/parquet.rs`).
    #[default]
    Parquet,
}

/// How to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    pub format: Format,
    /// Rows per row group ([`ROWS_PER_GROUP`] by default).
    pub rows_per_group: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: Format::Parquet,
            rows_per_group: ROWS_PER_GROUP,
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportReport {
    /// The version of this report's JSON form.
    pub format: u32,
    pub file_format: Format,
    /// The output directory.
    pub out: PathBuf,
    /// One per table, in the schema's order.
    pub tables: Vec<TableReport>,
}

/// One table of an export.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableReport {
    pub entity: String,
    pub table: String,
    pub rows: u64,
    /// The file written, `OUT/<table>/part-00000.parquet`.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Told how an export advances (a progress bar, say). Every method does
/// nothing by default; `()` is the observer that watches nothing.
pub trait Progress {
    /// Before the first row: how many rows there are in all.
    fn start(&mut self, _total_rows: u64) {}
    /// A table begins.
    fn table(&mut self, _table: &str) {}
    /// `rows` more rows are written.
    fn advance(&mut self, _rows: u64) {}
    /// Every table is written.
    fn finish(&mut self) {}
}

impl Progress for () {}

/// How many rows pass between two calls of [`Progress::advance`].
const PROGRESS_STEP: u64 = 4096;

/// Exports every table of `schema` from `db` into the directory `out`
/// (created if missing), as [`ExportOptions::format`] files in the layout
/// of this module's documentation.
///
/// Errors: a table name that cannot be a directory name, two entities on
/// one table, a table directory holding other visible files
/// ([`Error::Unavailable`], saying what to do); a value the database holds
/// that its type cannot store ([`Error::Database`], naming the record);
/// files that cannot be written. Nothing is replaced then.
pub fn export(
    db: &mut dyn Backend,
    schema: &Schema,
    out: &Path,
    options: &ExportOptions,
    progress: &mut dyn Progress,
) -> Result<ExportReport> {
    check_table_names(schema)?;
    let mut counts = Vec::with_capacity(schema.entities.len());
    for entity in &schema.entities {
        counts.push(count_rows(db, schema, entity)?);
    }
    let dirs = schema
        .entities
        .iter()
        .map(|entity| prepare_dir(out, entity))
        .collect::<Result<Vec<_>>>()?;
    progress.start(counts.iter().sum());
    let mut written = Vec::with_capacity(dirs.len());
    for (entity, dir) in schema.entities.iter().zip(&dirs) {
        progress.table(&entity.table);
        let (file, rows) = write_table(db, entity, dir, options, progress)?;
        written.push((entity, file, rows));
    }
    let mut tables = Vec::with_capacity(written.len());
    for ((entity, file, rows), dir) in written.into_iter().zip(&dirs) {
        let path = dir.join(PART_FILE);
        file.persist(&path)
            .map_err(|e| io_error("cannot write", &path, e.error))?;
        let bytes = fs::metadata(&path)
            .map_err(|e| io_error("cannot read", &path, e))?
            .len();
        tables.push(TableReport {
            entity: entity.name.clone(),
            table: entity.table.clone(),
            rows,
            path,
            bytes,
        });
    }
    progress.finish();
    Ok(ExportReport {
        format: 1,
        file_format: options.format,
        out: out.to_path_buf(),
        tables,
    })
}

/// Writes `entity`'s rows to a hidden temporary file in `dir`; the file
/// (removed when dropped unless persisted) and the number of rows.
fn write_table(
    db: &mut dyn Backend,
    entity: &Entity,
    dir: &Path,
    options: &ExportOptions,
    progress: &mut dyn Progress,
) -> Result<(NamedTempFile, u64)> {
    let temp = tempfile::Builder::new()
        .prefix(".segql-export-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_error("cannot create a file in", dir, e))?;
    // A temporary file is private to its owner; a table is read by the
    // cluster, which may run as another user.
    let mut permissions = fs::metadata(temp.path())
        .map_err(|e| io_error("cannot read", temp.path(), e))?
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    fs::set_permissions(temp.path(), permissions)
        .map_err(|e| io_error("cannot write", temp.path(), e))?;
    let handle = temp
        .reopen()
        .map_err(|e| io_error("cannot open", temp.path(), e))?;
    let fields: Vec<&Field> = entity.fields.iter().collect();
    let Format::Parquet = options.format;
    let mut writer = parquet::TableWriter::new(
        entity,
        fields.clone(),
        handle,
        dir.join(PART_FILE).display().to_string(),
        options.rows_per_group,
    )?;
    let mut rows = 0u64;
    db.scan(entity, &fields, &mut |row| {
        writer.push(row)?;
        rows += 1;
        if rows.is_multiple_of(PROGRESS_STEP) {
            progress.advance(PROGRESS_STEP);
        }
        Ok(())
    })?;
    writer.finish()?;
    progress.advance(rows % PROGRESS_STEP);
    Ok((temp, rows))
}

/// The number of records of `entity`, counted by the database (which also
/// checks that its table is there).
fn count_rows(db: &mut dyn Backend, schema: &Schema, entity: &Entity) -> Result<u64> {
    let options = crate::Options::new(schema);
    let plan = crate::plan(&entity.name, &options)?;
    db.count(schema, &plan, chrono::Utc::now())
}

/// Refuses table names that are not one plain directory name, and two
/// entities whose tables would share a directory.
fn check_table_names(schema: &Schema) -> Result<()> {
    for (i, entity) in schema.entities.iter().enumerate() {
        let name = entity.table.as_str();
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.starts_with('.')
            && !name.starts_with('_')
            && !name.contains(['/', '\\', '\0', ':']);
        if !plain {
            return Err(Error::Unavailable {
                message: format!(
                    "cannot export entity {}: its table name '{name}' cannot be a directory \
                     name that Spark reads (no '/', '\\', ':', no leading '.' or '_'); \
                     rename the table in the schema file",
                    entity.name
                ),
            });
        }
        let twin = schema.entities[..i]
            .iter()
            .find(|e| e.table.eq_ignore_ascii_case(name));
        if let Some(twin) = twin {
            return Err(Error::Unavailable {
                message: format!(
                    "cannot export entities {} and {}: their tables '{}' and '{name}' \
                     would share one directory; give them distinct table names in the schema file",
                    twin.name, entity.name, twin.table
                ),
            });
        }
    }
    Ok(())
}

/// Creates `out/<table>` if missing; refuses it when it holds any visible
/// entry but [`PART_FILE`] (Spark would read it as part of the table).
fn prepare_dir(out: &Path, entity: &Entity) -> Result<PathBuf> {
    let dir = out.join(&entity.table);
    match fs::create_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            return Err(Error::Unavailable {
                message: format!(
                    "cannot export table {}: {} exists and is not a directory; \
                     remove it or export to another --out directory",
                    entity.table,
                    dir.display()
                ),
            })
        }
        Err(e) => return Err(io_error("cannot create the directory", &dir, e)),
    }
    let entries = fs::read_dir(&dir).map_err(|e| io_error("cannot read", &dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("cannot read", &dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == PART_FILE || name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        return Err(Error::Unavailable {
            message: format!(
                "cannot export table {} into {}: it holds {name}, which Spark would read as \
                 part of the table; remove it or export to another --out directory",
                entity.table,
                dir.display()
            ),
        });
    }
    Ok(dir)
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Unavailable {
        message: format!("{what} {}: {e}", path.display()),
    }
}
