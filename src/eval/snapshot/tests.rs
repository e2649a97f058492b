//! A store through a snapshot file and back: every storage form, and every
//! damage to the file refused.

use std::io::Cursor;
use std::sync::Arc;

use uuid::Uuid;

use super::codec::{self, Header};
use super::identity::Validation;
use crate::eval::array::{as_bytes, AlignedBytes, Backing};
use crate::eval::load_sqlite::Needs;
use crate::eval::{Store, StoreBuilder};
use crate::plan::Value;
use crate::schema::crm_schema;

/// A store with every storage form: uuids, narrow and wide integers,
/// decimals, bools, dates, date-times, dictionary and plain text, NULLs,
/// and links.
fn store() -> Store {
    let schema = crm_schema();
    let mut b = StoreBuilder::new(&schema);
    let account = Uuid::from_u128(0xa0 << 100);
    b.insert(
        "account",
        [
            ("id", Value::Uuid(account)),
            ("annual_revenue", Value::Decimal(1.5e6)),
            ("employees", Value::Integer(1 << 40)),
        ],
    )
    .unwrap();
    for i in 0..600u128 {
        let id = Uuid::from_u128(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
        let mut values = vec![
            ("id", Value::Uuid(id)),
            ("email", Value::Text(format!("p{i}@exämple.org"))),
            (
                "city",
                Value::Text(["Oslo", "Paris", "Zürich"][i as usize % 3].into()),
            ),
            ("role", Value::Integer(i as i64 % 4 + 1)),
            ("do_not_email", Value::Bool(i % 5 == 0)),
        ];
        if i % 7 != 0 {
            let date = chrono::NaiveDate::from_ymd_opt(1950 + (i % 50) as i32, 1, 2).unwrap();
            values.push(("birth_date", Value::Date(date)));
            let time = chrono::DateTime::from_timestamp(1_700_000_000 + i as i64 * 3600, 0);
            values.push(("created_on", Value::DateTime(time.unwrap())));
            values.push(("account_id", Value::Uuid(account)));
        }
        b.insert("contact", values).unwrap();
        if i % 3 == 0 {
            let lead = Uuid::from_u128((i + 1) << 64);
            b.insert(
                "lead",
                [
                    ("id", Value::Uuid(lead)),
                    ("contact_id", Value::Uuid(id)),
                    ("score", Value::Integer(i as i64)),
                ],
            )
            .unwrap();
        }
    }
    b.build().unwrap()
}

/// Every table's rows spelled out, and every link.
fn contents(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for t in &store.tables {
        out.push(format!("{} key {} rows {}", t.entity, t.key_field, t.rows));
        for row in 0..t.rows {
            let mut line = format!("{} {row}:", t.entity);
            if let Some(keys) = &t.keys {
                line.push_str(&format!(" {:032x}", keys.keys()[row]));
            }
            for (name, column) in &t.columns {
                line.push_str(&format!(
                    " {name}:{}={}",
                    column.storage(),
                    column.render(row)
                ));
            }
            out.push(line);
        }
    }
    for l in &store.links {
        out.push(format!(
            "{} {} {} {} {:?}",
            l.relationship,
            l.child,
            l.parent,
            l.parents(),
            l.parent_of
        ));
    }
    out
}

/// The validation of a small database file.
fn validation() -> Validation {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(conn);
    Validation::of(
        &path,
        &crm_schema(),
        &Needs::of(None, &crm_schema()).unwrap(),
    )
    .unwrap()
}

fn written(store: &Store, validation: &Validation) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let needs = Needs::of(None, &crm_schema()).unwrap();
    codec::write(&mut out, validation, &needs, store).unwrap();
    out.into_inner()
}

fn read(bytes: &[u8]) -> Option<(Header, Store)> {
    let mut input = Cursor::new(bytes);
    let header = codec::read_header(&mut input, bytes.len() as u64)?;
    let file: Arc<dyn Backing> = Arc::new(AlignedBytes::copy_of(bytes));
    let store = codec::read_store(&file, &header)?;
    Some((header, store))
}

#[test]
fn a_store_comes_back_as_it_was_written() {
    let store = store();
    let validation = validation();
    let bytes = written(&store, &validation);
    let (header, back) = read(&bytes).expect("the snapshot reads back");
    assert_eq!(contents(&back), contents(&store));
    assert_eq!(header.validation, validation);
    assert_eq!(header.needs, Needs::of(None, &crm_schema()).unwrap());
    let forms: std::collections::BTreeSet<&str> = store
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(|(_, c)| c.storage()))
        .collect();
    for form in [
        "uuid",
        "i16",
        "i64",
        "f64",
        "bool",
        "date",
        "datetime",
        "text",
        "text-dict",
    ] {
        assert!(forms.contains(form), "{form} missing from {forms:?}");
    }
    assert!(!store.links.is_empty());
    // The read store answers like the written one.
    let plan = crate::plan(
        r#"contact where has lead(score > 100) and city = "Oslo" and email contains "ä""#,
        &crate::Options::new(&crm_schema()),
    )
    .unwrap();
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let want = crate::eval::evaluate(&plan, &store, now).unwrap();
    assert!(!want.is_empty());
    assert_eq!(crate::eval::evaluate(&plan, &back, now).unwrap(), want);
}

#[test]
fn every_cut_and_every_flipped_byte_is_refused() {
    let store = store();
    let bytes = written(&store, &validation());
    for len in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        assert!(read(&bytes[..len]).is_none(), "cut at {len}");
    }
    // Every byte of the prefix and header, every 31st of the data.
    let head_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let data = (48 + head_len..bytes.len()).step_by(31);
    for at in (0..48 + head_len).chain(data) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x04;
        assert!(read(&bad).is_none(), "byte {at} flipped");
    }
}

/// The snapshot of [`store`] written to a file in a fresh directory: the
/// directory (removed when dropped), the file's path and its bytes.
fn snapshot_file(store: &Store) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let bytes = written(store, &validation());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.snapshot");
    std::fs::write(&path, &bytes).unwrap();
    (dir, path, bytes)
}

#[test]
fn a_snapshot_file_is_mapped_and_its_columns_point_into_it() {
    let store = store();
    let (_dir, path, _) = snapshot_file(&store);
    let (reader, header) = super::open(&path).unwrap();
    let file = super::map(reader.get_ref()).unwrap();
    #[cfg(target_os = "linux")]
    {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(maps.contains(path.to_str().unwrap()), "the file is mapped");
    }
    // Removing the file leaves the mapping, and the store, whole.
    std::fs::remove_file(&path).unwrap();
    let back = codec::read_store(&file, &header).unwrap();
    assert_eq!(contents(&back), contents(&store));
    let range = file.bytes().as_ptr_range();
    let inside = |values: &[u8]| range.contains(&values.as_ptr());
    let contact = back.tables.iter().find(|t| t.entity == "contact").unwrap();
    assert!(inside(as_bytes(contact.keys.as_ref().unwrap().keys())));
    let mut shared = 0;
    for (_, column) in &contact.columns {
        use crate::eval::column::{ColumnData, Ints, Text};
        shared += match &column.data {
            ColumnData::Uuid(v) => inside(as_bytes(v)),
            ColumnData::Int(Ints::I8(v)) => inside(as_bytes(v)),
            ColumnData::Int(Ints::I16(v)) => inside(as_bytes(v)),
            ColumnData::Text(Text::Plain { offsets, bytes, .. }) => {
                inside(as_bytes(offsets)) && inside(bytes)
            }
            ColumnData::Text(Text::Dict { codes, .. }) => inside(as_bytes(codes)),
            _ => continue,
        } as usize;
    }
    assert!(shared >= 4, "{shared} columns point into the file");
    let links = back.links.iter().filter(|l| !l.parent_of.is_empty());
    assert!(links.clone().count() > 0);
    assert!(links.into_iter().all(|l| inside(as_bytes(&l.parent_of))));
}

#[test]
fn a_snapshot_file_that_cannot_be_mapped_is_read_whole_alike() {
    let store = store();
    let (_dir, path, bytes) = snapshot_file(&store);
    let (reader, header) = super::open(&path).unwrap();
    // `open` has read the header: the whole file is read from its start.
    let file = super::read_whole(reader.get_ref()).unwrap();
    assert_eq!(file.bytes(), &bytes[..]);
    let back = codec::read_store(&file, &header).unwrap();
    assert_eq!(contents(&back), contents(&store));
}
