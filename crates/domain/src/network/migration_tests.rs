use super::*;

fn secret(name: &str, password: &str, disabled: bool) -> LocalSecret {
    LocalSecret {
        name: name.to_owned(),
        password: password.to_owned(),
        disabled,
    }
}

fn candidate(name: &str, online: bool) -> Candidate {
    Candidate {
        name: name.to_owned(),
        customer_id: 1,
        online,
    }
}

#[test]
fn only_enabled_secrets_of_our_customers_with_their_password_are_taken() {
    let secrets = [
        secret("Amir", "a-pw", false),
        secret("bina", "b-pw", true),
        secret("noc", "n-pw", false),
        secret("chad", "old-pw", false),
    ];
    let held = |key: &str| {
        let password = match key {
            "amir" => "a-pw",
            "bina" => "b-pw",
            "chad" => "c-pw",
            _ => return None,
        };
        Some(Held {
            customer_id: 7,
            password: password.to_owned(),
        })
    };
    let choice = choose(&secrets, held, |name| name == "Amir");
    assert_eq!(
        choice.take,
        [Candidate {
            name: "Amir".to_owned(),
            customer_id: 7,
            online: true
        }]
    );
    assert_eq!(choice.already_disabled, 1);
    assert_eq!(choice.not_ours, ["noc"]);
    assert_eq!(choice.password_differs, ["chad"]);
}

#[test]
fn the_canary_is_online_customers_then_batches_online_first() {
    let take = [
        candidate("a", false),
        candidate("b", true),
        candidate("c", true),
        candidate("d", false),
        candidate("e", true),
    ];
    let pace = Pace {
        canary: 2,
        batch_size: 2,
        ..Pace::default()
    };
    let names: Vec<Vec<String>> = batches(&take, &pace)
        .unwrap()
        .into_iter()
        .map(|b| b.into_iter().map(|c| c.name).collect())
        .collect();
    assert_eq!(names, [vec!["b", "c"], vec!["e", "a"], vec!["d"]]);
}

#[test]
fn nothing_or_nobody_online_is_refused() {
    let pace = Pace::default();
    assert_eq!(batches(&[], &pace), Err(Refusal::Nothing));
    assert_eq!(
        batches(&[candidate("a", false)], &pace),
        Err(Refusal::NobodyOnline)
    );
}

#[test]
fn a_batch_passes_on_its_share_and_never_on_none() {
    assert!(enough(0, 0, 80));
    assert!(!enough(0, 3, 1));
    assert!(enough(4, 5, 80));
    assert!(!enough(3, 5, 80));
    assert!(enough(1, 1, 100));
}

#[test]
fn a_pace_out_of_bounds_names_its_fields() {
    assert!(Pace::default().check().is_ok());
    let pace = Pace {
        canary: 0,
        batch_size: 1_001,
        verify_seconds: 4,
        min_reconnected_percent: 101,
    };
    let errors = pace.check().unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "canary",
            "batch_size",
            "verify_seconds",
            "min_reconnected_percent"
        ]
    );
}
