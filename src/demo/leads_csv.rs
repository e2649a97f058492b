//! A CSV of leads for `segql import-leads`, made from a demo database: the
//! kind of list a trade show leaves behind, with the three cases an import
//! must tell apart, in turn:
//!
//! - people who already have an open lead with the same topic (their email
//!   written in another case, some with stray spaces): with `email+topic`
//!   they update that lead;
//! - existing contacts with a new topic: new leads linked to those contacts;
//! - people the database does not know: new leads and new marketing-only
//!   contacts (every tenth of them twice, with a second topic, so two leads
//!   share one new contact).
//!
//! The rows come from the database and one seeded random stream, so the same
//! database and seed give the same file.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::words::{COMPANIES, FIRST_NAMES, LAST_NAMES, TOPICS};
use crate::db::sqlite::error as sqlite_error;
use crate::error::{Error, Result};

/// What [`write_leads_csv`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeadsCsvReport {
    /// Data rows written.
    pub rows: usize,
    /// Rows with the email and topic of an open lead.
    pub matching_leads: usize,
    /// Rows with an existing contact's email and a new topic.
    pub existing_contacts: usize,
    /// Rows with an email no contact has.
    pub new_people: usize,
}

/// The topic of the demo's trade show, which rows of new leads carry.
pub const TRADE_SHOW_TOPIC: &str = "Demo Expo 2026";

/// Write `rows` lead rows made from the demo database `db` to `out`
/// (header `email,topic,first_name,last_name,company_name,source,estimated_value`).
pub fn write_leads_csv(db: &Path, out: &Path, rows: usize, seed: u64) -> Result<LeadsCsvReport> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sqlite_error)?;
    let third = rows.div_ceil(3);
    let open_leads = sample(
        &conn,
        "SELECT email, topic, first_name, last_name, company_name FROM lead \
         WHERE email IS NOT NULL AND topic IS NOT NULL AND (status IS NULL OR status = 0)",
        third,
    )?;
    let contacts = sample(
        &conn,
        "SELECT email, NULL, first_name, last_name, NULL FROM contact WHERE email IS NOT NULL",
        third,
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let io = |e: csv::Error| Error::Unavailable {
        message: format!("cannot write {}: {e}", out.display()),
    };
    let mut writer = csv::Writer::from_path(out).map_err(io)?;
    writer
        .write_record([
            "email",
            "topic",
            "first_name",
            "last_name",
            "company_name",
            "source",
            "estimated_value",
        ])
        .map_err(io)?;
    let mut report = LeadsCsvReport::default();
    let (mut next_lead, mut next_contact, mut next_new) = (0, 0, 0);
    let mut pending_second_topic: Option<Vec<String>> = None;
    while report.rows < rows {
        let value = format!("{}", rng.gen_range(1..200) * 500);
        let record: Vec<String> = match report.rows % 3 {
            0 if next_lead < open_leads.len() => {
                let [email, topic, first, last, company] = open_leads[next_lead].clone();
                next_lead += 1;
                report.matching_leads += 1;
                let email = match rng.gen_range(0..3) {
                    0 => email.to_ascii_uppercase(),
                    1 => format!(" {email} "),
                    _ => email,
                };
                vec![email, topic, first, last, company, String::new(), value]
            }
            1 if next_contact < contacts.len() => {
                let [email, _, first, last, _] = contacts[next_contact].clone();
                next_contact += 1;
                report.existing_contacts += 1;
                let topic = TRADE_SHOW_TOPIC.to_string();
                vec![
                    email,
                    topic,
                    first,
                    last,
                    String::new(),
                    "Trade Show".into(),
                    value,
                ]
            }
            _ => {
                report.new_people += 1;
                if let Some(row) = pending_second_topic.take() {
                    row
                } else {
                    let (first, _) = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
                    let (last, _) = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
                    let company = COMPANIES[rng.gen_range(0..COMPANIES.len())];
                    let email = format!(
                        "{}.{}.{next_new}@visitors.example",
                        first.to_lowercase(),
                        last.to_lowercase()
                    );
                    next_new += 1;
                    let row = vec![
                        email,
                        TRADE_SHOW_TOPIC.to_string(),
                        first.to_string(),
                        last.to_string(),
                        company.to_string(),
                        "Trade Show".into(),
                        value,
                    ];
                    if next_new % 10 == 0 {
                        let mut second = row.clone();
                        second[1] = TOPICS[rng.gen_range(0..TOPICS.len())].to_string();
                        pending_second_topic = Some(second);
                    }
                    row
                }
            }
        };
        writer.write_record(&record).map_err(io)?;
        report.rows += 1;
    }
    writer.flush().map_err(|e| Error::Unavailable {
        message: format!("cannot write {}: {e}", out.display()),
    })?;
    Ok(report)
}

/// Up to `wanted` rows of `select` (five text columns, NULL as empty),
/// spread evenly over the table by rowid.
fn sample(conn: &rusqlite::Connection, select: &str, wanted: usize) -> Result<Vec<[String; 5]>> {
    if wanted == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(&format!("{select} ORDER BY rowid"))
        .map_err(sqlite_error)?;
    let all = stmt
        .query_map([], |r| {
            let cell = |i: usize| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default);
            Ok([cell(0)?, cell(1)?, cell(2)?, cell(3)?, cell(4)?])
        })
        .map_err(sqlite_error)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sqlite_error)?;
    let step = (all.len() / wanted).max(1);
    Ok(all.into_iter().step_by(step).take(wanted).collect())
}
