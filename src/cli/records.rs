//! Fetching and printing the records of a result: `--format table|ids|json|csv`.

use std::io::Write;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use segql::db::Backend;
use segql::schema::{Entity, FieldType, Schema};
use serde_json::Value as Json;
use uuid::Uuid;

use super::args::RowFormat;
use super::failure::{io_failure, Failure};

/// How many fields besides the key a table shows: enough to recognise a
/// record, few enough to fit a terminal. json and csv show every field.
const TABLE_FIELDS: usize = 5;

/// Print `ids` (already limited) of `entity` in `format`.
pub fn print(
    db: &mut dyn Backend,
    schema: &Schema,
    entity: &Entity,
    ids: &[Uuid],
    total: usize,
    format: RowFormat,
) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        RowFormat::Ids => ids.iter().try_for_each(|id| writeln!(out, "{id}")),
        RowFormat::Table => {
            let fields = table_fields(schema, entity);
            let rows = fetch(db, entity, &fields, ids)?;
            let mut table = Table::new();
            table
                .load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(fields.iter().map(|f| f.name.as_str()));
            for row in rows {
                table.add_row(row.iter().map(display));
            }
            writeln!(out, "{table}").and_then(|_| {
                let noun = if total == 1 { "record" } else { "records" };
                if ids.len() < total {
                    writeln!(out, "{} of {total} {} {noun} shown", ids.len(), entity.name)
                } else {
                    writeln!(out, "{total} {} {noun}", entity.name)
                }
            })
        }
        RowFormat::Json => {
            let fields: Vec<&segql::schema::Field> = entity.fields.iter().collect();
            let rows = fetch(db, entity, &fields, ids)?;
            let objects: Vec<Json> = rows
                .into_iter()
                .map(|row| Json::Object(fields.iter().map(|f| f.name.clone()).zip(row).collect()))
                .collect();
            serde_json::to_writer_pretty(&mut out, &objects)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
        RowFormat::Csv => {
            let fields: Vec<&segql::schema::Field> = entity.fields.iter().collect();
            let rows = fetch(db, entity, &fields, ids)?;
            let mut writer = csv::Writer::from_writer(&mut out);
            let header = writer.write_record(fields.iter().map(|f| f.name.as_str()));
            let body = header.and_then(|_| {
                rows.iter()
                    .try_for_each(|row| writer.write_record(row.iter().map(display)))
            });
            body.and_then(|_| writer.flush().map_err(csv::Error::from))
                .map_err(std::io::Error::other)
        }
    };
    match written {
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| io_failure("cannot write the output", e)),
    }
}

/// The key, then the first few fields that are neither key nor foreign key.
fn table_fields<'a>(schema: &Schema, entity: &'a Entity) -> Vec<&'a segql::schema::Field> {
    let is_foreign_key = |name: &str| {
        schema.relationships.iter().any(|r| {
            r.child.eq_ignore_ascii_case(&entity.name) && r.child_field.eq_ignore_ascii_case(name)
        })
    };
    let key = entity.key_field();
    let rest = entity
        .fields
        .iter()
        .filter(|f| !f.name.eq_ignore_ascii_case(&entity.key) && !is_foreign_key(&f.name))
        .take(TABLE_FIELDS);
    key.into_iter().chain(rest).collect()
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
    fields: &[&segql::schema::Field],
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
