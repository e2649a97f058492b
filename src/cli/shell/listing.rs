//! `.schema [ENTITY]`: what can be queried, in a minimal form read straight
//! from the schema model: one line per entity with its field names, or one
//! line per field of an entity with its type, choice labels and links.

use segql::schema::{FieldType, Schema};

/// The listing for `.schema` (`None`) or `.schema ENTITY`; an unknown
/// entity is an error naming the valid ones.
pub fn describe(schema: &Schema, entity: Option<&str>) -> Result<String, String> {
    let Some(name) = entity else {
        let lines: Vec<String> = schema
            .entities
            .iter()
            .map(|e| {
                let fields: Vec<&str> = e.fields.iter().map(|f| f.name.as_str()).collect();
                format!("{}: {}", e.name, fields.join(", "))
            })
            .collect();
        return Ok(lines.join("\n"));
    };
    let Some(entity) = schema.entity(name) else {
        let names = || schema.entities.iter().map(|e| e.name.as_str());
        let nearest = segql::error::suggest(name, names())
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default();
        return Err(format!(
            "unknown entity '{name}'{nearest}\nentities: {}",
            names().collect::<Vec<_>>().join(", ")
        ));
    };
    let width = entity
        .fields
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    let mut lines = vec![format!("{} (table {})", entity.name, entity.table)];
    for field in &entity.fields {
        let mut line = format!("  {:width$}  {}", field.name, field.ty.name());
        if let FieldType::Choice(set) = &field.ty {
            let labels: Vec<&str> = set.options.iter().map(|o| o.label.as_str()).collect();
            let ordered = if set.ordered { "ordered " } else { "" };
            line = format!(
                "  {:width$}  {ordered}choice {{{}}}",
                field.name,
                labels.join(", ")
            );
        }
        if field.name.eq_ignore_ascii_case(&entity.key) {
            line.push_str(" (key)");
        }
        let parents = schema.relationships.iter().filter(|r| {
            r.child.eq_ignore_ascii_case(&entity.name)
                && r.child_field.eq_ignore_ascii_case(&field.name)
        });
        for relationship in parents {
            line.push_str(&format!(" → {}", relationship.parent));
        }
        lines.push(line);
    }
    let children: Vec<&str> = schema
        .relationships
        .iter()
        .filter(|r| r.parent.eq_ignore_ascii_case(&entity.name))
        .map(|r| r.child.as_str())
        .collect();
    if !children.is_empty() {
        lines.push(format!("  has: {}", children.join(", ")));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn entities_then_one_entity_in_detail() {
        let schema = segql::schema::crm_schema();
        let all = describe(&schema, None).expect("listing");
        assert!(all.contains("contact: id, first_name"), "{all}");
        let contact = describe(&schema, Some("Contact")).expect("contact");
        assert!(contact.contains("(key)"), "{contact}");
        assert!(
            contact.contains("choice {Decision Maker, Employee, Influencer}"),
            "{contact}"
        );
        assert!(contact.contains("→ account"), "{contact}");
        assert!(
            contact.contains("has: lead, interaction, subscription"),
            "{contact}"
        );
        let unknown = describe(&schema, Some("contcat")).unwrap_err();
        assert!(unknown.contains("did you mean 'contact'"), "{unknown}");
    }
}
