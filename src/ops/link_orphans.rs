//! `link-orphans` (SPEC §5): give every orphaned lead (no parent contact) a
//! contact, so segments and journeys can reach it.
//!
//! The run is set-based: a handful of statements over temporary tables, the
//! same on SQLite and PostgreSQL, inside one transaction opened by the caller
//! ([`super::link_orphans`]).
//!
//! 1. `segql_orphan`: leads without a contact whose email, trimmed of ASCII
//!    whitespace and with ASCII letters lower-cased, is not empty.
//! 2. `segql_match`: per normalized email, the best existing contact — not
//!    marketing-only first (a NULL flag counts as not marketing-only), then
//!    the earliest `created_on` (NULL last), then the smallest id.
//! 3. `segql_new`: per normalized email with no such contact, the *source
//!    lead* — the earliest lead by `created_on` (NULL last), then smallest id.
//!    One marketing-only contact is created from it: its first and last name,
//!    its email trimmed (case kept), its account, a new v4 uuid, and
//!    `created_on` = the reference time. Every orphan with that email links
//!    to this one contact.
//! 4. `segql_link`: lead → contact; the leads are updated from it at once.

use serde::Serialize;
use uuid::Uuid;

use super::checks::{query_count, verify_columns};
use super::LinkOptions;
use crate::db::{Param, Transaction};
use crate::error::{Error, Result};
use crate::schema::{FieldType, Schema};
use crate::sql::Dialect;

/// What a link-orphans run did (or, with `dry_run`, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Orphaned leads linked to a contact that already existed.
    pub linked_to_existing: u64,
    /// Marketing-only contacts created, one per distinct normalized email.
    pub contacts_created: u64,
    /// Orphaned leads linked to a contact created by this run.
    pub leads_linked_to_created: u64,
    /// Orphaned leads left alone because their email is missing or blank.
    pub skipped_without_email: u64,
    /// Every lead linked, ascending by lead id.
    pub links: Vec<LeadLink>,
    /// The ids of the skipped leads, ascending.
    pub skipped: Vec<Uuid>,
}

/// One lead linked by a run: the audit trail of `--format json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeadLink {
    pub lead_id: Uuid,
    pub contact_id: Uuid,
    /// Whether the contact was created by this run.
    pub contact_created: bool,
}

/// Quoted table and column names of the lead and contact entities.
struct Layout {
    lead: String,
    lead_id: String,
    lead_email: String,
    lead_first: String,
    lead_last: String,
    lead_account: String,
    lead_created: String,
    lead_contact: String,
    contact: String,
    contact_id: String,
    contact_email: String,
    contact_first: String,
    contact_last: String,
    contact_account: String,
    contact_created: String,
    contact_marketing_only: String,
    /// Other NOT NULL bool columns of contact, set to false on new contacts
    /// so the insert does not depend on column defaults.
    contact_false_flags: Vec<String>,
}

const OPERATION: &str = "link-orphans";

/// Temporary tables of a run, dropped before it ends.
const TEMP_TABLES: [&str; 6] = [
    "segql_orphan",
    "segql_email",
    "segql_match",
    "segql_new",
    "segql_new_id",
    "segql_link",
];

/// Resolve the columns link-orphans uses from the schema and check that the
/// database has them.
fn layout(conn: &mut dyn Transaction, schema: &Schema) -> Result<Layout> {
    let entity = |name: &str| {
        schema.entity(name).ok_or_else(|| Error::Schema {
            message: format!("{OPERATION} needs entity '{name}', which the schema does not have"),
        })
    };
    let lead = entity("lead")?;
    let contact = entity("contact")?;
    let link_field = schema
        .relationships
        .iter()
        .filter(|r| r.child == lead.name && r.parent == contact.name)
        .map(|r| r.child_field.clone())
        .collect::<Vec<_>>();
    let [link_field] = link_field.as_slice() else {
        return Err(Error::Schema {
            message: format!(
                "{OPERATION} needs exactly one relationship from lead to contact; the schema has {}",
                link_field.len()
            ),
        });
    };
    let column = |entity: &crate::schema::Entity, field: &str| {
        entity
            .field(field)
            .map(|f| f.column.clone())
            .ok_or_else(|| Error::Schema {
                message: format!(
                    "{OPERATION} needs field '{field}' on {}, which the schema does not have",
                    entity.name
                ),
            })
    };
    let lead_cols = [
        column(lead, &lead.key)?,
        column(lead, "email")?,
        column(lead, "first_name")?,
        column(lead, "last_name")?,
        column(lead, "account_id")?,
        column(lead, "created_on")?,
        column(lead, link_field)?,
    ];
    let contact_cols = [
        column(contact, &contact.key)?,
        column(contact, "email")?,
        column(contact, "first_name")?,
        column(contact, "last_name")?,
        column(contact, "account_id")?,
        column(contact, "created_on")?,
        column(contact, "marketing_only")?,
    ];
    let false_flags: Vec<String> = contact
        .fields
        .iter()
        .filter(|f| {
            f.ty == FieldType::Bool && !f.nullable && f.column != contact_cols[6]
            // marketing_only is set to true
        })
        .map(|f| f.column.clone())
        .collect();

    fn refs(cols: &[String]) -> Vec<&str> {
        cols.iter().map(String::as_str).collect()
    }
    // The lock is the transaction's first statement: on PostgreSQL its
    // snapshot is taken after it (see `Transaction::lock_for_writing`).
    let quoted = |table: &str| conn.dialect().quote_ident(table);
    let (lead_table, contact_table) = (quoted(&lead.table), quoted(&contact.table));
    conn.lock_for_writing(&[&lead_table, &contact_table])?;
    verify_columns(conn, OPERATION, &lead.table, &refs(&lead_cols))?;
    let mut needed = refs(&contact_cols);
    needed.extend(false_flags.iter().map(String::as_str));
    verify_columns(conn, OPERATION, &contact.table, &needed)?;

    let d = conn.dialect();
    let q = |s: &str| d.quote_ident(s);
    Ok(Layout {
        lead: q(&lead.table),
        lead_id: q(&lead_cols[0]),
        lead_email: q(&lead_cols[1]),
        lead_first: q(&lead_cols[2]),
        lead_last: q(&lead_cols[3]),
        lead_account: q(&lead_cols[4]),
        lead_created: q(&lead_cols[5]),
        lead_contact: q(&lead_cols[6]),
        contact: q(&contact.table),
        contact_id: q(&contact_cols[0]),
        contact_email: q(&contact_cols[1]),
        contact_first: q(&contact_cols[2]),
        contact_last: q(&contact_cols[3]),
        contact_account: q(&contact_cols[4]),
        contact_created: q(&contact_cols[5]),
        contact_marketing_only: q(&contact_cols[6]),
        contact_false_flags: false_flags.iter().map(|c| q(c)).collect(),
    })
}

/// Which orphaned leads a run gives a contact.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    /// Every orphaned lead of the database (`segql link-orphans`).
    All,
    /// Only the orphans among the leads whose ids the temporary table
    /// named here holds in its column `lead_id` (typed like the lead key):
    /// the leads an import created or updated.
    Leads(&'a str),
}

/// Run link-orphans inside the caller's open transaction. Writes happen only
/// through that transaction, so the caller commits or rolls back the lot.
pub(crate) fn run(
    conn: &mut dyn Transaction,
    schema: &Schema,
    options: &LinkOptions,
) -> Result<LinkReport> {
    run_for(conn, schema, options, Scope::All)
}

/// [`run`] limited to the orphans of `scope`; the same rules, so a lead
/// linked here is linked exactly as `link-orphans` would link it.
pub(crate) fn run_for(
    conn: &mut dyn Transaction,
    schema: &Schema,
    options: &LinkOptions,
    scope: Scope<'_>,
) -> Result<LinkReport> {
    let l = layout(conn, schema)?;
    let d = conn.dialect();
    let t = |name: &str| d.temp_table(name);
    for table in TEMP_TABLES {
        conn.execute(&format!("DROP TABLE IF EXISTS {}", t(table)), &[])?;
    }

    // Orphans outside the scope are not this run's business.
    let in_scope = match scope {
        Scope::All => String::new(),
        Scope::Leads(table) => {
            format!(" AND l.{} IN (SELECT lead_id FROM {})", l.lead_id, t(table))
        }
    };

    // 1. Orphans that have an email, with it normalized.
    let lead_norm = normalize_email(d, &format!("l.{}", l.lead_email));
    conn.execute(
        &d.create_temp_as(
            "segql_orphan",
            &format!(
                "SELECT l.{id} AS lead_id, {lead_norm} AS norm, l.{created} AS created_on \
                 FROM {lead} AS l WHERE l.{contact} IS NULL AND {lead_norm} <> ''{in_scope}",
                id = l.lead_id,
                created = l.lead_created,
                lead = l.lead,
                contact = l.lead_contact,
            ),
        ),
        &[],
    )?;
    conn.execute(&d.create_temp_index("segql_orphan", "norm", false), &[])?;

    // Orphans without a usable email are reported and left alone.
    let skipped = conn.query_text(
        &format!(
            "SELECT CAST(l.{id} AS TEXT) FROM {lead} AS l \
             WHERE l.{contact} IS NULL AND (l.{email} IS NULL OR {lead_norm} = ''){in_scope} \
             ORDER BY l.{id}",
            id = l.lead_id,
            lead = l.lead,
            contact = l.lead_contact,
            email = l.lead_email,
        ),
        &[],
    )?;
    let skipped = skipped
        .into_iter()
        .map(|row| parse_id(row.first().cloned().flatten(), "lead"))
        .collect::<Result<Vec<_>>>()?;

    // 2. The best existing contact per orphan email.
    conn.execute(
        &d.create_temp_as(
            "segql_email",
            &format!("SELECT DISTINCT norm FROM {}", t("segql_orphan")),
        ),
        &[],
    )?;
    conn.execute(&d.create_temp_index("segql_email", "norm", true), &[])?;
    let contact_norm = normalize_email(d, &format!("c.{}", l.contact_email));
    conn.execute(
        &d.create_temp_as(
            "segql_match",
            &format!(
                "SELECT norm, contact_id FROM (\
                   SELECT e.norm AS norm, c.{id} AS contact_id, ROW_NUMBER() OVER (\
                     PARTITION BY e.norm ORDER BY \
                     CASE WHEN c.{mo} = {yes} THEN 1 ELSE 0 END, \
                     CASE WHEN c.{created} IS NULL THEN 1 ELSE 0 END, c.{created}, c.{id}) AS rn \
                   FROM {contact} AS c {join} {email} AS e ON e.norm = {contact_norm}\
                 ) AS ranked WHERE rn = 1",
                id = l.contact_id,
                mo = l.contact_marketing_only,
                yes = d.stored_bool(true),
                created = l.contact_created,
                contact = l.contact,
                join = d.ordered_join(),
                email = t("segql_email"),
            ),
        ),
        &[],
    )?;
    conn.execute(&d.create_temp_index("segql_match", "norm", true), &[])?;

    // 3. One source lead per email that no contact has.
    conn.execute(
        &d.create_temp_as(
            "segql_new",
            &format!(
                "SELECT ROW_NUMBER() OVER (ORDER BY norm) AS n, norm, lead_id AS source_lead FROM (\
                   SELECT o.norm AS norm, o.lead_id AS lead_id, ROW_NUMBER() OVER (\
                     PARTITION BY o.norm ORDER BY \
                     CASE WHEN o.created_on IS NULL THEN 1 ELSE 0 END, o.created_on, o.lead_id) AS rn \
                   FROM {orphan} AS o \
                   WHERE NOT EXISTS (SELECT 1 FROM {matched} AS m WHERE m.norm = o.norm)\
                 ) AS firsts WHERE rn = 1",
                orphan = t("segql_orphan"),
                matched = t("segql_match"),
            ),
        ),
        &[],
    )?;
    conn.execute(&d.create_temp_index("segql_new", "norm", true), &[])?;
    let created = query_count(
        conn,
        &format!("SELECT CAST(count(*) AS TEXT) FROM {}", t("segql_new")),
        &[],
    )?;
    let new_ids: Vec<Uuid> = (0..created).map(|_| Uuid::new_v4()).collect();
    conn.fill_numbered_ids("segql_new_id", &new_ids)?;

    // The new contacts, all marketing-only, created "now".
    let mut columns = vec![
        l.contact_id.clone(),
        l.contact_first.clone(),
        l.contact_last.clone(),
        l.contact_email.clone(),
        l.contact_account.clone(),
        l.contact_marketing_only.clone(),
        l.contact_created.clone(),
    ];
    let mut values = vec![
        "i.id".to_string(),
        format!("l.{}", l.lead_first),
        format!("l.{}", l.lead_last),
        d.trim_ascii_whitespace(&format!("l.{}", l.lead_email)),
        format!("l.{}", l.lead_account),
        d.stored_bool(true),
        d.text_param(1, &FieldType::DateTime),
    ];
    for flag in &l.contact_false_flags {
        columns.push(flag.clone());
        values.push(d.stored_bool(false));
    }
    let inserted = conn.execute(
        &format!(
            "INSERT INTO {contact} ({columns}) SELECT {values} \
             FROM {new} AS n JOIN {new_id} AS i ON i.n = n.n \
             JOIN {lead} AS l ON l.{lead_id} = n.source_lead",
            contact = l.contact,
            columns = columns.join(", "),
            values = values.join(", "),
            new = t("segql_new"),
            new_id = t("segql_new_id"),
            lead = l.lead,
            lead_id = l.lead_id,
        ),
        &[Param::Text(
            options.now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )],
    )?;
    if inserted != created {
        return Err(Error::Internal {
            message: format!("{OPERATION} planned {created} new contacts but inserted {inserted}"),
        });
    }

    // 4. Every orphan with its contact, then the leads in one statement.
    conn.execute(
        &d.create_temp_as(
            "segql_link",
            &format!(
                "SELECT o.lead_id AS lead_id, COALESCE(m.contact_id, i.id) AS contact_id, \
                   CASE WHEN m.contact_id IS NULL THEN 1 ELSE 0 END AS created \
                 FROM {orphan} AS o \
                 LEFT JOIN {matched} AS m ON m.norm = o.norm \
                 LEFT JOIN {new} AS n ON n.norm = o.norm \
                 LEFT JOIN {new_id} AS i ON i.n = n.n",
                orphan = t("segql_orphan"),
                matched = t("segql_match"),
                new = t("segql_new"),
                new_id = t("segql_new_id"),
            ),
        ),
        &[],
    )?;
    conn.execute(&d.create_temp_index("segql_link", "lead_id", true), &[])?;
    // UPDATE ... FROM walks the links once and finds each lead by its key;
    // a correlated subquery per lead took twice as long at 600k links.
    let updated = conn.execute(
        &format!(
            "UPDATE {lead} SET {contact} = k.contact_id FROM {link} AS k \
             WHERE {lead}.{id} = k.lead_id AND {lead}.{contact} IS NULL",
            lead = l.lead,
            contact = l.lead_contact,
            link = t("segql_link"),
            id = l.lead_id,
        ),
        &[],
    )?;
    let (planned, leads_linked_to_created) = link_counts(conn, &t("segql_link"))?;
    if updated != planned {
        return Err(Error::Internal {
            message: format!("{OPERATION} planned {planned} links but updated {updated} leads"),
        });
    }
    // The audit trail of every link is `link-orphans`' own; an import
    // reports counts, and a million links need not cross into memory.
    let links = match scope {
        Scope::All => read_links(conn, &t("segql_link"))?,
        Scope::Leads(_) => Vec::new(),
    };
    for table in TEMP_TABLES {
        conn.execute(&format!("DROP TABLE IF EXISTS {}", t(table)), &[])?;
    }

    Ok(LinkReport {
        dry_run: options.dry_run,
        linked_to_existing: planned - leads_linked_to_created,
        contacts_created: created,
        leads_linked_to_created,
        skipped_without_email: skipped.len() as u64,
        links,
        skipped,
    })
}

/// How many leads `link_table` links, and how many of them to a contact
/// created by this run.
fn link_counts(conn: &mut dyn Transaction, link_table: &str) -> Result<(u64, u64)> {
    let rows = conn.query_text(
        &format!(
            "SELECT CAST(count(*) AS TEXT), CAST(COALESCE(SUM(created), 0) AS TEXT) \
             FROM {link_table}"
        ),
        &[],
    )?;
    let number = |i: usize| -> Result<u64> {
        rows.first()
            .and_then(|row| row.get(i).cloned().flatten())
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| Error::Internal {
                message: format!("{OPERATION}: no link counts from {link_table}"),
            })
    };
    Ok((number(0)?, number(1)?))
}

/// Every link of `link_table`, ascending by lead id.
fn read_links(conn: &mut dyn Transaction, link_table: &str) -> Result<Vec<LeadLink>> {
    let rows = conn.query_text(
        &format!(
            "SELECT CAST(lead_id AS TEXT), CAST(contact_id AS TEXT), CAST(created AS TEXT) \
             FROM {link_table} ORDER BY lead_id"
        ),
        &[],
    )?;
    rows.into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            Ok(LeadLink {
                lead_id: parse_id(cells.next().flatten(), "lead")?,
                contact_id: parse_id(cells.next().flatten(), "contact")?,
                contact_created: cells.next().flatten().as_deref() == Some("1"),
            })
        })
        .collect()
}

/// `expr` trimmed of ASCII whitespace and with ASCII letters (only those)
/// folded to lower case: how emails are compared.
fn normalize_email(d: &dyn Dialect, expr: &str) -> String {
    d.fold_ascii_case(&d.trim_ascii_whitespace(expr))
}

/// A record id read back from the database.
fn parse_id(text: Option<String>, entity: &str) -> Result<Uuid> {
    let text = text.unwrap_or_default();
    Uuid::parse_str(&text).map_err(|_| Error::Database {
        message: format!("{entity} id '{text}' is not a uuid"),
    })
}
