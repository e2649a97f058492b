//! Loading a schema from a TOML file (`--schema FILE`).
//!
//! The file layout is a serde "file" structure of its own, mapped into the
//! model afterwards, so the model stays free of file-format defaults:
//!
//! ```toml
//! [[entity]]
//! name = "contact"            # the name used in queries
//! table = "contact"           # default: the entity name
//! key = "id"                  # default: "id"; must be a uuid field
//! fields = [
//!   { name = "id", type = "uuid" },               # the key is never null
//!   { name = "email", type = "text" },            # nullable defaults to true
//!   { name = "mail", column = "EMailAddress1", type = "text" },  # column defaults to name
//!   { name = "role", type = "choice", options = { "Decision Maker" = 1, "Employee" = 2 } },
//!   { name = "consent_level", type = "choice", ordered = true, options = { "Not Set" = 0, "Given" = 1 } },
//!   { name = "do_not_email", type = "bool", nullable = false },
//! ]
//! guards = { email = "not do_not_email" }
//!
//! [[relationship]]
//! name = "contact_parent_account"
//! child = "contact"           # the many side
//! child_field = "account_id"  # a uuid field of the child holding the parent's key
//! parent = "account"          # the one side
//! parent_reach = "account"    # how the child names the parent; default: the parent entity's name
//! ```
//!
//! Fields may equally be written as `[[entity.fields]]` tables. Choice options
//! and guards keep the order in which the file lists them. Unknown keys are
//! errors, so a misspelt `nulable` does not pass silently.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::model::*;
use crate::error::{Error, Result};

/// Parse a schema from TOML text and validate it.
pub fn load_schema_toml(text: &str) -> Result<Schema> {
    let file: SchemaFile = ::toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let schema = file.into_model()?;
    schema.validate()?;
    Ok(schema)
}

/// Read, parse and validate a schema file. Errors name the file.
pub fn load_schema_file(path: &Path) -> Result<Schema> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Schema {
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    load_schema_toml(&text).map_err(|e| match e {
        Error::Schema { message } => Error::Schema {
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    })
}

/// A TOML syntax or shape error, with the line and column toml reports.
fn toml_error(text: &str, error: &::toml::de::Error) -> Error {
    // toml's messages may span lines ("invalid inline table\nexpected `}`").
    let message = error
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = match error.span() {
        Some(span) => {
            let (line, col) =
                crate::span::Span::new(span.start, span.end, Default::default()).line_col(text);
            format!("line {line}, column {col}: {message}")
        }
        None => message,
    };
    Error::Schema { message }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    #[serde(default)]
    entity: Vec<EntityFile>,
    #[serde(default)]
    relationship: Vec<RelationshipFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityFile {
    name: String,
    table: Option<String>,
    key: Option<String>,
    #[serde(default)]
    fields: Vec<FieldFile>,
    #[serde(default)]
    guards: Ordered<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFile {
    name: String,
    column: Option<String>,
    #[serde(rename = "type")]
    ty: TypeName,
    nullable: Option<bool>,
    ordered: Option<bool>,
    options: Option<Ordered<i64>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum TypeName {
    Uuid,
    Text,
    Integer,
    Decimal,
    Bool,
    Date,
    #[serde(rename = "datetime")]
    DateTime,
    Choice,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelationshipFile {
    name: String,
    child: String,
    child_field: String,
    parent: String,
    parent_reach: Option<String>,
}

/// A TOML table read as a list of entries in file order (serde maps would
/// sort or hash them, losing the order the author chose for choice labels).
struct Ordered<V>(Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

impl SchemaFile {
    fn into_model(self) -> Result<Schema> {
        let entities = self
            .entity
            .into_iter()
            .map(EntityFile::into_model)
            .collect::<Result<Vec<_>>>()?;
        let relationships = self
            .relationship
            .into_iter()
            .map(|r| Relationship {
                parent_reach: r.parent_reach.unwrap_or_else(|| r.parent.clone()),
                name: r.name,
                child: r.child,
                child_field: r.child_field,
                parent: r.parent,
            })
            .collect();
        let mut schema = Schema {
            entities,
            relationships,
        };
        canonical_references(&mut schema);
        Ok(schema)
    }
}

/// Spell names that refer to other names (a relationship's entities and
/// foreign-key field, an entity's key) the way their definitions do, so code
/// downstream may compare them exactly. Names that match nothing are left
/// for [`Schema::validate`] to report.
fn canonical_references(schema: &mut Schema) {
    for entity in &mut schema.entities {
        if let Some(key) = entity.field(&entity.key) {
            entity.key = key.name.clone();
        }
    }
    let entities = &schema.entities;
    for rel in &mut schema.relationships {
        if let Some(parent) = entities
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(&rel.parent))
        {
            rel.parent = parent.name.clone();
        }
        if let Some(child) = entities
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(&rel.child))
        {
            rel.child = child.name.clone();
            if let Some(field) = child.field(&rel.child_field) {
                rel.child_field = field.name.clone();
            }
        }
    }
}

impl EntityFile {
    fn into_model(self) -> Result<Entity> {
        let key = self.key.unwrap_or_else(|| "id".to_string());
        let entity_name = self.name;
        let fields = self
            .fields
            .into_iter()
            .map(|f| {
                let is_key = f.name.eq_ignore_ascii_case(&key);
                f.into_model(&entity_name, is_key)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Entity {
            table: self.table.unwrap_or_else(|| entity_name.clone()),
            name: entity_name,
            key,
            fields,
            guards: self
                .guards
                .0
                .into_iter()
                .map(|(name, expr)| Guard { name, expr })
                .collect(),
        })
    }
}

impl FieldFile {
    fn into_model(self, entity: &str, is_key: bool) -> Result<Field> {
        let at = || format!("field {entity}.{}", self.name);
        let ty = match (self.ty, self.options) {
            (TypeName::Choice, Some(options)) => FieldType::Choice(ChoiceSet {
                ordered: self.ordered.unwrap_or(false),
                options: options
                    .0
                    .into_iter()
                    .map(|(label, code)| ChoiceOption { label, code })
                    .collect(),
            }),
            (TypeName::Choice, None) => {
                return Err(schema_error(format!(
                    "{} is a choice but has no `options` (e.g. options = {{ \"Open\" = 0, \"Closed\" = 1 }})",
                    at()
                )))
            }
            (_, Some(_)) => {
                return Err(schema_error(format!(
                    "{} has `options`, which only a choice field may have",
                    at()
                )))
            }
            (simple, None) => {
                if self.ordered.is_some() {
                    return Err(schema_error(format!(
                        "{} has `ordered`, which only a choice field may have",
                        at()
                    )));
                }
                match simple {
                    TypeName::Uuid => FieldType::Uuid,
                    TypeName::Text => FieldType::Text,
                    TypeName::Integer => FieldType::Integer,
                    TypeName::Decimal => FieldType::Decimal,
                    TypeName::Bool => FieldType::Bool,
                    TypeName::Date => FieldType::Date,
                    TypeName::DateTime => FieldType::DateTime,
                    TypeName::Choice => {
                        return Err(Error::Internal {
                            message: "choice type reached the simple-type arm".into(),
                        })
                    }
                }
            }
        };
        // The key identifies a record, so it always has a value; saying
        // otherwise is a mistake worth reporting rather than ignoring.
        let nullable = match (is_key, self.nullable) {
            (true, Some(true)) => {
                return Err(schema_error(format!(
                    "{} is the key of {entity} and cannot be nullable",
                    at()
                )))
            }
            (true, _) => false,
            (false, nullable) => nullable.unwrap_or(true),
        };
        Ok(Field {
            column: self.column.unwrap_or_else(|| self.name.clone()),
            name: self.name,
            ty,
            nullable,
        })
    }
}

fn schema_error(message: String) -> Error {
    Error::Schema { message }
}
