//! `ops::create_view` and `ops::drop_view` (SPEC §7) on SQLite and
//! PostgreSQL: a view's rows are exactly what `segql::run` finds for the
//! same segment, for every kind of literal, relative times read from the
//! database's clock included; hostile strings written into a view match
//! exactly and harm nothing; replacing and dropping; every refusal.
//!
//! The view reads the database's clock, `run` a reference time: the data's
//! date-times sit at least 14 minutes away from every `now - N h` or
//! `now - N d` boundary the queries draw (their minutes are set to the
//! test's start plus 15), so the seconds between making a view and running
//! the segment cannot matter; a check that straddles a UTC midnight (which
//! moves `today`) is done again.

use chrono::{DateTime, Duration, SubsecRound, Timelike, Utc};
use rusqlite::Connection;
use segql::db::{in_transaction, Backend, PostgresBackend, SqliteBackend};
use segql::ops::{create_view, drop_view, ViewAction, ViewOptions, ViewReport};
use segql::schema::{crm_schema, FieldType, Schema};
use segql::sql::SqlQuery;
use segql::{run, Engine, Error, Found, Options, RunOptions};
use uuid::Uuid;

use crate::support::hostile::{hostile, lit};
use crate::support::pg::TestPg;

fn current_time() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn options() -> ViewOptions {
    ViewOptions {
        dry_run: false,
        now: current_time(),
    }
}

fn plan(schema: &Schema, text: &str, guards: &[String]) -> segql::Plan {
    let options = Options {
        guards,
        ..Options::new(schema)
    };
    segql::plan(text, &options).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A plain query with no parameters.
fn query(sql: String) -> SqlQuery {
    SqlQuery {
        sql,
        ..SqlQuery::default()
    }
}

/// The ids the view `name` holds, ascending.
fn view_ids(db: &mut dyn Backend, name: &str) -> segql::Result<Vec<Uuid>> {
    db.query_ids(&query(format!("SELECT id FROM {name} ORDER BY id")))
}

/// What `segql::run` finds for `plan` now.
fn run_ids(db: &mut dyn Backend, schema: &Schema, plan: &segql::Plan) -> Vec<Uuid> {
    let options = RunOptions {
        schema,
        now: current_time(),
        count: false,
    };
    match run(plan, Engine::Database(db), &options).unwrap().found {
        Found::Ids(ids) => ids,
        Found::Count(_) => unreachable!("ids were asked for"),
    }
}

fn count(db: &mut dyn Backend, sql: &str) -> u64 {
    db.query_count(&query(sql.to_string()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Demo data around the current time, with what the queries below need:
/// date-times away from the clock's boundaries, some of them in the last
/// hours, and job titles holding `%` and `_`.
fn demo_data() -> Connection {
    let start = current_time();
    let mut conn = Connection::open_in_memory().unwrap();
    let options = segql::demo::DemoOptions::new(400, 11, start + Duration::days(1));
    segql::demo::generate_into(&mut conn, &options).unwrap();
    let at = |d: Duration| (start - d).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut sql = format!(
        "UPDATE contact SET created_on = '{}' WHERE rowid % 10 = 1;
         UPDATE contact SET created_on = '{}' WHERE rowid % 10 = 2;
         UPDATE interaction SET occurred_on = '{}' WHERE rowid % 7 = 3;
         UPDATE contact SET job_title = '100% Sales' WHERE rowid % 13 = 4;
         UPDATE contact SET job_title = 'Head_of Marketing' WHERE rowid % 13 = 5;
         UPDATE contact SET job_title = 'Head of Marketing' WHERE rowid % 13 = 6;
         UPDATE contact SET job_title = NULL WHERE rowid % 13 = 7;",
        at(Duration::hours(1)),
        at(Duration::hours(30)),
        at(Duration::hours(20)),
    );
    // Every date-time at minute (start + 15) and second 30.
    let minute = (start.minute() + 15) % 60;
    let schema = crm_schema();
    for entity in &schema.entities {
        for field in entity.fields.iter().filter(|f| f.ty == FieldType::DateTime) {
            let (table, column) = (&entity.table, &field.column);
            sql.push_str(&format!(
                "UPDATE {table} SET {column} = substr({column}, 1, 14) || '{minute:02}:30Z' \
                 WHERE {column} IS NOT NULL;"
            ));
        }
    }
    conn.execute_batch(&sql).unwrap();
    conn
}

/// Segments covering every kind of literal and test: text, choices, numbers,
/// bools, dates, date-times, uuids, lists, patterns with wildcards, missing
/// values, `has`, paths, aggregates, relative times, guards, and `false`.
/// `ids` are two contact ids of the data. Each with the guards it takes.
fn segments(ids: &[Uuid]) -> Vec<(String, Vec<String>)> {
    let day = |d: i64| (current_time() - Duration::days(d)).format("%Y-%m-%d");
    let plain = [
        "contact where not marketing_only".to_string(),
        "contact".to_string(),
        "contact where false".to_string(),
        "contact where role = \"Decision Maker\" and consent_level >= \"Marketing\"".into(),
        "contact where role in [\"Employee\", \"Influencer\"] and not is_child".into(),
        "lead where score between 10 and 60 or estimated_value > 2500.5".into(),
        "lead where score in [1, 2, 3, 50] or estimated_value < -1 or estimated_value <= 999.25"
            .into(),
        "lead where score < 20.5 and status != \"Open\"".into(),
        format!(
            "contact where birth_date < {} and created_on >= {}T00:00:00Z",
            day(11_000),
            day(300)
        ),
        format!("contact where created_on < {}", day(200)),
        format!(
            "contact where id in [\"{}\", \"{}\"] or id = \"{}\"",
            ids[0],
            ids[1],
            Uuid::nil()
        ),
        format!("lead where contact_id = \"{}\"", ids[0]),
        "contact where job_title contains \"%\" or job_title starts with \"head_\"".into(),
        "contact where job_title ends with \"_of marketing\" or email ends with \"@example.com\""
            .into(),
        "contact where job_title not contains \"ead\"".into(),
        "contact where job_title is null or city is null".into(),
        "contact where job_title != \"Head of Marketing\"".into(),
        "contact where has lead(status = \"Open\" and source in [\"Web\", \"Trade Show\"])".into(),
        "contact where has no lead and has interaction".into(),
        "contact where has at least 2 lead(estimated_value > 100)".into(),
        "lead where contact.account.industry = \"Retail\" or account.employees > 500".into(),
        "contact where count(lead(status = \"Open\")) >= 2 or sum(lead.estimated_value) > 5000"
            .into(),
        "contact where avg(lead.score) between 20 and 40.5".into(),
        "account where count(contact) = 0 or annual_revenue is null or min(lead.created_on) < now - 100d"
            .into(),
        "contact where max(interaction(type = \"Email Opened\").occurred_on) < now - 90d".into(),
        "contact where created_on >= now - 30d".into(),
        "contact where created_on >= now - 12h or created_on > now + 1d".into(),
        "contact where created_on >= now - 90min".into(),
        "contact where created_on < now - 2w and created_on >= now - 3000d".into(),
        "contact where created_on >= today - 7d".into(),
        "contact where created_on between today - 400d and today".into(),
        "contact where birth_date >= today - 12000d or birth_date = today".into(),
        "contact where has interaction(occurred_on >= now - 36h)".into(),
        "lead where created_on > now - 3600s and contact.created_on < now - 5d".into(),
        // Edges of the literals: the year 0000 (PostgreSQL's 1 BC), the
        // smallest integer, a decimal no double holds exactly.
        "contact where birth_date > 0000-02-29 and created_on > 0000-03-01T12:00:00Z and role != \"Employee\"".into(),
        "lead where score > -9223372036854775808 and estimated_value != 0.1 and score != 7".into(),
    ];
    let mut all: Vec<(String, Vec<String>)> = plain.into_iter().map(|q| (q, Vec::new())).collect();
    all.push((
        "contact where created_on >= now - 400d".into(),
        vec!["email".into()],
    ));
    all
}

/// Makes each segment a view (one name, replaced each time) and compares
/// its rows with `run`; again when the UTC date changed meanwhile.
fn views_agree_with_run(db: &mut dyn Backend, schema: &Schema, engine: &str) {
    let ids = db
        .query_ids(&query("SELECT id FROM contact ORDER BY id LIMIT 2".into()))
        .unwrap();
    let segments = segments(&ids);
    for attempt in 1..=3 {
        let day = Utc::now().date_naive();
        let mut wrong = Vec::new();
        let mut informative = 0;
        for (i, (text, guards)) in segments.iter().enumerate() {
            let plan = plan(schema, text, guards);
            let report = create_view(db, schema, "segment_view", &plan, &options())
                .unwrap_or_else(|e| panic!("{engine}: {text}: {e}"));
            let expected_action = if i == 0 {
                ViewAction::Created
            } else {
                ViewAction::Replaced
            };
            assert_eq!(report.action, expected_action, "{engine}: {text}");
            let viewed = view_ids(db, "segment_view").unwrap();
            let found = run_ids(db, schema, &plan);
            assert_eq!(report.rows, Some(viewed.len() as u64), "{engine}: {text}");
            let all = count(db, &format!("SELECT COUNT(*) FROM {}", plan.entity));
            if !found.is_empty() && (found.len() as u64) < all {
                informative += 1;
            }
            if viewed != found {
                wrong.push(format!(
                    "{text}: view {} rows, run {}",
                    viewed.len(),
                    found.len()
                ));
            }
        }
        if Utc::now().date_naive() != day && attempt < 3 {
            continue;
        }
        assert!(wrong.is_empty(), "{engine}:\n{}", wrong.join("\n"));
        // Segments that select all or nothing would prove little.
        assert!(
            informative + 4 >= segments.len(),
            "{engine}: only {informative} of {} segments select some but not all records",
            segments.len()
        );
        return;
    }
}

#[test]
fn a_views_rows_are_the_segments_records_on_sqlite() {
    let conn = demo_data();
    let schema = crm_schema();
    views_agree_with_run(&mut SqliteBackend::new(&conn), &schema, "sqlite");
}

#[test]
fn a_views_rows_are_the_segments_records_on_postgres() {
    let Some(pg) = TestPg::start() else { return };
    let conn = demo_data();
    let schema = crm_schema();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
    views_agree_with_run(&mut PostgresBackend::new(&mut client), &schema, "postgres");
}

/// The view has the table's columns, by name, with the stored values.
fn keeps_columns_and_stored_values(db: &mut dyn Backend, schema: &Schema) {
    let plan = plan(schema, "contact where not marketing_only", &[]);
    create_view(db, schema, "sales_contact", &plan, &options()).unwrap();
    let (table, view) = in_transaction(db, true, |tx| {
        Ok((tx.columns("contact")?, tx.columns("sales_contact")?))
    })
    .unwrap();
    assert_eq!(view, table);
    assert!(view.is_some_and(|columns| columns.len() == 17));
    let stray = count(
        db,
        "SELECT COUNT(*) FROM (SELECT * FROM sales_contact EXCEPT SELECT * FROM contact) AS d",
    );
    assert_eq!(stray, 0);
    let not_marketing = format!(
        "SELECT COUNT(*) FROM contact WHERE marketing_only = {}",
        db.dialect().stored_bool(false)
    );
    let (viewed, expected) = (
        count(db, "SELECT COUNT(*) FROM sales_contact"),
        count(db, &not_marketing),
    );
    assert_eq!(viewed, expected);
    assert!(viewed > 0);
    // Choice codes, not labels.
    let roles = count(
        db,
        "SELECT COUNT(*) FROM sales_contact WHERE role IN (1, 2, 3)",
    );
    assert!(roles > 0);
}

#[test]
fn a_view_keeps_the_tables_columns_and_stored_values() {
    let conn = demo_data();
    let schema = crm_schema();
    keeps_columns_and_stored_values(&mut SqliteBackend::new(&conn), &schema);
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
    keeps_columns_and_stored_values(&mut PostgresBackend::new(&mut client), &schema);
}

/// Job titles: every hostile value and decoys around it.
fn titles() -> Vec<String> {
    let mut texts = Vec::new();
    for (_, v) in hostile() {
        if v.len() < 1000 {
            texts.push(format!("x{v}y"));
            texts.push(v.to_ascii_uppercase());
            texts.push(v.chars().skip(1).collect());
        }
        texts.push(v);
    }
    texts.extend(["", "a", "DROP", "1=1", "x%y", "x_y"].map(String::from));
    let mut seen = std::collections::BTreeSet::new();
    texts.retain(|t| seen.insert(t.clone()));
    texts
}

fn contact_id(i: usize) -> Uuid {
    Uuid::from_u128(0x1000 + i as u128)
}

/// Creates the tables and one contact per title.
fn insert_titles(db: &mut dyn Backend, schema: &Schema, titles: &[String]) {
    segql::demo::create_tables(db, schema).unwrap();
    let d = db.dialect();
    let sql = format!(
        "INSERT INTO contact (id, job_title) VALUES ({}, {})",
        d.text_param(1, &FieldType::Uuid),
        d.placeholder(2)
    );
    in_transaction(db, false, |tx| {
        for (i, title) in titles.iter().enumerate() {
            let params = [
                segql::db::Param::Text(contact_id(i).to_string()),
                segql::db::Param::Text(title.clone()),
            ];
            tx.execute(&sql, &params)?;
        }
        Ok(())
    })
    .unwrap();
}

/// A literal position: the query for a value and what it means on a title.
type Position = (&'static str, fn(&str) -> String, fn(&str, &str) -> bool);

fn positions() -> Vec<Position> {
    vec![
        (
            "=",
            |v| format!("contact where job_title = {}", lit(v)),
            |t, v| t == v,
        ),
        (
            "not in",
            |v| format!("contact where job_title not in [{}, \"a\"]", lit(v)),
            |t, v| t != v && t != "a",
        ),
        (
            ">=",
            |v| format!("contact where job_title >= {}", lit(v)),
            |t, v| t >= v,
        ),
        (
            "contains",
            |v| format!("contact where job_title contains {}", lit(v)),
            |t, v| t.to_ascii_lowercase().contains(&v.to_ascii_lowercase()),
        ),
        (
            "starts with",
            |v| format!("contact where job_title starts with {}", lit(v)),
            |t, v| t.to_ascii_lowercase().starts_with(&v.to_ascii_lowercase()),
        ),
        (
            "not ends with",
            |v| format!("contact where job_title not ends with {}", lit(v)),
            |t, v| !t.to_ascii_lowercase().ends_with(&v.to_ascii_lowercase()),
        ),
        (
            "between",
            |v| format!("contact where job_title between \"\" and {}", lit(v)),
            |t, v| t <= v,
        ),
    ]
}

/// Every hostile value in every position, written into a view: exactly the
/// right rows, and the tables unharmed. Where the database cannot hold
/// U+0000 (`refuses_nul`), such a literal is a clear error and no view is
/// made.
fn hostile_views(db: &mut dyn Backend, schema: &Schema, refuses_nul: bool, engine: &str) {
    let titles: Vec<String> = titles()
        .into_iter()
        .filter(|t| !(refuses_nul && t.contains('\u{0}')))
        .collect();
    insert_titles(db, schema, &titles);
    let mut cases = 0;
    for (name, v) in hostile() {
        for (position, text, holds) in positions() {
            let case = format!("{engine}: {name} in {position}");
            let plan = plan(schema, &text(&v), &[]);
            let made = create_view(db, schema, "hostile_view", &plan, &options());
            if refuses_nul && v.contains('\u{0}') {
                let err = made.expect_err(&case);
                assert!(
                    matches!(err, Error::InvalidValue { .. }) && err.to_string().contains("U+0000"),
                    "{case}: {err}"
                );
                assert!(
                    view_ids(db, "hostile_view").is_err(),
                    "{case}: a view was made"
                );
                continue;
            }
            made.unwrap_or_else(|e| panic!("{case}: {e}"));
            let expected: Vec<Uuid> = titles
                .iter()
                .enumerate()
                .filter(|(_, t)| holds(t, &v))
                .map(|(i, _)| contact_id(i))
                .collect();
            assert_eq!(view_ids(db, "hostile_view").unwrap(), expected, "{case}");
            cases += 1;
        }
        if !(refuses_nul && v.contains('\u{0}')) {
            drop_view(db, "hostile_view", false)
                .unwrap_or_else(|e| panic!("{engine}: {name}: {e}"));
        }
    }
    assert!(
        cases >= 12 * positions().len(),
        "{engine}: only {cases} cases"
    );
    // Unharmed: every table is there, the contacts all still there.
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM contact"),
        titles.len() as u64
    );
    for table in ["account", "lead", "interaction", "subscription"] {
        assert_eq!(count(db, &format!("SELECT COUNT(*) FROM {table}")), 0);
    }
    let kept = count(
        db,
        "SELECT COUNT(*) FROM contact WHERE job_title = '''; DROP TABLE contact; --'",
    );
    assert_eq!(kept, 1, "{engine}");
}

#[test]
fn hostile_literals_in_a_view_match_exactly_and_harm_nothing_on_sqlite() {
    let conn = Connection::open_in_memory().unwrap();
    hostile_views(
        &mut SqliteBackend::new(&conn),
        &crm_schema(),
        false,
        "sqlite",
    );
}

#[test]
fn hostile_literals_in_a_view_match_exactly_and_harm_nothing_on_postgres() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    hostile_views(
        &mut PostgresBackend::new(&mut client),
        &crm_schema(),
        true,
        "postgres",
    );
}

fn refusal(result: segql::Result<ViewReport>, expected: &str) -> String {
    let err = result.expect_err(expected);
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(expected), "{message}");
    message
}

/// Replacing, a dry run, dropping, and each refusal, leaving the database
/// as it was.
fn lifecycle(db: &mut dyn Backend, schema: &Schema, engine: &str) {
    let marketing = plan(schema, "contact where marketing_only", &[]);
    let sales = plan(schema, "contact where not marketing_only", &[]);
    let made = create_view(db, schema, "audience", &marketing, &options()).unwrap();
    assert_eq!(made.action, ViewAction::Created);
    let first = view_ids(db, "audience").unwrap();
    let replaced = create_view(db, schema, "audience", &sales, &options()).unwrap();
    assert_eq!(replaced.action, ViewAction::Replaced);
    let second = view_ids(db, "audience").unwrap();
    assert_eq!(second, run_ids(db, schema, &sales));
    assert!(!first.is_empty() && !second.is_empty() && first != second);

    // A dry run reports what it would do and changes nothing.
    let dry = ViewOptions {
        dry_run: true,
        ..options()
    };
    let everyone = plan(schema, "contact", &[]);
    let would = create_view(db, schema, "audience", &everyone, &dry).unwrap();
    assert_eq!(
        (would.action, would.rows, would.dry_run),
        (
            ViewAction::Replaced,
            Some((first.len() + second.len()) as u64),
            true
        )
    );
    assert_eq!(view_ids(db, "audience").unwrap(), second);
    create_view(db, schema, "dry_only", &everyone, &dry).unwrap();
    assert!(
        view_ids(db, "dry_only").is_err(),
        "{engine}: a dry run made a view"
    );

    // Tables are never replaced or dropped.
    let contacts = count(db, "SELECT COUNT(*) FROM contact");
    refusal(
        create_view(db, schema, "contact", &sales, &options()),
        "'contact' is a table, not a view",
    );
    refusal(
        drop_view(db, "lead", false),
        "'lead' is a table, not a view",
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM contact"), contacts);

    // A view that another view reads is neither replaced nor dropped.
    db.execute_batch("CREATE VIEW audience_reader AS SELECT id FROM audience")
        .unwrap();
    let message = refusal(
        create_view(db, schema, "audience", &everyone, &options()),
        "cannot replace view 'audience'",
    );
    assert!(message.contains("audience_reader"), "{message}");
    refusal(
        drop_view(db, "audience", false),
        "cannot drop view 'audience'",
    );
    assert_eq!(view_ids(db, "audience").unwrap(), second);
    // Views that read other views do not count.
    create_view(db, schema, "unrelated", &everyone, &options()).unwrap();
    assert_eq!(
        drop_view(db, "unrelated", false).unwrap().action,
        ViewAction::Dropped
    );
    db.execute_batch("DROP VIEW audience_reader").unwrap();

    let dropped = drop_view(db, "audience", false).unwrap();
    assert_eq!((dropped.action, dropped.rows), (ViewAction::Dropped, None));
    assert!(view_ids(db, "audience").is_err(), "{engine}: still there");
    refusal(
        drop_view(db, "audience", false),
        "there is no view 'audience' to drop",
    );

    for bad in [
        "1st",
        "sales-contact",
        "a b",
        "x\"; DROP TABLE contact; --",
        "",
    ] {
        refusal(
            create_view(db, schema, bad, &sales, &options()),
            "invalid view name",
        );
        refusal(drop_view(db, bad, false), "invalid view name");
    }
    // A keyword is a fine name: the dialect quotes it.
    create_view(db, schema, "order", &sales, &options()).unwrap();
    assert_eq!(view_ids(db, "\"order\"").unwrap(), second);
    assert_eq!(count(db, "SELECT COUNT(*) FROM contact"), contacts);
}

#[test]
fn replacing_dropping_and_refusals_on_sqlite() {
    let conn = demo_data();
    let schema = crm_schema();
    let mut db = SqliteBackend::new(&conn);
    lifecycle(&mut db, &schema, "sqlite");
    // SQLite's names ignore ASCII case: `Contact` is the table too.
    let plan = plan(&schema, "contact", &[]);
    refusal(
        create_view(&mut db, &schema, "Contact", &plan, &options()),
        "'Contact' is a table",
    );
    // Indexes share the namespace of tables and views.
    db.execute_batch("CREATE INDEX contact_city_idx ON contact (city)")
        .unwrap();
    refusal(
        create_view(&mut db, &schema, "contact_city_idx", &plan, &options()),
        "'contact_city_idx' is an index, not a view",
    );
}

#[test]
fn replacing_dropping_and_refusals_on_postgres() {
    let Some(pg) = TestPg::start() else { return };
    let conn = demo_data();
    let schema = crm_schema();
    let mut client = pg.client();
    segql::demo::copy_sqlite_to_postgres(&conn, &mut client, &schema).unwrap();
    let mut db = PostgresBackend::new(&mut client);
    lifecycle(&mut db, &schema, "postgres");
    db.execute_batch(
        "CREATE SEQUENCE lead_number; CREATE MATERIALIZED VIEW open_lead AS SELECT id FROM lead",
    )
    .unwrap();
    let plan = plan(&schema, "contact", &[]);
    refusal(
        create_view(&mut db, &schema, "lead_number", &plan, &options()),
        "'lead_number' is a sequence, not a view",
    );
    refusal(
        drop_view(&mut db, "open_lead", false),
        "'open_lead' is a materialized view, not a view",
    );
}
