//! Consistency checks of a schema: every name a query could use must be
//! unambiguous and spellable, every key and link must point at a uuid field,
//! and every guard must be a valid expression over its entity.

use std::collections::HashSet;

use super::model::*;
use crate::error::{Error, Result};

/// Words the grammar reserves: they can never be names (a field called `and`
/// could not be written in a query).
const RESERVED: &[&str] = &[
    "where", "and", "or", "not", "has", "in", "is", "null", "between", "contains", "starts",
    "ends", "true", "false", "now", "today",
];

impl Schema {
    /// Check the schema for mistakes a query would otherwise trip over later.
    /// All problems are reported together, each naming where it is.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.entities.is_empty() {
            problems.push("the schema has no entities".to_string());
        }
        unique(
            self.entities.iter().map(|e| e.name.as_str()),
            "entity",
            "",
            &mut problems,
        );
        for entity in &self.entities {
            validate_entity(entity, &mut problems);
        }
        unique(
            self.relationships.iter().map(|r| r.name.as_str()),
            "relationship",
            "",
            &mut problems,
        );
        for rel in &self.relationships {
            self.validate_relationship(rel, &mut problems);
        }
        // Guards are checked with the query checker, which needs names and
        // types to be sound first.
        if problems.is_empty() {
            for entity in &self.entities {
                for guard in &entity.guards {
                    if let Err(e) = crate::check::check_guard_expr(self, entity, guard) {
                        problems.push(crate::check::describe_guard_error(entity, guard, &e));
                    }
                }
            }
        }
        match problems.len() {
            0 => Ok(()),
            1 => Err(Error::Schema {
                message: problems.remove(0),
            }),
            n => Err(Error::Schema {
                message: format!("{n} problems:\n  - {}", problems.join("\n  - ")),
            }),
        }
    }

    fn validate_relationship(&self, rel: &Relationship, problems: &mut Vec<String>) {
        let at = format!("relationship '{}'", rel.name);
        check_name(&rel.name, &at, problems);
        check_name(&rel.parent_reach, &format!("{at}: parent_reach"), problems);
        let child = self.entity(&rel.child);
        if child.is_none() {
            problems.push(format!("{at}: unknown child entity '{}'", rel.child));
        }
        if self.entity(&rel.parent).is_none() {
            problems.push(format!("{at}: unknown parent entity '{}'", rel.parent));
        }
        if let Some(child) = child {
            match child.field(&rel.child_field) {
                None => problems.push(format!(
                    "{at}: child_field '{}' is not a field of {}",
                    rel.child_field, child.name
                )),
                Some(f) if f.ty != FieldType::Uuid => problems.push(format!(
                    "{at}: child_field {}.{} must be a uuid (it holds the parent's key), but it is {}",
                    child.name,
                    f.name,
                    f.ty.name()
                )),
                Some(_) => {}
            }
        }
        // A link from an entity to itself is reached by `parent_reach` one
        // way and by the entity's own name the other way; equal names would
        // make both directions the same word.
        if rel.child.eq_ignore_ascii_case(&rel.parent)
            && rel.parent_reach.eq_ignore_ascii_case(&rel.child)
        {
            problems.push(format!(
                "{at} links {} to itself, so its parent_reach must differ from '{}' (e.g. parent_reach = \"parent_{}\")",
                rel.child, rel.child, rel.child
            ));
        }
    }
}

fn validate_entity(entity: &Entity, problems: &mut Vec<String>) {
    let at = format!("entity '{}'", entity.name);
    check_name(&entity.name, &at, problems);
    if entity.table.is_empty() {
        problems.push(format!("{at}: table name is empty"));
    }
    unique(
        entity.fields.iter().map(|f| f.name.as_str()),
        "field",
        &format!("{}.", entity.name),
        problems,
    );
    unique(
        entity.guards.iter().map(|g| g.name.as_str()),
        "guard",
        &format!("{}.", entity.name),
        problems,
    );
    match entity.key_field() {
        None => problems.push(format!(
            "{at}: key field '{}' is not one of its fields",
            entity.key
        )),
        Some(f) if f.ty != FieldType::Uuid => problems.push(format!(
            "{at}: key field '{}' must be a uuid, but it is {}",
            f.name,
            f.ty.name()
        )),
        Some(_) => {}
    }
    for field in &entity.fields {
        let at = format!("field {}.{}", entity.name, field.name);
        check_name(&field.name, &at, problems);
        if field.column.is_empty() {
            problems.push(format!("{at}: column name is empty"));
        }
        if let FieldType::Choice(set) = &field.ty {
            validate_choice(set, &at, problems);
        }
    }
    for guard in &entity.guards {
        check_name(
            &guard.name,
            &format!("guard {}.{}", entity.name, guard.name),
            problems,
        );
    }
}

fn validate_choice(set: &ChoiceSet, at: &str, problems: &mut Vec<String>) {
    if set.options.is_empty() {
        problems.push(format!("{at}: a choice needs at least one option"));
    }
    let mut labels = HashSet::new();
    let mut codes = std::collections::HashMap::new();
    for option in &set.options {
        if option.label.trim().is_empty() {
            problems.push(format!("{at}: a choice label is empty"));
        }
        // Labels are matched case-insensitively in queries, so labels that
        // differ only in case could never be told apart.
        if !labels.insert(option.label.to_lowercase()) {
            problems.push(format!(
                "{at}: label \"{}\" appears twice (labels are compared ignoring case)",
                option.label
            ));
        }
        if let Some(first) = codes.insert(option.code, &option.label) {
            problems.push(format!(
                "{at}: code {} is used by both \"{first}\" and \"{}\"",
                option.code, option.label
            ));
        }
    }
}

/// Report names that occur more than once, ignoring ASCII case.
fn unique<'a>(
    names: impl Iterator<Item = &'a str>,
    what: &str,
    prefix: &str,
    problems: &mut Vec<String>,
) {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name.to_ascii_lowercase()) {
            problems.push(format!(
                "{what} '{prefix}{name}' is defined more than once (names are compared ignoring case)"
            ));
        }
    }
}

/// Whether `name` is a name the language can spell: ASCII
/// `[A-Za-z_][A-Za-z0-9_]*` and not a keyword.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_name(name: &str, at: &str, problems: &mut Vec<String>) {
    if !is_identifier(name) {
        problems.push(format!(
            "{at}: '{name}' is not a valid name (use letters, digits and '_', not starting with a digit)"
        ));
    } else if RESERVED.iter().any(|k| k.eq_ignore_ascii_case(name)) {
        problems.push(format!(
            "{at}: '{name}' is a keyword of the language and cannot be used as a name"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_ascii_words() {
        assert!(is_identifier("first_name"));
        assert!(is_identifier("_x9"));
        assert!(!is_identifier("9x"));
        assert!(!is_identifier("first-name"));
        assert!(!is_identifier("é"));
        assert!(!is_identifier(""));
    }
}
