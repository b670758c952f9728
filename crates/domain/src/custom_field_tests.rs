use std::collections::HashSet;

use super::*;

fn def(id: i64, key: &str, kind: FieldKind) -> FieldDef {
    FieldDef {
        id,
        key: key.to_owned(),
        label: key.to_owned(),
        kind,
        options: if kind == FieldKind::Select {
            vec!["Fiber".to_owned(), "Wireless".to_owned()]
        } else {
            Vec::new()
        },
        required: false,
        active: true,
    }
}

fn text(t: &str) -> FieldInput {
    FieldInput::Text(t.to_owned())
}

fn code(result: Result<Option<FieldValue>, FieldError>) -> &'static str {
    result.unwrap_err().code
}

#[test]
fn numbers_are_read_strictly_and_kept_in_canonical_form() {
    for (typed, canonical) in [
        ("42", "42"),
        ("-0012.500", "-12.5"),
        (" 7.0 ", "7"),
        ("-0", "0"),
        ("0.05", "0.05"),
        ("123456789012345", "123456789012345"),
    ] {
        assert_eq!(parse_number(typed).unwrap(), canonical, "{typed}");
    }
    for bad in [
        "", "1e5", "+1", "1.", ".5", "1,000", "0x10", "NaN", "inf", "1 2", "--1", "١٢",
    ] {
        assert_eq!(
            parse_number(bad).unwrap_err().code,
            "invalid_decimal",
            "{bad}"
        );
    }
    assert_eq!(
        parse_number("1234567890123456").unwrap_err().code,
        "too_many_digits"
    );
}

#[test]
fn dates_are_iso_days_that_exist() {
    assert_eq!(
        parse_date("2026-02-28").unwrap(),
        NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
    );
    for bad in [
        "2026-02-30",
        "2026-2-3",
        "28/02/2026",
        "2026-02-28T00:00",
        "yesterday",
    ] {
        assert_eq!(parse_date(bad).unwrap_err().code, "invalid_date", "{bad}");
    }
}

#[test]
fn each_kind_refuses_values_of_another_type() {
    let number = def(1, "deposit", FieldKind::Number);
    let date = def(2, "installed_on", FieldKind::Date);
    let select = def(3, "link", FieldKind::Select);
    let check = def(4, "has_router", FieldKind::Checkbox);
    let note = def(5, "note", FieldKind::Text);
    assert_eq!(
        code(parse_value(&number, &text("twelve"))),
        "invalid_decimal"
    );
    assert_eq!(
        code(parse_value(&number, &FieldInput::Bool(true))),
        "wrong_type"
    );
    assert_eq!(
        code(parse_value(&date, &FieldInput::Number("20260101".into()))),
        "wrong_type"
    );
    assert_eq!(code(parse_value(&date, &text("tomorrow"))), "invalid_date");
    assert_eq!(
        code(parse_value(&select, &text("Copper"))),
        "unknown_option"
    );
    assert_eq!(code(parse_value(&check, &text("maybe"))), "invalid_boolean");
    assert_eq!(
        code(parse_value(&note, &FieldInput::Number("5".into()))),
        "wrong_type"
    );
    assert_eq!(code(parse_value(&note, &FieldInput::Other)), "wrong_type");
    let error = parse_value(&number, &text("x")).unwrap_err();
    assert_eq!(error.field, "custom_fields.deposit");
}

#[test]
fn good_values_parse_to_their_type_and_key() {
    let number = def(1, "deposit", FieldKind::Number);
    let value = parse_value(&number, &FieldInput::Number("1500.50".into()))
        .unwrap()
        .unwrap();
    assert_eq!(value, FieldValue::Number("1500.5".into()));
    assert_eq!(value.to_json(), serde_json::json!(1500.5));
    let select = def(3, "link", FieldKind::Select);
    let value = parse_value(&select, &text("fiber")).unwrap().unwrap();
    assert_eq!(value, FieldValue::Select("Fiber".into()));
    assert_eq!(value.key(), "fiber");
    let check = def(4, "has_router", FieldKind::Checkbox);
    assert_eq!(
        parse_value(&check, &FieldInput::Bool(true)).unwrap(),
        Some(FieldValue::Checkbox(true))
    );
    // Unticked is no value.
    assert_eq!(parse_value(&check, &text("no")).unwrap(), None);
    assert_eq!(parse_value(&number, &text("  ")).unwrap(), None);
    assert_eq!(parse_value(&number, &FieldInput::Clear).unwrap(), None);
}

#[test]
fn text_is_bounded_kept_as_typed_and_free_of_control_characters() {
    let note = def(5, "note", FieldKind::Text);
    let script = "<script>alert(1)</script>";
    assert_eq!(
        parse_value(&note, &text(script)).unwrap(),
        Some(FieldValue::Text(script.to_owned()))
    );
    let long = "ক".repeat(TEXT_MAX + 1);
    let error = parse_value(&note, &text(&long)).unwrap_err();
    assert_eq!(
        (error.code, error.field.as_str()),
        ("too_long", "custom_fields.note")
    );
    assert!(parse_value(&note, &text(&"ক".repeat(TEXT_MAX))).is_ok());
    assert_eq!(
        code(parse_value(&note, &text("a\u{0}b"))),
        "control_characters"
    );
    let value = FieldValue::Text("A".repeat(KEY_CHARS + 20));
    assert_eq!(value.key().chars().count(), KEY_CHARS);
}

#[test]
fn unknown_inactive_and_missing_required_fields_are_reported_together() {
    let mut plan = def(1, "plan_note", FieldKind::Text);
    plan.required = true;
    let mut old = def(2, "old", FieldKind::Text);
    old.active = false;
    let defs = vec![plan, old, def(3, "deposit", FieldKind::Number)];
    let given = vec![
        ("nope".to_owned(), text("x")),
        ("old".to_owned(), text("x")),
        ("deposit".to_owned(), text("abc")),
    ];
    let errors = parse_values(&defs, &given, None).unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .0
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect();
    assert_eq!(
        found,
        [
            ("custom_fields.nope", "unknown_field"),
            ("custom_fields.old", "unknown_field"),
            ("custom_fields.deposit", "invalid_decimal"),
            ("custom_fields.plan_note", "required"),
        ]
    );
}

#[test]
fn a_required_field_binds_new_customers_and_changes_that_give_custom_fields() {
    let mut plan = def(1, "plan_note", FieldKind::Text);
    plan.required = true;
    let defs = vec![plan, def(2, "deposit", FieldKind::Number)];
    assert!(parse_values(&defs, &[], None).is_err());
    let none = HashSet::new();
    // A change of other properties only does not ask for it.
    assert_eq!(parse_values(&defs, &[], Some(&none)).unwrap(), Vec::new());
    let deposit = vec![("deposit".to_owned(), text("5"))];
    assert!(parse_values(&defs, &deposit, Some(&none)).is_err());
    let held: HashSet<i64> = [1].into();
    assert!(parse_values(&defs, &deposit, Some(&held)).is_ok());
    let cleared = vec![("plan_note".to_owned(), FieldInput::Clear)];
    assert_eq!(
        parse_values(&defs, &cleared, Some(&held)).unwrap_err().0[0].code,
        "required"
    );
}

#[test]
fn too_many_keys_are_refused_at_once() {
    let given: Vec<(String, FieldInput)> = (0..=FIELDS_MAX)
        .map(|i| (format!("k{i}"), text("x")))
        .collect();
    let errors = parse_values(&[], &given, None).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].code, "too_many");
}

#[test]
fn definitions_hold_their_bounds() {
    let good = DefinitionInput {
        key: Some("link_type".into()),
        label: Some("Link type".into()),
        kind: Some("select".into()),
        options: Some(vec!["Fiber".into(), "Wireless".into()]),
        ..Default::default()
    };
    let parsed = NewDefinition::parse(&good).unwrap();
    assert_eq!(parsed.kind, FieldKind::Select);
    assert_eq!(parsed.options.len(), 2);
    let codes = |input: DefinitionInput| -> Vec<(String, &'static str)> {
        NewDefinition::parse(&input)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    };
    let bad = DefinitionInput {
        key: Some("Link Type".into()),
        label: Some("x".repeat(LABEL_MAX + 1)),
        kind: Some("select".into()),
        options: Some(vec!["Fiber".into(), "fiber".into()]),
        ..Default::default()
    };
    assert_eq!(
        codes(bad),
        [
            ("key".to_owned(), "invalid_field_key"),
            ("label".to_owned(), "too_long"),
            ("options".to_owned(), "duplicate_option"),
        ]
    );
    let too_many = DefinitionInput {
        options: Some((0..=OPTIONS_MAX).map(|i| format!("o{i}")).collect()),
        ..good.clone()
    };
    assert_eq!(codes(too_many), [("options".to_owned(), "too_many")]);
    let checkbox = DefinitionInput {
        kind: Some("checkbox".into()),
        options: None,
        required: Some(true),
        ..good.clone()
    };
    assert_eq!(
        codes(checkbox),
        [("required".to_owned(), "not_for_checkbox")]
    );
    let options_on_text = DefinitionInput {
        kind: Some("text".into()),
        ..good.clone()
    };
    assert_eq!(
        codes(options_on_text),
        [("options".to_owned(), "options_not_allowed")]
    );
    let changes = DefinitionInput {
        kind: Some("text".into()),
        ..Default::default()
    };
    assert_eq!(
        DefinitionChanges::parse(&changes, "link_type", FieldKind::Select)
            .unwrap_err()
            .0[0]
            .code,
        "fixed"
    );
}

#[test]
fn list_filters_read_the_typed_value_as_the_field_does() {
    let note = def(5, "note", FieldKind::Text);
    assert_eq!(
        parse_filter(&note, " Near Mosque").unwrap(),
        FieldMatch::Prefix("near mosque".into())
    );
    let number = def(1, "deposit", FieldKind::Number);
    assert_eq!(
        parse_filter(&number, "0100.0").unwrap(),
        FieldMatch::Exact("100".into())
    );
    assert_eq!(parse_filter(&number, "x").unwrap_err().field, "field_value");
    let check = def(4, "has_router", FieldKind::Checkbox);
    assert_eq!(parse_filter(&check, "no").unwrap(), FieldMatch::Unticked);
    let select = def(3, "link", FieldKind::Select);
    assert_eq!(
        parse_filter(&select, "WIRELESS").unwrap(),
        FieldMatch::Exact("wireless".into())
    );
}
