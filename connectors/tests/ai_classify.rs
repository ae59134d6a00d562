//! `ai/classify` end to end: the model's answer must name exactly one of the labels.
mod ai_support;

use ai_support::{FakeProvider, Script, ctx, input, text};
use connectors::ai::{AiConnector, Provider};
use connectors::{ActionError, Connector};
use serde_json::json;

fn step() -> expr_grammar::Value {
    input(json!({"text": "My card was charged twice this month.", "labels": ["Billing", "Bug report", "Other"]}))
}

async fn classify_with_answer(provider: Provider, answer: &str) -> Result<expr_grammar::Value, ActionError> {
    let server = FakeProvider::start(provider).await;
    server.script([Script::Answer(answer.to_string())]);
    let ai = AiConnector::new(server.settings());
    let result = ai.execute("classify", step(), &ctx()).await;
    assert_eq!(server.request_count(), 1, "{provider}");
    result
}

#[tokio::test]
async fn an_answer_equal_to_a_label_is_that_label_for_every_provider() {
    for provider in Provider::ALL {
        let output = classify_with_answer(provider, "Billing").await.expect("classify");
        assert_eq!(text(&output, "label"), "Billing", "{provider}");
    }
}

#[tokio::test]
async fn an_answer_in_other_case_and_punctuation_maps_to_the_label_as_given() {
    for (provider, answer) in
        [(Provider::OpenAi, "billing."), (Provider::Anthropic, "  BUG-REPORT\n"), (Provider::Ollama, "\"other\"")]
    {
        let output = classify_with_answer(provider, answer).await.expect("classify");
        let expected = match provider {
            Provider::OpenAi => "Billing",
            Provider::Anthropic => "Bug report",
            Provider::Ollama => "Other",
        };
        assert_eq!(text(&output, "label"), expected, "{provider}: {answer:?}");
    }
}

#[tokio::test]
async fn an_answer_containing_exactly_one_label_is_accepted() {
    let output = classify_with_answer(Provider::Ollama, "The label is: Billing").await.expect("classify");
    assert_eq!(text(&output, "label"), "Billing");
}

#[tokio::test]
async fn an_answer_outside_the_labels_fails_quoting_the_answer() {
    for provider in Provider::ALL {
        let err = classify_with_answer(provider, "Refund request").await.unwrap_err();
        let ActionError::Failed { message } = err else { panic!("{provider}: {err:?}") };
        assert_eq!(
            message,
            "the model's answer \"Refund request\" is not one of the labels [\"Billing\", \"Bug report\", \"Other\"]",
            "{provider}"
        );
    }
}

#[tokio::test]
async fn an_answer_naming_two_labels_fails_as_ambiguous() {
    let err = classify_with_answer(Provider::Anthropic, "Billing or Other").await.unwrap_err();
    assert!(err.to_string().contains("names several labels"), "{err}");
}
