//! Matching a model's free-text answer to one of `classify`'s labels.
//!
//! Both sides are normalised: lower case, every character that is not a letter or digit becomes a space, runs of
//! spaces collapse. An answer equal to one label wins; otherwise an answer that contains exactly one label as whole
//! words wins (a label contained in a longer matching label, `spam` in `not spam`, does not count separately).
//! Anything else is an error that quotes the answer.

/// `text` lower-cased, punctuation turned to spaces, whitespace collapsed.
pub fn normalise(text: &str) -> String {
    let spaced: String =
        text.chars().map(|c| if c.is_alphanumeric() { c.to_lowercase().collect() } else { " ".to_string() }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks `labels` before any request: non-empty, and distinct after normalising.
pub fn check_labels(labels: &[String]) -> Result<(), String> {
    if labels.is_empty() {
        return Err("give at least one label".to_string());
    }
    let mut seen: Vec<(String, &str)> = Vec::with_capacity(labels.len());
    for label in labels {
        let normal = normalise(label);
        if normal.is_empty() {
            return Err(format!("label \"{label}\" has no letters or digits"));
        }
        if let Some((_, earlier)) = seen.iter().find(|(other, _)| *other == normal) {
            return Err(format!(
                "labels \"{earlier}\" and \"{label}\" are the same once case and punctuation are ignored"
            ));
        }
        seen.push((normal, label));
    }
    Ok(())
}

/// The label the answer names, or an error quoting the answer.
pub fn match_label<'a>(answer: &str, labels: &'a [String]) -> Result<&'a str, String> {
    let normal_answer = normalise(answer);
    let normal_labels: Vec<String> = labels.iter().map(|label| normalise(label)).collect();
    if let Some(index) = normal_labels.iter().position(|label| *label == normal_answer) {
        return Ok(&labels[index]);
    }
    let padded_answer = format!(" {normal_answer} ");
    let contained: Vec<usize> = (0..labels.len())
        .filter(|&i| !normal_labels[i].is_empty() && padded_answer.contains(&format!(" {} ", normal_labels[i])))
        .collect();
    let named: Vec<usize> = contained
        .iter()
        .copied()
        .filter(|&i| !contained.iter().any(|&j| j != i && contains_words(&normal_labels[j], &normal_labels[i])))
        .collect();
    match named.as_slice() {
        [index] => Ok(&labels[*index]),
        [] => Err(format!("the model's answer {} is not one of the labels {}", quote(answer), list(labels))),
        several => {
            let names: Vec<String> = several.iter().map(|&i| labels[i].clone()).collect();
            Err(format!("the model's answer {} names several labels ({})", quote(answer), list(&names)))
        }
    }
}

fn contains_words(longer: &str, shorter: &str) -> bool {
    longer != shorter && format!(" {longer} ").contains(&format!(" {shorter} "))
}

fn quote(answer: &str) -> String {
    const LIMIT: usize = 200;
    let mut text: String = answer.trim().chars().take(LIMIT).collect();
    if answer.trim().chars().count() > LIMIT {
        text.push('…');
    }
    format!("\"{text}\"")
}

fn list(labels: &[String]) -> String {
    let quoted: Vec<String> = labels.iter().map(|label| format!("\"{label}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn answers_match_labels_despite_case_whitespace_and_punctuation() {
        let labels = labels(&["Bug report", "billing", "feature_request"]);
        assert_eq!(match_label("  bug REPORT.\n", &labels), Ok("Bug report"));
        assert_eq!(match_label("\"Billing\"", &labels), Ok("billing"));
        assert_eq!(match_label("feature request", &labels), Ok("feature_request"));
        assert_eq!(match_label("Label: billing", &labels), Ok("billing"));
    }

    #[test]
    fn a_label_inside_a_longer_matching_label_does_not_make_the_answer_ambiguous() {
        let labels = labels(&["spam", "not spam"]);
        assert_eq!(match_label("Not spam!", &labels), Ok("not spam"));
        assert_eq!(match_label("This is not spam.", &labels), Ok("not spam"));
        assert_eq!(match_label("spam", &labels), Ok("spam"));
    }

    #[test]
    fn answers_outside_the_labels_or_naming_several_fail_quoting_the_answer() {
        let labels = labels(&["positive", "negative"]);
        let outside = match_label("Neutral, mostly", &labels).unwrap_err();
        assert!(
            outside.contains("\"Neutral, mostly\" is not one of the labels [\"positive\", \"negative\"]"),
            "{outside}"
        );
        let several = match_label("positive or negative", &labels).unwrap_err();
        assert!(several.contains("names several labels"), "{several}");
        assert!(match_label("positively", &labels).is_err(), "whole words only");
    }

    #[test]
    fn labels_must_be_present_and_distinct() {
        assert!(check_labels(&[]).is_err());
        assert!(check_labels(&labels(&["Spam", "spam!"])).unwrap_err().contains("the same"));
        assert!(check_labels(&labels(&["..."])).is_err());
        assert!(check_labels(&labels(&["a", "b"])).is_ok());
    }
}
