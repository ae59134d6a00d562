//! Values: semantic equality, ordering, interpolation form, JSON form and typed reloading.

use expr_grammar::{Duration, Timestamp, Type, Value};
use serde_json::json;

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[test]
fn equality_is_semantic() {
    assert_eq!(Value::Int(1), Value::Float(1.0));
    assert_ne!(Value::Int(1), Value::from("1"));
    assert_ne!(Value::Float(f64::NAN), Value::Float(f64::NAN));
    assert_eq!(Value::list([Value::Int(2)]), Value::list([Value::Float(2.0)]));
    let ab = Value::object([("a", Value::Int(1)), ("b", Value::Int(2))]);
    let ba = Value::object([("b", Value::Int(2)), ("a", Value::Int(1))]);
    assert_eq!(ab, ba);
    assert_ne!(Value::Null, Value::Bool(false));
}

#[test]
fn ordering_compares_like_kinds_only() {
    assert!(Value::Int(1) < Value::Float(1.5));
    assert!(Value::from("a") < Value::from("b"));
    assert!(Value::Duration(Duration(1)) < Value::Duration(Duration(2)));
    assert!(Value::Timestamp(ts("2024-01-01")) < Value::Timestamp(ts("2024-01-02")));
    assert_eq!(Value::Int(1).partial_cmp(&Value::from("1")), None);
    assert_eq!(Value::object([("a", Value::Null)]).partial_cmp(&Value::object([("a", Value::Null)])), None);
}

#[test]
fn display_is_the_interpolation_form() {
    assert_eq!(Value::from("raw 'text'").to_string(), "raw 'text'");
    assert_eq!(Value::Int(-3).to_string(), "-3");
    assert_eq!(Value::Float(2.5).to_string(), "2.5");
    assert_eq!(Value::Null.to_string(), "null");
    assert_eq!(Value::Timestamp(ts("2024-05-01T10:00:00Z")).to_string(), "2024-05-01T10:00:00Z");
    assert_eq!(Value::Timestamp(ts("2024-05-01T10:00:00.5Z")).to_string(), "2024-05-01T10:00:00.500Z");
    assert_eq!(Value::Duration(Duration::parse("26h").unwrap()).to_string(), "1d2h");
    assert_eq!(Value::list([Value::from("a"), Value::Int(1)]).to_string(), r#"["a",1]"#);
}

#[test]
fn durations_print_and_parse_back() {
    for text in ["0s", "1d2h", "1h30m", "500ms", "1s250ms", "-5m", "3us", "1d1h1m1s1ms1us"] {
        let parsed = Duration::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(parsed.to_string(), text);
    }
    assert_eq!(Duration::parse("90s"), Some(Duration::from_secs(90)));
    for bad in ["", "-", "5", "5x", "h", "1.5h", "99999999999999999999d", "1h 30m"] {
        assert_eq!(Duration::parse(bad), None, "{bad:?} must not parse");
    }
}

#[test]
fn json_form_of_every_kind() {
    let value = Value::object([
        ("n", Value::Null),
        ("b", Value::Bool(true)),
        ("i", Value::Int(7)),
        ("f", Value::Float(0.5)),
        ("s", Value::from("x")),
        ("d", Value::Duration(Duration::parse("90m").unwrap())),
        ("t", Value::Timestamp(ts("2024-05-01T10:00:00Z"))),
        ("l", Value::list([Value::Int(1)])),
    ]);
    assert_eq!(
        value.to_json(),
        json!({"n": null, "b": true, "i": 7, "f": 0.5, "s": "x", "d": "1h30m",
               "t": "2024-05-01T10:00:00.000000Z", "l": [1]})
    );
    assert_eq!(Value::Float(f64::INFINITY).to_json(), json!(null));
}

#[test]
fn from_json_is_untyped() {
    let value =
        Value::from_json(&json!({"t": "2024-05-01T10:00:00Z", "n": 3, "x": 3.5, "big": 18446744073709551615u64}));
    assert_eq!(value.get("t"), Some(&Value::from("2024-05-01T10:00:00Z")));
    assert!(matches!(value.get("n"), Some(Value::Int(3))));
    assert!(matches!(value.get("x"), Some(Value::Float(_))));
    assert!(matches!(value.get("big"), Some(Value::Float(_))));
    assert_eq!(value.as_object().unwrap().keys().collect::<Vec<_>>(), ["t", "n", "x", "big"]);
}

#[test]
fn from_json_typed_restores_timestamps_and_durations() {
    let ty = Type::list(Type::object([("at", Type::Timestamp), ("took", Type::Duration), ("ratio", Type::Float)]));
    let original = Value::list([Value::object([
        ("at", Value::Timestamp(Timestamp(1_714_557_600_123_456))),
        ("took", Value::Duration(Duration::parse("1h30m").unwrap())),
        ("ratio", Value::Float(2.0)),
        ("extra", Value::from("kept")),
    ])]);
    let reloaded = Value::from_json_typed(&original.to_json(), &ty);
    let item = &reloaded.as_list().unwrap()[0];
    assert!(matches!(item.get("at"), Some(Value::Timestamp(Timestamp(1_714_557_600_123_456)))));
    assert!(matches!(item.get("took"), Some(Value::Duration(_))));
    assert!(matches!(item.get("ratio"), Some(Value::Float(_))));
    assert_eq!(item.get("extra"), Some(&Value::from("kept")));
    assert_eq!(reloaded, original);
    // Text that is not a timestamp stays text rather than failing the reload.
    assert_eq!(Value::from_json_typed(&json!("soon"), &Type::Timestamp), Value::from("soon"));
}

#[test]
fn serde_uses_the_json_form() {
    let value = Value::object([("d", Value::Duration(Duration::from_secs(30))), ("i", Value::Int(1))]);
    let text = serde_json::to_string(&value).unwrap();
    assert_eq!(text, r#"{"d":"30s","i":1}"#);
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back.get("d"), Some(&Value::from("30s")));
}

#[test]
fn type_of_values() {
    assert_eq!(Value::list([Value::Int(1), Value::Float(2.0)]).type_of(), Type::list(Type::Float));
    assert_eq!(Value::list([Value::Int(1), Value::from("a")]).type_of(), Type::list(Type::Any));
    assert_eq!(Value::list([]).type_of(), Type::list(Type::Any));
    assert_eq!(Value::object([("a", Value::Bool(true))]).type_of(), Type::object([("a", Type::Bool)]));
}
