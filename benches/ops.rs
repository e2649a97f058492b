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
//!
//! Under `cargo test` (no `--bench` argument) it does the same on 200
//! contacts, times nothing, and checks what the reports say: a dry run
//! reports what the run then does, and a second run finds nothing to do.

mod common;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use segql::db::SqliteBackend;
use segql::demo::{generate_sqlite, DemoOptions};
use segql::ops::{link_orphans, parse_assignments, update, LinkOptions, UpdateOptions};
use segql::plan::{CmpOp, FieldRef, FieldTest, Plan, PlanExpr, Test, Value, ValueType};
use segql::schema::crm_schema;

/// A wall-clock stopwatch when benchmarking; under `cargo test`, nothing.
struct Stopwatch(Option<Instant>);

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch(common::benchmarking().then(Instant::now))
    }

    /// " in 1.23s" when benchmarking, else "".
    fn took(&self) -> String {
        match self.0 {
            Some(started) => format!(" in {:.2?}", started.elapsed()),
            None => String::new(),
        }
    }
}

fn main() {
    let contacts = common::size("SEGQL_BENCH_CONTACTS", 1_000_000, 200);
    // About 100,000 contacts when benchmarking; half of them in a test.
    let segment_size = if common::benchmarking() {
        100_000.0
    } else {
        contacts as f64 / 2.0
    };
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let schema = crm_schema();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("demo.db");

    let started = Stopwatch::start();
    let demo = generate_sqlite(&path, &DemoOptions::new(contacts, 1, now)).expect("demo");
    println!("demo: {demo:?}{}", started.took());

    let mut conn = rusqlite::Connection::open(&path).expect("open");
    let mut reports = Vec::new();
    for (label, dry_run) in [("dry run", true), ("run", false), ("second run", false)] {
        let started = Stopwatch::start();
        let report = link_orphans(
            &mut SqliteBackend::new(&mut conn),
            &schema,
            &LinkOptions { dry_run, now },
        )
        .expect("link-orphans");
        println!(
            "link-orphans {label}{}: linked to existing {}, contacts created {}, \
             linked to created {}, skipped {}",
            started.took(),
            report.linked_to_existing,
            report.contacts_created,
            report.leads_linked_to_created,
            report.skipped_without_email
        );
        reports.push(report);
    }
    // What a run did, but the ids of the contacts it creates (new each run).
    let outcome = |r: &segql::ops::LinkReport| {
        let leads: Vec<_> = r
            .links
            .iter()
            .map(|l| (l.lead_id, l.contact_created))
            .collect();
        (leads, r.contacts_created, r.skipped.clone())
    };
    assert!(
        !reports[0].links.is_empty(),
        "the demo data has orphaned leads"
    );
    assert_eq!(
        outcome(&reports[0]),
        outcome(&reports[1]),
        "the dry run foretells the run"
    );
    assert!(
        reports[2].links.is_empty(),
        "a second run finds nothing to link"
    );

    // Version-4 ids are uniform in their leading bits: ids below this
    // threshold are about `segment_size` of the contacts.
    let fraction = (segment_size / contacts.max(1) as f64).min(1.0);
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
    let mut reports = Vec::new();
    for (label, dry_run) in [("dry run", true), ("run", false), ("second run", false)] {
        let started = Stopwatch::start();
        let report = update(
            &mut SqliteBackend::new(&mut conn),
            &schema,
            &plan,
            &set,
            &UpdateOptions { dry_run, now },
        )
        .expect("update");
        println!(
            "update {label}{}: matched {}, changed {}",
            started.took(),
            report.matched,
            report.changed
        );
        reports.push(report);
    }
    let counts = |r: &segql::ops::UpdateReport| (r.matched, r.changed);
    assert!(reports[0].changed > 0, "the segment has contacts to change");
    assert_eq!(
        counts(&reports[0]),
        counts(&reports[1]),
        "the dry run foretells the run"
    );
    assert_eq!(
        reports[2].matched, reports[1].matched,
        "the segment is the same"
    );
    assert_eq!(reports[2].changed, 0, "a second run changes nothing");
}
