//! One table as a Parquet file: the schema's field types mapped to Parquet's
//! physical and logical types, rows buffered by column and written a row
//! group at a time.
//!
//! The types are those of the Spark dialect's storage
//! ([`crate::sql::Dialect::column_type`] on [`crate::sql::Spark`]), so that
//! Spark reading the files sees the column types the SQL it is given was
//! compiled for:
//!
//! | field type | Parquet                                  | Spark       |
//! |------------|------------------------------------------|-------------|
//! | uuid, text | BYTE_ARRAY, STRING (UTF-8)               | `STRING`    |
//! | integer    | INT64                                    | `BIGINT`    |
//! | choice     | INT32 (the code)                         | `INT`       |
//! | decimal    | DOUBLE                                   | `DOUBLE`    |
//! | bool       | BOOLEAN                                  | `BOOLEAN`   |
//! | date       | INT32, DATE (days since 1970-01-01)      | `DATE`      |
//! | datetime   | INT64, TIMESTAMP(MICROS, adjusted to UTC)| `TIMESTAMP` |
//!
//! Every column is OPTIONAL: a database may hold a NULL where the schema
//! expects none, and Spark reads every Parquet column as nullable anyway.
//! Columns are named after the schema's column names, as the compiled SQL
//! names them.

use std::fs::File;
use std::sync::Arc;

use chrono::NaiveDate;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::error::{Error, Result};
use crate::schema::{Entity, Field, FieldType};
use crate::sql::SqlParam;

/// Writes one table's rows to one Parquet file.
pub(super) struct TableWriter<'a> {
    entity: &'a Entity,
    fields: Vec<&'a Field>,
    columns: Vec<Column>,
    rows: usize,
    rows_per_group: usize,
    file: SerializedFileWriter<File>,
    /// The path written to, for errors.
    path: String,
}

/// The values of one column of the row group being filled, with a
/// definition level per row (0 for NULL, 1 for a value).
struct Column {
    values: Values,
    levels: Vec<i16>,
}

enum Values {
    Bytes(Vec<ByteArray>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Bool(Vec<bool>),
}

impl<'a> TableWriter<'a> {
    /// A writer of `entity`'s `fields` to `file` (`path` names it in
    /// errors), in row groups of `rows_per_group` rows.
    pub(super) fn new(
        entity: &'a Entity,
        fields: Vec<&'a Field>,
        file: File,
        path: String,
        rows_per_group: usize,
    ) -> Result<TableWriter<'a>> {
        let columns = fields
            .iter()
            .map(|f| Column {
                values: Values::of(&f.ty),
                levels: Vec::new(),
            })
            .collect();
        let schema = message_type(entity, &fields)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("segql {}", env!("CARGO_PKG_VERSION")))
            .build();
        let file = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties))
            .map_err(|e| write_error(&path, e))?;
        Ok(TableWriter {
            entity,
            fields,
            columns,
            rows: 0,
            rows_per_group: rows_per_group.max(1),
            file,
            path,
        })
    }

    /// Adds one record (values in the order of the fields), writing a row
    /// group once enough are buffered.
    pub(super) fn push(&mut self, row: &[Option<SqlParam>]) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::Internal {
                message: format!(
                    "a record of '{}' came with {} values for {} columns",
                    self.entity.table,
                    row.len(),
                    self.columns.len()
                ),
            });
        }
        for ((column, field), value) in self.columns.iter_mut().zip(&self.fields).zip(row) {
            column
                .push(value.as_ref())
                .map_err(|problem| Error::Database {
                    message: format!(
                        "table '{}', column '{}', record {}: {problem}",
                        self.entity.table,
                        field.column,
                        record_key(self.entity, &self.fields, row)
                    ),
                })?;
        }
        self.rows += 1;
        if self.rows == self.rows_per_group {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let path = &self.path;
        let mut group = self
            .file
            .next_row_group()
            .map_err(|e| write_error(path, e))?;
        for column in &mut self.columns {
            let Some(mut writer) = group.next_column().map_err(|e| write_error(path, e))? else {
                return Err(Error::Internal {
                    message: format!("the Parquet schema of {path} has too few columns"),
                });
            };
            let levels = Some(column.levels.as_slice());
            let written = match &column.values {
                Values::Bytes(v) => writer.typed::<ByteArrayType>().write_batch(v, levels, None),
                Values::Int32(v) => writer.typed::<Int32Type>().write_batch(v, levels, None),
                Values::Int64(v) => writer.typed::<Int64Type>().write_batch(v, levels, None),
                Values::Double(v) => writer.typed::<DoubleType>().write_batch(v, levels, None),
                Values::Bool(v) => writer.typed::<BoolType>().write_batch(v, levels, None),
            };
            written.map_err(|e| write_error(path, e))?;
            writer.close().map_err(|e| write_error(path, e))?;
            column.clear();
        }
        group.close().map_err(|e| write_error(path, e))?;
        self.rows = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer; the file is complete.
    pub(super) fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.file.close().map_err(|e| write_error(&self.path, e))?;
        Ok(())
    }
}

/// The Parquet schema of `entity`'s `fields` (see the module's table).
fn message_type(entity: &Entity, fields: &[&Field]) -> Result<Type> {
    let columns = fields
        .iter()
        .map(|field| {
            let (physical, logical) = match field.ty {
                FieldType::Uuid | FieldType::Text => {
                    (Physical::BYTE_ARRAY, Some(LogicalType::String))
                }
                FieldType::Integer => (Physical::INT64, None),
                FieldType::Choice(_) => (Physical::INT32, None),
                FieldType::Decimal => (Physical::DOUBLE, None),
                FieldType::Bool => (Physical::BOOLEAN, None),
                FieldType::Date => (Physical::INT32, Some(LogicalType::Date)),
                FieldType::DateTime => (
                    Physical::INT64,
                    Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
                ),
            };
            Type::primitive_type_builder(&field.column, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
                .map_err(|e| Error::Schema {
                    message: format!(
                        "entity {}, field {}: no Parquet column for it: {e}",
                        entity.name, field.name
                    ),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    Type::group_type_builder(&entity.table)
        .with_fields(columns)
        .build()
        .map_err(|e| Error::Schema {
            message: format!("entity {}: no Parquet schema for it: {e}", entity.name),
        })
}

impl Values {
    fn of(ty: &FieldType) -> Values {
        match ty {
            FieldType::Uuid | FieldType::Text => Values::Bytes(Vec::new()),
            FieldType::Choice(_) | FieldType::Date => Values::Int32(Vec::new()),
            FieldType::Integer | FieldType::DateTime => Values::Int64(Vec::new()),
            FieldType::Decimal => Values::Double(Vec::new()),
            FieldType::Bool => Values::Bool(Vec::new()),
        }
    }
}

impl Column {
    /// Adds one value (`None` for NULL); the problem, in words, when it
    /// cannot be stored in this column.
    fn push(&mut self, value: Option<&SqlParam>) -> std::result::Result<(), String> {
        let Some(value) = value else {
            self.levels.push(0);
            return Ok(());
        };
        match (&mut self.values, value) {
            (Values::Bytes(v), SqlParam::Uuid(id)) => {
                v.push(ByteArray::from(id.hyphenated().to_string().into_bytes()))
            }
            (Values::Bytes(v), SqlParam::Text(text)) => {
                v.push(ByteArray::from(text.clone().into_bytes()))
            }
            (Values::Int32(v), SqlParam::Integer(code)) => {
                let code = i32::try_from(*code).map_err(|_| {
                    format!("the choice code {code} does not fit a 32-bit integer (Spark's INT)")
                })?;
                v.push(code)
            }
            (Values::Int32(v), SqlParam::Date(day)) => v.push(days_since_epoch(*day)?),
            (Values::Int64(v), SqlParam::Integer(i)) => v.push(*i),
            (Values::Int64(v), SqlParam::DateTime(at)) => v.push(at.timestamp_micros()),
            (Values::Double(v), SqlParam::Real(x)) => v.push(*x),
            (Values::Bool(v), SqlParam::Bool(b)) => v.push(*b),
            (_, other) => return Err(format!("unexpected value {other:?} for this column's type")),
        }
        self.levels.push(1);
        Ok(())
    }

    fn clear(&mut self) {
        self.levels.clear();
        match &mut self.values {
            Values::Bytes(v) => v.clear(),
            Values::Int32(v) => v.clear(),
            Values::Int64(v) => v.clear(),
            Values::Double(v) => v.clear(),
            Values::Bool(v) => v.clear(),
        }
    }
}

/// Parquet's DATE: days since 1970-01-01.
fn days_since_epoch(day: NaiveDate) -> std::result::Result<i32, String> {
    let days = (day - NaiveDate::default()).num_days();
    i32::try_from(days).map_err(|_| format!("the date {day} is out of Parquet's DATE range"))
}

/// The key of `row`, for naming the record in an error.
fn record_key(entity: &Entity, fields: &[&Field], row: &[Option<SqlParam>]) -> String {
    let at = fields.iter().position(|f| f.name == entity.key);
    match at.and_then(|i| row.get(i)) {
        Some(Some(SqlParam::Uuid(id))) => id.to_string(),
        Some(Some(SqlParam::Text(text))) => text.clone(),
        _ => "(unknown key)".into(),
    }
}

fn write_error(path: &str, e: parquet::errors::ParquetError) -> Error {
    Error::Unavailable {
        message: format!("cannot write {path}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_1970() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(days_since_epoch(day(1970, 1, 1)), Ok(0));
        assert_eq!(days_since_epoch(day(1969, 12, 31)), Ok(-1));
        assert_eq!(days_since_epoch(day(2024, 5, 1)), Ok(19844));
    }

    #[test]
    fn a_choice_code_beyond_32_bits_is_refused_in_words() {
        let mut column = Column {
            values: Values::Int32(Vec::new()),
            levels: Vec::new(),
        };
        let problem = column.push(Some(&SqlParam::Integer(1 << 40))).unwrap_err();
        assert!(problem.contains("32-bit"), "{problem}");
        column.push(None).unwrap();
        column.push(Some(&SqlParam::Integer(7))).unwrap();
        assert_eq!(column.levels, [0, 1]);
    }
}
