use super::*;

/// A source of bytes that walks through every value.
fn counting() -> impl FnMut() -> u8 {
    let mut n = 0u8;
    move || {
        n = n.wrapping_add(37);
        n
    }
}

#[test]
fn the_damm_digit_checks_the_textbook_example() {
    assert_eq!(damm(&[5, 7, 2]), 4);
    assert_eq!(damm(&[5, 7, 2, 4]), 0);
}

#[test]
fn every_single_wrong_digit_and_every_swap_of_neighbours_is_caught() {
    let pin = Pin::generate(&mut counting());
    let digits: Vec<u8> = pin.as_str().bytes().map(|b| b - b'0').collect();
    assert_eq!(damm(&digits), 0);
    for at in 0..digits.len() {
        for wrong in 0..10u8 {
            if wrong == digits[at] {
                continue;
            }
            let mut typo = digits.clone();
            typo[at] = wrong;
            assert_ne!(damm(&typo), 0, "digit {at} as {wrong}");
        }
        if at + 1 < digits.len() && digits[at] != digits[at + 1] {
            let mut swapped = digits.clone();
            swapped.swap(at, at + 1);
            assert_ne!(damm(&swapped), 0, "swap at {at}");
        }
    }
}

#[test]
fn a_pin_is_read_as_people_type_it_and_a_typo_is_told_from_garbage() {
    let pin = Pin::generate(&mut counting());
    assert_eq!(pin.as_str().len(), 13);
    assert_eq!(Pin::parse(&pin.printed()), Ok(pin.clone()));
    let bengali: String = pin
        .as_str()
        .chars()
        .map(|c| char::from_u32(u32::from('০') + c.to_digit(10).unwrap()).unwrap())
        .collect();
    assert_eq!(Pin::parse(&bengali), Ok(pin.clone()), "Bengali digits");
    assert_eq!(Pin::parse(&format!(" {}-", pin.as_str())), Ok(pin.clone()));
    let mut typo: Vec<u8> = pin.as_str().bytes().collect();
    typo[3] = if typo[3] == b'9' { b'0' } else { typo[3] + 1 };
    assert_eq!(
        Pin::parse(std::str::from_utf8(&typo).unwrap()),
        Err(CodeError::Mistyped)
    );
    for garbage in ["", "12345", "12345678901234", "12345678901a3", "١٢٣"] {
        assert_eq!(
            Pin::parse(garbage),
            Err(CodeError::Malformed),
            "{garbage:?}"
        );
    }
    assert_eq!(pin.tail(), &pin.as_str()[11..]);
    assert_eq!(format!("{pin:?}"), "Pin(…)", "Debug hides the PIN");
}

#[test]
fn pin_digits_are_drawn_evenly() {
    // Bytes cycling through 0..=255: the 250 accepted ones come twelve times over in 250
    // PINs, so every digit is drawn exactly as often; a byte of 250 or more never is.
    let mut byte = 0u8;
    let mut source = || {
        let b = byte;
        byte = byte.wrapping_add(1);
        b
    };
    let mut counts = [0u32; 10];
    for _ in 0..250 {
        let pin = Pin::generate(&mut source);
        for d in pin.as_str()[..PIN_DIGITS].bytes() {
            counts[usize::from(d - b'0')] += 1;
        }
    }
    assert!(counts.iter().all(|c| *c == 300), "{counts:?}");
    let mut high = [255u8, 251, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3].into_iter();
    let pin = Pin::generate(&mut || high.next().unwrap_or(3));
    assert!(pin.as_str().starts_with("333333333333"), "{}", pin.as_str());
}

#[test]
fn an_access_code_is_read_with_crockfords_mercy_and_checked() {
    let code = AccessCode::generate(&mut counting());
    assert_eq!(code.as_str().len(), 11);
    let printed = code.printed();
    assert_eq!(printed.len(), 13, "{printed}");
    assert_eq!(AccessCode::parse(&printed.to_lowercase()), Ok(code.clone()));
    // O is read as 0, I and L as 1.
    let fuzzy: String = code
        .as_str()
        .chars()
        .map(|c| match c {
            '0' => 'O',
            '1' => 'l',
            c => c,
        })
        .collect();
    assert_eq!(AccessCode::parse(&fuzzy), Ok(code.clone()));
    // A single changed symbol is a typo.
    let mut typo: Vec<char> = code.as_str().chars().collect();
    typo[4] = if typo[4] == 'Z' { 'Y' } else { 'Z' };
    let typo: String = typo.into_iter().collect();
    assert_eq!(AccessCode::parse(&typo), Err(CodeError::Mistyped));
    assert_eq!(AccessCode::parse("K7QF2"), Err(CodeError::Malformed));
    assert_eq!(
        AccessCode::parse("K7QF2-9XWMD-U"),
        Err(CodeError::Malformed)
    );
}

#[test]
fn luhn_mod_32_catches_every_single_wrong_symbol() {
    let code = AccessCode::generate(&mut counting());
    let values: Vec<u8> = code
        .as_str()
        .bytes()
        .map(|b| crockford_value(b).unwrap())
        .collect();
    for at in 0..values.len() {
        for wrong in 0..32u8 {
            if wrong == values[at] {
                continue;
            }
            let mut typo = values.clone();
            typo[at] = wrong;
            let (body, check) = typo.split_at(CODE_SYMBOLS);
            assert_ne!(luhn32(body), check[0], "symbol {at} as {wrong}");
        }
    }
}

#[test]
fn serials_are_zero_padded() {
    assert_eq!(serial(421, 137), "B0421-000137");
}

#[test]
fn the_life_of_a_card_follows_its_table() {
    use Action::*;
    use State::*;
    assert_eq!(next(Draft, Release, None), Ok(InStock));
    assert_eq!(next(InStock, Assign, None), Ok(Assigned));
    assert_eq!(next(Assigned, Sell, None), Ok(Sold));
    assert_eq!(next(Sold, Redeem, None), Ok(Redeemed));
    assert_eq!(next(Sold, Suspend, None), Ok(Suspended));
    assert_eq!(next(Suspended, Resume, Some(Sold)), Ok(Sold));
    assert!(next(Suspended, Resume, Some(Redeemed)).is_err());
    assert!(
        next(Suspended, Redeem, None).is_err(),
        "a suspended card is refused"
    );
    assert!(
        next(Draft, Redeem, None).is_err(),
        "a draft is not for sale"
    );
    assert!(
        next(Sold, Unassign, None).is_err(),
        "a sold card stays sold"
    );
    for state in State::ALL.into_iter().filter(|s| s.is_terminal()) {
        for (from, action, _) in TRANSITIONS {
            assert_ne!(
                *from, state,
                "{state:?} is terminal but {action:?} leaves it"
            );
        }
    }
    for state in State::ALL {
        assert_eq!(State::parse(state.as_str()), Some(state));
        let by_table = TRANSITIONS
            .iter()
            .any(|(f, a, _)| *f == state && *a == Redeem);
        assert_eq!(state.redeemable(), by_table, "{state:?}");
    }
}
