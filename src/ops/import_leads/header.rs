//! The header of an imported file: which lead field each column fills.
//!
//! Names match the schema's lead fields case-insensitively, as identifiers
//! do in the language. The key cannot be imported (new leads get a new id,
//! matched leads keep theirs), and a field may be named once only, so a
//! cell never silently wins over another.

use crate::error::{suggest, Error, Result};
use crate::schema::{Entity, Field};

/// The lead fields of a file's columns, in the file's order, and where the
/// columns matching looks at are.
#[derive(Debug)]
pub(super) struct Header<'s> {
    /// The lead entity.
    pub entity: &'s Entity,
    /// One field per column of the file.
    pub fields: Vec<&'s Field>,
    /// The column of the lead's email, if any.
    pub email: Option<usize>,
    /// The column of the lead's topic, if any.
    pub topic: Option<usize>,
    /// The column of the lead's status, if any.
    pub status: Option<usize>,
}

/// Resolve the header's `names` (already trimmed) against `lead`.
///
/// Errors ([`Error::BadImportRow`] on line 1): a blank name, an unknown
/// field (the valid columns listed, the nearest suggested), the key, a field
/// named twice.
pub(super) fn resolve<'s>(lead: &'s Entity, names: &[String]) -> Result<Header<'s>> {
    let importable: Vec<&Field> = lead
        .fields
        .iter()
        .filter(|f| !f.name.eq_ignore_ascii_case(&lead.key))
        .collect();
    let mut fields: Vec<&Field> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let bad = |message: String| Error::BadImportRow {
            line: 1,
            column: column_name(name, i),
            value: name.clone(),
            message,
        };
        if name.is_empty() {
            return Err(bad(format!(
                "the header has an empty name in column {}; name every column after a {} field",
                i + 1,
                lead.name
            )));
        }
        if name.eq_ignore_ascii_case(&lead.key) {
            return Err(bad(format!(
                "'{name}' is the key of {}; it cannot be imported (new leads get a new id); remove the column",
                lead.name
            )));
        }
        let Some(field) = importable
            .iter()
            .copied()
            .find(|f| f.name.eq_ignore_ascii_case(name))
        else {
            // All of them: a lead has a screenful of fields at most, and
            // the whole list is what one needs to fix a header.
            let valid: Vec<&str> = importable.iter().map(|f| f.name.as_str()).collect();
            let hint = suggest(name, valid.iter().copied())
                .map(|s| format!("did you mean '{s}'? "))
                .unwrap_or_default();
            let list = format!("valid columns: {}", valid.join(", "));
            return Err(bad(format!(
                "unknown column '{name}': {} has no such field; {hint}{list}",
                lead.name
            )));
        };
        if fields.iter().any(|f| f.name == field.name) {
            return Err(bad(format!(
                "column '{}' appears twice in the header; keep one",
                field.name
            )));
        }
        fields.push(field);
    }
    let position = |wanted: &str| {
        fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(wanted))
    };
    Ok(Header {
        entity: lead,
        email: position("email"),
        topic: position("topic"),
        status: position("status"),
        fields,
    })
}

/// A column as messages name it: its header name, or its position.
pub(super) fn column_name(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("#{}", index + 1)
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_match_any_case_and_find_the_matching_columns() {
        let schema = crate::schema::crm_schema();
        let lead = schema.entity("lead").unwrap();
        let header = resolve(lead, &names(&["Email", "TOPIC", "source"])).unwrap();
        assert_eq!(header.fields[0].name, "email");
        assert_eq!(
            (header.email, header.topic, header.status),
            (Some(0), Some(1), None)
        );
    }

    #[test]
    fn an_unknown_column_lists_the_valid_ones_and_suggests_one() {
        let schema = crate::schema::crm_schema();
        let lead = schema.entity("lead").unwrap();
        let err = resolve(lead, &names(&["email", "topik"])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 1, column topik"), "{text}");
        assert!(text.contains("did you mean 'topic'?"), "{text}");
        assert!(text.contains("company_name"), "{text}");
        assert!(!text.contains(" id,"), "the key is not offered: {text}");
    }

    #[test]
    fn the_key_and_repeated_columns_are_refused() {
        let schema = crate::schema::crm_schema();
        let lead = schema.entity("lead").unwrap();
        let err = resolve(lead, &names(&["ID"])).unwrap_err();
        assert!(err.to_string().contains("key of lead"), "{err}");
        let err = resolve(lead, &names(&["email", "EMAIL"])).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }
}
