//! The prompts `ai/summarize` and `ai/classify` send. They are part of the actions' documented behaviour: change
//! them deliberately and update the module docs of [`crate::ai`].

/// System prompt of `ai/summarize`. The text to summarize is the user message.
pub const SUMMARIZE_SYSTEM: &str = "You write summaries. Summarize the text the user sends. Keep the key facts, \
names, numbers, dates and decisions; leave out repetition and filler. Write plain prose in the language of the \
text. Reply with the summary only, without a preamble such as \"Here is a summary\".";

/// Appended to [`SUMMARIZE_SYSTEM`] when the step gives `max_words`; `{max_words}` is replaced.
pub const SUMMARIZE_LENGTH: &str = "Use at most {max_words} words.";

/// System prompt of `ai/classify`; `{labels}` is replaced by the labels, one per line, each after "- ".
pub const CLASSIFY_SYSTEM: &str = "You are a text classifier. Read the text the user sends and choose the one label \
from the list below that fits it best. Reply with that label exactly as written in the list and nothing else: no \
explanation, no quotes, no punctuation.\n\nLabels:\n{labels}";

/// Separates a step's own `system` text, added after the built-in prompt of summarize and classify.
pub const EXTRA_INSTRUCTIONS: &str = "\n\nFurther instructions:\n";

pub fn summarize_system(max_words: Option<u32>, extra: Option<&str>) -> String {
    let mut prompt = SUMMARIZE_SYSTEM.to_string();
    if let Some(max_words) = max_words {
        prompt.push(' ');
        prompt.push_str(&SUMMARIZE_LENGTH.replace("{max_words}", &max_words.to_string()));
    }
    push_extra(&mut prompt, extra);
    prompt
}

pub fn classify_system(labels: &[String], extra: Option<&str>) -> String {
    let list: Vec<String> = labels.iter().map(|label| format!("- {label}")).collect();
    let mut prompt = CLASSIFY_SYSTEM.replace("{labels}", &list.join("\n"));
    push_extra(&mut prompt, extra);
    prompt
}

fn push_extra(prompt: &mut String, extra: Option<&str>) {
    if let Some(extra) = extra.map(str::trim).filter(|extra| !extra.is_empty()) {
        prompt.push_str(EXTRA_INSTRUCTIONS);
        prompt.push_str(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_prompt_lists_every_label_and_appends_extra_instructions() {
        let labels = vec!["billing".to_string(), "bug report".to_string()];
        let prompt = classify_system(&labels, Some("Tickets come from customers."));
        assert!(prompt.contains("Labels:\n- billing\n- bug report\n\nFurther instructions:\nTickets come"), "{prompt}");
        assert!(!prompt.contains("{labels}"));
    }

    #[test]
    fn summarize_prompt_states_the_word_limit_only_when_given() {
        assert!(summarize_system(Some(50), None).ends_with("Use at most 50 words."));
        assert_eq!(summarize_system(None, Some("  ")), SUMMARIZE_SYSTEM);
    }
}
