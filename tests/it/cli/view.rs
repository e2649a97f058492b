//! `segql view` from the command line (SPEC §7): the table and JSON
//! reports, replacing, `--dry-run`, `--guard`, `--drop`, and the exit codes
//! of refusals (2: a table's name, a view other views read, a missing view,
//! an invalid name, no `--db`) and of query errors (1), on SQLite and
//! PostgreSQL.

use std::process::Output;

use super::run::{code, demo, segql, stderr, stdout};

fn ok(o: &Output) -> String {
    assert_eq!(code(o), 0, "{}", stderr(o));
    stdout(o)
}

/// The failure's standard error, after checking its exit code.
fn fails(o: &Output, exit: i32) -> String {
    assert_eq!(
        code(o),
        exit,
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    assert!(stdout(o).is_empty(), "{}", stdout(o));
    stderr(o)
}

/// `segql run --count` of `query` (and `extra` options) on `db`.
fn run_count(db: &str, query: &str, extra: &[&str]) -> u64 {
    let mut args = vec!["run", "--db", db, "--count"];
    args.extend_from_slice(extra);
    args.push(query);
    ok(&segql(&args)).trim().parse().expect("a count")
}

/// The number of rows of view `name` in the SQLite file `db`, or the error.
fn rows_of(db: &str, name: &str) -> Result<u64, String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM \"{name}\""), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
    .map_err(|e| e.to_string())
}

const SALES: &str = "contact where not marketing_only";
/// Relative to the date only, so the view (the database's clock) and `run`
/// (the current time) agree but across a UTC midnight.
const BORN: &str = "contact where birth_date < today - 12000d";

#[test]
fn a_view_is_created_replaced_and_dropped_with_its_row_count() {
    let (_dir, db) = demo();
    let sales = run_count(&db, SALES, &[]);
    let out = ok(&segql(&["view", "--db", &db, "sales_contact", SALES]));
    assert_eq!(
        out,
        format!("created view sales_contact ({sales} rows now)\n")
    );
    assert_eq!(rows_of(&db, "sales_contact"), Ok(sales));

    let born = run_count(&db, BORN, &[]);
    let out = ok(&segql(&["view", "--db", &db, "sales_contact", BORN]));
    assert_eq!(
        out,
        format!("replaced view sales_contact ({born} rows now)\n")
    );
    assert_eq!(rows_of(&db, "sales_contact"), Ok(born));
    assert_ne!(born, sales);

    let out = ok(&segql(&["view", "--db", &db, "--drop", "sales_contact"]));
    assert_eq!(out, "dropped view sales_contact\n");
    assert!(rows_of(&db, "sales_contact").is_err());
}

#[test]
fn json_reports_dry_runs_guards_and_query_files() {
    let (dir, db) = demo();
    let guarded = run_count(&db, "contact", &["--guard", "email"]);
    let o = segql(&[
        "view",
        "--db",
        &db,
        "--guard",
        "email",
        "--format",
        "json",
        "marketing_contact",
        "contact",
    ]);
    let report: serde_json::Value = serde_json::from_str(&ok(&o)).expect("JSON");
    assert_eq!(
        report,
        serde_json::json!({
            "format": 1,
            "view": "marketing_contact",
            "action": "created",
            "rows": guarded,
            "dry_run": false
        })
    );
    assert_eq!(rows_of(&db, "marketing_contact"), Ok(guarded));

    // A dry run says what it would do and writes nothing.
    let all = run_count(&db, "contact", &[]);
    let out = ok(&segql(&[
        "view",
        "--db",
        &db,
        "--dry-run",
        "marketing_contact",
        "contact",
    ]));
    assert_eq!(
        out,
        format!("dry run: would replace view marketing_contact ({all} rows now)\n")
    );
    assert_eq!(rows_of(&db, "marketing_contact"), Ok(guarded));
    let out = ok(&segql(&[
        "view",
        "--db",
        &db,
        "--dry-run",
        "--drop",
        "marketing_contact",
    ]));
    assert_eq!(out, "dry run: would drop view marketing_contact\n");
    assert_eq!(rows_of(&db, "marketing_contact"), Ok(guarded));

    // The query from a file.
    let file = dir.path().join("sales.segql");
    std::fs::write(&file, SALES).unwrap();
    let path = file.to_str().unwrap();
    ok(&segql(&["view", "--db", &db, "sales_contact", "-f", path]));
    assert_eq!(
        rows_of(&db, "sales_contact"),
        Ok(run_count(&db, SALES, &[]))
    );
}

#[test]
fn refusals_exit_2_with_a_clear_message_and_change_nothing() {
    let (_dir, db) = demo();
    let contacts = rows_of(&db, "contact").unwrap();
    let err = fails(&segql(&["view", "--db", &db, "contact", SALES]), 2);
    assert!(
        err.contains("'contact' is a table, not a view") && err.contains("choose another name"),
        "{err}"
    );
    let err = fails(&segql(&["view", "--db", &db, "--drop", "lead"]), 2);
    assert!(err.contains("'lead' is a table, not a view"), "{err}");
    assert_eq!(rows_of(&db, "contact"), Ok(contacts));

    let err = fails(&segql(&["view", "--db", &db, "--drop", "sales_contact"]), 2);
    assert!(
        err.contains("there is no view 'sales_contact' to drop"),
        "{err}"
    );

    for bad in ["1st", "sales-contact", "x; DROP TABLE contact"] {
        let err = fails(&segql(&["view", "--db", &db, bad, SALES]), 2);
        assert!(err.contains("invalid view name"), "{err}");
    }

    ok(&segql(&["view", "--db", &db, "sales_contact", SALES]));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE VIEW sales_email AS SELECT email FROM sales_contact")
        .unwrap();
    let err = fails(
        &segql(&["view", "--db", &db, "sales_contact", "contact"]),
        2,
    );
    assert!(
        err.contains("cannot replace view 'sales_contact': the view sales_email reads it"),
        "{err}"
    );
    let err = fails(&segql(&["view", "--db", &db, "--drop", "sales_contact"]), 2);
    assert!(err.contains("cannot drop view 'sales_contact'"), "{err}");
    assert_eq!(
        rows_of(&db, "sales_contact"),
        Ok(run_count(&db, SALES, &[]))
    );

    // Usage: no --db, a query with --drop, no query.
    fails(&segql(&["view", "sales_contact", SALES]), 2);
    fails(&segql(&["view", "--db", &db, "--drop", "x", SALES]), 2);
    fails(&segql(&["view", "--db", &db, "x"]), 2);
}

#[test]
fn a_query_error_exits_1_with_a_caret_and_makes_no_view() {
    let (_dir, db) = demo();
    let err = fails(
        &segql(&["view", "--db", &db, "bad_view", "contact where rol = 1"]),
        1,
    );
    assert!(
        err.contains("unknown field 'rol'") && err.contains("contact where rol = 1"),
        "{err}"
    );
    assert!(rows_of(&db, "bad_view").is_err());
}

#[test]
fn on_postgres_views_are_created_refused_and_dropped_alike() {
    let Some(pg) = crate::support::pg::TestPg::start() else {
        return;
    };
    let (_dir, db) = demo();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(
        &rusqlite::Connection::open(&db).unwrap(),
        &mut client,
        &segql::schema::crm_schema(),
    )
    .unwrap();
    let url = pg.url();
    let sales = run_count(&db, SALES, &[]);
    let out = ok(&segql(&["view", "--db", &url, "sales_contact", SALES]));
    assert_eq!(
        out,
        format!("created view sales_contact ({sales} rows now)\n")
    );
    let born = run_count(&db, BORN, &[]);
    let out = ok(&segql(&["view", "--db", &url, "sales_contact", BORN]));
    assert_eq!(
        out,
        format!("replaced view sales_contact ({born} rows now)\n")
    );

    let err = fails(&segql(&["view", "--db", &url, "contact", SALES]), 2);
    assert!(err.contains("'contact' is a table, not a view"), "{err}");
    client
        .batch_execute("CREATE VIEW sales_email AS SELECT email FROM sales_contact")
        .unwrap();
    let err = fails(&segql(&["view", "--db", &url, "sales_contact", SALES]), 2);
    assert!(
        err.contains("cannot replace view 'sales_contact': the view sales_email reads it"),
        "{err}"
    );
    let err = fails(
        &segql(&["view", "--db", &url, "--drop", "sales_contact"]),
        2,
    );
    assert!(err.contains("cannot drop view 'sales_contact'"), "{err}");
    let err = fails(
        &segql(&[
            "view",
            "--db",
            &url,
            "nul_view",
            "contact where city = \"a\\u{0}b\"",
        ]),
        1,
    );
    assert!(err.contains("U+0000"), "{err}");

    client.batch_execute("DROP VIEW sales_email").unwrap();
    ok(&segql(&["view", "--db", &url, "--drop", "sales_contact"]));
    let gone: bool = client
        .query_one("SELECT to_regclass('sales_contact') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(gone);
    let err = fails(
        &segql(&["view", "--db", &url, "--drop", "sales_contact"]),
        2,
    );
    assert!(err.contains("there is no view 'sales_contact'"), "{err}");
}
