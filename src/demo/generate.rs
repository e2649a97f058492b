//! Row generation for the demo data set: accounts, contacts with their leads,
//! interactions and subscriptions, then orphaned leads.
//!
//! Everything comes from one seeded ChaCha stream consumed in a fixed order,
//! so a seed and a reference time always give the same rows. The loop writes
//! through prepared statements with ids, dates and emails formatted into
//! reused buffers, because a million contacts mean about fourteen million rows.

use std::fmt::Write as _;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{params, CachedStatement, Connection};
use uuid::Uuid;

use super::stamp::{IdText, Stamp, DAY};
use super::words::*;
use super::{DemoOptions, DemoReport};
use crate::db::sqlite::error as sqlite_error;
use crate::error::Result;

const YEAR: i64 = 365 * DAY;
/// How often (in contacts) the progress callback hears from the loop.
pub(crate) const TICK: usize = 4096;
/// About this many contact emails are remembered for orphaned leads to match.
const EMAIL_SAMPLE: usize = 2048;

const INSERT_ACCOUNT: &str = "INSERT INTO account (id, name, industry, city, country, \
     employees, annual_revenue, created_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const INSERT_CONTACT: &str = "INSERT INTO contact (id, first_name, last_name, email, \
     job_title, role, city, country, birth_date, created_on, marketing_only, do_not_email, \
     do_not_bulk_email, allow_prefill, consent_level, is_child, account_id) VALUES \
     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
const INSERT_LEAD: &str = "INSERT INTO lead (id, topic, first_name, last_name, email, \
     company_name, status, source, score, sales_ready, estimated_value, created_on, \
     contact_id, account_id) VALUES \
     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
const INSERT_INTERACTION: &str = "INSERT INTO interaction (id, contact_id, type, \
     occurred_on, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_SUBSCRIPTION: &str = "INSERT INTO subscription (id, contact_id, list, \
     subscribed_on) VALUES (?1, ?2, ?3, ?4)";

/// An account as contacts and leads refer to it.
struct Account {
    id: Uuid,
    company: usize,
}

/// The generator's state: the random stream, the reference time and the
/// buffers reused from row to row.
struct Gen {
    rng: ChaCha8Rng,
    now: i64,
    email: String,
    other_email: String,
    company: String,
}

impl Gen {
    fn id(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.gen_range(0..100) < percent
    }

    /// `value` unless a `percent` chance makes it missing.
    fn or_null<T>(&mut self, percent: u32, value: T) -> Option<T> {
        (!self.chance(percent)).then_some(value)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.gen_range(0..items.len())]
    }

    /// One of `items`, borrowed (`items` must not be empty).
    fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }

    /// One of `codes`, weighted by the matching `weights`.
    fn weighted(&mut self, codes: &[i64], weights: &[u32]) -> i64 {
        let total: u32 = weights.iter().sum();
        let mut roll = self.rng.gen_range(0..total);
        for (code, weight) in codes.iter().zip(weights) {
            if roll < *weight {
                return *code;
            }
            roll -= weight;
        }
        codes[codes.len() - 1]
    }

    /// A moment within `span` seconds before now.
    fn within(&mut self, span: i64) -> Stamp {
        Stamp::datetime(self.now - self.rng.gen_range(0..span))
    }

    /// Money with cents, up to `max_cents`.
    fn money(&mut self, max_cents: i64) -> f64 {
        self.rng.gen_range(100..max_cents) as f64 / 100.0
    }

    /// The same address as a person would retype it: other letter case,
    /// stray spaces, or both.
    fn variant_of(&mut self, email: &str) -> String {
        match self.rng.gen_range(0..4) {
            0 => email.to_ascii_uppercase(),
            1 => format!("  {email} "),
            2 => {
                let mut chars = email.chars();
                match chars.next() {
                    Some(first) => format!("{}{}", first.to_ascii_uppercase(), chars.as_str()),
                    None => String::new(),
                }
            }
            _ => format!(" {} ", email.to_ascii_uppercase()),
        }
    }
}

/// The prepared statements of the load.
struct Writers<'c> {
    contact: CachedStatement<'c>,
    lead: CachedStatement<'c>,
    interaction: CachedStatement<'c>,
    subscription: CachedStatement<'c>,
}

/// Writes the demo rows into the (empty) tables of the default layout.
/// `tick` hears the number of contacts written every `TICK` contacts.
pub(crate) fn load(
    conn: &Connection,
    options: &DemoOptions,
    tick: &mut dyn FnMut(usize),
) -> Result<DemoReport> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(options.seed),
        now: options.now.timestamp(),
        email: String::with_capacity(64),
        other_email: String::with_capacity(64),
        company: String::with_capacity(64),
    };
    let mut report = DemoReport::default();
    let accounts = write_accounts(conn, &mut g, options.contacts.div_ceil(20), &mut report)?;

    let mut w = Writers {
        contact: conn.prepare_cached(INSERT_CONTACT).map_err(sqlite_error)?,
        lead: conn.prepare_cached(INSERT_LEAD).map_err(sqlite_error)?,
        interaction: conn
            .prepare_cached(INSERT_INTERACTION)
            .map_err(sqlite_error)?,
        subscription: conn
            .prepare_cached(INSERT_SUBSCRIPTION)
            .map_err(sqlite_error)?,
    };
    let stride = (options.contacts / EMAIL_SAMPLE).max(1);
    let mut sampled_emails: Vec<String> = Vec::new();
    for i in 0..options.contacts {
        let has_email = write_contact(&mut w, &mut g, i, &accounts, &sampled_emails, &mut report)?;
        if has_email && i % stride == 0 {
            sampled_emails.push(g.email.clone());
        }
        if (i + 1) % TICK == 0 {
            tick(i + 1);
        }
    }
    write_orphaned_leads(
        &mut w,
        &mut g,
        options.contacts,
        &accounts,
        &sampled_emails,
        &mut report,
    )?;
    tick(options.contacts);
    Ok(report)
}

fn write_accounts(
    conn: &Connection,
    g: &mut Gen,
    count: usize,
    report: &mut DemoReport,
) -> Result<Vec<Account>> {
    let mut stmt = conn.prepare_cached(INSERT_ACCOUNT).map_err(sqlite_error)?;
    let mut accounts = Vec::with_capacity(count);
    for _ in 0..count {
        let id = g.id();
        let company = g.rng.gen_range(0..COMPANIES.len());
        let name = format!("{} {}", COMPANIES[company], g.pick(COMPANY_SUFFIXES));
        let (city, country) = g.pick(PLACES);
        let employees = g.rng.gen_range(1..=50) * 10i64.pow(g.rng.gen_range(0..4));
        let revenue = g.money(50_000_000_000);
        let created = g.within(6 * YEAR);
        let industry = g.rng.gen_range(1..=10i64);
        let row = (
            g.or_null(3, name),
            g.or_null(8, industry),
            g.or_null(10, city),
            g.or_null(10, country),
            g.or_null(10, employees),
            g.or_null(15, revenue),
            g.or_null(3, created),
        );
        stmt.execute(params![
            IdText::new(id).as_str(),
            row.0,
            row.1,
            row.2,
            row.3,
            row.4,
            row.5,
            row.6.as_ref().map(Stamp::as_str),
        ])
        .map_err(sqlite_error)?;
        accounts.push(Account { id, company });
    }
    report.accounts = count;
    Ok(accounts)
}

/// Writes contact number `i` with its leads, interactions and subscriptions;
/// returns whether it has an email (left in `g.email`).
fn write_contact(
    w: &mut Writers,
    g: &mut Gen,
    i: usize,
    accounts: &[Account],
    sampled_emails: &[String],
    report: &mut DemoReport,
) -> Result<bool> {
    let id = IdText::new(g.id());
    let (first, first_ascii) = g.pick(FIRST_NAMES);
    let (last, last_ascii) = g.pick(LAST_NAMES);
    let has_email = !g.chance(6);
    g.email.clear();
    if has_email {
        if !sampled_emails.is_empty() && g.chance(1) {
            // A second contact with an existing address: link-orphans must
            // choose between them.
            let earlier = g.pick_ref(sampled_emails);
            let email = if g.chance(50) {
                earlier.to_string()
            } else {
                g.variant_of(earlier)
            };
            g.email.push_str(email.trim());
        } else {
            let domain = g.pick(DOMAINS);
            let _ = write!(g.email, "{first_ascii}.{last_ascii}{i}@{domain}");
            if g.chance(10) {
                // Some people type their address capitalised.
                g.email[..1].make_ascii_uppercase();
            }
        }
    }
    let account = if !accounts.is_empty() && !g.chance(15) {
        Some(&accounts[g.rng.gen_range(0..accounts.len())])
    } else {
        None
    };
    let account_id = account.map(|a| IdText::new(a.id));
    let is_child = g.chance(2);
    let age_days = if is_child {
        g.rng.gen_range(5 * 365..17 * 365)
    } else {
        g.rng.gen_range(18 * 365..80 * 365)
    };
    let birth = Stamp::date(g.now.div_euclid(DAY) - age_days);
    let (city, country) = g.pick(PLACES);
    let created = g.within(3 * YEAR);
    let title = g.pick(JOB_TITLES);
    let role = g.weighted(&[1, 2, 3], &[20, 60, 20]);
    let consent = g.weighted(&[0, 1, 2, 3, 4, 5, 6], &[20, 15, 10, 20, 20, 10, 5]);
    let row = (
        g.or_null(3, first),
        g.or_null(2, last),
        g.or_null(20, title),
        g.or_null(10, role),
        g.or_null(10, city),
        g.or_null(12, country),
        g.or_null(30, birth),
        g.or_null(2, created),
        g.chance(10),
        g.chance(8),
        g.chance(12),
        g.chance(60),
        g.or_null(5, consent),
    );
    w.contact
        .execute(params![
            id.as_str(),
            row.0,
            row.1,
            has_email.then_some(g.email.as_str()),
            row.2,
            row.3,
            row.4,
            row.5,
            row.6.as_ref().map(Stamp::as_str),
            row.7.as_ref().map(Stamp::as_str),
            row.8,
            row.9,
            row.10,
            row.11,
            row.12,
            is_child,
            account_id.as_ref().map(IdText::as_str),
        ])
        .map_err(sqlite_error)?;
    report.contacts += 1;

    let leads = g.weighted(&[0, 1, 2, 3, 4], &[22, 35, 25, 13, 5]);
    for _ in 0..leads {
        write_contact_lead(
            w,
            g,
            &id,
            (first, first_ascii),
            (last, last_ascii),
            has_email,
            account,
            accounts,
        )?;
        report.leads += 1;
    }
    let interactions = g.rng.gen_range(0..=20);
    for _ in 0..interactions {
        write_interaction(w, g, &id)?;
    }
    report.interactions += interactions;
    let subscriptions = g.weighted(&[0, 1, 2, 3], &[50, 25, 15, 10]) as usize;
    for _ in 0..subscriptions {
        let sub_id = IdText::new(g.id());
        let list = g.pick(LISTS);
        let row = (
            g.or_null(1, id.as_str()),
            g.or_null(3, list),
            g.within(3 * YEAR),
        );
        let stamp = g.or_null(5, row.2);
        w.subscription
            .execute(params![
                sub_id.as_str(),
                row.0,
                row.1,
                stamp.as_ref().map(Stamp::as_str)
            ])
            .map_err(sqlite_error)?;
    }
    report.subscriptions += subscriptions;
    Ok(has_email)
}

#[allow(clippy::too_many_arguments)]
fn write_contact_lead(
    w: &mut Writers,
    g: &mut Gen,
    contact_id: &IdText,
    first: (&str, &str),
    last: (&str, &str),
    contact_has_email: bool,
    account: Option<&Account>,
    accounts: &[Account],
) -> Result<()> {
    let id = IdText::new(g.id());
    g.other_email.clear();
    let email_kind = g.rng.gen_range(0..10);
    let email: Option<&str> = match email_kind {
        0..=6 if contact_has_email => Some(g.email.as_str()),
        7 if contact_has_email => {
            let variant = g.variant_of(&g.email.clone());
            g.other_email.push_str(&variant);
            Some(g.other_email.as_str())
        }
        8 => {
            let domain = g.pick(DOMAINS);
            let _ = write!(g.other_email, "{}.{}@{domain}", first.1, last.1);
            Some(g.other_email.as_str())
        }
        _ => None,
    };
    let email = email.map(str::to_owned);
    g.company.clear();
    let company = match account {
        Some(a) if g.chance(70) => {
            g.company.push_str(COMPANIES[a.company]);
            Some(g.company.as_str())
        }
        _ => None,
    };
    let company = company.map(str::to_owned);
    let account_id = match g.rng.gen_range(0..10) {
        0..=5 => account.map(|a| IdText::new(a.id)),
        6 if !accounts.is_empty() => {
            Some(IdText::new(accounts[g.rng.gen_range(0..accounts.len())].id))
        }
        _ => None,
    };
    let names = (g.or_null(10, first.0), g.or_null(10, last.0));
    write_lead(
        w,
        g,
        &id,
        names,
        email.as_deref(),
        company.as_deref(),
        Some(contact_id),
        account_id.as_ref(),
    )
}

/// Writes one lead; topic, status, source, score, value and date are drawn here.
#[allow(clippy::too_many_arguments)]
fn write_lead(
    w: &mut Writers,
    g: &mut Gen,
    id: &IdText,
    names: (Option<&str>, Option<&str>),
    email: Option<&str>,
    company: Option<&str>,
    contact_id: Option<&IdText>,
    account_id: Option<&IdText>,
) -> Result<()> {
    let topic = g.pick(TOPICS);
    let status = g.weighted(&[0, 1, 2], &[50, 30, 20]);
    let source = g.rng.gen_range(1..=10i64);
    let score = g.rng.gen_range(0..=100i64);
    let sales_ready = g.chance(25);
    let value = g.money(10_000_000);
    let created = g.within(2 * YEAR);
    let row = (
        g.or_null(5, topic),
        g.or_null(5, status),
        g.or_null(10, source),
        g.or_null(15, score),
        g.or_null(20, sales_ready),
        g.or_null(25, value),
        g.or_null(2, created),
    );
    w.lead
        .execute(params![
            id.as_str(),
            row.0,
            names.0,
            names.1,
            email,
            company,
            row.1,
            row.2,
            row.3,
            row.4,
            row.5,
            row.6.as_ref().map(Stamp::as_str),
            contact_id.map(IdText::as_str),
            account_id.map(IdText::as_str),
        ])
        .map_err(sqlite_error)?;
    Ok(())
}

fn write_interaction(w: &mut Writers, g: &mut Gen, contact_id: &IdText) -> Result<()> {
    let id = IdText::new(g.id());
    let kind = g.weighted(&[1, 2, 3, 4, 5, 6, 7, 8], &[30, 25, 15, 8, 12, 4, 4, 2]);
    let occurred = g.within(2 * YEAR);
    let row = (
        g.or_null(1, contact_id.as_str()),
        g.or_null(2, kind),
        g.or_null(1, occurred),
    );
    let detail = g.pick(DETAILS);
    let detail = g.or_null(30, detail);
    w.interaction
        .execute(params![
            id.as_str(),
            row.0,
            row.1,
            row.2.as_ref().map(Stamp::as_str),
            detail
        ])
        .map_err(sqlite_error)?;
    Ok(())
}

/// Leads with no contact (about 5% of all leads), of every kind
/// `link-orphans` must handle: no email; an email of an existing contact,
/// as stored or retyped (other case, stray spaces); and new addresses, several
/// leads sharing each.
fn write_orphaned_leads(
    w: &mut Writers,
    g: &mut Gen,
    contacts: usize,
    accounts: &[Account],
    sampled_emails: &[String],
    report: &mut DemoReport,
) -> Result<()> {
    let count = contacts * 3 / 40;
    let new_addresses = (count / 6).max(1);
    for _ in 0..count {
        let id = IdText::new(g.id());
        let kind = g.rng.gen_range(0..100);
        let email = match kind {
            0..=19 => None,
            20..=44 if !sampled_emails.is_empty() => Some(g.pick_ref(sampled_emails).to_string()),
            45..=64 if !sampled_emails.is_empty() => {
                let earlier = g.pick_ref(sampled_emails);
                Some(g.variant_of(earlier))
            }
            _ => {
                let n = g.rng.gen_range(0..new_addresses);
                let address = format!("prospect{n}@{}", DOMAINS[n % DOMAINS.len()]);
                Some(if g.chance(30) {
                    g.variant_of(&address)
                } else {
                    address
                })
            }
        };
        let (first, _) = g.pick(FIRST_NAMES);
        let (last, _) = g.pick(LAST_NAMES);
        let names = (g.or_null(15, first), g.or_null(10, last));
        let account_id = if !accounts.is_empty() && g.chance(30) {
            Some(IdText::new(accounts[g.rng.gen_range(0..accounts.len())].id))
        } else {
            None
        };
        let company = g.pick(COMPANIES);
        let company = g.or_null(40, company);
        write_lead(
            w,
            g,
            &id,
            names,
            email.as_deref(),
            company,
            None,
            account_id.as_ref(),
        )?;
        report.leads += 1;
        report.orphaned_leads += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_the_address() {
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(1),
            now: 0,
            email: String::new(),
            other_email: String::new(),
            company: String::new(),
        };
        for _ in 0..20 {
            let v = g.variant_of("anna.smith1@contoso.com");
            assert_ne!(v, "anna.smith1@contoso.com");
            assert!(
                v.trim().eq_ignore_ascii_case("anna.smith1@contoso.com"),
                "{v}"
            );
        }
    }
}
