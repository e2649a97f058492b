//! `.schema [ENTITY]`: the same description `segql schema` prints.

use segql::schema::Schema;

/// The listing for `.schema` (`None`) or `.schema ENTITY`; an unknown
/// entity is an error naming the nearest and the valid ones.
pub fn describe(schema: &Schema, entity: Option<&str>) -> Result<String, String> {
    super::super::schema::text(schema, entity)
        .map(|text| text.trim_end().to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn entities_then_one_entity_in_detail() {
        let schema = segql::schema::crm_schema();
        let all = describe(&schema, None).expect("listing");
        assert!(all.contains("contact       key id"), "{all}");
        let contact = describe(&schema, Some("Contact")).expect("contact");
        assert!(
            contact.contains("\"Decision Maker\", \"Employee\", \"Influencer\""),
            "{contact}"
        );
        assert!(contact.contains("links to account"), "{contact}");
        let unknown = describe(&schema, Some("contcat")).unwrap_err();
        assert!(unknown.contains("did you mean 'contact'"), "{unknown}");
    }
}
