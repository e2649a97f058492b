//! `segql import-leads` and `segql demo --leads-csv`: reports, exit codes
//! (0 done, 1 a bad file, 2 a file that cannot be read or a bad option),
//! dry runs, and a second import of the same list.

use std::path::Path;

use super::binary::{code, segql_at, stderr, stdout, NOW};

fn segql(args: &[&str]) -> std::process::Output {
    segql_at(None, args, "")
}

/// A 200-contact demo database and a 60-row list made from it, in `dir`.
fn demo_with_list(dir: &Path) -> (String, String) {
    let db = dir.join("crm.db").display().to_string();
    let csv = dir.join("leads.csv").display().to_string();
    let o = segql(&[
        "demo",
        "--out",
        &db,
        "--contacts",
        "200",
        "--leads-csv",
        &csv,
        "--leads-csv-rows",
        "60",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("60 leads (20 of open leads' email and topic, 20 of existing contacts, 20 of new people)"),
        "{}",
        stdout(&o)
    );
    (db, csv)
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).expect("JSON report")
}

#[test]
fn imports_a_list_then_a_second_import_only_updates() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = demo_with_list(dir.path());
    let before = std::fs::read(&db).unwrap();
    let dry = segql(&["import-leads", "--db", &db, "--now", NOW, "--dry-run", &csv]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert!(
        stdout(&dry).starts_with("dry run: nothing was written\nrows read:        60\n"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "a dry run wrote");

    let first = segql(&[
        "import-leads",
        "--db",
        &db,
        "--now",
        NOW,
        "--format",
        "json",
        &csv,
    ]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let r = json(&first);
    assert_eq!(r["format"], 1);
    assert_eq!(r["matching"], "email+topic");
    assert_eq!(r["rows_read"], 60);
    // Every row of open leads' email and topic updates its lead.
    assert_eq!(r["leads_updated"], 20);
    assert_eq!(r["leads_created"], 40);
    // Existing contacts' rows link to them; new people get new contacts,
    // the two rows of one person (the tenth) one contact.
    assert_eq!(r["contacts_linked"], 20);
    assert_eq!(r["contacts_created"], 19);
    assert_eq!(r["leads_linked_to_created"], 20);

    let again = segql(&[
        "import-leads",
        "--db",
        &db,
        "--now",
        NOW,
        "--format",
        "json",
        &csv,
    ]);
    let r = json(&again);
    assert_eq!(
        (r["leads_created"].as_u64(), r["leads_updated"].as_u64()),
        (Some(0), Some(60))
    );
    assert_eq!(
        (
            r["contacts_linked"].as_u64(),
            r["contacts_created"].as_u64()
        ),
        (Some(0), Some(0))
    );

    // The new leads are segment material at once.
    let o = segql(&[
        "run",
        "--db",
        &db,
        "--count",
        "contact where has lead(topic = \"Demo Expo 2026\" and source = \"Trade Show\")",
    ]);
    assert_eq!(stdout(&o).trim(), "39", "{}", stderr(&o));
}

#[test]
fn match_none_creates_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = demo_with_list(dir.path());
    let o = segql(&[
        "import-leads",
        "--db",
        &db,
        "--match",
        "none",
        "--format",
        "json",
        &csv,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(
        (r["leads_created"].as_u64(), r["leads_updated"].as_u64()),
        (Some(60), Some(0))
    );
}

#[test]
fn a_bad_row_exits_1_naming_line_column_and_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_with_list(dir.path());
    let before = std::fs::read(&db).unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        "email,topic,source\na@x.io,Expo,Web\nb@x.io,Expo,Trade Shw\n",
    )
    .unwrap();
    let o = segql(&["import-leads", "--db", &db, csv.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o).lines().next(),
        Some(
            "error: line 3, column source, value \"Trade Shw\": unknown label \"Trade Shw\" for lead.source; \
             did you mean \"Trade Show\"?; valid labels: \"Advertisement\", \"Employee Referral\", \
             \"External Referral\", \"Partner\", \"Public Relations\", \"Seminar\", \"Trade Show\", \
             \"Web\", \"Word of Mouth\", \"Other\""
        )
    );
    assert_eq!(stdout(&o), "");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    std::fs::write(&csv, "").unwrap();
    let o = segql(&["import-leads", "--db", &db, csv.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).starts_with("error: line 1: the file is empty"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unreadable_files_and_bad_options_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = demo_with_list(dir.path());
    let missing = dir.path().join("missing.csv");
    let o = segql(&["import-leads", "--db", &db, missing.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
    let o = segql(&["import-leads", "--db", &db, "--match", "topic", &csv]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("email+topic"), "{}", stderr(&o));
    let o = segql(&["import-leads", "--db", &db, "--now", "yesterday", &csv]);
    assert_eq!(code(&o), 2);
    let nowhere = dir.path().join("none.db");
    let o = segql(&["import-leads", "--db", nowhere.to_str().unwrap(), &csv]);
    assert_eq!(code(&o), 2);
}
