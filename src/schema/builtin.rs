//! The built-in CRM schema (`segql schema` shows it), used by every command when no
//! `--schema` is given. `examples/crm-schema.toml` is the same schema as a file.

use super::model::*;

fn field(name: &str, ty: FieldType) -> Field {
    Field {
        name: name.to_string(),
        column: name.to_string(),
        ty,
        nullable: true,
    }
}

fn not_null(name: &str, ty: FieldType) -> Field {
    Field {
        nullable: false,
        ..field(name, ty)
    }
}

fn choice(ordered: bool, options: &[(&str, i64)]) -> FieldType {
    FieldType::Choice(ChoiceSet {
        ordered,
        options: options
            .iter()
            .map(|(label, code)| ChoiceOption {
                label: label.to_string(),
                code: *code,
            })
            .collect(),
    })
}

fn entity(name: &str, fields: Vec<Field>, guards: Vec<Guard>) -> Entity {
    Entity {
        name: name.to_string(),
        table: name.to_string(),
        key: "id".to_string(),
        fields,
        guards,
    }
}

fn relationship(name: &str, child: &str, child_field: &str, parent: &str) -> Relationship {
    Relationship {
        name: name.to_string(),
        child: child.to_string(),
        child_field: child_field.to_string(),
        parent: parent.to_string(),
        parent_reach: parent.to_string(),
    }
}

/// The default CRM schema: account, contact, lead, interaction, subscription.
pub fn crm_schema() -> Schema {
    use FieldType::*;
    let account = entity(
        "account",
        vec![
            not_null("id", Uuid),
            field("name", Text),
            field(
                "industry",
                choice(
                    false,
                    &[
                        ("Accounting", 1),
                        ("Agriculture", 2),
                        ("Consulting", 3),
                        ("Education", 4),
                        ("Financial Services", 5),
                        ("Healthcare", 6),
                        ("Manufacturing", 7),
                        ("Retail", 8),
                        ("Technology", 9),
                        ("Other", 10),
                    ],
                ),
            ),
            field("city", Text),
            field("country", Text),
            field("employees", Integer),
            field("annual_revenue", Decimal),
            field("created_on", DateTime),
        ],
        vec![],
    );
    let contact = entity(
        "contact",
        vec![
            not_null("id", Uuid),
            field("first_name", Text),
            field("last_name", Text),
            field("email", Text),
            field("job_title", Text),
            field(
                "role",
                choice(
                    false,
                    &[("Decision Maker", 1), ("Employee", 2), ("Influencer", 3)],
                ),
            ),
            field("city", Text),
            field("country", Text),
            field("birth_date", Date),
            field("created_on", DateTime),
            not_null("marketing_only", Bool),
            not_null("do_not_email", Bool),
            not_null("do_not_bulk_email", Bool),
            not_null("allow_prefill", Bool),
            field(
                "consent_level",
                choice(
                    true,
                    &[
                        ("Not Set", 0),
                        ("Consent Given", 1),
                        ("Transactional", 2),
                        ("Subscriptions", 3),
                        ("Marketing", 4),
                        ("Profiling", 5),
                        ("Tracking", 6),
                    ],
                ),
            ),
            not_null("is_child", Bool),
            field("account_id", Uuid),
        ],
        vec![Guard {
            name: "email".to_string(),
            expr: "not do_not_email and not do_not_bulk_email".to_string(),
        }],
    );
    let lead = entity(
        "lead",
        vec![
            not_null("id", Uuid),
            field("topic", Text),
            field("first_name", Text),
            field("last_name", Text),
            field("email", Text),
            field("company_name", Text),
            field(
                "status",
                choice(false, &[("Open", 0), ("Qualified", 1), ("Disqualified", 2)]),
            ),
            field(
                "source",
                choice(
                    false,
                    &[
                        ("Advertisement", 1),
                        ("Employee Referral", 2),
                        ("External Referral", 3),
                        ("Partner", 4),
                        ("Public Relations", 5),
                        ("Seminar", 6),
                        ("Trade Show", 7),
                        ("Web", 8),
                        ("Word of Mouth", 9),
                        ("Other", 10),
                    ],
                ),
            ),
            field("score", Integer),
            field("sales_ready", Bool),
            field("estimated_value", Decimal),
            field("created_on", DateTime),
            field("contact_id", Uuid),
            field("account_id", Uuid),
        ],
        vec![],
    );
    let interaction = entity(
        "interaction",
        vec![
            not_null("id", Uuid),
            field("contact_id", Uuid),
            field(
                "type",
                choice(
                    false,
                    &[
                        ("Email Sent", 1),
                        ("Email Delivered", 2),
                        ("Email Opened", 3),
                        ("Email Clicked", 4),
                        ("Website Visited", 5),
                        ("Form Submitted", 6),
                        ("Event Registered", 7),
                        ("Event Attended", 8),
                    ],
                ),
            ),
            field("occurred_on", DateTime),
            field("detail", Text),
        ],
        vec![],
    );
    let subscription = entity(
        "subscription",
        vec![
            not_null("id", Uuid),
            field("contact_id", Uuid),
            field("list", Text),
            field("subscribed_on", DateTime),
        ],
        vec![],
    );
    Schema {
        entities: vec![account, contact, lead, interaction, subscription],
        relationships: vec![
            relationship("lead_parent_contact", "lead", "contact_id", "contact"),
            relationship("lead_parent_account", "lead", "account_id", "account"),
            relationship("contact_parent_account", "contact", "account_id", "account"),
            relationship(
                "interaction_contact",
                "interaction",
                "contact_id",
                "contact",
            ),
            relationship(
                "subscription_contact",
                "subscription",
                "contact_id",
                "contact",
            ),
        ],
    }
}
