//! Copying the demo data set into PostgreSQL keeps every row and every value,
//! in the column types SPEC §3.1 gives PostgreSQL.

use chrono::{TimeZone, Utc};
use rusqlite::types::ValueRef;
use segql::db::PostgresBackend;
use segql::demo::{self, DemoOptions};
use segql::schema::{crm_schema, Entity, FieldType};
use segql::sql::Dialect;

use crate::support::pg::TestPg;

/// A row as comparable text: each value with its type, NULL as None.
type Row = Vec<Option<String>>;

fn sqlite_rows(conn: &rusqlite::Connection, entity: &Entity) -> Vec<Row> {
    let columns: Vec<String> = entity
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.column))
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{}\" ORDER BY \"{}\"",
        columns.join(", "),
        entity.table,
        entity.key
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let values = entity
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| match (&field.ty, row.get_ref(i).unwrap()) {
                (_, ValueRef::Null) => None,
                (FieldType::Bool, ValueRef::Integer(b)) => Some(format!("bool {}", b != 0)),
                (_, ValueRef::Integer(n)) => Some(format!("int {n}")),
                (_, ValueRef::Real(r)) => Some(format!("real {:x}", r.to_bits())),
                (_, ValueRef::Text(t)) => Some(format!("text {}", String::from_utf8_lossy(t))),
                (_, ValueRef::Blob(_)) => panic!("blob in {}.{}", entity.table, field.column),
            })
            .collect();
        out.push(values);
    }
    out
}

fn postgres_rows(client: &mut postgres::Client, entity: &Entity) -> Vec<Row> {
    // Dates and times are rendered by the server in the SQLite text forms.
    let columns: Vec<String> = entity
        .fields
        .iter()
        .map(|f| {
            let c = format!("\"{}\"", f.column);
            match f.ty {
                FieldType::Uuid => format!("{c}::text"),
                FieldType::Date => format!("to_char({c}, 'YYYY-MM-DD')"),
                FieldType::DateTime => {
                    format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
                }
                _ => c,
            }
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{}\" ORDER BY \"{}\"",
        columns.join(", "),
        entity.table,
        entity.key
    );
    client
        .query(&sql, &[])
        .unwrap()
        .iter()
        .map(|row| {
            entity
                .fields
                .iter()
                .enumerate()
                .map(|(i, field)| match &field.ty {
                    FieldType::Bool => row.get::<_, Option<bool>>(i).map(|b| format!("bool {b}")),
                    FieldType::Integer | FieldType::Choice(_) => {
                        row.get::<_, Option<i64>>(i).map(|n| format!("int {n}"))
                    }
                    FieldType::Decimal => row
                        .get::<_, Option<f64>>(i)
                        .map(|r| format!("real {:x}", r.to_bits())),
                    _ => row.get::<_, Option<String>>(i).map(|t| format!("text {t}")),
                })
                .collect()
        })
        .collect()
}

#[test]
fn copy_keeps_every_row_and_value() {
    let Some(pg) = TestPg::start() else { return };
    let mut sqlite = rusqlite::Connection::open_in_memory().unwrap();
    let now = Utc.with_ymd_and_hms(2025, 3, 1, 8, 30, 0).unwrap();
    let report = demo::generate_into(&mut sqlite, &DemoOptions::new(1500, 21, now)).unwrap();
    // Values only COPY's escaping protects.
    sqlite
        .execute(
            "UPDATE contact SET job_title = 'tab\there, back\\slash, new\nline, \\N' \
             WHERE rowid = 1",
            [],
        )
        .unwrap();
    let schema = crm_schema();
    let mut client = pg.client();
    demo::copy_sqlite_to_postgres(&sqlite, &mut client, &schema).unwrap();

    for entity in &schema.entities {
        let expected = sqlite_rows(&sqlite, entity);
        let copied = postgres_rows(&mut client, entity);
        assert_eq!(copied.len(), expected.len(), "{} row count", entity.table);
        for (a, b) in expected.iter().zip(&copied) {
            assert_eq!(a, b, "{} row differs", entity.table);
        }
    }
    let leads: i64 = client
        .query_one("SELECT count(*) FROM lead", &[])
        .unwrap()
        .get(0);
    assert_eq!(leads as usize, report.leads);
}

#[test]
fn postgres_layout_uses_the_spec_types() {
    let Some(pg) = TestPg::start() else { return };
    let schema = crm_schema();
    let mut client = pg.client();
    segql::demo::create_tables(&mut PostgresBackend::new(&mut client), &schema).unwrap();
    segql::demo::create_indexes(&mut PostgresBackend::new(&mut client), &schema).unwrap();
    for entity in &schema.entities {
        for field in &entity.fields {
            let row = client
                .query_one(
                    // regtype spells the declared type the server's way
                    // (timestamptz is "timestamp with time zone").
                    "SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                     format_type($3::text::regtype::oid, NULL) \
                     FROM pg_attribute a WHERE a.attrelid = $1::text::regclass AND a.attname = $2::text",
                    &[&entity.table, &field.column, &segql::sql::Postgres.column_type(&field.ty)],
                )
                .unwrap_or_else(|e| panic!("{}.{}: {e}", entity.table, field.column));
            let ty: String = row.get(0);
            let not_null: bool = row.get(1);
            let expected: String = row.get(2);
            assert_eq!(ty, expected, "{}.{}", entity.table, field.column);
            assert_eq!(
                not_null, !field.nullable,
                "{}.{}",
                entity.table, field.column
            );
        }
    }
    let indexes: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%\\_idx'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(indexes, 5);
}

#[test]
fn copy_into_a_database_that_has_the_tables_fails_cleanly() {
    let Some(pg) = TestPg::start() else { return };
    let schema = crm_schema();
    let mut sqlite = rusqlite::Connection::open_in_memory().unwrap();
    demo::generate_into(&mut sqlite, &DemoOptions::new(10, 1, Utc::now())).unwrap();
    let mut client = pg.client();
    client.batch_execute("CREATE TABLE lead (x int)").unwrap();
    let err = demo::copy_sqlite_to_postgres(&sqlite, &mut client, &schema).unwrap_err();
    assert!(err.to_string().contains("lead"), "{err}");
    // Nothing was left half-created.
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
}
