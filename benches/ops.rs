//! Timing of the data-changing operations on a demo database.
//!
//! `cargo bench --bench ops` builds with optimizations and prints wall-clock
//! figures (each operation changes its database, so it is timed once per
//! fresh copy rather than sampled in a loop):
//!
//! - generating the demo database (`SEGQL_BENCH_CONTACTS` contacts,
//!   default 1,000,000);
//! - `link-orphans` as a dry run, for real, and again (nothing left to do);
//! - `update` setting `city` on a segment of about 100,000 contacts (those
//!   whose id is below a threshold), as a dry run, for real, and again.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use segql::db::SqliteBackend;
use segql::demo::{generate_sqlite, DemoOptions};
use segql::ops::{link_orphans, parse_assignments, update, LinkOptions, UpdateOptions};
use segql::plan::{CmpOp, FieldRef, FieldTest, Plan, PlanExpr, Test, Value, ValueType};
use segql::schema::crm_schema;

const SEGMENT_SIZE: f64 = 100_000.0;

fn main() {
    let contacts: usize = std::env::var("SEGQL_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let schema = crm_schema();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("demo.db");

    let started = Instant::now();
    let demo = generate_sqlite(&path, &DemoOptions::new(contacts, 1, now)).expect("demo");
    println!("demo: {demo:?} in {:.2?}", started.elapsed());

    let mut conn = rusqlite::Connection::open(&path).expect("open");
    for (label, dry_run) in [("dry run", true), ("run", false), ("second run", false)] {
        let started = Instant::now();
        let report = link_orphans(
            &mut SqliteBackend::new(&mut conn),
            &schema,
            &LinkOptions { dry_run, now },
        )
        .expect("link-orphans");
        println!(
            "link-orphans {label}: {:.2?} (linked to existing {}, contacts created {}, \
             linked to created {}, skipped {})",
            started.elapsed(),
            report.linked_to_existing,
            report.contacts_created,
            report.leads_linked_to_created,
            report.skipped_without_email
        );
    }

    // Version-4 ids are uniform in their leading bits: ids below this
    // threshold are about SEGMENT_SIZE of the contacts.
    let fraction = (SEGMENT_SIZE / contacts.max(1) as f64).min(1.0);
    let threshold = uuid::Uuid::from_u128((u128::MAX as f64 * fraction) as u128);
    let plan = Plan {
        entity: "contact".into(),
        filter: PlanExpr::Field(FieldTest {
            field: FieldRef {
                entity: "contact".into(),
                field: "id".into(),
                ty: ValueType::Uuid,
            },
            test: Test::Compare {
                op: CmpOp::Lt,
                value: Value::Uuid(threshold),
            },
        }),
    };
    let set = parse_assignments("city=\"Benchmark\"", "contact", &schema).expect("assignments");
    for (label, dry_run) in [("dry run", true), ("run", false), ("second run", false)] {
        let started = Instant::now();
        let report = update(
            &mut SqliteBackend::new(&mut conn),
            &schema,
            &plan,
            &set,
            &UpdateOptions { dry_run, now },
        )
        .expect("update");
        println!(
            "update {label}: {:.2?} (matched {}, changed {})",
            started.elapsed(),
            report.matched,
            report.changed
        );
    }
}
