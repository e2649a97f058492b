//! Fetching and printing the records of a result: `--format table|ids|json|csv`,
//! with the columns and row limit of a [`View`]. `run` and the shell both
//! print through here, so a result looks the same in both.

use std::io::Write;

use segql::db::Backend;
use segql::schema::{Entity, Field, FieldType, Schema};
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value as Json;
use uuid::Uuid;

use super::args::RowFormat;
use super::columns::{self, Shown};
use super::failure::{io_failure, Failure};
use super::table::{self, Column, Fit};
use super::terminal;

/// How a result is shown: format, chosen columns, row limit.
#[derive(Clone, Debug)]
pub struct View {
    pub format: RowFormat,
    /// `None`: the format's default columns.
    pub columns: Option<Vec<String>>,
    /// `None`: a screenful for tables, every record otherwise.
    pub limit: Option<usize>,
}

/// Where the user is, so the "more" line names the right way to see more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    Run,
    Shell,
}

/// The columns `view` asks for on `entity`; validated before the query runs
/// so a typo costs no evaluation.
pub fn check_columns(entity: &Entity, view: &View) -> Result<(), Failure> {
    match &view.columns {
        Some(names) => columns::chosen(entity, names).map(|_| ()),
        None => Ok(()),
    }
}

/// Print the records with `ids` (all of the result, ascending) of `entity`.
/// `query_fields` are the root fields the query tests
/// ([`segql::plan::root_fields`]), shown as table columns.
pub fn print(
    db: &mut dyn Backend,
    schema: &Schema,
    entity: &Entity,
    query_fields: &[String],
    ids: &[Uuid],
    view: &View,
    hint: Hint,
) -> Result<(), Failure> {
    let limit = match (view.limit, view.format) {
        (Some(n), _) => n,
        (None, RowFormat::Table) => terminal::screenful(),
        (None, _) => ids.len(),
    };
    let shown_ids = &ids[..limit.min(ids.len())];
    let fields: Vec<Shown<'_>> = match &view.columns {
        Some(names) => columns::chosen(entity, names)?
            .into_iter()
            .map(|field| Shown {
                field,
                optional: false,
            })
            .collect(),
        None if view.format == RowFormat::Table => {
            columns::table_columns(schema, entity, query_fields)
        }
        None => columns::all_columns(entity)
            .into_iter()
            .map(|field| Shown {
                field,
                optional: false,
            })
            .collect(),
    };
    let plain: Vec<&Field> = fields.iter().map(|s| s.field).collect();

    // Buffered: stdout alone writes line by line, one system call per id,
    // which took 0.3 s for the 267,000 ids of a 1M-contact segment.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match view.format {
        RowFormat::Ids => shown_ids.iter().try_for_each(|id| writeln!(out, "{id}")),
        RowFormat::Table => {
            let rows = fetch(db, entity, &plain, shown_ids)?;
            write_table(&mut out, entity, &fields, &rows, ids.len(), hint)
        }
        RowFormat::Json => {
            let rows = fetch(db, entity, &plain, shown_ids)?;
            let records: Vec<Record<'_>> = rows
                .iter()
                .map(|values| Record {
                    fields: &plain,
                    values,
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &records)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
        RowFormat::Csv => {
            let rows = fetch(db, entity, &plain, shown_ids)?;
            let mut writer = csv::Writer::from_writer(&mut out);
            let header = writer.write_record(plain.iter().map(|f| f.name.as_str()));
            let body = header.and_then(|_| {
                rows.iter()
                    .try_for_each(|row| writer.write_record(row.iter().map(display)))
            });
            body.and_then(|_| writer.flush().map_err(csv::Error::from))
                .map_err(std::io::Error::other)
        }
    };
    let written = written.and_then(|()| out.flush());
    match written {
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| io_failure("cannot write the output", e)),
    }
}

/// The count first (it is the answer), then the rows, then what was left
/// out: hidden columns, and last the records not shown.
fn write_table(
    out: &mut impl Write,
    entity: &Entity,
    fields: &[Shown<'_>],
    rows: &[Vec<Json>],
    total: usize,
    hint: Hint,
) -> std::io::Result<()> {
    writeln!(out, "{total} {}", plural(&entity.name, total))?;
    if total == 0 {
        return Ok(());
    }
    let columns: Vec<Column> = fields.iter().map(column).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(display).collect())
        .collect();
    let width = terminal::width();
    let rendered = table::render(&columns, &cells, width);
    out.write_all(rendered.text.as_bytes())?;
    if !rendered.hidden.is_empty() {
        let choose = match hint {
            Hint::Run => "--columns",
            Hint::Shell => ".columns",
        };
        writeln!(
            out,
            "({} hidden to fit {} columns; {choose} a,b,c chooses)",
            rendered.hidden.join(", "),
            width.unwrap_or_default()
        )?;
    }
    let more = total.saturating_sub(rows.len());
    if more > 0 {
        let (limit, format) = match hint {
            Hint::Run => ("--limit N", "--format"),
            Hint::Shell => (".limit N", ".format"),
        };
        writeln!(
            out,
            "… {more} more ({limit} to see more, {format} ids or csv for all)"
        )?;
    }
    Ok(())
}

/// How a field's values may be fitted: ids and emails are copied whole, so
/// never cut; numbers align right.
fn column(shown: &Shown<'_>) -> Column {
    let field = shown.field;
    let free_text =
        field.ty == FieldType::Text && !field.name.to_ascii_lowercase().contains("email");
    Column {
        header: field.name.clone(),
        fit: if free_text { Fit::Cut } else { Fit::Whole },
        right: field.ty.is_number(),
        optional: shown.optional,
    }
}

/// `contact` → `contacts`, `opportunity` → `opportunities`, `address` →
/// `addresses`; one is singular.
fn plural(noun: &str, n: usize) -> String {
    if n == 1 {
        return noun.to_string();
    }
    let consonant_y = noun.ends_with('y')
        && !noun[..noun.len() - 1].ends_with(|c: char| "aeiouAEIOU".contains(c));
    if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| noun.ends_with(e))
    {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// One record as a JSON object with its keys in column order (key first),
/// which a `serde_json::Map` would sort.
struct Record<'a> {
    fields: &'a [&'a Field],
    values: &'a [Json],
}

impl serde::Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (field, value) in self.fields.iter().zip(self.values) {
            map.serialize_entry(&field.name, value)?;
        }
        map.end()
    }
}

fn display(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The given fields of the records with `ids`, in id order, as JSON values
/// (choices as labels).
fn fetch(
    db: &mut dyn Backend,
    entity: &Entity,
    fields: &[&Field],
    ids: &[Uuid],
) -> Result<Vec<Vec<Json>>, Failure> {
    let texts = db.records(entity, fields, ids).map_err(|e| {
        // The database's own message, without the kind that `Error` adds.
        let message = match e {
            segql::Error::Database { message } => message,
            other => other.to_string(),
        };
        io_failure(&format!("cannot read {} records", entity.name), message)
    })?;
    Ok(texts
        .into_iter()
        .map(|row| {
            row.into_iter()
                .zip(fields)
                .map(|(text, field)| to_json(text, &field.ty))
                .collect()
        })
        .collect())
}

/// Stored text to a typed JSON value; text that does not parse is shown as is.
fn to_json(text: Option<String>, ty: &FieldType) -> Json {
    let Some(text) = text else { return Json::Null };
    let parsed = match ty {
        FieldType::Integer => text.parse::<i64>().ok().map(Json::from),
        FieldType::Decimal => text.parse::<f64>().ok().map(Json::from),
        FieldType::Bool => match text.as_str() {
            "1" | "t" | "true" => Some(Json::Bool(true)),
            "0" | "f" | "false" => Some(Json::Bool(false)),
            _ => None,
        },
        FieldType::Choice(set) => text
            .parse::<i64>()
            .ok()
            .and_then(|code| set.by_code(code))
            .map(|o| Json::from(o.label.clone())),
        _ => None,
    };
    parsed.unwrap_or(Json::String(text))
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals_of_entity_names() {
        assert_eq!(plural("contact", 2), "contacts");
        assert_eq!(plural("contact", 1), "contact");
        assert_eq!(plural("contact", 0), "contacts");
        assert_eq!(plural("opportunity", 3), "opportunities");
        assert_eq!(plural("day", 3), "days");
        assert_eq!(plural("address", 3), "addresses");
    }
}
