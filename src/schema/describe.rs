//! A schema described for people and tools: what `segql schema` prints.
//! An analyst needs the names to write (entities, fields, the labels of
//! choices, the names `has` and dotted paths take, guards), not the tables
//! and columns behind them, so this is a view of [`Schema`] in the
//! language's terms. Everything here is serializable; the JSON carries
//! `"format": 1` like every JSON report of the command line.

use serde::Serialize;

use super::model::{Entity, Field, FieldType, Schema};
use crate::error::Result;
use crate::span::Span;

/// The version of the JSON layout of these descriptions.
pub const FORMAT: u32 = 1;

/// Every entity in one line each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchemaSummary {
    pub format: u32,
    pub entities: Vec<EntitySummary>,
}

/// One entity in brief: its key, how many fields, where it leads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntitySummary {
    pub name: String,
    pub key: String,
    pub fields: usize,
    pub relationships: Vec<Reach>,
    /// The names of its audience guards.
    pub guards: Vec<String>,
}

/// One entity in full.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntityDescription {
    pub format: u32,
    pub name: String,
    pub table: String,
    pub key: String,
    pub fields: Vec<FieldDescription>,
    pub relationships: Vec<Reach>,
    pub guards: Vec<GuardDescription>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDescription {
    pub name: String,
    /// The type's name as a schema writes it (`text`, `choice`, ...).
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// Whether the field can be missing (`is null`).
    pub nullable: bool,
    /// Whether it is the entity's key.
    pub key: bool,
    /// For a choice: whether `<`, `>=`, `between`, `min` and `max` work on
    /// it (by code order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered: Option<bool>,
    /// For a choice: its labels, in code order when ordered, else in the
    /// schema's order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    /// For a foreign key: the entity whose key it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links_to: Option<String>,
}

/// A choice label and the integer code it is stored as.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    pub label: String,
    pub code: i64,
}

/// Whether a relationship leads to one record or to many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cardinality {
    /// Many-to-one: the record holds the other's key. Works in `has` and in
    /// dotted paths (`account.name`).
    ToOne,
    /// One-to-many: other records hold this one's key. Works in `has`,
    /// its quantifiers and aggregates (`count(lead)`).
    ToMany,
}

impl Cardinality {
    pub fn name(self) -> &'static str {
        match self {
            Cardinality::ToOne => "to-one",
            Cardinality::ToMany => "to-many",
        }
    }
}

/// One way from an entity to a related one, in the terms a query uses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reach {
    /// What to write after `has` (or before the dot of a path).
    pub name: String,
    pub direction: Cardinality,
    /// The related entity.
    pub target: String,
    /// The relationship's own name, what `via` takes.
    pub relationship: String,
    /// The foreign-key field that makes the link (on the many side).
    pub field: String,
    /// Whether several relationships share `name` from this entity, so a
    /// query must add `via relationship`.
    pub needs_via: bool,
}

/// An audience guard and the condition it adds with `--guard NAME`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GuardDescription {
    pub name: String,
    pub condition: String,
}

/// Every entity of `schema` in brief, in the schema's order.
pub fn describe_schema(schema: &Schema) -> SchemaSummary {
    SchemaSummary {
        format: FORMAT,
        entities: schema
            .entities
            .iter()
            .map(|entity| EntitySummary {
                name: entity.name.clone(),
                key: entity.key.clone(),
                fields: entity.fields.len(),
                relationships: reaches(schema, entity),
                guards: entity.guards.iter().map(|g| g.name.clone()).collect(),
            })
            .collect(),
    }
}

/// The entity named `name` (ignoring ASCII case) in full. An unknown name
/// is an [`crate::Error::UnknownEntity`] with the nearest name and the
/// entities there are, its span covering `name` as a text of its own.
pub fn describe_entity(schema: &Schema, name: &str) -> Result<EntityDescription> {
    let entity = schema.find_entity(name, Span::query(0, name.len()))?;
    let relationships = reaches(schema, entity);
    Ok(EntityDescription {
        format: FORMAT,
        name: entity.name.clone(),
        table: entity.table.clone(),
        key: entity.key.clone(),
        fields: entity
            .fields
            .iter()
            .map(|field| describe_field(schema, entity, field))
            .collect(),
        relationships,
        guards: entity
            .guards
            .iter()
            .map(|g| GuardDescription {
                name: g.name.clone(),
                condition: g.expr.clone(),
            })
            .collect(),
    })
}

fn describe_field(schema: &Schema, entity: &Entity, field: &Field) -> FieldDescription {
    let (ordered, labels) = match &field.ty {
        FieldType::Choice(set) => {
            let mut options: Vec<Label> = set
                .options
                .iter()
                .map(|o| Label {
                    label: o.label.clone(),
                    code: o.code,
                })
                .collect();
            if set.ordered {
                // Stable: the order comparisons follow.
                options.sort_by_key(|o| o.code);
            }
            (Some(set.ordered), Some(options))
        }
        _ => (None, None),
    };
    let links_to = schema
        .relationships
        .iter()
        .find(|r| {
            r.child.eq_ignore_ascii_case(&entity.name)
                && r.child_field.eq_ignore_ascii_case(&field.name)
        })
        .map(|r| r.parent.clone());
    FieldDescription {
        name: field.name.clone(),
        ty: field.ty.name(),
        nullable: field.nullable,
        key: field.name.eq_ignore_ascii_case(&entity.key),
        ordered,
        labels,
        links_to,
    }
}

/// Every way `from` reaches a related entity, in the schema's order of
/// relationships: up to parents by their reach name, down to children by
/// the child entity's name (a relationship from an entity to itself gives
/// both).
pub fn reaches(schema: &Schema, from: &Entity) -> Vec<Reach> {
    let mut found = Vec::new();
    for rel in &schema.relationships {
        if rel.child.eq_ignore_ascii_case(&from.name) {
            found.push(Reach {
                name: rel.parent_reach.clone(),
                direction: Cardinality::ToOne,
                target: canonical(schema, &rel.parent),
                relationship: rel.name.clone(),
                field: rel.child_field.clone(),
                needs_via: false,
            });
        }
        if rel.parent.eq_ignore_ascii_case(&from.name) {
            found.push(Reach {
                name: canonical(schema, &rel.child),
                direction: Cardinality::ToMany,
                target: canonical(schema, &rel.child),
                relationship: rel.name.clone(),
                field: rel.child_field.clone(),
                needs_via: false,
            });
        }
    }
    let names: Vec<String> = found.iter().map(|r| r.name.to_lowercase()).collect();
    for reach in &mut found {
        let lower = reach.name.to_lowercase();
        reach.needs_via = names.iter().filter(|n| **n == lower).count() > 1;
    }
    found
}

/// An entity name in the schema's spelling.
fn canonical(schema: &Schema, name: &str) -> String {
    schema
        .entity(name)
        .map_or_else(|| name.to_string(), |e| e.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;
    use crate::Error;

    #[test]
    fn summary_lists_every_entity_with_its_links() {
        let summary = describe_schema(&crm_schema());
        let names: Vec<&str> = summary.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["account", "contact", "lead", "interaction", "subscription"]
        );
        let contact = &summary.entities[1];
        assert_eq!(contact.fields, 17);
        assert_eq!(contact.guards, ["email"]);
        let reached: Vec<(&str, Cardinality)> = contact
            .relationships
            .iter()
            .map(|r| (r.name.as_str(), r.direction))
            .collect();
        assert_eq!(
            reached,
            [
                ("lead", Cardinality::ToMany),
                ("account", Cardinality::ToOne),
                ("interaction", Cardinality::ToMany),
                ("subscription", Cardinality::ToMany),
            ]
        );
    }

    #[test]
    fn entity_names_are_case_insensitive_and_unknown_ones_list_the_entities() {
        let lead = describe_entity(&crm_schema(), "LEAD").expect("lead");
        assert_eq!(lead.name, "lead");
        let err = describe_entity(&crm_schema(), "person").expect_err("unknown");
        let Error::UnknownEntity {
            entities,
            suggestion,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(suggestion, &None);
        assert_eq!(entities.total, 5);
        assert!(err
            .to_string()
            .ends_with("entities: account, contact, lead, interaction, subscription"));
    }

    #[test]
    fn choices_say_whether_ordered_and_list_labels_in_order() {
        let contact = describe_entity(&crm_schema(), "contact").expect("contact");
        let consent = contact
            .fields
            .iter()
            .find(|f| f.name == "consent_level")
            .expect("consent_level");
        assert_eq!(consent.ordered, Some(true));
        let labels = consent.labels.as_ref().expect("labels");
        assert_eq!(labels[0].label, "Not Set");
        assert!(labels.windows(2).all(|w| w[0].code < w[1].code));
        let account_id = contact
            .fields
            .iter()
            .find(|f| f.name == "account_id")
            .expect("account_id");
        assert_eq!(account_id.links_to.as_deref(), Some("account"));
        assert!(contact.fields[0].key);
    }

    #[test]
    fn shared_reach_names_need_via() {
        let mut schema = crm_schema();
        schema.relationships.push(crate::schema::Relationship {
            name: "contact_billing_account".into(),
            child: "contact".into(),
            child_field: "account_id".into(),
            parent: "account".into(),
            parent_reach: "account".into(),
        });
        let contact = describe_entity(&schema, "contact").expect("contact");
        let to_account: Vec<&Reach> = contact
            .relationships
            .iter()
            .filter(|r| r.name == "account")
            .collect();
        assert_eq!(to_account.len(), 2);
        assert!(to_account.iter().all(|r| r.needs_via));
        assert!(contact
            .relationships
            .iter()
            .filter(|r| r.name != "account")
            .all(|r| !r.needs_via));
    }
}
