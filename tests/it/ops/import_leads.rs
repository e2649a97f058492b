//! `import-leads` (SPEC §7) through the library, on SQLite and PostgreSQL:
//! each matching rule, merged and partial updates, `created_on`, contacts
//! by the rules of §5, dry runs, repeated imports, and every kind of bad
//! file, which must name its line, column and value and write nothing.
//!
//! Each scenario is written once against [`Db`] and run on both databases.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use segql::db::{PostgresBackend, SqliteBackend};
use segql::ops::{import_leads, ImportOptions, ImportReport, MatchMode};
use segql::schema::crm_schema;
use segql::Error;

use crate::support::ops::{
    contact, dump_postgres, dump_sqlite, id, lead, load_postgres, sqlite, Fixture,
};
use crate::support::pg::TestPg;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

const NOW_TEXT: &str = "2025-06-01T12:00:00Z";

/// A database a scenario runs on.
trait Db {
    fn import(
        &mut self,
        csv: &str,
        matching: MatchMode,
        dry_run: bool,
    ) -> segql::Result<ImportReport>;
    fn import_bytes(&mut self, csv: &[u8]) -> segql::Result<ImportReport>;
    fn exec(&mut self, sql: &str);
    /// Rows of a query whose columns are all cast to text.
    fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>>;
    /// Every row of every table, to prove nothing changed.
    fn snapshot(&mut self) -> String;
}

fn options(matching: MatchMode, dry_run: bool) -> ImportOptions {
    ImportOptions {
        dry_run,
        now: now(),
        matching,
        progress: false,
    }
}

struct Sqlite(Connection);

impl Db for Sqlite {
    fn import(
        &mut self,
        csv: &str,
        matching: MatchMode,
        dry_run: bool,
    ) -> segql::Result<ImportReport> {
        import_leads(
            &mut SqliteBackend::new(&self.0),
            &crm_schema(),
            csv.as_bytes(),
            &options(matching, dry_run),
        )
    }
    fn import_bytes(&mut self, csv: &[u8]) -> segql::Result<ImportReport> {
        import_leads(
            &mut SqliteBackend::new(&self.0),
            &crm_schema(),
            csv,
            &options(MatchMode::EmailTopic, false),
        )
    }
    fn exec(&mut self, sql: &str) {
        self.0.execute_batch(sql).unwrap();
    }
    fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        let mut stmt = self.0.prepare(sql).unwrap();
        let width = stmt.column_count();
        stmt.query_map([], |r| {
            (0..width).map(|i| r.get::<_, Option<String>>(i)).collect()
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }
    fn snapshot(&mut self) -> String {
        format!("{:?}", dump_sqlite(&self.0))
    }
}

struct Pg {
    client: postgres::Client,
    _pg: TestPg,
}

impl Db for Pg {
    fn import(
        &mut self,
        csv: &str,
        matching: MatchMode,
        dry_run: bool,
    ) -> segql::Result<ImportReport> {
        import_leads(
            &mut PostgresBackend::new(&mut self.client),
            &crm_schema(),
            csv.as_bytes(),
            &options(matching, dry_run),
        )
    }
    fn import_bytes(&mut self, csv: &[u8]) -> segql::Result<ImportReport> {
        import_leads(
            &mut PostgresBackend::new(&mut self.client),
            &crm_schema(),
            csv,
            &options(MatchMode::EmailTopic, false),
        )
    }
    fn exec(&mut self, sql: &str) {
        self.client.batch_execute(sql).unwrap();
    }
    fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.client
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.get::<_, Option<String>>(i))
                    .collect()
            })
            .collect()
    }
    fn snapshot(&mut self) -> String {
        format!("{:?}", dump_postgres(&mut self.client))
    }
}

/// Existing data of the scenarios: contacts 1 (ann, not marketing-only)
/// and 2 (bob), and open leads 10..=13 whose emails and topics the
/// scenarios set.
fn fixture() -> Fixture {
    Fixture {
        accounts: vec![],
        contacts: vec![
            contact(1, Some("ann@x.io"), false, Some("2020-01-01T00:00:00Z")),
            contact(2, Some("bob@x.io"), false, Some("2020-01-01T00:00:00Z")),
        ],
        leads: vec![
            lead(10, Some("Ann@X.io"), Some("2024-02-01T00:00:00Z")),
            lead(11, Some("ann@x.io"), Some("2024-01-01T00:00:00Z")),
            lead(12, Some(" ann@x.io"), Some("2024-01-01T00:00:00Z")),
            lead(13, Some("ann@x.io"), None),
        ],
    }
}

/// Every scenario on a fresh SQLite database of [`fixture`].
fn on_sqlite(scenario: fn(&mut dyn Db)) {
    let mut db = Sqlite(sqlite(&fixture()));
    scenario(&mut db);
}

/// Every scenario on a fresh PostgreSQL database of [`fixture`] (skipped
/// when no server is installed, outside CI).
fn on_postgres(scenario: fn(&mut dyn Db)) {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    load_postgres(&mut client, &fixture());
    let mut db = Pg { client, _pg: pg };
    scenario(&mut db);
}

fn one(db: &mut dyn Db, sql: &str) -> Option<String> {
    db.rows(sql)
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
}

fn count(db: &mut dyn Db, sql: &str) -> u64 {
    one(db, sql).and_then(|t| t.parse().ok()).expect("a count")
}

fn leads(db: &mut dyn Db) -> u64 {
    count(db, "SELECT CAST(count(*) AS TEXT) FROM lead")
}

fn created_updated(r: &ImportReport) -> (u64, u64, u64) {
    (r.rows_read, r.leads_created, r.leads_updated)
}

/// Lead `n`'s column, as text.
fn lead_cell(db: &mut dyn Db, n: u64, column: &str) -> Option<String> {
    one(
        db,
        &format!(
            "SELECT CAST({column} AS TEXT) FROM lead WHERE id = '{}'",
            id(n)
        ),
    )
}

/// A stored bool (or comparison) as text is true: `1` in SQLite, `true`
/// in PostgreSQL.
fn is_true(text: Option<String>) -> bool {
    matches!(text.as_deref(), Some("1") | Some("true"))
}

// Matching rules.

/// Several open leads share email and topic: the earliest `created_on`
/// wins (10 is later, 13 has none), then the smallest id (11 before 12).
fn email_topic_updates_the_best_open_lead(db: &mut dyn Db) {
    db.exec("UPDATE lead SET topic = 'Expo'");
    let r = db
        .import(
            "email,topic,source\n  ANN@x.IO ,Expo,Web\n",
            MatchMode::EmailTopic,
            false,
        )
        .unwrap();
    assert_eq!(created_updated(&r), (1, 0, 1));
    assert_eq!(lead_cell(db, 11, "source").as_deref(), Some("8"));
    for other in [10, 12, 13] {
        assert_eq!(lead_cell(db, other, "source"), None, "lead {other}");
    }
    // The same email with another topic is another lead; topics are exact.
    let r = db
        .import("email,topic\nann@x.io,expo\n", MatchMode::EmailTopic, false)
        .unwrap();
    assert_eq!(created_updated(&r), (1, 1, 0));
}

#[test]
fn email_topic_updates_the_best_open_lead_sqlite() {
    on_sqlite(email_topic_updates_the_best_open_lead);
}

#[test]
fn email_topic_updates_the_best_open_lead_postgres() {
    on_postgres(email_topic_updates_the_best_open_lead);
}

fn email_matches_on_email_alone(db: &mut dyn Db) {
    let r = db
        .import(
            "email,topic\nann@x.io,Brand new topic\n",
            MatchMode::Email,
            false,
        )
        .unwrap();
    assert_eq!(created_updated(&r), (1, 0, 1));
    assert_eq!(
        lead_cell(db, 11, "topic").as_deref(),
        Some("Brand new topic")
    );
    assert_eq!(leads(db), 4);
}

#[test]
fn email_matches_on_email_alone_sqlite() {
    on_sqlite(email_matches_on_email_alone);
}

#[test]
fn email_matches_on_email_alone_postgres() {
    on_postgres(email_matches_on_email_alone);
}

fn none_always_creates(db: &mut dyn Db) {
    let r = db
        .import(
            "email,topic\nann@x.io,Topic\nann@x.io,Topic\n",
            MatchMode::None,
            false,
        )
        .unwrap();
    assert_eq!(created_updated(&r), (2, 2, 0));
    assert_eq!(leads(db), 6);
}

#[test]
fn none_always_creates_sqlite() {
    on_sqlite(none_always_creates);
}

#[test]
fn none_always_creates_postgres() {
    on_postgres(none_always_creates);
}

/// Without an email (or, for email+topic, a topic) a row never matches,
/// not even a lead made by an earlier row of the file.
fn rows_without_email_or_topic_never_match(db: &mut dyn Db) {
    db.exec("UPDATE lead SET topic = NULL WHERE id <> '00000000-0000-4000-8000-00000000000b'");
    let csv = "email,topic\n,Topic\n,Topic\nann@x.io,\nann@x.io,\n";
    let r = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(created_updated(&r), (4, 4, 0));
    let r = db.import("email\n\n \nann@x.io\n", MatchMode::Email, false);
    // Blank lines are no rows; "ann@x.io" matches by email alone.
    assert_eq!(created_updated(&r.unwrap()), (1, 0, 1));
}

#[test]
fn rows_without_email_or_topic_never_match_sqlite() {
    on_sqlite(rows_without_email_or_topic_never_match);
}

#[test]
fn rows_without_email_or_topic_never_match_postgres() {
    on_postgres(rows_without_email_or_topic_never_match);
}

/// Qualified and disqualified leads are closed: not matched. A lead with
/// no status is open.
fn closed_leads_are_not_matched(db: &mut dyn Db) {
    db.exec(
        "UPDATE lead SET status = 1 WHERE id IN ('00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'); \
         UPDATE lead SET status = 2 WHERE id = '00000000-0000-4000-8000-00000000000c'; \
         UPDATE lead SET status = NULL WHERE id = '00000000-0000-4000-8000-00000000000d'",
    );
    let r = db
        .import(
            "email,topic,score\nann@x.io,Topic,5\n",
            MatchMode::EmailTopic,
            false,
        )
        .unwrap();
    assert_eq!(created_updated(&r), (1, 0, 1));
    assert_eq!(lead_cell(db, 13, "score").as_deref(), Some("5"));
    db.exec("UPDATE lead SET status = 1");
    let r = db
        .import(
            "email,topic,score\nann@x.io,Topic,6\n",
            MatchMode::EmailTopic,
            false,
        )
        .unwrap();
    assert_eq!(created_updated(&r), (1, 1, 0));
}

#[test]
fn closed_leads_are_not_matched_sqlite() {
    on_sqlite(closed_leads_are_not_matched);
}

#[test]
fn closed_leads_are_not_matched_postgres() {
    on_postgres(closed_leads_are_not_matched);
}

/// Rows with the same new key: the first creates the lead, the later ones
/// update it (a later non-empty cell wins, an empty one erases nothing);
/// a row that closes it leaves the next row to create another.
fn later_rows_match_a_lead_an_earlier_row_created(db: &mut dyn Db) {
    let csv = "email,topic,first_name,company_name,score,status\n\
               new@x.io,Expo,Nina,Acme,1,\n\
               NEW@x.io,Expo,,Contoso,,\n\
               new@x.io,Expo,,,3,Qualified\n\
               new@x.io,Expo,Nora,,,\n";
    let r = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(created_updated(&r), (4, 2, 0));
    let rows = db.rows(
        "SELECT first_name, company_name, CAST(score AS TEXT), CAST(status AS TEXT), email \
         FROM lead WHERE topic = 'Expo' ORDER BY status",
    );
    let s = |v: &str| Some(v.to_string());
    let mut rows = rows;
    rows.sort();
    assert_eq!(
        rows,
        vec![
            vec![s("Nina"), s("Contoso"), s("3"), s("1"), s("new@x.io")],
            vec![s("Nora"), None, None, None, s("new@x.io")],
        ]
    );
    // Both share one new contact (same email).
    assert_eq!(r.contacts_created, 1);
    assert_eq!(r.leads_linked_to_created, 2);
}

#[test]
fn later_rows_match_a_lead_an_earlier_row_created_sqlite() {
    on_sqlite(later_rows_match_a_lead_an_earlier_row_created);
}

#[test]
fn later_rows_match_a_lead_an_earlier_row_created_postgres() {
    on_postgres(later_rows_match_a_lead_an_earlier_row_created);
}

/// A match updates only the row's non-empty cells.
fn updates_only_non_empty_cells(db: &mut dyn Db) {
    let csv = "email,topic,first_name,last_name,estimated_value,sales_ready\n\
               ann@x.io,Topic,,Smith, 12.5 ,true\n";
    let r = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(created_updated(&r), (1, 0, 1));
    assert_eq!(lead_cell(db, 11, "first_name").as_deref(), Some("First11"));
    assert_eq!(lead_cell(db, 11, "last_name").as_deref(), Some("Smith"));
    assert_eq!(
        lead_cell(db, 11, "estimated_value").as_deref(),
        Some("12.5")
    );
    assert!(is_true(lead_cell(db, 11, "sales_ready")));
    // The email written is the row's (same when normalized).
    assert_eq!(lead_cell(db, 11, "email").as_deref(), Some("ann@x.io"));
}

#[test]
fn updates_only_non_empty_cells_sqlite() {
    on_sqlite(updates_only_non_empty_cells);
}

#[test]
fn updates_only_non_empty_cells_postgres() {
    on_postgres(updates_only_non_empty_cells);
}

/// New leads get `created_on` = the reference time unless the file gives
/// one (a date means midnight UTC); every lead gets a new v4 id.
fn created_on_defaults_to_now(db: &mut dyn Db) {
    let csv = "email,topic,created_on\na@new.io,T,\nb@new.io,T,2024-05-01\nc@new.io,T,2024-05-01T12:30:00+02:00\n";
    let r = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(created_updated(&r), (3, 3, 0));
    for (email, when) in [
        ("a@new.io", NOW_TEXT),
        ("b@new.io", "2024-05-01T00:00:00Z"),
        ("c@new.io", "2024-05-01T10:30:00Z"),
    ] {
        assert_eq!(
            count(
                db,
                &format!(
                    "SELECT CAST(count(*) AS TEXT) FROM lead WHERE email = '{email}' AND created_on = '{when}'"
                )
            ),
            1,
            "{email}"
        );
    }
    let ids = db.rows("SELECT CAST(id AS TEXT) FROM lead WHERE email LIKE '%@new.io'");
    for row in ids {
        let id = uuid::Uuid::parse_str(row[0].as_deref().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4);
    }
}

#[test]
fn created_on_defaults_to_now_sqlite() {
    on_sqlite(created_on_defaults_to_now);
}

#[test]
fn created_on_defaults_to_now_postgres() {
    on_postgres(created_on_defaults_to_now);
}

/// Imported leads get contacts by SPEC §5: an existing contact with the
/// email, else one new marketing-only contact per email, shared.
fn imported_leads_get_contacts(db: &mut dyn Db) {
    let csv = "email,topic,first_name,last_name\n\
               BOB@x.io ,Expo,Bob,B\n\
               zoe@new.io,Expo,Zoe,Z\n\
               Zoe@New.io,Fair,Zoe,Z\n\
               ,Fair,No,Email\n";
    let r = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(created_updated(&r), (4, 4, 0));
    assert_eq!(
        (
            r.contacts_linked,
            r.contacts_created,
            r.leads_linked_to_created,
            r.skipped_without_email
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(
        one(
            db,
            "SELECT CAST(contact_id AS TEXT) FROM lead WHERE first_name = 'Bob'"
        ),
        Some(id(2))
    );
    let zoe =
        db.rows("SELECT DISTINCT CAST(contact_id AS TEXT) FROM lead WHERE first_name = 'Zoe'");
    assert_eq!(zoe.len(), 1, "one shared contact");
    let contact = zoe[0][0].clone().expect("linked");
    // Made from one of the two leads (the earliest; both are created now,
    // so the smaller id): its name and email.
    let made = &db.rows(&format!(
        "SELECT first_name, email FROM contact WHERE id = '{contact}'"
    ))[0];
    assert_eq!(made[0].as_deref(), Some("Zoe"));
    assert!(
        matches!(made[1].as_deref(), Some("zoe@new.io") | Some("Zoe@New.io")),
        "{made:?}"
    );
    let row = &db.rows(&format!(
        "SELECT CAST(marketing_only AS TEXT), CAST(created_on = '{NOW_TEXT}' AS TEXT) FROM contact WHERE id = '{contact}'"
    ))[0];
    assert!(is_true(row[0].clone()), "marketing-only");
    assert!(is_true(row[1].clone()), "created now");
    // The orphaned leads of the fixture are none of the import's business.
    assert_eq!(
        count(db, "SELECT CAST(count(*) AS TEXT) FROM lead WHERE lower(email) LIKE '%ann@x.io' AND contact_id IS NULL"),
        4
    );
}

#[test]
fn imported_leads_get_contacts_sqlite() {
    on_sqlite(imported_leads_get_contacts);
}

#[test]
fn imported_leads_get_contacts_postgres() {
    on_postgres(imported_leads_get_contacts);
}

/// A dry run reports what a run does and writes nothing; a second
/// identical import updates the leads the first created and creates none.
fn dry_run_then_run_then_again(db: &mut dyn Db) {
    let csv = "email,topic,source\nann@x.io,Topic,Trade Show\nnew@x.io,Expo,Web\nbob@x.io,Fair,\n";
    let before = db.snapshot();
    let dry = db.import(csv, MatchMode::EmailTopic, true).unwrap();
    assert!(dry.dry_run);
    assert_eq!(db.snapshot(), before, "a dry run wrote something");
    let real = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(
        ImportReport {
            dry_run: false,
            ..dry.clone()
        },
        real
    );
    assert_eq!(created_updated(&real), (3, 2, 1));
    let again = db.import(csv, MatchMode::EmailTopic, false).unwrap();
    assert_eq!(created_updated(&again), (3, 0, 3));
    assert_eq!((again.contacts_created, again.contacts_linked), (0, 0));
    // The first import's updated lead was an orphan: it got ann's contact.
    assert_eq!(lead_cell(db, 11, "contact_id"), Some(id(1)));
}

#[test]
fn dry_run_then_run_then_again_sqlite() {
    on_sqlite(dry_run_then_run_then_again);
}

#[test]
fn dry_run_then_run_then_again_postgres() {
    on_postgres(dry_run_then_run_then_again);
}

// Bad files: each names its line, column and value, and writes nothing.

/// The import of `csv` fails with a [`Error::BadImportRow`] at `line`,
/// `column`, `value` whose text says `says`; the database is unchanged.
fn refused(db: &mut dyn Db, csv: &[u8], line: u64, column: &str, value: &str, says: &str) {
    let before = db.snapshot();
    let err = db.import_bytes(csv).unwrap_err();
    let Error::BadImportRow {
        line: l,
        column: c,
        value: v,
        ..
    } = &err
    else {
        panic!("not a row error: {err:?}");
    };
    assert_eq!((*l, c.as_str(), v.as_str()), (line, column, value), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("line {line}")), "{text}");
    if !column.is_empty() {
        assert!(
            text.contains(&format!("column {column}, value \"{value}\"")),
            "{text}"
        );
    }
    assert!(text.contains(says), "{text}");
    assert_eq!(db.snapshot(), before, "a refused file wrote something");
}

fn bad_files_are_refused(db: &mut dyn Db) {
    refused(
        db,
        b"email,topik\na@x.io,T\n",
        1,
        "topik",
        "topik",
        "did you mean 'topic'? valid columns: topic, first_name",
    );
    refused(
        db,
        b"email,score\na@x.io,12\nb@x.io,twelve\n",
        3,
        "score",
        "twelve",
        "lead.score is an integer",
    );
    refused(
        db,
        b"email,status\na@x.io,Opne\n",
        2,
        "status",
        "Opne",
        "did you mean \"Open\"?; valid labels: \"Open\", \"Qualified\", \"Disqualified\"",
    );
    refused(
        db,
        b"email,created_on\na@x.io,2024-02-30\n",
        2,
        "created_on",
        "2024-02-30",
        "is a date-time",
    );
    refused(
        db,
        b"email,topic,score\na@x.io,T,1\nb@x.io,T\n",
        3,
        "score",
        "",
        "the row has 2 cells but the header has 3 columns",
    );
    refused(
        db,
        b"email,topic\na@x.io,T,extra\n",
        2,
        "#3",
        "extra",
        "the row has 3 cells",
    );
    refused(
        db,
        b"email,topic\na\xff@x.io,T\n",
        2,
        "email",
        "a\u{fffd}@x.io",
        "not UTF-8",
    );
    refused(db, b"", 1, "", "", "the file is empty");
    refused(db, b"\xEF\xBB\xBF\n", 1, "", "", "the file is empty");
    refused(db, b"id,email\n", 1, "id", "id", "key of lead");
}

#[test]
fn bad_files_are_refused_sqlite() {
    on_sqlite(bad_files_are_refused);
}

#[test]
fn bad_files_are_refused_postgres() {
    on_postgres(bad_files_are_refused);
}

/// A byte-order mark is not part of the first column's name; quoted cells
/// may hold commas and newlines; a header alone, or with rows of empty
/// cells only, imports nothing.
fn bom_quotes_and_header_only(db: &mut dyn Db) {
    let r = db
        .import_bytes(b"\xEF\xBB\xBFEmail,Topic\r\n\"q@x.io\",\"Fair, 2025\nhall B\"\r\n")
        .unwrap();
    assert_eq!(created_updated(&r), (1, 1, 0));
    assert_eq!(
        one(db, "SELECT topic FROM lead WHERE email = 'q@x.io'").as_deref(),
        Some("Fair, 2025\nhall B")
    );
    let r = db.import_bytes(b"email,topic\n").unwrap();
    assert_eq!(created_updated(&r), (0, 0, 0));
    let r = db.import_bytes(b"email,topic\n,\n , \n").unwrap();
    assert_eq!(created_updated(&r), (0, 0, 0));
}

#[test]
fn bom_quotes_and_header_only_sqlite() {
    on_sqlite(bom_quotes_and_header_only);
}

#[test]
fn bom_quotes_and_header_only_postgres() {
    on_postgres(bom_quotes_and_header_only);
}
