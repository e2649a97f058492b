//! The plan's names ([`Name`]): one shared copy of each schema name a check
//! puts in the plan, instead of a new string in every node that names it.

use std::collections::HashMap;

use crate::plan::Name;

/// The names handed out so far, by where the schema keeps the text.
///
/// The schema is borrowed for the whole check, so its names stay where they
/// are; a name is found by its address and length, and its text is compared
/// too, so a string from anywhere else is still answered right.
///
/// A segment names a few schema names, so the first [`LISTED`] are kept in
/// a list searched in order (no hashing, nothing to set up for a short
/// segment); the others in a map.
#[derive(Default)]
pub(crate) struct PlanNames {
    listed: Vec<((usize, usize), Name)>,
    /// Made only when the list is full.
    mapped: Option<HashMap<(usize, usize), Name>>,
}

/// How many names [`PlanNames`] keeps in its list.
const LISTED: usize = 32;

impl PlanNames {
    /// The shared copy of `name`.
    pub fn of(&mut self, name: &str) -> Name {
        let place = (name.as_ptr() as usize, name.len());
        let found = match self.listed.iter().position(|(at, _)| *at == place) {
            Some(i) => Some(&mut self.listed[i].1),
            None => self.mapped.as_mut().and_then(|map| map.get_mut(&place)),
        };
        match found {
            Some(shared) if shared.as_str() == name => shared.clone(),
            Some(stale) => {
                *stale = Name::from(name);
                stale.clone()
            }
            None => {
                let shared = Name::from(name);
                if self.listed.len() < LISTED {
                    if self.listed.is_empty() {
                        // Room for a query's usual few names at once.
                        self.listed.reserve(8);
                    }
                    self.listed.push((place, shared.clone()));
                } else {
                    let map = self.mapped.get_or_insert_with(HashMap::new);
                    map.insert(place, shared.clone());
                }
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
        assert_eq!(&*names.of(&buffer), "intrest");
    }

    #[test]
    fn names_past_the_list_are_shared_too() {
        let mut names = PlanNames::default();
        let texts: Vec<String> = (0..3 * LISTED).map(|i| format!("field_{i}")).collect();
        let first: Vec<Name> = texts.iter().map(|t| names.of(t)).collect();
        for (text, shared) in texts.iter().zip(&first) {
            let again = names.of(text);
            assert!(again.is_same_copy(shared), "{text}");
            assert_eq!(again, *text);
        }
    }
}
