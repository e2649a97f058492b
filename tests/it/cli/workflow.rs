//! The sales-driven workflow of the README, end to end through the command
//! line: demo data, a segment that cannot see orphaned leads, `link-orphans`,
//! the same segment reaching them, and `update` clearing `marketing_only`.

use std::process::{Command, Output};

const NOW: &str = "2026-01-15T12:00:00Z";

fn segql(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .output()
        .expect("segql runs");
    assert!(
        output.status.success(),
        "segql {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn count(db: &str, query: &str) -> usize {
    let out = segql(&["run", "--db", db, "--now", NOW, "--count", query]);
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count")
}

#[test]
fn orphaned_leads_become_reachable_and_qualified_contacts_leave_marketing_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crm.db");
    let db = db.to_str().expect("utf8 path");
    segql(&["demo", "--out", db, "--contacts", "1000", "--now", NOW]);

    let qualified = r#"contact where has lead(status = "Qualified")"#;
    let orphans = count(db, "lead where contact_id is null");
    let orphans_with_email = count(
        db,
        r#"lead where contact_id is null and email is not null and not email = """#,
    );
    assert!(
        orphans > 0 && orphans_with_email > 0,
        "the demo data has orphaned leads"
    );
    let reached_before = count(db, qualified);

    let dry = segql(&["link-orphans", "--db", db, "--dry-run", "--now", NOW]);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("nothing was written"));
    assert_eq!(
        count(db, "lead where contact_id is null"),
        orphans,
        "a dry run writes nothing"
    );

    let report = segql(&["link-orphans", "--db", db, "--format", "json", "--now", NOW]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json report");
    let linked = report["linked_to_existing"].as_u64().expect("count")
        + report["leads_linked_to_created"].as_u64().expect("count");
    let skipped = report["skipped_without_email"].as_u64().expect("count");
    assert_eq!((linked + skipped) as usize, orphans);
    assert_eq!(count(db, "lead where contact_id is null"), skipped as usize);
    assert_eq!(
        count(
            db,
            "contact where marketing_only and created_on = 2026-01-15T12:00:00Z"
        ),
        report["contacts_created"].as_u64().expect("count") as usize
    );
    assert!(
        count(db, qualified) >= reached_before,
        "linking only adds reach"
    );

    let again = segql(&["link-orphans", "--db", db, "--format", "json", "--now", NOW]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json report");
    assert_eq!(
        again["links"].as_array().map(Vec::len),
        Some(0),
        "a second run changes nothing"
    );

    let promote = r#"contact where marketing_only and has lead(status = "Qualified")"#;
    let to_promote = count(db, promote);
    let out = segql(&[
        "update",
        "--db",
        db,
        "--set",
        "marketing_only=false",
        promote,
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!("changed {to_promote} of {to_promote}")),
        "{text}"
    );
    assert_eq!(count(db, promote), 0);
    let out = segql(&[
        "update",
        "--db",
        db,
        "--set",
        "marketing_only=false",
        promote,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("changed 0 of 0"));
}
