//! `import-leads` (SPEC §7): add (or update) leads from a CSV file, then
//! give each imported lead a contact by the rules of `link-orphans`.
//!
//! The file is read twice, so a million rows never sit in memory at once:
//!
//! 1. Before any transaction, every row is parsed and checked (`header.rs`,
//!    `cells.rs`); a bad row stops the import with an error naming its line,
//!    column and value, and nothing is opened, locked or written. Only each
//!    row's matching key is kept (`matching.rs`).
//! 2. In one transaction: the distinct keys go to a temporary table, the
//!    database ranks the open leads that have them (one statement), and the
//!    rows are matched to leads in file order in memory.
//! 3. The rows are read again and loaded, one per lead (rows that write the
//!    same lead merged in file order: a later non-empty cell wins), into the
//!    temporary table `segql_import_lead` with batched multi-row inserts.
//! 4. One `INSERT ... SELECT` creates the new leads and one `UPDATE ...
//!    FROM` sets the non-empty cells of the matched ones.
//! 5. `link-orphans`, limited to these leads, links or creates contacts.
//!
//! A dry run does all of it and rolls back.

mod cells;
mod header;
mod matching;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::checks::verify_columns;
use super::link_orphans::{self, Scope};
use super::LinkOptions;
use crate::db::{in_transaction, Backend, Param, Transaction};
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, FieldType, Schema};
use crate::sql::sqlite::DATETIME_FORMAT;
use crate::sql::Dialect;

use header::Header;
pub use matching::MatchMode;
use matching::{Keys, RowKey, Targets};

/// Options of an import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Compute the same report, but roll everything back.
    pub dry_run: bool,
    /// The reference time: `created_on` of new leads the file gives none,
    /// and of new contacts.
    pub now: DateTime<Utc>,
    /// How rows find the lead they update.
    pub matching: MatchMode,
    /// Draw a progress bar on standard error when it is a terminal and the
    /// import lasts more than a second.
    pub progress: bool,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The version of this report's JSON form.
    pub format: u32,
    /// True when nothing was written.
    pub dry_run: bool,
    /// The matching used.
    pub matching: MatchMode,
    /// Data rows of the file (the header not counted).
    pub rows_read: u64,
    /// Leads created by rows that matched none.
    pub leads_created: u64,
    /// Existing leads matched by rows and updated from them.
    pub leads_updated: u64,
    /// Imported leads without a contact linked to an existing contact.
    pub contacts_linked: u64,
    /// Marketing-only contacts created for imported leads.
    pub contacts_created: u64,
    /// Imported leads linked to a contact created by this import.
    pub leads_linked_to_created: u64,
    /// Imported leads left without a contact: they have no email.
    pub skipped_without_email: u64,
}

const OPERATION: &str = "import-leads";
/// The distinct keys of the file.
const KEYS: &str = "segql_import_key";
/// One row per lead written: its id, whether it is new, its cells.
const STAGED: &str = "segql_import_lead";
/// Bind parameters per statement, below SQLite's (32766) and PostgreSQL's
/// (65535) limits.
const MAX_PARAMS: usize = 30_000;
/// Rows per multi-row insert, at most.
const MAX_BATCH_ROWS: usize = 1_000;

/// Import the leads of `csv` (the bytes of a CSV file, UTF-8 with or without
/// a byte-order mark, whose header names lead fields) into `db`, in one
/// transaction (SPEC §7); then give every imported lead without a contact
/// one by the rules of [`super::link_orphans`].
///
/// Errors: [`Error::BadImportRow`] for a file that cannot be imported (an
/// empty file, an unknown or repeated column, a cell of the wrong type, an
/// unknown label, a row with the wrong number of cells, bytes that are not
/// UTF-8), naming the line, the column and the value, before anything is
/// opened or written; [`Error::Database`] when the database lacks a table or
/// column used, or another writer holds the lock longer than
/// [`crate::db::LOCK_WAIT`]; [`Error::Schema`] when the schema has no lead or
/// contact entity as `link-orphans` needs them.
pub fn import_leads(
    db: &mut dyn Backend,
    schema: &Schema,
    csv: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport> {
    let lead = schema.entity("lead").ok_or_else(|| Error::Schema {
        message: format!("{OPERATION} needs entity 'lead', which the schema does not have"),
    })?;
    let open_code = open_status(lead)?;
    let mut progress = Progress::new(options.progress, csv.len() as u64);

    // 1. Check every row; keep only what matching needs.
    let file = File::new(csv);
    let mut records = file.records()?;
    let header = header::resolve(lead, &records.header)?;
    let mut keys = Keys::default();
    let mut row_keys = Vec::new();
    progress.phase("checking");
    while let Some((_, cells)) = records.next_row(&header)? {
        row_keys.push(row_key(
            &header,
            options.matching,
            open_code,
            &cells,
            &mut keys,
        ));
        progress.at(records.offset());
    }
    let rows_read = row_keys.len() as u64;

    let report = in_transaction(db, options.dry_run, |tx| {
        // The lock is the transaction's first statement: on PostgreSQL its
        // snapshot is taken after it (see `Transaction::lock_for_writing`).
        let d = tx.dialect();
        let (lead_table, contact_table) = (
            d.quote_ident(&lead.table),
            d.quote_ident(&contact_table(schema)?),
        );
        tx.lock_for_writing(&[&lead_table, &contact_table])?;
        let layout = Layout::new(tx, lead, &header)?;
        drop_temp(tx)?;

        // 2. The open leads of each key, best first; then each row's lead.
        progress.phase("matching");
        let candidates = candidates(tx, &layout, &keys, options.matching, open_code)?;
        let targets = matching::assign(&row_keys, &candidates);
        drop(row_keys);

        // 3. One staged row per lead.
        progress.phase("loading");
        stage(tx, &layout, &header, &file, &targets, &mut progress)?;

        // 4. Create and update.
        progress.phase("writing");
        let (created, updated) = write(tx, &layout, options)?;
        let planned_new = (targets.ids.len() - targets.existing) as u64;
        if created != planned_new || updated != targets.existing as u64 {
            return Err(Error::Internal {
                message: format!(
                    "{OPERATION} planned {planned_new} new and {} updated leads, wrote {created} and {updated}",
                    targets.existing
                ),
            });
        }

        // 5. Contacts for the imported leads.
        progress.phase("linking");
        let link = link_orphans::run_for(
            tx,
            schema,
            &LinkOptions {
                dry_run: options.dry_run,
                now: options.now,
            },
            Scope::Leads(STAGED),
        )?;
        drop_temp(tx)?;
        Ok(ImportReport {
            format: 1,
            dry_run: options.dry_run,
            matching: options.matching,
            rows_read,
            leads_created: created,
            leads_updated: updated,
            contacts_linked: link.linked_to_existing,
            contacts_created: link.contacts_created,
            leads_linked_to_created: link.leads_linked_to_created,
            skipped_without_email: link.skipped_without_email,
        })
    });
    progress.finish();
    report
}

/// The code of status `Open`; `None` when the lead has no status field (then
/// every lead is open).
fn open_status(lead: &Entity) -> Result<Option<i64>> {
    let Some(status) = lead.field("status") else {
        return Ok(None);
    };
    match &status.ty {
        FieldType::Choice(set) => {
            set.by_label("Open")
                .map(|o| Some(o.code))
                .ok_or_else(|| Error::Schema {
                    message: format!(
                        "{OPERATION} needs the label \"Open\" on lead.status to tell open leads"
                    ),
                })
        }
        other => Err(Error::Schema {
            message: format!(
                "{OPERATION} needs lead.status to be a choice with the label \"Open\"; it is {}",
                other.name()
            ),
        }),
    }
}

fn contact_table(schema: &Schema) -> Result<String> {
    schema
        .entity("contact")
        .map(|c| c.table.clone())
        .ok_or_else(|| Error::Schema {
            message: format!("{OPERATION} needs entity 'contact', which the schema does not have"),
        })
}

/// The matching key of a checked row.
fn row_key(
    header: &Header,
    mode: MatchMode,
    open_code: Option<i64>,
    cells: &[Option<Param>],
    keys: &mut Keys,
) -> RowKey {
    let text = |column: Option<usize>| match column.and_then(|c| cells[c].as_ref()) {
        Some(Param::Text(t)) => Some(t.as_str()),
        _ => None,
    };
    let email = text(header.email);
    let topic = text(header.topic);
    let key = match (mode, email, topic) {
        (MatchMode::None, _, _) | (_, None, _) | (MatchMode::EmailTopic, _, None) => None,
        (MatchMode::Email, Some(email), _) => {
            Some(keys.intern((matching::normalize_email(email), None)))
        }
        (MatchMode::EmailTopic, Some(email), Some(topic)) => {
            Some(keys.intern((matching::normalize_email(email), Some(topic.to_string()))))
        }
    };
    let closes = match (header.status.and_then(|c| cells[c].as_ref()), open_code) {
        (Some(Param::Int(code)), Some(open)) => *code != open,
        _ => false,
    };
    RowKey { key, closes }
}

/// Quoted names of what the import writes.
struct Layout {
    lead: String,
    lead_id: String,
    lead_email: String,
    lead_topic: Option<String>,
    lead_status: Option<String>,
    lead_created: Option<String>,
    /// The key's stored type, for the staged ids.
    key_type: &'static str,
    /// The quoted column of each of the file's fields.
    columns: Vec<String>,
}

impl Layout {
    fn new(tx: &mut dyn Transaction, lead: &Entity, header: &Header) -> Result<Layout> {
        let field = |name: &str| lead.field(name);
        let key = lead.key_field().ok_or_else(|| Error::Schema {
            message: format!("{OPERATION}: lead has no key field"),
        })?;
        let email = field("email").ok_or_else(|| Error::Schema {
            message: format!("{OPERATION} needs field 'email' on lead"),
        })?;
        let mut needed: Vec<&str> = vec![&key.column, &email.column];
        let optional = ["topic", "status", "created_on"].map(field);
        needed.extend(optional.iter().flatten().map(|f| f.column.as_str()));
        needed.extend(header.fields.iter().map(|f| f.column.as_str()));
        verify_columns(tx, OPERATION, &lead.table, &needed)?;
        let d = tx.dialect();
        let q = |f: &Field| d.quote_ident(&f.column);
        Ok(Layout {
            lead: d.quote_ident(&lead.table),
            lead_id: q(key),
            lead_email: q(email),
            lead_topic: optional[0].map(q),
            lead_status: optional[1].map(q),
            lead_created: optional[2].map(q),
            key_type: d.column_type(&key.ty),
            columns: header.fields.iter().map(|f| q(f)).collect(),
        })
    }
}

fn drop_temp(tx: &mut dyn Transaction) -> Result<()> {
    let d = tx.dialect();
    for table in [KEYS, STAGED] {
        tx.execute(
            &format!("DROP TABLE IF EXISTS {}", d.temp_table(table)),
            &[],
        )?;
    }
    Ok(())
}

/// Per key of `keys`, the open leads that have it, best first.
fn candidates(
    tx: &mut dyn Transaction,
    l: &Layout,
    keys: &Keys,
    mode: MatchMode,
    open_code: Option<i64>,
) -> Result<Vec<Vec<uuid::Uuid>>> {
    let mut out = vec![Vec::new(); keys.list.len()];
    if keys.list.is_empty() {
        return Ok(out);
    }
    let d = tx.dialect();
    tx.execute(
        &format!(
            "CREATE TEMP TABLE {KEYS} (k {int}, norm {text}, topic {text})",
            int = d.column_type(&FieldType::Integer),
            text = d.column_type(&FieldType::Text),
        ),
        &[],
    )?;
    let types = [FieldType::Integer, FieldType::Text, FieldType::Text];
    let rows = keys.list.iter().enumerate().map(|(k, (norm, topic))| {
        vec![
            Some(Param::Int(k as i64)),
            Some(Param::Text(norm.clone())),
            topic.clone().map(Param::Text),
        ]
    });
    insert_batches(
        tx,
        &d.temp_table(KEYS),
        &["k", "norm", "topic"],
        &types,
        rows,
    )?;
    tx.execute(&d.create_temp_index(KEYS, "norm", false), &[])?;

    let lead_norm = d.fold_ascii_case(&d.trim_ascii_whitespace(&format!("l.{}", l.lead_email)));
    let topic = match (mode, &l.lead_topic) {
        (MatchMode::EmailTopic, Some(topic)) => format!(" AND k.topic = l.{topic}"),
        // Without a topic field no row has a topic, so no row has a key.
        _ => String::new(),
    };
    let open = match (&l.lead_status, open_code) {
        (Some(status), Some(code)) => {
            format!("WHERE (l.{status} IS NULL OR l.{status} = {code})")
        }
        _ => String::new(),
    };
    let created = match &l.lead_created {
        Some(c) => format!("CASE WHEN l.{c} IS NULL THEN 1 ELSE 0 END, l.{c}, "),
        None => String::new(),
    };
    let rows = tx.query_text(
        &format!(
            "SELECT CAST(k AS TEXT), CAST(lead_id AS TEXT) FROM (\
               SELECT k.k AS k, l.{id} AS lead_id, ROW_NUMBER() OVER (\
                 PARTITION BY k.k ORDER BY {created}l.{id}) AS rn \
               FROM {lead} AS l {join} {keys} AS k ON k.norm = {lead_norm}{topic} {open}\
             ) AS ranked ORDER BY k, rn",
            id = l.lead_id,
            lead = l.lead,
            join = d.ordered_join(),
            keys = d.temp_table(KEYS),
        ),
        &[],
    )?;
    for row in rows {
        let mut cells = row.into_iter();
        let k: usize = cells
            .next()
            .flatten()
            .and_then(|k| k.parse().ok())
            .filter(|&k| k < out.len())
            .ok_or_else(|| Error::Internal {
                message: format!("{OPERATION}: a ranked lead came back without its key"),
            })?;
        let text = cells.next().flatten().unwrap_or_default();
        let id = uuid::Uuid::parse_str(&text).map_err(|_| Error::Database {
            message: format!("lead id '{text}' is not a uuid"),
        })?;
        out[k].push(id);
    }
    Ok(out)
}

/// Load one row per lead into [`STAGED`]: `lead_id`, `is_new` and a column
/// per field of the file. Rows that write the same lead are merged in file
/// order, a later non-empty cell over an earlier one.
fn stage(
    tx: &mut dyn Transaction,
    l: &Layout,
    header: &Header,
    file: &File,
    targets: &Targets,
    progress: &mut Progress,
) -> Result<()> {
    let d = tx.dialect();
    let mut definitions = vec![
        format!("lead_id {}", l.key_type),
        format!("is_new {}", d.column_type(&FieldType::Integer)),
    ];
    let names: Vec<String> = (0..header.fields.len()).map(|i| format!("c{i}")).collect();
    for (name, field) in names.iter().zip(&header.fields) {
        definitions.push(format!("{name} {}", d.column_type(&field.ty)));
    }
    tx.execute(
        &format!("CREATE TEMP TABLE {STAGED} ({})", definitions.join(", ")),
        &[],
    )?;
    let mut columns: Vec<&str> = vec!["lead_id", "is_new"];
    columns.extend(names.iter().map(String::as_str));
    let key_type = header
        .entity
        .key_field()
        .map_or(FieldType::Uuid, |f| f.ty.clone());
    let mut types = vec![key_type, FieldType::Integer];
    types.extend(header.fields.iter().map(|f| f.ty.clone()));

    // Leads written by several rows wait here until their last row.
    let mut merged: HashMap<u32, Vec<Option<Param>>> = HashMap::new();
    let mut records = file.records()?;
    let mut staged = Vec::new();
    let mut row = 0usize;
    let table = d.temp_table(STAGED);
    while let Some((_, cells)) = records.next_row(header)? {
        let target = *targets.row_target.get(row).ok_or_else(|| Error::Internal {
            message: format!("{OPERATION}: the file changed between its two readings"),
        })?;
        row += 1;
        let cells = if targets.rows[target as usize] == 1 {
            cells
        } else {
            let entry = merged
                .entry(target)
                .or_insert_with(|| vec![None; cells.len()]);
            for (slot, cell) in entry.iter_mut().zip(cells) {
                if cell.is_some() {
                    *slot = cell;
                }
            }
            continue;
        };
        staged.push(staged_row(targets, target, cells));
        if staged.len() >= batch_rows(columns.len()) {
            insert_batches(tx, &table, &columns, &types, staged.drain(..))?;
            progress.at(records.offset());
        }
    }
    let mut merged: Vec<(u32, Vec<Option<Param>>)> = merged.into_iter().collect();
    merged.sort_by_key(|(t, _)| *t);
    staged.extend(
        merged
            .into_iter()
            .map(|(target, cells)| staged_row(targets, target, cells)),
    );
    insert_batches(tx, &table, &columns, &types, staged.into_iter())?;
    // Built once over the loaded rows (a sort) rather than kept up to date
    // row by row in random key order; unique, as each lead is staged once.
    tx.execute(&d.create_temp_index(STAGED, "lead_id", true), &[])?;
    Ok(())
}

fn staged_row(targets: &Targets, target: u32, cells: Vec<Option<Param>>) -> Vec<Option<Param>> {
    let mut row = Vec::with_capacity(cells.len() + 2);
    row.push(Some(Param::Text(
        targets.ids[target as usize].hyphenated().to_string(),
    )));
    row.push(Some(Param::Int(i64::from(targets.is_new(target)))));
    row.extend(cells);
    row
}

/// Create the new leads and update the matched ones from [`STAGED`]: the
/// number of leads created and updated.
fn write(tx: &mut dyn Transaction, l: &Layout, options: &ImportOptions) -> Result<(u64, u64)> {
    let d = tx.dialect();
    let staged = d.temp_table(STAGED);
    let mut columns = vec![l.lead_id.clone()];
    let mut values = vec!["s.lead_id".to_string()];
    let mut params = Vec::new();
    for (i, column) in l.columns.iter().enumerate() {
        columns.push(column.clone());
        if Some(column) == l.lead_created.as_ref() {
            values.push(format!(
                "COALESCE(s.c{i}, {})",
                d.text_param(1, &FieldType::DateTime)
            ));
            params.push(Param::Text(options.now.format(DATETIME_FORMAT).to_string()));
        } else {
            values.push(format!("s.c{i}"));
        }
    }
    if let Some(created) = &l.lead_created {
        if !columns.contains(created) {
            columns.push(created.clone());
            values.push(d.text_param(1, &FieldType::DateTime));
            params.push(Param::Text(options.now.format(DATETIME_FORMAT).to_string()));
        }
    }
    let created = tx.execute(
        &format!(
            "INSERT INTO {lead} ({columns}) SELECT {values} FROM {staged} AS s WHERE s.is_new = 1",
            lead = l.lead,
            columns = columns.join(", "),
            values = values.join(", "),
        ),
        &params,
    )?;
    let sets: Vec<String> = l
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = COALESCE(s.c{i}, {lead}.{c})", lead = l.lead))
        .collect();
    let updated = tx.execute(
        &format!(
            "UPDATE {lead} SET {sets} FROM {staged} AS s \
             WHERE {lead}.{id} = s.lead_id AND s.is_new = 0",
            lead = l.lead,
            sets = sets.join(", "),
            id = l.lead_id,
        ),
        &[],
    )?;
    Ok((created, updated))
}

/// Rows per insert for `columns` columns.
fn batch_rows(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).clamp(1, MAX_BATCH_ROWS)
}

/// Insert `rows` into `table` (already qualified) with multi-row inserts of
/// at most [`batch_rows`] rows; each value is sent as a parameter placed as
/// the dialect wants a value of its type.
fn insert_batches(
    tx: &mut dyn Transaction,
    table: &str,
    columns: &[&str],
    types: &[FieldType],
    rows: impl Iterator<Item = Vec<Option<Param>>>,
) -> Result<()> {
    let d = tx.dialect();
    let per_batch = batch_rows(columns.len());
    let mut full_sql: Option<String> = None;
    let mut batch: Vec<Param> = Vec::with_capacity(per_batch * columns.len());
    let mut in_batch = 0;
    let statement = |d: &dyn Dialect, rows: usize| {
        let mut n = 0;
        let tuples: Vec<String> = (0..rows)
            .map(|_| {
                let values: Vec<String> = types
                    .iter()
                    .map(|ty| {
                        n += 1;
                        d.text_param(n, ty)
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            tuples.join(", ")
        )
    };
    for row in rows {
        batch.extend(row.into_iter().map(|c| c.unwrap_or(Param::Null)));
        in_batch += 1;
        if in_batch == per_batch {
            let sql = full_sql.get_or_insert_with(|| statement(d, per_batch));
            tx.execute(sql, &batch)?;
            batch.clear();
            in_batch = 0;
        }
    }
    if in_batch > 0 {
        tx.execute(&statement(d, in_batch), &batch)?;
    }
    Ok(())
}

/// The bytes of the file, without a UTF-8 byte-order mark.
struct File<'a> {
    bytes: &'a [u8],
}

impl<'a> File<'a> {
    fn new(bytes: &'a [u8]) -> File<'a> {
        File {
            bytes: bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
        }
    }

    /// A reader of the file's records, past its header.
    fn records(&self) -> Result<Records<'a>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(self.bytes);
        let mut record = csv::ByteRecord::new();
        let read = reader.read_byte_record(&mut record).map_err(csv_error)?;
        if !read
            || record
                .iter()
                .all(|c| cells::trim(&String::from_utf8_lossy(c)).is_empty())
        {
            return Err(Error::BadImportRow {
                line: 1,
                column: String::new(),
                value: String::new(),
                message: "the file is empty: its first line must name lead fields (e.g. email,topic,first_name), its next lines the leads".into(),
            });
        }
        let mut header = Vec::with_capacity(record.len());
        for (i, cell) in record.iter().enumerate() {
            let text = utf8(cell, 1, &format!("#{}", i + 1))?;
            header.push(cells::trim(text).to_string());
        }
        Ok(Records {
            reader,
            record,
            header,
        })
    }
}

/// The data rows of a file, read one at a time.
struct Records<'a> {
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    /// The header's names, trimmed.
    header: Vec<String>,
}

impl Records<'_> {
    /// Bytes read so far.
    fn offset(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next row's line and cells (typed by the header's fields), or
    /// `None` at the end of the file. Rows whose cells are all empty (the
    /// `,,,` lines spreadsheets leave at the end) are no rows.
    fn next_row(&mut self, header: &Header) -> Result<Option<(u64, Vec<Option<Param>>)>> {
        loop {
            match self.next_record(header)? {
                Some((_, cells)) if cells.iter().all(Option::is_none) => continue,
                other => return Ok(other),
            }
        }
    }

    /// [`Records::next_row`], blank rows included.
    fn next_record(&mut self, header: &Header) -> Result<Option<(u64, Vec<Option<Param>>)>> {
        if !self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(csv_error)?
        {
            return Ok(None);
        }
        let line = self.record.position().map_or(0, |p| p.line());
        let width = self.header.len();
        if self.record.len() != width {
            let (column, value) = if self.record.len() > width {
                let extra = self.record.get(width).unwrap_or_default();
                (
                    format!("#{}", width + 1),
                    String::from_utf8_lossy(extra).into_owned(),
                )
            } else {
                (self.header[self.record.len()].clone(), String::new())
            };
            return Err(Error::BadImportRow {
                line,
                column,
                value,
                message: format!(
                    "the row has {} cell{} but the header has {width} columns; give every row one cell per column (an empty cell for a missing value)",
                    self.record.len(),
                    if self.record.len() == 1 { "" } else { "s" }
                ),
            });
        }
        let mut cells = Vec::with_capacity(width);
        for (i, (cell, field)) in self.record.iter().zip(&header.fields).enumerate() {
            let column = &self.header[i];
            let text = utf8(cell, line, column)?;
            let value = cells::parse_cell(header.entity, field, text).map_err(|message| {
                Error::BadImportRow {
                    line,
                    column: column.clone(),
                    value: cells::trim(text).to_string(),
                    message,
                }
            })?;
            cells.push(value);
        }
        Ok(Some((line, cells)))
    }
}

/// A cell as text, or an error naming its place when it is not UTF-8.
fn utf8<'b>(cell: &'b [u8], line: u64, column: &str) -> Result<&'b str> {
    std::str::from_utf8(cell).map_err(|e| Error::BadImportRow {
        line,
        column: column.to_string(),
        value: String::from_utf8_lossy(cell).into_owned(),
        message: format!(
            "the cell is not UTF-8 text (invalid byte at position {}); save the file as UTF-8",
            e.valid_up_to() + 1
        ),
    })
}

/// A CSV syntax error (an unterminated quote, say) of the file.
fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    Error::BadImportRow {
        line,
        column: String::new(),
        value: String::new(),
        message: format!("the file is not valid CSV: {e}"),
    }
}

/// A progress bar that appears only once an import has lasted a second,
/// and only on a terminal.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    visible: bool,
}

impl Progress {
    fn new(wanted: bool, bytes: u64) -> Progress {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>10} [{bar:30}] {bytes}/{total_bytes}, {elapsed}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            visible: false,
        }
    }

    fn at(&mut self, offset: u64) {
        let Some(bar) = &self.bar else { return };
        if !self.visible && self.started.elapsed() > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.visible = true;
        }
        bar.set_position(offset);
    }

    fn phase(&mut self, name: &'static str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name);
            bar.set_position(0);
        }
        self.at(0);
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
