//! Which fields a result shows, and in which order.
//!
//! A table shows the key, then the fields that identify a record to a
//! person, then the fields the query tests (so a filter's effect can be
//! seen). The schema has no notion of identifying fields, so the rule is by
//! name: text fields named `name`, `title`, `topic`, `subject` or `email`, or
//! ending in `_name`, in schema order, at most three (contact: first_name,
//! last_name, email; account: name; lead: topic, first_name, last_name). An
//! entity with none shows its first two fields that are neither key nor
//! foreign key (interaction: type, occurred_on). `--columns` replaces the
//! choice exactly. json and csv show every field, key first.

use segql::schema::{Entity, Field, FieldType, Schema};

use super::failure::Failure;

/// How many identifying fields a table shows at most.
const IDENTIFYING: usize = 3;

/// Fields shown when an entity has no identifying ones by name.
const FALLBACK: usize = 2;

/// A shown field; an optional one may be hidden when the table is too wide.
pub struct Shown<'a> {
    pub field: &'a Field,
    pub optional: bool,
}

/// The default table columns: key, identifying fields (optional), then the
/// root fields the query tests, each once.
pub fn table_columns<'a>(
    schema: &Schema,
    entity: &'a Entity,
    query_fields: &[String],
) -> Vec<Shown<'a>> {
    let mut shown: Vec<Shown<'a>> = Vec::new();
    let mut add = |field: &'a Field, optional: bool| {
        if !shown.iter().any(|s| s.field.name == field.name) {
            shown.push(Shown { field, optional });
        }
    };
    if let Some(key) = entity.key_field() {
        add(key, false);
    }
    // Fields the query tests must stay: mark them before the optional ones.
    let tested: Vec<&Field> = query_fields
        .iter()
        .filter_map(|name| entity.field(name))
        .collect();
    for field in identifying(schema, entity) {
        let is_tested = tested.iter().any(|t| t.name == field.name);
        add(field, !is_tested);
    }
    for field in tested {
        add(field, false);
    }
    shown
}

/// Every field, key first, then in schema order.
pub fn all_columns(entity: &Entity) -> Vec<&Field> {
    let key = entity.key_field();
    key.into_iter()
        .chain(
            entity
                .fields
                .iter()
                .filter(|f| !f.name.eq_ignore_ascii_case(&entity.key)),
        )
        .collect()
}

/// The fields named by `--columns`, in the order given; an unknown name is
/// a usage error listing the valid ones and the nearest.
pub fn chosen<'a>(entity: &'a Entity, names: &[String]) -> Result<Vec<&'a Field>, Failure> {
    let valid = || {
        all_columns(entity)
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if names.is_empty() {
        return Err(Failure::usage(format!(
            "error: no columns given; valid columns of {}: {}",
            entity.name,
            valid()
        )));
    }
    names
        .iter()
        .map(|name| {
            entity.field(name.trim()).ok_or_else(|| {
                let nearest = segql::error::suggest(
                    name.trim(),
                    entity.fields.iter().map(|f| f.name.as_str()),
                )
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
                Failure::usage(format!(
                    "error: unknown column '{}' of {}{nearest}\nvalid columns: {}",
                    name.trim(),
                    entity.name,
                    valid()
                ))
            })
        })
        .collect()
}

/// The identifying fields of `entity` by the rule in the module doc.
fn identifying<'a>(schema: &Schema, entity: &'a Entity) -> Vec<&'a Field> {
    let by_name: Vec<&Field> = entity
        .fields
        .iter()
        .filter(|f| f.ty == FieldType::Text && names_a_record(&f.name))
        .take(IDENTIFYING)
        .collect();
    if !by_name.is_empty() {
        return by_name;
    }
    let is_foreign_key = |field: &Field| {
        schema.relationships.iter().any(|r| {
            r.child.eq_ignore_ascii_case(&entity.name)
                && r.child_field.eq_ignore_ascii_case(&field.name)
        })
    };
    entity
        .fields
        .iter()
        .filter(|f| !f.name.eq_ignore_ascii_case(&entity.key) && !is_foreign_key(f))
        .take(FALLBACK)
        .collect()
}

fn names_a_record(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "name" | "title" | "topic" | "subject" | "email"
    ) || name.ends_with("_name")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(shown: &[Shown<'_>]) -> Vec<String> {
        shown
            .iter()
            .map(|s| format!("{}{}", s.field.name, if s.optional { "?" } else { "" }))
            .collect()
    }

    #[test]
    fn identifying_fields_by_name_then_the_query_fields() {
        let schema = segql::schema::crm_schema();
        let contact = schema.entity("contact").expect("contact");
        let query = ["role".to_string(), "email".to_string()];
        assert_eq!(
            names(&table_columns(&schema, contact, &query)),
            ["id", "first_name?", "last_name?", "email", "role"]
        );
        let lead = schema.entity("lead").expect("lead");
        assert_eq!(
            names(&table_columns(&schema, lead, &[])),
            ["id", "topic?", "first_name?", "last_name?"]
        );
        let interaction = schema.entity("interaction").expect("interaction");
        assert_eq!(
            names(&table_columns(&schema, interaction, &[])),
            ["id", "type?", "occurred_on?"]
        );
    }

    #[test]
    fn chosen_columns_keep_their_order_and_unknown_ones_fail() {
        let schema = segql::schema::crm_schema();
        let contact = schema.entity("contact").expect("contact");
        let Ok(picked) = chosen(contact, &["email".into(), " ID".into()]) else {
            panic!("known columns");
        };
        let picked: Vec<&str> = picked.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(picked, ["email", "id"]);
        match chosen(contact, &["emial".into()]) {
            Err(Failure::Usage(message)) => {
                assert!(message.contains("did you mean 'email'"), "{message}");
                assert!(
                    message.contains("valid columns: id, first_name"),
                    "{message}"
                );
            }
            _ => panic!("an unknown column is a usage error"),
        }
    }
}
