//! "Did you mean ...?": the one place Pilot decides which known names are close to a mistyped one. Every hint
//! (unknown keys, names, fields, functions, actions, inputs, time zones, credentials) goes through here, so they
//! all agree.
//!
//! The metric is the Jaro-Winkler similarity of the two names, lower-cased (1.0 for equal names, 0.0 for names
//! with nothing in common). It forgives a swapped pair of letters (`itme`), a missing or doubled letter (`patern`,
//! `lenn`) and a longer or shorter form (`integer` for `int`, `list` for `fs/list`), and it weighs the start of a
//! name most, where typos are rarest. A candidate is suggested when its similarity is at least [`THRESHOLD`].

/// The least similarity (see the module docs) at which a known name is offered as a suggestion.
pub const THRESHOLD: f64 = 0.8;

/// How alike two names are: Jaro-Winkler similarity of their lower-cased forms, from 0.0 to 1.0.
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(&a.to_lowercase(), &b.to_lowercase())
}

/// The candidates at least [`THRESHOLD`] similar to `wrong`, most similar first (ties in name order), without
/// duplicates.
pub fn ranked<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wrong = wrong.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(&wrong, &candidate.to_lowercase()), candidate))
        .filter(|(score, _)| *score >= THRESHOLD)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().map(|(_, candidate)| candidate).collect()
}

/// The candidate most similar to `wrong`, when one is at least [`THRESHOLD`] similar.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ranked(wrong, candidates).into_iter().next()
}

/// `did you mean `NAME`?` for the [`closest`] candidate, if any.
pub fn hint<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(wrong, candidates).map(hint_for)
}

/// `did you mean `NAME`?`.
pub fn hint_for(name: &str) -> String {
    format!("did you mean `{name}`?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_typos_find_the_intended_name() {
        let cases = [
            ("itme", &["item", "index", "steps"][..], "item"),
            ("patern", &["path", "pattern", "recursive"], "pattern"),
            ("lenn", &["len", "lower", "list"], "len"),
            ("integer", &["string", "int", "float", "bool"], "int"),
            ("Europe/Pariss", &["Europe/Paris", "Europe/Prague", "America/Paramaribo"], "Europe/Paris"),
            ("fs/lst", &["fs/list", "fs/read", "http/get"], "fs/list"),
            ("INPUT", &["input", "output"], "input"),
        ];
        for (wrong, candidates, expected) in cases {
            assert_eq!(closest(wrong, candidates.iter().copied()), Some(expected), "{wrong}");
        }
    }

    #[test]
    fn names_with_little_in_common_are_not_suggested() {
        assert_eq!(closest("zzzzzz", ["fs/list", "http/get", "log"]), None);
        assert_eq!(closest("teleport/now", ["fs/list", "http/get", "notify/desktop"]), None);
        assert_eq!(closest("x", ["y", "files"]), None);
        assert_eq!(closest("anything", std::iter::empty()), None);
    }

    #[test]
    fn ranking_is_best_first_then_by_name_without_duplicates() {
        assert_eq!(ranked("step", ["steps", "step2", "step1", "steps", "zebra"]), vec!["step1", "step2", "steps"]);
        assert!(similarity("output", "outptu") > similarity("output", "outer"));
    }

    #[test]
    fn one_changed_letter_is_close_enough_from_three_letters_on() {
        assert!(similarity("abc", "abd") >= THRESHOLD);
        assert!(similarity("ab", "ac") < THRESHOLD);
        assert_eq!(hint("abc", ["abd"]), Some("did you mean `abd`?".to_string()));
    }
}
