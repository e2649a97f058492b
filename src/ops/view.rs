//! `segql view` (SPEC §7): a database view whose rows are a segment's
//! records, so that other tools and list screens read the segment without
//! segql; and its removal.
//!
//! The view's `SELECT` comes from the SQL generator with its literals
//! written in ([`crate::sql::to_view_sql`]): a view takes no parameters.
//! Creating one is a few catalog questions and two DDL statements in one
//! transaction of any [`Backend`]: what the name is now (a table is never
//! touched), which other views read it (they would break, so replacing is
//! refused), then `DROP VIEW` (when replacing) and `CREATE VIEW`. Neither
//! SQLite nor PostgreSQL can `CREATE OR REPLACE` a view whose columns
//! change, hence the drop; inside the transaction no reader ever sees the
//! name missing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::check::value_type;
use crate::db::{in_transaction, Backend, Relation, Transaction};
use crate::error::{Error, Result};
use crate::plan::{FieldRef, FieldTest, Plan, PlanExpr, Test};
use crate::schema::Schema;
use crate::sql::{self, SqlQuery};

/// The longest view name: PostgreSQL cuts identifiers to 63 bytes (with
/// only a notice), which would make another name than the one asked for.
pub const MAX_VIEW_NAME: usize = 63;

/// Options of `view`.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    /// Do everything, report, and roll back.
    pub dry_run: bool,
    /// The time the view is made at. The view's `now` and `today` are the
    /// database's clock whenever it is read; this only bounds them: each
    /// relative time must lie in the years 0000 to 9999 now, as in a run.
    pub now: DateTime<Utc>,
}

/// What `view` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewAction {
    Created,
    Replaced,
    Dropped,
}

/// The report of `view`: `--format json` prints it as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViewReport {
    /// Always 1 (SPEC §4: tools detect changes by it).
    pub format: u32,
    pub view: String,
    pub action: ViewAction,
    /// The rows the new view holds when it is made (none for a drop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    pub dry_run: bool,
}

/// Checks that `name` can name a view in every database segql writes:
/// ASCII letters, digits and underscores, not starting with a digit (the
/// identifiers of SPEC 2.1), at most [`MAX_VIEW_NAME`] bytes. The dialect
/// quotes it, so keywords (`order`) are fine.
pub fn check_view_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if well_formed && name.len() <= MAX_VIEW_NAME {
        return Ok(());
    }
    let shown: String = name.chars().take(80).collect();
    Err(refused(format!(
        "invalid view name '{shown}': a view name is ASCII letters, digits and underscores, \
         not starting with a digit, at most {MAX_VIEW_NAME} characters (e.g. sales_contact)"
    )))
}

/// Creates the view `name` whose rows are the records of `plan` (every
/// column of its root entity, stored values: choice codes, not labels), or
/// replaces the view of that name, in one transaction; reports how many
/// rows it holds now. Literals are written into the view escaped by the
/// dialect; `now` and `today` are the database's clock when the view is
/// read (PostgreSQL: `today` is the UTC date).
///
/// Errors (nothing is changed): [`Error::Unavailable`] when `name` is not a
/// valid name ([`check_view_name`]), names a table or something else that
/// is not a view, or names a view that other views read;
/// [`Error::Database`] when the database lacks a table or column the view
/// reads; [`Error::InvalidValue`] when a literal cannot be written (text
/// holding U+0000 on PostgreSQL) or a relative time leaves the years 0000
/// to 9999.
pub fn create_view(
    db: &mut dyn Backend,
    schema: &Schema,
    name: &str,
    plan: &Plan,
    options: &ViewOptions,
) -> Result<ViewReport> {
    check_view_name(name)?;
    let select = sql::to_view_sql(plan, schema, db.dialect(), options.now)?;
    let reads = reading_every_column(plan, schema)?;
    in_transaction(db, options.dry_run, |tx| {
        tx.verify_layout(schema, &reads)?;
        let quoted = tx.dialect().quote_ident(name);
        let action = match tx.relation(name)? {
            None => ViewAction::Created,
            Some(Relation::View) => {
                refuse_if_read(tx, name, "replace")?;
                tx.execute(&format!("DROP VIEW {quoted}"), &[])?;
                ViewAction::Replaced
            }
            Some(other) => {
                return Err(not_a_view(
                    name,
                    &other,
                    "put a view in its place: choose another name",
                ))
            }
        };
        tx.execute(&format!("CREATE VIEW {quoted} AS\n{}", select.sql), &[])?;
        // Reading it back proves the view compiles (SQLite checks a view
        // only when it is read) and gives the report its figure.
        let rows = tx.query_count(&SqlQuery {
            sql: format!("SELECT COUNT(*) FROM {quoted}"),
            params: Vec::new(),
            integer_sums: select.integer_sums.clone(),
            settings: select.settings.clone(),
        })?;
        Ok(ViewReport {
            format: 1,
            view: name.to_string(),
            action,
            rows: Some(rows),
            dry_run: options.dry_run,
        })
    })
}

/// Drops the view `name`, in one transaction.
///
/// Errors (nothing is changed): [`Error::Unavailable`] when `name` is not a
/// valid name, there is no view of that name, it is a table or another
/// kind of object, or other views read it.
pub fn drop_view(db: &mut dyn Backend, name: &str, dry_run: bool) -> Result<ViewReport> {
    check_view_name(name)?;
    in_transaction(db, dry_run, |tx| {
        match tx.relation(name)? {
            Some(Relation::View) => {}
            None => {
                return Err(refused(format!(
                    "there is no view '{name}' to drop (names are as `segql view` created them)"
                )))
            }
            Some(other) => return Err(not_a_view(name, &other, "drop it")),
        }
        refuse_if_read(tx, name, "drop")?;
        let quoted = tx.dialect().quote_ident(name);
        tx.execute(&format!("DROP VIEW {quoted}"), &[])?;
        Ok(ViewReport {
            format: 1,
            view: name.to_string(),
            action: ViewAction::Dropped,
            rows: None,
            dry_run,
        })
    })
}

/// An error when other views read the view `name`: `verb`ing it would
/// break them.
fn refuse_if_read(tx: &mut dyn Transaction, name: &str, verb: &str) -> Result<()> {
    let readers = tx.dependent_views(name)?;
    if readers.is_empty() {
        return Ok(());
    }
    let (noun, them) = if readers.len() == 1 {
        ("view", "it")
    } else {
        ("views", "them")
    };
    Err(refused(format!(
        "cannot {verb} view '{name}': the {noun} {} read{} it and would break; \
         drop or change {them} first",
        readers.join(", "),
        if readers.len() == 1 { "s" } else { "" }
    )))
}

/// The refusal to touch `name`, which is `what` rather than a view.
fn not_a_view(name: &str, what: &Relation, action: &str) -> Error {
    let what = match what {
        Relation::Table => "table".to_string(),
        Relation::View => "view".to_string(),
        Relation::Other(kind) => kind.clone(),
    };
    let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    refused(format!(
        "'{name}' is {article} {what}, not a view; segql will not {action}"
    ))
}

fn refused(message: String) -> Error {
    Error::Unavailable { message }
}

/// A plan that reads what the view reads: `plan`'s tables and columns and
/// every column of its root entity (the view selects them all), for the
/// layout check; its meaning is of no use.
fn reading_every_column(plan: &Plan, schema: &Schema) -> Result<Plan> {
    let root = sql::entity(schema, &plan.entity)?;
    let columns = root
        .fields
        .iter()
        .map(|field| {
            PlanExpr::Field(FieldTest {
                field: FieldRef {
                    entity: root.name.as_str().into(),
                    field: field.name.as_str().into(),
                    ty: value_type(&field.ty),
                },
                test: Test::IsNotNull,
            })
        })
        .collect();
    Ok(Plan {
        entity: plan.entity.clone(),
        filter: PlanExpr::And(vec![plan.filter.clone(), PlanExpr::Or(columns)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_names_are_plain_identifiers() {
        for good in ["sales_contact", "_x", "Order", "order", &"a".repeat(63)] {
            assert!(check_view_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1x",
            "sales-contact",
            "a b",
            "x;drop",
            "\"x\"",
            "é",
            &"a".repeat(64),
        ] {
            let err = check_view_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid view name"), "{bad}: {err}");
        }
    }
}
