//! `segql export` (`segql::export`): every table of the schema as Parquet
//! files, read back with the parquet crate's own reader and compared value
//! by value with what SQLite stores; the layout; the refusals.

use std::fs::File;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, NaiveDate, Utc};
use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field as Value;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use segql::db::SqliteBackend;
use segql::demo::{generate_sqlite, DemoOptions};
use segql::export::{export, ExportOptions, PART_FILE};
use segql::schema::{crm_schema, FieldType};

fn now() -> DateTime<Utc> {
    "2026-01-15T12:00:00Z".parse().unwrap()
}

/// A demo database with, beside the generated records, a contact whose
/// every nullable field is NULL and one with values at the edges (a date
/// before 1970, a date-time before 1970, the largest choice code, non-ASCII
/// text).
fn database(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("crm.db");
    generate_sqlite(&path, &DemoOptions::new(60, 3, now())).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO contact (id) VALUES ('00000000-0000-4000-8000-000000000001');
         INSERT INTO contact (id, first_name, role, consent_level, birth_date, created_on,
                              marketing_only, is_child)
         VALUES ('00000000-0000-4000-8000-000000000002', 'Zoë 😀', 3, 6, '1969-12-31',
                 '1969-12-31T23:59:59Z', 1, 1);
         INSERT INTO lead (id, contact_id, score, estimated_value)
         VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000002',
                 -9223372036854775808, 0.30000000000000004);",
    )
    .unwrap();
    path
}

fn export_to(
    db: &Path,
    out: &Path,
    rows_per_group: usize,
) -> segql::Result<segql::export::ExportReport> {
    let conn = Connection::open(db).unwrap();
    let mut backend = SqliteBackend::new(conn);
    let options = ExportOptions {
        rows_per_group,
        ..ExportOptions::default()
    };
    export(&mut backend, &crm_schema(), out, &options, &mut ())
}

/// What a stored SQLite value must read back as from Parquet.
fn expected(ty: &FieldType, stored: ValueRef<'_>) -> Value {
    let text = |t: &[u8]| std::str::from_utf8(t).unwrap().to_string();
    match (ty, stored) {
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Uuid | FieldType::Text, ValueRef::Text(t)) => Value::Str(text(t)),
        (FieldType::Integer, ValueRef::Integer(i)) => Value::Long(i),
        (FieldType::Choice(_), ValueRef::Integer(i)) => Value::Int(i32::try_from(i).unwrap()),
        (FieldType::Decimal, ValueRef::Real(x)) => Value::Double(x),
        (FieldType::Decimal, ValueRef::Integer(i)) => Value::Double(i as f64),
        (FieldType::Bool, ValueRef::Integer(i)) => Value::Bool(i == 1),
        (FieldType::Date, ValueRef::Text(t)) => {
            let day = NaiveDate::parse_from_str(&text(t), "%Y-%m-%d").unwrap();
            Value::Date((day - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32)
        }
        (FieldType::DateTime, ValueRef::Text(t)) => {
            let at: DateTime<Utc> = text(t).parse().unwrap();
            Value::TimestampMicros(at.timestamp_micros())
        }
        (ty, other) => panic!("unexpected stored {other:?} for {ty:?}"),
    }
}

fn read_rows(path: &Path) -> Vec<Vec<(String, Value)>> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    reader
        .into_iter()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect()
        })
        .collect()
}

#[test]
fn every_table_reads_back_with_its_types_values_and_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let out = dir.path().join("lake");
    // Few rows per group, so that every table spans several row groups.
    let report = export_to(&db, &out, 2).unwrap();
    let schema = crm_schema();
    assert_eq!(report.tables.len(), schema.entities.len());
    let conn = Connection::open(&db).unwrap();
    for (entity, table) in schema.entities.iter().zip(&report.tables) {
        assert_eq!(table.table, entity.table);
        let path = out.join(&entity.table).join(PART_FILE);
        assert_eq!(table.path, path);
        assert_eq!(table.bytes, std::fs::metadata(&path).unwrap().len());

        let columns: Vec<String> = entity
            .fields
            .iter()
            .map(|f| format!("\"{}\"", f.column))
            .collect();
        let sql = format!(
            "SELECT {} FROM \"{}\" ORDER BY id",
            columns.join(", "),
            entity.table
        );
        let mut statement = conn.prepare(&sql).unwrap();
        let mut stored = statement.query([]).unwrap();
        let mut want = Vec::new();
        while let Some(row) = stored.next().unwrap() {
            let values: Vec<(String, Value)> = entity
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.column.clone(), expected(&f.ty, row.get_ref(i).unwrap())))
                .collect();
            want.push(values);
        }
        assert!(want.len() > 2, "{}: {} rows", entity.table, want.len());
        assert_eq!(table.rows, want.len() as u64);
        assert_eq!(read_rows(&path), want, "{}", entity.table);

        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups = reader.metadata().num_row_groups();
        assert_eq!(groups, want.len().div_ceil(2), "{}", entity.table);
    }
}

#[test]
fn column_types_are_the_spark_dialects() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let out = dir.path().join("lake");
    export_to(&db, &out, 1000).unwrap();
    for entity in &crm_schema().entities {
        let path = out.join(&entity.table).join(PART_FILE);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let columns = reader.metadata().file_metadata().schema_descr();
        assert_eq!(columns.num_columns(), entity.fields.len());
        for (i, field) in entity.fields.iter().enumerate() {
            let column = columns.column(i);
            assert_eq!(column.name(), field.column);
            assert!(column.self_type().is_optional(), "{}", field.column);
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
            assert_eq!(column.physical_type(), physical, "{}", field.column);
            assert_eq!(
                column.logical_type_ref(),
                logical.as_ref(),
                "{}",
                field.column
            );
        }
    }
}

#[test]
fn choices_are_codes_and_edges_survive() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let out = dir.path().join("lake");
    export_to(&db, &out, 1000).unwrap();
    let contacts = read_rows(&out.join("contact").join(PART_FILE));
    let contact = |id: &str| {
        contacts
            .iter()
            .find(|row| row[0].1 == Value::Str(id.into()))
            .unwrap()
            .iter()
            .cloned()
            .collect::<std::collections::HashMap<_, _>>()
    };
    let empty = contact("00000000-0000-4000-8000-000000000001");
    assert_eq!(empty["first_name"], Value::Null);
    assert_eq!(empty["role"], Value::Null);
    assert_eq!(empty["birth_date"], Value::Null);
    assert_eq!(empty["created_on"], Value::Null);
    assert_eq!(empty["account_id"], Value::Null);
    assert_eq!(empty["marketing_only"], Value::Bool(false));

    let edges = contact("00000000-0000-4000-8000-000000000002");
    assert_eq!(edges["first_name"], Value::Str("Zoë 😀".into()));
    assert_eq!(edges["role"], Value::Int(3), "Influencer is code 3");
    assert_eq!(edges["consent_level"], Value::Int(6), "Tracking is code 6");
    assert_eq!(edges["birth_date"], Value::Date(-1));
    assert_eq!(edges["created_on"], Value::TimestampMicros(-1_000_000));
    assert_eq!(edges["is_child"], Value::Bool(true));

    let leads = read_rows(&out.join("lead").join(PART_FILE));
    let lead = leads
        .iter()
        .find(|row| row[0].1 == Value::Str("00000000-0000-4000-8000-000000000003".into()))
        .unwrap();
    let value = |name: &str| &lead.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(value("score"), &Value::Long(i64::MIN));
    assert_eq!(
        value("estimated_value"),
        &Value::Double(0.30000000000000004)
    );
}

#[test]
fn a_table_directory_holding_another_file_is_refused_and_nothing_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let out = dir.path().join("lake");
    export_to(&db, &out, 1000).unwrap();
    let account = out.join("account").join(PART_FILE);
    let before = std::fs::read(&account).unwrap();
    // Changed data, so that a replaced file would differ.
    Connection::open(&db)
        .unwrap()
        .execute("UPDATE account SET name = 'renamed'", [])
        .unwrap();
    std::fs::write(out.join("lead").join("old.csv"), "id\n").unwrap();
    let err = export_to(&db, &out, 1000).unwrap_err().to_string();
    assert!(err.contains("old.csv"), "{err}");
    assert!(
        err.contains("remove it or export to another --out"),
        "{err}"
    );
    assert_eq!(std::fs::read(&account).unwrap(), before);

    // Once it is gone, the export replaces its own files.
    std::fs::remove_file(out.join("lead").join("old.csv")).unwrap();
    export_to(&db, &out, 1000).unwrap();
    assert_ne!(std::fs::read(&account).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(out.join("account"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [PART_FILE], "no temporary file is left behind");
}

#[test]
fn a_value_not_in_its_stored_form_names_the_record_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO interaction (id, occurred_on) \
             VALUES ('00000000-0000-4000-8000-0000000000aa', '2024-05-01 10:00')",
            [],
        )
        .unwrap();
    let out = dir.path().join("lake");
    let err = export_to(&db, &out, 1000).unwrap_err().to_string();
    for part in [
        "table 'interaction'",
        "column 'occurred_on'",
        "00000000-0000-4000-8000-0000000000aa",
        "YYYY-MM-DDTHH:MM:SSZ",
    ] {
        assert!(err.contains(part), "{part} in {err}");
    }
    // All or nothing: the tables before it are not written either.
    for entity in &crm_schema().entities {
        let table = out.join(&entity.table);
        let files = std::fs::read_dir(&table).map(|d| d.count()).unwrap_or(0);
        assert_eq!(files, 0, "{}", table.display());
    }
}

#[test]
fn the_command_prints_a_line_per_table_and_refuses_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let out = dir.path().join("lake");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_segql"))
            .args(args)
            .output()
            .unwrap()
    };
    let done = run(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "parquet",
    ]);
    assert_eq!(done.status.code(), Some(0), "{done:?}");
    let stdout = String::from_utf8(done.stdout).unwrap();
    assert!(stdout.contains("contact "), "{stdout}");
    assert!(stdout.contains("exported 5 tables"), "{stdout}");
    assert!(done.stderr.is_empty(), "no progress bar off a terminal");
    assert!(out.join("subscription").join(PART_FILE).is_file());

    let missing = dir.path().join("missing.db");
    let refused = run(&[
        "export",
        "--db",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not exist"));

    let zero = run(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--rows-per-group",
        "0",
    ]);
    assert_eq!(zero.status.code(), Some(2));
}

#[test]
fn a_postgresql_database_exports_the_same_rows_as_its_sqlite_original() {
    let Some(pg) = crate::support::pg::TestPg::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let schema = crm_schema();
    let sqlite = Connection::open(&db).unwrap();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&sqlite, &mut client, &schema).unwrap();

    let from_sqlite = dir.path().join("from-sqlite");
    export_to(&db, &from_sqlite, 1000).unwrap();
    let from_postgres = dir.path().join("from-postgres");
    let mut backend = segql::db::PostgresBackend::new(client);
    let report = export(
        &mut backend,
        &schema,
        &from_postgres,
        &ExportOptions::default(),
        &mut (),
    )
    .unwrap();
    for (entity, table) in schema.entities.iter().zip(&report.tables) {
        let want = read_rows(&from_sqlite.join(&entity.table).join(PART_FILE));
        assert_eq!(table.rows, want.len() as u64);
        assert_eq!(read_rows(&table.path), want, "{}", entity.table);
    }
}
