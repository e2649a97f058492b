//! The plan's names ([`Name`]): one shared copy of each schema name a check
//! puts in the plan, instead of a new string in every node that names it.

use std::collections::HashMap;

use crate::plan::Name;

/// The names handed out so far, by where the schema keeps the text.
///
/// The schema is borrowed for the whole check, so its names stay where they
/// are; a name is found by its address and length, and its text is compared
/// too, so a string from anywhere else is still answered right.
#[derive(Default)]
pub(crate) struct PlanNames {
    by_place: HashMap<(usize, usize), Name>,
}

impl PlanNames {
    /// The shared copy of `name`.
    pub fn of(&mut self, name: &str) -> Name {
        let place = (name.as_ptr() as usize, name.len());
        match self.by_place.get(&place) {
            Some(shared) if shared.as_str() == name => shared.clone(),
            _ => {
                let shared = Name::from(name);
                self.by_place.insert(place, shared.clone());
                shared
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_name_and_the_text_always_right() {
        let mut names = PlanNames::default();
        let schema_name = String::from("contact");
        let first = names.of(&schema_name);
        let again = names.of(&schema_name);
        assert!(first.is_same_copy(&again));
        assert_eq!(&*first, "contact");
        // Another text at the same place and length (a buffer reused) is
        // not taken for the name that was there.
        let mut buffer = String::from("account");
        let account = names.of(&buffer);
        buffer.replace_range(.., "intrest");
        let changed = names.of(&buffer);
        assert_eq!(&*account, "account");
        assert_eq!(&*changed, "intrest");
    }
}
