//! The schema: which entities exist, how they map to tables and columns, how
//! they relate, and which audience guards they carry. Names in the language are
//! matched case-insensitively against the names here.

use serde::{Deserialize, Serialize};

use crate::error::{suggest, Error, Names, Result};
use crate::span::Span;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub entities: Vec<Entity>,
    pub relationships: Vec<Relationship>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The name used in the language, e.g. `contact`.
    pub name: String,
    /// The table it is stored in.
    pub table: String,
    /// The name of the key field (a uuid); it is one of `fields`.
    pub key: String,
    pub fields: Vec<Field>,
    pub guards: Vec<Guard>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub column: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub nullable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Uuid,
    Text,
    Integer,
    Decimal,
    Bool,
    Date,
    #[serde(rename = "datetime")]
    DateTime,
    Choice(ChoiceSet),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceSet {
    /// Whether `<`, `<=`, `>`, `>=` and `between` are allowed (by code order).
    pub ordered: bool,
    pub options: Vec<ChoiceOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub label: String,
    pub code: i64,
}

/// A many-to-one link: every `child` record points at zero or one `parent`
/// record through `child_field`, which holds the parent's key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    /// e.g. `lead_parent_contact`; what `via` names.
    pub name: String,
    /// The many side, e.g. `lead`. The parent reaches it by this entity name.
    pub child: String,
    /// The foreign-key field on the child, e.g. `contact_id`.
    pub child_field: String,
    /// The one side, e.g. `contact`.
    pub parent: String,
    /// The name by which the child reaches the parent (`has contact`,
    /// `contact.email`).
    pub parent_reach: String,
}

/// A named expression ANDed into a query with `--guard NAME`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guard {
    pub name: String,
    /// Source text of an expression over the guard's entity.
    pub expr: String,
}

impl FieldType {
    /// The type's name as users write it in a schema and read it in errors.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Uuid => "uuid",
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Choice(_) => "choice",
        }
    }

    /// Whether values of the type have an order the language uses (`<`,
    /// `between`, `min`, `max`): text, numbers, dates, date-times and
    /// `ordered` choices.
    pub fn is_ordered(&self) -> bool {
        match self {
            FieldType::Text
            | FieldType::Integer
            | FieldType::Decimal
            | FieldType::Date
            | FieldType::DateTime => true,
            FieldType::Choice(set) => set.ordered,
            FieldType::Bool | FieldType::Uuid => false,
        }
    }

    /// Whether the type is a number (what `sum` and `avg` take).
    pub fn is_number(&self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Decimal)
    }
}

impl Schema {
    /// The entity named `name`, ignoring ASCII case.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// The entity named `name`, or the error that says so, with the nearest
    /// name and the entities there are; `span` is where `name` was written.
    pub fn find_entity(&self, name: &str, span: Span) -> Result<&Entity> {
        self.entity(name).ok_or_else(|| Error::UnknownEntity {
            name: name.to_string(),
            suggestion: suggest(name, self.entities.iter().map(|e| e.name.as_str())),
            entities: Names::of(name, self.entities.iter().map(|e| e.name.as_str())),
            span,
        })
    }

    /// The relationship named `name`, ignoring ASCII case.
    pub fn relationship(&self, name: &str) -> Option<&Relationship> {
        self.relationships
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }
}

impl Entity {
    /// The field named `name`, ignoring ASCII case.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The field named `name`, or the error that says so, with the nearest
    /// fields of this entity; `span` is where `name` was written. Whether a
    /// related entity has the field is for the caller to add
    /// (`Error::UnknownField::elsewhere`), as only it knows what was written.
    pub fn find_field(&self, name: &str, span: Span) -> Result<&Field> {
        self.field(name).ok_or_else(|| Error::UnknownField {
            name: name.to_string(),
            entity: self.name.clone(),
            suggestion: suggest(name, self.fields.iter().map(|f| f.name.as_str())),
            fields: Names::of(name, self.fields.iter().map(|f| f.name.as_str())),
            elsewhere: Vec::new(),
            span,
        })
    }

    pub fn key_field(&self) -> Option<&Field> {
        self.field(&self.key)
    }

    pub fn guard(&self, name: &str) -> Option<&Guard> {
        self.guards
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }
}

impl ChoiceSet {
    /// The option whose label matches, ignoring case (Unicode-aware lowercase).
    pub fn by_label(&self, label: &str) -> Option<&ChoiceOption> {
        // Every choice literal of a query is looked up here. Between two
        // ASCII texts Unicode lowercasing is ASCII's, compared without
        // building either; any other pair is lowercased (the Kelvin sign
        // lowercases to an ASCII `k`).
        let mut wanted: Option<String> = None;
        let ascii = label.is_ascii();
        self.options.iter().find(|o| {
            if ascii && o.label.is_ascii() {
                return o.label.eq_ignore_ascii_case(label);
            }
            let wanted = wanted.get_or_insert_with(|| label.to_lowercase());
            o.label.to_lowercase() == *wanted
        })
    }

    pub fn by_code(&self, code: i64) -> Option<&ChoiceOption> {
        self.options.iter().find(|o| o.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_as_their_unicode_lowercase_forms_do() {
        let labels = ["Decision Maker", "Kelvin", "Ärger", "İstanbul", "ΟΔΟΣ"];
        let set = ChoiceSet {
            ordered: false,
            options: (0..)
                .zip(labels)
                .map(|(code, label)| ChoiceOption {
                    label: label.into(),
                    code,
                })
                .collect(),
        };
        let queries = [
            "decision maker",
            "DECISION MAKER",
            "decision  maker",
            "\u{212A}elvin",
            "kelvin",
            "ärger",
            "ÄRGER",
            "i̇stanbul",
            "istanbul",
            "οδος",
            "οδοσ",
            "",
        ];
        for query in queries {
            let expected = set
                .options
                .iter()
                .find(|o| o.label.to_lowercase() == query.to_lowercase());
            assert_eq!(set.by_label(query), expected, "{query}");
        }
    }
}
